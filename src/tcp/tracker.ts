/**
 * The connection table and the per-segment state machine.
 *
 * Semantics follow Zeek's TCP analyzer (TCPSessionAdapter: UpdateStateMachine,
 * IsReuse, WantConnection, update_history) so that conn_state and history can
 * be checked against Zeek's own verdicts (see docs/conformance.md):
 * - the originator is the sender of the first SYN; a first packet that is a
 *   SYN-ACK flips roles; a first packet without SYN flips when only its source
 *   port is a likely server port;
 * - a SYN (or SYN-ACK to an inactive originator) with a new ISN starts a new
 *   connection (port reuse); so does any packet once the connection's close
 *   timer (5 s after a complete close, 3 s for a half connection) or SYN
 *   attempt timer (5 s, no answer) has expired, or after 5 minutes idle;
 * - all timers run on capture time, never on the wall clock.
 *
 * Memory: live connections are capped (`maxConnections`); past the cap the
 * longest-idle connection is closed out early and counted as evicted. Idle and
 * closed connections are swept as capture time advances.
 */
import type { Frame } from '../capture/frame.js';
import { decodeFrame } from '../decode/decoder.js';
import {
  DECODE_REASONS, DecodeResult, newPacket, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type Packet,
} from '../decode/packet.js';
import { Connection, MAX_RSTS, NONE, TIMER_ATTEMPT, TIMER_DELETE } from './connection.js';
import { H_ACK, H_DATA, H_FIN, H_FIN_RST, H_MULTI, H_RST, H_SYN } from './history.js';
import { packRstSummary } from './rst-summary.js';
import {
  HEAD_SEGMENTS, MAX_SYN_TIMES, PIN_DATA_AFTER_PEER_FIN, PIN_FIN, PIN_KEEPALIVE, SegmentArena, TAIL_SEGMENTS, writeSegment,
  type Segment,
} from './segment-log.js';
import { Endpoint, EpState } from './endpoint.js';
import { isLikelyServerPort } from './ports.js';
import { RST_ACCEPTANCES, rstShapeCode } from './rst.js';
import { unwrapRel } from './seq.js';

export interface TrackerOptions {
  /** live connections kept at most; beyond, the longest-idle is closed out (evicted) */
  maxConnections: number;
  /** validate IP/TCP checksums; bad packets are counted and ignored as Zeek does */
  checksums: boolean;
  /** close out a connection idle this long (capture time) */
  inactivityTimeoutSec: number;
  /** drop a completely closed connection this long after its close */
  closeDelaySec: number;
  /** drop a half connection (peer never seen) this long after its close */
  partialCloseDelaySec: number;
  /** drop an unanswered SYN attempt this long after the SYN */
  attemptDelaySec: number;
  /** drop a connection this long after a RST (Zeek's tcp_reset_delay) */
  resetDelaySec: number;
  /**
   * an unanswered SYN whose retries stopped this long ago is closed out by the
   * sweep (Linux spaces SYN retries at most 64 s apart by default)
   */
  synRetryHorizonSec: number;
  /**
   * Analyze only the connections of one shard: those whose symmetric flow
   * hash modulo `shardCount` equals `shardIndex` (both directions of a
   * connection always land in the same shard). 1 shard = everything.
   */
  shardIndex: number;
  shardCount: number;
  /**
   * Keep the evidence the rules read: each connection's segment log (first and
   * last segments), teardown milestones, SYN times and full RST records. Off
   * (`flows`, which runs no rules), connections carry only what their record
   * says (docs/schema.md): state, history, counts and a summary of each RST;
   * records are the same either way. Measured on the 2 M-packet bench capture:
   * about a third less peak memory (see docs/performance.md).
   */
  evidence: boolean;
}

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = {
  // about 3-5 KB of memory per live connection: 50,000 keeps a 1 M-source flood near 325 MB;
  // raise it (--max-connections) for captures with more connections open at once
  maxConnections: 50_000,
  checksums: false,
  inactivityTimeoutSec: 300,
  closeDelaySec: 5,
  partialCloseDelaySec: 3,
  attemptDelaySec: 5,
  resetDelaySec: 5,
  synRetryHorizonSec: 70,
  shardIndex: 0,
  shardCount: 1,
  evidence: true,
};

export interface TrackerStats {
  frames: number;
  tcpSegments: number;
  /** frames that carried no analyzable TCP segment, by reason */
  skipped: Record<string, number>;
  connections: number;
  evicted: number;
  reused: number;
  timedOut: number;
  maxLive: number;
  badChecksums: number;
  /** TCP segments left to other shards (--shard) */
  otherShard: number;
}

export type ConnectionSink = (c: Connection) => void;


function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16); // signed 32-bit: a small integer, never a boxed number
}

/** Hash of one endpoint (address words and port). */
function endHash(a0: number, a1: number, a2: number, a3: number, port: number): number {
  let h = mix(a0 ^ 0x9e3779b9);
  h = mix(h ^ a1);
  h = mix(h ^ a2);
  h = mix(h ^ a3);
  return mix(h ^ port);
}

/** Symmetric hash of a TCP 4-tuple: the same for both directions (also used to shard work). */
export function flowHash(p: Packet): number {
  const a = endHash(p.src0, p.src1, p.src2, p.src3, p.srcPort);
  const b = endHash(p.dst0, p.dst1, p.dst2, p.dst3, p.dstPort);
  // 30 bits: a V8 small integer, so Map lookups never box the key
  return mix(((a + b) | 0) ^ Math.imul(a ^ b, 0x27d4eb2d)) & 0x3fffffff;
}

