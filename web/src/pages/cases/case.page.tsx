/**
 * One case (`/cases/:id`): its state machine's progress, the messages in order with their
 * rendered summaries, the steps the machine allows next (each opens Compose in reply mode with
 * the kind chosen), Acknowledge case, Close (after a confirmation), the signed transcript.
 */
import { useCallback, useRef, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, get, post } from '../../api';
import { useNodeEvent } from '../../events';
import { useLang, useT } from '../../i18n/i18n';
import { Instant } from '../../i18n/time';
import { Link, useRoute } from '../../router';
import { ErrorBox, Loading, PageTitle } from '../../ui/ui';
import type { PageProps } from '../registry';
import { label, type TemplatesView } from '../compose/templates';
import { casesMessages } from './cases.messages';
import { StateBadge, type CaseView } from './cases.shared';
import './cases.css';

interface ThreadMessage {
  id: string; direction: 'in' | 'out'; from: string; to: string; kind: string; priority: string; tlp: string; sent_at: string; stored_at: string;
  state: 'queued' | 'retrying' | 'delivered' | 'received'; acknowledged: { officer: string; user: string | null; at: string } | null;
  summary: string | null; redacted?: string;
}
interface CaseShown { case: CaseView; next: { kind: string; to: CaseView['state']; via: 'reply' | 'ack' | 'close' | 'node' }[]; messages: ThreadMessage[] }

