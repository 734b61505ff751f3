import { randomBytes } from 'node:crypto';

let lastMs = 0;
let lastRand: Buffer = Buffer.alloc(0);

/**
 * A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, version, 74 random bits. Ids made in the same
 * millisecond by this process still sort in creation order (the random part is incremented).
 */
export function uuidv7(nowMs: number = Date.now()): string {
  let rand: Buffer;
  if (nowMs <= lastMs && lastRand.length === 10) {
    rand = Buffer.from(lastRand);
    for (let i = 9; i >= 0; i--) {
      rand[i] = (rand[i]! + 1) & 0xff;
      if (rand[i] !== 0) break;
    }
    nowMs = lastMs;
  } else {
    rand = randomBytes(10);
  }
  lastMs = nowMs;
  lastRand = rand;
  const b = Buffer.alloc(16);
  b.writeUIntBE(nowMs, 0, 6);
  rand.copy(b, 6);
  b[6] = 0x70 | (b[6]! & 0x0f);
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUuid(s: unknown): s is string {
  return typeof s === 'string' && UUID.test(s);
}
