/**
 * The law channel (/law, users holding `law` only): expedited preservations (Budapest Convention
 * Art. 29) from GET /api/v1/preservations, each with its request's Art. 29(2) fields (the request
 * message rendered in the reader's language), a live countdown to its expiry, its extensions,
 * "Ask for extension" (POST .../extend) and the mutual-assistance follow-up (POST .../mla).
 * A user without the channel gets one sentence and no request at all (the API answers 403 anyway).
 */
import { useCallback, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { get, post } from '../../api';
import { useNodeEvent } from '../../events';
import { useLang, useT, type Lang } from '../../i18n/i18n';
import { formatDuration, Instant, useNow } from '../../i18n/time';
import { Link } from '../../router';
import { useMe } from '../../session';
import { ErrorBox, Loading, PageTitle } from '../../ui/ui';
import type { PageProps } from '../registry';
import { lawMessages } from './law.messages';
import './law.css';

interface Extension { message_id: string; requested_at: string; days: number; outcome?: string; expires_at?: string }
interface Preservation {
  case: string; request_id: string; requesting_party: string; responding_party: string; direction: 'in' | 'out';
  state: 'requested' | 'preserved' | 'refused' | 'expired' | 'released'; outcome: string | null; reference: string | null; reason: string | null;
  preserved_at: string | null; expires_at: string | null; extensions: Extension[];
  mla_request: { reference: string | null; sent_at: string; message_id: string | null } | null; reminded_at: string | null; redacted?: string;
}
interface Rendered { field: string; label: string; value: string; lang?: string }

const STATE_ICON: Record<Preservation['state'], string> = { requested: '◷', preserved: '✔', refused: '✖', expired: '✖', released: '○' };
const OUTCOMES = ['preserved', 'partially_preserved', 'cannot_preserve'] as const;
const DAY = 86_400_000;

/** "59 d 23 h" past two days, else formatDuration's "1 h 05 min". */
function formatLeft(ms: number, lang: Lang): string {
  const abs = Math.abs(ms);
  if (abs < 2 * DAY) return formatDuration(abs, lang);
  const unit = (v: number, u: 'day' | 'hour') => new Intl.NumberFormat(lang, { style: 'unit', unit: u, unitDisplay: 'narrow' }).format(v);
  return `${unit(Math.floor(abs / DAY), 'day')} ${unit(Math.floor((abs % DAY) / 3_600_000), 'hour')}`;
}

function Countdown({ p }: { p: Preservation }) {
  const t = useT(lawMessages);
  const { lang } = useLang();
  const now = useNow(1000);
  if (p.expires_at === null) return null;
  const left = Date.parse(p.expires_at) - now;
  if (p.state === 'expired' || left <= 0) {
    return <span className="overdue countdown"><span aria-hidden="true">✖ </span>{t('expiredAgo', { left: formatLeft(left, lang) })}</span>;
  }
  return <span className={left < 7 * DAY ? 'immediate countdown' : 'countdown'}><span aria-hidden="true">◷ </span>{t('expiresIn', { left: formatLeft(left, lang) })}</span>;
}

/** The request's Art. 29(2) fields, as its message renders in the reader's language. */
function Art29({ id }: { id: string }) {
  const t = useT(lawMessages);
  const { lang } = useLang();
  const q = useQuery({ queryKey: ['message', id, lang], queryFn: () => get<{ rendered: Rendered[]; message: { redacted?: string } }>(`/api/v1/messages/${id}`, { lang }) });
  if (q.isPending) return <p className="muted">{t('loadingRequest')}</p>;
  if (q.isError) return <ErrorBox error={q.error} />;
  if (q.data.message.redacted !== undefined) return <p>{t('withheld', { notice: q.data.message.redacted })}</p>;
  return (
    <dl className="art29">
      {q.data.rendered.filter((r) => r.field !== 'template').map((r) => (
        <div key={r.field}><dt>{r.label}</dt><dd lang={r.lang}>{r.value}</dd></div>
      ))}
    </dl>
  );
}

function Actions({ p }: { p: Preservation }) {
  const t = useT(lawMessages);
  const qc = useQueryClient();
  const [days, setDays] = useState(60);
  const [reference, setReference] = useState('');
  const [sentOn, setSentOn] = useState('');
  const done = () => { void qc.invalidateQueries({ queryKey: ['preservations'] }); };
  const extend = useMutation({ mutationFn: () => post<{ id: string }>(`/api/v1/preservations/${p.case}/extend`, { days }), onSuccess: done });
  const mla = useMutation({
    mutationFn: () => post<{ id: string }>(`/api/v1/preservations/${p.case}/mla`, { reference, ...(sentOn === '' ? {} : { sent_on: `${sentOn}T00:00:00Z` }) }),
    onSuccess: done,
  });
  const id = (k: string) => `law-${p.case}-${k}`;
  const onExtend = (e: FormEvent) => { e.preventDefault(); extend.mutate(); };
  const onMla = (e: FormEvent) => { e.preventDefault(); mla.mutate(); };
  return (<>
    {(p.state === 'preserved' || p.state === 'requested') && (
      <form className="law-form" onSubmit={onExtend} aria-labelledby={id('extend')}>
        <h4 id={id('extend')}>{t('extend')}</h4>
        <label htmlFor={id('days')}>{t('extendDays')}</label>
        <input id={id('days')} type="number" min={1} max={365} required value={days} onChange={(e) => setDays(Number(e.target.value))} />
        <button type="submit" disabled={extend.isPending}>{t('extendButton')}</button>
        {extend.isError && <ErrorBox error={extend.error} />}
        {extend.isSuccess && <p role="status" className="ok"><span aria-hidden="true">✓ </span>{t('extendSent', { id: extend.data.id.slice(0, 8) })}</p>}
      </form>
    )}
    {p.mla_request === null && (
      <form className="law-form" onSubmit={onMla} aria-labelledby={id('mla')}>
        <h4 id={id('mla')}>{t('mla')}</h4>
        <label htmlFor={id('ref')}>{t('mlaRef')}</label>
        <input id={id('ref')} required maxLength={200} value={reference} onChange={(e) => setReference(e.target.value)} />
        <label htmlFor={id('sent')}>{t('mlaSentOn')}</label>
        <input id={id('sent')} type="date" value={sentOn} onChange={(e) => setSentOn(e.target.value)} />
        <button type="submit" disabled={mla.isPending}>{t('mlaButton')}</button>
        {mla.isError && <ErrorBox error={mla.error} />}
        {mla.isSuccess && <p role="status" className="ok"><span aria-hidden="true">✓ </span>{t('mlaSent', { id: mla.data.id.slice(0, 8) })}</p>}
      </form>
    )}
  </>);
}

function PreservationCard({ p }: { p: Preservation }) {
  const t = useT(lawMessages);
  const outcome = p.outcome !== null && (OUTCOMES as readonly string[]).includes(p.outcome) ? t(`o_${p.outcome as (typeof OUTCOMES)[number]}`) : p.outcome;
  return (
    <article className="preservation" aria-labelledby={`p-${p.case}`} data-case={p.case}>
      <h3 id={`p-${p.case}`}>
        <Link to={`/cases/${p.case}`}>{t('caseLink', { id: p.case.slice(0, 8) })}</Link>{' — '}
        {p.direction === 'out' ? t('ours', { party: p.responding_party }) : t('theirs', { party: p.requesting_party })}
      </h3>
      <dl className="facts">
        <div><dt>{t('state')}</dt><dd className={`pstate pstate-${p.state}`}><span aria-hidden="true">{STATE_ICON[p.state]} </span>{t(p.state)}</dd></div>
        {outcome !== null && <div><dt>{t('outcome')}</dt><dd>{outcome}</dd></div>}
        {p.reference !== null && <div><dt>{t('reference')}</dt><dd>{p.reference}</dd></div>}
        {p.reason !== null && <div><dt>{t('reason')}</dt><dd>{p.reason}</dd></div>}
        {p.preserved_at !== null && <div><dt>{t('preservedAt')}</dt><dd><Instant at={p.preserved_at} /></dd></div>}
        {p.expires_at !== null && <div><dt>{t('expiresAt')}</dt><dd><Instant at={p.expires_at} /> <Countdown p={p} /></dd></div>}
        {p.reminded_at !== null && <div><dt>{t('remindedAt')}</dt><dd><Instant at={p.reminded_at} /></dd></div>}
        <div><dt>{t('mla')}</dt><dd>{p.mla_request === null ? t('mlaNone') : <>{p.mla_request.reference ?? '—'}, <Instant at={p.mla_request.sent_at} /></>}</dd></div>
      </dl>
      {p.redacted !== undefined && <p><span aria-hidden="true">⊘ </span>{t('withheld', { notice: p.redacted })}</p>}
      {p.extensions.length > 0 && (<>
        <h4>{t('extensions')}</h4>
        <table>
          <thead><tr><th scope="col">{t('askedOn')}</th><th scope="col">{t('days')}</th><th scope="col">{t('answer')}</th><th scope="col">{t('newExpiry')}</th></tr></thead>
          <tbody>
            {p.extensions.map((x) => (
              <tr key={x.message_id}>
                <th scope="row"><Instant at={x.requested_at} /></th><td>{x.days}</td>
                <td>{x.outcome === undefined ? <span className="muted">{t('awaiting')}</span> : (OUTCOMES as readonly string[]).includes(x.outcome) ? t(`o_${x.outcome as (typeof OUTCOMES)[number]}`) : x.outcome}</td>
                <td>{x.expires_at === undefined ? '' : <Instant at={x.expires_at} />}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </>)}
      <details open>
        <summary>{t('art29')}</summary>
        <Art29 id={p.request_id} />
      </details>
      {p.direction === 'out' && <Actions p={p} />}
    </article>
  );
}

function Preservations() {
  const t = useT(lawMessages);
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['preservations'], queryFn: () => get<{ preservations: Preservation[] }>('/api/v1/preservations') });
  useNodeEvent('message', useCallback((e) => { if (e.channel === 'law') void qc.invalidateQueries({ queryKey: ['preservations'] }); }, [qc]));
  if (q.isPending) return <Loading />;
  if (q.isError) return <ErrorBox error={q.error} retry={() => void q.refetch()} />;
  if (q.data.preservations.length === 0) return <p>{t('none')}</p>;
  return <>{q.data.preservations.map((p) => <PreservationCard key={p.case} p={p} />)}</>;
}

export default function LawPage(_props: PageProps) {
  const t = useT(lawMessages);
  const me = useMe();
  if (!me.channels.includes('law')) return <PageTitle>{t('notLaw')}</PageTitle>;
  return (<>
    <PageTitle>{t('title')}</PageTitle>
    <Preservations />
  </>);
}
