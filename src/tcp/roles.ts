/**
 * How a connection's originator and responder were told apart (issue 14,
 * item 5). With the originator's SYN in the capture the handshake names the
 * client. A capture that begins inside a connection has no handshake; the
 * tracker then orients it as Zeek does (src/tcp/flow-table.ts, after Zeek's
 * TCPAnalyzer::WantConnection in src/packet_analysis/protocol/tcp/TCP.cc: a
 * first packet without SYN, or a SYN-ACK, makes a partial connection whose
 * roles are flipped when its source port is a likely server port and its
 * destination port is not, or both are and the source port is the lower),
 * and the record says which inference that was.
 *
 * Known gaps: ephemeral port ranges (Linux 32768-60999, Windows 49152-65535)
 * and who acknowledges whom are not used: the orientation must stay Zeek's
 * (conn.log conformance), and neither settles who connected. Between two
 * ports neither of which is a likely server port, the first packet's sender
 * is the originator even when it is the server.
 */
import type { Connection } from './connection.js';
import { isLikelyServerPort } from './ports.js';

export type InferredRoles = 'inferred-syn-ack' | 'inferred-port' | 'inferred-first-packet';

/**
 * The inference behind the record's roles; null when its originator's SYN was seen. From this record's
 * packets only (the same for `flows` and `analyze`): a record a timer split off a connection whose handshake
 * the earlier record holds carries it too; its findings name client and server from that record.
 */
export function rolesOf(c: Connection): InferredRoles | null {
  // the originator's SYN: a bare one (its sawSyn without a SYN-ACK of its own), also when the capture had the
  // responder's SYN-ACK first (reordered) and the tracker flipped the roles on it
  if (c.orig.sawSyn && (!c.flipped || c.orig.synAckUs < 0)) return null;
  if (c.resp.sawSyn && c.resp.synAckUs >= 0) return 'inferred-syn-ack';
  return isLikelyServerPort(c.oPort) || isLikelyServerPort(c.rPort) ? 'inferred-port' : 'inferred-first-packet';
}
