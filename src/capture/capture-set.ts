/**
 * A set of capture files read as one capture: the frames of every file in
 * timestamp order, as `mergecap` merges them by default (for a ring of
 * `tcpdump -C`/`-G` or `editcap -c` files, simply the files in order; files
 * from several interfaces of one host interleave). Ties go to the file given
 * first, and a file's own frames keep their order (a frame that is earlier
 * than its predecessor in the same file goes out when it is the earliest
 * head, as in mergecap).
 *
 * Numbering. The sink sees `frameNo` renumbered 1, 2, 3... over the merged
 * stream (the frame number the merged capture would have): the tracker,
 * timers, rules and the --workers merge order all run on it unchanged.
 * `FrameMap` turns such a number back into the file and that file's own
 * frame number (what Wireshark shows when it opens that file); it keeps one
 * run per switch from one file to another, and the caller lets go of the runs
 * no live connection can still name (`pruneBefore`).
 *
 * Memory. Each file is first opened only to learn its first timestamp
 * (one chunk read, then closed); a file is opened for good when the merge
 * reaches that time and closed at its end, so a ring of a thousand files has
 * one or two files open at once; files that overlap in time are open
 * together (each reader holds two 1.3 MiB buffers). While one file is read,
 * its frames go straight to the sink (no copy) as long as they are not later
 * than the earliest other head; from the first frame that is, the rest of
 * that chunk is copied into the file's queue (so at most one chunk per open
 * file is held), and the merge goes on with the earliest head.
 * Standard input (`-`) can be one member of a set: it is opened at once.
 *
 * Problems. Each file keeps its own InputInfo (frame counts, problems): a
 * file that is cut short ends there, the others go on.
 */
import type { Frame, FrameSink } from './frame.js';
import { newFrame } from './frame.js';
import type { InputInfo } from './parser.js';
import { openCapture, STDIN_NAME, type CaptureReader, type ReadOptions } from './reader.js';

/** Per queued frame: tsSec, tsNsec, linkType, capLen, origLen, interfaceId, fileOffset, frameNo, byte offset. */
const Q_FIELDS = 9;

/** Frames of one file copied out of its reader's window, waiting for their turn. */
class FrameQueue {
  private bytes = Buffer.allocUnsafe(0);
  private used = 0;
  private meta: number[] = [];
  private head = 0;
  /** the frame handed out by `pop` (valid until the next push) */
  readonly frame: Frame = newFrame();

  get length(): number {
    return (this.meta.length - this.head) / Q_FIELDS;
  }

  headSec(): number {
    return this.meta[this.head];
  }

  headNsec(): number {
    return this.meta[this.head + 1];
  }

  push(f: Frame): void {
    if (this.head === this.meta.length) {
      this.meta.length = 0;
      this.head = 0;
      this.used = 0;
    }
    const n = f.capLen;
    if (this.used + n > this.bytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(64 * 1024, 2 * (this.used + n)));
      this.bytes.copy(bigger, 0, 0, this.used);
      this.bytes = bigger;
    }
    f.buf.copy(this.bytes, this.used, f.offset, f.offset + n);
    this.meta.push(f.tsSec, f.tsNsec, f.linkType, n, f.origLen, f.interfaceId, f.fileOffset, f.frameNo, this.used);
    this.used += n;
  }

  /** The next frame (the queue's own Frame object, its bytes in the queue's buffer). */
  pop(): Frame {
    const m = this.meta;
    const i = this.head;
    const f = this.frame;
    f.tsSec = m[i];
    f.tsNsec = m[i + 1];
    f.linkType = m[i + 2];
    f.capLen = m[i + 3];
    f.origLen = m[i + 4];
    f.interfaceId = m[i + 5];
    f.fileOffset = m[i + 6];
    f.frameNo = m[i + 7];
    f.buf = this.bytes;
    f.offset = m[i + 8];
    this.head = i + Q_FIELDS;
    return f;
  }

  clear(): void {
    this.meta = [];
    this.head = 0;
    this.used = 0;
    this.bytes = Buffer.allocUnsafe(0);
  }
}

/**
 * Merged frame numbers back to (file, frame in that file): one run per
 * stretch of consecutive merged frames from one file.
 */
