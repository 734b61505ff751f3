import { createHash } from 'node:crypto';

/**
 * The cheap parts of writing feed records as STIX JSON (feeds.stix.ts): UUIDv5 identifiers with a
 * SHA-1 written for short names (node:crypto's per-call overhead is several times the cost of
 * hashing one 64-byte block here), STIX timestamps, JSON string escaping, and byte templates
 * with fixed-width holes that ids and timestamps are written into.
 *
 * Not re-entrant (module scratch buffers), like everything synchronous in one thread.
 */

/** STIX 2.1 section 2.9: the namespace of deterministic SCO identifiers. */
export const STIX_SCO_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';

/** Hotline's own namespace for the ids of the objects a node makes from feeds (a fixed random UUID). */
export const HOTLINE_STIX_NAMESPACE = '199e6974-4d94-4b8c-9d2b-8d1114e1dd60';

let scratch = new Uint8Array(256);

/** One SHA-1 compression (FIPS 180-4) of the 64 bytes of `b` at `o` into the state `h`, unrolled: the schedule lives in locals. */
function compress(h: Int32Array, b: Uint8Array, o: number): void {
  let a = h[0]!, bb = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!;
  let w0 = (b[o + 0]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
  let w1 = (b[o + 4]! << 24) | (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!;
  let w2 = (b[o + 8]! << 24) | (b[o + 9]! << 16) | (b[o + 10]! << 8) | b[o + 11]!;
  let w3 = (b[o + 12]! << 24) | (b[o + 13]! << 16) | (b[o + 14]! << 8) | b[o + 15]!;
  let w4 = (b[o + 16]! << 24) | (b[o + 17]! << 16) | (b[o + 18]! << 8) | b[o + 19]!;
  let w5 = (b[o + 20]! << 24) | (b[o + 21]! << 16) | (b[o + 22]! << 8) | b[o + 23]!;
  let w6 = (b[o + 24]! << 24) | (b[o + 25]! << 16) | (b[o + 26]! << 8) | b[o + 27]!;
  let w7 = (b[o + 28]! << 24) | (b[o + 29]! << 16) | (b[o + 30]! << 8) | b[o + 31]!;
  let w8 = (b[o + 32]! << 24) | (b[o + 33]! << 16) | (b[o + 34]! << 8) | b[o + 35]!;
  let w9 = (b[o + 36]! << 24) | (b[o + 37]! << 16) | (b[o + 38]! << 8) | b[o + 39]!;
  let w10 = (b[o + 40]! << 24) | (b[o + 41]! << 16) | (b[o + 42]! << 8) | b[o + 43]!;
  let w11 = (b[o + 44]! << 24) | (b[o + 45]! << 16) | (b[o + 46]! << 8) | b[o + 47]!;
  let w12 = (b[o + 48]! << 24) | (b[o + 49]! << 16) | (b[o + 50]! << 8) | b[o + 51]!;
  let w13 = (b[o + 52]! << 24) | (b[o + 53]! << 16) | (b[o + 54]! << 8) | b[o + 55]!;
  let w14 = (b[o + 56]! << 24) | (b[o + 57]! << 16) | (b[o + 58]! << 8) | b[o + 59]!;
  let w15 = (b[o + 60]! << 24) | (b[o + 61]! << 16) | (b[o + 62]! << 8) | b[o + 63]!;
  let x: number;
  e = (((a << 5) | (a >>> 27)) + ((bb & c) | (~bb & d)) + e + 0x5a827999 + w0) | 0; bb = (bb << 30) | (bb >>> 2);
  d = (((e << 5) | (e >>> 27)) + ((a & bb) | (~a & c)) + d + 0x5a827999 + w1) | 0; a = (a << 30) | (a >>> 2);
  c = (((d << 5) | (d >>> 27)) + ((e & a) | (~e & bb)) + c + 0x5a827999 + w2) | 0; e = (e << 30) | (e >>> 2);
  bb = (((c << 5) | (c >>> 27)) + ((d & e) | (~d & a)) + bb + 0x5a827999 + w3) | 0; d = (d << 30) | (d >>> 2);
  a = (((bb << 5) | (bb >>> 27)) + ((c & d) | (~c & e)) + a + 0x5a827999 + w4) | 0; c = (c << 30) | (c >>> 2);
  e = (((a << 5) | (a >>> 27)) + ((bb & c) | (~bb & d)) + e + 0x5a827999 + w5) | 0; bb = (bb << 30) | (bb >>> 2);
  d = (((e << 5) | (e >>> 27)) + ((a & bb) | (~a & c)) + d + 0x5a827999 + w6) | 0; a = (a << 30) | (a >>> 2);
  c = (((d << 5) | (d >>> 27)) + ((e & a) | (~e & bb)) + c + 0x5a827999 + w7) | 0; e = (e << 30) | (e >>> 2);
  bb = (((c << 5) | (c >>> 27)) + ((d & e) | (~d & a)) + bb + 0x5a827999 + w8) | 0; d = (d << 30) | (d >>> 2);
  a = (((bb << 5) | (bb >>> 27)) + ((c & d) | (~c & e)) + a + 0x5a827999 + w9) | 0; c = (c << 30) | (c >>> 2);
  e = (((a << 5) | (a >>> 27)) + ((bb & c) | (~bb & d)) + e + 0x5a827999 + w10) | 0; bb = (bb << 30) | (bb >>> 2);
  d = (((e << 5) | (e >>> 27)) + ((a & bb) | (~a & c)) + d + 0x5a827999 + w11) | 0; a = (a << 30) | (a >>> 2);
  c = (((d << 5) | (d >>> 27)) + ((e & a) | (~e & bb)) + c + 0x5a827999 + w12) | 0; e = (e << 30) | (e >>> 2);
  bb = (((c << 5) | (c >>> 27)) + ((d & e) | (~d & a)) + bb + 0x5a827999 + w13) | 0; d = (d << 30) | (d >>> 2);
  a = (((bb << 5) | (bb >>> 27)) + ((c & d) | (~c & e)) + a + 0x5a827999 + w14) | 0; c = (c << 30) | (c >>> 2);
  e = (((a << 5) | (a >>> 27)) + ((bb & c) | (~bb & d)) + e + 0x5a827999 + w15) | 0; bb = (bb << 30) | (bb >>> 2);
  x = w13 ^ w8 ^ w2 ^ w0; w0 = (x << 1) | (x >>> 31); d = (((e << 5) | (e >>> 27)) + ((a & bb) | (~a & c)) + d + 0x5a827999 + w0) | 0; a = (a << 30) | (a >>> 2);
  x = w14 ^ w9 ^ w3 ^ w1; w1 = (x << 1) | (x >>> 31); c = (((d << 5) | (d >>> 27)) + ((e & a) | (~e & bb)) + c + 0x5a827999 + w1) | 0; e = (e << 30) | (e >>> 2);
  x = w15 ^ w10 ^ w4 ^ w2; w2 = (x << 1) | (x >>> 31); bb = (((c << 5) | (c >>> 27)) + ((d & e) | (~d & a)) + bb + 0x5a827999 + w2) | 0; d = (d << 30) | (d >>> 2);
  x = w0 ^ w11 ^ w5 ^ w3; w3 = (x << 1) | (x >>> 31); a = (((bb << 5) | (bb >>> 27)) + ((c & d) | (~c & e)) + a + 0x5a827999 + w3) | 0; c = (c << 30) | (c >>> 2);
  x = w1 ^ w12 ^ w6 ^ w4; w4 = (x << 1) | (x >>> 31); e = (((a << 5) | (a >>> 27)) + (bb ^ c ^ d) + e + 0x6ed9eba1 + w4) | 0; bb = (bb << 30) | (bb >>> 2);
  x = w2 ^ w13 ^ w7 ^ w5; w5 = (x << 1) | (x >>> 31); d = (((e << 5) | (e >>> 27)) + (a ^ bb ^ c) + d + 0x6ed9eba1 + w5) | 0; a = (a << 30) | (a >>> 2);
  x = w3 ^ w14 ^ w8 ^ w6; w6 = (x << 1) | (x >>> 31); c = (((d << 5) | (d >>> 27)) + (e ^ a ^ bb) + c + 0x6ed9eba1 + w6) | 0; e = (e << 30) | (e >>> 2);
  x = w4 ^ w15 ^ w9 ^ w7; w7 = (x << 1) | (x >>> 31); bb = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + bb + 0x6ed9eba1 + w7) | 0; d = (d << 30) | (d >>> 2);
  x = w5 ^ w0 ^ w10 ^ w8; w8 = (x << 1) | (x >>> 31); a = (((bb << 5) | (bb >>> 27)) + (c ^ d ^ e) + a + 0x6ed9eba1 + w8) | 0; c = (c << 30) | (c >>> 2);
  x = w6 ^ w1 ^ w11 ^ w9; w9 = (x << 1) | (x >>> 31); e = (((a << 5) | (a >>> 27)) + (bb ^ c ^ d) + e + 0x6ed9eba1 + w9) | 0; bb = (bb << 30) | (bb >>> 2);
  x = w7 ^ w2 ^ w12 ^ w10; w10 = (x << 1) | (x >>> 31); d = (((e << 5) | (e >>> 27)) + (a ^ bb ^ c) + d + 0x6ed9eba1 + w10) | 0; a = (a << 30) | (a >>> 2);
  x = w8 ^ w3 ^ w13 ^ w11; w11 = (x << 1) | (x >>> 31); c = (((d << 5) | (d >>> 27)) + (e ^ a ^ bb) + c + 0x6ed9eba1 + w11) | 0; e = (e << 30) | (e >>> 2);
  x = w9 ^ w4 ^ w14 ^ w12; w12 = (x << 1) | (x >>> 31); bb = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + bb + 0x6ed9eba1 + w12) | 0; d = (d << 30) | (d >>> 2);
  x = w10 ^ w5 ^ w15 ^ w13; w13 = (x << 1) | (x >>> 31); a = (((bb << 5) | (bb >>> 27)) + (c ^ d ^ e) + a + 0x6ed9eba1 + w13) | 0; c = (c << 30) | (c >>> 2);
  x = w11 ^ w6 ^ w0 ^ w14; w14 = (x << 1) | (x >>> 31); e = (((a << 5) | (a >>> 27)) + (bb ^ c ^ d) + e + 0x6ed9eba1 + w14) | 0; bb = (bb << 30) | (bb >>> 2);
  x = w12 ^ w7 ^ w1 ^ w15; w15 = (x << 1) | (x >>> 31); d = (((e << 5) | (e >>> 27)) + (a ^ bb ^ c) + d + 0x6ed9eba1 + w15) | 0; a = (a << 30) | (a >>> 2);
  x = w13 ^ w8 ^ w2 ^ w0; w0 = (x << 1) | (x >>> 31); c = (((d << 5) | (d >>> 27)) + (e ^ a ^ bb) + c + 0x6ed9eba1 + w0) | 0; e = (e << 30) | (e >>> 2);
  x = w14 ^ w9 ^ w3 ^ w1; w1 = (x << 1) | (x >>> 31); bb = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + bb + 0x6ed9eba1 + w1) | 0; d = (d << 30) | (d >>> 2);
  x = w15 ^ w10 ^ w4 ^ w2; w2 = (x << 1) | (x >>> 31); a = (((bb << 5) | (bb >>> 27)) + (c ^ d ^ e) + a + 0x6ed9eba1 + w2) | 0; c = (c << 30) | (c >>> 2);
  x = w0 ^ w11 ^ w5 ^ w3; w3 = (x << 1) | (x >>> 31); e = (((a << 5) | (a >>> 27)) + (bb ^ c ^ d) + e + 0x6ed9eba1 + w3) | 0; bb = (bb << 30) | (bb >>> 2);
  x = w1 ^ w12 ^ w6 ^ w4; w4 = (x << 1) | (x >>> 31); d = (((e << 5) | (e >>> 27)) + (a ^ bb ^ c) + d + 0x6ed9eba1 + w4) | 0; a = (a << 30) | (a >>> 2);
  x = w2 ^ w13 ^ w7 ^ w5; w5 = (x << 1) | (x >>> 31); c = (((d << 5) | (d >>> 27)) + (e ^ a ^ bb) + c + 0x6ed9eba1 + w5) | 0; e = (e << 30) | (e >>> 2);
  x = w3 ^ w14 ^ w8 ^ w6; w6 = (x << 1) | (x >>> 31); bb = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + bb + 0x6ed9eba1 + w6) | 0; d = (d << 30) | (d >>> 2);
  x = w4 ^ w15 ^ w9 ^ w7; w7 = (x << 1) | (x >>> 31); a = (((bb << 5) | (bb >>> 27)) + (c ^ d ^ e) + a + 0x6ed9eba1 + w7) | 0; c = (c << 30) | (c >>> 2);
  x = w5 ^ w0 ^ w10 ^ w8; w8 = (x << 1) | (x >>> 31); e = (((a << 5) | (a >>> 27)) + ((bb & c) | (bb & d) | (c & d)) + e - 0x70e44324 + w8) | 0; bb = (bb << 30) | (bb >>> 2);
  x = w6 ^ w1 ^ w11 ^ w9; w9 = (x << 1) | (x >>> 31); d = (((e << 5) | (e >>> 27)) + ((a & bb) | (a & c) | (bb & c)) + d - 0x70e44324 + w9) | 0; a = (a << 30) | (a >>> 2);
  x = w7 ^ w2 ^ w12 ^ w10; w10 = (x << 1) | (x >>> 31); c = (((d << 5) | (d >>> 27)) + ((e & a) | (e & bb) | (a & bb)) + c - 0x70e44324 + w10) | 0; e = (e << 30) | (e >>> 2);
  x = w8 ^ w3 ^ w13 ^ w11; w11 = (x << 1) | (x >>> 31); bb = (((c << 5) | (c >>> 27)) + ((d & e) | (d & a) | (e & a)) + bb - 0x70e44324 + w11) | 0; d = (d << 30) | (d >>> 2);
  x = w9 ^ w4 ^ w14 ^ w12; w12 = (x << 1) | (x >>> 31); a = (((bb << 5) | (bb >>> 27)) + ((c & d) | (c & e) | (d & e)) + a - 0x70e44324 + w12) | 0; c = (c << 30) | (c >>> 2);
  x = w10 ^ w5 ^ w15 ^ w13; w13 = (x << 1) | (x >>> 31); e = (((a << 5) | (a >>> 27)) + ((bb & c) | (bb & d) | (c & d)) + e - 0x70e44324 + w13) | 0; bb = (bb << 30) | (bb >>> 2);
  x = w11 ^ w6 ^ w0 ^ w14; w14 = (x << 1) | (x >>> 31); d = (((e << 5) | (e >>> 27)) + ((a & bb) | (a & c) | (bb & c)) + d - 0x70e44324 + w14) | 0; a = (a << 30) | (a >>> 2);
  x = w12 ^ w7 ^ w1 ^ w15; w15 = (x << 1) | (x >>> 31); c = (((d << 5) | (d >>> 27)) + ((e & a) | (e & bb) | (a & bb)) + c - 0x70e44324 + w15) | 0; e = (e << 30) | (e >>> 2);
  x = w13 ^ w8 ^ w2 ^ w0; w0 = (x << 1) | (x >>> 31); bb = (((c << 5) | (c >>> 27)) + ((d & e) | (d & a) | (e & a)) + bb - 0x70e44324 + w0) | 0; d = (d << 30) | (d >>> 2);
  x = w14 ^ w9 ^ w3 ^ w1; w1 = (x << 1) | (x >>> 31); a = (((bb << 5) | (bb >>> 27)) + ((c & d) | (c & e) | (d & e)) + a - 0x70e44324 + w1) | 0; c = (c << 30) | (c >>> 2);
  x = w15 ^ w10 ^ w4 ^ w2; w2 = (x << 1) | (x >>> 31); e = (((a << 5) | (a >>> 27)) + ((bb & c) | (bb & d) | (c & d)) + e - 0x70e44324 + w2) | 0; bb = (bb << 30) | (bb >>> 2);
  x = w0 ^ w11 ^ w5 ^ w3; w3 = (x << 1) | (x >>> 31); d = (((e << 5) | (e >>> 27)) + ((a & bb) | (a & c) | (bb & c)) + d - 0x70e44324 + w3) | 0; a = (a << 30) | (a >>> 2);
  x = w1 ^ w12 ^ w6 ^ w4; w4 = (x << 1) | (x >>> 31); c = (((d << 5) | (d >>> 27)) + ((e & a) | (e & bb) | (a & bb)) + c - 0x70e44324 + w4) | 0; e = (e << 30) | (e >>> 2);
  x = w2 ^ w13 ^ w7 ^ w5; w5 = (x << 1) | (x >>> 31); bb = (((c << 5) | (c >>> 27)) + ((d & e) | (d & a) | (e & a)) + bb - 0x70e44324 + w5) | 0; d = (d << 30) | (d >>> 2);
  x = w3 ^ w14 ^ w8 ^ w6; w6 = (x << 1) | (x >>> 31); a = (((bb << 5) | (bb >>> 27)) + ((c & d) | (c & e) | (d & e)) + a - 0x70e44324 + w6) | 0; c = (c << 30) | (c >>> 2);
  x = w4 ^ w15 ^ w9 ^ w7; w7 = (x << 1) | (x >>> 31); e = (((a << 5) | (a >>> 27)) + ((bb & c) | (bb & d) | (c & d)) + e - 0x70e44324 + w7) | 0; bb = (bb << 30) | (bb >>> 2);
  x = w5 ^ w0 ^ w10 ^ w8; w8 = (x << 1) | (x >>> 31); d = (((e << 5) | (e >>> 27)) + ((a & bb) | (a & c) | (bb & c)) + d - 0x70e44324 + w8) | 0; a = (a << 30) | (a >>> 2);
  x = w6 ^ w1 ^ w11 ^ w9; w9 = (x << 1) | (x >>> 31); c = (((d << 5) | (d >>> 27)) + ((e & a) | (e & bb) | (a & bb)) + c - 0x70e44324 + w9) | 0; e = (e << 30) | (e >>> 2);
  x = w7 ^ w2 ^ w12 ^ w10; w10 = (x << 1) | (x >>> 31); bb = (((c << 5) | (c >>> 27)) + ((d & e) | (d & a) | (e & a)) + bb - 0x70e44324 + w10) | 0; d = (d << 30) | (d >>> 2);
  x = w8 ^ w3 ^ w13 ^ w11; w11 = (x << 1) | (x >>> 31); a = (((bb << 5) | (bb >>> 27)) + ((c & d) | (c & e) | (d & e)) + a - 0x70e44324 + w11) | 0; c = (c << 30) | (c >>> 2);
  x = w9 ^ w4 ^ w14 ^ w12; w12 = (x << 1) | (x >>> 31); e = (((a << 5) | (a >>> 27)) + (bb ^ c ^ d) + e - 0x359d3e2a + w12) | 0; bb = (bb << 30) | (bb >>> 2);
  x = w10 ^ w5 ^ w15 ^ w13; w13 = (x << 1) | (x >>> 31); d = (((e << 5) | (e >>> 27)) + (a ^ bb ^ c) + d - 0x359d3e2a + w13) | 0; a = (a << 30) | (a >>> 2);
  x = w11 ^ w6 ^ w0 ^ w14; w14 = (x << 1) | (x >>> 31); c = (((d << 5) | (d >>> 27)) + (e ^ a ^ bb) + c - 0x359d3e2a + w14) | 0; e = (e << 30) | (e >>> 2);
  x = w12 ^ w7 ^ w1 ^ w15; w15 = (x << 1) | (x >>> 31); bb = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + bb - 0x359d3e2a + w15) | 0; d = (d << 30) | (d >>> 2);
  x = w13 ^ w8 ^ w2 ^ w0; w0 = (x << 1) | (x >>> 31); a = (((bb << 5) | (bb >>> 27)) + (c ^ d ^ e) + a - 0x359d3e2a + w0) | 0; c = (c << 30) | (c >>> 2);
  x = w14 ^ w9 ^ w3 ^ w1; w1 = (x << 1) | (x >>> 31); e = (((a << 5) | (a >>> 27)) + (bb ^ c ^ d) + e - 0x359d3e2a + w1) | 0; bb = (bb << 30) | (bb >>> 2);
  x = w15 ^ w10 ^ w4 ^ w2; w2 = (x << 1) | (x >>> 31); d = (((e << 5) | (e >>> 27)) + (a ^ bb ^ c) + d - 0x359d3e2a + w2) | 0; a = (a << 30) | (a >>> 2);
  x = w0 ^ w11 ^ w5 ^ w3; w3 = (x << 1) | (x >>> 31); c = (((d << 5) | (d >>> 27)) + (e ^ a ^ bb) + c - 0x359d3e2a + w3) | 0; e = (e << 30) | (e >>> 2);
  x = w1 ^ w12 ^ w6 ^ w4; w4 = (x << 1) | (x >>> 31); bb = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + bb - 0x359d3e2a + w4) | 0; d = (d << 30) | (d >>> 2);
  x = w2 ^ w13 ^ w7 ^ w5; w5 = (x << 1) | (x >>> 31); a = (((bb << 5) | (bb >>> 27)) + (c ^ d ^ e) + a - 0x359d3e2a + w5) | 0; c = (c << 30) | (c >>> 2);
  x = w3 ^ w14 ^ w8 ^ w6; w6 = (x << 1) | (x >>> 31); e = (((a << 5) | (a >>> 27)) + (bb ^ c ^ d) + e - 0x359d3e2a + w6) | 0; bb = (bb << 30) | (bb >>> 2);
  x = w4 ^ w15 ^ w9 ^ w7; w7 = (x << 1) | (x >>> 31); d = (((e << 5) | (e >>> 27)) + (a ^ bb ^ c) + d - 0x359d3e2a + w7) | 0; a = (a << 30) | (a >>> 2);
  x = w5 ^ w0 ^ w10 ^ w8; w8 = (x << 1) | (x >>> 31); c = (((d << 5) | (d >>> 27)) + (e ^ a ^ bb) + c - 0x359d3e2a + w8) | 0; e = (e << 30) | (e >>> 2);
  x = w6 ^ w1 ^ w11 ^ w9; w9 = (x << 1) | (x >>> 31); bb = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + bb - 0x359d3e2a + w9) | 0; d = (d << 30) | (d >>> 2);
  x = w7 ^ w2 ^ w12 ^ w10; w10 = (x << 1) | (x >>> 31); a = (((bb << 5) | (bb >>> 27)) + (c ^ d ^ e) + a - 0x359d3e2a + w10) | 0; c = (c << 30) | (c >>> 2);
  x = w8 ^ w3 ^ w13 ^ w11; w11 = (x << 1) | (x >>> 31); e = (((a << 5) | (a >>> 27)) + (bb ^ c ^ d) + e - 0x359d3e2a + w11) | 0; bb = (bb << 30) | (bb >>> 2);
  x = w9 ^ w4 ^ w14 ^ w12; w12 = (x << 1) | (x >>> 31); d = (((e << 5) | (e >>> 27)) + (a ^ bb ^ c) + d - 0x359d3e2a + w12) | 0; a = (a << 30) | (a >>> 2);
  x = w10 ^ w5 ^ w15 ^ w13; w13 = (x << 1) | (x >>> 31); c = (((d << 5) | (d >>> 27)) + (e ^ a ^ bb) + c - 0x359d3e2a + w13) | 0; e = (e << 30) | (e >>> 2);
  x = w11 ^ w6 ^ w0 ^ w14; w14 = (x << 1) | (x >>> 31); bb = (((c << 5) | (c >>> 27)) + (d ^ e ^ a) + bb - 0x359d3e2a + w14) | 0; d = (d << 30) | (d >>> 2);
  x = w12 ^ w7 ^ w1 ^ w15; w15 = (x << 1) | (x >>> 31); a = (((bb << 5) | (bb >>> 27)) + (c ^ d ^ e) + a - 0x359d3e2a + w15) | 0; c = (c << 30) | (c >>> 2);
  h[0] = (h[0]! + a) | 0; h[1] = (h[1]! + bb) | 0; h[2] = (h[2]! + c) | 0; h[3] = (h[3]! + d) | 0; h[4] = (h[4]! + e) | 0;
}

