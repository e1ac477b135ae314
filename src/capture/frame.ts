/**
 * The frame record every capture source yields (file readers and live sources alike).
 *
 * Guarantees:
 * - One `Frame` object is reused for every frame of a source: a sink must copy
 *   what it keeps (numbers, or `buf.subarray` copies) before returning.
 * - `buf[offset .. offset + capLen)` holds the captured bytes; they are valid only
 *   during the sink call (the reader reuses its buffer).
 * - `frameNo` is 1-based per input file and counts every record that carries a
 *   packet (EPB/SPB/PB in pcapng), exactly as tshark numbers frames.
 * - Time is split into integer seconds and nanoseconds so that nanosecond
 *   captures keep full precision without a BigInt per packet.
 */
export interface Frame {
  frameNo: number;
  tsSec: number;
  tsNsec: number;
  /** LINKTYPE_* value of the interface the frame was captured on */
  linkType: number;
  /** bytes captured (may be less than origLen when the snaplen cut the packet) */
  capLen: number;
  /** length of the packet on the wire */
  origLen: number;
  buf: Buffer;
  offset: number;
  /** pcapng interface index (0 for classic pcap) */
  interfaceId: number;
  /** byte offset of the record in its file (for error messages) */
  fileOffset: number;
}

export type FrameSink = (frame: Frame) => void;

export function newFrame(): Frame {
  return {
    frameNo: 0, tsSec: 0, tsNsec: 0, linkType: 0, capLen: 0, origLen: 0,
    buf: Buffer.alloc(0), offset: 0, interfaceId: 0, fileOffset: 0,
  };
}


/** Seconds since the epoch as a number with microsecond precision. */
export function tsSeconds(tsSec: number, tsNsec: number): number {
  // one correctly rounded division of an exact integer: the same double as parsing "sec.micros"
  return (tsSec * 1_000_000 + Math.floor(tsNsec / 1000)) / 1_000_000;
}

