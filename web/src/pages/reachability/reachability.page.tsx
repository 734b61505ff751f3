/**
 * Reachability: per peer and channel, the ping tests this node sent (answer times over time as a
 * chart with its table, success rate, last success); send a ping; answer the pings waiting for
 * me. GET /api/v1/reachability, GET/POST /api/v1/pings, POST /api/v1/pings/:id/pong.
 */
import { lazy, Suspense, useCallback, useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { get, post } from '../../api';
import { useNodeEvent, type MessageEvent } from '../../events';
import { useLang, useT } from '../../i18n/i18n';
import { formatDuration, Instant } from '../../i18n/time';
import { useMe } from '../../session';
import { ErrorBox, Loading, PageTitle } from '../../ui/ui';
import type { PageProps } from '../registry';
import { reachabilityMessages } from './reachability.messages';
import type { ChartSeries } from './ping-chart';
import './reachability.css';

const PingChart = lazy(() => import('./ping-chart'));

interface Reach { peer: string; channel: string; sent: number; answered: number; median_ms: number | null; worst_ms: number | null; last_sent_at: string | null; last_success_at: string | null; last_officer: string | null }
interface Ping { id: string; direction: 'in' | 'out'; peer: string; channel: string; case: string; sent_at: string; answered_at: string | null; officer: string | null; answer_ms: number | null }
interface Peer { party: string; name: string; channels: string[] }

const PRIORITIES = ['routine', 'priority', 'immediate', 'flash'] as const;
const WINDOWS = { day: 86_400_000, week: 7 * 86_400_000, month: 30 * 86_400_000 } as const;
type WindowKey = keyof typeof WINDOWS;

/** An answer time: tenths of a second under a minute (loopback answers take less than one), else the duration. */
function answerTime(ms: number, lang: string): string {
  if (ms >= 60_000) return formatDuration(ms, lang as Parameters<typeof formatDuration>[1]);
  return new Intl.NumberFormat(lang, { style: 'unit', unit: 'second', unitDisplay: 'narrow', maximumFractionDigits: 1 }).format(ms / 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export default function ReachabilityPage(_props: PageProps) {
  const t = useT(reachabilityMessages);
  const qc = useQueryClient();
  // A ping or pong stored on this node changes what the page shows.
  const onMessage = useCallback((e: MessageEvent) => {
    if (e.kind === 'ping' || e.kind === 'pong') void qc.invalidateQueries({ queryKey: ['reachability'] });
  }, [qc]);
  useNodeEvent('message', onMessage);
  return (
    <>
      <PageTitle>{t('title')}</PageTitle>
      <Waiting />
      <SendPing />
      <Summary />
      <History />
    </>
  );
}

function Waiting() {
  const t = useT(reachabilityMessages);
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['reachability', 'waiting'], queryFn: () => get<{ pings: Ping[] }>('/api/v1/pings', { direction: 'in', pending: true, limit: 100 }), refetchInterval: 10_000 });
  const [done, setDone] = useState<string | null>(null);
  const pong = useMutation({
    mutationFn: (p: Ping) => post(`/api/v1/pings/${p.id}/pong`, {}),
    onSuccess: (_r, p) => { setDone(t('answered', { peer: p.peer })); void qc.invalidateQueries({ queryKey: ['reachability'] }); },
  });
  return (
    <section aria-labelledby="waiting-h">
      <h2 id="waiting-h">{t('waitingTitle')}</h2>
      <p role="status" aria-live="polite">{done}</p>
      {pong.error !== null && <ErrorBox error={pong.error} />}
      {q.isPending ? <Loading /> : q.error !== null ? <ErrorBox error={q.error} retry={() => void q.refetch()} /> : q.data.pings.length === 0 ? <p className="muted">{t('waitingNone')}</p> : (
        <table>
          <thead><tr><th scope="col">{t('peer')}</th><th scope="col">{t('channel')}</th><th scope="col">{t('received')}</th><th scope="col"><span className="visually-hidden">{t('answer')}</span></th></tr></thead>
          <tbody>
            {q.data.pings.map((p) => (
              <tr key={p.id}>
                <td>{p.peer}</td><td>{p.channel}</td><td><Instant at={p.sent_at} /></td>
                <td><button type="button" aria-label={t('answerPing', { peer: p.peer, channel: p.channel })} disabled={pong.isPending} onClick={() => pong.mutate(p)}>{t('answer')}</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function SendPing() {
  const t = useT(reachabilityMessages);
  const me = useMe();
  const qc = useQueryClient();
  const peers = useQuery({ queryKey: ['peers'], queryFn: () => get<{ peers: Peer[] }>('/api/v1/peers') });
  const choices = useMemo(() => (peers.data?.peers ?? []).flatMap((p) => p.channels.filter((c) => me.channels.includes(c)).map((c) => ({ peer: p.party, channel: c }))), [peers.data, me.channels]);
  const [target, setTarget] = useState('');
  const [priority, setPriority] = useState<string>('routine');
  const [text, setText] = useState('');
  const [sent, setSent] = useState<string | null>(null);
  const send = useMutation({
    mutationFn: (b: { to: string; channel: string; priority: string; text?: string }) => post<{ id: string }>('/api/v1/pings', b),
    onSuccess: (_r, b) => { setSent(t('sent', { peer: b.to, channel: b.channel })); setText(''); void qc.invalidateQueries({ queryKey: ['reachability'] }); },
  });
  const chosen = choices.find((c) => `${c.peer} ${c.channel}` === target) ?? choices[0];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (chosen === undefined) return;
    setSent(null);
    send.mutate({ to: chosen.peer, channel: chosen.channel, priority, ...(text.trim() === '' ? {} : { text }) });
  };
  return (
    <section aria-labelledby="send-h">
      <h2 id="send-h">{t('sendTitle')}</h2>
      {peers.isPending ? <Loading /> : peers.error !== null ? <ErrorBox error={peers.error} /> : choices.length === 0 ? <p className="muted">{t('noPeers')}</p> : (
        <form className="ping-form" onSubmit={submit}>
          <div>
            <label htmlFor="ping-target">{t('peer')} · {t('channel')}</label>
            <select id="ping-target" value={chosen === undefined ? '' : `${chosen.peer} ${chosen.channel}`} onChange={(e) => setTarget(e.target.value)}>
              {choices.map((c) => <option key={`${c.peer} ${c.channel}`} value={`${c.peer} ${c.channel}`}>{c.peer} · {c.channel}</option>)}
            </select>
          </div>
          <div>
            <label htmlFor="ping-priority">{t('priority')}</label>
            <select id="ping-priority" value={priority} onChange={(e) => setPriority(e.target.value)}>
              {PRIORITIES.map((p) => <option key={p} value={p}>{p}</option>)}
            </select>
          </div>
          <div className="grow">
            <label htmlFor="ping-text">{t('text')}</label>
            <input id="ping-text" value={text} onChange={(e) => setText(e.target.value)} />
          </div>
          <div><button type="submit" disabled={send.isPending}>{t('send')}</button></div>
        </form>
      )}
      <p role="status" aria-live="polite">{sent}</p>
      {send.error !== null && <ErrorBox error={send.error} />}
    </section>
  );
}

function Summary() {
  const t = useT(reachabilityMessages);
  const { lang } = useLang();
  const q = useQuery({ queryKey: ['reachability', 'summary'], queryFn: () => get<{ reachability: Reach[] }>('/api/v1/reachability'), refetchInterval: 10_000 });
  const dur = (ms: number | null) => (ms === null ? '—' : answerTime(ms, lang));
  return (
    <section aria-labelledby="summary-h">
      <h2 id="summary-h">{t('tableTitle')}</h2>
      {q.isPending ? <Loading /> : q.error !== null ? <ErrorBox error={q.error} retry={() => void q.refetch()} /> : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('peer')}</th><th scope="col">{t('channel')}</th><th scope="col">{t('pings')}</th><th scope="col">{t('answeredCount')}</th>
              <th scope="col">{t('rate')}</th><th scope="col">{t('median')}</th><th scope="col">{t('worst')}</th><th scope="col">{t('lastSuccess')}</th>
            </tr>
          </thead>
          <tbody>
            {q.data.reachability.map((r) => (
              <tr key={`${r.peer} ${r.channel}`} data-peer={r.peer} data-channel={r.channel}>
                <th scope="row">{r.peer}</th><td>{r.channel}</td><td>{r.sent}</td><td>{r.answered}</td>
                <td>{r.sent === 0 ? t('noPings') : t('rateValue', { rate: r.answered / r.sent })}</td>
                <td>{dur(r.median_ms)}</td><td>{dur(r.worst_ms)}</td>
                <td>{r.last_success_at === null ? t('never') : <><Instant at={r.last_success_at} />{r.last_officer !== null && <> {t('lastBy', { officer: r.last_officer })}</>}</>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function History() {
  const t = useT(reachabilityMessages);
  const { lang } = useLang();
  const [win, setWin] = useState<WindowKey>('week');
  // The window's start, fixed per choice (a query key that changed every render would refetch forever).
  const since = useMemo(() => new Date(Date.now() - WINDOWS[win]).toISOString().replace(/\.\d{3}Z$/, 'Z'), [win]);
  const q = useQuery({ queryKey: ['reachability', 'history', since], queryFn: () => get<{ pings: Ping[] }>('/api/v1/pings', { direction: 'out', since, limit: 1000 }), refetchInterval: 10_000 });
  const pings = q.data?.pings;
  const series = useMemo<ChartSeries[]>(() => {
    const by = new Map<string, [number, number][]>();
    for (const p of [...(pings ?? [])].reverse()) {
      if (p.answer_ms === null) continue;
      const key = `${p.peer} · ${p.channel}`;
      let s = by.get(key);
      if (s === undefined) { s = []; by.set(key, s); }
      s.push([Date.parse(p.sent_at) / 1000, p.answer_ms / 1000]);
    }
    return [...by.entries()].map(([label, points]) => ({ label, points }));
  }, [pings]);
  // The period's end: now, when the points were read (fixed between reads, so the chart is not redrawn on every render).
  const until = useMemo(() => Math.max(Date.now() / 1000, ...series.flatMap((x) => x.points.map((p) => p[0]))), [series]);
  const answered = (pings ?? []).filter((p) => p.answer_ms !== null).map((p) => p.answer_ms!);
  const summary = t('summary', {
    n: answered.length, unanswered: (pings?.length ?? 0) - answered.length,
    median: answered.length === 0 ? '—' : answerTime(median(answered), lang),
    worst: answered.length === 0 ? '—' : answerTime(Math.max(...answered), lang),
  });
  return (
    <section aria-labelledby="history-h">
      <h2 id="history-h">{t('chartTitle')}</h2>
      <label htmlFor="ping-window">{t('window')}</label>
      <select id="ping-window" value={win} onChange={(e) => setWin(e.target.value as WindowKey)}>
        {(Object.keys(WINDOWS) as WindowKey[]).map((w) => <option key={w} value={w}>{t(w)}</option>)}
      </select>
      {q.isPending ? <Loading /> : q.error !== null ? <ErrorBox error={q.error} retry={() => void q.refetch()} /> : (
        <figure className="ping-figure">
          {series.length > 0 && <Suspense fallback={<Loading />}><PingChart series={series} yLabel={t('yAxis')} from={Date.parse(since) / 1000} to={until} /></Suspense>}
          <figcaption id="ping-summary">{summary}</figcaption>
        </figure>
      )}
      {pings !== undefined && pings.length > 0 && (
        <details>
          <summary>{t('historyTitle')}</summary>
          <table>
            <thead><tr><th scope="col">{t('sentAt')}</th><th scope="col">{t('peer')}</th><th scope="col">{t('channel')}</th><th scope="col">{t('state')}</th><th scope="col">{t('answerTime')}</th><th scope="col">{t('officer')}</th></tr></thead>
            <tbody>
              {pings.map((p) => (
                <tr key={p.id}>
                  <td><Instant at={p.sent_at} /></td><td>{p.peer}</td><td>{p.channel}</td>
                  <td>{p.answer_ms === null ? <span>⏳ {t('unansweredState')}</span> : <span className="ok">✔ {t('answeredState')}</span>}</td>
                  <td>{p.answer_ms === null ? '—' : answerTime(p.answer_ms, lang)}</td><td>{p.officer ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </section>
  );
}
