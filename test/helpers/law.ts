import type { RunningNode } from '../../src/main.js';

/** The Art. 29(2) fields of a complete preservation request (a to f). */
export const ART29_FIELDS = {
  requesting_authority: 'U.S. Department of Justice, Computer Crime and Intellectual Property Section (24/7 point of contact)',
  offence: 'Unauthorised access to a computer system and extortion (18 U.S.C. 1030)',
  summary_of_facts: 'On 2026-01-10 a ransomware group encrypted the systems of a US hospital and demanded payment; the negotiation site was hosted in your jurisdiction.',
  data_to_preserve: 'Subscriber information, access logs and content of the virtual server at 203.0.113.77 from 2025-12-01 to date',
  relation_to_offence: 'The server hosted the negotiation site named in the ransom note and received the exfiltrated data.',
  custodian_or_location: 'Hosting provider "Example Hosting LLC", Moscow; server in its data centre at 203.0.113.0/24',
  necessity: 'The provider deletes logs after 30 days; the data will be lost before a mutual-assistance request can be executed.',
  mla_to_follow: true,
  mla_expected_by: '2026-03-01T00:00:00Z',
} as const;

/** The required fields of Art. 29(2), each of which a request must carry. */
export const ART29_REQUIRED = [
  'requesting_authority', 'offence', 'summary_of_facts', 'data_to_preserve', 'relation_to_offence', 'custodian_or_location', 'necessity', 'mla_to_follow',
] as const;

/** A preservation request us→ru, as `send` takes it. */
export function preservationRequest(fields: Record<string, unknown> = ART29_FIELDS): {
  to: string; channel: string; kind: string; priority: string; tlp: string; fields: Record<string, unknown>; text: string;
} {
  return { to: 'ru', channel: 'law', kind: 'preservation-request', priority: 'immediate', tlp: 'amber', fields: { ...fields }, text: 'Please preserve the data pending our MLA request.' };
}

/** What a node holds of the law channel's tracking, plus its messages and cases: compare two to prove nothing changed. */
export async function lawSnapshot(n: RunningNode): Promise<unknown> {
  const db = n.ctx.db;
  return {
    messages: await db.selectFrom('messages').select(['id', 'seq', 'kind']).orderBy('id').execute(),
    cases: await db.selectFrom('cases').selectAll().orderBy('id').execute(),
    preservations: await db.selectFrom('preservations').selectAll().orderBy('case_id').execute(),
  };
}
