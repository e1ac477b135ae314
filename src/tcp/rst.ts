/**
 * Shape of a RST as Linux would have produced it (observed kernel behaviour):
 * - refusal: answers a SYN (tcp_v4_send_reset for a SYN with no listener:
 *   RST/ACK, seq 0, ack = ISN+1);
 * - socketless: no socket matched the trigger (tcp_v4_send_reset: bare RST
 *   without ACK, seq = the trigger's ack, no options; IPv4 ID 0). The trigger
 *   is any segment the receiver had in flight: after a socket is gone its
 *   kernel answers each one with a RST at that segment's ack, so a burst of
 *   RSTs carries the acks of several segments, not only the latest one's.
 *   The tracker keeps, per side, the ack of the receiver's segment when the
 *   RST's sender last acknowledged new data from it (Endpoint.flightAck: the
 *   receiver's later segments may still have been in flight) and the
 *   receiver's latest ack (Endpoint.lastAck): a bare RST whose seq lies between
 *   them, inclusive, answers a segment in flight (the rules pair it with the
 *   exact segment where the log still holds it, src/rules/teardown.ts
 *   rstPairs). Below the receiver's latest ack such a RST is out of its
 *   window: harmless, so no forger gains by sending one there;
 * - live-socket: sent by a socket (tcp_send_active_reset: RST/ACK at SND.NXT,
 *   with the socket's options such as timestamps);
 * - other: none of these.
 */
import { TCP_ACK } from '../decode/packet.js';
import type { RstAcceptance, RstRecord } from './connection.js';
import { EpState } from './endpoint.js';

export type RstShape = 'refusal' | 'socketless' | 'live-socket' | 'other';

/** Shapes and acceptances by code (the order is the encoding of Connection's reset summaries). */
export const RST_SHAPES: readonly RstShape[] = ['refusal', 'socketless', 'live-socket', 'other'];
export const RST_ACCEPTANCES: readonly RstAcceptance[] = ['exact', 'in-window', 'out-of-window', 'unknown'];

export function rstShape(r: RstRecord): RstShape {
  const s = r.seg;
  return RST_SHAPES[rstShapeCode(s.flags, s.seq, s.seqRel, s.ackRel, r.receiverState,
    // Stryker disable next-line UnaryOperator: `+1` is equivalent: flags 1 (FIN) have no ACK bit, which rstShapeCode reads as no segment, like -1
    r.lastAck === null ? -1 : TCP_ACK, r.lastAck ?? 0, r.senderMaxEndRel, RST_ACCEPTANCES.indexOf(r.acceptance),
    // Stryker disable next-line UnaryOperator: `+1` is equivalent, as on the line above
    r.flightAck === null ? -1 : TCP_ACK, r.flightAck ?? 0)];
}

/** Half the sequence space: acks further apart than this are not in order. */
const HALF = 0x80000000;

/**
 * rstShape from the numbers alone (no record): the RST's flags, seq (raw
 * 32-bit, unsigned or signed alike), seqRel and ackRel; the receiver's state
 * at the RST; the flags (-1 when there is none) and raw ack of the receiver's
 * last segment other than a RST (Endpoint.lastSeg); the
 * sender's highest sequence end; the acceptance code (index in RST_ACCEPTANCES);
 * the flags (-1 when there is none) and raw ack of the receiver's segment
 * that starts the ones that may have been in flight (Endpoint.flightAck).
 * Returns an index in RST_SHAPES.
 */
export function rstShapeCode(flags: number, seq: number, seqRel: number, ackRel: number, receiverState: number,
  lastFlags: number, lastAck: number, senderMaxEndRel: number, acceptance: number,
  flightFlags: number, flightAck: number): number {
  const hasAck = (flags & TCP_ACK) !== 0;
  if ((receiverState === EpState.SynSent || receiverState === EpState.SynAckSent) && hasAck && ackRel === 1) return 0;
  if (!hasAck) {
    // Stryker disable next-line EqualityOperator: `> 0` is equivalent (flags 0 have no ACK bit: the next test is false either way); the line's `< 0` is killed
    const last = lastFlags >= 0 &&
      (lastFlags & TCP_ACK) !== 0;
    if (last && (lastAck | 0) === (seq | 0)) return 1;
    // Stryker disable next-line EqualityOperator: `> 0` is equivalent (flags 0 have no ACK bit: the test below is false either way); the line's `< 0` is killed
    if (flightFlags >= 0 &&
      (flightFlags & TCP_ACK) !== 0) {
      if ((flightAck | 0) === (seq | 0)) return 1;
      // between the ack in flight then and the latest one (acks only grow)
      const span = (lastAck - flightAck) >>> 0;
      if (last && span < HALF &&
        // Stryker disable next-line EqualityOperator: `< span` is equivalent: the one seq it drops, the latest ack itself (offset = span), returned socketless above (`last` holds here); the line's `> span` is killed
        ((seq - flightAck) >>> 0) <= span) return 1;
    }
    return 3;
  }
  if (seqRel === senderMaxEndRel || acceptance === 0) return 2;
  return 3;
}
