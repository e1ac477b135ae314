/**
 * The connection table: lookup by flow hash, creation (who is the originator),
 * close-out to the sink, the pool of closed-out connections, eviction past
 * the connection cap, and the timer sweep (close, reset, attempt, SYN retry
 * and idle timers, all on capture time).
 *
 * Semantics follow Zeek's TCP analyzer (IsReuse, WantConnection):
 * - the originator is the sender of the first SYN; a first packet that is a
 *   SYN-ACK flips roles; a first packet without SYN flips when only its source
 *   port is a likely server port;
 * - a SYN (or SYN-ACK to an inactive originator) with a new ISN starts a new
 *   connection (port reuse); so does any packet once the connection's close
 *   timer (5 s after a complete close, 3 s for a half connection) or SYN
 *   attempt timer (5 s, no answer) has expired, or after 5 minutes idle.
 *
 * Memory: live connections are capped (`maxConnections`); past the cap the
 * longest-idle connection is closed out early and counted as evicted. Idle and
 * closed connections are swept as capture time advances.
 */
import type { Frame } from '../capture/frame.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type Packet } from '../decode/packet.js';
import { missedBytesOf } from './accounting.js';
import { Connection, TIMER_ATTEMPT, TIMER_DELETE } from './connection.js';
import { EpState, type Endpoint } from './endpoint.js';
import {
  makeNextPacket, MAX_CHAIN_FRAMES, RECENT_HORIZON_SEC, RECENT_MIN, RECENT_PER_CONNECTION, sameOriginator, type PrevRecord,
  type UnansweredTail,
} from './link.js';
import { isLikelyServerPort } from './ports.js';
import type { SegmentArena } from './segment-log.js';
import { type Clock, DeadlineHeap, IdleHeap, TimerQueue } from './timers.js';
import type { ConnectionSink, TrackerOptions, TrackerStats } from './options.js';

/** Evicted 4-tuples remembered: this many per connection of the cap, and at least MIN_EVICTED_KEYS (FlowTable.evictedFlows). */
const EVICTED_KEYS_PER_CONNECTION = 4;
const MIN_EVICTED_KEYS = 1 << 16;

export class FlowTable {
  /**
   * Buckets by flow hash, chained through Connection.nextInBucket. A plain
   * array, not a Map: one memory access to the bucket, then the connection
   * itself (a Map's hash table costs two or three cache misses per packet at
   * tens of thousands of connections).
   */
  private readonly buckets: (Connection | null)[];
  private readonly bucketMask: number;
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
  readonly closeTimers = new TimerQueue();
  readonly partialCloseTimers = new TimerQueue();
  readonly resetTimers = new TimerQueue();
  readonly synTimers = new DeadlineHeap();
  /**
   * The flow hashes of connections evicted and not seen since, oldest first,
   * at most max(MIN_EVICTED_KEYS, EVICTED_KEYS_PER_CONNECTION x
   * maxConnections) (4 bytes of hash and the Set's entry each, not the
   * connection): a new connection with one of them continues a record
   * eviction cut short (Connection.afterEviction). A hash, not the 4-tuple: an
   * unrelated flow with the same 32-bit hash is taken for a continuation with
   * a probability of (hashes kept) / 2^32 per new connection (1.5e-5 at
   * 65,536), and all that costs is a half-open verdict withheld. Empty, and
   * never consulted, until a first eviction.
   */
  private readonly evictedFlows = new Set<number>();
  /**
   * The packet being processed (the tracker's one reused view) and its hash and frame: a connection of its
   * 4-tuple closed out meanwhile is linked to the record it starts (src/tcp/link.ts). Only with evidence.
   */
  private linkPacket: Packet | null = null;
  private linkHash = -1;
  private linkFrame = 0;
  /** the summary of the record just closed out for linkPacket's 4-tuple, for the record create() makes */
  private pendingPrev: PrevRecord | null = null;
  /**
   * Records closed out by a timer with retransmissions nobody answered, by flow
   * hash, oldest first, waiting for their 4-tuple's next packet (src/tcp/link.ts):
   * at most max(RECENT_MIN, RECENT_PER_CONNECTION x maxConnections), each for
   * RECENT_HORIZON_SEC of capture time. A hash shared by two 4-tuples keeps
   * the later record (create() checks the 4-tuple: a link is never wrong, at
   * worst missing). Empty, and never consulted, until a first such record.
   */
  private readonly recent = new Map<number, PrevRecord>();