/**
 * Deadlines armed with one fixed delay, kept in arrival order: since capture
 * time only moves forward (Connection.lastTime never goes back), deadlines
 * come out in order and expiring them is O(1) per connection. Entries whose
 * connection was closed out or re-armed are skipped when they come up.
 */
class TimerQueue {
  // A ring (capacity a power of two, doubled when full): entry n lives at n & mask.
  private deadlines = new Float64Array(1024);
  private conns: (Connection | null)[] = new Array<Connection | null>(1024).fill(null);
  private mask = 1023;
  /** sequence numbers of the oldest entry and of the next one pushed (handles) */
  private head = 0;
  private tail = 0;

  /** Queues a deadline; returns a handle for cancel(). */
  push(deadline: number, c: Connection): number {
    if (this.tail - this.head > this.mask) this.grow();
    const i = this.tail & this.mask;
    this.deadlines[i] = deadline;
    this.conns[i] = c;
    return this.tail++;
  }

  /** Drops the entry (the queue keeps no reference to a closed connection). */
  cancel(handle: number): void {
    if (handle >= this.head && handle < this.tail) this.conns[handle & this.mask] = null;
  }

  /** The next connection whose deadline is <= now, or null. */
  pop(now: number): Connection | null {
    while (this.head < this.tail) {
      const i = this.head & this.mask;
      if (this.deadlines[i] > now) return null;
      const c = this.conns[i];
      this.conns[i] = null;
      this.head++;
      if (c !== null) return c;
    }
    return null;
  }

  clear(): void {
    this.conns.fill(null);
    this.head = this.tail;
  }

  private grow(): void {
    const size = (this.mask + 1) * 2;
    const deadlines = new Float64Array(size);
    const conns = new Array<Connection | null>(size).fill(null);
    const mask = size - 1;
    for (let n = this.head; n < this.tail; n++) {
      deadlines[n & mask] = this.deadlines[n & this.mask];
      conns[n & mask] = this.conns[n & this.mask];
    }
    this.deadlines = deadlines;
    this.conns = conns;
    this.mask = mask;
  }
}


/**
 * Least-recently-active order without touching other connections on every
 * packet (a linked LRU list costs two random memory writes per packet): a
 * binary min-heap of entries (lastFrame when pushed, connection, its id).
 * Frames are processed in order and one frame touches one connection, so the
 * live connection with the smallest lastFrame is the one a linked LRU list
 * would have at its head. An entry goes stale when its connection saw more
 * packets (lastFrame grew), was closed out, or was reused under a new id;
 * stale entries are fixed (re-keyed) or dropped only when they reach the top,
 * so each packet costs nothing here and each connection a few O(log n) steps.
 */
class IdleHeap {
  private keys: number[] = [];
  private conns: Connection[] = [];
  private ids: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  push(c: Connection): void {
    this.keys.push(c.lastFrame);
    this.conns.push(c);
    this.ids.push(c.id);
    this.up(this.keys.length - 1);
  }

  /** The live connection whose last packet is the oldest, or null (fixes or drops stale entries on the way). */
  top(): Connection | null {
    const keys = this.keys;
    while (keys.length > 0) {
      const c = this.conns[0];
      if (c.id !== this.ids[0] || c.closedOut) {
        this.removeTop();
        continue;
      }
      if (c.lastFrame === keys[0]) return c;
      keys[0] = c.lastFrame;
      this.down(0);
    }
    return null;
  }

  /** Drops stale entries and rebuilds (bounds the heap when many closed connections never reached the top). */
  compact(): void {
    const { keys, conns, ids } = this;
    let n = 0;
    for (let i = 0; i < keys.length; i++) {
      const c = conns[i];
      if (c.id !== ids[i] || c.closedOut) continue;
      keys[n] = c.lastFrame;
      conns[n] = c;
      ids[n] = ids[i];
      n++;
    }
    keys.length = n;
    conns.length = n;
    ids.length = n;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.down(i);
  }

  clear(): void {
    this.keys = [];
    this.conns = [];
    this.ids = [];
  }

  private removeTop(): void {
    const last = this.keys.length - 1;
    const k = this.keys.pop()!;
    const c = this.conns.pop()!;
    const id = this.ids.pop()!;
    if (last > 0) {
      this.keys[0] = k;
      this.conns[0] = c;
      this.ids[0] = id;
      this.down(0);
    }
  }

  private up(i: number): void {
    const { keys, conns, ids } = this;
    const k = keys[i];
    const c = conns[i];
    const id = ids[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent] <= k) break;
      keys[i] = keys[parent];
      conns[i] = conns[parent];
      ids[i] = ids[parent];
      i = parent;
    }
    keys[i] = k;
    conns[i] = c;
    ids[i] = id;
  }

  private down(i: number): void {
    const { keys, conns, ids } = this;
    const n = keys.length;
    const k = keys[i];
    const c = conns[i];
    const id = ids[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && keys[child + 1] < keys[child]) child++;
      if (keys[child] >= k) break;
      keys[i] = keys[child];
      conns[i] = conns[child];
      ids[i] = ids[child];
      i = child;
    }
    keys[i] = k;
    conns[i] = c;
    ids[i] = id;
  }
}

