/**
 * Shape of a RST as Linux would have produced it (observed kernel behaviour):
 * - refusal: answers a SYN (tcp_v4_send_reset for a SYN with no listener:
 *   RST/ACK, seq 0, ack = ISN+1);
 * - socketless: no socket matched the trigger (tcp_v4_send_reset: bare RST
 *   without ACK, seq = the trigger's ack, no options; IPv4 ID 0);
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
  const t = r.trigger;
  return RST_SHAPES[rstShapeCode(s.flags, s.seq, s.seqRel, s.ackRel, r.receiverState,
    t === null ? -1 : t.flags, t === null ? 0 : t.ack, r.senderMaxEndRel, RST_ACCEPTANCES.indexOf(r.acceptance))];
}

/**
 * rstShape from the numbers alone (no record): the RST's flags, seq (raw
 * 32-bit, unsigned or signed alike), seqRel and ackRel; the receiver's state
 * at the RST; the trigger's flags (-1 when there is none) and raw ack; the
 * sender's highest sequence end; the acceptance code (index in RST_ACCEPTANCES).
 * Returns an index in RST_SHAPES.
 */
export function rstShapeCode(flags: number, seq: number, seqRel: number, ackRel: number, receiverState: number,
  triggerFlags: number, triggerAck: number, senderMaxEndRel: number, acceptance: number): number {
  const hasAck = (flags & TCP_ACK) !== 0;
  if ((receiverState === EpState.SynSent || receiverState === EpState.SynAckSent) && hasAck && ackRel === 1) return 0;
  if (!hasAck) {
    if (triggerFlags >= 0 && (triggerFlags & TCP_ACK) !== 0 && (triggerAck | 0) === (seq | 0)) return 1;
    return 3;
  }
  if (seqRel === senderMaxEndRel || acceptance === 0) return 2;
  return 3;
}
