import { createHmac, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';
import { fail } from '../../shared/errors.js';
import type { ObjectFilter } from './taxii.filters.js';

/**
 * The opaque `next` of a page: where the walk stopped (the `date_added` of the last version it
 * passed, in µs), for which collection, endpoint and filters, authenticated with an HMAC under
 * a key derived from the node's private key. Stateless: walks, however many, cost no memory, a
 * cursor survives restarts, and a cursor that was not issued here, was altered, or is replayed
 * against another collection, endpoint or set of filters is refused (`cursor_invalid`, 400).
 * TAXII 2.1 Appendix B: `next` "MUST NOT be implicitly trusted"; visibility is re-checked on
 * every page because each page is a fresh query.
 */
export interface Cursor {
  /** Collection id. */
  readonly c: string;
  /** Endpoint and, for one object's endpoints, its id: `objects`, `manifest`, `object:ID`, `versions:ID`. */
  readonly e: string;
  /** The filters of the walk. */
  readonly f: ObjectFilter;
  /** Everything with date_added ≤ p has been handled. */
  readonly p: number;
}

const TAG_BYTES = 16;

export class CursorCodec {
  private readonly key: Buffer;

  constructor(privateKey: KeyObject) {
    const der = privateKey.export({ type: 'pkcs8', format: 'der' });
    this.key = Buffer.from(hkdfSync('sha256', der, Buffer.alloc(0), 'hotline taxii cursor v1', 32));
  }

  encode(c: Cursor): string {
    const body = Buffer.from(JSON.stringify([c.c, c.e, c.f, c.p]), 'utf8');
    return Buffer.concat([this.tag(body), body]).toString('base64url');
  }

  /**
   * Checks and decodes a client's `next` for this collection and endpoint. `filter` is the
   * request's own: it must be the walk's, unless the request gave none (then the walk's applies).
   */
  decode(next: string, expect: { collection: string; endpoint: string; filter: ObjectFilter; filtersGiven: boolean }): Cursor {
    const bad = (why: string): never => fail('cursor_invalid', `"next" ${why}; start again without "next" to walk from the beginning`);
    if (!/^[A-Za-z0-9_-]{24,8192}$/.test(next)) bad('is not a value this server issued');
    const raw = Buffer.from(next, 'base64url');
    if (raw.length <= TAG_BYTES) bad('is not a value this server issued');
    const body = raw.subarray(TAG_BYTES);
    if (!timingSafeEqual(raw.subarray(0, TAG_BYTES), this.tag(body))) bad('was not issued by this server, or was altered');
    const [c, e, f, p] = JSON.parse(body.toString('utf8')) as [string, string, ObjectFilter, number];
    if (c !== expect.collection || e !== expect.endpoint) bad('belongs to another collection or endpoint');
    if (expect.filtersGiven && JSON.stringify(f) !== JSON.stringify(expect.filter)) {
      bad('was issued for other filters: send the same added_after and match[...] parameters as for the first page (only limit may change)');
    }
    return { c, e, f, p };
  }

  private tag(body: Buffer): Buffer {
    return createHmac('sha256', this.key).update(body).digest().subarray(0, TAG_BYTES);
  }
}
