/**
 * Feeds (cert channel): upload a feed (POST /api/v1/feed-runs: the file as the body, options in
 * the query), the runs (GET /api/v1/feed-runs), and one run (GET /api/v1/feed-runs/:id): its
 * progress while it runs (polled every second) and then what went where (per party records,
 * distinct IPs, families, objects and messages), its rejects with their line numbers.
 */
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, get, withQuery } from '../../api';
import { useLang, useT } from '../../i18n/i18n';
import { formatDuration, formatInstant, Instant } from '../../i18n/time';
import { useMe } from '../../session';
import { ErrorBox, Loading, PageTitle } from '../../ui/ui';
import type { PageProps } from '../registry';
import { feedsMessages } from './feeds.messages';
import './feeds.css';

interface Destination { party: string; records: number; distinct_ips: number; families: string[]; messages: string[]; objects: number; collection?: string }
interface Report {
  source: string; tlp: string; bytes: number; lines: number; records: number; rejected: number; rejects: { line: number; reason: string; field: string | null }[];
  duplicates: number; unrouted: number; peers: Destination[]; domestic: Destination & { collection: string }; elapsed_ms: number;
}
export interface Run { id: string; source: string; input: string; state: string; started_at: string; finished_at: string | null; error: string | null; report: Report }

const FORMATS = ['auto', 'csv', 'jsonl', 'stix'] as const;
/** The layouts in presets/ (the node recognises them from the header when none is chosen). */
const PRESETS = ['shadowserver-infected', 'feodo-c2', 'generic'] as const;
const TLPS = ['clear', 'green', 'amber', 'amber+strict', 'red'] as const;
const STATE_ICON: Record<string, string> = { receiving: '⇣', queued: '⏸', running: '⏳', complete: '✔', failed: '✖', interrupted: '⚠' };

type StateKey = 'receiving' | 'queued' | 'running' | 'complete' | 'failed' | 'interrupted';
const isState = (s: string): s is StateKey => s in STATE_ICON;
/** A run that is not over yet (an upload arriving, waiting for a slot, or running): its page refreshes every second. */
const isActive = (s: string): boolean => s === 'receiving' || s === 'queued' || s === 'running';

export function RunState({ state }: { state: string }) {
  const t = useT(feedsMessages);
  return <span className={`run-state run-${state}`}><span aria-hidden="true">{STATE_ICON[state] ?? '•'}</span> {isState(state) ? t(state) : state}</span>;
}

export default function FeedsPage(_props: PageProps) {
  const t = useT(feedsMessages);
  const [selected, setSelected] = useState<string | null>(null);
  const runs = useQuery({
    queryKey: ['feed-runs'], queryFn: () => get<{ runs: Run[] }>('/api/v1/feed-runs', { limit: 50 }),
    refetchInterval: (q) => (q.state.data?.runs.some((r) => isActive(r.state)) === true ? 1000 : false),
  });
  const shown = selected ?? runs.data?.runs[0]?.id ?? null;
  return (
    <>
      <PageTitle>{t('title')}</PageTitle>
      <Upload onStarted={setSelected} />
      <section aria-labelledby="runs-h">
        <h2 id="runs-h">{t('runsTitle')}</h2>
        {runs.isPending ? <Loading /> : runs.error !== null ? <ErrorBox error={runs.error} retry={() => void runs.refetch()} /> : runs.data.runs.length === 0 ? <p className="muted">{t('runsNone')}</p> : (
          <RunsTable runs={runs.data.runs} shown={shown} onShow={setSelected} />
        )}
      </section>
      {shown !== null && <RunDetail id={shown} />}
    </>
  );
}

