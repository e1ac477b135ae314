/**
 * Streaming capture readers: detect the format from the first bytes, then feed
 * the file through one reused ByteWindow (1 MiB reads, awaited, so the event
 * loop keeps turning). Memory does not grow with file size.
 *
 * The file reader is zero-copy: each read lands directly in one of two
 * buffers the window then points at; only the incomplete record at the end of
 * a chunk (at most one record) is copied, in front of the next chunk.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FrameSink } from './frame.js';
import { newInputInfo, type FormatParser, type InputInfo } from './parser.js';
import { isPcapMagic, PcapParser } from './pcap.js';
import { PCAPNG_SHB, PcapngParser } from './pcapng.js';
import { ByteWindow } from './window.js';

const READ_SIZE = 1 << 20;
/**
 * Room in front of each read for the unparsed tail of the previous chunk: one
 * packet record of MAX_PACKET_BYTES plus its record/block header and options.
 * A larger tail (a pcapng block above this size, e.g. a big name resolution
 * block) is gathered in a growable overflow buffer instead.
 */
const CARRY = 320 * 1024;

function describeBytes(b: Buffer): string {
  if (b.length === 0) return 'the file is empty';
  const hex = [...b.subarray(0, 8)].map((x) => x.toString(16).padStart(2, '0')).join(' ');
  const text = b.subarray(0, 8).toString('latin1').replace(/[^\x20-\x7e]/g, '.');
  return `first bytes are ${hex} ("${text}")`;
}

/** The first bytes of a pcap or pcapng file (either byte order), for inputs shorter than a magic number. */
const MAGICS = ['a1b2c3d4', 'd4c3b2a1', 'a1b23c4d', '4d3cb2a1', '0a0d0d0a'];

/** Why a file is not a capture: an incomplete file header (a magic number's first bytes), or its first bytes. */
function notACapture(b: Buffer): string {
  if (b.length > 0 && b.length < 4 && MAGICS.some((m) => m.startsWith(b.toString('hex')))) {
    return `not a capture (file header incomplete): the file ends after ${b.length} byte(s)`;
  }
  return `not a pcap or pcapng capture: ${describeBytes(b)}`;
}

/** Picks the parser from the first 4 bytes, or undefined when neither format matches. */
export function parserFor(head: Buffer, info: InputInfo, sink: FrameSink): FormatParser | undefined {
  if (head.length < 4) return undefined;
  const be = head.readUInt32BE(0);
  if (be === PCAPNG_SHB) return new PcapngParser(info, sink);
  if (isPcapMagic(be)) return new PcapParser(info, sink);
  return undefined;
}

/**
 * Streaming parser for a byte stream that arrives in chunks (a pipe, a child
 * process's stdout). Same parsers, same frame records as the file reader.
 */
export class CaptureStream {
  readonly info: InputInfo;
  private readonly win = new ByteWindow(READ_SIZE);
  private parser: FormatParser | undefined;

  constructor(name: string, private readonly sink: FrameSink) {
    this.info = newInputInfo(name);
  }

  get stopped(): boolean {
    return this.parser?.stopped ?? this.info.problems.length > 0;
  }

  push(chunk: Uint8Array): void {
    if (this.stopped) return;
    this.win.append(chunk);
    if (!this.parser) {
      if (this.win.available < 4) return;
      this.parser = parserFor(this.win.buf.subarray(this.win.start, this.win.end), this.info, this.sink);
      if (!this.parser) {
        this.info.problems.push({
          kind: 'unreadable', file: this.info.file, offset: 0, record: 0,
          message: notACapture(this.win.buf.subarray(this.win.start, this.win.end)),
        });
        return;
      }
    }
    this.parser.parse(this.win);
    this.win.reserve(0);
  }

  end(): InputInfo {
    if (!this.parser) {
      if (this.info.problems.length === 0) {
        this.info.problems.push({
          kind: 'unreadable', file: this.info.file, offset: 0, record: 0,
          message: this.win.available === 0 ? 'the input is empty' : notACapture(this.win.buf.subarray(this.win.start, this.win.end)),
        });
      }
      return this.info;
    }
    this.parser.parse(this.win);
    this.parser.finish(this.win);
    if (this.info.format === 'unknown' && this.info.problems.length === 0) {
      this.info.problems.push({ kind: 'truncated', file: this.info.file, offset: 0, record: 0, message: 'the file ends inside its header' });
    }
    return this.info;
  }
}

