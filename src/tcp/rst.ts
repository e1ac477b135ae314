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
import type { RstRecord } from './connection.js';
import { EpState } from './endpoint.js';

export type RstShape = 'refusal' | 'socketless' | 'live-socket' | 'other';

export function rstShape(r: RstRecord): RstShape {
  const s = r.seg;
  const hasAck = (s.flags & TCP_ACK) !== 0;
  if ((r.receiverState === EpState.SynSent || r.receiverState === EpState.SynAckSent) && hasAck && s.ackRel === 1) return 'refusal';
  if (!hasAck) {
    if (r.trigger !== null && (r.trigger.flags & TCP_ACK) !== 0 && r.trigger.ack === s.seq) return 'socketless';
    return 'other';
  }
  if (s.seqRel === r.senderMaxEndRel || r.acceptance === 'exact') return 'live-socket';
  return 'other';
}