export default function CasePage({ params }: PageProps) {
  const t = useT(casesMessages);
  const { lang } = useLang();
  const { navigate } = useRoute();
  const qc = useQueryClient();
  const id = params.id ?? '';
  const shown = useQuery({ queryKey: ['case', id, lang], queryFn: () => get<CaseShown>(`/api/v1/cases/${encodeURIComponent(id)}`, { lang }) });
  const catalog = useQuery({ queryKey: ['templates'], queryFn: () => get<TemplatesView>('/api/v1/templates'), staleTime: 60_000 });
  const [confirming, setConfirming] = useState(false);
  const [reason, setReason] = useState('resolved');
  const [note, setNote] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const confirmRef = useRef<HTMLDivElement>(null);
  const refresh = useCallback(() => { void qc.invalidateQueries({ queryKey: ['case', id] }); void qc.invalidateQueries({ queryKey: ['cases'] }); }, [qc, id]);
  useNodeEvent('message', useCallback((e) => { if (e.case_id === shown.data?.case.id) refresh(); }, [refresh, shown.data?.case.id]));
  useNodeEvent('ack', useCallback(() => refresh(), [refresh]));

  const ackCase = useMutation({
    mutationFn: () => post<{ acked: unknown[] }>(`/api/v1/cases/${id}/ack`, {}),
    onSuccess: (r) => { setDone(t('acked', { n: r.acked.length })); refresh(); },
    onError: (e) => setDone(t('failed', { message: e instanceof ApiError ? `${e.message} (${e.code})` : String(e) })),
  });
  const close = useMutation({
    mutationFn: () => post(`/api/v1/cases/${id}/close`, { reason, ...(note.trim() === '' ? {} : { text: note, lang }) }),
    onSuccess: () => { setConfirming(false); setDone(t('closed', { peer: shown.data?.case.peer ?? '' })); refresh(); },
    onError: (e) => setDone(t('failed', { message: e instanceof ApiError ? `${e.message} (${e.code})` : String(e) })),
  });

  if (shown.error !== null) return <ErrorBox error={shown.error} retry={() => void shown.refetch()} />;
  if (shown.data === undefined) return <Loading />;
  const { case: c, next, messages } = shown.data;
  const kindLabel = (k: string) => label(catalog.data?.kind_labels[k], lang, k);
  const replySteps = next.filter((s) => s.via === 'reply');
  const nodeSteps = next.filter((s) => s.via === 'node');
  // Steps answer the latest message the peer sent (else the latest one): a reply acknowledges it.
  const target = [...messages].reverse().find((m) => m.direction === 'in') ?? messages[messages.length - 1];
  const reached = c.states.indexOf(c.state);
  const reasons = catalog.data?.vocabularies.close_reason?.codes ?? [];

  return (
    <>
      <PageTitle>{t('caseTitle', { subject: c.subject ?? t('noSubject') })}</PageTitle>
      <section aria-labelledby="case-progress">
        <h2 id="case-progress">{t('progress')}</h2>
        <ol className="progress">
          {c.states.map((s, i) => (
            <li key={s} className={i <= reached ? 'done' : undefined} aria-current={s === c.state ? 'step' : undefined}><StateBadge state={s} /></li>
          ))}
        </ol>
        <dl className="facts">
          <dt>{t('peer')}</dt><dd>{c.peer}</dd>
          <dt>{t('channel')}</dt><dd>{t(`chan_${c.channel}` as 'chan_crisis')}</dd>
          <dt>{t('kind')}</dt><dd>{kindLabel(c.kind)}</dd>
          <dt>{t('openedBy')}</dt><dd>{c.opened_by === 'out' ? t('us') : t('them', { peer: c.peer })}</dd>
          <dt>{t('priority')}</dt><dd>{t(`prio_${c.priority}` as 'prio_flash')}</dd>
          <dt>{t('opened')}</dt><dd><Instant at={c.opened_at} /></dd>
          <dt>{t('updated')}</dt><dd><Instant at={c.updated_at} /></dd>
        </dl>
      </section>

      <section aria-labelledby="case-next">
        <h2 id="case-next">{t('next')}</h2>
        {next.length === 0 ? <p>{t('nextNone')}</p> : (
          <div className="steps">
            {target !== undefined && replySteps.map((s) => (
              <button key={s.kind} type="button" onClick={() => navigate(`/compose?reply=${target.id}&kind=${encodeURIComponent(s.kind)}`)}>
                {s.to === c.state ? kindLabel(s.kind) : t('stepTo', { kind: kindLabel(s.kind), state: t(`st_${s.to}`) })}
              </button>
            ))}
            {next.some((s) => s.via === 'ack') && (
              <button type="button" className="secondary" disabled={ackCase.isPending} onClick={() => ackCase.mutate()}>{t('ackCase')}</button>
            )}
            {next.some((s) => s.via === 'close') && !confirming && (
              <button type="button" className="secondary" onClick={() => { setConfirming(true); setTimeout(() => confirmRef.current?.focus(), 0); }}>{t('close')}</button>
            )}
          </div>
        )}
        {nodeSteps.length > 0 && <p className="muted">{t('nodeSteps', { kinds: nodeSteps.map((s) => kindLabel(s.kind)).join(', ') })}</p>}
        {confirming && (
          <div className="confirm" role="group" aria-labelledby="close-q" ref={confirmRef} tabIndex={-1}>
            <p id="close-q">{t('closeConfirm')}</p>
            <label htmlFor="close-reason">{t('reason')}</label>
            <select id="close-reason" value={reason} onChange={(e) => setReason(e.target.value)}>
              {reasons.map((r) => <option key={r.code} value={r.code}>{label(r.labels, lang, r.code)}</option>)}
            </select>
            <label htmlFor="close-note">{t('note')}</label>
            <textarea id="close-note" rows={2} value={note} onChange={(e) => setNote(e.target.value)} />
            <div className="steps">
              <button type="button" disabled={close.isPending} onClick={() => close.mutate()}>{t('closeYes')}</button>
              <button type="button" className="secondary" onClick={() => setConfirming(false)}>{t('cancel')}</button>
            </div>
          </div>
        )}
        <p role="status">{done ?? ''}</p>
        <p><a className="button" href={`/api/v1/cases/${c.id}/transcript`} download={`case-${c.id}.json`}>{t('transcript')}</a></p>
      </section>

      <section aria-labelledby="case-thread">
        <h2 id="case-thread">{t('thread')}</h2>
        <ol className="thread">
          {messages.map((m) => (
            <li key={m.id} className={m.direction}>
              <div className="meta">
                <strong>{m.direction === 'in' ? `← ${t('received')}` : `→ ${t('sent')}`}</strong>
                <span>{kindLabel(m.kind)}</span>
                <span>{t('from', { from: m.from, to: m.to })}</span>
                <Instant at={m.sent_at} />
                <span>{t(`deliv_${m.state}` as 'deliv_queued')}</span>
                <span>TLP:{m.tlp.toUpperCase()}</span>
              </div>
              <p className="summary">{m.redacted !== undefined ? t('redacted', { who: m.redacted }) : m.summary ?? ''}</p>
              <div className="meta">
                <span>{m.acknowledged !== null ? `✓ ${t('ackedBy', { who: m.acknowledged.officer })}` : m.kind === 'ack' || m.kind === 'case-close' ? '' : t('notAcked')}</span>
                <Link to={`/messages/${m.id}`}>{t('open')}</Link>
                {c.state !== 'closed' && replySteps.length > 0 && <Link to={`/compose?reply=${m.id}`}>{t('reply')}</Link>}
              </div>
            </li>
          ))}
        </ol>
      </section>
    </>
  );
}