export interface ReadOptions {
  /**
   * Awaited before each 1 MiB read: lets the consumer apply backpressure
   * (streaming output to a slow pipe waits for it to drain instead of
   * buffering without bound).
   */
  beforeRead?: () => Promise<void> | void;
  /** called after each read with the bytes read so far and the file's size */
  onProgress?: (bytesRead: number, fileBytes: number) => void;
}

/** The name that means standard input on the command line. */
export const STDIN_NAME = '-';

const GZIP_MAGIC0 = 0x1f;
const GZIP_MAGIC1 = 0x8b;
const ZSTD_MAGIC = 0x28b52ffd;
const LZ4_MAGIC = 0x04224d18;

/**
 * One capture being read, a chunk at a time: `pump()` reads the next chunk
 * (1 MiB from a file; whatever a pipe or the decompressor gives) and delivers
 * every complete frame in it to the sink; it returns false once the input is
 * done (end, or a problem: see `info.problems`), and has then released the
 * file. A plain file is read zero-copy with double buffering (the next chunk
 * is read while this one is parsed); standard input and gzip-compressed files
 * (recognised by their magic bytes 1f 8b, not by name; node:zlib, streaming)
 * are appended to one window. The frame handed to the sink is valid during
 * the call only.
 */
export interface CaptureReader {
  readonly info: InputInfo;
  /** bytes of the file read so far (compressed bytes for a gzip file) */
  readonly bytesRead: number;
  /** the file's size (0: unknown, standard input) */
  readonly fileBytes: number;
  pump(): Promise<boolean>;
  /** releases the file early (a reader pumped to the end has done so) */
  close(): Promise<void>;
}

function unreadable(info: InputInfo, message: string): void {
  info.problems.push({ kind: 'unreadable', file: info.file, offset: 0, record: 0, message });
}

/** What both readers do with the bytes: pick the parser from the first bytes, parse, and at the end report what is left. */
abstract class ReaderBase implements CaptureReader {
  readonly info: InputInfo;
  bytesRead = 0;
  fileBytes = 0;
  protected parser: FormatParser | undefined;
  protected done = false;

  constructor(path: string, protected readonly sink: FrameSink) {
    this.info = newInputInfo(path);
  }

  abstract pump(): Promise<boolean>;
  abstract close(): Promise<void>;

  /** Parses what the window holds; false when the input cannot go on (not a capture, or the parser stopped). */
  protected parse(win: ByteWindow): boolean {
    if (!this.parser) {
      if (win.available < 4) return true;
      this.parser = parserFor(win.buf.subarray(win.start, win.end), this.info, this.sink);
      if (!this.parser) {
        unreadable(this.info, notACapture(win.buf.subarray(win.start, win.end)));
        return false;
      }
    }
    this.parser.parse(win);
    return !this.parser.stopped;
  }

  /** At the end of the input: what is left in the window. */
  protected finish(win: ByteWindow): void {
    if (!this.parser) {
      if (this.info.problems.length === 0) {
        unreadable(this.info, win.available === 0 && this.bytesRead === 0 && this.info.file === STDIN_NAME
          ? 'the input is empty'
          : notACapture(win.buf.subarray(win.start, win.end)));
      }
      return;
    }
    this.parser.finish(win);
    if (this.info.format === 'unknown' && this.info.problems.length === 0) {
      this.info.problems.push({ kind: 'truncated', file: this.info.file, offset: 0, record: 0, message: 'the file ends inside its header' });
    }
  }
}

/** A plain capture file: zero-copy reads into two buffers the window points at in turn. */
class FileReader extends ReaderBase {
  // Double buffering: the next chunk is read (on the thread pool) while this one is
  // parsed. Reads land at CARRY + (stream offset mod 4) so that the window's base
  // stays a multiple of 4: 4-aligned records (all pcapng blocks) are 4-aligned in memory.
  private readonly bufs = [Buffer.allocUnsafe(CARRY + 4 + READ_SIZE), Buffer.allocUnsafe(CARRY + 4 + READ_SIZE)];
  private which = 0;
  private readAt = CARRY;
  private readonly win = new ByteWindow(0);
  private overflow: ByteWindow | null = null;
  private pending: Promise<{ bytesRead: number }> | null;

  constructor(path: string, sink: FrameSink, private fh: FileHandle | null, size: number) {
    super(path, sink);
    this.fileBytes = size;
    this.pending = this.readNext();
  }

  private readNext(): Promise<{ bytesRead: number }> {
    return this.fh!.read(this.bufs[this.which], this.readAt, READ_SIZE, null);
  }

