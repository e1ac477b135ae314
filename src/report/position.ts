/**
 * Where one connection was captured (issue 14, item 7), from its record's
 * `ttl` and `handshakeMs`: next to the originator, next to the responder,
 * next to both (loopback, or both hosts on the capture's own link), mid-path,
 * or unknown. src/report/vantage.ts sums it per input.
 *
 * The two signs:
 * - TTL: hosts start the IPv4 TTL / IPv6 hop limit at 64 (Linux, macOS,
 *   BSD), 128 (Windows) or 255 (network gear, some Unixes); every router
 *   lowers it by one. A side whose non-RST packets all carry one of those
 *   values crossed no router before the capture point.
 * - Handshake halves: SYN -> SYN-ACK is the round trip from the capture point
 *   to the responder and back, SYN-ACK -> ACK the round trip to the
 *   originator. Captured on a host, the host's own half is its kernel's
 *   turnaround (microseconds) while the other half crosses the network.
 *
 * What this cannot tell: a tap or SPAN port on a host's access link (before
 * its first router) looks like the host itself by TTL; a host whose initial
 * TTL is not 64, 128 or 255 (or a middlebox that rewrites TTLs) looks
 * decremented; a capture near one end of a long path looks like that end by
 * the handshake halves (one half short against the other); halves of a few
 * hundred microseconds on one fast link say little. When the two signs
 * disagree the connection's position is unknown.
 */
import type { ConnRecord } from '../tcp/record.js';

/** at which end(s) the connection was captured, 'mid' between them, null unknown */
export type Position = 'orig' | 'resp' | 'both' | 'mid' | null;

/** Both halves under this (ms): the capture is next to both hosts (loopback, or one link). */
export const BOTH_NEAR_ZERO_MS = 0.2;
/** One half at most this fraction of the other: the capture is at the host of the short half. */
export const NEAR_ZERO_RATIO = 0.1;

/** true: the side's TTL is an initial one throughout; false: lowered (or changing); null: no packets of it. */
export function ttlUntouched(t: [number, number] | undefined): boolean | null {
  if (t === undefined) return null;
  return t[0] === t[1] && (t[0] === 64 || t[0] === 128 || t[0] === 255);
}

/** The position the TTLs show (a side seen alone tells only when it is untouched). */
export function ttlPosition(rec: ConnRecord): Position {
  const o = ttlUntouched(rec.ttl?.orig);
  const r = ttlUntouched(rec.ttl?.resp);
  if (o === true && r === true) return 'both';
  if (o === true) return 'orig';
  if (r === true) return 'resp';
  return o === false && r === false ? 'mid' : null;
}

/** The position the handshake halves show. */
export function handshakePosition(rec: ConnRecord): Position {
  const h = rec.handshakeMs;
  if (h === undefined) return null;
  if (h.resp < BOTH_NEAR_ZERO_MS && h.orig < BOTH_NEAR_ZERO_MS) return 'both';
  if (h.orig <= h.resp * NEAR_ZERO_RATIO) return 'orig';
  if (h.resp <= h.orig * NEAR_ZERO_RATIO) return 'resp';
  return h.resp >= BOTH_NEAR_ZERO_MS && h.orig >= BOTH_NEAR_ZERO_MS ? 'mid' : null;
}

/** Loopback addresses, or one address at both ends: one host talking to itself, captured on it. */
export function sameHost(rec: ConnRecord): boolean {
  const o = rec.orig.ip;
  return o === rec.resp.ip || o === '::1' || o.startsWith('127.') || o.startsWith('::ffff:127.');
}

/**
 * Both signs together (one host talking to itself is at both ends whatever
 * the timing): one alone decides; agreeing, that; TTLs untouched on
 * both sides say only "no router between", so the halves place the capture
 * on that link; any other disagreement is unknown.
 */
export function positionOf(rec: ConnRecord): Position {
  if (sameHost(rec)) return 'both';
  const t = ttlPosition(rec);
  const h = handshakePosition(rec);
  if (t === null) return h;
  if (h === null || h === t) return t;
  return t === 'both' ? h : null;
}
