import { randomUUID } from 'node:crypto';
import { sha256Hex } from '../../shared/canonical.js';
import { fail } from '../../shared/errors.js';
import { enqueue, type Draft, type OutboxDeps } from '../federation/federation.outbox.js';
import { TLPS, type Attachment, type Envelope, type Tlp } from '../federation/federation.types.js';
import { checkRedRecipients } from '../messaging/messaging.visibility.js';
import { tlpOf } from '../stix/stix.tlp.js';
import { validateBundle, validateObject } from '../stix/stix.validate.js';
import type { StixObject } from '../stix/stix.types.js';
import { requireChannel } from '../users/users.access.js';
import type { Principal } from '../users/users.types.js';

/**
 * `indicators` messages: a STIX 2.1 bundle carried as the envelope's one attachment
 * (`bundle.json`, media type `application/stix+json`), so that it is signed, receipted, retried
 * and audited like any other message. docs/protocol.md section "Indicators".
 */
export const BUNDLE_MEDIA_TYPE = 'application/stix+json';
export const BUNDLE_NAME = 'bundle.json';

export interface SendIndicatorsInput {
  to: string;
  /** A STIX bundle (parsed JSON). */
  bundle: unknown;
  tlp?: string;
  priority?: string;
  text?: string;
  case?: string;
  /** TLP:RED: user names at the receiving node who may read it. */
  recipients?: readonly string[];
  /** Send the valid objects and report the others (else one bad object refuses the whole bundle). */
  skipInvalid?: boolean;
}

/** Bytes of bundle JSON per message: the attachment is base64 (4/3) inside an envelope limited to `maxEnvelopeBytes`. */
export function bundleBudget(maxEnvelopeBytes: number): number {
  return Math.floor((maxEnvelopeBytes - 16 * 1024) * 0.74);
}

/** An object of a bundle that cannot be sent: its place in the bundle, its id (when it has one) and why. */
export interface RefusedObject {
  index: number;
  id: string | null;
  reason: string;
}

/** The bundle's valid objects not marked above `tlp`, and the others with their reasons; `bundle_invalid` when it is not a bundle or is empty. */
export function sortObjects(bundle: unknown, tlp: Tlp): { objects: StixObject[]; refused: RefusedObject[]; total: number } {
  const b = validateBundle(bundle);
  if (!b.ok) fail('bundle_invalid', `Not a STIX 2.1 bundle: ${b.problems.map((p) => `${p.path === '' ? '' : `${p.path}: `}${p.message}`).join('; ')}`);
  if (b.objects.length === 0) fail('bundle_invalid', 'The bundle has no objects; there is nothing to send');
  const objects: StixObject[] = [];
  const refused: RefusedObject[] = [];
  b.objects.forEach((o, i) => {
    const v = validateObject(o);
    if (!v.ok) {
      refused.push({ index: i, id: v.id ?? null, reason: v.problems.map((p) => `${p.path === '' ? '' : `${p.path}: `}${p.message}`).join('; ') });
      return;
    }
    const own = tlpOf(v.object);
    if (own !== null && TLPS.indexOf(own) > TLPS.indexOf(tlp)) {
      refused.push({ index: i, id: v.object.id, reason: `marked TLP:${own.toUpperCase()}, more restrictive than the message's TLP:${tlp.toUpperCase()}; send it with --tlp ${own}` });
      return;
    }
    objects.push(v.object);
  });
  return { objects, refused, total: b.objects.length };
}

/** "objects[3] (indicator--…): reason" */
function describeRefused(r: RefusedObject): string {
  return `objects[${r.index}] (${r.id ?? 'no id'}): ${r.reason}`;
}

/** The bundle's objects, all valid (else `stix_invalid` naming the first problems), and none marked above `tlp`. */
export function checkedObjects(bundle: unknown, tlp: Tlp): StixObject[] {
  const { objects, refused, total } = sortObjects(bundle, tlp);
  if (refused.length > 0) {
    const bad = refused.map(describeRefused);
    fail('stix_invalid', `${bad.length} of ${total} objects cannot be sent: ${bad.slice(0, 5).join(' | ')}${bad.length > 5 ? ' | …' : ''}; --skip-invalid sends the others`, { problems: bad.slice(0, 100), refused: refused.slice(0, 100) });
  }
  return objects;
}

/** Splits objects into bundles whose JSON stays within `budget` bytes each (one object never splits). */
export function splitBundles(objects: readonly StixObject[], budget: number): string[] {
  const out: string[] = [];
  let parts: string[] = [];
  let size = 0;
  const flush = (): void => {
    if (parts.length === 0) return;
    out.push(`{"type":"bundle","id":"bundle--${randomUUID()}","objects":[${parts.join(',')}]}`);
    parts = [];
    size = 0;
  };
  for (const o of objects) {
    const text = JSON.stringify(o);
    const bytes = Buffer.byteLength(text);
    if (bytes + 100 > budget) fail('envelope_too_large', `${o.id} alone is ${bytes} bytes of JSON; one message carries at most ${budget}`);
    if (size + bytes + 1 + 100 > budget) flush();
    parts.push(text);
    size += bytes + 1;
  }
  flush();
  return out;
}

