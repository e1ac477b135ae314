/**
 * Mid-stream starts (issue 14, item 5): a capture that begins inside a
 * connection has no handshake. Its roles are inferred (ConnRecord.roles,
 * src/tcp/roles.ts) and every finding on it says so (evidence `roles`),
 * unless the record continues one whose handshake was seen (a timer split:
 * the actors are client and server from there). What
 * the capture shows is still told; what happened before its first packet is
 * not asserted:
 * - a story that rests on "this side sent no FIN" (half-open's socketless RST,
 *   abortive-close without a FIN) cannot be told when that side sent no
 *   payload during the capture: its FIN may have come before the capture
 *   began (then the RST answers a write after close, or follows an orderly
 *   close). Those findings are at `info` and say both readings.
 *   A side that sent payload in the capture sent any FIN after it, in the capture.
 * - syn-unanswered, refused and simultaneous-open need a SYN and cannot fire
 *   without one; rules that read SYN times read only captured SYNs.
 */
import type { Connection } from '../tcp/connection.js';
import type { ConnRecord } from '../tcp/record.js';
import { isLikelyServerPort } from '../tcp/ports.js';
import type { InferredRoles } from '../tcp/roles.js';
import { who } from './teardown.js';

/** Findings whose story rests on the missing start are at most this severe. */
export const MID_STREAM_MAX = 'info';

/** "the ports (80 is a well-known server port)" and the like: what the roles were inferred from. */
export function rolesReason(rec: ConnRecord): string {
  switch (rec.roles as InferredRoles) {
    case 'inferred-syn-ack': return 'the responder\'s SYN-ACK (the originator\'s SYN was not captured)';
    case 'inferred-port': return `the ports (${isLikelyServerPort(rec.resp.port) ? rec.resp.port : rec.orig.port} is a well-known server port)`;
    default: return 'the first packet captured (no port tells: its sender is taken as the originator, which the client need not be)';
  }
}

/** Short label for tables: "SYN-ACK", "port", "first packet". */
export function rolesLabel(roles: InferredRoles): string {
  return roles === 'inferred-syn-ack' ? 'SYN-ACK' : roles === 'inferred-port' ? 'port' : 'first packet';
}

/** " The capture began inside this connection ..." (appended to every finding on a mid-stream connection). */
export function midStreamNote(rec: ConnRecord): string {
  return ` The capture began inside this connection (no handshake): its roles are inferred from ${rolesReason(rec)}, `
    + `and what happened before frame ${rec.firstFrame} was not captured.`;
}

/**
 * The RST of a finding (by its `rstFrame` evidence) says "its sender sent no
 * FIN" although that sender sent no payload in the capture: its FIN may have
 * come before the capture began. For half-open's socketless RSTs and
 * abortive-close without a FIN; null when the finding does not rest on it.
 */
export function restsOnMissingStart(c: Connection, rec: ConnRecord, rule: string, evidence: Record<string, unknown>): string | null {
  if (rec.roles === undefined) return null;
  const stateless = rule === 'half-open' && evidence.kind === 'stateless-rst';
  const abort = rule === 'abortive-close' && evidence.finSent === false;
  if (!stateless && !abort) return null;
  const rst = c.rsts.find((r) => r.seg.frame === evidence.rstFrame);
  if (rst === undefined) return null;
  const sender = rst.seg.fromOrig ? c.orig : c.resp;
  if (sender.payloadBytes > 0 || rst.senderFinBefore) return null;
  const w = who(c, rec, rst.seg.fromOrig);
  const x = w[0].toUpperCase() + w.slice(1);
  return stateless
    ? ` ${x} sent no data in the capture, so whether it had closed (a FIN before the capture began: then this RST answers a write after close) or had lost the connection (a restart, a crash) cannot be told.`
    : ` ${x} sent no data in the capture, so a FIN of its before the capture began (an orderly close, the RST then answering what came after it) cannot be ruled out.`;
}
