/** Small pieces every page uses: the loading and error states, a page heading that takes focus. */
import { useEffect, useRef, type ReactNode } from 'react';
import { ApiError } from '../api';
import { useT } from '../i18n/i18n';
import { shellMessages } from '../shell.messages';

/** The page's <h1>; focused when the page opens, so a screen reader announces where the user is. */
export function PageTitle({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => { ref.current?.focus(); }, []);
  return <h1 ref={ref} tabIndex={-1}>{children}</h1>;
}

export function Loading() {
  const t = useT(shellMessages);
  return <p role="status" aria-live="polite">{t('loading')}</p>;
}

/** An error as the node gave it: its sentence, with its stable code for the administrator. */
export function ErrorBox({ error, retry }: { error: unknown; retry?: () => void }) {
  const t = useT(shellMessages);
  const message = error instanceof ApiError ? `${error.message} (${error.code})` : error instanceof Error ? error.message : String(error);
  return (
    <div role="alert" className="error">
      <p>{t('error', { message })}</p>
      {retry !== undefined && <button type="button" onClick={retry}>{t('retry')}</button>}
    </div>
  );
}