  /** @param arena where new connections keep their evidence log; null: none (no evidence) */
  constructor(private readonly sink: ConnectionSink, private readonly opts: TrackerOptions, private readonly stats: TrackerStats,
    private readonly clock: Clock, private readonly arena: SegmentArena | null) {
    // about one bucket per connection at the cap (4 Ki to 1 Mi buckets; longer chains beyond)
    let n = 4096;
    while (n < opts.maxConnections && n < (1 << 20)) n *= 2;
    this.buckets = new Array<Connection | null>(n).fill(null);
    this.bucketMask = n - 1;
  }

  get liveConnections(): number {
    return this.live;
  }

  /** The packet about to be processed (before the sweep): records of its 4-tuple closed out now are linked. */
  current(p: Packet, hash: number, frame: number): void {
    if (this.arena === null) return;
    this.linkPacket = p;
    this.linkHash = hash;
    this.linkFrame = frame;
    this.pendingPrev = null;
  }

  /** Starts a new input file: stream indexes restart. */
  beginInput(index: number): void {
    this.input = index;
    this.streamNo = 0;
  }

  /**
   * The live connection of p's 4-tuple, or null when there is none or the
   * one there has ended: its close, attempt or idle timer expired by now
   * (closed out as 'closed' or 'timeout'), or p starts a new connection on
   * the same 4-tuple (closed out as 'reused'). `tsSec`: p's whole seconds;
   * `frameNo`: p's frame.
   */
  find(hash: number, p: Packet, tsSec: number, frameNo: number): Connection | null {
    const c = this.lookup(hash, p);
    if (c === null) return null;
    const now = this.clock.now;
    // The integer checks first: they read fields on the connection's first
    // cache line, while each float time is a separate heap box. lastTime is
    // at least lastTsSec, so when tsSec - lastTsSec + 1 <= the idle timeout
    // the connection cannot be idle.
    const idleSec = this.opts.inactivityTimeoutSec;
    const timers = c.timers;
    // Likewise a deadline whose whole second is 2 or more ahead of tsSec is
    // ahead of now, whatever the rounding of now.
    const expired = ((timers & TIMER_DELETE) !== 0 && tsSec + 1 >= c.deleteSec && c.deleteAt <= now)
      || (tsSec - c.lastTsSec + 1 > idleSec && now - c.lastTime > idleSec)
      || ((timers & TIMER_ATTEMPT) !== 0 && tsSec + 1 >= c.attemptSec && this.attemptExpired(c) && !this.isSynRetry(c, p));
    if (expired) {
      this.stats.timedOut++;
      this.closeOut(c, c.deleteAt <= now ? 'closed' : 'timeout');
      return null;
    }
    if (this.isReuse(c, p, this.sentByOrig(c, p))) {
      this.stats.reused++;
      c.reuseFrame = frameNo;
      c.reuseTime = now;
      c.reuseSeq = p.seq;
      this.closeOut(c, 'reused');
      return null;
    }
    return c;
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
      // records in (src/analysis/merge.ts), so streamed output is the same
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
    const now = this.clock.now;
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
  sweep(): void {
    const now = this.clock.now;
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
    const now = this.clock.now;
    for (let c = q.pop(now); c !== null; c = q.pop(now)) {
      c.deleteTimer = -1;
      c.deleteQueue = null;
      if (c.deleteAt <= now) this.closeOut(c, 'closed');
    }
  }

  /** Arms the delete timer (earliest wins). */
  armDelete(c: Connection, delaySec: number, q: TimerQueue): void {
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
      if (c.ipVersion === p.ipVersion && c.tunnel === p.tunnel) {
        if (c.oPort === p.srcPort && c.rPort === p.dstPort && c.o0 === p.src0 && c.r0 === p.dst0
          && c.o1 === p.src1 && c.o2 === p.src2 && c.o3 === p.src3 && c.r1 === p.dst1 && c.r2 === p.dst2 && c.r3 === p.dst3) return c;
        if (c.oPort === p.dstPort && c.rPort === p.srcPort && c.o0 === p.dst0 && c.r0 === p.src0
          && c.o1 === p.dst1 && c.o2 === p.dst2 && c.o3 === p.dst3 && c.r1 === p.src1 && c.r2 === p.src2 && c.r3 === p.src3) return c;
      }
      c = c.nextInBucket;
    }
    return null;
  }