/** Makes room in the scratch buffer for `more` bytes after `at`, and for the SHA-1 padding after them. */
function room(at: number, more: number): void {
  if (at + more + 72 <= scratch.length) return;
  const bigger = new Uint8Array(2 * (at + more + 72));
  bigger.set(scratch.subarray(0, at));
  scratch = bigger;
}

/** Writes `s` as UTF-8 into the scratch buffer at `at`, returning the end offset. */
function put(s: string, at: number): number {
  const n = s.length;
  room(at, 3 * n);
  const b = scratch;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return at + i + Buffer.from(s.slice(i), 'utf8').copy(b, at + i);
    b[at + i] = c;
  }
  return at + n;
}

const HEX = new Uint8Array(512);
for (let i = 0; i < 256; i++) {
  const h = i.toString(16).padStart(2, '0');
  HEX[2 * i] = h.charCodeAt(0);
  HEX[2 * i + 1] = h.charCodeAt(1);
}
const TEXT = Buffer.alloc(36);

/**
 * A UUIDv5 generator for names that begin with a fixed prefix: the SHA-1 state after the whole
 * blocks of `namespace + prefix` is computed once, so a prefix that fills the first block leaves
 * one compression per short name.
 *
 * Either `of(name)`, or `begin()`, `str`/`num` to append, then `write(kind, …)` as often as needed:
 * each patches the byte right after the prefix with `kind`, so the ids of one name for several
 * objects cost only their hashing. Using another generator in between spoils a `begin` (they
 * share a scratch buffer).
 */
