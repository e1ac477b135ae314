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

/** Every letter Zeek's history uses (originator upper case, responder lower case), and '^' for a flip. */
const HIST_SYMBOLS = '^SHADFRCWTGIQshadfrcwtgiq';
/** letters kept in Connection.histCode (10 x 5 bits: below 2^53, exact in a double) */
const HIST_INLINE = 10;
/** symbol code (1-based index in HIST_SYMBOLS) of a letter, by char code, for each side */
const HIST_UPPER = new Uint8Array(128);
const HIST_LOWER = new Uint8Array(128);
for (let i = 0; i < HIST_SYMBOLS.length; i++) {
  const ch = HIST_SYMBOLS[i];
  if (ch === ch.toUpperCase()) HIST_UPPER[ch.charCodeAt(0)] = i + 1;
  HIST_LOWER[ch.toUpperCase().charCodeAt(0)] = HIST_SYMBOLS.indexOf(ch.toLowerCase()) + 1;
}
/** history strings by histCode: a capture has a few hundred distinct ones */
const HIST_STRINGS = new Map<number, string>();

export const HEAD_SEGMENTS = 6;
export const TAIL_SEGMENTS = 16;
/**
 * 32-bit integers stored per segment: frame, tsSec, tsNsec, bits (flags |
 * fromOrig<<8 | retrans<<9 | ttl<<10), seq, ack, len, win, ipId+1, optMask,
 * then the 64-bit relative offsets seqRel and ackRel as high and low words
 * (one array, so recording a segment touches one run of memory, not two).
 */
export const SEG_I32 = 14;
const TWO32 = 4294967296;

/** Stores a safe integer (|v| < 2^53) as two 32-bit words at l[o] (high) and l[o + 1] (low). */
export function putRel(l: Int32Array, o: number, v: number): void {
  l[o] = Math.floor(v / TWO32);
  l[o + 1] = v; // ToInt32 keeps the low 32 bits
}

/** Reads what putRel stored. */
export function getRel(l: Int32Array, o: number): number {
  return l[o] * TWO32 + (l[o + 1] >>> 0);
}
export const MAX_RSTS = 8;
/** Connection.timers bits */
export const TIMER_DELETE = 1;
export const TIMER_ATTEMPT = 2;
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

/** Pinned evidence slots per side (after the head and the ring): the first FIN, the first data after the peer's FIN, the last keep-alive probe. */
export const PIN_FIN = 0;
export const PIN_DATA_AFTER_PEER_FIN = 1;
export const PIN_KEEPALIVE = 2;
export const PINS_PER_SIDE = 3;
/** evidence slots per connection: head, ring, then two sides' pins */
export const LOG_SLOTS = HEAD_SEGMENTS + TAIL_SEGMENTS + 2 * PINS_PER_SIDE;

/**
 * Teardown milestones of one side. The milestone segments (`fin`,
 * `firstDataAfterPeerFin`, `lastKeepalive`) are pinned copies in the
 * connection's evidence slot, made into objects only when a rule reads them
 * (so tracking allocates nothing per milestone); like `Connection.evidence()`
 * they are valid during the connection sink call only. SYN times live in
 * fixed typed arrays kept across pooled reuse.
 */
export class SideMilestones {
  /**
   * @param pinBase first pinned evidence slot of this side
   * @param synBase where this side's SYN times and frames start in the connection's 64-bit log
   */
  constructor(private readonly conn: Connection, private readonly pinBase: number, private readonly synBase: number) {}
  /** which pins hold a segment (bit per PIN_*) */
  pinned = 0;
  /** the FIN's ack covered the peer's FIN (this side closed second) */
  finAcksPeerFin = false;
  /** payload bytes this side sent after the peer's FIN was seen on the wire */
  dataAfterPeerFin = 0;
  dataAfterPeerFinPkts = 0;
  /** this side's first data after the peer's FIN already acknowledged that FIN (it had received it) */
  dataAfterPeerFinAckedFin = false;
  /** bytes this side sent after its own FIN (should be none) */
  dataAfterOwnFin = 0;
  /** keep-alive probes sent (seq one below SND.NXT, at most one byte) while the peer's window was open */
  keepaliveProbes = 0;
  /** keep-alive-like probes sent while the peer advertised a zero window (zero-window probes) */
  zeroWindowProbes = 0;
  /** SYNs recorded (at most MAX_SYN_TIMES) */
  synCount = 0;
  /** frame of this side's first SYN without ACK (0 none): two of them mean a simultaneous open */
  bareSynFrame = 0;
  /** this side sent a segment with ACK and without RST (it had the peer's SYN-ACK, even if unseen) */
  sentAck = false;
  // materialized pins (one field per pin: no array to reach on every write)
  private seg0: Segment | null = null;
  private seg1: Segment | null = null;
  private seg2: Segment | null = null;

