import type { FastifyReply } from 'fastify';
import type { Collection, Access } from '../../../modules/taxii/taxii.collections.js';
import type { PageResult } from '../../../modules/taxii/taxii.service.js';
import type { StoredVersion } from '../../../modules/taxii/taxii.query.js';
import { formatMicros } from '../../../modules/taxii/taxii.time.js';
import { TAXII_MEDIA_TYPE } from './taxii.negotiation.js';
import { Utf8Buffer } from '../../../shared/utf8.js';

/** The media type of what collections store (collection `media_types`, manifest `media_type`). */
export const STIX_MEDIA_TYPE = 'application/stix+json;version=2.1';

/**
 * Sends a TAXII resource (a JSON text or a value) with exactly `application/taxii+json;version=2.1`
 * as its Content-Type. The body goes as bytes: for a string fastify would rewrite the header to
 * `...; version="2.1"; charset=utf-8`, which taxii2-client does not accept.
 */
export function sendTaxii(reply: FastifyReply, body: unknown, status = 200): FastifyReply {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  return reply.status(status).header('content-type', TAXII_MEDIA_TYPE).send(Buffer.from(text, 'utf8'));
}

/** The collection resource (TAXII 2.1 section 5.2.1) as `p` sees it. */
export function collectionResource(c: Collection, a: Access): Record<string, unknown> {
  return {
    id: c.id, title: c.title, ...(c.description === null ? {} : { description: c.description }), alias: c.alias,
    can_read: a.read, can_write: a.write, media_types: [STIX_MEDIA_TYPE],
  };
}

/** A version as TAXII states it: the object's own `modified` (else `created`) text, else its date_added. */
export function versionOf(r: StoredVersion): string {
  if (r.has_version === 0) return formatMicros(Number(r.version));
  const o = JSON.parse(r.object) as { modified?: string; created?: string };
  return o.modified ?? o.created ?? formatMicros(Number(r.version));
}

/**
 * A page: `{}` when empty (TAXII lists are never empty), else `more`, `next` (always with `more`:
 * taxii2-client pages by `next` only) and the list, with the X-TAXII-Date-Added-First/-Last
 * headers of the page's first and last version. Objects are served as their stored JSON texts,
 * written one by one into the body's bytes (shared/utf8.ts): joined into one string first, a page
 * of 1,000 cost the node about ten times as much to build.
 */
export function sendPage(reply: FastifyReply, page: PageResult, list: 'objects' | 'manifest' | 'versions'): FastifyReply {
  const head = `{"more":${page.more}${page.next === null ? '' : `,"next":${JSON.stringify(page.next)}`}`;
  if (page.rows.length === 0) return sendTaxii(reply, page.more ? `${head}}` : '{}');
  void reply.header('x-taxii-date-added-first', formatMicros(Number(page.rows[0]!.date_added)))
    .header('x-taxii-date-added-last', formatMicros(Number(page.rows[page.rows.length - 1]!.date_added)));
  if (list === 'manifest') {
    return sendTaxii(reply, `${head},"objects":${JSON.stringify(page.rows.map((r) => ({
      id: r.object_id, date_added: formatMicros(Number(r.date_added)), version: versionOf(r), media_type: STIX_MEDIA_TYPE,
    })))}}`);
  }
  if (list === 'versions') return sendTaxii(reply, `${head},"versions":${JSON.stringify(page.rows.map(versionOf))}}`);
  // Room for every text in ASCII, and for the longest in any UTF-8: the buffer grows only for pages of many non-ASCII texts.
  let size = head.length + 16;
  let longest = 0;
  for (const r of page.rows) {
    size += r.object.length + 1;
    longest = Math.max(longest, r.object.length);
  }
  const body = new Utf8Buffer(size + 3 * longest).text(head).text(',"objects":[');
  for (let i = 0; i < page.rows.length; i++) {
    if (i > 0) body.byte(0x2c);
    body.text(page.rows[i]!.object);
  }
  return reply.status(200).header('content-type', TAXII_MEDIA_TYPE).send(body.text(']}').bytes());
}
