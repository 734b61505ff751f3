/** The node's health on one screen (GET /api/v1/status): links, the acknowledgement queue, sinks' failures, the last feed run, the store. */
import { useQuery } from '@tanstack/react-query';
import { get } from '../../api';
import { useLang, useT } from '../../i18n/i18n';
import { formatDuration, Instant } from '../../i18n/time';
import { ErrorBox, Loading } from '../../ui/ui';
import { adminMessages } from './admin.messages';
import { linkUp, PRIORITIES, type NodeStatus } from './admin.types';

export function LinkState({ up, attempts }: { up: boolean; attempts: number }) {
  const t = useT(adminMessages);
  return up ? <span className="state-ok"><span aria-hidden="true">✔ </span>{t('up')}</span>
    : <span className="state-bad"><span aria-hidden="true">✖ </span>{t('failing', { n: attempts })}</span>;
}

export function HealthTab() {
  const t = useT(adminMessages);
  const { lang } = useLang();
  const q = useQuery({ queryKey: ['admin', 'status'], queryFn: () => get<NodeStatus>('/api/v1/status'), refetchInterval: 5000 });
  if (q.isPending) return <Loading />;
  if (q.error !== null) return <ErrorBox error={q.error} retry={() => void q.refetch()} />;
  const s = q.data;
  const mb = (b: number) => new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(b / 1_048_576);
  return (
    <section aria-labelledby="health-h">
      <h2 id="health-h">{t('tab_health')}</h2>
      <dl className="facts">
        <dt>{t('node')}</dt><dd>{s.name} ({s.party})</dd>
        <dt>{t('checkedAt')}</dt><dd><Instant at={s.at} /></dd>
        <dt>{t('store')}</dt><dd>{t('storeSize', { size: mb(s.store.bytes), wal: mb(s.store.wal_bytes) })}</dd>
        <dt>{t('lastFeedRun')}</dt><dd>{s.last_feed_run === null ? t('noneYet') : <>{s.last_feed_run.source} · {s.last_feed_run.state} · {s.last_feed_run.records} · <Instant at={s.last_feed_run.started_at} /></>}</dd>
      </dl>
      <h3>{t('linksTitle')}</h3>
      {s.links.length === 0 ? <p className="muted">{t('peersNone')}</p> : (
        <table>
          <thead><tr><th scope="col">{t('party')}</th><th scope="col">{t('linkState')}</th><th scope="col">{t('backlog')}</th><th scope="col">{t('lastReceipt')}</th><th scope="col">{t('lastReceived')}</th><th scope="col">{t('nextAttempt')}</th><th scope="col">{t('lastError')}</th></tr></thead>
          <tbody>
            {s.links.map((l) => (
              <tr key={l.party}>
                <th scope="row">{l.party} · {l.name}</th><td><LinkState up={linkUp(l)} attempts={l.attempts} /></td><td>{l.backlog}</td>
                <td><Instant at={l.last_receipt_at} /></td><td><Instant at={l.last_received_at} /></td><td><Instant at={l.next_attempt_at} /></td>
                <td>{l.last_error ?? t('noError')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>{t('queueTitle')}</h3>
      <table>
        <thead><tr>{PRIORITIES.map((p) => <th key={p} scope="col">{p}</th>)}<th scope="col">{t('total')}</th><th scope="col">{t('overdue')}</th><th scope="col">{t('oldest')}</th><th scope="col">{t('overdueSent')}</th></tr></thead>
        <tbody>
          <tr>
            {PRIORITIES.map((p) => <td key={p}>{s.queue.by_priority[p] ?? 0}</td>)}
            <td>{s.queue.total}</td>
            <td>{s.queue.overdue > 0 ? <span className="state-bad"><span aria-hidden="true">⚠ </span>{s.queue.overdue}</span> : 0}</td>
            <td>{s.queue.oldest_age_s === null ? '—' : formatDuration(s.queue.oldest_age_s * 1000, lang)}</td>
            <td>{s.queue.overdue_sent}</td>
          </tr>
        </tbody>
      </table>
      <h3>{t('sinkFailures')}</h3>
      {s.sinks.length === 0 ? <p className="muted">{t('sinkFailuresNone')}</p> : (
        <table>
          <thead><tr><th scope="col">{t('sinkName')}</th><th scope="col">{t('target')}</th><th scope="col">{t('failedCount')}</th><th scope="col">{t('retrying')}</th><th scope="col">{t('lastError')}</th><th scope="col">{t('when')}</th></tr></thead>
          <tbody>{s.sinks.map((x) => <tr key={x.sink}><th scope="row">{x.sink}</th><td>{x.target}</td><td>{x.failed}</td><td>{x.retrying}</td><td>{x.last_error ?? t('noError')}</td><td><Instant at={x.last_at} /></td></tr>)}</tbody>
        </table>
      )}
    </section>
  );
}