export class UuidV5 {
  private readonly mid = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476, 0xc3d2e1f0 | 0]);
  private readonly rest: Uint8Array;
  private readonly done: number;
  private readonly h = new Int32Array(5);
  private n = 0;

  constructor(namespace: string, prefix = '') {
    const bytes = Uint8Array.from(Buffer.concat([Buffer.from(namespace.replace(/-/g, ''), 'hex'), Buffer.from(prefix, 'utf8')]));
    const whole = bytes.length - (bytes.length % 64);
    for (let o = 0; o < whole; o += 64) compress(this.mid, bytes, o);
    this.done = whole;
    this.rest = bytes.slice(whole);
  }

  /** The UUIDv5 (lower-case text) of the name `prefix + name + tail`. */
  of(name: string, tail = ''): string {
    this.name(name, tail);
    this.digest(TEXT, 0);
    return TEXT.toString('latin1');
  }

  /** Writes the UUIDv5 of `prefix + name + tail` (36 bytes of text) at `at`. */
  writeOf(name: string, tail: string, out: Uint8Array, at: number): void {
    this.name(name, tail);
    this.digest(out, at);
  }

  /** Starts a name `prefix + <kind byte> + …`. */
  begin(): void {
    scratch.set(this.rest, 0);
    this.n = this.rest.length + 1;
  }

  /** Appends a string (UTF-8). */
  str(s: string): void {
    this.n = put(s, this.n);
  }

  /** Appends a non-negative integer in decimal. */
  num(v: number): void {
    const d = digits(v);
    room(this.n, d);
    let at = this.n + d;
    this.n = at;
    do {
      const q = Math.floor(v / 10);
      scratch[--at] = 48 + v - q * 10;
      v = q;
    } while (v > 0);
  }

  /** Writes the UUIDv5 of the name begun, `kind` (a byte) right after the prefix, at `at`. */
  write(kind: number, out: Uint8Array, at: number): void {
    scratch[this.rest.length] = kind;
    this.digest(out, at);
  }

  private name(name: string, tail: string): void {
    scratch.set(this.rest, 0);
    this.n = put(name, this.rest.length);
    if (tail.length > 0) this.n = put(tail, this.n);
  }

  private digest(out: Uint8Array, at: number): void {
    const b = scratch;
    const n = this.n;
    const total = (n + 9 + 63) & ~63;
    b[n] = 0x80;
    b.fill(0, n + 1, total - 4);
    const bits = (this.done + n) * 8;
    b[total - 4] = bits >>> 24; b[total - 3] = (bits >>> 16) & 255; b[total - 2] = (bits >>> 8) & 255; b[total - 1] = bits & 255;
    const h = this.h;
    h.set(this.mid);
    for (let o = 0; o < total; o += 64) compress(h, b, o);
    const x = h[0]!, y = h[1]!, z = h[2]!, w = h[3]!;
    hex(out, at, x >>> 24); hex(out, at + 2, (x >>> 16) & 255); hex(out, at + 4, (x >>> 8) & 255); hex(out, at + 6, x & 255);
    out[at + 8] = 45;
    hex(out, at + 9, y >>> 24); hex(out, at + 11, (y >>> 16) & 255);
    out[at + 13] = 45;
    hex(out, at + 14, 0x50 | ((y >>> 8) & 15)); hex(out, at + 16, y & 255);
    out[at + 18] = 45;
    hex(out, at + 19, 0x80 | ((z >>> 24) & 0x3f)); hex(out, at + 21, (z >>> 16) & 255);
    out[at + 23] = 45;
    hex(out, at + 24, (z >>> 8) & 255); hex(out, at + 26, z & 255);
    hex(out, at + 28, w >>> 24); hex(out, at + 30, (w >>> 16) & 255); hex(out, at + 32, (w >>> 8) & 255); hex(out, at + 34, w & 255);
  }
}