function attachment(bundle: string | Uint8Array): Attachment {
  const bytes = typeof bundle === 'string' ? Buffer.from(bundle, 'utf8') : Buffer.from(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  return { name: BUNDLE_NAME, media_type: BUNDLE_MEDIA_TYPE, size: bytes.length, sha256: sha256Hex(bytes), content: bytes.toString('base64') };
}

/** The draft of one `indicators` message carrying a bundle's JSON (text or UTF-8 bytes; section 5.12 of docs/protocol.md). */
export function indicatorsDraft(to: string, bundleText: string | Uint8Array, o: { tlp: Tlp; priority?: Envelope['priority']; body: Record<string, unknown>; case?: string }): Draft {
  return {
    to, kind: 'indicators', channel: 'cert', priority: o.priority ?? 'routine', tlp: o.tlp, body: o.body,
    attachments: [attachment(bundleText)], ...(o.case === undefined ? {} : { case: o.case }),
  };
}

/**
 * Validates a bundle and queues it to a peer as one or more `indicators` messages on the `cert`
 * channel (as many as the envelope limit needs, in one case). Returns the queued envelopes.
 */
export async function sendIndicators(deps: OutboxDeps, input: SendIndicatorsInput, as?: Principal): Promise<Envelope[]> {
  return (await sendIndicatorsReport(deps, input, as)).sent;
}

/**
 * As {@link sendIndicators}, and says which objects were left out: with `skipInvalid`, the
 * objects that are not valid STIX 2.1 or are marked above the messages' TLP are refused one by
 * one (index, id, reason) and the others sent; without it, any such object refuses the whole bundle.
 * `stix_invalid` when no object is left to send.
 */
export async function sendIndicatorsReport(deps: OutboxDeps, input: SendIndicatorsInput, as?: Principal): Promise<{ sent: Envelope[]; refused: RefusedObject[] }> {
  if (as !== undefined) requireChannel(as, 'cert');
  const tlp = (input.tlp ?? 'amber') as Tlp;
  if (!(TLPS as readonly string[]).includes(tlp)) fail('unknown_tlp', `Unknown TLP "${tlp}"; use one of: ${TLPS.join(', ')}`);
  if (input.recipients !== undefined && tlp !== 'red') fail('invalid_argument', 'Recipients restrict TLP:RED messages only');
  let objects: StixObject[];
  let refused: RefusedObject[] = [];
  if (input.skipInvalid === true) {
    const sorted = sortObjects(input.bundle, tlp);
    if (sorted.objects.length === 0) {
      fail('stix_invalid', `None of the ${sorted.total} objects can be sent: ${sorted.refused.slice(0, 5).map(describeRefused).join(' | ')}${sorted.refused.length > 5 ? ' | …' : ''}`, { refused: sorted.refused.slice(0, 100) });
    }
    objects = sorted.objects;
    refused = sorted.refused;
  } else {
    objects = checkedObjects(input.bundle, tlp);
  }
  const bundles = splitBundles(objects, bundleBudget(deps.limits.maxEnvelopeBytes));
  const out: Envelope[] = [];
  let caseId = input.case;
  for (const [i, text] of bundles.entries()) {
    const body: Record<string, unknown> = { stix: { objects: (JSON.parse(text) as { objects: unknown[] }).objects.length, part: i + 1, parts: bundles.length } };
    if (input.text !== undefined) body.text = input.text;
    if (as !== undefined) body.sender = as.user;
    if (input.recipients !== undefined) body.recipients = [...input.recipients];
    checkRedRecipients(tlp, body);
    const draft = indicatorsDraft(input.to, text, {
      tlp, body, priority: (input.priority ?? 'routine') as Envelope['priority'], ...(caseId === undefined ? {} : { case: caseId }),
    });
    const env = await enqueue(deps, as?.via === undefined ? draft : { ...draft, actor: as.via });
    caseId ??= env.case;
    out.push(env);
  }
  return { sent: out, refused };
}

/** The bundle an `indicators` envelope carries (parsed), or `bundle_invalid`. */
export function bundleOf(env: Envelope): unknown {
  const a = env.attachments ?? [];
  const b = a.find((x) => x.name === BUNDLE_NAME && x.media_type === BUNDLE_MEDIA_TYPE);
  if (a.length !== 1 || b === undefined) fail('bundle_invalid', `An indicators message carries exactly one attachment ${BUNDLE_NAME} of type ${BUNDLE_MEDIA_TYPE}`);
  try {
    return JSON.parse(Buffer.from(b.content, 'base64').toString('utf8')) as unknown;
  } catch {
    return fail('bundle_invalid', `The ${BUNDLE_NAME} of an indicators message is not JSON`);
  }
}
