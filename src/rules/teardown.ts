/**
 * Shared, pure analysis of how a connection ended, used by the rule files so
 * that every RST gets exactly one cause (the most specific that fits) and the
 * rules never disagree with each other. Nothing here mutates the connection.
 *
 * Cause of a RST, first match wins:
 *  1. rst-suspicious        the claimed sender is unlikely to have sent it
 *  2. refused               it answers a SYN (no listener)
 *  3. write-after-peer-close  its sender had sent FIN and the peer then sent data
 *  4. keepalive-reset       keep-alive probes preceded it on an idle connection
 *  5. half-open             socketless shape (bare RST answering data) from a side that never closed
 *  6. rst-with-unread-data  live-socket RST while the peer's last data went unanswered
 *  7. abortive-close        any other RST from a live socket (SO_LINGER 0, abort)
 */
import { tsSeconds } from '../capture/frame.js';
import { OPT_TS } from '../decode/packet.js';
import { formatEndpoint } from '../tcp/address.js';
import type { Connection, RstRecord, Segment } from '../tcp/connection.js';
import type { ConnRecord } from '../tcp/record.js';
import { rstShape, type RstShape } from '../tcp/rst.js';
import type { Actor } from './actor.js';
import { keepaliveAcrossSplit } from './patience.js';

export type RstCause =
  | 'rst-suspicious' | 'refused' | 'write-after-peer-close' | 'keepalive-reset' | 'half-open'
  | 'rst-with-unread-data' | 'abortive-close';

/** client/server when the handshake told who connected, else orig/resp */
export function actorOf(c: Connection, fromOrig: boolean): Actor {
  const known = c.orig.sawSyn && !c.flipped;
  if (known) return fromOrig ? 'client' : 'server';
  return fromOrig ? 'orig' : 'resp';
}

export function sideKey(fromOrig: boolean): 'orig' | 'resp' {
  return fromOrig ? 'orig' : 'resp';
}

export function endpointName(rec: ConnRecord, fromOrig: boolean): string {
  const e = fromOrig ? rec.orig : rec.resp;
  return formatEndpoint(e.ip, e.port);
}

/** "the client 10.0.0.1:5555" */
export function who(c: Connection, rec: ConnRecord, fromOrig: boolean): string {
  const a = actorOf(c, fromOrig);
  const role = a === 'orig' ? 'the originator' : a === 'resp' ? 'the responder' : `the ${a}`;
  return `${role} ${endpointName(rec, fromOrig)}`;
}

export function segTime(s: Segment): number {
  return tsSeconds(s.tsSec, s.tsNsec);
}

/**
 * Suspicion evidence for a RST; empty when nothing is odd. Strong signals (TTL,
 * inexact in-window sequence, data from the sender afterwards) suffice alone;
 * weak ones (IP ID jump: hosts with a global IP ID counter jump legitimately;
 * a missing timestamp option) count only in pairs or with a strong one.
 */
export function suspicion(r: RstRecord): string[] {
  const why: string[] = [];
  let strong = 0;
  const s = r.seg;
  const senderPkts = r.senderTtlMax >= 0;
  if (senderPkts && (s.ttl < r.senderTtlMin || s.ttl > r.senderTtlMax)) {
    strong++;
    why.push(`TTL ${s.ttl} unlike the sender's other packets (${r.senderTtlMin === r.senderTtlMax ? r.senderTtlMin : `${r.senderTtlMin}-${r.senderTtlMax}`})`);
  }
  const shape = rstShape(r);
  if (s.ipId > 0 && r.senderLastIpId > 0) {
    const d = (s.ipId - r.senderLastIpId + 65536) % 65536;
    if (d > 1024 && shape !== 'socketless') why.push(`IP ID ${s.ipId} out of the sender's series (last ${r.senderLastIpId})`);
  }
  if (shape !== 'socketless' && shape !== 'refusal' && r.senderOptAlways > 0 && (r.senderOptAlways & OPT_TS) !== 0 && (s.optMask & OPT_TS) === 0) {
    why.push('no timestamp option, which the sender put on every other segment');
  }
  if (r.acceptance === 'in-window' && ++strong) why.push('sequence in window but not exact (RFC 5961: the receiver answers with a challenge ACK and keeps the connection)');
  if (r.senderDataAfter && ++strong) why.push('its claimed sender kept sending data after it');
  if (strong === 0 && why.length < 2) return [];
  return why;
}