  async pump(): Promise<boolean> {
    if (this.done) return false;
    const info = this.info;
    const win = this.win;
    let n: number;
    try {
      ({ bytesRead: n } = await this.pending!);
    } catch (e) {
      this.pending = null;
      info.problems.push({ kind: 'truncated', file: info.file, offset: this.bytesRead, record: (this.parser?.records ?? 0) + 1, message: `read error: ${(e as Error).message}` });
      await this.close();
      return false;
    }
    this.pending = null;
    if (n === 0) {
      this.finish(win);
      await this.close();
      return false;
    }
    const got = this.bufs[this.which];
    const at = this.readAt;
    const tail = win.end - win.start;
    const tailPos = win.position;
    if (tail <= at) {
      // the usual case: the previous chunk's incomplete record goes just in front of this one
      if (tail > 0) win.buf.copy(got, at - tail, win.start, win.end);
      win.adopt(got, at - tail, at + n, tailPos);
    } else {
      // a record longer than CARRY spans reads: gather it in the overflow window
      let overflow = this.overflow;
      if (overflow !== null && win.buf === overflow.buf) overflow.start = win.start; // what the parser consumed
      else {
        overflow ??= this.overflow = new ByteWindow(2 * CARRY);
        overflow.adopt(overflow.buf, 0, 0, tailPos);
        overflow.append(win.buf.subarray(win.start, win.end));
      }
      overflow.append(got.subarray(at, at + n));
      win.adopt(overflow.buf, overflow.start, overflow.end, overflow.position);
    }
    this.bytesRead += n;
    // the buffer the window left is free now (its tail was copied out above)
    this.which ^= 1;
    this.readAt = CARRY + (this.bytesRead & 3);
    this.pending = this.readNext();
    if (!this.parse(win)) {
      await this.close();
      return false;
    }
    return true;
  }

  async close(): Promise<void> {
    this.done = true;
    const fh = this.fh;
    if (fh === null) return;
    this.fh = null;
    if (this.pending !== null) await this.pending.catch(() => undefined);
    this.pending = null;
    await fh.close();
  }
}

/**
 * Standard input, or a decompressed stream: chunks of any size appended to
 * one window (a copy per chunk; the plain-file path avoids it).
 */
class StreamReader extends ReaderBase {
  private readonly win = new ByteWindow(READ_SIZE);
  private readonly it: AsyncIterator<Buffer>;
  /** the first chunk, read ahead to look for a compression magic */
  private first: Buffer | null;

  constructor(path: string, sink: FrameSink, chunks: AsyncIterable<Buffer>, first: Buffer | null,
    private readonly counter: { bytesRead: number } | null, size: number, private readonly compressed: string | null,
    private readonly release: () => void) {
    super(path, sink);
    this.it = chunks[Symbol.asyncIterator]();
    this.first = first;
    this.fileBytes = size;
  }

  async pump(): Promise<boolean> {
    if (this.done) return false;
    let chunk: Buffer;
    if (this.first !== null) {
      chunk = this.first;
      this.first = null;
    } else {
      let r: IteratorResult<Buffer>;
      try {
        r = await this.it.next();
      } catch (e) {
        const win = this.win;
        const what = this.compressed !== null
          ? `the ${this.compressed} stream is cut short or corrupt after ${win.position + win.available} decompressed bytes (${(e as Error).message})`
          : `read error: ${(e as Error).message}`;
        this.info.problems.push({ kind: 'truncated', file: this.info.file, offset: win.position, record: (this.parser?.records ?? 0) + 1, message: what });
        await this.close();
        return false;
      }
      if (r.done) {
        this.finish(this.win);
        await this.close();
        return false;
      }
      chunk = r.value;
    }
    this.bytesRead = this.counter !== null ? this.counter.bytesRead : this.bytesRead + chunk.length;
    const win = this.win;
    win.append(chunk);
    const ok = this.parse(win);
    win.reserve(0);
    if (!ok) {
      await this.close();
      return false;
    }
    return true;
  }

  async close(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.release();
    await this.it.return?.().catch(() => undefined);
  }
}

/** A reader that has nothing to read (the input could not be opened): its problem is in `info`. */
class FailedReader extends ReaderBase {
  constructor(path: string, sink: FrameSink, message: string) {
    super(path, sink);
    unreadable(this.info, message);
    this.done = true;
  }