export class Tracker {
  readonly opts: TrackerOptions;
  readonly stats: TrackerStats;
  readonly packet: Packet = newPacket();
  /**
   * The connection table: buckets by flow hash, chained through
   * Connection.nextInBucket. A plain array, not a Map: one memory access to
   * the bucket, then the connection itself (a Map's hash table costs two or
   * three cache misses per packet at tens of thousands of connections).
   */
  private readonly buckets: (Connection | null)[];
  private readonly bucketMask: number;
  private readonly arena = new SegmentArena();
  /** opts.evidence, read on every packet */
  private readonly evidence: boolean;
  /** closed-out connections kept for reuse (see Connection.reuse) */
  private readonly pool: Connection[] = [];
  private readonly idle = new IdleHeap();
  /** live connections being closed out by flushStep, and how far it got */
  private flushing: Connection[] | null = null;
  private flushAt = 0;
  private live = 0;
  private nextId = 1;
  private streamNo = 0;
  private input = 0;
  /** capture time of the frame being processed, seconds (float) */
  private now = 0.5;
  private readonly closeTimers = new TimerQueue();
  private readonly partialCloseTimers = new TimerQueue();
  private readonly resetTimers = new TimerQueue();
  private readonly synTimers = new TimerQueue();

  constructor(private readonly sink: ConnectionSink, opts: Partial<TrackerOptions> = {}) {
    this.opts = { ...DEFAULT_TRACKER_OPTIONS, ...opts };
    this.evidence = this.opts.evidence;
    // about one bucket per connection at the cap (4 Ki to 1 Mi buckets; longer chains beyond)
    let n = 4096;
    while (n < this.opts.maxConnections && n < (1 << 20)) n *= 2;
    this.buckets = new Array<Connection | null>(n).fill(null);
    this.bucketMask = n - 1;
    const skipped: Record<string, number> = {};
    this.stats = {
      frames: 0, tcpSegments: 0, skipped, connections: 0, evicted: 0, reused: 0, timedOut: 0, maxLive: 0, badChecksums: 0,
      otherShard: 0,
    };
  }

  get liveConnections(): number {
    return this.live;
  }

  /** Starts a new input file: frame numbers and stream indexes restart. Call flush() between files. */
  beginInput(index: number): void {
    this.input = index;
    this.streamNo = 0;
  }

  /** Decodes and tracks one frame. */
  process(f: Frame): void {
    this.stats.frames++;
    const p = this.packet;
    const res = decodeFrame(f, p, this.opts);
    if (res !== DecodeResult.Tcp) {
      const reason = DECODE_REASONS[res];
      this.stats.skipped[reason] = (this.stats.skipped[reason] ?? 0) + 1;
      return;
    }
    this.stats.tcpSegments++;
    // kept in a field, not passed as an argument: a double argument to a
    // function V8 does not inline is boxed (a heap allocation per call)
    const now = this.now = f.tsSec + f.tsNsec / 1e9;
    this.sweep();

    const hash = flowHash(p);
    if (this.opts.shardCount > 1 && hash % this.opts.shardCount !== this.opts.shardIndex) {
      this.stats.otherShard++;
      return;
    }
    let c = this.lookup(hash, p);
    if (c !== null) {
      // The integer checks first: they read fields on the connection's first
      // cache line, while each float time is a separate heap box. lastTime is
      // at least lastTsSec, so when tsSec - lastTsSec + 1 <= the idle timeout
      // the connection cannot be idle.
      const idleSec = this.opts.inactivityTimeoutSec;
      const timers = c.timers;
      // Likewise a deadline whose whole second is 2 or more ahead of tsSec is
      // ahead of now, whatever the rounding of now.
      const tsSec = f.tsSec;
      const expired = ((timers & TIMER_DELETE) !== 0 && tsSec + 1 >= c.deleteSec && c.deleteAt <= now)
        || (tsSec - c.lastTsSec + 1 > idleSec && now - c.lastTime > idleSec)
        || ((timers & TIMER_ATTEMPT) !== 0 && tsSec + 1 >= c.attemptSec && this.attemptExpired(c) && !this.isSynRetry(c, p));
      if (expired) {
        this.stats.timedOut++;
        this.closeOut(c, c.deleteAt <= now ? 'closed' : 'timeout');
        c = null;
      } else if (this.isReuse(c, p, this.sentByOrig(c, p))) {
        this.stats.reused++;
        this.closeOut(c, 'reused');
        c = null;
      }
    }
    if (c === null) c = this.create(hash, p, f);
    // a connection from an address and port to itself counts as from the originator
    const fromOrig = this.sentByOrig(c, p);
    this.deliver(c, fromOrig, p, f);
  }

  /** Closes out every live connection (end of input). */
  flush(): void {
    while (!this.flushStep(Infinity));
  }

  /**
   * flush() in pieces: closes out at most `max` live connections; returns true
   * once every connection is closed out (the caller may collect garbage or let
   * output drain between pieces: the end of a large input closes out tens of
   * thousands of connections at once). Do not process frames until it returned true.
   */
  flushStep(max: number): boolean {
    if (this.flushing === null) {
      // in order of first frame: the order --workers merges the end-of-input
      // records in (src/cli/parallel.ts), so streamed output is the same
      this.flushing = this.liveList().sort((a, b) => a.firstFrame - b.firstFrame);
      this.flushAt = 0;
    }
    const list = this.flushing;
    const end = Math.min(list.length, this.flushAt + max);
    for (let i = this.flushAt; i < end; i++) this.closeOut(list[i], 'end');
    this.flushAt = end;
    if (end < list.length) return false;
    this.flushing = null;
    this.idle.clear();
    this.closeTimers.clear();
    this.partialCloseTimers.clear();
    this.resetTimers.clear();
    this.synTimers.clear();
    return true;
  }

  /**
   * Live capture (src/cli/commands/live.ts): runs the timer sweep at capture time
   * `nowSec` although no packet arrived, so connections whose close, attempt or
   * idle timers expired are closed out while the wire is quiet. Same timers
   * and outcome as the packet-driven sweep; the caller passes a time no later
   * than any packet still in flight (it lags the wall clock).
   */
  advance(nowSec: number): void {
    this.now = nowSec;
    this.sweep();
  }

