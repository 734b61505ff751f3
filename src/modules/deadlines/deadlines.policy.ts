import type { Kysely } from 'kysely';
import type { Clock } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import { KINDS } from '../federation/federation.types.js';
import { templateCatalog } from '../templates/templates.service.js';
import { ACK_POLICIES, type AckPolicy, type TemplateCatalog } from '../templates/templates.types.js';
import type { DeadlinesTables } from './deadlines.tables.js';

/**
 * Which messages wait for a person. The policy is data beside the templates
 * (templates/ack-policy.json, loaded and checked with the catalog): per kind, `person` (an
 * acknowledgement deadline, escalation through the rota, an overdue alert on the sender, a line
 * in the duty officer's queue) or `none` (machine traffic: indicators, directory updates, acks,
 * pongs, case-close, ...; nothing is ever due and nobody is paged). A pair of peers may agree
 * otherwise per kind: each side records it on its own node (`hotline peer ack-policy`,
 * PUT /api/v1/peers/:party/ack-policy), as it does the deadlines, and it applies to messages
 * stored from then on, in both directions.
 */

/** The policy of a kind, with the overrides agreed with the peer (none: the file's). */
export function ackPolicyOf(kind: string, agreed: ReadonlyMap<string, AckPolicy> = new Map(), catalog: TemplateCatalog = templateCatalog()): AckPolicy {
  return agreed.get(kind) ?? catalog.ackPolicy.get(kind) ?? 'person';
}

/** True when a message of this kind waits for a person's `ack` (and may page one). */
export function needsAck(kind: string, agreed?: ReadonlyMap<string, AckPolicy>): boolean {
  return ackPolicyOf(kind, agreed) === 'person';
}

/** One kind's policy as `hotline peer ack-policy` shows it: whether it is the file's or agreed with the peer. */
export interface KindPolicy {
  kind: string;
  policy: AckPolicy;
  source: 'default' | 'agreed';
}

/** The overrides agreed with a peer (none recorded: an empty map). */
export async function agreedPolicy(db: Kysely<DeadlinesTables>, party: string): Promise<Map<string, AckPolicy>> {
  const rows = await db.selectFrom('ack_policy_overrides').select(['kind', 'policy']).where('peer', '=', party).execute();
  return new Map(rows.map((r) => [r.kind, r.policy as AckPolicy]));
}

/** Every kind's policy with a peer. */
export async function peerAckPolicy(db: Kysely<DeadlinesTables>, party: string): Promise<KindPolicy[]> {
  const agreed = await agreedPolicy(db, party);
  return KINDS.map((kind) => ({ kind, policy: ackPolicyOf(kind, agreed), source: agreed.has(kind) ? 'agreed' as const : 'default' as const }));
}

/** What to change: per kind, `person`, `none`, or `default` (drop the override: the file's policy again). */
export type PolicyChange = Readonly<Record<string, string>>;

/**
 * Records what was agreed with a peer per kind; `default` drops an override. Refused
 * (`invalid_argument`, nothing changed) for an unknown kind or policy, or when nothing is given.
 * The caller checks the peer is pinned (`unknown_peer`).
 */
export async function setPeerAckPolicy(deps: { db: Kysely<DeadlinesTables>; clock: Clock }, party: string, change: PolicyChange): Promise<KindPolicy[]> {
  const entries = Object.entries(change);
  if (entries.length === 0) fail('invalid_argument', 'Say which kinds wait for a person and which do not, e.g. --person indicators or --none response (--default KIND drops what was agreed)');
  for (const [kind, policy] of entries) {
    if (!(KINDS as readonly string[]).includes(kind)) fail('unknown_kind', `Unknown kind "${kind}"; use one of: ${KINDS.join(', ')}`);
    if (policy !== 'default' && !(ACK_POLICIES as readonly string[]).includes(policy)) fail('invalid_argument', `"${policy}" is not a policy; use ${ACK_POLICIES.join(', ')} or default`);
  }
  const now = deps.clock.now();
  await deps.db.transaction().execute(async (trx) => {
    for (const [kind, policy] of entries) {
      if (policy === 'default') {
        await trx.deleteFrom('ack_policy_overrides').where('peer', '=', party).where('kind', '=', kind).execute();
      } else {
        await trx.insertInto('ack_policy_overrides').values({ peer: party, kind, policy, updated_at: now })
          .onConflict((oc) => oc.columns(['peer', 'kind']).doUpdateSet({ policy, updated_at: now })).execute();
      }
    }
  });
  return peerAckPolicy(deps.db, party);
}
