/**
 * Administration (administrators only; the API refuses everyone else anyway): the node's health,
 * peers, users and tokens, collection grants, alert sinks, the audit trail. One tab per file,
 * chosen by `?tab=` so that each is a link of its own.
 */
import { useT } from '../../i18n/i18n';
import { Link, useRoute } from '../../router';
import { useMe } from '../../session';
import { PageTitle } from '../../ui/ui';
import type { PageProps } from '../registry';
import { adminMessages } from './admin.messages';
import { AuditTab } from './admin.audit';
import { GrantsTab } from './admin.grants';
import { HealthTab } from './admin.health';
import { PeersTab } from './admin.peers';
import { SinksTab } from './admin.sinks';
import { UsersTab } from './admin.users';
import './admin.css';

const TABS = { health: HealthTab, peers: PeersTab, users: UsersTab, grants: GrantsTab, sinks: SinksTab, audit: AuditTab } as const;
type Tab = keyof typeof TABS;
const isTab = (s: string | null): s is Tab => s !== null && s in TABS;

export default function AdminPage(_props: PageProps) {
  const t = useT(adminMessages);
  const me = useMe();
  const { search } = useRoute();
  if (me.role !== 'admin') {
    return (
      <>
        <PageTitle>{t('title')}</PageTitle>
        <p role="alert" className="admin-only"><span aria-hidden="true">⛔ </span>{t('adminOnly')}</p>
      </>
    );
  }
  const tab: Tab = isTab(search.get('tab')) ? (search.get('tab') as Tab) : 'health';
  const Current = TABS[tab];
  return (
    <>
      <PageTitle>{t('title')}</PageTitle>
      <nav aria-label={t('sections')} className="admin-tabs">
        <ul>
          {(Object.keys(TABS) as Tab[]).map((k) => (
            <li key={k}><Link to={`/admin?tab=${k}`} aria-current={k === tab ? 'page' : undefined}>{t(`tab_${k}`)}</Link></li>
          ))}
        </ul>
      </nav>
      <Current />
    </>
  );
}