export class FrameMap {
  /** per run: first merged frame, file index, that file's frame number of it */
  private starts: number[] = [];
  private files: number[] = [];
  private locals: number[] = [];
  private first = 0;
  /** set by locate() */
  file = 0;
  frame = 0;

  constructor(readonly paths: readonly string[]) {}

  /** runs held (for tests and the pruning schedule) */
  get runs(): number {
    return this.starts.length - this.first;
  }

  add(merged: number, file: number, local: number): void {
    this.starts.push(merged);
    this.files.push(file);
    this.locals.push(local);
  }

  /** Sets `file` and `frame` for merged frame number `merged`; false when it was pruned or not seen. */
  locate(merged: number): boolean {
    const s = this.starts;
    let lo = this.first;
    let hi = s.length - 1;
    if (hi < lo || merged < s[lo]) return false;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (s[mid] <= merged) lo = mid;
      else hi = mid - 1;
    }
    this.file = this.files[lo];
    this.frame = this.locals[lo] + (merged - s[lo]);
    return true;
  }

  /** Lets go of the runs that end before merged frame `merged` (no frame before it will be asked for). */
  pruneBefore(merged: number): void {
    const s = this.starts;
    let f = this.first;
    while (f + 1 < s.length && s[f + 1] <= merged) f++;
    this.first = f;
    if (f > 1024 && f * 2 > s.length) {
      this.starts = s.slice(f);
      this.files = this.files.slice(f);
      this.locals = this.locals.slice(f);
      this.first = 0;
    }
  }
}

interface Member {
  index: number;
  path: string;
  reader: CaptureReader | null;
  /** opened and read to the end (or given up) */
  done: boolean;
  /** the first frame's time, from the first look (unopened members) */
  firstSec: number;
  firstNsec: number;
  queue: FrameQueue;
  info: InputInfo | null;
  /** frames handed out, and the first and last one's time */
  frames: number;
  tsFirst: number | null;
  lastSec: number;
  lastNsec: number;
}

/** What reading a set tells of each file: its reader's info, the first and last frame's time (null: none). */
export interface SetFileResult {
  info: InputInfo;
  firstTs: number | null;
  lastTs: number | null;
}

export interface SetReadOptions extends ReadOptions {
  /** progress of the set: the file being read, its bytes read and size */
  onFileProgress?: (file: string, bytesRead: number, fileBytes: number) => void;
}

/** Is (secA, nsA, a) before (secB, nsB, b)? Time, then the file's place in the set. */
function before(secA: number, nsA: number, a: number, secB: number, nsB: number, b: number): boolean {
  return secA < secB || (secA === secB && (nsA < nsB || (nsA === nsB && a < b)));
}

/**
 * Reads `paths` as one capture (see the module comment), calling `sink` once
 * per frame in merged order with `frameNo` the merged frame number, and
 * recording file switches in `map`. Returns each file's InputInfo, in the
 * order given. Never throws for bad content.
 */