  /** p was sent by the originator (its source is the originator's address and port). */
  sentByOrig(c: Connection, p: Packet): boolean {
    return p.srcPort === c.oPort && p.src0 === c.o0 && p.src1 === c.o1 && p.src2 === c.o2 && p.src3 === c.o3;
  }

  /** Zeek's IsReuse: only a SYN (or a SYN-ACK to an inactive originator) with a new ISN starts over. */
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

  create(hash: number, p: Packet, f: Frame): Connection {
    const now = this.clock.now;
    const oldest = this.live >= this.opts.maxConnections ? this.idle.top() : null;
    if (oldest !== null) {
      this.stats.evicted++;
      oldest.evicted = true;
      this.rememberEvicted(oldest);
      this.closeOut(oldest, 'evicted');
    }
    const c = this.pool.pop()?.reuse() ?? new Connection(this.arena);
    if (this.evictedFlows.size > 0 && this.evictedFlows.delete(hash)) c.afterEviction = true;
    c.id = this.nextId++;
    c.input = this.input;
    c.stream = this.streamNo++;
    c.hash = hash;
    c.ipVersion = p.ipVersion;
    c.tunnel = p.tunnel;
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
    if (this.pendingPrev !== null) {
      c.prev = this.pendingPrev;
      this.pendingPrev = null;
    } else if (this.recent.size > 0) {
      const r = this.recent.get(hash);
      if (r !== undefined && sameFlow(r, c)) {
        this.recent.delete(hash);
        if (now - r.lastTime <= RECENT_HORIZON_SEC) c.prev = r;
      }
    }
    this.idle.push(c);
    if (this.idle.size > 2 * this.live + 4096) this.idle.compact();
    return c;
  }

  /** Notes an evicted connection's 4-tuple (bounded: the oldest notes go first). */
  private rememberEvicted(c: Connection): void {
    const flows = this.evictedFlows;
    flows.delete(c.hash); // re-added: the newest eviction of this hash goes last
    flows.add(c.hash);
    if (flows.size > Math.max(MIN_EVICTED_KEYS, EVICTED_KEYS_PER_CONNECTION * this.opts.maxConnections)) {
      for (const k of flows) {
        flows.delete(k);
        break;
      }
    }
  }

  closeOut(c: Connection, reason: string): void {
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
    c.closedAt = this.clock.now;
    const p = this.linkPacket;
    if (p !== null && c.hash === this.linkHash && this.linkFrame > c.lastFrame && reason !== 'end' && this.isOwn(c, p)) this.link(c, p);
    else if ((reason === 'closed' || reason === 'timeout') && this.arena !== null
      && (c.orig.retransPkts > 0 || c.resp.retransPkts > 0 || c.prev?.unanswered)) this.remember(c);
    if (c.deleteQueue !== null) c.deleteQueue.cancel(c.deleteTimer);
    if (c.synTimer >= 0) this.synTimers.cancel(c.synTimer);
    c.synTimer = -1; // the heap skips an entry whose connection no longer holds its handle
    c.deleteQueue = null;
    const missed = missedBytesOf(c);
    if (missed > 0) {
      this.stats.missedBytes += missed;
      this.stats.lossConnections++;
    }
    this.sink(c);
    c.releaseLog();
    // pooled connections are ones that were live at the peak, so the pool never
    // holds more than (peak live - live) <= maxConnections: memory stays at the peak
    if (this.pool.length < this.opts.maxConnections) this.pool.push(c);
  }

  /** p belongs to c's 4-tuple (either direction). */
  private isOwn(c: Connection, p: Packet): boolean {
    if (c.ipVersion !== p.ipVersion || c.tunnel !== p.tunnel) return false;
    const fwd = c.oPort === p.srcPort && c.rPort === p.dstPort && c.o0 === p.src0 && c.r0 === p.dst0
      && c.o1 === p.src1 && c.o2 === p.src2 && c.o3 === p.src3 && c.r1 === p.dst1 && c.r2 === p.dst2 && c.r3 === p.dst3;
    return fwd || (c.oPort === p.dstPort && c.rPort === p.srcPort && c.o0 === p.dst0 && c.r0 === p.src0
      && c.o1 === p.dst1 && c.o2 === p.dst2 && c.o3 === p.dst3 && c.r1 === p.src1 && c.r2 === p.src2 && c.r3 === p.src3);
  }

