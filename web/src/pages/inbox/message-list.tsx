/**
 * The inbox and the outbox: GET /api/v1/messages?direction=in|out with the API's filters and
 * full-text search, kept in the page's URL (a view can be linked, `/inbox?search=...` opens
 * searched), paged by the API's cursor ("Load more"), refreshed live on the node's events.
 */
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { useInfiniteQuery, useQueryClient } from '@tanstack/react-query';
import { get } from '../../api';
import { useNodeEvent } from '../../events';
import { useLang, useT } from '../../i18n/i18n';
import { formatDuration, Instant, useNow } from '../../i18n/time';
import { Link, useRoute } from '../../router';
import { useMe } from '../../session';
import { ErrorBox, Loading, PageTitle } from '../../ui/ui';
import { inboxMessages } from './inbox.messages';
import './inbox.css';

/** A listed message as GET /api/v1/messages gives it (the members this page shows). */
export interface ListedMessage {
  id: string;
  short_id: string;
  direction: 'in' | 'out';
  from: string;
  to: string;
  kind: string;
  channel: string;
  priority: string;
  tlp: string;
  stored_at: string;
  summary: string;
  state: 'queued' | 'retrying' | 'delivered' | 'received';
  attempts?: number;
  next_attempt_at?: string | null;
  last_error?: string | null;
  receipted_at: string | null;
  acknowledged: { officer: string; user: string | null; at: string } | null;
  ack: { due_at: string; acknowledged_at: string | null; overdue: boolean } | null;
  answered: boolean;
  redacted?: string;
}
interface ListPage { messages: ListedMessage[]; next: string | null }

export const FILTERS = ['channel', 'priority', 'kind', 'from', 'to', 'state', 'case', 'since', 'search'] as const;
type Filter = (typeof FILTERS)[number];
type Filters = Partial<Record<Filter, string>>;

const PRIORITIES = ['flash', 'immediate', 'priority', 'routine'] as const;
const KINDS = ['notification', 'inquiry', 'assistance', 'response', 'crisis-alert', 'preservation-request', 'preservation-response',
  'ping', 'pong', 'ack', 'indicators', 'directory-update', 'key-change', 'case-close'] as const;
const STATES = ['unacked', 'acked', 'overdue', 'answered'] as const;
const CHANNEL_KEYS = { crisis: 'crisis', cert: 'cert', law: 'law' } as const;

function filtersOf(search: URLSearchParams): Filters {
  const out: Filters = {};
  for (const k of FILTERS) {
    const v = search.get(k);
    if (v !== null && v.trim() !== '') out[k] = v.trim();
  }
  return out;
}

function hrefOf(path: string, f: Filters): string {
  const q = new URLSearchParams();
  for (const k of FILTERS) if (f[k] !== undefined && f[k] !== '') q.set(k, f[k]!);
  const s = q.toString();
  return s === '' ? path : `${path}?${s}`;
}

/** A name or code inside a sentence, isolated from the sentence's direction (Arabic). */
const isolate = (s: string) => `\u2068${s}\u2069`;

const ICON: Record<string, string> = { flash: '⚡', immediate: '▲', priority: '◆', routine: '○' };

export function PriorityLabel({ priority }: { priority: string }) {
  const t = useT(inboxMessages);
  const key = priority === 'priority' ? 'priorityLevel' : (PRIORITIES as readonly string[]).includes(priority) ? (priority as 'flash' | 'immediate' | 'routine') : null;
  return (
    <span className={`prio prio-${priority}`}>
      <span aria-hidden="true">{ICON[priority] ?? '•'} </span>{key === null ? priority.toUpperCase() : t(key)}
    </span>
  );
}

function ChannelName({ channel }: { channel: string }) {
  const t = useT(inboxMessages);
  return <>{channel in CHANNEL_KEYS ? t(CHANNEL_KEYS[channel as keyof typeof CHANNEL_KEYS]) : channel}</>;
}