  /**
   * Live capture: visits live connections most recently active first, until
   * `fn` returns false (so a caller interested in recent activity stops early
   * instead of walking the whole table). `fn` must not change tracker state.
   */
  forEachRecent(fn: (c: Connection) => boolean): void {
    for (const c of this.liveList().sort((a, b) => b.lastFrame - a.lastFrame)) if (!fn(c)) return;
  }

  /** Every live connection (walks the table: for flush and live ticks, not per packet). */
  private liveList(): Connection[] {
    const out: Connection[] = [];
    for (const head of this.buckets) for (let c = head; c !== null; c = c.nextInBucket) out.push(c);
    return out;
  }

  /**
   * A retransmission of the originator's unanswered SYN (same ISN). Zeek starts
   * a new row for it once its attempt timer fired; we keep one connection per
   * connect() attempt so its retries and their spacing are reported together.
   */
  private isSynRetry(c: Connection, p: Packet): boolean {
    return (p.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN && c.orig.sawSyn && p.seq === c.orig.isn && this.sentByOrig(c, p);
  }

  private attemptExpired(c: Connection): boolean {
    const now = this.now;
    if (c.attemptAt > now) return false;
    const os = c.orig.state;
    if ((os === EpState.SynSent || os === EpState.SynAckSent) && c.resp.state === EpState.Inactive) return true;
    c.attemptAt = Infinity;
    c.timers &= ~TIMER_ATTEMPT;
    return false;
  }

  /**
   * Closes out connections whose timers expired, in O(1) per expiring
   * connection: due close/reset deadlines from the timer queues, idle ones from
   * the top of the idle heap (least recent activity first), and unanswered SYNs
   * whose retries stopped. Cheap enough to run on every packet.
   */
  private sweep(): void {
    const now = this.now;
    this.expireDeletes(this.closeTimers);
    this.expireDeletes(this.partialCloseTimers);
    this.expireDeletes(this.resetTimers);
    const horizon = this.opts.synRetryHorizonSec;
    for (let c = this.synTimers.pop(now); c !== null; c = this.synTimers.pop(now)) {
      c.synTimer = -1;
      if (!isSynOnly(c)) continue;
      if (now - c.lastTime >= horizon) {
        this.stats.timedOut++;
        this.closeOut(c, 'timeout');
      } else c.synTimer = this.synTimers.push(c.lastTime + horizon, c);
    }
    const idle = this.opts.inactivityTimeoutSec;
    for (let c = this.idle.top(); c !== null && now - c.lastTime > idle; c = this.idle.top()) {
      this.stats.timedOut++;
      this.closeOut(c, 'timeout');
    }
  }

  private expireDeletes(q: TimerQueue): void {
    const now = this.now;
    for (let c = q.pop(now); c !== null; c = q.pop(now)) {
      c.deleteTimer = -1;
      c.deleteQueue = null;
      if (c.deleteAt <= now) this.closeOut(c, 'closed');
    }
  }

  /** Arms the delete timer (earliest wins). */
  private armDelete(c: Connection, delaySec: number, q: TimerQueue): void {
    const t = c.lastTime + delaySec;
    if (t < c.deleteAt) {
      c.deleteAt = t;
      c.deleteSec = Math.floor(t);
      c.timers |= TIMER_DELETE;
      if (c.deleteQueue !== null) c.deleteQueue.cancel(c.deleteTimer);
      c.deleteQueue = q;
      c.deleteTimer = q.push(t, c);
    }
  }

  private lookup(hash: number, p: Packet): Connection | null {
    let c = this.buckets[hash & this.bucketMask];
    while (c !== null) {
      if (c.ipVersion === p.ipVersion) {
        if (c.oPort === p.srcPort && c.rPort === p.dstPort && c.o0 === p.src0 && c.r0 === p.dst0
          && c.o1 === p.src1 && c.o2 === p.src2 && c.o3 === p.src3 && c.r1 === p.dst1 && c.r2 === p.dst2 && c.r3 === p.dst3) return c;
        if (c.oPort === p.dstPort && c.rPort === p.srcPort && c.o0 === p.dst0 && c.r0 === p.src0
          && c.o1 === p.dst1 && c.o2 === p.dst2 && c.o3 === p.dst3 && c.r1 === p.src1 && c.r2 === p.src2 && c.r3 === p.src3) return c;
      }
      c = c.nextInBucket;
    }
    return null;
  }

  /** Zeek's IsReuse: only a SYN (or a SYN-ACK to an inactive originator) with a new ISN starts over. */
  private sentByOrig(c: Connection, p: Packet): boolean {
    return p.srcPort === c.oPort && p.src0 === c.o0 && p.src1 === c.o1 && p.src2 === c.o2 && p.src3 === c.o3;
  }

  private isReuse(c: Connection, p: Packet, fromOrig: boolean): boolean {
    const flags = p.flags;
    if ((flags & TCP_SYN) === 0) return false;
    // Simultaneous open (RFC 9293 3.5): the responder's own bare SYN while the
    // originator's SYN is unanswered is not a new connection. (Zeek's IsReuse
    // would start over here; we keep the crossing visible.)
    if ((flags & TCP_ACK) === 0 && !fromOrig && c.orig.state === EpState.SynSent && c.resp.state === EpState.Inactive) return false;
    let connOrig = c.orig;
    if (flags & TCP_ACK) {
      if (c.orig.state !== EpState.Inactive) return false;
      connOrig = c.resp;
    }
    const closed = c.orig.didClose || c.resp.didClose;
    if (!closed) {
      if (!connOrig.seqInit || p.seq === connOrig.isn) return false;
      if ((flags & TCP_ACK) === 0 && connOrig.state === EpState.SynAckSent && c.resp.state === EpState.Inactive && p.seq === c.resp.isn) return false;
    }
    return true;
  }

  private create(hash: number, p: Packet, f: Frame): Connection {
    const now = this.now;
    const oldest = this.live >= this.opts.maxConnections ? this.idle.top() : null;
    if (oldest !== null) {
      this.stats.evicted++;
      oldest.evicted = true;
      this.closeOut(oldest, 'evicted');
    }
    const c = this.pool.pop()?.reuse() ?? new Connection(this.evidence ? this.arena : null);
    c.id = this.nextId++;
    c.input = this.input;
    c.stream = this.streamNo++;
    c.hash = hash;
    c.ipVersion = p.ipVersion;
    c.o0 = p.src0; c.o1 = p.src1; c.o2 = p.src2; c.o3 = p.src3; c.oPort = p.srcPort;
    c.r0 = p.dst0; c.r1 = p.dst1; c.r2 = p.dst2; c.r3 = p.dst3; c.rPort = p.dstPort;
    c.firstFrame = f.frameNo;
    c.firstTsSec = f.tsSec;
    c.firstTsNsec = f.tsNsec;
    c.startTime = now;
    c.lastTime = now;
    const flags = p.flags;
    let flip = false;
    if (flags & TCP_SYN) {
      flip = (flags & TCP_ACK) !== 0;
    } else {
      c.partial = true;
      if (isLikelyServerPort(p.srcPort)) flip = !isLikelyServerPort(p.dstPort) || p.srcPort < p.dstPort;
    }
    if (flip) {
      c.flip();
      c.partial = true;
    }
    const b = hash & this.bucketMask;
    c.nextInBucket = this.buckets[b];
    this.buckets[b] = c;
    this.live++;
    this.stats.connections++;
    if (this.live > this.stats.maxLive) this.stats.maxLive = this.live;
    c.lastFrame = f.frameNo;
    this.idle.push(c);
    if (this.idle.size > 2 * this.live + 4096) this.idle.compact();
    return c;
  }

  private closeOut(c: Connection, reason: string): void {
    // remove from hash chain
    const b = c.hash & this.bucketMask;
    let head = this.buckets[b];
    if (head === c) {
      this.buckets[b] = c.nextInBucket;
    } else {
      while (head !== null && head.nextInBucket !== c) head = head.nextInBucket;
      if (head !== null) head.nextInBucket = c.nextInBucket;
    }
    c.nextInBucket = null;
    this.live--;
    c.endReason = reason;
    c.closedOut = true;
    if (c.deleteQueue !== null) c.deleteQueue.cancel(c.deleteTimer);
    if (c.synTimer >= 0) this.synTimers.cancel(c.synTimer);
    c.deleteQueue = null;
    this.sink(c);
    c.releaseLog();
    // pooled connections are ones that were live at the peak, so the pool never
    // holds more than (peak live - live) <= maxConnections: memory stays at the peak
    if (this.pool.length < this.opts.maxConnections) this.pool.push(c);
  }

  /** Writes the segment into the connection's evidence log; returns its slot. No allocation. */
  private recordSegment(c: Connection, fromOrig: boolean, p: Packet, f: Frame, seqRel: number, ackRel: number, retrans: boolean): number {
    const slot = c.nextSlot();
    writeSegment(c.logI32, c.logI, slot, p, f, fromOrig, retrans, seqRel, ackRel);
    return slot;
  }

  private deliver(c: Connection, fromOrig: boolean, p: Packet, f: Frame): void {
    const now = this.now;
    const ep = fromOrig ? c.orig : c.resp;
    const peer = fromOrig ? c.resp : c.orig;
    const flags = p.flags;
    const len = p.payloadLen;
    const syn = (flags & TCP_SYN) !== 0;
    const fin = (flags & TCP_FIN) !== 0;
    const rst = (flags & TCP_RST) !== 0;
    const ackFlag = (flags & TCP_ACK) !== 0;
    c.lastFrame = f.frameNo;
    c.lastTsSec = f.tsSec;
    c.lastTsNsec = f.tsNsec;
    // timers only move forward: one frame stamped in the past (a capture clock
    // step, merged files) must not make the next frame look idle for hours
    if (now > c.lastTime) c.lastTime = now;
    ep.pkts++;

    if (this.opts.checksums && p.badChecksum) {
      // Zeek notes the bad packet ('C', log scale) and otherwise ignores it.
      this.stats.badChecksums++;
      ep.badChecksums++;
      if (ep.badChecksums === ep.checksumThreshold) {
        c.addHistory('C', fromOrig);
        ep.checksumThreshold *= 10;
      }
      return;
    }

    // Sequence base (Zeek's init_endpoint)
    if (ep.state === EpState.Inactive && !ep.seqInit) {
      ep.seqInit = true;
      if (syn) {
        ep.isn = p.seq;
        ep.sawSyn = true;
        ep.maxEndRel = 0;
      } else {
        ep.isn = (p.seq - 1) | 0;
        ep.maxEndRel = 1;
      }
    } else if (syn && (ep.state === EpState.SynSent || ep.state === EpState.SynAckSent) && p.seq !== ep.isn) {
      ep.isn = p.seq; // SYN_seq_jump
      ep.sawSyn = true;
      ep.maxEndRel = 0;
    } else if (syn && !ep.sawSyn && ep.state === EpState.Inactive) {
      ep.isn = p.seq;
      ep.sawSyn = true;
      ep.maxEndRel = 0;
    }
    // The peer's sequence base from our ACK when we have not seen it send yet (mid-stream start)
    if (ackFlag && !peer.seqInit && !rst) {
      peer.seqInit = true;
      peer.isn = (p.ack - 1) | 0;
      peer.maxEndRel = 1;
    }
    const seqRel = unwrapRel(p.seq, ep.isn, ep.maxEndRel);
    const ackRel = ackFlag && peer.seqInit ? unwrapRel(p.ack, peer.isn, peer.maxEndRel) : -1;
    const segLen = len + (syn ? 1 : 0) + (fin ? 1 : 0);

    // Zeek's update_history
    const bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0);
    if (bits > 1) {
      if (fin && rst) c.checkHistory(H_FIN_RST, 'I', fromOrig);
      else c.checkHistory(H_MULTI, 'Q', fromOrig);
    } else if (bits === 1) {
      if (syn) {
        const code = ackFlag ? 'H' : 'S';
        if (c.checkHistory(H_SYN, code, fromOrig) && seqRel !== ep.histLastSyn) c.addHistory(code, fromOrig);
        ep.histLastSyn = seqRel;
      }
      if (fin) {
        if (c.checkHistory(H_FIN, 'F', fromOrig) && seqRel + len !== ep.histLastFin) c.addHistory('F', fromOrig);
        ep.histLastFin = seqRel + len;
      }
      if (rst) {
        if (c.checkHistory(H_RST, 'R', fromOrig) && seqRel !== ep.histLastRst) c.addHistory('R', fromOrig);
        ep.histLastRst = seqRel;
      }
    } else if (len > 0) {
      c.checkHistory(H_DATA, 'D', fromOrig);
    } else if (ackFlag) {
      c.checkHistory(H_ACK, 'A', fromOrig);
    }

    // Window and options
    if (syn) {
      ep.wscale = p.optWscale;
      if (ackFlag && peer.wscale >= 0 && ep.wscale >= 0) {
        ep.windowShift = Math.min(ep.wscale, 14); // RFC 7323 2.3: larger values are treated as 14
        peer.windowShift = Math.min(peer.wscale, 14);
      }
      ep.window = p.window;
    } else {
      ep.window = p.window << ep.windowShift; // at most 65535 << 14: below 2^31
    }
    if (p.window === 0 && !syn && !fin && !rst) {
      ep.zeroWindows++;
      if (ep.zeroWindows === ep.zeroWinThreshold) {
        c.addHistory('W', fromOrig);
        ep.zeroWinThreshold *= 10;
      }
    }

    // Keep-alive and zero-window probes: seq one below what was sent, at most one byte
    const probe = !syn && !fin && !rst && ackFlag && len <= 1 && ep.maxEndRel > 1 && seqRel === ep.maxEndRel - 1 && ep.finRel < 0;
    // Retransmission: payload that starts below the highest sequence already sent
    const retrans = len > 0 && !probe && seqRel < ep.maxEndRel && ep.pkts > 1;
    if (retrans) {
      ep.retransPkts++;
      ep.retransBytes += Math.min(len, ep.maxEndRel - seqRel);
      if (ep.retransPkts === ep.rexmitThreshold) {
        c.addHistory('T', fromOrig);
        ep.rexmitThreshold *= 10;
      }
    }
    // Content gap in our own stream: a FIN beyond everything we were seen to send (data before it missed;
    // data segments beyond a hole are usually reordering, which fills in, so only a FIN counts)
    if (seqRel > ep.maxEndRel && ep.maxEndRel > 0 && fin && !rst && !syn) {
      ep.contentGaps++;
      if (ep.contentGaps === ep.gapThreshold) {
        c.addHistory('G', fromOrig);
        ep.gapThreshold *= 10;
      }
    }
    // Content gap: the ack covers peer data never seen on the wire
    if (ackRel > peer.maxEndRel && peer.seqInit && peer.state !== EpState.Inactive && !rst) {
      peer.contentGaps++;
      if (peer.contentGaps === peer.gapThreshold) {
        c.addHistory('G', !fromOrig);
        peer.gapThreshold *= 10;
      }
    }

    // where this segment goes in the log, and what recordRst needs of it without
    // one. Kept with evidence too, although the log holds it: the RST summaries
    // then come from one code path, which test/tracker.test.ts checks against
    // Connection.lastFrom on every RST of the bundled captures.
    const logIdx = c.segments;
    ep.logSeg = logIdx * 2 + (ackFlag ? 1 : 0);
    ep.logAck = p.ack;
    if (logIdx < HEAD_SEGMENTS) {
      ep.headSeg = ackFlag ? 1 : 0;
      ep.headAck = p.ack;
    }
    // Evidence for the rules: the segment log and the teardown milestones.
    // Without it (`evidence: false`, flows) the connection has no log slot and
    // its milestone records are never touched on the per-packet path.
    const ev = this.evidence;
    const m = c.milestones(fromOrig);
    let slot = -1;
    if (ev) {
      if (probe) {
        if (peer.window === 0) m.zeroWindowProbes++;
        else m.keepaliveProbes++;
      }
      slot = this.recordSegment(c, fromOrig, p, f, seqRel, ackRel, retrans);
      if (ackFlag && !rst) m.sentAck = true;
      if (probe && peer.window !== 0) m.pin(PIN_KEEPALIVE, slot);
    } else c.segments++;

    if (rst) this.recordRst(c, fromOrig, ep, peer, p, f, slot, seqRel, ackRel, logIdx);
    else {
      ep.nonRstPkts++;
      if (c.rsts.length > 0) this.noteAfterRst(c, fromOrig, len);
      if (p.ttl < ep.ttlNonRstMin) ep.ttlNonRstMin = p.ttl;
      if (p.ttl > ep.ttlNonRstMax) ep.ttlNonRstMax = p.ttl;
      ep.lastIpId = p.ipId;
      if (!syn) ep.optAlways = ep.optAlways < 0 ? p.optMask : ep.optAlways & p.optMask;
    }

    if (len > 0 && !probe) {
      ep.payloadBytes += len;
      c.lastDataTime = now;
      if (ev && peer.finRel >= 0 && !rst) {
        if (m.dataAfterPeerFinPkts === 0) {
          m.pin(PIN_DATA_AFTER_PEER_FIN, slot);
          m.dataAfterPeerFinAckedFin = ackRel > peer.finRel;
        }
        m.dataAfterPeerFinPkts++;
        m.dataAfterPeerFin += len;
      }
      if (ev && ep.finRel >= 0 && seqRel >= ep.finRel && !rst) m.dataAfterOwnFin += len;
    }
    // SYN retries (same ISN); a copy within 200 ms is a duplicate capture, not a retry
    if (ev && syn) {
      const nSyn = m.synCount;
      if (nSyn < MAX_SYN_TIMES && (nSyn === 0 || (seqRel === 0 && now - m.lastSynTime() > 0.2))) {
        if (!ackFlag && m.bareSynFrame === 0) m.bareSynFrame = f.frameNo;
        m.addSyn(now, f.frameNo);
      }
    }

    const end = seqRel + segLen;
    if (end > ep.maxEndRel && !rst) ep.maxEndRel = end;
    if (ackRel > ep.maxAckRel) ep.maxAckRel = ackRel;
    if (fin) {
      ep.finCount++;
      if (ep.finRel < 0) {
        ep.finRel = seqRel + len;
        if (ev) {
          m.pin(PIN_FIN, slot);
          m.finAcksPeerFin = peer.finRel >= 0 && ackRel > peer.finRel;
        }
      }
    }

    this.stateMachine(c, ep, peer, fromOrig, p, len);
  }