/** Writes byte `v` as two lower-case hex digits at `at`. */
function hex(out: Uint8Array, at: number, v: number): void {
  out[at] = HEX[2 * v]!;
  out[at + 1] = HEX[2 * v + 1]!;
}

const NAMES = new UuidV5(HOTLINE_STIX_NAMESPACE);

/** `<type>--<UUIDv5 of name in HOTLINE_STIX_NAMESPACE>`. */
export function hotlineId(type: string, name: string): string {
  return `${type}--${NAMES.of(name)}`;
}

/** The id of a party's identity object: over `identity:<party>`. */
export function producerId(party: string): string {
  return hotlineId('identity', `identity:${party}`);
}

const SCO_IDS = new UuidV5(STIX_SCO_NAMESPACE, '{"value":"');

/**
 * The STIX deterministic id (its UUIDv5) of an ipv4-addr or ipv6-addr: the name is the JCS
 * canonical JSON of its only id-contributing property, `{"value":"<ip>"}` (a canonical IP has
 * nothing to escape).
 */
export function addressUuid(ip: string): string {
  return SCO_IDS.of(ip, '"}');
}

/** Writes `addressUuid(ip)` at `at`. */
export function writeAddressUuid(ip: string, out: Uint8Array, at: number): void {
  SCO_IDS.writeOf(ip, '"}', out, at);
}

