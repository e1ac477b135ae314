/**
 * A TCP connection: one 4-tuple lifetime, two oriented halves (orig, resp),
 * Zeek's history string, and the evidence rules and reports need: the first
 * segments, a ring of the most recent ones, every RST (up to a cap) with the
 * receiver's view at that moment, and teardown milestones per side.
 *
 * Memory per connection is bounded: HEAD_SEGMENTS + TAIL_SEGMENTS segment
 * records, MAX_RSTS RST records, MAX_SYN_TIMES SYN times.
 */
import { Endpoint } from './endpoint.js';
import { makeResetter } from './reset.js';

export const HEAD_SEGMENTS = 6;
export const TAIL_SEGMENTS = 16;
/** 32-bit integers stored per segment: frame, tsSec, tsNsec, bits (flags | fromOrig<<8 | retrans<<9 | ttl<<10), seq, ack, len, win, ipId+1, optMask */
export const SEG_I32 = 10;
/** 64-bit numbers stored per segment: seqRel, ackRel */
export const SEG_F64 = 2;
export const MAX_RSTS = 8;
export const MAX_SYN_TIMES = 8;

/** One observed segment, as evidence. Relative numbers are 64-bit offsets from each side's ISN. */
export interface Segment {
  frame: number;
  tsSec: number;
  tsNsec: number;
  /** sent by the originator (as the connection is oriented now) */
  fromOrig: boolean;
  flags: number;
  seq: number;
  ack: number;
  /** sequence number relative to the sender's ISN */
  seqRel: number;
  /** ack relative to the receiver's ISN (-1 when the ACK flag is not set or unknown) */
  ackRel: number;
  len: number;
  /** raw window field */
  win: number;
  ttl: number;
  ipId: number;
  optMask: number;
  /** the payload lies (partly) below what the sender had already sent */
  retrans: boolean;
}

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
  /** receiver's last advertised window, scaled */
  receiverWindow: number;
  /** highest sequence end the sender had sent before the RST, relative */
  senderMaxEndRel: number;
  /** bytes the sender had sent that the receiver had not acknowledged */
  senderUnacked: number;
  /** bytes the receiver had sent beyond what the sender had acked (the sender's unread data, as far as the wire shows) */
  receiverUnackedBySender: number;
  /** the sender had sent a FIN before this RST */
  senderFinBefore: boolean;
  /** the receiver had sent a FIN before this RST */
  receiverFinBefore: boolean;
  /** payload bytes the receiver sent after the sender's FIN, before this RST */
  receiverDataAfterSenderFin: number;
  /** payload bytes the receiver sent that the sender's FIN did not acknowledge (crossed the FIN or came after it) */
  receiverDataBeyondSenderFinAck: number;
  /** the last segment from the receiver before the RST (the likely trigger), if any */
  trigger: Segment | null;
  acceptance: RstAcceptance;
  /** the sender sent data after this RST (a live socket would not) */
  senderDataAfter: boolean;
  /** the receiver answered within the connection after this RST (challenge ACK or more data) */
  receiverAnsweredAfter: boolean;
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

/** Teardown milestones of one side. */
export interface SideMilestones {
  /** first FIN this side sent */
  fin: Segment | null;
  /** the FIN's ack covered the peer's FIN (this side closed second) */
  finAcksPeerFin: boolean;
  /** payload bytes this side sent after the peer's FIN was seen on the wire */
  dataAfterPeerFin: number;
  dataAfterPeerFinPkts: number;
  firstDataAfterPeerFin: Segment | null;
  /** this side's first data after the peer's FIN already acknowledged that FIN (it had received it) */
  dataAfterPeerFinAckedFin: boolean;
  /** bytes this side sent after its own FIN (should be none) */
  dataAfterOwnFin: number;
  /** payload acked by this side after the peer's FIN, while this side kept sending (half-close evidence) */
  keepaliveProbes: number;
  lastKeepalive: Segment | null;
  /** keep-alive-like probes sent while the peer advertised a zero window (zero-window probes) */
  zeroWindowProbes: number;
  synTimes: number[];
  synFrames: number[];
  /** frame of this side's first SYN without ACK (0 none): two of them mean a simultaneous open */
  bareSynFrame: number;
  /** this side sent a segment with ACK and without RST (it had the peer's SYN-ACK, even if unseen) */
  sentAck: boolean;
}

