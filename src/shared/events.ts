/**
 * The node's live events (issue 11: the console's Server-Sent Events at GET /api/v1/events): an
 * in-process bus, one per open node (context.ts). Modules STAGE events inside the transaction that
 * stores what they describe; the store publishes them when that transaction commits and drops them
 * when it rolls back (adapters/storage/sqlite.ts calls {@link EventBus.committed} / {@link EventBus.rolledBack}),
 * so a subscriber never hears of something that was not stored. With nobody subscribed, staging
 * returns at once: the federation hot path pays one property read per message.
 *
 * Each event carries the markings of the message it is about (`marked`), so that the HTTP adapter
 * can pass it through the same visibility rule as the API (messaging.visibility.ts canRead) before
 * sending it to a subscriber; `marked` itself is never sent.
 */

/** What the visibility rule needs about the message an event concerns (messaging.visibility.ts Marked). */
export interface EventMarking {
  direction: 'in' | 'out';
  channel: string;
  tlp: string;
  sender: string | null;
  recipients: readonly string[] | null;
}

/** `event: message`: a message was stored (received from a peer, or queued by this node). */
export interface MessageEventData {
  id: string;
  direction: 'in' | 'out';
  kind: string;
  priority: string;
  channel: string;
  /** The other party: the sender of an inbound message, the addressee of an outbound one. */
  peer: string;
  case_id: string | null;
}

/** `event: ack`: a person acknowledged a message (ours or the peer's). */
export interface AckEventData {
  message_id: string;
  /** The officer, as the acknowledgement names them. */
  by: string;
  at: string;
}

/** `event: delivery`: an outbound message's delivery moved on. */
export interface DeliveryEventData {
  message_id: string;
  state: 'receipted' | 'retrying';
}

export interface NodeEventMap {
  message: MessageEventData;
  ack: AckEventData;
  delivery: DeliveryEventData;
}

export type NodeEventName = keyof NodeEventMap;

export type NodeEvent = {
  [N in NodeEventName]: { name: N; data: NodeEventMap[N]; marked: EventMarking };
}[NodeEventName];

export type EventListener = (e: NodeEvent) => void;

export class EventBus {
  private readonly listeners = new Set<EventListener>();
  private pending: NodeEvent[] = [];

  /** Whether anybody listens: modules skip building events when nobody does. */
  get listening(): boolean {
    return this.listeners.size > 0;
  }

  /** Calls `f` with each published event until the returned function is called. */
  subscribe(f: EventListener): () => void {
    this.listeners.add(f);
    return () => { this.listeners.delete(f); };
  }

  /** Stages an event of the transaction in progress: published at its commit, dropped at its rollback. */
  stage(e: NodeEvent): void {
    if (this.listeners.size === 0) return;
    this.pending.push(e);
  }

  /** Publishes now (for a change whose transaction has already committed). */
  publish(e: NodeEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A subscriber's failure is its own (a closed stream): the others still get the event.
      }
    }
  }

  /** The store committed a transaction: publish what it staged. */
  committed(): void {
    if (this.pending.length === 0) return;
    const events = this.pending;
    this.pending = [];
    for (const e of events) this.publish(e);
  }

  /** The store rolled a transaction back: forget what it staged. */
  rolledBack(): void {
    this.pending = [];
  }

  /** Number of subscribers (for tests and metrics). */
  get size(): number {
    return this.listeners.size;
  }
}
