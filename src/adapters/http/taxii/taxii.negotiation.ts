import { fail } from '../../../shared/errors.js';

/** The one media type this server speaks (TAXII 2.1 section 1.6.8). */
export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';

interface MediaRange {
  type: string;
  params: Map<string, string>;
  q: number;
}

function parseRanges(header: string): MediaRange[] {
  return header.split(',').map((part) => {
    const [type = '', ...rest] = part.split(';').map((s) => s.trim());
    const params = new Map<string, string>();
    let q = 1;
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const k = p.slice(0, eq).trim().toLowerCase();
      const v = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      if (k === 'q') q = Number(v);
      else params.set(k, v);
    }
    return { type: type.toLowerCase(), params, q: Number.isFinite(q) ? q : 0 };
  }).filter((r) => r.type !== '');
}

/** True when a media range admits TAXII 2.1 JSON. */
function admits(r: MediaRange): boolean {
  if (r.q <= 0) return false;
  if (r.type === '*/*' || r.type === 'application/*') return true;
  if (r.type !== 'application/taxii+json') return false;
  const v = r.params.get('version');
  return v === undefined || v === '2.1';
}

/**
 * Content negotiation (TAXII 2.1 section 3.1): `application/taxii+json;version=2.1`, and
 * `application/taxii+json` without a version ("the latest version the server supports"), MUST NOT
 * be refused; `*\/*`, `application/*` and a missing Accept are served too (the spec lets a
 * server satisfy types it does not define). Anything else — e.g. only `application/json`, or
 * `version=2.0` — is 406 `not_acceptable`.
 */
export function checkAccept(header: string | undefined): void {
  if (header === undefined || header.trim() === '') return;
  if (parseRanges(header).some(admits)) return;
  fail('not_acceptable', `This server answers only ${TAXII_MEDIA_TYPE}; the Accept header asked for ${JSON.stringify(header)}`);
}

/** A POST body's Content-Type must be TAXII JSON (2.1, or without a version); else 415. */
export function checkContentType(header: string | undefined): void {
  const r = header === undefined ? undefined : parseRanges(header)[0];
  if (r !== undefined && r.type === 'application/taxii+json' && (r.params.get('version') ?? '2.1') === '2.1') return;
  fail('unsupported_media_type', `Send the envelope as ${TAXII_MEDIA_TYPE} (got ${header === undefined ? 'no Content-Type' : JSON.stringify(header)})`);
}
