/**
 * The landing page: what the signed-in officer must acknowledge, FLASH first then by due time
 * (the API's order), with a live countdown to each deadline. New messages come in without a
 * reload (QueueWatch, mounted by the shell, invalidates the query on the node's events).
 *
 * Keys (not while typing in a field): j / k move the selection (aria-selected, focus follows),
 * a acknowledges it, r replies, Enter opens it, / goes to the search box.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ApiError, post } from '../../api';
import { useLang, useT } from '../../i18n/i18n';
import { formatDuration, Instant, useNow } from '../../i18n/time';
import { Link, useRoute } from '../../router';
import { ErrorBox, Loading, PageTitle } from '../../ui/ui';
import type { PageProps } from '../registry';
import { askNotify, setSound, useAlerting } from './alerting';
import { QUEUE_KEY, useQueue, type QueueItem } from './queue.api';
import { queueMessages } from './queue.messages';
import { BellIcon, ClockIcon, WarningIcon } from './icons';
import './queue.css';

const PRIORITY_ICON: Record<string, string> = { flash: '⚡', immediate: '▲', priority: '●', routine: '○' };

/** A key press meant for a field (or with a modifier) is not a shortcut. */
function typing(e: KeyboardEvent): boolean {
  if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return true;
  const el = e.target as HTMLElement | null;
  if (el === null) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}