function RunsTable({ runs, shown, onShow }: { runs: Run[]; shown: string | null; onShow(id: string): void }) {
  const t = useT(feedsMessages);
  const { lang, timeZone } = useLang();
  return (
    <table>
      <thead>
        <tr><th scope="col">{t('source')}</th><th scope="col">{t('started_at')}</th><th scope="col">{t('input')}</th><th scope="col">{t('state')}</th><th scope="col">{t('records')}</th><th scope="col">{t('rejected')}</th><th scope="col"><span className="visually-hidden">{t('show')}</span></th></tr>
      </thead>
      <tbody>
        {runs.map((r) => (
          <tr key={r.id} aria-current={r.id === shown ? "true" : undefined}>
            <th scope="row">{r.source}</th><td><Instant at={r.started_at} /></td><td>{r.input}</td><td><RunState state={r.state} /></td>
            <td>{r.report.records}</td><td>{r.report.rejected}</td>
            <td><button type="button" className="secondary" aria-label={t('showRun', { source: r.source, at: formatInstant(r.started_at, lang, timeZone) })} onClick={() => onShow(r.id)}>{t('show')}</button></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Upload({ onStarted }: { onStarted(id: string): void }) {
  const t = useT(feedsMessages);
  const me = useMe();
  const qc = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [format, setFormat] = useState<string>('auto');
  const [preset, setPreset] = useState('');
  const [source, setSource] = useState('');
  const [tlp, setTlp] = useState('amber');
  const [started, setStarted] = useState<string | null>(null);
  const upload = useMutation({
    mutationFn: async (f: File) => {
      // The feed is the request body (streamed to disk by the node), not JSON: sent here with the session's CSRF token.
      const res = await fetch(withQuery('/api/v1/feed-runs', { format, preset, source, tlp }), {
        method: 'POST', credentials: 'same-origin', body: f,
        headers: { accept: 'application/json', 'content-type': f.type === '' ? 'application/octet-stream' : f.type, 'x-csrf-token': me.csrf_token },
      });
      const body = (await res.json().catch(() => ({}))) as { id?: string; code?: string; detail?: string };
      if (!res.ok) throw new ApiError(res.status, body.code ?? `http_${res.status}`, body.detail ?? res.statusText);
      return body as { id: string };
    },
    onSuccess: (r) => { setStarted(t('started', { id: r.id })); onStarted(r.id); void qc.invalidateQueries({ queryKey: ['feed-runs'] }); },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setStarted(null);
    if (file === null) { setStarted(t('chooseFile')); return; }
    upload.mutate(file);
  };
  return (
    <section aria-labelledby="upload-h">
      <h2 id="upload-h">{t('uploadTitle')}</h2>
      <form className="feed-form" onSubmit={submit}>
        <div><label htmlFor="feed-file">{t('file')}</label><input id="feed-file" type="file" accept=".csv,.txt,.json,.jsonl,.ndjson" onChange={(e) => setFile(e.target.files?.[0] ?? null)} /></div>
        <div>
          <label htmlFor="feed-format">{t('format')}</label>
          <select id="feed-format" value={format} onChange={(e) => setFormat(e.target.value)}>
            {FORMATS.map((f) => <option key={f} value={f}>{f === 'auto' ? t('formatAuto') : f}</option>)}
          </select>
        </div>
        <div>
          <label htmlFor="feed-preset">{t('preset')}</label>
          <select id="feed-preset" value={preset} onChange={(e) => setPreset(e.target.value)}>
            <option value="">{t('presetAuto')}</option>
            {PRESETS.map((p) => <option key={p} value={p}>{p}</option>)}
          </select>
        </div>
        <div><label htmlFor="feed-source">{t('source')}</label><input id="feed-source" value={source} onChange={(e) => setSource(e.target.value)} placeholder="upload" /></div>
        <div>
          <label htmlFor="feed-tlp">{t('tlp')}</label>
          <select id="feed-tlp" value={tlp} onChange={(e) => setTlp(e.target.value)}>
            {TLPS.map((x) => <option key={x} value={x}>{x}</option>)}
          </select>
        </div>
        <div><button type="submit" disabled={upload.isPending}>{upload.isPending ? t('uploading') : t('upload')}</button></div>
      </form>
      <p role="status" aria-live="polite">{started}</p>
      {upload.error !== null && <ErrorBox error={upload.error} />}
    </section>
  );
}

function RunDetail({ id }: { id: string }) {
  const t = useT(feedsMessages);
  const { lang } = useLang();
  const qc = useQueryClient();
  const q = useQuery({
    queryKey: ['feed-runs', id], queryFn: async () => {
      const r = await get<Run>(`/api/v1/feed-runs/${encodeURIComponent(id)}`);
      if (!isActive(r.state)) void qc.invalidateQueries({ queryKey: ['feed-runs'], exact: true });
      return r;
    },
    // Progress: every second until the run is over.
    refetchInterval: (query) => (query.state.data === undefined || isActive(query.state.data.state) ? 1000 : false),
  });
  if (q.isPending) return <Loading />;
  if (q.error !== null) return <ErrorBox error={q.error} retry={() => void q.refetch()} />;
  const run = q.data, r = run.report;
  const elapsed = formatDuration(r.elapsed_ms, lang);
  const destinations: Destination[] = [...(r.domestic.records > 0 ? [r.domestic] : []), ...r.peers];
  return (
    <section aria-labelledby="run-h" className="run-detail" data-run={run.id} data-state={run.state}>
      <h2 id="run-h">{t('runTitle', { source: run.source })} · <RunState state={run.state} /></h2>
      {run.state === 'queued' || run.state === 'receiving' ? (
        <p role="status" className="muted">{run.state === 'queued' ? t('waitingLine') : t('receiving')}</p>
      ) : run.state === 'running' ? (
        <div role="status" aria-live="polite">
          <label htmlFor="run-progress">{t('progress')}</label>
          <progress id="run-progress" />
          <p>{t('progressLine', { lines: r.lines, records: r.records, rejected: r.rejected, duplicates: r.duplicates, elapsed })}</p>
        </div>
      ) : (
        <p className="run-totals">{t('totals', { records: r.records, rejected: r.rejected, duplicates: r.duplicates, unrouted: r.unrouted, bytes: r.bytes, lines: r.lines, elapsed })}</p>
      )}
      {run.error !== null && <p className="error" role="alert"><span aria-hidden="true">✖ </span>{t('error')}: {run.error}</p>}
      <h3>{t('whereTitle')}</h3>
      {destinations.length === 0 ? <p className="muted">{t('nothingRouted')}</p> : (
        <table className="where">
          <thead><tr><th scope="col">{t('party')}</th><th scope="col">{t('records')}</th><th scope="col">{t('distinct')}</th><th scope="col">{t('families')}</th><th scope="col">{t('objects')}</th><th scope="col">{t('messages')}</th></tr></thead>
          <tbody>
            {destinations.map((d) => (
              <tr key={d.party} data-party={d.party}>
                <th scope="row">{d.collection === undefined ? d.party : t('domestic', { party: d.party, collection: d.collection })}</th>
                <td>{d.records}</td><td>{d.distinct_ips}</td><td>{d.families.join(', ') || '—'}</td><td>{d.objects}</td><td>{d.messages.length}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {r.rejects.length > 0 && (
        <>
          <h3>{t('rejectsTitle')}</h3>
          {r.rejected > r.rejects.length && <p className="muted">{t('rejectsMore', { shown: r.rejects.length, total: r.rejected })}</p>}
          <table className="rejects">
            <thead><tr><th scope="col">{t('line')}</th><th scope="col">{t('reason')}</th></tr></thead>
            <tbody>{r.rejects.map((x, i) => <tr key={`${x.line}-${i}`}><th scope="row">{x.line}</th><td>{x.reason}</td></tr>)}</tbody>
          </table>
        </>
      )}
    </section>
  );
}
