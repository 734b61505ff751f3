/**
 * Browse a TAXII collection (cert channel): the collections you can see (GET /api/v1/collections),
 * objects filtered by type and added-after time (GET /api/v1/collections/:id/objects: the same
 * reads, grants and TLP as /taxii2/), an object's versions and its STIX JSON.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { get } from '../../api';
import { useT } from '../../i18n/i18n';
import { Instant } from '../../i18n/time';
import { ErrorBox, Loading, PageTitle } from '../../ui/ui';
import type { PageProps } from '../registry';
import { feedsMessages } from './feeds.messages';
import './feeds.css';

interface Collection { id: string; alias: string; title: string; channel: string; read: boolean; write: boolean }
interface Item { id: string; type: string; version: string; date_added: string; tlp: string; object: unknown }
interface ItemPage { objects: Item[]; more: boolean; next: string | null }

const TYPES = ['indicator', 'malware', 'infrastructure', 'ipv4-addr', 'ipv6-addr', 'domain-name', 'url', 'file', 'relationship', 'report', 'observed-data', 'identity', 'threat-actor', 'attack-pattern', 'note', 'sighting'] as const;

interface Filters { collection: string; type: string; addedAfter: string; next: string | null }

export default function TaxiiPage(_props: PageProps) {
  const t = useT(feedsMessages);
  const cols = useQuery({ queryKey: ['collections'], queryFn: () => get<{ collections: Collection[] }>('/api/v1/collections') });
  const readable = (cols.data?.collections ?? []).filter((c) => c.read);
  const [form, setForm] = useState({ collection: '', type: '', addedAfter: '' });
  const [applied, setApplied] = useState<Filters | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const collection = form.collection !== '' ? form.collection : readable[0]?.id ?? '';
  // The first readable collection is shown at once.
  useEffect(() => {
    if (applied === null && collection !== '') setApplied({ collection, type: '', addedAfter: '', next: null });
  }, [applied, collection]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setOpen(null);
    // datetime-local is the user's own time; the API takes UTC.
    const after = form.addedAfter === '' ? '' : new Date(form.addedAfter).toISOString();
    setApplied({ collection, type: form.type, addedAfter: after, next: null });
  };
  return (
    <>
      <PageTitle>{t('taxiiTitle')}</PageTitle>
      {cols.isPending ? <Loading /> : cols.error !== null ? <ErrorBox error={cols.error} retry={() => void cols.refetch()} /> : readable.length === 0 ? <p className="muted">{t('collectionsNone')}</p> : (
        <form className="taxii-filters" onSubmit={submit}>
          <div>
            <label htmlFor="taxii-collection">{t('collection')}</label>
            <select id="taxii-collection" value={collection} onChange={(e) => setForm({ ...form, collection: e.target.value })}>
              {readable.map((c) => <option key={c.id} value={c.id}>{c.title} ({c.alias}) · {c.write ? `${t('canRead')} + ${t('canWrite')}` : t('canRead')}</option>)}
            </select>
          </div>
          <div>
            <label htmlFor="taxii-type">{t('type')}</label>
            <select id="taxii-type" value={form.type} onChange={(e) => setForm({ ...form, type: e.target.value })}>
              <option value="">{t('anyType')}</option>
              {TYPES.map((x) => <option key={x} value={x}>{x}</option>)}
            </select>
          </div>
          <div>
            <label htmlFor="taxii-after">{t('addedAfter')}</label>
            <input id="taxii-after" type="datetime-local" step="1" value={form.addedAfter} onChange={(e) => setForm({ ...form, addedAfter: e.target.value })} />
          </div>
          <div><button type="submit">{t('apply')}</button></div>
        </form>
      )}
      {applied !== null && <Objects filters={applied} onNext={(next) => setApplied({ ...applied, next })} open={open} onOpen={setOpen} />}
      {applied !== null && open !== null && <Versions collection={applied.collection} id={open} onClose={() => setOpen(null)} />}
    </>
  );
}

function Objects({ filters, onNext, open, onOpen }: { filters: Filters; onNext(next: string): void; open: string | null; onOpen(id: string): void }) {
  const t = useT(feedsMessages);
  const q = useQuery({
    queryKey: ['collection-objects', filters],
    queryFn: () => get<ItemPage>(`/api/v1/collections/${encodeURIComponent(filters.collection)}/objects`, { type: filters.type, added_after: filters.addedAfter, next: filters.next, limit: 50 }),
  });
  if (q.isPending) return <Loading />;
  if (q.error !== null) return <ErrorBox error={q.error} retry={() => void q.refetch()} />;
  if (q.data.objects.length === 0) return <p className="muted">{t('objectsNone')}</p>;
  return (
    <section aria-label={t('collection')}>
      <table className="taxii-objects">
        <thead><tr><th scope="col">{t('type')}</th><th scope="col">{t('id')}</th><th scope="col">{t('version')}</th><th scope="col">{t('dateAdded')}</th><th scope="col">TLP</th><th scope="col"><span className="visually-hidden">{t('open')}</span></th></tr></thead>
        <tbody>
          {q.data.objects.map((o) => (
            <tr key={o.id} aria-current={o.id === open ? 'true' : undefined}>
              <td>{o.type}</td><th scope="row"><code>{o.id}</code></th><td>{o.version}</td><td><Instant at={o.date_added} /></td><td>{o.tlp}</td>
              <td><button type="button" className="secondary" aria-label={t('openObject', { id: o.id })} onClick={() => onOpen(o.id)}>{t('open')}</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      {q.data.more && q.data.next !== null && <p><button type="button" onClick={() => onNext(q.data.next!)}>{t('more')}</button></p>}
    </section>
  );
}

function Versions({ collection, id, onClose }: { collection: string; id: string; onClose(): void }) {
  const t = useT(feedsMessages);
  const heading = useRef<HTMLHeadingElement>(null);
  const q = useQuery({ queryKey: ['collection-versions', collection, id], queryFn: () => get<{ versions: Item[]; more: boolean; next: string | null }>(`/api/v1/collections/${encodeURIComponent(collection)}/objects/${encodeURIComponent(id)}/versions`) });
  const [chosen, setChosen] = useState<number | null>(null);
  useEffect(() => { setChosen(null); heading.current?.focus(); }, [id]);
  const versions = q.data?.versions ?? [];
  const index = chosen ?? versions.length - 1;
  const shown = versions[index];
  return (
    <section aria-labelledby="versions-h" className="object-versions">
      <h2 id="versions-h" ref={heading} tabIndex={-1}>{t('versionsTitle', { id })}</h2>
      {q.isPending ? <Loading /> : q.error !== null ? <ErrorBox error={q.error} /> : (
        <>
          <ul className="versions">
            {versions.map((v, i) => (
              <li key={`${v.version}-${v.date_added}`}>
                <button type="button" className={i === index ? undefined : 'secondary'} aria-pressed={i === index} onClick={() => setChosen(i)}>{v.version}</button>
              </li>
            ))}
          </ul>
          {shown !== undefined && (
            <>
              <h3 id="json-h">{t('json', { version: shown.version })}</h3>
              <pre className="stix-json" role="region" aria-labelledby="json-h" tabIndex={0}>{JSON.stringify(shown.object, null, 2)}</pre>
            </>
          )}
        </>
      )}
      <button type="button" className="secondary" onClick={onClose}>{t('close')}</button>
    </section>
  );
}