  /**
   * Payload the peer sent that the closer's FIN did not acknowledge: data that
   * reached (or was on its way to) a socket already closed. Catches the race
   * where data and FIN cross on the wire.
   */
  private dataBeyondFinAck(c: Connection, closerIsOrig: boolean, peer: Endpoint): number {
    const finAckRel = c.milestones(closerIsOrig).pinnedAckRel(PIN_FIN);
    if (finAckRel < 0) return 0;
    const peerDataEnd = peer.maxEndRel - (peer.finRel >= 0 ? 1 : 0);
    return Math.max(0, peerDataEnd - finAckRel);
  }

  /** After a RST: the receiver answering, or the claimed sender still sending data. */
  private noteAfterRst(c: Connection, fromOrig: boolean, len: number): void {
    for (const r of c.rsts) {
      if (r.seg.fromOrig !== fromOrig) r.receiverAnsweredAfter = true;
      else if (len > 0) r.senderDataAfter = true;
    }
  }

  /**
   * Records a RST: always its summary for the connection record (frame, side,
   * shape, acceptance); with evidence, also the full RstRecord the rules read.
   * `logIdx` is the RST's position in the connection's segment log, `slot` its
   * slot there (-1 without evidence).
   */
  private recordRst(c: Connection, fromOrig: boolean, ep: Endpoint, peer: Endpoint, p: Packet, f: Frame,
    slot: number, seqRel: number, ackRel: number, logIdx: number): void {
    const now = this.now;
    const n = ++c.rstCount;
    if (n > MAX_RSTS) return;
    // the receiver's RCV.NXT as the wire shows it: its highest ack of our data
    const rcvNxt = peer.maxAckRel;
    // acceptance, as an index in RST_ACCEPTANCES: exact, in-window, out-of-window, unknown
    let acc = 3;
    if (peer.state === EpState.SynSent) {
      acc = (p.flags & TCP_ACK) !== 0 && ackRel === 1 ? 0 : 2;
    } else if (rcvNxt >= 0) {
      const win = peer.window > 0 ? peer.window : 65535;
      if (seqRel === rcvNxt || seqRel === ep.maxEndRel) acc = 0;
      else if (seqRel > rcvNxt && seqRel < rcvNxt + win) acc = 1;
      else acc = 2;
    }
    // The trigger: the last segment from the receiver that Connection.lastFrom
    // finds in the log before this RST. The log keeps the first HEAD_SEGMENTS
    // and a ring of TAIL_SEGMENTS, whose oldest slot the RST itself has just
    // overwritten: a receiver segment older than that is gone, and lastFrom
    // falls back to the receiver's last one among the first segments.
    let trigFlags = -1; // none
    let trigAck = 0;
    const last = Math.floor(peer.logSeg / 2); // not >> 1: past 2^30 segments logSeg is no int32
    if (peer.logSeg >= 0 && (last < HEAD_SEGMENTS || last > logIdx - TAIL_SEGMENTS)) {
      trigFlags = peer.logSeg % 2 !== 0 ? TCP_ACK : 0;
      trigAck = peer.logAck;
    } else if (peer.headSeg >= 0) {
      trigFlags = peer.headSeg !== 0 ? TCP_ACK : 0;
      trigAck = peer.headAck;
    }
    const shape = rstShapeCode(p.flags, p.seq, seqRel, ackRel, peer.state, trigFlags, trigAck, ep.maxEndRel, acc);
    c.setRstSum(n - 1, packRstSummary(f.frameNo, fromOrig, shape, acc));
    if (slot < 0) return; // no evidence: the summary is all

    const seg = c.segmentAt(slot);
    const mOther = c.milestones(!fromOrig);
    // the last segment from the receiver before this RST
    const trigger: Segment | null = c.lastFrom(!fromOrig, logIdx);
    const acceptance = RST_ACCEPTANCES[acc];
    if (c.rsts === NONE) c.rsts = [];
    c.rsts.push({
      seg, // segmentAt made a copy
      senderPrevState: ep.state,
      receiverState: peer.state,
      receiverAckRel: rcvNxt,
      receiverWindow: peer.window,
      senderMaxEndRel: ep.maxEndRel,
      // unknown (0) when the receiver never acknowledged anything we saw
      senderUnacked: rcvNxt < 0 ? 0 : Math.max(0, ep.maxEndRel - rcvNxt - (ep.finRel >= 0 && rcvNxt <= ep.finRel ? 1 : 0)),
      receiverUnackedBySender: peer.seqInit ? Math.max(0, peer.maxEndRel - Math.max(ep.maxAckRel, 1) - (peer.finRel >= 0 && ep.maxAckRel <= peer.finRel ? 1 : 0)) : 0,
      senderFinBefore: ep.finRel >= 0,
      receiverFinBefore: peer.finRel >= 0,
      receiverDataAfterSenderFin: mOther.dataAfterPeerFin,
      receiverDataBeyondSenderFinAck: this.dataBeyondFinAck(c, fromOrig, peer),
      trigger,
      acceptance,
      senderDataAfter: false,
      receiverAnsweredAfter: false,
      senderTtlMin: ep.ttlNonRstMin,
      senderTtlMax: ep.ttlNonRstMax,
      senderLastIpId: ep.lastIpId,
      senderOptAlways: ep.optAlways,
      idleBeforeSec: c.lastDataTime < 0 ? now - c.startTime : now - c.lastDataTime,
    });
  }