/**
 * Shared empty array for lists most connections never fill (SYN retries,
 * RSTs): replaced by a real array on the first push (see Tracker), so a
 * connection costs fewer allocations. Never push to it.
 */
export const NONE: number[] & RstRecord[] = Object.freeze([]) as unknown as number[] & RstRecord[];

function newMilestones(): SideMilestones {
  return {
    fin: null, finAcksPeerFin: false, dataAfterPeerFin: 0, dataAfterPeerFinPkts: 0, firstDataAfterPeerFin: null,
    dataAfterPeerFinAckedFin: false, dataAfterOwnFin: 0, keepaliveProbes: 0, lastKeepalive: null,
    zeroWindowProbes: 0, synTimes: NONE, synFrames: NONE, bareSynFrame: 0, sentAck: false,
  };
}

/**
 * Evidence storage shared by every connection: fixed-size slots in chunks of
 * typed arrays (integers in an Int32Array, the two 64-bit relative offsets in
 * a Float64Array), taken when a connection is created and given back when it
 * is closed out. Recording a segment never allocates, chunks are never copied
 * or moved, and a slot is 56 bytes per segment.
 */
export class SegmentArena {
  static readonly CHUNK_SLOTS = 1024;
  static readonly SLOT_I32 = (HEAD_SEGMENTS + TAIL_SEGMENTS) * SEG_I32;
  static readonly SLOT_F64 = (HEAD_SEGMENTS + TAIL_SEGMENTS) * SEG_F64;
  readonly i32: Int32Array[] = [];
  readonly f64: Float64Array[] = [];
  private free: number[] = [];
  private used = 0;

  /** a slot id */
  alloc(): number {
    const f = this.free.pop();
    if (f !== undefined) return f;
    const id = this.used++;
    if ((id >> 10) >= this.i32.length) {
      this.i32.push(new Int32Array(SegmentArena.SLOT_I32 * SegmentArena.CHUNK_SLOTS));
      this.f64.push(new Float64Array(SegmentArena.SLOT_F64 * SegmentArena.CHUNK_SLOTS));
    }
    return id;
  }

  release(id: number): void {
    this.free.push(id);
  }
}

export class Connection {
  constructor(arena: SegmentArena) {
    this.arena = arena;
    this.logSlot = -1;
    this.logI32 = arena.i32[0] ?? new Int32Array(0);
    this.logF64 = arena.f64[0] ?? new Float64Array(0);
    this.logI = 0;
    this.logF = 0;
    this.takeLog();
  }

  /** Takes an evidence slot from the arena. */
  private takeLog(): void {
    const arena = this.arena;
    const id = arena.alloc();
    this.logSlot = id;
    this.logI32 = arena.i32[id >> 10];
    this.logF64 = arena.f64[id >> 10];
    this.logI = (id & 1023) * SegmentArena.SLOT_I32;
    this.logF = (id & 1023) * SegmentArena.SLOT_F64;
  }

  /** run-wide id, in order of creation */
  id = 0;
  /** index of the input file */
  input = 0;
  /** 0-based index in its file, in order of creation (like tshark's tcp.stream) */
  stream = 0;
  // table linkage
  hash = 0;
  nextInBucket: Connection | null = null;
  lruPrev: Connection | null = null;
  lruNext: Connection | null = null;

  ipVersion = 4;
  /** originator address words and port */
  o0 = 0; o1 = 0; o2 = 0; o3 = 0; oPort = 0;
  r0 = 0; r1 = 0; r2 = 0; r3 = 0; rPort = 0;

