/**
 * The evidence log's packed layout and its arena: the only code that reads or
 * writes the typed arrays behind Connection.logI32 / logF64.
 *
 * A connection's evidence slot holds LOG_SLOTS segment records of SEG_I32
 * 32-bit words each (the first HEAD_SEGMENTS segments, a ring of the last
 * TAIL_SEGMENTS, then PINS_PER_SIDE pinned milestone segments per side) in an
 * Int32Array, and per side MAX_SYN_TIMES SYN times and as many SYN frames in a
 * Float64Array. Recording a segment writes one run of 14 words: no object per
 * packet. Guarantees: every field written by writeSegment reads back exactly
 * (frame numbers and timestamps as unsigned 32-bit, relative offsets as exact
 * integers below 2^53 in magnitude).
 */
import type { Frame } from '../capture/frame.js';
import type { Packet } from '../decode/packet.js';

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

/** segments kept from the start of a connection */
export const HEAD_SEGMENTS = 6;
/** segments kept in the ring of the most recent ones */
export const TAIL_SEGMENTS = 16;
/**
 * Pinned slots per side (after the head and the ring): the first FIN, the
 * first data after the peer's FIN. Only what a rule reads is pinned.
 */
export const PIN_FIN = 0;
export const PIN_DATA_AFTER_PEER_FIN = 1;
export const PINS_PER_SIDE = 2;
/** first pinned slot of each side (as the connection was oriented when it was created) */
export const PIN_BASE_ORIG = HEAD_SEGMENTS + TAIL_SEGMENTS;
export const PIN_BASE_RESP = HEAD_SEGMENTS + TAIL_SEGMENTS + PINS_PER_SIDE;
/** segment slots per connection: head, ring, then two sides' pins */
export const LOG_SLOTS = HEAD_SEGMENTS + TAIL_SEGMENTS + 2 * PINS_PER_SIDE;
/** SYN times recorded per side */
export const MAX_SYN_TIMES = 8;

// One segment record: 32-bit words at these offsets from the slot's start.
const F_FRAME = 0;
const F_TS_SEC = 1;
const F_TS_NSEC = 2;
/** flags (bits 0-7) | fromOrig << 8 | retrans << 9 | ttl << 10 */
const F_BITS = 3;
const F_SEQ = 4;
const F_ACK = 5;
const F_LEN = 6;
const F_WIN = 7;
/** IPv4 ID + 1 (0 for IPv6, which has none) */
const F_IPID = 8;
const F_OPTS = 9;
/** seqRel and ackRel: 64-bit offsets as high and low words */
const F_SEQ_REL = 10;
const F_ACK_REL = 12;
/** 32-bit words per segment record */
export const SEG_I32 = 14;

const BIT_FROM_ORIG = 0x100;
const BIT_RETRANS = 0x200;
const TTL_SHIFT = 10;

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

/** The slot of log position n (a count of segments before it): the head first, then the ring. */
export function slotOf(n: number): number {
  return n < HEAD_SEGMENTS ? n : HEAD_SEGMENTS + ((n - HEAD_SEGMENTS) % TAIL_SEGMENTS);
}

/** Oldest log position the ring still holds once `count` segments were logged (head positions always stay). */
export function oldestInRing(count: number): number {
  return Math.max(HEAD_SEGMENTS, count - TAIL_SEGMENTS);
}

/** Writes one segment record at slot `slot` of the log starting at l[base]. No allocation. */
export function writeSegment(l: Int32Array, base: number, slot: number, p: Packet, f: Frame, fromOrig: boolean,
  retrans: boolean, seqRel: number, ackRel: number): void {
  const o = base + slot * SEG_I32;
  l[o + F_FRAME] = f.frameNo;
  l[o + F_TS_SEC] = f.tsSec;
  l[o + F_TS_NSEC] = f.tsNsec;
  l[o + F_BITS] = p.flags | (fromOrig ? BIT_FROM_ORIG : 0) | (retrans ? BIT_RETRANS : 0) | (p.ttl << TTL_SHIFT);
  l[o + F_SEQ] = p.seq;
  l[o + F_ACK] = p.ack;
  l[o + F_LEN] = p.payloadLen;
  l[o + F_WIN] = p.window;
  l[o + F_IPID] = p.ipId + 1;
  l[o + F_OPTS] = p.optMask;
  putRel(l, o + F_SEQ_REL, seqRel);
  putRel(l, o + F_ACK_REL, ackRel);
}

/** The segment record at a slot, as an object (a copy). */
export function readSegment(l: Int32Array, base: number, slot: number): Segment {
  const o = base + slot * SEG_I32;
  const bits = l[o + F_BITS];
  return {
    frame: l[o + F_FRAME] >>> 0, tsSec: l[o + F_TS_SEC] >>> 0, tsNsec: l[o + F_TS_NSEC], fromOrig: (bits & BIT_FROM_ORIG) !== 0,
    flags: bits & 0xff, seq: l[o + F_SEQ] >>> 0, ack: l[o + F_ACK] >>> 0, seqRel: getRel(l, o + F_SEQ_REL),
    ackRel: getRel(l, o + F_ACK_REL), len: l[o + F_LEN], win: l[o + F_WIN], ttl: (bits >> TTL_SHIFT) & 0xff,
    ipId: l[o + F_IPID] - 1, optMask: l[o + F_OPTS], retrans: (bits & BIT_RETRANS) !== 0,
  };
}

