import { defineMessages } from '../../i18n/i18n';

export const signinMessages = defineMessages({
  en: { title: 'Sign in to Hotline', user: 'User name', password: 'Password', totp: 'Code from your authenticator app', signIn: 'Sign in', failed: 'Sign-in failed: {message}' },
  ru: { title: 'Вход в Hotline', user: 'Имя пользователя', password: 'Пароль', totp: 'Код из приложения-аутентификатора', signIn: 'Войти', failed: 'Не удалось войти: {message}' },
  fr: { title: 'Connexion à Hotline', user: 'Nom d’utilisateur', password: 'Mot de passe', totp: 'Code de votre application d’authentification', signIn: 'Se connecter', failed: 'Échec de la connexion : {message}' },
  es: { title: 'Iniciar sesión en Hotline', user: 'Nombre de usuario', password: 'Contraseña', totp: 'Código de su aplicación de autenticación', signIn: 'Iniciar sesión', failed: 'No se pudo iniciar sesión: {message}' },
  zh: { title: '登录 Hotline', user: '用户名', password: '密码', totp: '身份验证器应用中的验证码', signIn: '登录', failed: '登录失败：{message}' },
  ar: { title: 'تسجيل الدخول إلى Hotline', user: 'اسم المستخدم', password: 'كلمة المرور', totp: 'الرمز من تطبيق المصادقة', signIn: 'تسجيل الدخول', failed: 'فشل تسجيل الدخول: {message}' },
});