/** The first `n` hex digits of SHA-256 over the parts (NUL-separated): an opaque, fixed-length name prefix. */
export function digestPrefix(parts: readonly string[], n: number): string {
  return createHash('sha256').update(parts.join('\u0000'), 'utf8').digest('hex').slice(0, n);
}

// ---- timestamps ----

const DAY = 86_400_000;
/** The range of a STIX timestamp (years 0000-9999), in epoch milliseconds. */
export const MIN_TIME = -62167219200000;
export const MAX_TIME = 253402300799999;
const STAMP = Buffer.from('0000-00-00T00:00:00.000Z', 'latin1');
let stampMs = NaN;
let stampDay = NaN;

function stamp(ms: number): void {
  if (ms === stampMs) return;
  stampMs = ms;
  const day = Math.floor(ms / DAY);
  if (day !== stampDay) {
    stampDay = day;
    STAMP.write(new Date(day * DAY).toISOString().slice(0, 11), 0, 'latin1');
  }
  let r = ms - day * DAY;
  const h = (r / 3_600_000) | 0;
  r -= h * 3_600_000;
  const m = (r / 60_000) | 0;
  r -= m * 60_000;
  const s = (r / 1000) | 0;
  r -= s * 1000;
  const S = STAMP;
  S[11] = 48 + ((h / 10) | 0); S[12] = 48 + (h % 10);
  S[14] = 48 + ((m / 10) | 0); S[15] = 48 + (m % 10);
  S[17] = 48 + ((s / 10) | 0); S[18] = 48 + (s % 10);
  S[20] = 48 + ((r / 100) | 0); S[21] = 48 + (((r / 10) | 0) % 10); S[22] = 48 + (r % 10);
}