/** Bytes the peer sent after the RST sender's last payload: data its application never answered. */
export function unansweredBytes(c: Connection, r: RstRecord): number {
  const ev = c.evidence();
  let bytes = 0;
  for (const s of ev) {
    if (s.frame >= r.seg.frame) break;
    if (s.fromOrig === r.seg.fromOrig) {
      if (s.len > 0) bytes = 0;
    } else if (s.len > 0 && !s.retrans) bytes += s.len;
  }
  return bytes;
}

export interface RstVerdict {
  rst: RstRecord;
  cause: RstCause;
  shape: RstShape;
  suspicion: string[];
}

/**
 * The cause of each RST that matters: the first RST from each side, plus any
 * later RST that looks forged. Retransmitted RSTs add nothing.
 */
export function rstVerdicts(c: Connection): RstVerdict[] {
  const out: RstVerdict[] = [];
  const seenSide = [false, false];
  for (const r of c.rsts) {
    const side = r.seg.fromOrig ? 0 : 1;
    const why = suspicion(r);
    if (seenSide[side] && why.length === 0) continue;
    const first = !seenSide[side];
    seenSide[side] = true;
    const shape = rstShape(r);
    let cause: RstCause;
    const m = c.milestones(!r.seg.fromOrig);
    const mine = c.milestones(r.seg.fromOrig);
    if (why.length > 0) cause = 'rst-suspicious';
    else if (!first) continue;
    else if (r.trigger === null && c.ep(r.seg.fromOrig).nonRstPkts === 0) continue; // a lone RST: no story to tell
    else if (shape === 'refusal' && !r.seg.fromOrig) cause = 'refused';
    else if (r.senderFinBefore && (r.receiverDataAfterSenderFin > 0 || r.receiverDataBeyondSenderFinAck > 0)) cause = 'write-after-peer-close';
    else if ((m.keepaliveProbes > 0 || mine.keepaliveProbes > 0) && r.idleBeforeSec >= 1) cause = 'keepalive-reset';
    else if (keepaliveAcrossSplit(c, r.seg.frame, segTime(r.seg)) !== null) cause = 'keepalive-reset'; // probes after an idle split
    else if (shape === 'socketless' && !r.senderFinBefore) cause = 'half-open';
    // Unread data: the peer's last bytes went unanswered. When the client resets after the server's
    // bytes, those bytes are most likely the reply it asked for and read (an abortive close by a client,
    // e.g. SO_LINGER 0 to skip TIME_WAIT): the wire cannot tell read-but-unacked from unread, so the
    // request/response roles decide.
    else if (!r.senderFinBefore && unansweredBytes(c, r) > 0 && r.senderUnacked === 0 && actorOf(c, r.seg.fromOrig) !== 'client') cause = 'rst-with-unread-data';
    else if (shape === 'refusal') continue; // the originator resetting its own attempt: syn-unanswered tells it
    else cause = 'abortive-close';
    out.push({ rst: r, cause, shape, suspicion: why });
  }
  return out;
}

/** Frames of the segments between two frames (inclusive) from the evidence, ascending. */
export function framesBetween(c: Connection, from: number, to: number, extra: number[] = []): number[] {
  const set = new Set<number>(extra);
  for (const s of c.evidence()) if (s.frame >= from && s.frame <= to) set.add(s.frame);
  set.add(from);
  set.add(to);
  return [...set].filter((f) => f > 0).sort((a, b) => a - b);
}


/** The frames of the last `n` evidence segments up to and including `frame`. */
export function framesBefore(c: Connection, frame: number, n = 6): number[] {
  const ev = c.evidence().filter((s) => s.frame <= frame).slice(-n).map((s) => s.frame);
  if (!ev.includes(frame)) ev.push(frame);
  return ev.sort((a, b) => a - b);
}