export default function QueuePage(_props: PageProps) {
  const t = useT(queueMessages);
  const { lang } = useLang();
  const { navigate } = useRoute();
  const qc = useQueryClient();
  const queue = useQueue();
  const now = useNow(1000);
  const items = queue.data ?? [];
  const [selected, setSelected] = useState<string | null>(null);
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const [search, setSearch] = useState('');
  const rows = useRef(new Map<string, HTMLTableRowElement>());
  const searchBox = useRef<HTMLInputElement>(null);
  const table = useRef<HTMLTableElement>(null);
  const lastIndex = useRef(0);
  const focusNext = useRef(false);

  // The selection survives refreshes; when its message leaves the queue, the one now in its place is selected.
  const index = selected === null ? -1 : items.findIndex((q) => q.id === selected);
  useEffect(() => {
    if (index >= 0) { lastIndex.current = index; return; }
    if (selected !== null) {
      const next = items[Math.min(lastIndex.current, items.length - 1)];
      setSelected(next?.id ?? null);
      // Focus follows only if it was on the queue (or lost with the removed row), never out of a field.
      const active = document.activeElement;
      focusNext.current = next !== undefined && (active === null || active === document.body || table.current?.contains(active) === true);
    }
  }, [index, selected, items]);
  useEffect(() => {
    if (!focusNext.current || selected === null) return;
    const row = rows.current.get(selected);
    if (row === undefined) return;
    focusNext.current = false;
    row.focus();
  }, [selected, index]);

  const ack = useMutation({
    mutationFn: (item: QueueItem) => post(`/api/v1/messages/${encodeURIComponent(item.id)}/ack`, {}),
    onSuccess: (_r, item) => setStatus({ ok: true, text: t('acked', { summary: item.summary }) }),
    onError: (e) => setStatus({ ok: false, text: t('ackFailed', { message: e instanceof ApiError ? `${e.message} (${e.code})` : String(e) }) }),
    onSettled: () => qc.invalidateQueries({ queryKey: QUEUE_KEY }),
  });

  const current = useRef({ items, index, ack, navigate });
  current.current = { items, index, ack, navigate };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (typing(e)) return;
      const { items: list, index: i, ack: mutation, navigate: go } = current.current;
      const item = i >= 0 ? list[i] : undefined;
      const move = (to: number) => {
        const next = list[Math.max(0, Math.min(list.length - 1, to))];
        if (next === undefined) return;
        e.preventDefault();
        focusNext.current = true;
        setSelected(next.id);
      };
      if (e.key === 'j') move(i < 0 ? 0 : i + 1);
      else if (e.key === 'k') move(i < 0 ? 0 : i - 1);
      else if (e.key === '/') { e.preventDefault(); searchBox.current?.focus(); }
      else if (item === undefined) return;
      else if (e.key === 'a') { e.preventDefault(); if (!mutation.isPending) mutation.mutate(item); }
      else if (e.key === 'r') { e.preventDefault(); go(`/compose?reply=${encodeURIComponent(item.id)}`); }
      else if (e.key === 'Enter') {
        const tag = (e.target as HTMLElement | null)?.tagName;
        if (tag === 'A' || tag === 'BUTTON') return;
        e.preventDefault();
        go(`/messages/${encodeURIComponent(item.id)}`);
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const submitSearch = (e: FormEvent) => {
    e.preventDefault();
    navigate(`/inbox?search=${encodeURIComponent(search.trim())}`);
  };

  return (
    <div className="queue">
      <PageTitle>{t('title')}</PageTitle>
      <AlertControls />
      <form className="queue-search" role="search" onSubmit={submitSearch}>
        <label htmlFor="queue-search">{t('search')}</label>
        <input id="queue-search" ref={searchBox} type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
        <button type="submit" className="secondary">{t('searchButton')}</button>
      </form>
      <p className="muted keys">
        {t('keys')} <span dir="ltr"><kbd>j</kbd>/<kbd>k</kbd></span> {t('keyMove')} · <kbd>a</kbd> {t('keyAck')} · <kbd>r</kbd> {t('keyReply')} · <kbd>Enter</kbd> {t('keyOpen')} · <kbd>/</kbd> {t('keySearch')}
      </p>
      <div role="status" aria-live="polite" className={status?.ok === false ? 'error' : 'ok'}>{status?.text ?? ''}</div>
      {queue.isPending ? <Loading /> : queue.isError ? <ErrorBox error={queue.error} retry={() => void queue.refetch()} /> : (
        <>
          <p className="queue-count">{t('count', { n: items.length })}</p>
          {items.length > 0 && (
            <table className="queue-table" ref={table}>
              <caption className="visually-hidden">{t('caption')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('priorityCol')}</th>
                  <th scope="col">{t('dueCol')}</th>
                  <th scope="col">{t('fromCol')}</th>
                  <th scope="col">{t('messageCol')}</th>
                  <th scope="col">{t('channelCol')}</th>
                  <th scope="col">{t('actionsCol')}</th>
                </tr>
              </thead>
              <tbody>
                {items.map((q) => {
                  const due = Date.parse(q.due_at);
                  const overdue = q.overdue || now >= due;
                  const isSel = q.id === selected;
                  return (
                    <tr key={q.id} data-id={q.id} data-priority={q.priority} aria-selected={isSel} tabIndex={isSel ? 0 : -1}
                      className={overdue ? 'is-overdue' : undefined}
                      ref={(el) => { if (el === null) rows.current.delete(q.id); else rows.current.set(q.id, el); }}
                      onClick={() => setSelected(q.id)}>
                      <td className={`prio prio-${q.priority}`}><span aria-hidden="true">{PRIORITY_ICON[q.priority] ?? ''} </span>{t('priority', { p: q.priority })}</td>
                      <td className={overdue ? 'overdue countdown' : 'countdown'}>
                        {overdue
                          ? <><WarningIcon /> {t('overdue', { d: formatDuration(now - due, lang) })}</>
                          : <><ClockIcon /> {t('dueIn', { d: formatDuration(due - now, lang) })}</>}
                        <br /><small className="muted"><Instant at={q.due_at} /></small>
                      </td>
                      <td>{q.from}</td>
                      <td><Link to={`/messages/${encodeURIComponent(q.id)}`}>{q.summary}</Link></td>
                      <td>{q.channel}</td>
                      <td className="actions">
                        <button type="button" onClick={() => ack.mutate(q)} disabled={ack.isPending && ack.variables?.id === q.id}>{t('acknowledge')}</button>
                        <button type="button" className="secondary" onClick={() => navigate(`/compose?reply=${encodeURIComponent(q.id)}`)}>{t('reply')}</button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </>
      )}
    </div>
  );
}

/** The sound toggle (its click is the gesture browsers require) and the notification permission. */
function AlertControls() {
  const t = useT(queueMessages);
  const a = useAlerting();
  return (
    <div className="alert-controls">
      <button type="button" className="secondary" aria-pressed={a.sound} onClick={() => setSound(!a.sound)}>
        <BellIcon off={!a.sound} /> {t('sound')}
      </button>
      <span className="muted">{a.sound ? t('soundOn') : t('soundOff')}</span>
      {a.soundHeld && <span className="muted">{t('soundHeld')}</span>}
      {a.notify === 'default' && <button type="button" className="secondary" onClick={() => void askNotify()}>{t('notifyAsk')}</button>}
      {a.notify === 'granted' && <span className="muted">{t('notifyOn')}</span>}
      {a.notify === 'denied' && <span className="muted">{t('notifyDenied')}</span>}
      {a.notify === 'unsupported' && <span className="muted">{t('notifyNone')}</span>}
    </div>
  );
}
