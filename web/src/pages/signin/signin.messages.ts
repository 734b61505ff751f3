import { defineMessages } from '../../i18n/i18n';

export const signinMessages = defineMessages({
  en: {
    title: 'Sign in to Hotline', user: 'User name', password: 'Password', totp: 'Code from your authenticator app', signIn: 'Sign in',
    failed: 'Sign-in failed: {message}', badCredentials: 'The user name or password is wrong.',
    locked: 'Too many wrong attempts: sign-in is locked until {until}. Wait, or ask the node’s administrator.',
    totpNeeded: 'Your account has a second factor: enter the 6-digit code your authenticator app shows now.',
    totpInvalid: 'That code is wrong or was already used. Enter the code your app shows now.',
    totpHint: '6 digits; it changes every 30 seconds.', back: 'Start again',
  },
  ru: {
    title: 'Вход в Hotline', user: 'Имя пользователя', password: 'Пароль', totp: 'Код из приложения-аутентификатора', signIn: 'Войти',
    failed: 'Не удалось войти: {message}', badCredentials: 'Неверное имя пользователя или пароль.',
    locked: 'Слишком много неудачных попыток: вход заблокирован до {until}. Подождите или обратитесь к администратору узла.',
    totpNeeded: 'У вашей учётной записи есть второй фактор: введите 6-значный код, который сейчас показывает приложение-аутентификатор.',
    totpInvalid: 'Код неверен или уже использован. Введите код, который приложение показывает сейчас.',
    totpHint: '6 цифр; код меняется каждые 30 секунд.', back: 'Начать заново',
  },
  fr: {
    title: 'Connexion à Hotline', user: 'Nom d’utilisateur', password: 'Mot de passe', totp: 'Code de votre application d’authentification', signIn: 'Se connecter',
    failed: 'Échec de la connexion : {message}', badCredentials: 'Le nom d’utilisateur ou le mot de passe est incorrect.',
    locked: 'Trop de tentatives erronées : la connexion est bloquée jusqu’à {until}. Patientez ou contactez l’administrateur du nœud.',
    totpNeeded: 'Votre compte a un second facteur : saisissez le code à 6 chiffres affiché par votre application d’authentification.',
    totpInvalid: 'Ce code est incorrect ou a déjà été utilisé. Saisissez le code affiché maintenant.',
    totpHint: '6 chiffres ; il change toutes les 30 secondes.', back: 'Recommencer',
  },
  es: {
    title: 'Iniciar sesión en Hotline', user: 'Nombre de usuario', password: 'Contraseña', totp: 'Código de su aplicación de autenticación', signIn: 'Iniciar sesión',
    failed: 'No se pudo iniciar sesión: {message}', badCredentials: 'El nombre de usuario o la contraseña son incorrectos.',
    locked: 'Demasiados intentos fallidos: el inicio de sesión está bloqueado hasta {until}. Espere o consulte al administrador del nodo.',
    totpNeeded: 'Su cuenta tiene un segundo factor: introduzca el código de 6 dígitos que muestra ahora su aplicación de autenticación.',
    totpInvalid: 'El código es incorrecto o ya se utilizó. Introduzca el código que muestra ahora la aplicación.',
    totpHint: '6 dígitos; cambia cada 30 segundos.', back: 'Empezar de nuevo',
  },
  zh: {
    title: '登录 Hotline', user: '用户名', password: '密码', totp: '身份验证器应用中的验证码', signIn: '登录',
    failed: '登录失败：{message}', badCredentials: '用户名或密码错误。',
    locked: '错误尝试次数过多：登录已锁定至 {until}。请稍候，或联系节点管理员。',
    totpNeeded: '您的账户启用了第二重验证：请输入身份验证器应用当前显示的 6 位验证码。',
    totpInvalid: '验证码错误或已被使用。请输入应用当前显示的验证码。',
    totpHint: '6 位数字，每 30 秒更新一次。', back: '重新开始',
  },
  ar: {
    title: 'تسجيل الدخول إلى Hotline', user: 'اسم المستخدم', password: 'كلمة المرور', totp: 'الرمز من تطبيق المصادقة', signIn: 'تسجيل الدخول',
    failed: 'فشل تسجيل الدخول: {message}', badCredentials: 'اسم المستخدم أو كلمة المرور غير صحيحة.',
    locked: 'محاولات خاطئة كثيرة: تسجيل الدخول مقفل حتى {until}. انتظر أو راجع مسؤول العقدة.',
    totpNeeded: 'لحسابك عامل تحقق ثانٍ: أدخل الرمز المكوّن من 6 أرقام الذي يعرضه تطبيق المصادقة الآن.',
    totpInvalid: 'الرمز غير صحيح أو سبق استخدامه. أدخل الرمز الذي يعرضه التطبيق الآن.',
    totpHint: '6 أرقام؛ يتغير كل 30 ثانية.', back: 'البدء من جديد',
  },
});
