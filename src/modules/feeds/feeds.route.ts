import type { Kysely } from 'kysely';
import type { Clock } from '../../shared/clock.js';
import { fail } from '../../shared/errors.js';
import { PARTY_ID } from '../federation/federation.types.js';
import { checkCidr, formatCidr } from '../../shared/ip.js';
import { PrefixTable } from './feeds.ranges.js';
import type { FeedsTables } from './feeds.tables.js';
import type { FeedRecord } from './feeds.types.js';

/** The addresses a party is responsible for. */
export interface Jurisdiction {
  party: string;
  countries: string[];
  asns: number[];
  prefixes: string[];
}

const COUNTRY = /^[A-Z]{2}$/;

/** Checks and normalises a jurisdiction given by a person (upper-case countries, canonical prefixes). */
export function checkJurisdiction(j: { party: string; countries?: readonly string[]; asns?: readonly (number | string)[]; prefixes?: readonly string[] }): Jurisdiction {
  if (!PARTY_ID.test(j.party)) fail('invalid_argument', `"${j.party}" is not a party id`);
  const countries = [...new Set((j.countries ?? []).map((c) => c.trim().toUpperCase()).filter((c) => c !== ''))];
  for (const c of countries) if (!COUNTRY.test(c)) fail('invalid_argument', `"${c}" is not an ISO 3166-1 alpha-2 country code (e.g. RU, US)`);
  const asns = [...new Set((j.asns ?? []).map((a) => String(a).trim().replace(/^AS/i, '')).filter((a) => a !== '').map((a) => {
    const n = Number(a);
    if (!/^\d{1,10}$/.test(a) || n > 4294967295) fail('invalid_argument', `"${a}" is not an AS number (1 to 4294967295, e.g. 12389 or AS12389)`);
    return n;
  }))];
  const prefixes = [...new Set((j.prefixes ?? []).map((p) => p.trim()).filter((p) => p !== '').map((p) => formatCidr(checkCidr(p, 'prefix'))))];
  return { party: j.party, countries, asns, prefixes };
}

/** The jurisdictions this node routes by: its own (its party) and its peers'. */
export class Jurisdictions {
  constructor(private readonly deps: { db: Kysely<FeedsTables>; clock: Clock }) {}

  /** Replaces a party's jurisdiction. `known` are the parties it may be set for (this node and its pinned peers). */
  async set(j: Jurisdiction, known: readonly string[]): Promise<Jurisdiction> {
    if (!known.includes(j.party)) fail('unknown_peer', `"${j.party}" is neither this node nor a pinned peer (known: ${known.join(', ')})`);
    const all = await this.list();
    // Refuse a claim another party already makes: routing must have one answer.
    buildRouter([...all.filter((x) => x.party !== j.party), j]);
    const row = { party: j.party, countries: JSON.stringify(j.countries), asns: JSON.stringify(j.asns), prefixes: JSON.stringify(j.prefixes), updated_at: this.deps.clock.now() };
    await this.deps.db.insertInto('feed_jurisdictions').values(row)
      .onConflict((oc) => oc.column('party').doUpdateSet({ countries: row.countries, asns: row.asns, prefixes: row.prefixes, updated_at: row.updated_at })).execute();
    return j;
  }

  async list(): Promise<Jurisdiction[]> {
    const rows = await this.deps.db.selectFrom('feed_jurisdictions').selectAll().orderBy('party').execute();
    return rows.map((r) => ({ party: r.party, countries: JSON.parse(r.countries) as string[], asns: JSON.parse(r.asns) as number[], prefixes: JSON.parse(r.prefixes) as string[] }));
  }
}

/** Where a record goes: a party (this node's own party means its domestic collection), or null (nobody's). */
export interface Router {
  route(r: FeedRecord): string | null;
}

/**
 * Routing by jurisdiction, most specific first: the longest prefix holding the address (over all
 * parties), else the party responsible for its AS, else for its country. Two parties claiming the
 * same AS, country or prefix is refused here, naming both: it must be agreed, not guessed.
 */
export function buildRouter(all: readonly Jurisdiction[]): Router {
  const byAsn = new Map<number, string>();
  const byCountry = new Map<string, string>();
  const prefixes: [string, string][] = [];
  const claim = <K>(m: Map<K, string>, k: K, party: string, what: string): void => {
    const other = m.get(k);
    if (other !== undefined && other !== party) fail('invalid_argument', `${what} is claimed by both ${other} and ${party}; agree who is responsible and set one of them`);
    m.set(k, party);
  };
  const prefixOwner = new Map<string, string>();
  for (const j of all) {
    for (const a of j.asns) claim(byAsn, a, j.party, `AS${a}`);
    for (const c of j.countries) claim(byCountry, c, j.party, `Country ${c}`);
    for (const p of j.prefixes) {
      claim(prefixOwner, p, j.party, `Prefix ${p}`);
      prefixes.push([p, j.party]);
    }
  }
  const table = PrefixTable.build(prefixes);
  return {
    route(r) {
      return table.lookup(r.ip) ?? (r.asn === null ? undefined : byAsn.get(r.asn)) ?? (r.country === null ? undefined : byCountry.get(r.country)) ?? null;
    },
  };
}
