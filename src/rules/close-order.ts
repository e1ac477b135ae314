/**
 * The order in which the two sides of a connection closed, as their FINs
 * show it: the one fact simultaneous-close reports and write-after-peer-close
 * builds on, kept in one place so the two rules can never tell different
 * stories about one connection (issue 15).
 *
 * Guarantee: `crossedFins` is a pure function of the connection's FIN
 * milestones (first FIN per side and whether it acknowledged the peer's FIN);
 * it reads no segment log, so it costs the same on every connection.
 * Source: RFC 9293 3.6, case 3 (both users close simultaneously): a FIN whose
 * ack does not cover the peer's FIN was sent before its sender had received
 * that FIN, wherever the capture was taken.
 */
import type { Connection, Segment } from '../tcp/connection.js';

export interface CrossedFins {
  /** the FIN seen first in the capture */
  first: Segment;
  /** the FIN seen second: the key frame of simultaneous-close */
  second: Segment;
}

/** Both sides sent a FIN and the later one (capture order) did not acknowledge the earlier one; else null. */
export function crossedFins(c: Connection): CrossedFins | null {
  const fo = c.origM.fin;
  const fr = c.respM.fin;
  if (!fo || !fr) return null;
  const second = fo.frame < fr.frame ? fr : fo;
  const first = second === fo ? fr : fo;
  const secondAcksFirst = second === fo ? c.origM.finAcksPeerFin : c.respM.finAcksPeerFin;
  return secondAcksFirst ? null : { first, second };
}
