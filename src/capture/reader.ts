/**
 * Streaming capture readers: detect the format from the first bytes, then feed
 * the file through one reused ByteWindow (1 MiB reads, awaited, so the event
 * loop keeps turning). Memory does not grow with file size.
 *
 * The file reader is zero-copy: each read lands directly in one of two
 * buffers the window then points at; only the incomplete record at the end of
 * a chunk (at most one record) is copied, in front of the next chunk.
 */
import { open } from 'node:fs/promises';
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
          message: `not a pcap or pcapng capture: ${describeBytes(this.win.buf.subarray(this.win.start, this.win.end))}`,
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
          message: this.win.available === 0 ? 'the input is empty' : `not a pcap or pcapng capture: ${describeBytes(this.win.buf.subarray(this.win.start, this.win.end))}`,
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

/**
 * Reads a whole capture file, calling `sink` once per frame. Never throws for
 * bad content: problems are returned in `info.problems`. An unopenable file is
 * an `unreadable` problem.
 */
export async function readCaptureFile(path: string, sink: FrameSink, opts: ReadOptions = {}): Promise<InputInfo> {
  const info = newInputInfo(path);
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.code === 'EACCES' ? 'permission denied' : err.message;
    info.problems.push({ kind: 'unreadable', file: path, offset: 0, record: 0, message: why });
    return info;
  }
  let fileBytes = 0;
  try {
    const st = await fh.stat();
    fileBytes = st.size;
    if (st.isDirectory()) {
      // Linux opens a directory for reading; its first read fails (EISDIR)
      info.problems.push({ kind: 'unreadable', file: path, offset: 0, record: 0, message: 'is a directory' });
      await fh.close();
      return info;
    }
  } catch {
    fileBytes = 0;
  }
  // Double buffering: the next chunk is read (on the thread pool) while this one is
  // parsed. Reads land at CARRY + (stream offset mod 4) so that the window's base
  // stays a multiple of 4: 4-aligned records (all pcapng blocks) are 4-aligned in memory.
  const bufs = [Buffer.allocUnsafe(CARRY + 4 + READ_SIZE), Buffer.allocUnsafe(CARRY + 4 + READ_SIZE)];
  let which = 0;
  let fileOffset = 0;
  let readAt = CARRY;
  const readNext = () => fh.read(bufs[which], readAt, READ_SIZE, null);
  let pending: ReturnType<typeof readNext> | null = readNext();
  try {
    const win = new ByteWindow(0);
    let overflow: ByteWindow | null = null;
    let parser: FormatParser | undefined;
    for (;;) {
      if (opts.beforeRead) await opts.beforeRead();
      let n: number;
      try {
        ({ bytesRead: n } = await pending!);
      } catch (e) {
        pending = null;
        info.problems.push({ kind: 'truncated', file: path, offset: fileOffset, record: (parser?.records ?? 0) + 1, message: `read error: ${(e as Error).message}` });
        break;
      }
      pending = null;
      if (n === 0) break;
      const got = bufs[which];
      const at = readAt;
      const tail = win.end - win.start;
      const tailPos = win.position;
      if (tail <= at) {
        // the usual case: the previous chunk's incomplete record goes just in front of this one
        if (tail > 0) win.buf.copy(got, at - tail, win.start, win.end);
        win.adopt(got, at - tail, at + n, tailPos);
      } else {
        // a record longer than CARRY spans reads: gather it in the overflow window
        if (overflow !== null && win.buf === overflow.buf) overflow.start = win.start; // what the parser consumed
        else {
          overflow ??= new ByteWindow(2 * CARRY);
          overflow.adopt(overflow.buf, 0, 0, tailPos);
          overflow.append(win.buf.subarray(win.start, win.end));
        }
        overflow.append(got.subarray(at, at + n));
        win.adopt(overflow.buf, overflow.start, overflow.end, overflow.position);
      }
      fileOffset += n;
      // the buffer the window left is free now (its tail was copied out above)
      which ^= 1;
      readAt = CARRY + (fileOffset & 3);
      pending = readNext();
      if (opts.onProgress) opts.onProgress(fileOffset, fileBytes);
      if (!parser) {
        if (win.available < 4) continue;
        parser = parserFor(win.buf.subarray(win.start, win.end), info, sink);
        if (!parser) {
          info.problems.push({ kind: 'unreadable', file: path, offset: 0, record: 0, message: notACapture(win.buf.subarray(win.start, win.end)) });
          return info;
        }
      }
      parser.parse(win);
      if (parser.stopped) return info;
    }
    if (!parser) {
      info.problems.push({ kind: 'unreadable', file: path, offset: 0, record: 0, message: notACapture(win.buf.subarray(win.start, win.end)) });
      return info;
    }
    parser.finish(win);
    if (info.format === 'unknown' && info.problems.length === 0) {
      info.problems.push({ kind: 'truncated', file: path, offset: 0, record: 0, message: 'the file ends inside its header' });
    }
    return info;
  } finally {
    if (pending !== null) await pending.catch(() => undefined);
    await fh.close();
  }
}
