/**
 * The node's live events (issue 11: the console's Server-Sent Events at GET /api/v1/events): an
 * in-process bus, one per open node (context.ts). Modules STAGE events inside the transaction that
 * stores what they describe; the store publishes them when that transaction commits and drops them
 * when it rolls back (adapters/storage/sqlite.ts calls {@link EventBus.committed} / {@link EventBus.rolledBack}),
 * so a subscriber never hears of something that was not stored. With nobody subscribed, staging
 * returns at once: the federation hot path pays one property read per message.
 *
 * On PostgreSQL several processes of one node share the store (issue 13), and a console connected to
 * one must hear what another stored. There the bus is {@link EventBus.share}d: staging adds the event
 * to the notices of the transaction it is staged in ({@link stageNoticesOf}), which the store sends
 * with `pg_notify` inside that same transaction (NOTIFY is transactional: delivered at the commit,
 * never after a rollback; a transaction run again after a conflict stages afresh). Every running
 * process LISTENs (adapters/storage/notices.ts) and hands what it hears to {@link EventBus.deliver}:
 * its own events come back the same way. A shared bus always counts as listened to, since a
 * subscriber may be in another process.
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

/** The notices (JSON texts) staged in each transaction in progress on a PostgreSQL store, by its transaction object. */
const noticesOf = new WeakMap<object, string[]>();

/**
 * Where the events staged in `trx` go: the PostgreSQL store gives each run of a transaction's body
 * a list of its own and sends it with pg_notify before the commit (adapters/storage/postgres.ts).
 * Keyed by the transaction object, which the storing code hands to the hooks as it got it, not by
 * an AsyncLocalStorage: that would turn on Node's promise hooks, a cost on every promise of the process.
 */
export function stageNoticesOf(trx: object, notices: string[]): void {
  noticesOf.set(trx, notices);
}

/** What travels in one notice: an event for the consoles, or a wake-up for the background work. */
export type Notice = { event: NodeEvent } | { wake: 'delivery' | 'deadlines'; to?: string };

/** Most bytes of one notice's payload (PostgreSQL refuses 8000 and more). */
export const MAX_NOTICE_BYTES = 7900;

/** A notice as its payload; an event too large for one becomes the wake-up it implies (no console sees it). */
export function noticeText(n: Notice): string {
  const text = JSON.stringify(n);
  if (Buffer.byteLength(text, 'utf8') <= MAX_NOTICE_BYTES || !('event' in n)) return text;
  return JSON.stringify(wakeOf(n.event) ?? { wake: 'delivery' });
}

/** The background work an event implies in every process: an outbound message to deliver, an inbound one whose deadline may be due. */
export function wakeOf(e: NodeEvent): Notice | undefined {
  if (e.name !== 'message') return undefined;
  if (e.data.direction !== 'out') return { wake: 'deadlines' };
  return typeof e.data.peer === 'string' ? { wake: 'delivery', to: e.data.peer } : { wake: 'delivery' };
}

export class EventBus {
  private readonly listeners = new Set<EventListener>();
  private pending: NodeEvent[] = [];
  /** Set on a shared (PostgreSQL) store: sends notices after a commit (pg_notify outside a transaction). */
  private send: ((notices: string[]) => Promise<void>) | undefined;
  private onSendError: (e: unknown) => void = () => {};
  /** Notices published this turn of the event loop, sent together ({@link publish}). */
  private outgoing: string[] = [];

  /**
   * Shares the bus between the processes of a node on PostgreSQL: staged events travel as notices of
   * their transaction; {@link publish} sends one with `send`; what is heard comes back through {@link deliver}.
   */
  share(send: (notices: string[]) => Promise<void>, onError: (e: unknown) => void = () => {}): void {
    this.send = send;
    this.onSendError = onError;
  }

  get shared(): boolean {
    return this.send !== undefined;
  }

  /** Whether anybody listens: modules skip building events when nobody does (a shared bus: somebody may, in another process). */
  get listening(): boolean {
    return this.send !== undefined || this.listeners.size > 0;
  }

  /** Calls `f` with each published event until the returned function is called. */
  subscribe(f: EventListener): () => void {
    this.listeners.add(f);
    return () => { this.listeners.delete(f); };
  }

  /** Stages an event of the transaction `trx`, in progress: published at its commit, dropped at its rollback. */
  stage(trx: object, e: NodeEvent): void {
    if (this.send !== undefined) {
      const notices = noticesOf.get(trx);
      // Not a transaction the store began (none does that today): sent at once, as a change already made.
      if (notices !== undefined) notices.push(noticeText({ event: e }));
      else this.publish(e);
      return;
    }
    if (this.listeners.size === 0) return;
    this.pending.push(e);
  }

  /**
   * Publishes now (for a change whose transaction has already committed); a shared bus sends it to
   * every process, with the others published in the same turn of the event loop in one statement
   * (a batch of receipts publishes an event per message: one pg_notify each cost a round trip each).
   */
  publish(e: NodeEvent): void {
    if (this.send === undefined) {
      this.deliver(e);
      return;
    }
    this.outgoing.push(noticeText({ event: e }));
    if (this.outgoing.length > 1) return;
    setImmediate(() => {
      const notices = this.outgoing;
      this.outgoing = [];
      this.send!(notices).catch(this.onSendError);
    });
  }

  /** Hands an event to this process's subscribers (a shared bus: what its LISTEN connection heard). */
  deliver(e: NodeEvent): void {
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
