/**
 * The signed-in user's account: the console's language, their own password (the current one
 * first), and the TOTP second factor (QR code and key, confirmed with a code). When the node
 * requires TOTP and the user has none, this is the only page the shell shows.
 */
import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { ApiError, post, type Session } from '../../api';
import { useT } from '../../i18n/i18n';
import { useMe, useSession } from '../../session';
import { LanguagePicker } from '../../ui/language';
import { PageTitle } from '../../ui/ui';
import type { PageProps } from '../registry';
import { accountMessages } from './account.messages';
import './account.css';

interface Enrolment { secret: string; uri: string; qr_svg: string }

function PasswordForm() {
  const t = useT(accountMessages);
  const me = useMe();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const change = useMutation({
    mutationFn: () => post<undefined>('/api/v1/account/password', { current, password: next }),
    onSuccess: () => { setCurrent(''); setNext(''); setRepeat(''); },
    onError: (e) => setProblem(e instanceof ApiError && e.code === 'bad_credentials' ? t('wrongCurrent')
      : e instanceof ApiError && e.code === 'password_too_short' ? t('tooShort') : t('failed', { message: e instanceof Error ? e.message : String(e) })),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setProblem(null);
    change.reset();
    if (next !== repeat) { setProblem(t('mismatch')); return; }
    if ([...next].length < 12) { setProblem(t('tooShort')); return; }
    change.mutate();
  };
  return (
    <section aria-labelledby="account-password">
      <h2 id="account-password">{t('passwordTitle')}</h2>
      <form onSubmit={submit} className="account-form">
        <input type="text" name="username" autoComplete="username" value={me.user} readOnly hidden />
        <label htmlFor="account-current">{t('current')}</label>
        <input id="account-current" type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} />
        <label htmlFor="account-new">{t('newPassword')}</label>
        <input id="account-new" type="password" autoComplete="new-password" required minLength={12} aria-describedby="account-password-help" value={next} onChange={(e) => setNext(e.target.value)} />
        <label htmlFor="account-repeat">{t('repeat')}</label>
        <input id="account-repeat" type="password" autoComplete="new-password" required value={repeat} onChange={(e) => setRepeat(e.target.value)} />
        <p id="account-password-help" className="muted">{t('passwordHelp')}</p>
        {problem !== null && <p role="alert" className="error">{problem}</p>}
        {change.isSuccess && <p role="status" className="ok">✓ {t('changed')}</p>}
        <div><button type="submit" disabled={change.isPending}>{t('change')}</button></div>
      </form>
    </section>
  );
}

function TotpSection() {
  const t = useT(accountMessages);
  const me = useMe();
  const { signedIn } = useSession();
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [code, setCode] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const start = useMutation({
    mutationFn: () => post<Enrolment>('/api/v1/account/totp'),
    onSuccess: (e) => { setEnrolment(e); setProblem(null); },
    onError: (e) => setProblem(t('failed', { message: e instanceof Error ? e.message : String(e) })),
  });
  const confirm = useMutation({
    mutationFn: () => post<Session>('/api/v1/account/totp/confirm', { code: code.trim() }),
    onSuccess: (s) => { setEnrolment(null); setCode(''); signedIn(s); },
    onError: (e) => setProblem(e instanceof ApiError && (e.code === 'totp_invalid' || e.code === 'invalid_argument') ? t('codeWrong') : t('failed', { message: e instanceof Error ? e.message : String(e) })),
  });
  return (
    <section aria-labelledby="account-totp">
      <h2 id="account-totp">{t('totpTitle')}</h2>
      {me.totp_enrolment_required === true && <p role="alert" className="notice">⚠ {t('totpRequired')}</p>}
      <p>{me.totp_enrolled ? `✓ ${t('totpOn')}` : t('totpOff')}</p>
      {confirm.isSuccess && <p role="status" className="ok">✓ {t('enrolled')}</p>}
      {!me.totp_enrolled && enrolment === null && (
        <button type="button" onClick={() => start.mutate()} disabled={start.isPending}>{t('start')}</button>
      )}
      {!me.totp_enrolled && enrolment !== null && (
        <div className="totp-enrol">
          <p>{t('scan')}</p>
          <img className="totp-qr" src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(enrolment.qr_svg)}`} alt={t('qrAlt')} width={200} height={200} />
          <p>{t('secret')}: <code className="totp-secret" dir="ltr">{enrolment.secret.replace(/(.{4})/g, '$1 ').trim()}</code></p>
          <form onSubmit={(e) => { e.preventDefault(); setProblem(null); confirm.mutate(); }} className="account-form">
            <label htmlFor="account-totp-code">{t('code')}</label>
            <input id="account-totp-code" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9 ]{6,7}" maxLength={7} required value={code} onChange={(e) => setCode(e.target.value)} />
            <div><button type="submit" disabled={confirm.isPending}>{t('confirm')}</button></div>
          </form>
        </div>
      )}
      {problem !== null && <p role="alert" className="error">{problem}</p>}
    </section>
  );
}

export default function AccountPage(_props: PageProps) {
  const t = useT(accountMessages);
  const me = useMe();
  return (
    <>
      <PageTitle>{t('title')}</PageTitle>
      <p>{t('who', { user: me.display_name ?? me.user, role: me.role, channels: me.channels.join(', ') })}</p>
      {me.totp_enrolment_required === true ? <TotpSection /> : (<>
        <section aria-labelledby="account-language">
          <h2 id="account-language">{t('languageTitle')}</h2>
          <p className="muted">{t('languageHelp')}</p>
          <LanguagePicker />
        </section>
        <PasswordForm />
        <TotpSection />
      </>)}
    </>
  );
}