  orig = new Endpoint();
  resp = new Endpoint();
  origM = newMilestones();
  respM = newMilestones();
  history = '';
  histSeen = 0;
  /** Zeek flipped the roles (history starts with ^) */
  flipped = false;
  /** started without a SYN from the originator */
  partial = false;

  firstFrame = 0;
  lastFrame = 0;
  firstTsSec = 0;
  firstTsNsec = 0;
  lastTsSec = 0;
  lastTsNsec = 0;
  /** capture time in seconds (float) of the first and last packet */
  startTime = 0;
  lastTime = 0;
  /** capture time at which the connection is to be dropped (close/attempt timers), Infinity when none */
  deleteAt = Infinity;
  /** capture time of the SYN-attempt deadline (Zeek's tcp_attempt_delay), Infinity when none */
  attemptAt = Infinity;
  /** handed to the sink already */
  closedOut = false;
  /** pending timer entries (handles into the tracker's timer queues; -1 none) */
  deleteTimer = -1;
  deleteQueue: { cancel(handle: number): void } | null = null;
  synTimer = -1;
  /** the connection ended because the table was full */
  evicted = false;
  /** why the connection was closed out: 'closed', 'timeout', 'reused', 'evicted', 'end' */
  endReason = '';

  /**
   * Evidence log: the first HEAD_SEGMENTS segments, then a ring of the last
   * TAIL_SEGMENTS, stored as numbers in one typed array (no object per
   * packet). `evidence()` turns them into Segment objects on demand.
   */
  readonly arena: SegmentArena;
  /** the arena slot (-1 once released) and where it starts in its chunk's arrays */
  logSlot: number;
  logI32: Int32Array;
  logF64: Float64Array;
  logI: number;
  logF: number;
  /** segments written to the log (all segments seen, since the ring overwrites) */
  segments = 0;
  private evidenceCache: Segment[] | null = null;
  private evidenceAt = -1;
  /** RSTs seen, up to MAX_RSTS (NONE until the first) */
  rsts: RstRecord[] = NONE;
  rstCount = 0;
  /** time of the last segment carrying payload, either way */
  lastDataTime = -1;

  /**
   * Makes a closed-out connection new again, keeping its objects (the tracker
   * pools connections: creating 100,000s of them per second was most of the
   * garbage collector's work). Only after the sink returned: nothing may hold a
   * closed-out connection.
   */
  reuse(): this {
    const { orig, resp, origM, respM } = this;
    connectionResetter(this.arena)(this);
    this.orig = orig;
    this.resp = resp;
    this.origM = origM;
    this.respM = respM;
    orig.reset();
    resp.reset();
    resetMilestones(origM);
    resetMilestones(respM);
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
    this.history += fromOrig ? code : code.toLowerCase();
  }

  /** Zeek's CheckHistory: adds the letter the first time; returns true when it was already seen. */
  checkHistory(bit: number, code: string, fromOrig: boolean): boolean {
    const mask = fromOrig ? bit : bit << 16;
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
    if (n < HEAD_SEGMENTS) return n;
    return HEAD_SEGMENTS + ((n - HEAD_SEGMENTS) % TAIL_SEGMENTS);
  }

  /** The segment stored in a log slot, as an object (a copy). */
  segmentAt(slot: number): Segment {
    const l = this.logI32;
    const o = this.logI + slot * SEG_I32;
    const d = this.logF64;
    const od = this.logF + slot * SEG_F64;
    const bits = l[o + 3];
    return {
      frame: l[o] >>> 0, tsSec: l[o + 1] >>> 0, tsNsec: l[o + 2], fromOrig: (bits & 0x100) !== 0, flags: bits & 0xff,
      seq: l[o + 4] >>> 0, ack: l[o + 5] >>> 0, seqRel: d[od], ackRel: d[od + 1], len: l[o + 6], win: l[o + 7],
      ttl: (bits >> 10) & 0xff, ipId: l[o + 8] - 1, optMask: l[o + 9], retrans: (bits & 0x200) !== 0,
    };
  }

