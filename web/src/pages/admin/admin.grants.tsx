/** Who may read and write each TAXII collection (GET/PUT /api/v1/collections/:id/grants; administrators). */
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { get, put } from '../../api';
import { useT } from '../../i18n/i18n';
import { Instant } from '../../i18n/time';
import { ErrorBox, Loading } from '../../ui/ui';
import { adminMessages } from './admin.messages';

interface Collection { id: string; alias: string; title: string; channel: string; default_tlp: string; peer: string | null }
interface Grant { subject: string; read: boolean; write: boolean; granted_at: string }

export function GrantsTab() {
  const t = useT(adminMessages);
  const cols = useQuery({ queryKey: ['admin', 'collections'], queryFn: () => get<{ collections: Collection[] }>('/api/v1/collections') });
  return (
    <section aria-labelledby="grants-h">
      <h2 id="grants-h">{t('grantsTitle')}</h2>
      {cols.isPending ? <Loading /> : cols.error !== null ? <ErrorBox error={cols.error} retry={() => void cols.refetch()} /> : cols.data.collections.length === 0 ? <p className="muted">{t('collectionsNone')}</p>
        : cols.data.collections.map((c) => <CollectionGrants key={c.id} c={c} />)}
    </section>
  );
}

function YesNo({ v }: { v: boolean }) {
  const t = useT(adminMessages);
  return v ? <span className="state-ok"><span aria-hidden="true">✔ </span>{t('yes')}</span> : <span><span aria-hidden="true">✖ </span>{t('no')}</span>;
}

function CollectionGrants({ c }: { c: Collection }) {
  const t = useT(adminMessages);
  const qc = useQueryClient();
  const grants = useQuery({ queryKey: ['admin', 'grants', c.id], queryFn: () => get<{ grants: Grant[] }>(`/api/v1/collections/${encodeURIComponent(c.id)}/grants`) });
  const [subject, setSubject] = useState('');
  const [read, setRead] = useState(true);
  const [write, setWrite] = useState(false);
  const [said, setSaid] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: () => put<{ grants: Grant[] }>(`/api/v1/collections/${encodeURIComponent(c.id)}/grants`, { subject: subject.trim(), read, write }),
    onSuccess: () => { setSaid(t('grantSaved', { subject: subject.trim() })); setSubject(''); void qc.invalidateQueries({ queryKey: ['admin', 'grants', c.id] }); },
  });
  const id = `grant-${c.id}`;
  const submit = (e: FormEvent) => { e.preventDefault(); setSaid(null); save.mutate(); };
  return (
    <div className="collection-grants" data-collection={c.alias}>
      <h3 id={`${id}-h`}>{t('collectionHeading', { title: c.title, alias: c.alias, channel: c.channel })}</h3>
      {grants.isPending ? <Loading /> : grants.error !== null ? <ErrorBox error={grants.error} /> : grants.data.grants.length === 0 ? <p className="muted">{t('noGrants')}</p> : (
        <table aria-labelledby={`${id}-h`}>
          <thead><tr><th scope="col">{t('subject')}</th><th scope="col">{t('read')}</th><th scope="col">{t('write')}</th><th scope="col">{t('grantedAt')}</th></tr></thead>
          <tbody>{grants.data.grants.map((g) => <tr key={g.subject}><th scope="row">{g.subject}</th><td><YesNo v={g.read} /></td><td><YesNo v={g.write} /></td><td><Instant at={g.granted_at} /></td></tr>)}</tbody>
        </table>
      )}
      <form className="admin-form" onSubmit={submit} aria-label={t('grantOn', { alias: c.alias })}>
        <div>
          <label htmlFor={`${id}-subject`}>{t('subject')}</label>
          <input id={`${id}-subject`} required value={subject} onChange={(e) => setSubject(e.target.value)} aria-describedby={`${id}-help`} placeholder="user:name" />
          <div id={`${id}-help`} className="muted">{t('subjectHelp')}</div>
        </div>
        <fieldset>
          <legend>{t('access')}</legend>
          <label><input type="checkbox" checked={read} onChange={(e) => setRead(e.target.checked)} /> {t('read')}</label>
          <label><input type="checkbox" checked={write} onChange={(e) => setWrite(e.target.checked)} /> {t('write')}</label>
        </fieldset>
        <div><button type="submit" disabled={save.isPending}>{t('saveGrant')}</button></div>
      </form>
      <p role="status" aria-live="polite">{said}</p>
      {save.error !== null && <ErrorBox error={save.error} />}
    </div>
  );
}
