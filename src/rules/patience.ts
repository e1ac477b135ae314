/**
 * Time must have passed (issue 15): a claim that something was never
 * answered, or that a kernel gave up, needs the time that takes (the sender's
 * retry schedule) or the sender's own give-up on the wire. Short of that the
 * rules say "no answer in the N s before the capture ended", at info.
 *
 * Also the rules' view of the links between records of one socket
 * (src/tcp/link.ts): the packet that started the next record on the same
 * 4-tuple, and the record this one continues.
 *
 * Retry schedules by the sender's initial TTL (the observed TTL rounded up to
 * 64, 128 or 255): 128 is Windows (TcpMaxConnectRetransmissions 2: SYNs at
 * 0, 3, 9 s, gives up at 21 s; TcpMaxDataRetransmissions 5: about 19 s from
 * the first transmission); 64 is Linux, BSD and macOS, for which Linux's
 * defaults (the longest) count (tcp_syn_retries 6: about 127 s;
 * tcp_retries2 15: about 924 s); 255 (network equipment, Solaris) counts as Linux.
 */
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../decode/packet.js';
import type { Connection } from '../tcp/connection.js';
import { sameOriginator, type NextPacket, type PrevRecord, type UnansweredTail } from '../tcp/link.js';
import type { Segment } from '../tcp/connection.js';

/** Seconds a connect() keeps retrying its SYN before it fails with ETIMEDOUT, by the sender's initial TTL. */
export function synGiveUpSec(ttl: number): number {
  return initialTtl(ttl) === 128 ? 21 : 127;
}

/** Seconds a sender retransmits unacknowledged data before it gives up (ETIMEDOUT), by its initial TTL. */
export function dataGiveUpSec(ttl: number): number {
  return initialTtl(ttl) === 128 ? 19 : 924;
}

/** Linux's longest gap between two SYN retries (tcp_syn_retries 6: the last wait is 64 s). */
export const MAX_SYN_RETRY_GAP_SEC = 64;
/** The first retransmission timeout (RFC 6298 2.1: 1 s; Linux TCP_TIMEOUT_INIT). */
export const INITIAL_RTO_SEC = 1;

/** The longest gap between two retransmissions of data (Linux TCP_RTO_MAX, 120 s). */
export const MAX_RTO_SEC = 120;
/**
 * A retransmission sent within this time of the sender's previous segment is reordering (or one burst
 * leaving the capture point out of order), not a retransmission timeout: no stack retransmits that fast.
 */
export const MIN_RETRANSMIT_GAP_SEC = 0.001;

function initialTtl(ttl: number): number {
  if (ttl <= 64) return 64;
  if (ttl <= 128) return 128;
  return 255;
}

/** Seconds rounded for a sentence (0.1 s). */
export function roundSec(s: number): number {
  return Math.round(s * 10) / 10;
}

/** Seconds as whole milliseconds. */
export function roundMs(s: number): number {
  return Math.round(s * 1000);
}

/** How the observation of a record ended, for "no answer in the N s before ...". */
export function observedEnd(c: Connection): string {
  if (c.endReason === 'end') return 'the capture ended';
  const n = c.next;
  if (n !== null) return `frame ${n.frame} started a new record on these ports`;
  return 'the record was closed by its timers';
}

/** The packet that started the next record on this 4-tuple as this one closed (null: none). */
export function nextPacket(c: Connection): NextPacket | null {
  return c.next;
}

/** The next record begins with a packet from the responder: the peer did answer (after a timer split the record). */
export function answeredLater(c: Connection): boolean {
  return c.next !== null && !c.next.fromOrig;
}

/**
 * A SYN without ACK from the record's originator with its ISN, a moment or more after the record's last packet:
 * the same connect() trying again in the next record (a copy of the same SYN seen again at once, as in a
 * capture on two interfaces, is not a retry).
 */
export function sameSynRetryNext(c: Connection): boolean {
  const n = c.next;
  return n !== null && n.fromOrig && (n.flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_SYN && c.orig.sawSyn
    && (n.seq >>> 0) === (c.orig.isn >>> 0) && n.time - c.lastTime > MIN_RETRANSMIT_GAP_SEC;
}

/** The next record begins with a RST from the record's side `fromOrig`. */
export function rstNext(c: Connection, fromOrig: boolean): NextPacket | null {
  const n = c.next;
  return n !== null && n.fromOrig === fromOrig && (n.flags & TCP_RST) !== 0 ? n : null;
}

export { sameOriginator };

/** The earlier linked record was the same connect() (same originator, same ISN): its summary, else null. */
export function sameConnectBefore(c: Connection): PrevRecord | null {
  const p = c.prev;
  if (p === null || !p.origSawSyn || !c.orig.sawSyn || c.flipped) return null;
  if (!sameOriginator(c, p) || p.origIsn !== (c.orig.isn >>> 0)) return null;
  if (c.startTime - p.lastTime <= MIN_RETRANSMIT_GAP_SEC) return null; // the same SYN seen again, not a retry
  return p;
}

/**
 * Keep-alive across an idle split: this record continues one closed out by the idle timer (or another timer)
 * and begins with keep-alive probes (seq one below what the prober had sent, at most one byte) before `rst`.
 * The probes on each side (this record's orientation), and the idle time before the RST since the last
 * payload either way; null when this record does not continue one, or shows no probe.
 */
export function keepaliveAcrossSplit(c: Connection, rstFrame: number, rstTime: number): { origProbes: number; respProbes: number; idleSec: number } | null {
  const p = c.prev;
  if (p === null) return null;
  const same = sameOriginator(c, p);
  const nxtOf = (fromOrig: boolean): number => (fromOrig === same ? p.origNxt : p.respNxt);
  let origProbes = 0;
  let respProbes = 0;
  for (const s of c.evidence()) {
    if (s.frame >= rstFrame) break;
    const nxt = nxtOf(s.fromOrig);
    if (nxt < 0 || s.len > 1 || (s.flags & (TCP_SYN | TCP_FIN | TCP_RST)) !== 0) continue;
    if ((s.seq >>> 0) !== ((nxt - 1) >>> 0)) continue;
    if (s.fromOrig) origProbes++;
    else respProbes++;
  }
  if (origProbes + respProbes === 0) return null;
  origProbes += same ? p.origProbes : p.respProbes;
  respProbes += same ? p.respProbes : p.origProbes;
  const lastData = c.lastDataTime >= 0 ? c.lastDataTime : p.lastDataTime >= 0 ? p.lastDataTime : p.lastTime;
  return { origProbes, respProbes, idleSec: rstTime - lastData };
}

/**
 * The sender's give-up on the wire across a record split: `rst` comes from the
 * side whose retransmissions went unanswered at the end of the record(s) this
 * one continues (PrevRecord.unanswered, linked when a timer closed them out),
 * and the other side sent nothing in this record before it. Returns that tail
 * with `fromOrig` by this record's orientation, else null.
 */
export function giveUpAfterSplit(c: Connection, rst: Segment): UnansweredTail | null {
  const p = c.prev;
  if (p === null || p.unanswered === null) return null;
  const fromOrig = p.unanswered.fromOrig === sameOriginator(c, p);
  if (rst.fromOrig !== fromOrig || (rst.flags & TCP_RST) === 0) return null;
  for (const s of c.evidence()) {
    if (s.frame >= rst.frame) break;
    if (s.fromOrig !== fromOrig) return null; // the other side spoke: an answer, not silence
  }
  return { ...p.unanswered, fromOrig };
}
