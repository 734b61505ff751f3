/**
 * One message (GET /api/v1/messages/:id?lang=): its template's fields rendered in the reader's
 * language, the free text in the writer's, the timeline (sent, stored, receipt, deadline,
 * escalation steps, acknowledgement), attachments, and the Acknowledge and Reply buttons. A
 * TLP:RED message the reader may not read shows the API's redaction, never a body (the API
 * withholds it). A message on a channel the reader does not hold is "not found", as in the API.
 */
import { useCallback } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, get, post } from '../../api';
import { useNodeEvent, type AckEvent } from '../../events';
import { useLang, useT, type Lang } from '../../i18n/i18n';
import { formatDuration, formatInstant } from '../../i18n/time';
import { Link, useRoute } from '../../router';
import { ErrorBox, Loading, PageTitle } from '../../ui/ui';
import type { PageProps } from '../registry';
import { messageMessages } from './message.messages';
import { WarningIcon } from '../queue/icons';
import './message.css';

interface RenderedLine { field: string; label: string; value: string; codes?: string[]; lang?: string }
interface Attachment { name: string; media_type: string; size: number; sha256: string; content: string }
interface FiredStep { step: string; position: string | null; contact: string | null; at: string; deliveries: { sink: string; state: string; attempts: number }[] }
interface Deadline { due_at: string; acknowledged_at: string | null; overdue: boolean; late_ms: number | null; next_step: string | null; next_at: string | null; steps: FiredStep[] }
interface MessageView {
  id: string; direction: 'in' | 'out'; from: string; to: string; kind: string; channel: string; priority: string; tlp: string;
  case: string; in_reply_to: string | null; sent_at: string; stored_at: string; text: string | null;
  state: 'queued' | 'retrying' | 'delivered' | 'received'; attempts?: number; next_attempt_at?: string | null; last_error?: string | null;
  receipted_at: string | null; acknowledged: { officer: string; user: string | null; at: string; ack_id: string } | null;
  sender: string | null; recipients: string[] | null; redacted?: string;
}
/** Which key signed it, judged by the key history (issue 12): `later_revoked` when that key was declared compromised afterwards. */
export interface SignatureView { fingerprint: string | null; later_revoked: boolean; note: string | null }
export interface MessageResponse { message: MessageView; envelope: { attachments?: Attachment[] }; rendered: RenderedLine[]; deadline: Deadline | null; signature?: SignatureView }

