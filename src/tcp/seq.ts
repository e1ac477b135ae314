/**
 * 32-bit TCP sequence arithmetic (RFC 9293 3.4, RFC 1982 serial numbers).
 * The only place sequence numbers are compared: everything else asks here.
 * Guarantee: correct across wraparound as long as the two numbers are less
 * than 2^31 apart, which TCP's window rules guarantee for one connection.
 * Inputs may be signed or unsigned 32-bit forms of the same number: the
 * decoder keeps sequence numbers (and addresses) as signed 32-bit integers so
 * that V8 never allocates a heap number for them.
 */

/** b - a as a signed 32-bit distance (positive when b is after a). */
export function seqDiff(a: number, b: number): number {
  return ((b - a) | 0);
}

/** a < b in sequence space */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** a <= b in sequence space */
export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

/** a + n modulo 2^32, as a signed 32-bit value (the form the decoder stores: a V8 small integer, never boxed) */
export function seqAdd(a: number, n: number): number {
  return (a + n) | 0;
}

/** a sequence number as the unsigned value shown to people */
export function seqUnsigned(a: number): number {
  return a >>> 0;
}

/** lo <= x <= hi in sequence space */
export function seqBetween(x: number, lo: number, hi: number): boolean {
  return seqLe(lo, x) && seqLe(x, hi);
}

/**
 * Unwraps a 32-bit sequence number to a 64-bit offset relative to `base`
 * (typically the ISN), given a nearby already-unwrapped offset `nearRel`.
 * Returns a JS number, exact up to 2^53.
 */
export function unwrapRel(seq: number, base: number, nearRel: number): number {
  const near32 = (base + nearRel) | 0;
  return nearRel + seqDiff(near32, seq);
}
