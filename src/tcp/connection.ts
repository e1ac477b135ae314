/**
 * A TCP connection: one 4-tuple lifetime, two oriented halves (orig, resp),
 * Zeek's history string, and the evidence rules and reports need: the first
 * segments, a ring of the most recent ones, every RST (up to a cap) with the
 * receiver's view at that moment, and teardown milestones per side.
 *
 * Memory per connection is bounded: HEAD_SEGMENTS + TAIL_SEGMENTS segment
 * records, MAX_RSTS RST records, MAX_SYN_TIMES SYN times.
 */
import { TCP_RST } from '../decode/packet.js';
import { Endpoint } from './endpoint.js';
import {
  appendInline, decodeHistory, flippedHistory, flipSeen, HIST_INLINE, letterOf, seenMask, symbolOf, symbolOfLetter,
} from './history.js';
import type { NextPacket, PrevRecord } from './link.js';
import { SideMilestones } from './milestones.js';
import { derivePoolResetter } from './reset.js';
import { flipRstSummary } from './rst-summary.js';
import {
  flipSegments, HEAD_SEGMENTS, oldestInRing, PIN_BASE_ORIG, PIN_BASE_RESP, readSegment, segmentFlags, segmentFromOrig,
  SegmentArena, slotOf, SYN_BASE_ORIG, SYN_BASE_RESP, TAIL_SEGMENTS, type Segment,
} from './segment-log.js';

// the layouts' names, where the rest of the code base has always found them
export {
  getRel, HEAD_SEGMENTS, LOG_SLOTS, MAX_SYN_TIMES, PIN_DATA_AFTER_PEER_FIN, PIN_FIN, PINS_PER_SIDE, putRel,
  SEG_I32, SegmentArena, TAIL_SEGMENTS, type Segment,
} from './segment-log.js';
export { SideMilestones } from './milestones.js';

export const MAX_RSTS = 8;
/** payload bytes of a RST kept as text (RstRecord.payload) */
export const RST_PAYLOAD_MAX = 64;
/** Connection.timers bits */
export const TIMER_DELETE = 1;
export const TIMER_ATTEMPT = 2;

/** Receiver acceptance of a RST (RFC 9293 3.10.7.x, RFC 5961 3.2). */
export type RstAcceptance = 'exact' | 'in-window' | 'out-of-window' | 'unknown';

export interface RstRecord {
  seg: Segment;
  /** state of the sender's endpoint before the RST */
  senderPrevState: number;
  /** state of the receiving endpoint at the RST */
  receiverState: number;
  /** receiver's RCV.NXT as seen on the wire (its highest ack), relative to the sender's ISN; -1 unknown */
  receiverAckRel: number;
  /** highest sequence end the sender had sent before the RST, relative */
  senderMaxEndRel: number;
  /** bytes the sender had sent that the receiver had not acknowledged */
  senderUnacked: number;
  /** the sender had sent a FIN before this RST */
  senderFinBefore: boolean;
  /** the receiver had sent a FIN before this RST */
  receiverFinBefore: boolean;
  /** payload bytes the receiver sent after the sender's FIN, before this RST */
  receiverDataAfterSenderFin: number;
  /** payload bytes the receiver sent that the sender's FIN did not acknowledge (crossed the FIN or came after it) */
  receiverDataBeyondSenderFinAck: number;
  /** the last segment other than a RST from the receiver before the RST (the likely trigger), if any */
  trigger: Segment | null;
  /**
   * raw ack of the receiver's segment from which on its segments may have been
   * in flight (Endpoint.flightAck), if that segment carried ACK: with the
   * trigger's ack, the range a RST answering a segment in flight falls in
   */
  flightAck: number | null;
  /** raw ack of the receiver's last segment other than a RST (Endpoint.lastAck), if it carried ACK (the log may no longer hold it) */
  lastAck: number | null;
  /**
   * the RST's payload as text (printable ASCII kept, other bytes escaped as in
   * previewText), at most RST_PAYLOAD_MAX bytes of it; null when it carried none
   * (or none was captured). seg.len is its whole length.
   */
  payload: string | null;
  acceptance: RstAcceptance;
  /** the sender sent data after this RST (a live socket would not) */
  senderDataAfter: boolean;
  /** sender's TTL range on its non-RST packets at the time */
  senderTtlMin: number;
  senderTtlMax: number;
  /** sender's last IP ID before the RST (-1 none) */
  senderLastIpId: number;
  /** options the sender put on every non-SYN non-RST segment (bitmask, -1 none seen) */
  senderOptAlways: number;
  /** seconds since the last payload byte on the connection (either way) */
  idleBeforeSec: number;
}

/**
 * Shared empty array for lists most connections never fill (RSTs): replaced
 * by a real array on the first push (see Tracker), so a connection costs
 * fewer allocations. Never push to it.
 */