  /**
   * c is closed out while p, of its 4-tuple, is processed: p starts the next record. c learns p
   * (Connection.next); the next record gets c's summary (Connection.prev). Not on the per-packet path:
   * only when a connection is closed out.
   */
  private link(c: Connection, p: Packet): void {
    c.next = makeNextPacket(this.linkFrame, this.clock.now, this.sentByOrig(c, p), p.flags, p.seq >>> 0, p.ack >>> 0, p.payloadLen);
    this.pendingPrev = prevRecordOf(c);
  }

  /** Keeps the summary of `c` (closed out by a timer) when it ends with unanswered retransmissions (FlowTable.recent). */
  private remember(c: Connection): void {
    const prev = prevRecordOf(c);
    if (prev.unanswered === null) return;
    const recent = this.recent;
    recent.delete(c.hash); // re-added: the newest goes last
    recent.set(c.hash, prev);
    const max = Math.max(RECENT_MIN, RECENT_PER_CONNECTION * this.opts.maxConnections);
    const now = this.clock.now;
    for (const [k, r] of recent) {
      if (recent.size <= max && now - r.lastTime <= RECENT_HORIZON_SEC) break;
      recent.delete(k);
    }
  }

  /** Arms the SYN attempt timer (Zeek's tcp_attempt_delay) and, once, the SYN retry horizon. */
  armAttempt(c: Connection): void {
    const now = this.clock.now;
    c.attemptAt = now + this.opts.attemptDelaySec;
    c.attemptSec = Math.floor(c.attemptAt);
    c.timers |= TIMER_ATTEMPT;
    if (c.synTimer < 0) c.synTimer = this.synTimers.push(now + this.opts.synRetryHorizonSec, c);
  }
}

/** Only the originator's SYN so far, nothing back: an unanswered attempt. */
function isSynOnly(c: Connection): boolean {
  const os = c.orig.state;
  return (os === EpState.SynSent || os === EpState.SynAckSent) && c.resp.state === EpState.Inactive;
}

/** The summary of `c` (being closed out) that the record continuing its 4-tuple keeps. */
export function prevRecordOf(c: Connection): PrevRecord {
  const o = c.orig;
  const r = c.resp;
  const p = c.prev;
  const synFrames = c.origM.synFrames;
  const synTimes = c.origM.synTimes;
  const refused = c.rsts.filter((x) => !x.seg.fromOrig && (x.seg.flags & TCP_ACK) !== 0 && o.sawSyn && (x.seg.ack >>> 0) === ((o.isn + 1) >>> 0));
  // the chain continues when the earlier record was the same connect() (same originator and ISN)
  const chained = p !== null && p.origSawSyn && o.sawSyn && p.origIsn === (o.isn >>> 0) && sameOriginator(c, p);
  const frames = chained ? p.frames.slice() : [];
  for (const f of synFrames) if (frames.length < MAX_CHAIN_FRAMES) frames.push(f);
  for (const x of refused) if (frames.length < MAX_CHAIN_FRAMES) frames.push(x.seg.frame);
  frames.sort((a, b) => a - b);
  const nxt = (e: Endpoint): number => (e.seqInit ? (e.isn + e.maxEndRel) >>> 0 : -1);
  return {
    id: c.id, endReason: c.endReason, firstFrame: c.firstFrame, lastFrame: c.lastFrame, lastTime: c.lastTime,
    tunnel: c.tunnel, oPort: c.oPort, o0: c.o0, o1: c.o1, o2: c.o2, o3: c.o3,
    rPort: c.rPort, r0: c.r0, r1: c.r1, r2: c.r2, r3: c.r3,
    origSawSyn: o.sawSyn, origIsn: o.isn >>> 0,
    synFrame: chained && p.synFrame > 0 ? p.synFrame : (synFrames[0] ?? 0),
    synTime: chained && p.synFrame > 0 ? p.synTime : (synTimes[0] ?? -1),
    syns: (chained ? p.syns : 0) + synFrames.length,
    refusals: (chained ? p.refusals : 0) + refused.length,
    frames,
    origNxt: nxt(o), respNxt: nxt(r),
    origSent: o.pkts > 0 || (p !== null && (sameOriginator(c, p) ? p.origSent : p.respSent)),
    respSent: r.pkts > 0 || (p !== null && (sameOriginator(c, p) ? p.respSent : p.origSent)),
    lastDataTime: c.lastDataTime,
    origProbes: c.origM.keepaliveProbes, respProbes: c.respM.keepaliveProbes,
    unanswered: unansweredTail(c),
    clientIsOrig: c.orig.sawSyn && !c.flipped ? true : p !== null && p.clientIsOrig !== null ? p.clientIsOrig === sameOriginator(c, p) : null,
  };
}