  pump(): Promise<boolean> {
    return Promise.resolve(false);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function openError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.code === 'EACCES' ? 'permission denied' : err.message;
}

/** Says why a capture compressed in a way this version does not read cannot be read, or null. */
function unsupportedCompression(head: Buffer): string | null {
  if (head.length < 4) return null;
  const m = head.readUInt32BE(0);
  if (m === ZSTD_MAGIC) return 'a zstd-compressed file: this version reads gzip only; decompress it first (zstd -d), docs/capture-formats.md';
  if (m === LZ4_MAGIC) return 'an lz4-compressed file: this version reads gzip only; decompress it first (lz4 -d), docs/capture-formats.md';
  return null;
}

function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === GZIP_MAGIC0 && head[1] === GZIP_MAGIC1;
}

/** Gunzips `first` then the rest of `rest` (standard input whose first chunk was already read). */
function gunzipFrom(first: Buffer, rest: AsyncIterable<Buffer>): Readable {
  async function* all(): AsyncGenerator<Buffer> {
    yield first;
    yield* rest;
  }
  return pipeline(Readable.from(all(), { objectMode: false }), createGunzip(), () => undefined);
}

/**
 * Opens a capture for reading: a file path, or `-` for standard input. Never
 * throws for the input: a file that cannot be opened, or is not a capture,
 * gives a reader whose `info.problems` says so.
 */
export async function openCapture(path: string, sink: FrameSink): Promise<CaptureReader> {
  if (path === STDIN_NAME) return openStdin(sink);
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    return new FailedReader(path, sink, openError(e));
  }
  let size = 0;
  const head = Buffer.alloc(4);
  let headLen = 0;
  try {
    size = (await fh.stat()).size;
    ({ bytesRead: headLen } = await fh.read(head, 0, 4, 0));
  } catch (e) {
    await fh.close().catch(() => undefined);
    return new FailedReader(path, sink, openError(e));
  }
  const magic = head.subarray(0, headLen);
  const unsupported = unsupportedCompression(magic);
  if (unsupported !== null) {
    await fh.close();
    return new FailedReader(path, sink, unsupported);
  }
  if (!isGzip(magic)) return new FileReader(path, sink, fh, size);
  // gzip: stream the file through node:zlib (the handle goes to the stream, which closes it)
  const file = fh.createReadStream({ highWaterMark: 256 * 1024 });
  const gunzip = pipeline(file, createGunzip({ chunkSize: 256 * 1024 }), () => undefined);
  return new StreamReader(path, sink, gunzip, null, file, size, 'gzip', () => { file.destroy(); gunzip.destroy(); });
}

async function openStdin(sink: FrameSink): Promise<CaptureReader> {
  const stdin = process.stdin;
  const it = stdin[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const rest: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => it };
  let first: Buffer | null = null;
  let error: Error | null = null;
  try {
    const r = await it.next();
    if (!r.done) first = r.value;
  } catch (e) {
    error = e as Error;
  }
  if (error !== null) return new FailedReader(STDIN_NAME, sink, `cannot read standard input: ${error.message}`);
  if (first !== null && unsupportedCompression(first) !== null) {
    stdin.destroy();
    return new FailedReader(STDIN_NAME, sink, unsupportedCompression(first)!);
  }
  const counter = { bytesRead: 0 };
  if (first !== null && isGzip(first)) {
    const counted: AsyncIterable<Buffer> = {
      async* [Symbol.asyncIterator]() {
        for await (const c of rest) {
          counter.bytesRead += (c as Buffer).length;
          yield c as Buffer;
        }
      },
    };
    counter.bytesRead = first.length;
    const gunzip = gunzipFrom(first, counted);
    return new StreamReader(STDIN_NAME, sink, gunzip, null, counter, 0, 'gzip', () => { gunzip.destroy(); stdin.destroy(); });
  }
  return new StreamReader(STDIN_NAME, sink, rest, first, null, 0, null, () => { stdin.pause(); });
}

/**
 * Reads a whole capture (a file, `-` for standard input, gzip-compressed or
 * not), calling `sink` once per frame. Never throws for bad content: problems
 * are returned in `info.problems`. An unopenable file is an `unreadable` problem.
 */
export async function readCaptureFile(path: string, sink: FrameSink, opts: ReadOptions = {}): Promise<InputInfo> {
  const r = await openCapture(path, sink);
  try {
    for (;;) {
      if (opts.beforeRead) await opts.beforeRead();
      const more = await r.pump();
      if (opts.onProgress && r.bytesRead > 0) opts.onProgress(r.bytesRead, r.fileBytes);
      if (!more) break;
    }
  } finally {
    await r.close();
  }
  return r.info;
}