  /** Copies log slot `slot` into pin `pin` (no allocation). */
  pin(pin: number, slot: number): void {
    const c = this.conn;
    const to = this.pinBase + pin;
    c.logI32.copyWithin(c.logI + to * SEG_I32, c.logI + slot * SEG_I32, c.logI + (slot + 1) * SEG_I32);
    this.pinned |= 1 << pin;
    this.forget(pin);
  }

  /** Drops the segment objects made for readers (the pins stay). */
  forgetSegments(): void {
    this.seg0 = this.seg1 = this.seg2 = null;
  }

  private forget(pin: number): void {
    if (pin === 0) this.seg0 = null;
    else if (pin === 1) this.seg1 = null;
    else this.seg2 = null;
  }

  /** A pinned segment as an object (cached: the same object until the pin changes). */
  pinnedSegment(pin: number): Segment | null {
    if ((this.pinned & (1 << pin)) === 0) return null;
    const s = pin === 0 ? this.seg0 : pin === 1 ? this.seg1 : this.seg2;
    if (s !== null) return s;
    const made = this.conn.segmentAt(this.pinBase + pin);
    if (pin === 0) this.seg0 = made;
    else if (pin === 1) this.seg1 = made;
    else this.seg2 = made;
    return made;
  }

  /** ackRel of a pinned segment without making an object (-1 when not pinned). */
  pinnedAckRel(pin: number): number {
    if ((this.pinned & (1 << pin)) === 0) return -1;
    return getRel(this.conn.logI32, this.conn.logI + (this.pinBase + pin) * SEG_I32 + 12);
  }

  /** first FIN this side sent */
  get fin(): Segment | null { return this.pinnedSegment(PIN_FIN); }
  /** this side's first data segment after the peer's FIN */
  get firstDataAfterPeerFin(): Segment | null { return this.pinnedSegment(PIN_DATA_AFTER_PEER_FIN); }
  /** the last keep-alive probe this side sent */
  get lastKeepalive(): Segment | null { return this.pinnedSegment(PIN_KEEPALIVE); }
  /** Records a SYN (at most MAX_SYN_TIMES are kept). */
  addSyn(timeSec: number, frame: number): void {
    const n = this.synCount;
    if (n >= MAX_SYN_TIMES) return;
    const d = this.conn.logF64;
    const o = this.conn.logF + this.synBase;
    d[o + n] = timeSec;
    d[o + MAX_SYN_TIMES + n] = frame;
    this.synCount = n + 1;
  }

  /** Time of the last SYN recorded (seconds); only when synCount > 0. */
  lastSynTime(): number {
    return this.conn.logF64[this.conn.logF + this.synBase + this.synCount - 1];
  }

  /** SYN capture times, seconds (a new array) */
  get synTimes(): number[] {
    const o = this.conn.logF + this.synBase;
    return Array.from(this.conn.logF64.subarray(o, o + this.synCount));
  }

  /** SYN frames (a new array) */
  get synFrames(): number[] {
    const o = this.conn.logF + this.synBase + MAX_SYN_TIMES;
    return Array.from(this.conn.logF64.subarray(o, o + this.synCount));
  }

  /** Back to the state of a new side (the tracker reuses closed-out connections). */
  reset(): void {
    this.pinned = 0;
    this.finAcksPeerFin = false;
    this.dataAfterPeerFin = 0;
    this.dataAfterPeerFinPkts = 0;
    this.dataAfterPeerFinAckedFin = false;
    this.dataAfterOwnFin = 0;
    this.keepaliveProbes = 0;
    this.zeroWindowProbes = 0;
    this.synCount = 0;
    this.bareSynFrame = 0;
    this.sentAck = false;
    this.forgetSegments();
  }
}

/**
 * Shared empty array for lists most connections never fill (RSTs): replaced
 * by a real array on the first push (see Tracker), so a connection costs
 * fewer allocations. Never push to it.
 */
export const NONE: RstRecord[] = Object.freeze([]) as unknown as RstRecord[];

/**
 * Evidence storage shared by every connection: fixed-size slots in chunks of
 * typed arrays (segments in an Int32Array, 56 bytes each; SYN times in a
 * Float64Array), taken when a connection is created and given back when it is
 * closed out. Recording a segment never allocates and chunks are never copied
 * or moved.
 */
