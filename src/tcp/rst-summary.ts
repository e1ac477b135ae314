/**
 * What a connection record says of one RST, packed in one exact integer
 * (Connection.rstSum0 / rstSum1 / rstSumMore): the only code that packs or
 * unpacks it. Layout: frame * 64 + fromOrig * 16 + shape * 4 + acceptance,
 * with shape an index in RST_SHAPES and acceptance one in RST_ACCEPTANCES
 * (src/tcp/rst.ts); bit 5 is unused. Frames are 32-bit: the value stays
 * below 2^38, exact in a double.
 */

const FRAME_UNIT = 64;
const FROM_ORIG = 16;
const SHAPE_UNIT = 4;

export function packRstSummary(frame: number, fromOrig: boolean, shape: number, acceptance: number): number {
  return frame * FRAME_UNIT + (fromOrig ? FROM_ORIG : 0) + shape * SHAPE_UNIT + acceptance;
}

export function rstSummaryFrame(v: number): number {
  return (v - (v % FRAME_UNIT)) / FRAME_UNIT;
}

export function rstSummaryFromOrig(v: number): boolean {
  return v % FRAME_UNIT >= FROM_ORIG;
}

/** index in RST_SHAPES */
export function rstSummaryShape(v: number): number {
  return ((v % FRAME_UNIT) >> 2) & 3;
}

/** index in RST_ACCEPTANCES */
export function rstSummaryAcceptance(v: number): number {
  return (v % FRAME_UNIT) & 3;
}

/** The summary with its side swapped (Zeek's FlipRoles). */
export function flipRstSummary(v: number): number {
  return v + (v % (2 * FROM_ORIG) >= FROM_ORIG ? -FROM_ORIG : FROM_ORIG);
}
