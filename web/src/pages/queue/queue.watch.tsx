/**
 * Mounted by the shell on every page while signed in: keeps the queue fresh from the node's live
 * events (a message stored, an acknowledgement), sounds and notifies on a FLASH or IMMEDIATE
 * arrival, and marks the tab title while FLASH or IMMEDIATE messages wait for acknowledgement.
 */
import { useCallback, useEffect, useMemo } from 'react';
import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useEventsOpen, useNodeEvent, type AckEvent, type MessageEvent } from '../../events';
import { useT } from '../../i18n/i18n';
import { useRoute } from '../../router';
import { notify, tone } from './alerting';
import { isUrgent, QUEUE_KEY, useQueue } from './queue.api';
import { queueMessages } from './queue.messages';

const BASE_TITLE = 'Hotline';

/**
 * Re-reads the queue after an event without ever cancelling a read in flight: events that come
 * while one runs ask for one more read after it (a busy node answers in its own time; cancelling
 * and restarting on every event would starve the screen at a steady rate of arrivals).
 */
function makeRefresher(qc: QueryClient): () => void {
  let running = false, again = false;
  return () => {
    void qc.invalidateQueries({ queryKey: QUEUE_KEY, refetchType: 'none' });
    if (running) { again = true; return; }
    running = true;
    void (async () => {
      try {
        do {
          again = false;
          await qc.refetchQueries({ queryKey: QUEUE_KEY, type: 'active' }, { cancelRefetch: false });
        } while (again);
      } finally {
        running = false;
      }
    })();
  };
}

export function QueueWatch() {
  const qc = useQueryClient();
  const t = useT(queueMessages);
  const { navigate } = useRoute();
  const { data } = useQueue();
  const refresh = useMemo(() => makeRefresher(qc), [qc]);

  const onMessage = useCallback((e: MessageEvent) => {
    if (e.direction !== 'in') return;
    refresh();
    if (!isUrgent(e.priority)) return;
    tone(e.priority);
    notify(t('arrived', { p: t('priority', { p: e.priority }), from: e.peer, kind: e.kind }), e.channel, e.id, () => navigate(`/messages/${e.id}`));
  }, [refresh, t, navigate]);
  const onAck = useCallback((e: AckEvent) => {
    refresh();
    void qc.invalidateQueries({ queryKey: ['message', e.message_id] });
  }, [qc, refresh]);
  useNodeEvent('message', onMessage);
  useNodeEvent('ack', onAck);
  const onOpen = useCallback(() => refresh(), [refresh]);
  useEventsOpen(onOpen);

  const urgent = (data ?? []).filter((q) => isUrgent(q.priority));
  const top = urgent.some((q) => q.priority === 'flash') ? 'flash' : 'immediate';
  const title = urgent.length === 0 ? BASE_TITLE : t('tabTitle', { n: urgent.length, p: t('priority', { p: top }) });
  useEffect(() => { document.title = title; }, [title]);
  useEffect(() => () => { document.title = BASE_TITLE; }, []);
  return null;
}
