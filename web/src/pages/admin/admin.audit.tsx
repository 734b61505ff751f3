/** The audit trail with search (GET /api/v1/audit: who, action, since) and paging to older records (`before` = the page's `next`). */
import { useState, type FormEvent } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { get } from '../../api';
import { useT } from '../../i18n/i18n';
import { Instant } from '../../i18n/time';
import { ErrorBox, Loading } from '../../ui/ui';
import { adminMessages } from './admin.messages';
import type { AuditRecord } from './admin.types';

/** The node's stable action names (modules/audit/audit.types.ts AUDIT_ACTIONS), offered as suggestions: any name the node knows may be typed. */
const ACTIONS = [
  'auth.sign_in', 'auth.sign_in_failed', 'auth.failed', 'auth.locked', 'auth.sign_out', 'auth.csrf_failed', 'user.password', 'user.totp', 'user.totp_reset', 'message.send', 'message.ack', 'message.read_red', 'export', 'transcript',
  'user.add', 'user.edit', 'user.disable', 'token.create', 'token.revoke', 'grant', 'peer.add', 'peer.deadlines', 'contact.add', 'contact.remove',
  'rota.set', 'rota.override', 'directory.publish', 'collection.add', 'sink.add', 'sink.remove', 'sink.test', 'feed.run', 'prune',
] as const;
const SINCE = ['', '1h', '24h', '7d', '30d'] as const;
const SINCE_LABEL = { '': 'sinceAll', '1h': 'since1h', '24h': 'since24h', '7d': 'since7d', '30d': 'since30d' } as const;
const PAGE = 50;

interface Search { user: string; action: string; since: string; before: number | null }

export function AuditTab() {
  const t = useT(adminMessages);
  const [form, setForm] = useState({ user: '', action: '', since: '' });
  const [search, setSearch] = useState<Search>({ user: '', action: '', since: '', before: null });
  const [pages, setPages] = useState<number[]>([]);
  const q = useQuery({
    queryKey: ['admin', 'audit', search],
    queryFn: () => get<{ records: AuditRecord[]; next: number | null }>('/api/v1/audit', { user: search.user.trim(), action: search.action, since: search.since, before: search.before, limit: PAGE }),
    placeholderData: keepPreviousData,
  });
  const submit = (e: FormEvent) => { e.preventDefault(); setPages([]); setSearch({ ...form, before: null }); };
  return (
    <section aria-labelledby="audit-h">
      <h2 id="audit-h">{t('auditTitle')}</h2>
      <form className="admin-form" role="search" onSubmit={submit}>
        <div><label htmlFor="audit-user">{t('filterUser')}</label><input id="audit-user" value={form.user} onChange={(e) => setForm({ ...form, user: e.target.value })} /></div>
        <div>
          <label htmlFor="audit-action">{t('filterAction')}</label>
          <input id="audit-action" list="audit-actions" value={form.action} placeholder={t('anyAction')} onChange={(e) => setForm({ ...form, action: e.target.value.trim() })} />
          <datalist id="audit-actions">{ACTIONS.map((a) => <option key={a} value={a} />)}</datalist>
        </div>
        <div>
          <label htmlFor="audit-since">{t('filterSince')}</label>
          <select id="audit-since" value={form.since} onChange={(e) => setForm({ ...form, since: e.target.value })}>
            {SINCE.map((s) => <option key={s} value={s}>{t(SINCE_LABEL[s])}</option>)}
          </select>
        </div>
        <div><button type="submit">{t('search')}</button></div>
      </form>
      {q.isPending ? <Loading /> : q.error !== null ? <ErrorBox error={q.error} retry={() => void q.refetch()} /> : q.data.records.length === 0 ? <p className="muted">{t('auditNone')}</p> : (
        <>
          <table className="audit">
            <thead><tr><th scope="col">{t('seq')}</th><th scope="col">{t('when')}</th><th scope="col">{t('actor')}</th><th scope="col">{t('action')}</th><th scope="col">{t('subjectCol')}</th><th scope="col">{t('address')}</th><th scope="col">{t('details')}</th></tr></thead>
            <tbody>
              {q.data.records.map((r) => (
                <tr key={r.seq} data-action={r.action}>
                  <th scope="row">{r.seq}</th><td><Instant at={r.at} /></td><td>{r.actor}</td><td>{r.action}</td><td>{r.subject ?? '—'}</td><td>{r.address}</td>
                  <td><span className="details">{Object.keys(r.details).length === 0 ? '—' : JSON.stringify(r.details)}</span></td>
                </tr>
              ))}
            </tbody>
          </table>
          <p>
            {pages.length > 0 && <button type="button" className="secondary" onClick={() => { setPages([]); setSearch({ ...search, before: null }); }}>{t('newest')}</button>}{' '}
            {q.data.next !== null && <button type="button" onClick={() => { setPages([...pages, search.before ?? 0]); setSearch({ ...search, before: q.data.next }); }}>{t('older')}</button>}
          </p>
        </>
      )}
    </section>
  );
}
