/**
 * Sign-in: user name and password; then, when the node answers totp_required, the code of the
 * user's authenticator app. A lock (429 signin_locked) says until when, in local time with UTC.
 */
import { useState, type FormEvent } from 'react';
import { api, ApiError, type Session } from '../../api';
import { useLang, useT } from '../../i18n/i18n';
import { formatInstant } from '../../i18n/time';
import { useSession } from '../../session';
import { LanguagePicker } from '../../ui/language';
import { signinMessages } from './signin.messages';

export default function SignInPage() {
  const t = useT(signinMessages);
  const { lang, timeZone } = useLang();
  const { signedIn } = useSession();
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [needTotp, setNeedTotp] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const explain = (err: unknown): string => {
    if (!(err instanceof ApiError)) return t('failed', { message: String(err) });
    switch (err.code) {
      case 'bad_credentials': return t('badCredentials');
      case 'totp_invalid': return t('totpInvalid');
      case 'signin_locked': {
        const until = (err.details as { until?: string } | undefined)?.until;
        return t('locked', { until: until === undefined ? '—' : formatInstant(until, lang, timeZone) });
      }
      default: return t('failed', { message: `${err.message} (${err.code})` });
    }
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const s = await api<Session>('POST', '/api/v1/session', { user, password, ...(needTotp ? { totp: totp.trim() } : {}) });
      signedIn(s);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'totp_required') setNeedTotp(true);
      else {
        setError(explain(err));
        if (err instanceof ApiError && err.code === 'bad_credentials') { setNeedTotp(false); setTotp(''); }
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="signin">
      <h1>{t('title')}</h1>
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor="signin-user">{t('user')}</label>
        <input id="signin-user" name="username" autoComplete="username" autoCapitalize="none" spellCheck={false} required
          readOnly={needTotp} value={user} onChange={(e) => setUser(e.target.value)} />
        <label htmlFor="signin-password">{t('password')}</label>
        <input id="signin-password" name="password" type="password" autoComplete="current-password" required
          readOnly={needTotp} value={password} onChange={(e) => setPassword(e.target.value)} />
        {needTotp && (<>
          <p id="signin-totp-help" className="muted">{t('totpNeeded')} {t('totpHint')}</p>
          <label htmlFor="signin-totp">{t('totp')}</label>
          <input id="signin-totp" name="totp" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9 ]{6,7}" maxLength={7} required autoFocus
            aria-describedby="signin-totp-help" value={totp} onChange={(e) => setTotp(e.target.value)} />
        </>)}
        {error !== null && <p role="alert" className="error">{error}</p>}
        <button type="submit" disabled={busy}>{t('signIn')}</button>
        {needTotp && (
          <button type="button" className="secondary" onClick={() => { setNeedTotp(false); setTotp(''); setPassword(''); setError(null); }}>{t('back')}</button>
        )}
      </form>
      <LanguagePicker />
    </main>
  );
}
