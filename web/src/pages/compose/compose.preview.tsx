/** What the peer's officer will read: the body rendered by the node's own renderer in their language (POST /api/v1/templates/preview). */
import { useEffect, useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { ApiError, post } from '../../api';
import { LANGUAGE_NAMES, useT, type Lang } from '../../i18n/i18n';
import { composeMessages } from './compose.messages';

interface Line { field: string; label: string; value: string; lang?: string }
interface PreviewResult { lang: string; lines: Line[]; text: string }

function useDebounced<V>(value: V, ms: number): V {
  const [v, setV] = useState(value);
  useEffect(() => {
    const h = setTimeout(() => setV(value), ms);
    return () => clearTimeout(h);
  }, [value, ms]);
  return v;
}

interface Props {
  kind: string;
  body: { fields: Record<string, unknown>; text?: string; lang?: string };
  peer: string;
  /** The peer's language from its directory, when known. */
  peerLang: string | null;
  languages: readonly string[];
}

export function Preview({ kind, body, peer, peerLang, languages }: Props) {
  const t = useT(composeMessages);
  const [chosen, setChosen] = useState<string | null>(null);
  const lang = chosen ?? peerLang ?? 'en';
  const key = useDebounced(JSON.stringify(body), 250);
  const q = useQuery({
    queryKey: ['preview', kind, lang, key],
    queryFn: () => post<PreviewResult>('/api/v1/templates/preview', { kind, lang, body: JSON.parse(key) as unknown }),
    placeholderData: keepPreviousData,
    enabled: kind !== '',
  });
  const empty = Object.keys(body.fields).length === 0 && (body.text ?? '') === '';
  return (
    <section className="preview" aria-labelledby="preview-title">
      <h2 id="preview-title">{t('preview', { peer })}</h2>
      <label htmlFor="preview-lang">{t('previewIn')}</label>
      <select id="preview-lang" value={lang} aria-describedby="preview-lang-note" onChange={(e) => setChosen(e.target.value)}>
        {languages.map((l) => <option key={l} value={l} lang={l}>{LANGUAGE_NAMES[l as Lang] ?? l}</option>)}
      </select>
      <p id="preview-lang-note" className="hint">{peerLang !== null ? t('peerLangKnown', { peer }) : t('peerLangUnknown', { peer })}</p>
      {empty ? <p className="muted">{t('previewEmpty')}</p>
        : q.error !== null ? <p className="error">{t('previewFailed', { message: q.error instanceof ApiError ? q.error.message : String(q.error) })}</p>
          : q.data === undefined ? null
            : (
              <dl className="rendered" lang={q.data.lang} dir={q.data.lang === 'ar' ? 'rtl' : 'ltr'} data-testid="preview">
                {q.data.lines.map((l) => (
                  <div key={l.field}>
                    <dt>{l.label}</dt>
                    <dd {...(l.lang === undefined ? {} : { lang: l.lang, dir: 'auto' })}>{l.value}</dd>
                  </div>
                ))}
              </dl>
            )}
    </section>
  );
}