export async function readCaptureSet(paths: readonly string[], sink: FrameSink, map: FrameMap, opts: SetReadOptions = {}): Promise<SetFileResult[]> {
  const members: Member[] = paths.map((path, index) => ({
    index, path, reader: null, done: false, firstSec: 0, firstNsec: 0, queue: new FrameQueue(), info: null,
    frames: 0, tsFirst: null, lastSec: 0, lastNsec: 0,
  }));
  let merged = 0;
  let lastFile = -1;
  const forward = (m: Member, f: Frame): void => {
    if (m.index !== lastFile) {
      lastFile = m.index;
      map.add(merged + 1, m.index, f.frameNo);
    }
    if (m.frames++ === 0) m.tsFirst = f.tsSec + f.tsNsec / 1e9;
    m.lastSec = f.tsSec;
    m.lastNsec = f.tsNsec;
    f.frameNo = ++merged;
    sink(f);
  };
  // the bound while one member is pumped: its frames before this head go straight out
  let boundSec = 0;
  let boundNsec = 0;
  let boundFile = 0;
  /** no bound is known (another member's head is unknown): queue every frame */
  let queueAll = false;
  let queuing = false;
  let pumped: Member | null = null;
  const memberSink = (f: Frame): void => {
    const m = pumped!;
    if (!queuing && !queueAll && before(f.tsSec, f.tsNsec, m.index, boundSec, boundNsec, boundFile)) {
      forward(m, f);
      return;
    }
    queuing = true;
    m.queue.push(f);
  };
  const sinks = members.map((m) => (f: Frame) => { pumped = m; memberSink(f); });

  // first look: every file's first frame time (standard input is opened for good at once)
  for (const m of members) {
    if (m.path === STDIN_NAME) {
      m.reader = await openCapture(m.path, sinks[m.index]);
      continue;
    }
    let seen = false;
    const probe = await openCapture(m.path, (f) => {
      if (seen) return;
      seen = true;
      m.firstSec = f.tsSec;
      m.firstNsec = f.tsNsec;
    });
    while (!seen && await probe.pump());
    await probe.close();
    if (!seen) {
      // nothing to merge: its reader's info (empty, or the problem) is final
      m.done = true;
      m.info = probe.info;
    }
  }

  const pump = async (m: Member): Promise<void> => {
    if (opts.beforeRead) await opts.beforeRead();
    pumped = m;
    queuing = false;
    const more = await m.reader!.pump();
    queuing = false;
    const r = m.reader!;
    if (opts.onFileProgress && r.bytesRead > 0) opts.onFileProgress(m.path, r.bytesRead, r.fileBytes);
    if (!more) {
      m.done = true;
      m.info = r.info;
      m.reader = null;
    }
  };

  /** Sets hSec/hNsec to a member's head; false when it has none (finished) or it is not known (open, nothing queued). */
  let hSec = 0;
  let hNsec = 0;
  const head = (m: Member): boolean => {
    if (m.queue.length > 0) {
      hSec = m.queue.headSec();
      hNsec = m.queue.headNsec();
      return true;
    }
    if (m.reader === null && !m.done) {
      hSec = m.firstSec;
      hNsec = m.firstNsec;
      return true;
    }
    return false;
  };
  for (;;) {
    // a member whose head is not known (open, queue empty) is read first
    let unknown: Member | null = null;
    let unknowns = 0;
    for (const m of members) {
      if (m.reader !== null && m.queue.length === 0) {
        unknown ??= m;
        unknowns++;
      }
    }
    // the earliest known head, and the one after it
    let best: Member | null = null;
    let bSec = 0;
    let bNsec = 0;
    let second: Member | null = null;
    let sSec = 0;
    let sNsec = 0;
    for (const m of members) {
      if (m === unknown || !head(m)) continue;
      if (best === null || before(hSec, hNsec, m.index, bSec, bNsec, best.index)) {
        second = best;
        sSec = bSec;
        sNsec = bNsec;
        best = m;
        bSec = hSec;
        bNsec = hNsec;
      } else if (second === null || before(hSec, hNsec, m.index, sSec, sNsec, second.index)) {
        second = m;
        sSec = hSec;
        sNsec = hNsec;
      }
    }
    if (unknown !== null) {
      queueAll = unknowns > 1;
      if (best === null) {
        // nothing else to wait for: everything it has goes straight out
        boundSec = Infinity;
        boundNsec = 0;
        boundFile = 0;
      } else {
        boundSec = bSec;
        boundNsec = bNsec;
        boundFile = best.index;
      }
      await pump(unknown);
      continue;
    }
    if (best === null) break;
    if (best.queue.length === 0) {
      // an unopened file's turn has come: open it for good
      best.reader = await openCapture(best.path, sinks[best.index]);
      continue;
    }
    // queued frames of the earliest member, as long as they stay the earliest
    const q = best.queue;
    const bi = best.index;
    do {
      forward(best, q.pop());
    } while (q.length > 0 && (second === null || before(q.headSec(), q.headNsec(), bi, sSec, sNsec, second.index)));
  }
  for (const m of members) m.queue.clear();
  return members.map((m) => ({ info: m.info!, firstTs: m.tsFirst, lastTs: m.frames === 0 ? null : m.lastSec + m.lastNsec / 1e9 }));
}
