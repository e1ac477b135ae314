/**
 * Links between the records of one socket (issue 15: stories never rest on a
 * record split). Records keep Zeek's splits (a timer or port reuse ends one
 * record and the next packet on the same 4-tuple starts another; `flows` and
 * conn.log stay as Zeek has them), but the rules tell what one socket did.
 *
 * The tracker links two records when it closes one out while a packet of
 * the same 4-tuple is being processed: that packet starts the next record at
 * once. The closing record learns that packet (`Connection.next`); the new one
 * a small summary of the closing one (`Connection.prev`).
 *
 * A record closed out by a timer while other connections' packets arrived is
 * linked too when it ended with business left open: one side's data or FIN
 * retransmitted and never acknowledged (FlowTable.recent). Its summary waits,
 * keyed by 4-tuple, for the next packet of that 4-tuple (the sender's later
 * retransmissions, or the RST with which it gives up), bounded in number
 * (RECENT_MAX) and in capture time (RECENT_HORIZON_SEC: longer than any
 * stack retransmits). Such tails are rare, so memory stays proportional to
 * live connections. Made only when the tracker keeps evidence (rules run);
 * never read by `flows`, so records are the same either way.
 */

/** The packet of the same 4-tuple that arrived as a connection was closed out (it starts the next record). */
export interface NextPacket {
  frame: number;
  /** capture time, seconds */
  time: number;
  /** sent by this record's originator */
  fromOrig: boolean;
  flags: number;
  seq: number;
  ack: number;
  len: number;
}

/** Frames of a SYN chain kept at most (the chain's story names its first ones). */
export const MAX_CHAIN_FRAMES = 32;

/** What a record closed out by a timer or port reuse left to the record that continues its 4-tuple. */
export interface PrevRecord {
  id: number;
  endReason: string;
  firstFrame: number;
  lastFrame: number;
  /** capture time of its last packet */
  lastTime: number;
  /** its tunnel path (Connection.tunnel) */
  tunnel: number;
  /** its originator's and responder's port and address words: compare with the new record's to orient */
  oPort: number;
  o0: number; o1: number; o2: number; o3: number;
  rPort: number;
  r0: number; r1: number; r2: number; r3: number;
  /** its originator sent a SYN; its ISN */
  origSawSyn: boolean;
  origIsn: number;
  /**
   * The connect() attempt so far, across linked records with the same ISN
   * (SYN retries after a RST/ACK or after the attempt timer): its first SYN's
   * frame and time, the SYNs sent, the RST/ACK refusals, and their frames.
   */
  synFrame: number;
  synTime: number;
  syns: number;
  refusals: number;
  frames: number[];
  /** each side's next sequence number (SND.NXT, absolute; -1 unknown), by its originator's orientation */
  origNxt: number;
  respNxt: number;
  /** capture time of the last payload either way (-1 none) */
  lastDataTime: number;
  /** each side sent a packet in it or in the records it continues, by its originator's orientation */
  origSent: boolean;
  respSent: boolean;
  /** keep-alive probes each side sent, by its originator's orientation */
  origProbes: number;
  respProbes: number;
  /**
   * Retransmissions nobody answered at its end (and at the end of the records
   * it continues, while the other side stayed silent), or null: the side that
   * sent them (by this summary's originator), how many, their first and last
   * frame and time, and their frames (at most MAX_CHAIN_FRAMES).
   */
  unanswered: UnansweredTail | null;
  /**
   * Its originator was the client (true), the server (false), or unknown
   * (null): from its handshake, else from the record it continues. A record
   * without a handshake of its own names its sides from this.
   */
  clientIsOrig: boolean | null;
}

/** Retransmissions left unanswered at the end of a record (PrevRecord.unanswered). */
export interface UnansweredTail {
  fromOrig: boolean;
  count: number;
  firstFrame: number;
  firstTime: number;
  lastFrame: number;
  lastTime: number;
  frames: number[];
  /** one of them carried the sender's FIN (its application had closed the socket) */
  fin: boolean;
}

/** Records waiting for their 4-tuple's next packet, at most (FlowTable.recent). */
export const RECENT_MIN = 1 << 12;
/** ... or this many per connection of --max-connections, whichever is more. */
export const RECENT_PER_CONNECTION = 1;
/** Capture seconds a waiting record is kept: past Linux's tcp_retries2 (~15 min) and Windows' defaults. */
export const RECENT_HORIZON_SEC = 1200;

/** The earlier record's originator is `c`'s originator (same address and port): how to orient its summary. */
export function sameOriginator(c: { oPort: number; o0: number; o1: number; o2: number; o3: number }, p: PrevRecord): boolean {
  return p.oPort === c.oPort && p.o0 === c.o0 && p.o1 === c.o1 && p.o2 === c.o2 && p.o3 === c.o3;
}

export function makeNextPacket(frame: number, time: number, fromOrig: boolean, flags: number, seq: number, ack: number, len: number): NextPacket {
  return { frame, time, fromOrig, flags, seq, ack, len };
}
