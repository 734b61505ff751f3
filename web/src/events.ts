/**
 * The node's live events (Server-Sent Events at GET /api/v1/events, the session's cookie; only
 * what the user may read). One EventSource per page; components subscribe with {@link useNodeEvent}.
 *
 * Events (the `event:` name, and its JSON `data`):
 *   message   { id, direction: 'in'|'out', kind, priority, channel, peer, case_id }   stored
 *   ack       { message_id, by, at }                                                    acknowledged
 *   delivery  { message_id, state: 'receipted'|'retrying'|'failed', ... }               outbound progress
 */
import { useEffect } from 'react';

export interface MessageEvent { id: string; direction: 'in' | 'out'; kind: string; priority: string; channel: string; peer: string; case_id: string | null }
export interface AckEvent { message_id: string; by: string; at: string }
export interface DeliveryEvent { message_id: string; state: string }
export interface NodeEvents { message: MessageEvent; ack: AckEvent; delivery: DeliveryEvent }
export type NodeEventName = keyof NodeEvents;

type Listener = (data: unknown) => void;
const listeners = new Map<string, Set<Listener>>();
let source: EventSource | null = null;
const openListeners = new Set<() => void>();

/** Opens the stream once signed in; closes it on sign-out. */
export function connectEvents(): void {
  if (source !== null) return;
  source = new EventSource('/api/v1/events', { withCredentials: true });
  // Opened, or reopened after a drop: what happened in between was not streamed, so listeners re-read.
  source.addEventListener('open', () => { for (const l of openListeners) l(); });
  for (const name of ['message', 'ack', 'delivery'] as const) {
    source.addEventListener(name, (e) => {
      let data: unknown;
      try { data = JSON.parse((e as globalThis.MessageEvent<string>).data); } catch { return; }
      for (const l of listeners.get(name) ?? []) l(data);
    });
  }
}

export function disconnectEvents(): void {
  source?.close();
  source = null;
}

/** Calls `f` for each event of that name while the component is mounted. */
export function useNodeEvent<N extends NodeEventName>(name: N, f: (data: NodeEvents[N]) => void): void {
  useEffect(() => {
    const l: Listener = (d) => f(d as NodeEvents[N]);
    let set = listeners.get(name);
    if (set === undefined) { set = new Set(); listeners.set(name, set); }
    set.add(l);
    return () => { set.delete(l); };
  }, [name, f]);
}

/** Calls `f` each time the stream (re)opens, while the component is mounted: the moment to re-read what events may have been missed. */
export function useEventsOpen(f: () => void): void {
  useEffect(() => {
    openListeners.add(f);
    return () => { openListeners.delete(f); };
  }, [f]);
}