export class SegmentArena {
  static readonly CHUNK_SLOTS = 1024;
  static readonly SLOT_I32 = LOG_SLOTS * SEG_I32;
  /** per side MAX_SYN_TIMES SYN times and as many frames */
  static readonly SLOT_F64 = 4 * MAX_SYN_TIMES;
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
    this.logI32 = arena.i32[id >> 10];
    this.logF64 = arena.f64[id >> 10];
    this.logI = (id & 1023) * SegmentArena.SLOT_I32;
    this.logF = (id & 1023) * SegmentArena.SLOT_F64;
  }

  // Field order is memory order: the fields every packet reads and writes come
  // first (table lookup, timers, the per-packet state), so that a packet
  // touches two or three cache lines of the connection, not eight.

  // table linkage and the 4-tuple (lookup)
  nextInBucket: Connection | null = null;
  hash = 0;
  ipVersion = 4;
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
  origM = new SideMilestones(this, HEAD_SEGMENTS + TAIL_SEGMENTS, 0);
  respM = new SideMilestones(this, HEAD_SEGMENTS + TAIL_SEGMENTS + PINS_PER_SIDE, 2 * MAX_SYN_TIMES);
  lastFrame = 0;
  lastTsSec = 0;
  lastTsNsec = 0;
  histSeen = 0;
  /**
   * Zeek's history letters, packed: up to HIST_INLINE letters as 5-bit symbol
   * codes (HIST_SYMBOLS, 1-based) in one exact integer, the rest in a string.
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
  /** why the connection was closed out: 'closed', 'timeout', 'reused', 'evicted', 'end' */
  endReason = '';
  rstCount = 0;
  /**
   * What the connection record says of each RST (up to MAX_RSTS), made when
   * the RST is seen, with or without an evidence log: frame * 64 + fromOrig * 16
   * + shape code * 4 + acceptance code (RST_SHAPES, RST_ACCEPTANCES). The first
   * two in fields, the rest in an array (most connections have at most one).
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
    const { orig, resp, origM, respM } = this;
    connectionResetter(this.arena)(this);
    this.orig = orig;
    this.resp = resp;
    this.origM = origM;
    this.respM = respM;
    orig.reset();
    resp.reset();
    origM.reset();
    respM.reset();
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
    const ch = code.charCodeAt(0);
    this.pushHistory(fromOrig ? HIST_UPPER[ch] : HIST_LOWER[ch]);
  }

  private pushHistory(sym: number): void {
    if (this.histLen < HIST_INLINE) this.histCode = this.histCode * 32 + sym;
    else this.histMore += HIST_SYMBOLS[sym - 1];
    this.histLen++;
  }

  /** Zeek's history string (one string per distinct inline history, shared) */
  get history(): string {
    if (this.histLen === 0) return '';
    const code = this.histCode;
    let s = HIST_STRINGS.get(code);
    if (s === undefined) {
      s = '';
      for (let c = code; c > 0; c = Math.floor(c / 32)) s = HIST_SYMBOLS[(c % 32) - 1] + s;
      if (HIST_STRINGS.size < 65536) HIST_STRINGS.set(code, s);
    }
    return this.histLen > HIST_INLINE ? s + this.histMore : s;
  }

  /** Replaces the history (letters from HIST_SYMBOLS only: flip() and releaseLog()). */
  private setHistory(h: string): void {
    this.histCode = 0;
    this.histLen = 0;
    this.histMore = '';
    for (let i = 0; i < h.length; i++) this.pushHistory(HIST_SYMBOLS.indexOf(h[i]) + 1);
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
    const bits = l[o + 3];
    return {
      frame: l[o] >>> 0, tsSec: l[o + 1] >>> 0, tsNsec: l[o + 2], fromOrig: (bits & 0x100) !== 0, flags: bits & 0xff,
      seq: l[o + 4] >>> 0, ack: l[o + 5] >>> 0, seqRel: getRel(l, o + 10), ackRel: getRel(l, o + 12), len: l[o + 6], win: l[o + 7],
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
    this.histSeen = (this.histSeen >>> 16) | ((this.histSeen & 0xffff) << 16);
    let h = '';
    for (const c of this.history) h += c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
    this.setHistory('^' + h);
    this.flipped = !this.flipped;
    // every slot, pins included (a pin not yet written is rewritten whole when it is)
    if (this.logSlot >= 0) {
      const l = this.logI32;
      for (let i = 0; i < LOG_SLOTS; i++) l[this.logI + i * SEG_I32 + 3] ^= 0x100;
    }
    this.evidenceCache = null;
    for (const r of this.rsts) r.seg.fromOrig = !r.seg.fromOrig;
    for (let i = Math.min(this.rstCount, MAX_RSTS) - 1; i >= 0; i--) {
      const v = this.rstSum(i);
      this.setRstSum(i, v + (v % 32 >= 16 ? -16 : 16));
    }
  }
}


/**
 * Scalar field values of a new connection (objects and the evidence slot
 * excluded), copied by reuse(); taken from the first connection reused, which
 * is captured here in its new state.
 */
let resetConnection: ((c: Connection) => void) | null = null;
const NOT_SCALAR = new Set(['orig', 'resp', 'origM', 'respM', 'arena', 'logSlot', 'logI32', 'logF64', 'logI', 'logF']);

function connectionResetter(arena: SegmentArena | null): (c: Connection) => void {
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