/** Due in / overdue by / acknowledged by — icon and words, never colour alone. */
function AckCell({ m, now }: { m: ListedMessage; now: number }) {
  const t = useT(inboxMessages);
  const { lang } = useLang();
  const parts = [];
  if (m.acknowledged !== null) {
    parts.push(<span key="a" className="ok"><span aria-hidden="true">✓ </span>{t('ackedBy', { who: isolate(m.acknowledged.officer) })} <Instant at={m.acknowledged.at} /></span>);
  } else if (m.ack?.acknowledged_at != null) {
    parts.push(<span key="a" className="ok"><span aria-hidden="true">✓ </span>{t('ackedAnon')} <Instant at={m.ack.acknowledged_at} /></span>);
  } else if (m.ack !== null) {
    const left = Date.parse(m.ack.due_at) - now;
    parts.push(left <= 0
      ? <span key="a" className="overdue"><span aria-hidden="true">⚠ </span>{t('overdueBy', { left: formatDuration(-left, lang) })}</span>
      : <span key="a"><span aria-hidden="true">◷ </span>{t('due', { left: formatDuration(left, lang) })}</span>);
  } else {
    parts.push(<span key="a" className="muted">{t('noDeadline')}</span>);
  }
  if (m.answered) parts.push(<span key="r" className="answered"><span aria-hidden="true">↩ </span>{t('answered')}</span>);
  return <>{parts}</>;
}

/** The outbox's delivery state: queued; retrying (next attempt, last error); receipted (when); then who acknowledged. */
function DeliveryCell({ m, now }: { m: ListedMessage; now: number }) {
  const t = useT(inboxMessages);
  return (
    <div className="delivery">
      {m.state === 'queued' && <span className="state-queued"><span aria-hidden="true">◌ </span>{t('queued')}</span>}
      {m.state === 'retrying' && (<>
        <span className="overdue state-retrying"><span aria-hidden="true">↻ </span>{t('retrying')} ({t('attempts', { n: m.attempts ?? 0 })})</span>
        <span>{t('nextAttempt')} <Instant at={m.next_attempt_at} /></span>
        {m.last_error != null && <span className="last-error">{t('lastError', { error: isolate(m.last_error) })}</span>}
      </>)}
      {m.state === 'delivered' && <span className="ok state-receipted"><span aria-hidden="true">✓ </span>{t('receipted')} <Instant at={m.receipted_at} /></span>}
      <AckCell m={m} now={now} />
    </div>
  );
}

function Select({ id, label, value, options, onChange }: { id: string; label: string; value: string | undefined; options: readonly { value: string; label: string }[]; onChange: (v: string) => void }) {
  const t = useT(inboxMessages);
  return (
    <div className="filter">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value ?? ''} onChange={(e) => onChange(e.target.value)}>
        <option value="">{t('any')}</option>
        {options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
      </select>
    </div>
  );
}

