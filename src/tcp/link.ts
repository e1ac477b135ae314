/**
 * Links between the records of one socket (issue 15: stories never rest on a
 * record split). Records keep Zeek's splits (a timer or port reuse ends one
 * record and the next packet on the same 4-tuple starts another; `flows` and
 * conn.log stay as Zeek has them), but the rules tell what one socket did.
 *
 * The tracker links two records only when it closes one out while a packet of
 * the same 4-tuple is being processed: that packet starts the next record at
 * once. The closing record learns that packet (`Connection.next`); the new one
 * a small summary of the closing one (`Connection.prev`). Nothing is kept for
 * closed connections: memory stays bounded by live connections (a record
 * closed out by a timer while other connections' packets arrived has no link;
 * docs/architecture.md). Made only when the tracker keeps evidence (rules run);
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
  /** its originator's port and address words: compare with the new record's to orient */
  oPort: number;
  o0: number; o1: number; o2: number; o3: number;
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
  /** keep-alive probes each side sent, by its originator's orientation */
  origProbes: number;
  respProbes: number;
}

export function makeNextPacket(frame: number, time: number, fromOrig: boolean, flags: number, seq: number, ack: number, len: number): NextPacket {
  return { frame, time, fromOrig, flags, seq, ack, len };
}