/** `YYYY-MM-DDTHH:MM:SS.mmmZ` of epoch milliseconds (an integer from MIN_TIME to MAX_TIME). */
export function stixTime(ms: number): string {
  stamp(ms);
  return STAMP.toString('latin1');
}

/** Writes `stixTime(ms)` (24 bytes) at `at`. */
export function writeTime(ms: number, out: Uint8Array, at: number): void {
  stamp(ms);
  out.set(STAMP, at);
}

// ---- JSON text and templates ----

const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** `s` escaped for the inside of a JSON string literal (no quotes). */
export function jsonText(s: string): string {
  return PLAIN.test(s) ? s : JSON.stringify(s).slice(1, -1);
}

/** The number of decimal digits of a non-negative integer. */
export function digits(n: number): number {
  if (n < 100_000) return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10_000 ? 4 : 5;
  let d = 6;
  for (let x = 1_000_000; n >= x && d < 17; x *= 10) d++;
  return d;
}

/** Writes a non-negative integer in decimal at `at`, returning the end offset. */
export function writeInt(v: number, out: Uint8Array, at: number): number {
  const end = at + digits(v);
  let i = end;
  do {
    const q = Math.floor(v / 10);
    out[--i] = 48 + v - q * 10;
    v = q;
  } while (v > 0);
  return end;
}

/** JSON text with fixed-width holes: its UTF-8 bytes and the offset of each hole, in order. */
export interface Layout {
  readonly bytes: Buffer;
  readonly at: readonly number[];
}

/** A layout from text and hole widths (a number is a hole of that many bytes). */
export function layout(...parts: readonly (string | number)[]): Layout {
  const chunks: Buffer[] = [];
  const at: number[] = [];
  let n = 0;
  for (const p of parts) {
    const b = typeof p === 'number' ? Buffer.alloc(p, 32) : Buffer.from(p, 'utf8');
    if (typeof p === 'number') at.push(n);
    chunks.push(b);
    n += b.length;
  }
  return { bytes: Buffer.concat(chunks), at };
}
