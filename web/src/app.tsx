/** The console's shell: sign-in gate, header, navigation, the current page. */
import { Suspense, useEffect } from 'react';
import { useT } from './i18n/i18n';
import { LanguagePicker } from './ui/language';
import { Link, match, useRoute } from './router';
import { useSession } from './session';
import { shellMessages } from './shell.messages';
import { connectEvents, disconnectEvents } from './events';
import { PAGES } from './pages/registry';
import { Loading, PageTitle } from './ui/ui';
import SignInPage from './pages/signin/signin.page';
import { QueueWatch } from './pages/queue/queue.watch';

export function App() {
  const { session, signOut } = useSession();
  const { path } = useRoute();
  const t = useT(shellMessages);
  const enrolOnly = session?.totp_enrolment_required === true;
  useEffect(() => {
    if (session && !enrolOnly) connectEvents(); else disconnectEvents();
  }, [session, enrolOnly]);
  if (session === undefined) return <main id="main"><Loading /></main>;
  if (session === null) return <SignInPage />;
  // The node requires a second factor and this user has none: only the account page (enrolment) until done.
  if (enrolOnly) {
    const Account = PAGES.find((p) => p.path === '/account')!.page;
    return (
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<Loading />}><Account params={{}} /></Suspense>
        <button type="button" className="secondary" onClick={() => void signOut()}>{t('signOut')}</button>
      </main>
    );
  }

  let found: { Page: (typeof PAGES)[number]['page']; params: Record<string, string> } | null = null;
  for (const p of PAGES) {
    const params = match(p.path, path);
    if (params !== null) { found = { Page: p.page, params }; break; }
  }
  const nav = PAGES.filter((p) => p.nav !== undefined
    && (p.admin !== true || session.role === 'admin')
    && (p.channels === undefined || p.channels.some((c) => session.channels.includes(c))));

  return (
    <>
      <QueueWatch />
      <a className="skip" href="#main">{t('skip')}</a>
      <header className="top">
        <span className="brand">Hotline · {session.node.name}</span>
        <nav aria-label={t('nav')}>
          <ul>
            {nav.map((p) => (
              <li key={p.path}><Link to={p.path} aria-current={match(p.path, path) !== null ? 'page' : undefined}>{t(p.nav!)}</Link></li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span>{t('signedInAs', { name: session.display_name ?? session.user })}</span>
          <LanguagePicker />
          <button type="button" onClick={() => void signOut()}>{t('signOut')}</button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<Loading />}>
          {found === null ? <PageTitle>{t('notFound')}</PageTitle> : <found.Page params={found.params} />}
        </Suspense>
      </main>
    </>
  );
}
