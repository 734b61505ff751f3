/** Sign-in: user name and password, then the TOTP code when the node asks for it (totp_required). */
import { useState, type FormEvent } from 'react';
import { api, ApiError, type Session } from '../../api';
import { useT } from '../../i18n/i18n';
import { useSession } from '../../session';
import { LanguagePicker } from '../../ui/language';
import { signinMessages } from './signin.messages';

export default function SignInPage() {
  const t = useT(signinMessages);
  const { signedIn } = useSession();
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [needTotp, setNeedTotp] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const s = await api<Session>('POST', '/api/v1/session', { user, password, ...(needTotp ? { totp } : {}) });
      signedIn(s);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'totp_required') setNeedTotp(true);
      else setError(err instanceof ApiError ? `${err.message} (${err.code})` : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="signin">
      <h1>{t('title')}</h1>
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor="signin-user">{t('user')}</label>
        <input id="signin-user" name="username" autoComplete="username" required value={user} onChange={(e) => setUser(e.target.value)} />
        <label htmlFor="signin-password">{t('password')}</label>
        <input id="signin-password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        {needTotp && (<>
          <label htmlFor="signin-totp">{t('totp')}</label>
          <input id="signin-totp" name="totp" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" required autoFocus value={totp} onChange={(e) => setTotp(e.target.value)} />
        </>)}
        {error !== null && <p role="alert" className="error">{t('failed', { message: error })}</p>}
        <button type="submit" disabled={busy}>{t('signIn')}</button>
      </form>
      <LanguagePicker />
    </main>
  );
}
