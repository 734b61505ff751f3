/** The duty queue as the API gives it (GET /api/v1/queue), shared by the queue page and the shell's alerts. */
import { useQuery } from '@tanstack/react-query';
import { get } from '../../api';
import { useLang } from '../../i18n/i18n';

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

/** What the signed-in user must acknowledge, FLASH first then by due time (the API's order), summaries in the user's language. */
export function useQueue() {
  const { lang } = useLang();
  return useQuery({
    queryKey: [...QUEUE_KEY, lang],
    queryFn: async () => (await get<{ queue: QueueItem[] }>('/api/v1/queue', { lang, limit: QUEUE_LIMIT })).queue,
    staleTime: 30_000,
    // A safety net only: the node's events bring changes at once, and a reopened stream re-reads.
    refetchInterval: 60_000,
  });
}

/** FLASH and IMMEDIATE: the precedences that sound, notify and mark the tab. */
export function isUrgent(priority: string): boolean {
  return priority === 'flash' || priority === 'immediate';
}