/** The summary's 4-tuple is c's (either orientation). */
function sameFlow(r: PrevRecord, c: Connection): boolean {
  return r.tunnel === c.tunnel && ((r.oPort === c.oPort && r.rPort === c.rPort && r.o0 === c.o0 && r.o1 === c.o1 && r.o2 === c.o2 && r.o3 === c.o3
      && r.r0 === c.r0 && r.r1 === c.r1 && r.r2 === c.r2 && r.r3 === c.r3)
    || (r.oPort === c.rPort && r.rPort === c.oPort && r.o0 === c.r0 && r.o1 === c.r1 && r.o2 === c.r2 && r.o3 === c.r3
      && r.r0 === c.o0 && r.r1 === c.o1 && r.r2 === c.o2 && r.r3 === c.o3));
}

/**
 * The retransmissions at c's end that nobody answered (PrevRecord.unanswered,
 * by c's originator), or null. A side's segments after the other side's last
 * one count when at least one of them repeats data or a FIN (Segment.retrans);
 * when the record continues one that ended so, from the same side, and the
 * other side sent nothing here, every segment of that side here extends it.
 * Reads the evidence log: only for a record being linked or remembered.
 */
function unansweredTail(c: Connection): UnansweredTail | null {
  const p = c.prev;
  const before = p?.unanswered ?? null;
  // the earlier tail, by c's orientation
  const beforeFromOrig = before === null || p === null ? null : before.fromOrig === sameOriginator(c, p);
  if (before !== null && beforeFromOrig !== null && c.ep(!beforeFromOrig).pkts === 0) {
    const frames = before.frames.slice();
    let count = before.count;
    let lastFrame = before.lastFrame;
    let lastTime = before.lastTime;
    let fin = false;
    for (const s of c.evidence()) {
      if (s.fromOrig !== beforeFromOrig || (s.flags & TCP_RST) !== 0) continue;
      count++;
      if (frames.length < MAX_CHAIN_FRAMES) frames.push(s.frame);
      lastFrame = s.frame;
      lastTime = s.tsSec + s.tsNsec / 1e9;
      if ((s.flags & TCP_FIN) !== 0) fin = true;
    }
    return { ...before, fromOrig: beforeFromOrig, count, lastFrame, lastTime, frames, fin: before.fin || fin };
  }
  if (c.orig.retransPkts === 0 && c.resp.retransPkts === 0) return null;
  const ev = c.evidence();
  let last = -1;
  for (let i = 0; i < ev.length; i++) if ((ev[i].flags & TCP_RST) === 0) last = i;
  if (last < 0) return null;
  const fromOrig = ev[last].fromOrig;
  let start = last;
  while (start > 0 && ev[start - 1].fromOrig === fromOrig) start--;
  // from its first segment with data or a FIN (an ACK of the other side's last segment is no question left open)
  while (start < last && ev[start].len === 0 && (ev[start].flags & TCP_FIN) === 0) start++;
  let count = 0;
  let fin = false;
  const frames: number[] = [];
  for (let i = start; i <= last; i++) {
    const s = ev[i];
    if ((s.flags & TCP_RST) !== 0) continue;
    if (s.retrans) count++;
    if ((s.flags & TCP_FIN) !== 0) fin = true;
    if (frames.length < MAX_CHAIN_FRAMES) frames.push(s.frame);
  }
  if (count === 0) return null;
  const first = ev[start];
  const end = ev[last];
  return {
    fromOrig, count, firstFrame: first.frame, firstTime: first.tsSec + first.tsNsec / 1e9, lastFrame: end.frame,
    lastTime: end.tsSec + end.tsNsec / 1e9, frames, fin,
  };
}
