/** The duty queue as the API gives it (GET /api/v1/queue), shared by the queue page and the shell's alerts. */
import { useQuery } from '@tanstack/react-query';
import { get, withQuery } from '../../api';
import { browserLanguage, LANGUAGES, useLang } from '../../i18n/i18n';

/** One line of GET /api/v1/queue (src/modules/deadlines/deadlines.queue.ts `QueueItem`). */
export interface QueueItem {
  id: string;
  priority: 'flash' | 'immediate' | 'priority' | 'routine';
  kind: string;
  from: string;
  channel: string;
  case: string;
  due_at: string;
  overdue: boolean;
  summary: string;
}

/** Most rows the queue shows (a desk with more unacknowledged messages than this has bigger problems; the count says so). */
export const QUEUE_LIMIT = 500;

/** Every language's copy of the queue is invalidated by this prefix. */
export const QUEUE_KEY = ['queue'] as const;

/**
 * The landing page's data, asked for as the script starts, beside the session's request rather
 * than after it (one round trip less before the queue is on screen). Used once, if the language
 * is the one the page then renders in; a refusal (signed out) falls back to the ordinary read.
 */
let early: { lang: string; queue: Promise<QueueItem[]> } | null = null;
if (typeof location !== 'undefined' && location.pathname === '/') {
  const saved = localStorage.getItem('hotline.lang');
  const lang = saved !== null && (LANGUAGES as readonly string[]).includes(saved) ? saved : browserLanguage();
  const queue = fetch(withQuery('/api/v1/queue', { lang, limit: QUEUE_LIMIT }), { credentials: 'same-origin', headers: { accept: 'application/json' } })
    .then(async (r) => { if (!r.ok) throw new Error(`HTTP ${r.status}`); return ((await r.json()) as { queue: QueueItem[] }).queue; });
  queue.catch(() => undefined);
  early = { lang, queue };
}

async function readQueue(lang: string): Promise<QueueItem[]> {
  const e = early;
  early = null;
  if (e !== null && e.lang === lang) {
    try { return await e.queue; } catch { /* signed out then: read again below */ }
  }
  return (await get<{ queue: QueueItem[] }>('/api/v1/queue', { lang, limit: QUEUE_LIMIT })).queue;
}

/** What the signed-in user must acknowledge, FLASH first then by due time (the API's order), summaries in the user's language. */
export function useQueue() {
  const { lang } = useLang();
  return useQuery({
    queryKey: [...QUEUE_KEY, lang],
    queryFn: () => readQueue(lang),
    staleTime: 30_000,
    // A safety net only: the node's events bring changes at once, and a reopened stream re-reads.
    refetchInterval: 60_000,
  });
}

/** FLASH and IMMEDIATE: the precedences that sound, notify and mark the tab. */
export function isUrgent(priority: string): boolean {
  return priority === 'flash' || priority === 'immediate';
}