export const NONE: RstRecord[] = Object.freeze([]) as unknown as RstRecord[];

const EMPTY_I32 = new Int32Array(0);
const EMPTY_F64 = new Float64Array(0);

export class Connection {
  /** @param arena where the evidence log lives; null: a connection without one (Tracker option `evidence: false`) */
  constructor(arena: SegmentArena | null) {
    this.arena = arena;
    this.takeLog();
  }

  /** Takes an evidence slot from the arena (none without an arena). */
  private takeLog(): void {
    const arena = this.arena;
    if (arena === null) return;
    const id = arena.alloc();
    this.logSlot = id;
    this.logI32 = arena.i32[SegmentArena.chunkOf(id)];
    this.logF64 = arena.f64[SegmentArena.chunkOf(id)];
    this.logI = SegmentArena.i32Base(id);
    this.logF = SegmentArena.f64Base(id);
  }

  // Field order is memory order: the fields every packet reads and writes come
  // first (table lookup, timers, the per-packet state), so that a packet
  // touches two or three cache lines of the connection, not eight.

  // table linkage and the 4-tuple (lookup)
  nextInBucket: Connection | null = null;
  hash = 0;
  ipVersion = 4;
  /** the tunnel path (Packet.tunnel; 0 none): part of the key, so two VNIs carrying the same inner addresses are two connections */
  tunnel = 0;
  /** originator address words and port */
  oPort = 0; rPort = 0;
  o0 = 0; r0 = 0; o1 = 0; o2 = 0; o3 = 0; r1 = 0; r2 = 0; r3 = 0;
  /** which of deleteAt / attemptAt are set (TIMER_* bits): checked before reading the float times */
  timers = 0;
  /** whole seconds of deleteAt and attemptAt (small integers, on the same cache line as timers) */
  deleteSec = 0;
  attemptSec = 0;
  /** capture time at which the connection is to be dropped (close/attempt timers), Infinity when none */
  deleteAt = Infinity;
  /** capture time in seconds (float) of the last packet */
  lastTime = 0;
  /** capture time of the SYN-attempt deadline (Zeek's tcp_attempt_delay), Infinity when none */
  attemptAt = Infinity;
  /** run-wide id, in order of creation */
  id = 0;
  /** handed to the sink already */
  closedOut = false;
  orig = new Endpoint();
  resp = new Endpoint();
  origM = new SideMilestones(this, PIN_BASE_ORIG, SYN_BASE_ORIG);
  respM = new SideMilestones(this, PIN_BASE_RESP, SYN_BASE_RESP);
  lastFrame = 0;
  lastTsSec = 0;
  lastTsNsec = 0;
  histSeen = 0;
  /**
   * Zeek's history letters, packed (src/tcp/history.ts): up to HIST_INLINE
   * letters as 5-bit symbol codes in one exact integer, the rest in a string.
   * A connection adds five to ten letters; as string appends each made a new
   * string that lived as long as the connection (about 20 % of the tracker's
   * allocation). The string is made once, when read (see `history`).
   */
  histCode = 0;
  histLen = 0;
  histMore = '';
  /**
   * Evidence log: the first HEAD_SEGMENTS segments, then a ring of the last
   * TAIL_SEGMENTS, then pinned milestone segments, stored as numbers in typed
   * arrays (no object per packet). `evidence()` turns them into Segment
   * objects on demand. logI / logF: where the slot starts in its chunk's arrays.
   */
  logI32: Int32Array = EMPTY_I32;
  logF64: Float64Array = EMPTY_F64;
  logI = 0;
  logF = 0;
  /** segments written to the log (all segments seen, since the ring overwrites) */
  segments = 0;
  private evidenceCache: Segment[] | null = null;
  /** RSTs seen, up to MAX_RSTS (NONE until the first) */
  rsts: RstRecord[] = NONE;
  /** time of the last segment carrying payload, either way */
  lastDataTime = -1;
  /** started without a SYN from the originator */
  partial = false;
  /** Zeek flipped the roles (history starts with ^) */
  flipped = false;
  synTimer = -1;

