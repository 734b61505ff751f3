/**
 * Mounted by the shell on every page while signed in: keeps the queue fresh from the node's live
 * events (a message stored, an acknowledgement), sounds and notifies on a FLASH or IMMEDIATE
 * arrival, and marks the tab title while FLASH or IMMEDIATE messages wait for acknowledgement.
 */
import { useCallback, useEffect } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useEventsOpen, useNodeEvent, type AckEvent, type MessageEvent } from '../../events';
import { useT } from '../../i18n/i18n';
import { useRoute } from '../../router';
import { notify, tone } from './alerting';
import { isUrgent, QUEUE_KEY, useQueue } from './queue.api';
import { queueMessages } from './queue.messages';

const BASE_TITLE = 'Hotline';

export function QueueWatch() {
  const qc = useQueryClient();
  const t = useT(queueMessages);
  const { navigate } = useRoute();
  const { data } = useQueue();

  const onMessage = useCallback((e: MessageEvent) => {
    if (e.direction !== 'in') return;
    void qc.invalidateQueries({ queryKey: QUEUE_KEY });
    if (!isUrgent(e.priority)) return;
    tone(e.priority);
    notify(t('arrived', { p: t('priority', { p: e.priority }), from: e.peer, kind: e.kind }), e.channel, e.id, () => navigate(`/messages/${e.id}`));
  }, [qc, t, navigate]);
  const onAck = useCallback((e: AckEvent) => {
    void qc.invalidateQueries({ queryKey: QUEUE_KEY });
    void qc.invalidateQueries({ queryKey: ['message', e.message_id] });
  }, [qc]);
  useNodeEvent('message', onMessage);
  useNodeEvent('ack', onAck);
  const onOpen = useCallback(() => { void qc.invalidateQueries({ queryKey: QUEUE_KEY }); }, [qc]);
  useEventsOpen(onOpen);

  const urgent = (data ?? []).filter((q) => isUrgent(q.priority));
  const top = urgent.some((q) => q.priority === 'flash') ? 'flash' : 'immediate';
  const title = urgent.length === 0 ? BASE_TITLE : t('tabTitle', { n: urgent.length, p: t('priority', { p: top }) });
  useEffect(() => { document.title = title; }, [title]);
  useEffect(() => () => { document.title = BASE_TITLE; }, []);
  return null;
}
