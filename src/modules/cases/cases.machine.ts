import type { Kind } from '../federation/federation.types.js';

/**
 * The state machines of cases, as data. A case's machine is chosen by the kind of the message
 * that opened it; each message that joins the case is allowed only if its kind has a move from
 * the case's current state, and moves the case to that move's state:
 *
 *     inquiry, assistance, crisis-alert:  open → acknowledged → answered → closed   (answered by `response`)
 *     preservation-request:               open → acknowledged → answered → closed   (answered by `preservation-response`;
 *                                         a further preservation-request, an extension, is a follow-up)
 *     notification, indicators,
 *     directory-update, key-change:       open → acknowledged → closed
 *     ping:                               open → answered → closed                   (answered by `pong`)
 *
 * `ack` moves to acknowledged, the answering kind to answered, `case-close` to closed; a case may
 * be answered or closed without an acknowledgement first. Nothing moves a case backwards: an
 * `ack` after the answer, or a second answer, leaves it where it is. Follow-ups (a further
 * notification, inquiry, assistance request, crisis alert or indicators in the same case) are
 * allowed in every state but closed and move nothing. A closed case takes nothing more.
 */

export const CASE_STATES = ['open', 'acknowledged', 'answered', 'closed'] as const;

/** Where a case is in its machine. */
export type CaseState = (typeof CASE_STATES)[number];

/** From one state: the kinds allowed, each with the state it leads to. */
export type Moves = Readonly<Partial<Record<Kind, CaseState>>>;

/** A machine: the moves from each state it has (a state with no entry takes no message). */
export type Machine = Readonly<Partial<Record<CaseState, Moves>>>;

/** Kinds that may join an open case without moving it. */
export const FOLLOW_UPS: readonly Kind[] = ['notification', 'inquiry', 'assistance', 'crisis-alert', 'indicators'];

function moves(to: CaseState, kinds: readonly Kind[]): Moves {
  return Object.fromEntries(kinds.map((k) => [k, to]));
}

/** A request that a person acknowledges and then answers with one of `answers`; `more` are further follow-ups of this machine. */
function request(answers: readonly Kind[], more: readonly Kind[] = []): Machine {
  const close: Moves = { 'case-close': 'closed' };
  const follow = [...FOLLOW_UPS, ...more];
  return {
    open: { ...moves('open', follow), ack: 'acknowledged', ...moves('answered', answers), ...close },
    acknowledged: { ...moves('acknowledged', follow), ack: 'acknowledged', ...moves('answered', answers), ...close },
    answered: { ...moves('answered', follow), ack: 'answered', ...moves('answered', answers), ...close },
  };
}

/** Information that a person acknowledges; nothing answers it. */
const NOTICE: Machine = {
  open: { ...moves('open', FOLLOW_UPS), ack: 'acknowledged', 'case-close': 'closed' },
  acknowledged: { ...moves('acknowledged', FOLLOW_UPS), ack: 'acknowledged', 'case-close': 'closed' },
};

/** A reachability test: a person answers it with a pong (itself the human acknowledgement). */
const PING: Machine = {
  open: { ...moves('open', FOLLOW_UPS), pong: 'answered', 'case-close': 'closed' },
  answered: { ...moves('answered', FOLLOW_UPS), pong: 'answered', 'case-close': 'closed' },
};

/** The machine of each kind that may open a case. The other kinds (answers, acks, closes) only join one. */
export const MACHINES: Readonly<Partial<Record<Kind, Machine>>> = {
  inquiry: request(['response']),
  assistance: request(['response']),
  'crisis-alert': request(['response']),
  // An extension of a preservation is a further preservation-request in its case (modules/law checks it).
  'preservation-request': request(['preservation-response'], ['preservation-request']),
  notification: NOTICE,
  indicators: NOTICE,
  'directory-update': NOTICE,
  'key-change': NOTICE,
  ping: PING,
};

/** True when a message of this kind may open a case. */
export function opensCase(kind: string): boolean {
  return Object.hasOwn(MACHINES, kind);
}

/**
 * The state a case opened by `opening` moves to when a message of `kind` joins it in `state`;
 * undefined when the machine does not allow it.
 */
export function nextState(opening: string, state: CaseState, kind: string): CaseState | undefined {
  const machine = (MACHINES as Readonly<Record<string, Machine | undefined>>)[opening];
  const from = machine?.[state] as Readonly<Record<string, CaseState | undefined>> | undefined;
  return from !== undefined && Object.hasOwn(from, kind) ? from[kind] : undefined;
}

/** The states of a case opened by `opening`, in order (what `hotline case show` draws). */
export function statesOf(opening: string): CaseState[] {
  const machine = (MACHINES as Readonly<Record<string, Machine | undefined>>)[opening] ?? {};
  return CASE_STATES.filter((s) => s === 'closed' || machine[s] !== undefined);
}

/** The kinds allowed in a case opened by `opening` while it is `state` (for error messages). */
export function allowedKinds(opening: string, state: CaseState): string[] {
  const machine = (MACHINES as Readonly<Record<string, Machine | undefined>>)[opening];
  return Object.keys(machine?.[state] ?? {});
}

/** One step a case may take next: a message of `kind` moves it to `to` (the same state for a follow-up). */
export interface NextStep {
  kind: string;
  to: CaseState;
}

/** The steps the machine allows from `state`, in the machine's order (none once closed). */
export function nextSteps(opening: string, state: CaseState): NextStep[] {
  const machine = (MACHINES as Readonly<Record<string, Machine | undefined>>)[opening];
  const from = (machine?.[state] ?? {}) as Readonly<Record<string, CaseState>>;
  return Object.entries(from).map(([kind, to]) => ({ kind, to }));
}
