/**
 * One direction captured (issue 14, item 3): asymmetric routing and
 * single-sided taps show one side of a connection. What one side proves is
 * still told; nothing that needs the missing side is asserted.
 *
 * - A connection whose captured side acknowledged packets the capture does not
 *   have (otherDirectionMissing) gets every finding at
 *   `info` at most, told as seen from one side: the segment a RST answers, the
 *   data the peer sent or left unread, its FIN, are not in the capture, so a
 *   story that rests on them (write after close, unread data, a vanished peer)
 *   cannot be told apart from a plain abort. The exception is `refused`: a
 *   RST/ACK answering a SYN is a refusal whichever side was captured.
 * - A RST/ACK alone with sequence number 0 is a kernel's answer to a segment
 *   without ACK (RFC 9293 3.10.7.1: "the reset takes its sequence number ...
 *   zero" when the incoming segment has no ACK), that is to a SYN: a refusal
 *   seen from the server's side only (oneSidedRefusal).
 */
import { TCP_ACK } from '../decode/packet.js';
import type { Connection, RstRecord } from '../tcp/connection.js';
import type { ConnRecord } from '../tcp/record.js';
import { sameOriginator } from '../tcp/link.js';
import { who } from './teardown.js';

/** Findings on a connection seen from one side are at most this severe (except refused). */
export const ONE_SIDED_MAX = 'info';

/**
 * The capture missed the other direction of this connection: the record holds
 * one side's packets, that side answered packets of the other
 * (Endpoint.answeredPeer: an ACK, a RST from SYN-SENT), and no packet of the
 * other side is in the records this one continues (a timer splits records:
 * the later one may hold only one side's packets) nor starts the next one.
 */
export function otherDirectionMissing(c: Connection, rec: ConnRecord): boolean {
  if (rec.seen === undefined) return false;
  const origSeen = rec.seen === 'orig-only';
  if (!(origSeen ? c.orig : c.resp).answeredPeer) return false;
  const p = c.prev;
  if (p !== null && (sameOriginator(c, p) === origSeen ? p.respSent : p.origSent)) return false;
  return c.next === null || c.next.fromOrig === origSeen;
}

/** " The capture shows only the client 10.0.0.1:5's packets ..." (appended to a one-sided finding). */
export function oneSidedNote(c: Connection, rec: ConnRecord): string {
  const origSeen = rec.seen === 'orig-only';
  return ` The capture shows only the packets of ${who(c, rec, origSeen)}, and they acknowledge packets from `
    + `${who(c, rec, !origSeen)} that the capture does not have: that direction took another path (asymmetric routing, `
    + 'a one-sided tap), so what it sent (the segment a RST answers, its data, its FIN) is unknown, and this is told from '
    + 'one side only.';
}

/** The lone RST/ACK with sequence number 0 of a refusal whose SYN was not captured, or null. */
export function oneSidedRefusal(c: Connection, rec: ConnRecord): RstRecord | null {
  if (rec.seen === undefined || c.rstCount !== 1 || c.orig.pkts + c.resp.pkts !== 1 || c.rsts.length !== 1) return null;
  const r = c.rsts[0];
  if ((r.seg.flags & TCP_ACK) === 0 || r.seg.seq !== 0) return null;
  return r;
}

/**
 * Capture loss (issue 14, item 4): stories that rest on something not
 * answering (retransmissions nobody acknowledged, a peer that went silent)
 * cannot be told where the capture itself missed packets of the connection:
 * the answer may be among them. Those are at warning at most; every finding
 * on such a connection says how much the capture missed.
 */
export const LOSS_MAX = 'warning';

/** The finding reads silence (an unanswered retransmission, a vanished peer): capture loss makes it unsure. */
export function restsOnSilence(rule: string, evidence: Record<string, unknown>): boolean {
  return rule === 'syn-unanswered'
    || (rule === 'half-open' && (evidence.kind === 'unanswered-retransmissions' || evidence.kind === 'gave-up-after-split'));
}

/** " The capture missed N byte(s) of this connection ..." (appended to a finding on a connection with loss). */
export function lossNote(missed: number): string {
  return ` The capture missed ${missed} byte(s) of this connection (acknowledged by the receiver or skipped over, never `
    + 'captured: capture loss), so a packet this story needs may be among them.';
}
