/** Pinned peers (GET /api/v1/peers) with their links' state (GET /api/v1/status): fingerprint, channels, deadlines, backlog, last error. */
import { useQuery } from '@tanstack/react-query';
import { get } from '../../api';
import { useLang, useT } from '../../i18n/i18n';
import { Instant } from '../../i18n/time';
import { ErrorBox, Loading } from '../../ui/ui';
import { adminMessages } from './admin.messages';
import { LinkState } from './admin.health';
import { linkUp, PRIORITIES, type NodeStatus, type Peer } from './admin.types';

/** A deadline in minutes as a person says it: "10 min", "1 h", "72 h". */
function deadline(minutes: number, lang: string): string {
  const hours = minutes % 60 === 0 && minutes > 0;
  return new Intl.NumberFormat(lang, { style: 'unit', unit: hours ? 'hour' : 'minute', unitDisplay: 'short' }).format(hours ? minutes / 60 : minutes);
}

export function PeersTab() {
  const t = useT(adminMessages);
  const { lang } = useLang();
  const peers = useQuery({ queryKey: ['admin', 'peers'], queryFn: () => get<{ peers: Peer[] }>('/api/v1/peers') });
  const status = useQuery({ queryKey: ['admin', 'status'], queryFn: () => get<NodeStatus>('/api/v1/status'), refetchInterval: 5000 });
  if (peers.isPending || status.isPending) return <Loading />;
  if (peers.error !== null) return <ErrorBox error={peers.error} retry={() => void peers.refetch()} />;
  if (status.error !== null) return <ErrorBox error={status.error} retry={() => void status.refetch()} />;
  const links = new Map(status.data.links.map((l) => [l.party, l]));
  return (
    <section aria-labelledby="peers-h">
      <h2 id="peers-h">{t('tab_peers')}</h2>
      {peers.data.peers.length === 0 ? <p className="muted">{t('peersNone')}</p> : (
        <table className="peers">
          <thead><tr><th scope="col">{t('party')}</th><th scope="col">{t('fingerprint')}</th><th scope="col">{t('channels')}</th><th scope="col">{t('deadlines')}</th><th scope="col">{t('linkState')}</th><th scope="col">{t('backlog')}</th><th scope="col">{t('lastReceipt')}</th><th scope="col">{t('lastError')}</th></tr></thead>
          <tbody>
            {peers.data.peers.map((p) => {
              const l = links.get(p.party);
              return (
                <tr key={p.party} data-party={p.party}>
                  <th scope="row">{p.party}<br /><span className="muted">{p.name}</span><br /><span className="muted ltr">{p.url}</span></th>
                  <td><span className="fingerprint">{p.fingerprint === '' ? '—' : p.fingerprint}</span>{p.keys.length > 1 && <><br /><span className="muted">{t('keys', { n: p.keys.length })}; {t('keyChanged')} <Instant at={p.key_changed_at} /></span></>}</td>
                  <td>{p.channels.join(', ')}</td>
                  <td><ul className="plain nowrap">{PRIORITIES.map((pr) => <li key={pr}>{pr}: {deadline(p.deadlines[pr] ?? 0, lang)}</li>)}</ul></td>
                  <td>{p.state !== 'ok' ? <strong className="overdue" data-state={p.state}>{t(`peerState_${p.state}`)}</strong> : l === undefined ? '—' : <LinkState up={linkUp(l)} attempts={l.attempts} />}</td>
                  <td>{l?.backlog ?? 0}</td>
                  <td><Instant at={l?.last_receipt_at ?? null} /></td>
                  <td>{l?.last_error ?? t('noError')}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
