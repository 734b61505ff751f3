/**
 * Texts written one after another as UTF-8 into one buffer that grows as needed: how a large body
 * made of many texts is built (a TAXII page of 1,000 stored objects, a COPY batch of 5,000 rows).
 * Joining the texts into one string and then encoding it cost several times more: V8 copies the
 * pieces into one flat string, then copies that again into bytes (docs/benchmarks.md).
 */
export class Utf8Buffer {
  private buf: Buffer;
  private at = 0;

  /** `size`: the bytes expected; enough for all of them means the buffer is never copied. */
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(Math.max(1024, size));
  }

  /** Appends `s` encoded as UTF-8 (a lone surrogate as U+FFFD, as `Buffer.from` does). */
  text(s: string): this {
    // UTF-8 takes at most 3 bytes for each UTF-16 unit.
    this.room(s.length * 3);
    this.at += this.buf.write(s, this.at);
    return this;
  }

  /** Appends one byte (an ASCII character by its code). */
  byte(b: number): this {
    this.room(1);
    this.buf[this.at++] = b;
    return this;
  }

  /** The bytes written so far (a view of the buffer: valid until the next write). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.at);
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }
}
