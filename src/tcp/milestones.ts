/**
 * Teardown milestones of one side of a connection: counters the tracker keeps
 * for the rules (only what a rule reads), pinned copies of milestone segments and SYN times, both
 * stored in the connection's evidence slot (src/tcp/segment-log.ts).
 */
import {
  copySegment, MAX_SYN_TIMES, PIN_DATA_AFTER_PEER_FIN, PIN_FIN, readSegment, segmentAckRel,
  synFrames, synTimeAt, synTimes, writeSyn, type LogSlotView, type Segment,
} from './segment-log.js';

/**
 * The milestone segments (`fin`, `firstDataAfterPeerFin`)
 * are pinned copies in the connection's evidence slot, made into objects only
 * when a rule reads them (so tracking allocates nothing per milestone); like
 * the connection's `evidence()` they are valid during the connection sink call only.
 * SYN times live in fixed typed arrays kept across pooled reuse.
 */
export class SideMilestones {
  /**
   * @param pinBase first pinned evidence slot of this side
   * @param synBase where this side's SYN times and frames start in the connection's 64-bit log
   */
  constructor(private readonly conn: LogSlotView, private readonly pinBase: number, private readonly synBase: number) {}
  /** which pins hold a segment (bit per PIN_*) */
  pinned = 0;
  /** the FIN's ack covered the peer's FIN (this side closed second) */
  finAcksPeerFin = false;
  /** payload bytes this side sent after the peer's FIN was seen on the wire */
  dataAfterPeerFin = 0;
  /** keep-alive probes sent (seq one below SND.NXT, at most one byte) while the peer's window was open */
  keepaliveProbes = 0;
  /** capture time of the last of them (-1: none): a probe before later payload kept nothing alive that ended idle */
  lastProbeTime = -1;
  /** SYNs recorded (at most MAX_SYN_TIMES) */
  synCount = 0;
  /** frame of this side's first SYN without ACK (0 none): two of them mean a simultaneous open */
  bareSynFrame = 0;
  /** this side sent a segment with ACK and without RST (it had the peer's SYN-ACK, even if unseen) */
  sentAck = false;
  // materialized pins (one field per pin: no array to reach on every write)
  private seg0: Segment | null = null;
  private seg1: Segment | null = null;

  /** Copies log slot `slot` into pin `pin` (no allocation). */
  pin(pin: number, slot: number): void {
    const c = this.conn;
    copySegment(c.logI32, c.logI, slot, this.pinBase + pin);
    this.pinned |= 1 << pin;
    this.forget(pin);
  }

  /** Drops the segment objects made for readers (the pins stay). */
  forgetSegments(): void {
    this.seg0 = this.seg1 = null;
  }

  private forget(pin: number): void {
    if (pin === 0) this.seg0 = null;
    else this.seg1 = null;
  }

  /** A pinned segment as an object (cached: the same object until the pin changes). */
  pinnedSegment(pin: number): Segment | null {
    if ((this.pinned & (1 << pin)) === 0) return null;
    const s = pin === 0 ? this.seg0 : this.seg1;
    if (s !== null) return s;
    const made = readSegment(this.conn.logI32, this.conn.logI, this.pinBase + pin);
    if (pin === 0) this.seg0 = made;
    else this.seg1 = made;
    return made;
  }

  /** ackRel of a pinned segment without making an object (-1 when not pinned). */
  pinnedAckRel(pin: number): number {
    if ((this.pinned & (1 << pin)) === 0) return -1;
    return segmentAckRel(this.conn.logI32, this.conn.logI, this.pinBase + pin);
  }

  /** first FIN this side sent */
  get fin(): Segment | null { return this.pinnedSegment(PIN_FIN); }
  /** this side's first data segment after the peer's FIN */
  get firstDataAfterPeerFin(): Segment | null { return this.pinnedSegment(PIN_DATA_AFTER_PEER_FIN); }
  /** Records a SYN (at most MAX_SYN_TIMES are kept). */
  addSyn(timeSec: number, frame: number): void {
    const n = this.synCount;
    if (n >= MAX_SYN_TIMES) return;
    writeSyn(this.conn.logF64, this.conn.logF + this.synBase, n, timeSec, frame);
    this.synCount = n + 1;
  }

  /** Time of the last SYN recorded (seconds); only when synCount > 0. */
  lastSynTime(): number {
    return synTimeAt(this.conn.logF64, this.conn.logF + this.synBase, this.synCount - 1);
  }

  /** SYN capture times, seconds (a new array) */
  get synTimes(): number[] {
    return synTimes(this.conn.logF64, this.conn.logF + this.synBase, this.synCount);
  }

  /** SYN frames (a new array) */
  get synFrames(): number[] {
    return synFrames(this.conn.logF64, this.conn.logF + this.synBase, this.synCount);
  }

  /** Back to the state of a new side (the tracker reuses closed-out connections). */
  reset(): void {
    this.pinned = 0;
    this.finAcksPeerFin = false;
    this.dataAfterPeerFin = 0;
    this.keepaliveProbes = 0;
    this.lastProbeTime = -1;
    this.synCount = 0;
    this.bareSynFrame = 0;
    this.sentAck = false;
    this.forgetSegments();
  }
}