/** Whether the record at a slot was sent by the originator. */
export function segmentFromOrig(l: Int32Array, base: number, slot: number): boolean {
  return (l[base + slot * SEG_I32 + F_BITS] & BIT_FROM_ORIG) !== 0;
}

/** TCP flags of the record at a slot, without making an object. */
export function segmentFlags(l: Int32Array, base: number, slot: number): number {
  return l[base + slot * SEG_I32 + F_BITS] & 0xff;
}

/** ackRel of the record at a slot, without making an object. */
export function segmentAckRel(l: Int32Array, base: number, slot: number): number {
  return getRel(l, base + slot * SEG_I32 + F_ACK_REL);
}

/**
 * The slot of the first logged segment (head, then ring, oldest first: evidence() order) from the side `fromOrig`
 * that carries payload ending past `ackRel` (relative), or -1. `count`: segments logged so far. No allocation.
 */
export function firstDataPast(l: Int32Array, base: number, count: number, fromOrig: boolean, ackRel: number): number {
  const head = Math.min(count, HEAD_SEGMENTS);
  const inRing = Math.min(Math.max(count - HEAD_SEGMENTS, 0), TAIL_SEGMENTS);
  const start = count - HEAD_SEGMENTS <= TAIL_SEGMENTS ? 0 : (count - HEAD_SEGMENTS) % TAIL_SEGMENTS;
  for (let i = 0; i < head + inRing; i++) {
    const slot = i < head ? i : HEAD_SEGMENTS + ((start + i - head) % TAIL_SEGMENTS);
    const o = base + slot * SEG_I32;
    const len = l[o + F_LEN];
    if (len > 0 && ((l[o + F_BITS] & BIT_FROM_ORIG) !== 0) === fromOrig && getRel(l, o + F_SEQ_REL) + len > ackRel) return slot;
  }
  return -1;
}

/** Copies the record at slot `from` to slot `to` (pins). */
export function copySegment(l: Int32Array, base: number, from: number, to: number): void {
  l.copyWithin(base + to * SEG_I32, base + from * SEG_I32, base + (from + 1) * SEG_I32);
}

/** Swaps the sides of every slot (pins included; a pin not yet written is rewritten whole when it is). */
export function flipSegments(l: Int32Array, base: number): void {
  for (let i = 0; i < LOG_SLOTS; i++) l[base + i * SEG_I32 + F_BITS] ^= BIT_FROM_ORIG;
}

// SYN times: per side MAX_SYN_TIMES times, then MAX_SYN_TIMES frames, in the Float64Array.
/** where each side's SYN records start in a connection's 64-bit slot (as oriented when created) */
export const SYN_BASE_ORIG = 0;
export const SYN_BASE_RESP = 2 * MAX_SYN_TIMES;

/** Stores SYN number i (< MAX_SYN_TIMES) of the side whose records start at d[o]. */
export function writeSyn(d: Float64Array, o: number, i: number, timeSec: number, frame: number): void {
  d[o + i] = timeSec;
  d[o + MAX_SYN_TIMES + i] = frame;
}

/** Time of SYN number i. */
export function synTimeAt(d: Float64Array, o: number, i: number): number {
  return d[o + i];
}

/** The first n SYN times (a new array). */
export function synTimes(d: Float64Array, o: number, n: number): number[] {
  return copyOut(d, o, n);
}

/** d[o], ..., d[o + n - 1] as a new array (a loop: Array.from over a subarray costs an iterator and a view). */
function copyOut(d: Float64Array, o: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(d[o + i]);
  return out;
}

/** The first n SYN frames (a new array). */
export function synFrames(d: Float64Array, o: number, n: number): number[] {
  return copyOut(d, o + MAX_SYN_TIMES, n);
}

/**
 * Evidence storage shared by every connection: fixed-size slots in chunks of
 * typed arrays (segments in an Int32Array, 56 bytes each; SYN times in a
 * Float64Array), taken when a connection is created and given back when it is
 * closed out. Recording a segment never allocates and chunks are never copied
 * or moved. A slot id's chunk is chunkOf(id); its words start at i32Base(id)
 * and f64Base(id) there.
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

  static chunkOf(id: number): number {
    return id >> 10;
  }

  static i32Base(id: number): number {
    return (id & 1023) * SegmentArena.SLOT_I32;
  }

  static f64Base(id: number): number {
    return (id & 1023) * SegmentArena.SLOT_F64;
  }
}

/**
 * Where one connection's evidence slot lives: its chunk's arrays and the
 * slot's start in them (Connection implements it; milestones read through it,
 * so they need not know the connection).
 */
export interface LogSlotView {
  logI32: Int32Array;
  logF64: Float64Array;
  logI: number;
  logF: number;
}