  // the rest: set once per connection or read when it is closed out
  /** index of the input file */
  input = 0;
  /** 0-based index in its file, in order of creation (like tshark's tcp.stream) */
  stream = 0;
  firstFrame = 0;
  firstTsSec = 0;
  firstTsNsec = 0;
  /** capture time in seconds (float) of the first packet */
  startTime = 0;
  /** pending timer entries (handles into the tracker's timer queues; -1 none) */
  deleteTimer = -1;
  deleteQueue: { cancel(handle: number): void } | null = null;
  /** the connection ended because the table was full */
  evicted = false;
  /**
   * the record continues one that eviction closed out early on the same
   * 4-tuple: what came before its first packet is in that other record
   */
  afterEviction = false;
  /** why the connection was closed out: 'closed', 'timeout', 'reused', 'evicted', 'end' */
  endReason = '';
  /**
   * When closed out as 'reused': the SYN that started the next connection on
   * these ports (its frame, capture time in seconds and raw seq; frame 0 when
   * not reused). A SYN retry with the originator's ISN after a RST starts a
   * new record as Zeek's does, and the rules still see how long it took.
   */
  reuseFrame = 0;
  reuseTime = 0;
  reuseSeq = 0;
  /** capture time when it was closed out: the capture shows nothing more of this record until then */
  closedAt = 0;
  /**
   * Links to the records before and after it on the same 4-tuple (src/tcp/link.ts; only with evidence):
   * the packet that started the next record as this one was closed out, and a summary of the record this
   * one continues. null: no link.
   */
  next: NextPacket | null = null;
  prev: PrevRecord | null = null;
  rstCount = 0;
  /**
   * What the connection record says of each RST (up to MAX_RSTS), made when
   * the RST is seen, with or without an evidence log, packed as
   * src/tcp/rst-summary.ts says. The first two in fields, the rest in an array
   * (most connections have at most one).
   */
  rstSum0 = 0;
  rstSum1 = 0;
  rstSumMore: number[] | null = null;
  private evidenceAt = -1;
  /** the arena slot (-1 once released) */
  logSlot = -1;
  readonly arena: SegmentArena | null;

  /**
   * Makes a closed-out connection new again, keeping its objects (the tracker
   * pools connections: creating 100,000s of them per second was most of the
   * garbage collector's work). Only after the sink returned: nothing may hold a
   * closed-out connection.
   */
  reuse(): this {
    connectionResetter()(this);
    this.takeLog();
    return this;
  }

  ep(fromOrig: boolean): Endpoint {
    return fromOrig ? this.orig : this.resp;
  }

  milestones(fromOrig: boolean): SideMilestones {
    return fromOrig ? this.origM : this.respM;
  }

  /** Adds a history letter (upper case for the originator). */
  addHistory(code: string, fromOrig: boolean): void {
    this.pushHistory(symbolOf(code, fromOrig));
  }

  private pushHistory(sym: number): void {
    if (this.histLen < HIST_INLINE) this.histCode = appendInline(this.histCode, sym);
    else this.histMore += letterOf(sym);
    this.histLen++;
  }

  /** Zeek's history string (one string per distinct inline history, shared) */
  /**
   * Source and destination are the same address and port: one socket connected to itself (Linux answers its own
   * SYN as a simultaneous open, RFC 9293 3.5). Every packet then reads as the originator's: a self-connect has
   * one socket and one direction on the wire, which is not a capture that missed the other.
   */
  get selfConnected(): boolean {
    return this.oPort === this.rPort && this.o0 === this.r0 && this.o1 === this.r1 && this.o2 === this.r2 && this.o3 === this.r3;
  }

  get history(): string {
    return decodeHistory(this.histCode, this.histLen, this.histMore);
  }

  /** Replaces the history (history letters only: flip() and releaseLog()). */
  private setHistory(h: string): void {
    this.histCode = 0;
    this.histLen = 0;
    this.histMore = '';
    for (let i = 0; i < h.length; i++) this.pushHistory(symbolOfLetter(h[i]));
  }

  /** Zeek's CheckHistory: adds the letter the first time; returns true when it was already seen. */
  checkHistory(bit: number, code: string, fromOrig: boolean): boolean {
    const mask = seenMask(bit, fromOrig);
    if ((this.histSeen & mask) === 0) {
      this.histSeen |= mask;
      this.addHistory(code, fromOrig);
      return false;
    }
    return true;
  }

  /** Slot in the log for the next segment (head first, then the ring). */
  nextSlot(): number {
    const n = this.segments++;
    this.evidenceCache = null;
    return slotOf(n);
  }

  /** The segment stored in a log slot, as an object (a copy). */
  segmentAt(slot: number): Segment {
    return readSegment(this.logI32, this.logI, slot);
  }

  /**
   * The last stored segment other than a RST (no RST answers a RST) sent by
   * one side before log position `before` (a count of segments), without
   * materializing the whole log; null if none.
   */
  lastFrom(fromOrig: boolean, before: number): Segment | null {
    const oldest = oldestInRing(before);
    for (let n = before - 1; n >= 0; n--) {
      if (n >= HEAD_SEGMENTS && n < oldest) n = HEAD_SEGMENTS - 1; // overwritten by the ring
      if (n < 0) break;
      const slot = slotOf(n);
      if (segmentFromOrig(this.logI32, this.logI, slot) === fromOrig && (segmentFlags(this.logI32, this.logI, slot) & TCP_RST) === 0) {
        return this.segmentAt(slot);
      }
    }
    return null;
  }