/** The attachment's bytes (base64 in the envelope) saved as a file. */
function download(a: Attachment): void {
  const bin = atob(a.content);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const url = URL.createObjectURL(new Blob([bytes], { type: a.media_type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = a.name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function languageName(tag: string, lang: Lang): string {
  try { return new Intl.DisplayNames([lang], { type: 'language' }).of(tag) ?? tag; } catch { return tag; }
}

export default function MessagePage({ params }: PageProps) {
  const id = params.id ?? '';
  const t = useT(messageMessages);
  const { lang, timeZone } = useLang();
  const { navigate } = useRoute();
  const qc = useQueryClient();
  const at = (iso: string) => formatInstant(iso, lang, timeZone);
  const q = useQuery({
    queryKey: ['message', id, lang],
    queryFn: () => get<MessageResponse>(`/api/v1/messages/${encodeURIComponent(id)}`, { lang }),
    retry: (n, e) => !(e instanceof ApiError && e.status < 500) && n < 1,
  });
  const onAck = useCallback((e: AckEvent) => {
    if (e.message_id === q.data?.message.id) void qc.invalidateQueries({ queryKey: ['message', id] });
  }, [qc, id, q.data?.message.id]);
  useNodeEvent('ack', onAck);
  const ack = useMutation({
    mutationFn: (mid: string) => post(`/api/v1/messages/${encodeURIComponent(mid)}/ack`, {}),
    onSettled: () => Promise.all([qc.invalidateQueries({ queryKey: ['message', id] }), qc.invalidateQueries({ queryKey: ['queue'] })]),
  });

  if (q.isPending) return <Loading />;
  if (q.isError) {
    if (q.error instanceof ApiError && q.error.status === 404) {
      return <><PageTitle>{t('notFound')}</PageTitle><p>{t('notFoundText', { id })}</p><p><Link to="/">{t('back')}</Link></p></>;
    }
    return <ErrorBox error={q.error} retry={() => void q.refetch()} />;
  }
  const { message: m, rendered, deadline, envelope, signature: sig } = q.data;
  const title = rendered.find((l) => l.field === 'template')?.value ?? m.kind;
  const lines = rendered.filter((l) => l.field !== 'template' && l.field !== 'text');
  const text = rendered.find((l) => l.field === 'text');
  const attachments = envelope.attachments ?? [];
  const canAck = m.direction === 'in' && m.acknowledged === null && deadline !== null && deadline.acknowledged_at === null;
  const here = m.direction === 'in' ? m.to : m.from;

  return (
    <article className="message" data-id={m.id}>
      <PageTitle>
        <span className={`prio prio-${m.priority}`}>{t('priority', { p: m.priority })}</span> · {title}
      </PageTitle>
      <p className="lead">{t('direction', { d: m.direction, from: m.from, to: m.to })} · {at(m.sent_at)}</p>
      <div className="message-actions">
        {canAck && <button type="button" onClick={() => ack.mutate(m.id)} disabled={ack.isPending}>{t('acknowledge')}</button>}
        {m.redacted === undefined && m.direction === 'in' && <button type="button" className="secondary" onClick={() => navigate(`/compose?reply=${encodeURIComponent(m.id)}`)}>{t('reply')}</button>}
        <span role="status" aria-live="polite" className={ack.isError ? 'error' : 'ok'}>
          {ack.isSuccess ? t('ackDone') : ack.isError ? t('ackFailed', { message: ack.error instanceof ApiError ? `${ack.error.message} (${ack.error.code})` : String(ack.error) }) : ''}
        </span>
      </div>

      <section aria-labelledby="msg-content">
        <h2 id="msg-content">{t('content')}</h2>
        {m.redacted !== undefined ? (
          <p className="redacted"><WarningIcon /> {t('redacted', { notice: m.redacted })}</p>
        ) : (
          <>
            {lines.length > 0 && (
              <dl className="fields">
                {lines.map((l) => (<div key={l.field}><dt>{l.label}</dt><dd>{l.value}</dd></div>))}
              </dl>
            )}
            {text !== undefined && (
              <div className="free-text">
                <h3>{text.label}</h3>
                {text.lang !== undefined && <p className="muted">{t('textLang', { language: languageName(text.lang, lang) })}</p>}
                <p lang={text.lang} className="text">{text.value}</p>
              </div>
            )}
          </>
        )}
      </section>

      {attachments.length > 0 && (
        <section aria-labelledby="msg-attachments">
          <h2 id="msg-attachments">{t('attachments')}</h2>
          <ul className="attachments">
            {attachments.map((a, i) => (
              <li key={`${i}-${a.name}`}>
                <button type="button" className="secondary" onClick={() => download(a)}>{t('download', { name: a.name })}</button>
                {' '}<span className="muted">{a.media_type}, {t('size', { kb: Math.max(1, Math.round(a.size / 1024)) })}</span>
              </li>
            ))}
          </ul>
        </section>
      )}

      <section aria-labelledby="msg-timeline">
        <h2 id="msg-timeline">{t('timeline')}</h2>
        <ol className="timeline">
          <li>{m.sender !== null ? t('sentBy', { user: m.sender, party: m.from, at: at(m.sent_at) }) : t('sent', { party: m.from, at: at(m.sent_at) })}</li>
          <li>{t(m.direction === 'in' ? 'storedIn' : 'storedOut', { party: here, at: at(m.stored_at) })}</li>
          {m.direction === 'in' && m.receipted_at !== null && <li>{t('receiptIn', { party: m.from, at: at(m.receipted_at) })}</li>}
          {m.direction === 'out' && m.receipted_at !== null && <li>{t('receiptOut', { party: m.to, at: at(m.receipted_at) })}</li>}
          {m.direction === 'out' && m.state === 'queued' && <li>{t('queued', { party: m.to })}</li>}
          {m.direction === 'out' && m.state === 'retrying' && (
            <li className="error">{t('retrying', { party: m.to, n: m.attempts ?? 0, at: m.next_attempt_at == null ? '—' : at(m.next_attempt_at), error: m.last_error ?? '—' })}</li>
          )}
          {deadline !== null && (
            deadline.overdue
              ? <li className="overdue"><WarningIcon /> {t('overdue', { at: at(deadline.due_at) })}</li>
              : <li>{t('due', { at: at(deadline.due_at) })}</li>
          )}
          {deadline?.steps.map((s, i) => (
            <li key={`${s.step}-${i}`}>
              {t('step', { step: /^\d+$/.test(s.step) ? `s${s.step}` : s.step, contact: s.contact ?? 'none', at: at(s.at) })}
              {' — '}{s.deliveries.length === 0 ? t('noSink') : s.deliveries.map((d) => t('delivery', { sink: d.sink, state: d.state })).join(', ')}
            </li>
          ))}
          {m.acknowledged !== null && (
            <li className="ok acked">
              <span aria-hidden="true">✔ </span>
              {deadline?.late_ms != null && deadline.late_ms > 0
                ? t('ackedLate', { name: m.acknowledged.officer, at: at(m.acknowledged.at), late: formatDuration(deadline.late_ms, lang) })
                : t('acked', { name: m.acknowledged.officer, at: at(m.acknowledged.at) })}
            </li>
          )}
          {m.acknowledged === null && deadline?.next_at != null && <li className="muted">{t('nextStep', { at: at(deadline.next_at) })}</li>}
        </ol>
      </section>

      <section aria-labelledby="msg-meta">
        <h2 id="msg-meta">{t('meta')}</h2>
        <dl className="fields">
          <div><dt>{t('id')}</dt><dd><code>{m.id}</code></dd></div>
          <div><dt>{t('channel')}</dt><dd>{m.channel}</dd></div>
          <div><dt>{t('tlp')}</dt><dd>TLP:{m.tlp.toUpperCase()}</dd></div>
          <div><dt>{t('case')}</dt><dd><Link to={`/cases/${encodeURIComponent(m.case)}`}>{m.case}</Link></dd></div>
          {m.in_reply_to !== null && <div><dt>{t('inReplyTo')}</dt><dd><Link to={`/messages/${encodeURIComponent(m.in_reply_to)}`}>{m.in_reply_to}</Link></dd></div>}
          {m.sender !== null && <div><dt>{t('sender')}</dt><dd>{m.sender}</dd></div>}
          {sig !== undefined && sig.fingerprint !== null && (
            <div><dt>{t('signedBy')}</dt><dd><span className="ltr">{sig.fingerprint}</span>
              {sig.later_revoked && <><br /><strong className="overdue" data-signature="later-revoked">{t('laterRevoked')}</strong></>}
              {!sig.later_revoked && sig.note !== null && <><br /><strong className="overdue">{t('signatureProblem', { note: sig.note })}</strong></>}
            </dd></div>
          )}
        </dl>
      </section>
    </article>
  );
}