export function MessageList({ direction }: { direction: 'in' | 'out' }) {
  const t = useT(inboxMessages);
  const { lang } = useLang();
  const me = useMe();
  const { path, search, navigate } = useRoute();
  const filters = filtersOf(search);
  const party: Filter = direction === 'in' ? 'from' : 'to';
  // What is typed but not applied yet (text fields apply on submit; selects at once).
  const [typed, setTyped] = useState<Filters>(filters);
  const [typedFor, setTypedFor] = useState(search.toString());
  if (typedFor !== search.toString()) { setTypedFor(search.toString()); setTyped(filters); }
  const apply = (f: Filters) => navigate(hrefOf(path, f), { replace: true });
  const onSubmit = (e: FormEvent) => { e.preventDefault(); apply({ ...filters, ...typed }); };

  const qc = useQueryClient();
  const key = ['messages', direction, filters, lang] as const;
  const q = useInfiniteQuery({
    queryKey: key,
    queryFn: ({ pageParam }) => get<ListPage>('/api/v1/messages', { direction, limit: 50, lang, ...filters, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next ?? undefined,
    // Delivery and deadlines move without an event too (the next retry, a countdown crossing zero).
    refetchInterval: direction === 'out' ? 15_000 : 60_000,
  });
  const refresh = useCallback(() => { void qc.invalidateQueries({ queryKey: ['messages', direction] }); }, [qc, direction]);
  useNodeEvent('message', useCallback((e) => { if (e.direction === direction) refresh(); }, [direction, refresh]));
  useNodeEvent('ack', refresh);
  useNodeEvent('delivery', useCallback(() => { if (direction === 'out') refresh(); }, [direction, refresh]));
  const now = useNow(1000);
  // `/inbox?search=` (the queue's "/" key) opens with the cursor in the search box; "/" here goes there too.
  const searchBox = useRef<HTMLInputElement>(null);
  const wantsSearch = search.has('search');
  useEffect(() => { if (wantsSearch) searchBox.current?.focus(); }, [wantsSearch]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const el = e.target as HTMLElement | null;
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey || el?.closest('input, select, textarea, [contenteditable]') != null) return;
      e.preventDefault();
      searchBox.current?.focus();
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);

  const messages = q.data?.pages.flatMap((p) => p.messages) ?? [];
  const text = (k: Filter, hint?: string) => (
    <div className="filter">
      <label htmlFor={`f-${k}`}>{t(k === 'search' ? 'search' : k)}</label>
      <input id={`f-${k}`} name={k} type={k === 'search' ? 'search' : 'text'} value={typed[k] ?? ''} ref={k === 'search' ? searchBox : undefined}
        aria-describedby={hint === undefined ? undefined : `f-${k}-hint`}
        onChange={(e) => setTyped({ ...typed, [k]: e.target.value })} />
      {hint !== undefined && <small id={`f-${k}-hint`} className="muted">{hint}</small>}
    </div>
  );

  return (
    <>
      <PageTitle>{t(direction === 'in' ? 'inbox' : 'outbox')}</PageTitle>
      <form className="filters" role="search" aria-label={t('filters')} onSubmit={onSubmit}>
        {text('search', t('searchHint'))}
        <Select id="f-channel" label={t('channel')} value={filters.channel} onChange={(v) => apply({ ...filters, channel: v })}
          options={me.channels.map((c) => ({ value: c, label: c in CHANNEL_KEYS ? t(CHANNEL_KEYS[c as keyof typeof CHANNEL_KEYS]) : c }))} />
        <Select id="f-priority" label={t('priority')} value={filters.priority} onChange={(v) => apply({ ...filters, priority: v })}
          options={PRIORITIES.map((p) => ({ value: p, label: t(p === 'priority' ? 'priorityLevel' : p) }))} />
        <Select id="f-kind" label={t('kind')} value={filters.kind} onChange={(v) => apply({ ...filters, kind: v })}
          options={KINDS.map((k) => ({ value: k, label: k }))} />
        <Select id="f-state" label={t('state')} value={filters.state} onChange={(v) => apply({ ...filters, state: v })}
          options={STATES.map((s) => ({ value: s, label: t(s) }))} />
        {text(party)}
        {text('case')}
        {text('since', t('sinceHint'))}
        <div className="filter-actions">
          <button type="submit">{t('apply')}</button>
          <button type="button" className="secondary" onClick={() => { setTyped({}); apply({}); }}>{t('clear')}</button>
        </div>
      </form>

      {q.isPending ? <Loading /> : q.isError ? <ErrorBox error={q.error} retry={() => void q.refetch()} /> : (<>
        <p role="status" className="muted">{messages.length === 0 ? t('none') : t('shown', { n: messages.length })}</p>
        {messages.length > 0 && (
          <div className="table-wrap">
            <table className="messages">
              <caption className="visually-hidden">{t('caption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('id')}</th>
                  <th scope="col">{t('priority')}</th>
                  <th scope="col">{t('kind')}</th>
                  <th scope="col">{t(party)}</th>
                  <th scope="col">{t('channel')}</th>
                  <th scope="col">{t('time')}</th>
                  <th scope="col">{t(direction === 'in' ? 'ackState' : 'delivery')}</th>
                  <th scope="col">{t('summary')}</th>
                </tr>
              </thead>
              <tbody>
                {messages.map((m) => (
                  <tr key={m.id} data-id={m.id}>
                    <th scope="row"><Link to={`/messages/${m.id}`} className="mono" dir="ltr" aria-label={t('openMessage', { id: m.short_id })}>{m.short_id}</Link></th>
                    <td><PriorityLabel priority={m.priority} /></td>
                    <td>{m.kind}</td>
                    <td>{direction === 'in' ? m.from : m.to}</td>
                    <td><ChannelName channel={m.channel} /></td>
                    <td><Instant at={m.stored_at} /></td>
                    <td>{direction === 'in' ? <AckCell m={m} now={now} /> : <DeliveryCell m={m} now={now} />}</td>
                    <td className="summary">{m.summary}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {q.hasNextPage && (
          <button type="button" onClick={() => void q.fetchNextPage()} disabled={q.isFetchingNextPage}>
            {q.isFetchingNextPage ? t('loadingMore') : t('loadMore')}
          </button>
        )}
      </>)}
    </>
  );
}
