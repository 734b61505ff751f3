import { fail } from '../../shared/errors.js';
import type { Envelope } from '../federation/federation.types.js';
import { holdsChannel } from '../users/users.access.js';
import { USER_NAME, type Principal } from '../users/users.types.js';
import type { MessageView } from './messaging.service.js';

/**
 * Who may read what. The channel wall: a principal sees only messages on the channels it holds
 * (`law` is never visible to a `cert` or `crisis` principal, nor the other way round). TLP:RED:
 * a red message names its recipients (`body.recipients`, user names at the receiving node) and
 * records who wrote it (`body.sender`); its body is shown only to those named recipients (on
 * the receiving node) and to its sender (on the sending node). Everyone else who holds the
 * channel sees it listed with its metadata and the body redacted. docs/protocol.md section 5.6.
 */

/** What the visibility rule needs to know about a message. */
export interface Marked {
  direction: 'in' | 'out';
  channel: string;
  tlp: string;
  sender: string | null;
  recipients: readonly string[] | null;
}

/** The markings of a stored message (a `messages` row, or the like) with its body: what {@link canRead} decides on. */
export function markedOf(m: { direction: 'in' | 'out'; channel: string; tlp: string }, body: Record<string, unknown>): Marked {
  return { direction: m.direction, channel: m.channel, tlp: m.tlp, sender: senderOf(body), recipients: recipientsOf(body) };
}

/** Most recipients a TLP:RED message may name. */
export const MAX_RECIPIENTS = 64;

/**
 * THE rule: may `p` read this message's body (text, fields, attachments)? A TLP:RED body: only its
 * named recipients (inbound) and its writer (outbound), whatever the role; the node administrator
 * is no exception. Every view that returns or exports a body asks this: messages, inbox, outbox,
 * cases, transcripts (REST and CLI), preservations.
 */
export function canRead(p: Principal, m: Marked): boolean {
  if (!holdsChannel(p, m.channel)) return false;
  if (m.tlp !== 'red') return true;
  return m.direction === 'out' ? m.sender !== null && m.sender === p.user : (m.recipients ?? []).includes(p.user);
}

/** `body.recipients` when it is a list of strings, else null. */
export function recipientsOf(body: Record<string, unknown>): string[] | null {
  const r = body.recipients;
  return Array.isArray(r) && r.every((x) => typeof x === 'string') ? (r as string[]) : null;
}

/** `body.sender` when it is a string, else null. */
export function senderOf(body: Record<string, unknown>): string | null {
  return typeof body.sender === 'string' ? body.sender : null;
}

/**
 * Refuses a TLP:RED body that does not name its recipients (`tlp_red_needs_recipients`): a
 * non-empty list of distinct user names, at most {@link MAX_RECIPIENTS}. Other markings pass.
 */
export function checkRedRecipients(tlp: string, body: Record<string, unknown>): void {
  if (tlp !== 'red') return;
  const r = body.recipients;
  const needs = (why: string): never => fail('tlp_red_needs_recipients', `A TLP:RED message must name its recipients at the receiving node (body.recipients, e.g. --recipients alice,bob): ${why}`);
  if (r === undefined || (Array.isArray(r) && r.length === 0)) needs('none are named');
  if (!Array.isArray(r)) return needs('body.recipients is not a list');
  if (r.length > MAX_RECIPIENTS) needs(`${r.length} are named; at most ${MAX_RECIPIENTS}`);
  for (const x of r) if (typeof x !== 'string' || !USER_NAME.test(x)) needs(`${JSON.stringify(x)} is not a user name`);
  if (new Set(r).size !== r.length) needs('a name appears twice');
}

/** The line shown in place of a red body to those who may not read it. */
export function redactionNotice(m: Marked, peer: string): string {
  if (m.direction === 'out') {
    const to = m.recipients === null ? '' : ` (and, at ${peer}, to ${m.recipients.join(', ')})`;
    return `TLP:RED — visible only to its sender${m.sender === null ? '' : ` ${m.sender}`}${to}`;
  }
  return `TLP:RED — visible only to ${(m.recipients ?? []).join(', ') || 'its named recipients'}`;
}

/**
 * The members of a MessageView that say nothing about the body. A redacted view keeps only these
 * (a member added to MessageView later is dropped from redacted views until it is listed here).
 */
const METADATA: readonly (keyof MessageView)[] = [
  'id', 'direction', 'from', 'to', 'seq', 'kind', 'channel', 'priority', 'tlp', 'case', 'in_reply_to', 'sent_at',
  'stored_at', 'state', 'attempts', 'next_attempt_at', 'last_error', 'receipt', 'receipted_at', 'sender', 'recipients',
  'acknowledged',
];

/**
 * The view `p` may see: the message itself; or, for a TLP:RED message `p` may not read, its
 * metadata with `text: null` and a `redacted` notice; or undefined when `p` does not hold the
 * message's channel (callers drop it from lists, and answer `not_found` for a single message).
 */
export function readableView(p: Principal, v: MessageView): MessageView | undefined {
  if (!holdsChannel(p, v.channel)) return undefined;
  if (canRead(p, v)) return v;
  const out: Record<string, unknown> = {};
  for (const k of METADATA) if (k in v) out[k] = v[k];
  return { ...(out as unknown as MessageView), text: null, redacted: redactionNotice(v, v.direction === 'out' ? v.to : v.from) };
}

/** The envelope `p` may see: itself, or with its body replaced by the notice and no attachments. */
export function readableEnvelope(p: Principal, v: MessageView, env: Envelope): Envelope {
  if (canRead(p, v)) return env;
  const { attachments: _attachments, ...rest } = env;
  const body: Record<string, unknown> = { redacted: redactionNotice(v, v.direction === 'out' ? v.to : v.from) };
  if (v.sender !== null) body.sender = v.sender;
  if (v.recipients !== null) body.recipients = v.recipients;
  return { ...rest, body };
}