  /**
   * Gives the evidence log back to the arena once the connection was closed
   * out. Guarantee: evidence() is valid during the connection sink call only;
   * a consumer that keeps evidence copies it there (reports do).
   */
  releaseLog(): void {
    if (this.logSlot >= 0 && this.arena !== null) {
      this.arena.release(this.logSlot);
      this.logSlot = -1;
    }
    // A closed-out connection waits in the tracker's pool until it is reused;
    // what it made for the sink (evidence objects, RST records, the history
    // string) must not wait with it. Measured: at the end of the 10 M-packet
    // capture, with no new connections to reuse them, 40,000 pooled connections
    // held some 40 MB this way.
    this.evidenceCache = null;
    this.rsts = NONE;
    this.setHistory('');
    this.origM.forgetSegments();
    this.respM.forgetSegments();
  }

  /** Segments in capture order: the head, then the tail ring (no duplicates). Cached until the next segment. */
  evidence(): Segment[] {
    if (this.logSlot < 0) return [];
    if (this.evidenceCache !== null && this.evidenceAt === this.segments) return this.evidenceCache;
    const out: Segment[] = [];
    const n = this.segments;
    const head = Math.min(n, HEAD_SEGMENTS);
    for (let i = 0; i < head; i++) out.push(this.segmentAt(i));
    const inRing = Math.min(Math.max(n - HEAD_SEGMENTS, 0), TAIL_SEGMENTS);
    const start = n - HEAD_SEGMENTS <= TAIL_SEGMENTS ? 0 : (n - HEAD_SEGMENTS) % TAIL_SEGMENTS;
    for (let i = 0; i < inRing; i++) out.push(this.segmentAt(HEAD_SEGMENTS + ((start + i) % TAIL_SEGMENTS)));
    this.evidenceCache = out;
    this.evidenceAt = n;
    return out;
  }

  /** RST summary i (see rstSum0); i < min(rstCount, MAX_RSTS). */
  rstSum(i: number): number {
    return i === 0 ? this.rstSum0 : i === 1 ? this.rstSum1 : this.rstSumMore![i - 2];
  }

  setRstSum(i: number, v: number): void {
    if (i === 0) this.rstSum0 = v;
    else if (i === 1) this.rstSum1 = v;
    else if (this.rstSumMore === null) this.rstSumMore = [v];
    else this.rstSumMore[i - 2] = v;
  }

  /** Swaps originator and responder (Zeek's FlipRoles). */
  flip(): void {
    [this.o0, this.o1, this.o2, this.o3, this.oPort, this.r0, this.r1, this.r2, this.r3, this.rPort] =
      [this.r0, this.r1, this.r2, this.r3, this.rPort, this.o0, this.o1, this.o2, this.o3, this.oPort];
    [this.orig, this.resp] = [this.resp, this.orig];
    [this.origM, this.respM] = [this.respM, this.origM];
    this.histSeen = flipSeen(this.histSeen);
    this.setHistory(flippedHistory(this.history));
    this.flipped = !this.flipped;
    // every slot, pins included (a pin not yet written is rewritten whole when it is)
    if (this.logSlot >= 0) flipSegments(this.logI32, this.logI);
    this.evidenceCache = null;
    this.origM.forgetSegments(); // pinned segments made before the flip name the old sides
    this.respM.forgetSegments();
    for (const r of this.rsts) r.seg.fromOrig = !r.seg.fromOrig;
    for (let i = Math.min(this.rstCount, MAX_RSTS) - 1; i >= 0; i--) {
      this.setRstSum(i, flipRstSummary(this.rstSum(i)));
    }
  }
}


/**
 * Resets a pooled connection to the state of a new one (its evidence slot
 * excepted: reuse() takes a new one). Derived from two fresh connections
 * (src/tcp/reset.ts): scalars are copied, the endpoints and milestones reset
 * in place, the arena kept; a new object field without reset() is an error
 * here, not a reference shared between pooled connections. The fresh pair use
 * a stand-in arena, so making the resetter allocates no evidence chunk.
 */
let resetConnection: ((c: Connection) => void) | null = null;

function connectionResetter(): (c: Connection) => void {
  if (resetConnection === null) {
    const standIn = {
      alloc: () => 0, release: () => {}, i32: [EMPTY_I32], f64: [EMPTY_F64],
    } as unknown as SegmentArena;
    const a = new Connection(standIn);
    const b = new Connection(standIn);
    a.releaseLog(); // logSlot -1: what a connection without an arena keeps after reuse
    b.releaseLog();
    resetConnection = derivePoolResetter(a, b, 'Connection');
  }
  return resetConnection;
}