  /** Zeek's UpdateStateMachine and ConnectionClosed. */
  private stateMachine(c: Connection, ep: Endpoint, peer: Endpoint, isOrig: boolean, p: Packet, len: number): void {
    const now = this.now;
    const flags = p.flags;
    const syn = (flags & TCP_SYN) !== 0;
    const fin = (flags & TCP_FIN) !== 0;
    const rst = (flags & TCP_RST) !== 0;
    const ack = (flags & TCP_ACK) !== 0;
    let doClose = false;
    switch (ep.state) {
      case EpState.Inactive: {
        if (syn) {
          if (isOrig) {
            ep.setState(ack ? EpState.SynAckSent : EpState.SynSent);
            c.attemptAt = now + this.opts.attemptDelaySec;
            c.attemptSec = Math.floor(c.attemptAt);
            c.timers |= TIMER_ATTEMPT;
            if (c.synTimer < 0) c.synTimer = this.synTimers.push(now + this.opts.synRetryHorizonSec, c);
          } else {
            if (!ack && peer.state === EpState.SynAckSent && p.seq === ep.isn) {
              // SYN / SYN-ACK reversal: flip and establish
              c.partial = false;
              c.flip();
              peer.setState(EpState.Established);
            }
            if (peer.state === EpState.SynSent) peer.setState(EpState.Established);
            ep.setState(EpState.Established);
          }
        }
        if (fin) {
          ep.setState(EpState.Closed);
          doClose = true;
        }
        if (rst) {
          ep.setState(EpState.Reset);
          doClose = true;
        }
        if (ep.state === EpState.Inactive) {
          if (!isOrig && len === 0 && c.orig.state === EpState.SynSent) {
            // an ACK of the initial SYN before the SYN-ACK: not a partial connection
          } else if (ack && peer.state === EpState.Established) {
            ep.setState(EpState.Established);
            c.partial = false;
          } else {
            ep.setState(EpState.Partial);
          }
        }
        break;
      }
      case EpState.SynSent:
      case EpState.SynAckSent:
        if (fin) {
          ep.setState(EpState.Closed);
          doClose = true;
        }
        if (rst) {
          ep.setState(EpState.Reset);
          doClose = true;
        }
        break;
      case EpState.Established:
      case EpState.Partial:
        if (syn && ep.state === EpState.Partial && peer.state === EpState.Inactive && !ack) ep.setState(EpState.SynSent);
        if (fin && !rst) {
          ep.setState(EpState.Closed);
          if (!(peer.state === EpState.Reset && peer.prevState === EpState.Closed)) doClose = true;
        }
        if (rst) {
          ep.setState(EpState.Reset);
          doClose = true;
        }
        break;
      case EpState.Closed:
        if (rst && peer.state !== EpState.Closed) {
          ep.setState(EpState.Reset);
          if (!ep.didClose) doClose = true;
        }
        break;
      case EpState.Reset:
        break;
    }
    if (doClose) this.connectionClosed(c, ep, peer);
    // Zeek's ResetTimer: any RST ends the connection tcp_reset_delay later (also a RST after our own FIN)
    if (rst) this.armDelete(c, this.opts.resetDelaySec, this.resetTimers);
  }

  /** Zeek's ConnectionClosed: marks the endpoint closed and arms the delete timer when the close is complete. */
  private connectionClosed(c: Connection, ep: Endpoint, peer: Endpoint): void {
    if (ep.didClose) return;
    ep.didClose = true;
    const complete = ep.state === EpState.Reset || peer.didClose || peer.state === EpState.Inactive;
    if (complete) {
      const half = peer.state === EpState.Inactive || ep.prevState === EpState.Inactive;
      if (half) this.armDelete(c, this.opts.partialCloseDelaySec, this.partialCloseTimers);
      else this.armDelete(c, this.opts.closeDelaySec, this.closeTimers);
    }
  }
}

/** Only the originator's SYN so far, nothing back: an unanswered attempt. */
function isSynOnly(c: Connection): boolean {
  const os = c.orig.state;
  return (os === EpState.SynSent || os === EpState.SynAckSent) && c.resp.state === EpState.Inactive;
}