  /**
   * The last stored segment sent by one side before log position `before`
   * (a count of segments), without materializing the whole log; null if none.
   */
  lastFrom(fromOrig: boolean, before: number): Segment | null {
    const l = this.logI32;
    const oldest = Math.max(HEAD_SEGMENTS, before - TAIL_SEGMENTS);
    for (let n = before - 1; n >= 0; n--) {
      if (n >= HEAD_SEGMENTS && n < oldest) n = HEAD_SEGMENTS - 1; // overwritten by the ring
      if (n < 0) break;
      const slot = n < HEAD_SEGMENTS ? n : HEAD_SEGMENTS + ((n - HEAD_SEGMENTS) % TAIL_SEGMENTS);
      const bits = l[this.logI + slot * SEG_I32 + 3];
      if (((bits & 0x100) !== 0) === fromOrig) return this.segmentAt(slot);
    }
    return null;
  }

  /**
   * Gives the evidence log back to the arena once the connection was closed
   * out. Guarantee: evidence() is valid during the connection sink call only;
   * a consumer that keeps evidence copies it there (reports do).
   */
  releaseLog(): void {
    if (this.logSlot >= 0) {
      this.arena.release(this.logSlot);
      this.logSlot = -1;
    }
  }

  /** Segments in capture order: the head, then the tail ring (no duplicates). Cached until the next segment. */
  evidence(): Segment[] {
    if (this.logSlot < 0) return this.evidenceCache ?? [];
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

  /** Swaps originator and responder (Zeek's FlipRoles). */
  flip(): void {
    [this.o0, this.o1, this.o2, this.o3, this.oPort, this.r0, this.r1, this.r2, this.r3, this.rPort] =
      [this.r0, this.r1, this.r2, this.r3, this.rPort, this.o0, this.o1, this.o2, this.o3, this.oPort];
    [this.orig, this.resp] = [this.resp, this.orig];
    [this.origM, this.respM] = [this.respM, this.origM];
    this.histSeen = (this.histSeen >>> 16) | ((this.histSeen & 0xffff) << 16);
    let h = '';
    for (const c of this.history) h += c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
    this.history = '^' + h;
    this.flipped = !this.flipped;
    const stored = Math.min(this.segments, HEAD_SEGMENTS + TAIL_SEGMENTS);
    const l = this.logI32;
    for (let i = 0; i < stored; i++) l[this.logI + i * SEG_I32 + 3] ^= 0x100;
    this.evidenceCache = null;
    for (const r of this.rsts) r.seg.fromOrig = !r.seg.fromOrig;
  }
}

/** Field values of a new milestones record, copied when a connection is reused. */
const MILESTONE_DEFAULTS: Readonly<SideMilestones> = Object.freeze(newMilestones());
const resetMilestones = makeResetter<SideMilestones>(MILESTONE_DEFAULTS as unknown as Record<string, unknown>);

/**
 * Scalar field values of a new connection (objects and the evidence slot
 * excluded), copied by reuse(); taken from the first connection reused, which
 * is captured here in its new state.
 */
let resetConnection: ((c: Connection) => void) | null = null;
const NOT_SCALAR = new Set(['orig', 'resp', 'origM', 'respM', 'arena', 'logSlot', 'logI32', 'logF64', 'logI', 'logF']);

function connectionResetter(arena: SegmentArena): (c: Connection) => void {
  if (resetConnection === null) {
    const fresh = new Connection(arena);
    fresh.releaseLog();
    const src = fresh as unknown as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(src)) if (!NOT_SCALAR.has(k)) out[k] = src[k];
    resetConnection = makeResetter<Connection>(Object.freeze(out));
  }
  return resetConnection;
}
