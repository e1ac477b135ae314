/**
 * A byte window over a stream: one reused Buffer holding the bytes not yet
 * parsed. Readers append at `end` and consume from `start`; `compact()` moves
 * the unparsed tail to the front so the buffer never grows with file size.
 * It only grows when a single record is larger than the buffer (bounded by the
 * parsers' record length limits).
 */
export class ByteWindow {
  buf: Buffer;
  start = 0;
  end = 0;
  /** stream offset of buf[0] */
  base = 0;

  constructor(size = 1 << 20) {
    this.buf = Buffer.allocUnsafe(size);
  }

  get available(): number {
    return this.end - this.start;
  }

  /** stream offset of the first unparsed byte */
  get position(): number {
    return this.base + this.start;
  }

  /** Make room for at least `n` more bytes after `end`. */
  reserve(n: number): void {
    if (this.buf.length - this.end >= n) return;
    const live = this.end - this.start;
    if (live + n > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < live + n) size *= 2;
      const bigger = Buffer.allocUnsafe(size);
      this.buf.copy(bigger, 0, this.start, this.end);
      this.buf = bigger;
    } else {
      this.buf.copy(this.buf, 0, this.start, this.end);
    }
    this.base += this.start;
    this.start = 0;
    this.end = live;
  }

  /**
   * Points the window at `buf[start, end)`, whose byte `start` is at stream
   * offset `position` (the file reader's zero-copy path: it reads straight
   * into buffers it owns and hands them to the window).
   */
  adopt(buf: Buffer, start: number, end: number, position: number): void {
    this.buf = buf;
    this.start = start;
    this.end = end;
    this.base = position - start;
  }

  append(chunk: Uint8Array): void {
    this.reserve(chunk.length);
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }
}
