import { describe, expect, it } from 'vitest';
import { KINDS } from '../federation/federation.types.js';
import { CASE_STATES, MACHINES, nextState, opensCase, statesOf, type CaseState } from './cases.machine.js';

const OPEN: readonly CaseState[] = ['open', 'acknowledged', 'answered'];
const order = (s: CaseState): number => CASE_STATES.indexOf(s);

/** Walks a machine with the given kinds from open; the states visited. */
function walk(opening: string, kinds: readonly string[]): (CaseState | undefined)[] {
  let state: CaseState | undefined = 'open';
  return kinds.map((k) => (state = state === undefined ? undefined : nextState(opening, state, k)));
}

describe('case state machines (data)', () => {
  it('follow the design: inquiry-like open → acknowledged → answered → closed, notification without answer, ping without ack', () => {
    for (const k of ['inquiry', 'assistance', 'crisis-alert']) {
      expect(statesOf(k)).toEqual(['open', 'acknowledged', 'answered', 'closed']);
      expect(walk(k, ['ack', 'response', 'case-close'])).toEqual(['acknowledged', 'answered', 'closed']);
      expect(nextState(k, 'open', 'preservation-response')).toBeUndefined();
    }
    expect(statesOf('preservation-request')).toEqual(['open', 'acknowledged', 'answered', 'closed']);
    expect(walk('preservation-request', ['ack', 'preservation-response', 'case-close'])).toEqual(['acknowledged', 'answered', 'closed']);
    expect(nextState('preservation-request', 'acknowledged', 'response')).toBeUndefined();
    expect(statesOf('notification')).toEqual(['open', 'acknowledged', 'closed']);
    expect(walk('notification', ['ack', 'case-close'])).toEqual(['acknowledged', 'closed']);
    expect(nextState('notification', 'open', 'response')).toBeUndefined();
    expect(statesOf('ping')).toEqual(['open', 'answered', 'closed']);
    expect(walk('ping', ['pong', 'case-close'])).toEqual(['answered', 'closed']);
    expect(nextState('ping', 'open', 'ack')).toBeUndefined();
  });

  it('let a case be answered or closed without an acknowledgement, and never move backwards', () => {
    expect(walk('inquiry', ['response', 'ack', 'response'])).toEqual(['answered', 'answered', 'answered']);
    expect(nextState('inquiry', 'open', 'case-close')).toBe('closed');
    for (const [opening, machine] of Object.entries(MACHINES)) {
      for (const [from, moves] of Object.entries(machine ?? {})) {
        for (const to of Object.values(moves ?? {}) as CaseState[]) expect(order(to), `${opening}: ${from} → ${to}`).toBeGreaterThanOrEqual(order(from as CaseState));
      }
    }
  });

  it('take nothing once closed, and close from every other state', () => {
    for (const opening of Object.keys(MACHINES)) {
      for (const k of KINDS) expect(nextState(opening, 'closed', k)).toBeUndefined();
      for (const s of statesOf(opening).filter((x) => x !== 'closed')) expect(nextState(opening, s, 'case-close')).toBe('closed');
    }
  });

  it('allow the same kinds in every state but closed (so a message that crossed a close is judged without knowing the state before it)', () => {
    for (const opening of Object.keys(MACHINES)) {
      const states = OPEN.filter((s) => statesOf(opening).includes(s));
      const allowed = states.map((s) => KINDS.filter((k) => nextState(opening, s, k) !== undefined).join(','));
      expect(new Set(allowed).size, opening).toBe(1);
    }
  });

  it('let answers, acks and closes only join a case, never open one', () => {
    for (const k of ['ack', 'response', 'pong', 'preservation-response', 'case-close']) expect(opensCase(k)).toBe(false);
    for (const k of ['notification', 'inquiry', 'assistance', 'crisis-alert', 'preservation-request', 'ping', 'indicators', 'directory-update', 'key-change']) {
      expect(opensCase(k)).toBe(true);
    }
    expect(opensCase('constructor')).toBe(false);
    expect(nextState('inquiry', 'open', 'toString')).toBeUndefined();
  });
});
