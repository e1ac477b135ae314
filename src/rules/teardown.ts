/**
 * Shared, pure analysis of how a connection ended, used by the rule files so
 * that every RST gets exactly one cause (the most specific that fits) and the
 * rules never disagree with each other. Nothing here mutates the connection.
 *
 * Every bare RST is first paired with the receiver's segment it answers
 * (rstPairs): a kernel answers each segment in flight with a RST at that
 * segment's ack, so a burst of RSTs is one answer to several segments, told
 * once, by the cause of its first RST.
 *
 * Cause of a RST, first match wins:
 *  1. rst-suspicious        the claimed sender is unlikely to have sent it
 *  2. refused               it answers a SYN (no listener)
 *  3. stale-connection      a SYN-SENT socket's answer to an ACK that did not acknowledge its SYN
 *                           (the peer still held an older connection on these ports)
 *  4. write-after-peer-close  its sender had sent FIN and the peer then sent data
 *  5. keepalive-reset       keep-alive probes preceded it on an idle connection
 *  6. half-open             socketless shape (bare RST answering data) from a side that never closed
 *  7. rst-with-unread-data  live-socket RST while the peer's last data went unanswered
 *  8. abortive-close        any other RST from a live socket (SO_LINGER 0, abort)
 */
import { tsSeconds } from '../capture/frame.js';
import { OPT_TS, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../decode/packet.js';
import { formatEndpoint } from '../tcp/address.js';
import type { Connection, RstRecord, Segment } from '../tcp/connection.js';
import { EpState } from '../tcp/endpoint.js';
import type { ConnRecord } from '../tcp/record.js';
import { rstShape, type RstShape } from '../tcp/rst.js';
import type { Actor } from './actor.js';
import { giveUpAfterSplit, keepaliveAcrossSplit } from './patience.js';
import { sameOriginator } from '../tcp/link.js';

export type RstCause =
  | 'rst-suspicious' | 'refused' | 'stale-connection' | 'write-after-peer-close' | 'keepalive-reset' | 'synack-reset'
  | 'half-open' | 'rst-with-unread-data' | 'abortive-close';

/**
 * client/server when the handshake told who connected (this record's, or that
 * of the record on the same 4-tuple it continues: src/tcp/link.ts), else orig/resp
 */
export function actorOf(c: Connection, fromOrig: boolean): Actor {
  const known = c.orig.sawSyn && !c.flipped;
  if (known) return fromOrig ? 'client' : 'server';
  const p = c.prev;
  if (p !== null && p.clientIsOrig !== null) {
    const origIsClient = p.clientIsOrig === sameOriginator(c, p);
    return fromOrig === origIsClient ? 'client' : 'server';
  }
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
 * The receiver's segment each bare RST answers (null: none found), by RST.
 * A kernel answers a segment with no socket for it, or one its SYN-SENT socket
 * cannot accept, with a bare RST at that segment's ack (tcp_v4_send_reset;
 * RFC 9293 3.10.7.1, 3.10.7.3); after a socket is gone it answers each segment
 * still in flight, so a burst of RSTs carries the acks of several segments.
 * A RST pairs with a segment from the other side, earlier on the wire, that
 * carried ACK (not RST) with that ack; each segment draws one RST. Matched
 * from the last RST back, each taking the latest segment not yet taken: the
 * last segments in flight are the ones that met no socket (earlier ones with
 * the same ack may have reached it while it lived). Only segments the
 * evidence log still holds can be found (its head and its ring of the last
 * ones, where bursts are).
 */
export function rstPairs(c: Connection): Map<RstRecord, Segment | null> {
  const out = new Map<RstRecord, Segment | null>();
  // Two shortcuts, no more: without any RST, or without a bare one, the loop below would give every RST null
  // too. Their mutants that drop a shortcut (the first test as `false`, `bare` starting `true`, the flag test as
  // `true`, `!bare` as `false` or its block emptied) are equivalent; those that always take one are killed
  // (and hidden with them, Stryker disabling per line and mutator).
  // Stryker disable next-line ConditionalExpression: equivalent, a shortcut (above)
  if (c.rsts.length === 0) return out;
  // Stryker disable next-line BooleanLiteral: equivalent, a shortcut (above)
  let bare = false; // only a bare RST pairs: without one, no Segment objects are made (most RSTs carry ACK)
  // Stryker disable next-line ConditionalExpression: equivalent, a shortcut (above)
  for (const r of c.rsts) if ((r.seg.flags & TCP_ACK) === 0) bare = true;
  // Stryker disable next-line ConditionalExpression,BlockStatement: equivalent, a shortcut (above)
  if (!bare) {
    for (const r of c.rsts) out.set(r, null);
    return out;
  }
  const ev = c.evidence();
  const taken = new Set<number>();
  for (let i = c.rsts.length - 1; i >= 0; i--) {
    const r = c.rsts[i];
    const s = r.seg;
    let found: Segment | null = null;
    if ((s.flags & TCP_ACK) === 0) {
      for (let j = ev.length - 1; j >= 0; j--) {
        const x = ev[j];
        if (
          // Stryker disable next-line EqualityOperator: `>=` as `>` is equivalent: the segment of frame s.frame is the RST itself, from its own side, skipped next (the line's `<`, killed, is hidden with it)
          x.frame >= s.frame ||
          x.fromOrig === s.fromOrig || taken.has(x.frame)) continue;
        if ((x.flags & TCP_RST) !== 0 || (x.flags & TCP_ACK) === 0 || x.ack !== s.seq) continue;
        if (acknowledgedBefore(ev, j, s)) continue; // its sender's socket took it: not a segment that met no socket
        found = x;
        taken.add(x.frame);
        break;
      }
    }
    out.set(r, found);
  }
  return out;
}

/**
 * Whether the RST's sender acknowledged the data or FIN of ev[j] with a segment of its own (not a RST) before
 * the RST: then a live socket had taken it, and the RST does not answer it.
 */
function acknowledgedBefore(ev: readonly Segment[], j: number, rst: Segment): boolean {
  const x = ev[j];
  const end = x.seqRel + x.len + ((x.flags & TCP_FIN) !== 0 ? 1 : 0);
  // a kernel answers a segment it has no socket for at once: a RST long after x, from a side that spoke after x,
  // answers something else (a segment the capture lacks); within that time the two may have crossed
  const late = segTime(rst) - segTime(x) > PAIR_LATE_SEC;
  // Stryker disable next-line EqualityOperator: `<` as `<=` is equivalent: the loop always breaks at the RST (frame test below) before the end: the RST is in the evidence, or left its ring only for later segments, which are (the line's `>=`, killed, is hidden with it)
  for (let k = j + 1; k < ev.length; k++) {
    const y = ev[k];
    // Stryker disable next-line EqualityOperator: `>=` as `>` is equivalent: the segment of frame rst.frame is the RST itself, skipped as a RST next, and the one after it breaks (the line's `<`, killed, is hidden with it)
    if (y.frame >= rst.frame) break;
    if (y.fromOrig !== rst.fromOrig || (y.flags & TCP_RST) !== 0) continue;
    if (late) return true;
    if (end > x.seqRel && (y.flags & TCP_ACK) !== 0 && y.ackRel >= end) return true;
  }
  return false;
}

/** Seconds after which a RST no longer answers a segment its sender's socket outlived (acknowledgedBefore). */
const PAIR_LATE_SEC = 1;

/**
 * A bare RST from a socket in SYN-SENT answering a segment from the peer that
 * it could not accept (RFC 9293 3.10.7.3: "if the ACK is unacceptable, send
 * a reset", seq = that segment's ack; Linux also resets one whose timestamp
 * echo it cannot have sent): the socket lives on and keeps trying to connect,
 * so its later segments are no sign of forgery.
 */
export function synSentAnswer(r: RstRecord, answers: Segment | null): boolean {
  return r.senderPrevState === EpState.SynSent &&
    // Stryker disable next-line ConditionalExpression: `true` is equivalent: rstPairs pairs bare RSTs only, so with answers not null the RST has no ACK flag (the line's `false`, killed, is hidden with it)
    (r.seg.flags & TCP_ACK) === 0 &&
    answers !== null;
}

/**
 * Suspicion evidence for a RST; empty when nothing is odd. Strong signals (TTL,
 * inexact in-window sequence, data from the sender afterwards) suffice alone;
 * weak ones (IP ID jump: hosts with a global IP ID counter jump legitimately;
 * a missing timestamp option) count only in pairs or with a strong one.
 */
export function suspicion(r: RstRecord, answers: Segment | null = null): string[] {
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
  if (shape !== 'socketless'
    && shape !== 'refusal' &&
    // (the `&&` ends the line above: a directive before a leading `&&` trails the left operand, unseen by Stryker)
    // Stryker disable next-line EqualityOperator: `> 0` as `>= 0` is equivalent: 0 fails the `& OPT_TS` test next (the line's `<= 0`, killed, is hidden with it)
    r.senderOptAlways > 0
    && (r.senderOptAlways & OPT_TS) !== 0 && (s.optMask & OPT_TS) === 0) {
    why.push('no timestamp option, which the sender put on every other segment');
  }
  if (r.acceptance === 'in-window' && ++strong) why.push('sequence in window but not exact (RFC 5961: the receiver answers with a challenge ACK and keeps the connection)');
  if (r.senderDataAfter && !synSentAnswer(r, answers) && ++strong) why.push('its claimed sender kept sending data after it');
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
    } else if (!s.retrans) bytes += s.len; // a segment without payload adds 0
  }
  return bytes;
}

export interface RstVerdict {
  rst: RstRecord;
  cause: RstCause;
  shape: RstShape;
  suspicion: string[];
  /** the receiver's segment this RST answers (rstPairs), null when none was found */
  answers: Segment | null;
  /**
   * The rest of its burst: later RSTs from the same side, not suspicious,
   * each answering another segment in flight (rstPairs), before the sender
   * sent anything else. Told with this verdict, not on their own.
   */
  burst: { rst: RstRecord; answers: Segment }[];
}

/**
 * The cause of each RST that matters: the first RST from each side, plus any
 * later RST that looks forged. Retransmitted RSTs add nothing.
 */
export function rstVerdicts(c: Connection): RstVerdict[] {
  const out: RstVerdict[] = [];
  // Stryker disable next-line ArrayDeclaration: `[]` is equivalent: an unset element reads undefined, falsy like false, and the assignment below sets it
  const seenSide = [false, false];
  const pairs = rstPairs(c);
  const rsts = c.rsts;
  for (let i = 0; i < rsts.length; i++) {
    const r = rsts[i];
    const side = r.seg.fromOrig ? 0 : 1;
    const answers = pairs.get(r) ?? null;
    const why = suspicion(r, answers);
    // a later RST from a side is told only when it looks forged (so, below, every RST without suspicion is its side's first)
    if (seenSide[side] && why.length === 0) continue;
    seenSide[side] = true;
    const shape = rstShape(r);
    let cause: RstCause;
    const m = c.milestones(!r.seg.fromOrig);
    const mine = c.milestones(r.seg.fromOrig);
    if (why.length > 0) cause = 'rst-suspicious';
    // the sender giving up on retransmissions nobody answered, in a record of its own (a timer split them)
    else if (giveUpAfterSplit(c, r.seg) !== null) cause = 'half-open';
    else if (r.trigger === null && c.ep(r.seg.fromOrig).nonRstPkts === 0) continue; // a lone RST: no story to tell
    else if (shape === 'refusal' && !r.seg.fromOrig) cause = 'refused';
    else if (synSentAnswer(r, answers)) {
      // an ACK (no SYN) for another sequence: the peer holds an older connection on these ports. Otherwise
      // (a SYN-ACK for another SYN, or a segment acknowledging the SYN that failed another check, such as
      // Linux's timestamp echo check) the socket rejected one segment and went on connecting: no story.
      if (answers!.ackRel === 1 || (answers!.flags & TCP_SYN) !== 0) continue;
      cause = 'stale-connection';
    } else if (r.senderFinBefore && (r.receiverDataAfterSenderFin > 0 || r.receiverDataBeyondSenderFinAck > 0)) cause = 'write-after-peer-close';
    // keep-alive probes during the idle time before the RST (a probe before later payload kept nothing alive that then ended)
    else if (r.idleBeforeSec >= 1 && Math.max(m.lastProbeTime, mine.lastProbeTime) >= segTime(r.seg) - r.idleBeforeSec) cause = 'keepalive-reset';
    else if (keepaliveAcrossSplit(c, r.seg.frame, segTime(r.seg)) !== null) cause = 'keepalive-reset'; // probes after an idle split
    // a stateless RST answering the peer's SYN-ACK from a side that never acknowledged anything: its connect()
    // was gone before the answer came (synack-reset.ts); any other stateless RST without a FIN before it: half-open
    else if (shape === 'socketless' && !r.senderFinBefore && answersSynAck(answers, mine.sentAck)) cause = 'synack-reset';
    else if (shape === 'socketless' && !r.senderFinBefore) cause = 'half-open';
    // Unread data: the peer's last bytes went unanswered. When the client resets after the server's
    // bytes, those bytes are most likely the reply it asked for and read (an abortive close by a client,
    // e.g. SO_LINGER 0 to skip TIME_WAIT): the wire cannot tell read-but-unacked from unread, so the
    // request/response roles decide.
    else if (!r.senderFinBefore && unansweredBytes(c, r) > 0 && r.senderUnacked === 0 && actorOf(c, r.seg.fromOrig) !== 'client') cause = 'rst-with-unread-data';
    else if (shape === 'refusal') continue; // the originator resetting its own attempt: syn-unanswered tells it
    else cause = 'abortive-close';
    out.push({ rst: r, cause, shape, suspicion: why, answers, burst: why.length > 0 ? [] : burstAfter(c, i, pairs) });
  }
  return out;
}

/**
 * The RSTs after c.rsts[i] from the same side that answer other segments in
 * flight when it was sent (rstPairs: segments on the wire before it) and look
 * ordinary, until that side sends anything else.
 */
function burstAfter(c: Connection, i: number, pairs: Map<RstRecord, Segment | null>): { rst: RstRecord; answers: Segment }[] {
  const first = c.rsts[i];
  // Stryker disable next-line ArrayDeclaration,ConditionalExpression: equivalent: with no pair this verdict's `answers` is null, and the engine (engine.ts, the burst text), the burst's only reader, reads it only when answers is not null: the `[]` as a non-empty array, and the test as `false` (a burst computed for nothing), change no output (the test as `true`, killed, is hidden with them)
  if (pairs.get(first) == null) return [];
  const out: { rst: RstRecord; answers: Segment }[] = [];
  const fromOrig = first.seg.fromOrig;
  let lastFrame = first.seg.frame;
  for (const s of c.evidence()) {
    // Stryker disable next-line EqualityOperator: `<=` as `<` is equivalent: the segment of first.seg.frame is the first RST, a RST of that side, which leaves lastFrame where it is (the line's `>`, killed, is hidden with it)
    if (s.frame <= first.seg.frame || s.fromOrig !== fromOrig) continue;
    if ((s.flags & TCP_RST) === 0) break; // the sender sent something else: the burst is over
    lastFrame = s.frame;
  }
  for (let j = i + 1; j < c.rsts.length; j++) {
    const r = c.rsts[j];
    if (r.seg.fromOrig !== fromOrig || r.seg.frame > lastFrame) continue;
    const a = pairs.get(r);
    // in flight when the first RST went out: a segment sent after it draws an answer of its own
    // Stryker disable next-line EqualityOperator: `>` as `>=` is equivalent: a is the other side's segment, never the first RST's frame (the line's `<=` and the `> 0` mutants, killed, are hidden with it)
    if (a == null || a.frame > first.seg.frame || suspicion(r, a).length > 0) continue;
    out.push({ rst: r, answers: a });
  }
  return out;
}

/** Frames of the segments between two frames (inclusive) from the evidence, ascending. */
export function framesBetween(c: Connection, from: number, to: number, extra: number[] = []): number[] {
  const set = new Set<number>(extra);
  // Stryker disable next-line EqualityOperator: `>= from` as `> from` and `<= to` as `< to` are equivalent: from and to are added below anyway (the `<`/`>` mutants, killed, are hidden with them)
  for (const s of c.evidence()) if (s.frame >= from && s.frame <= to) set.add(s.frame);
  set.add(from);
  set.add(to);
  // Stryker disable next-line EqualityOperator,ConditionalExpression,MethodExpression: equivalent: frames are 1-based and no caller passes frame 0, so the filter keeps every frame: `f >= 0`, `true` or no filter at all change nothing (the line's `f <= 0`, `false` and the sort's removal, killed, are hidden with them)
  return [...set].filter((f) => f > 0).sort((a, b) => a - b);
}


/** The frames of the last `n` evidence segments up to and including `frame`. */
export function framesBefore(c: Connection, frame: number, n = 6): number[] {
  const ev = c.evidence().filter((s) => s.frame <= frame).slice(-n).map((s) => s.frame);
  if (!ev.includes(frame)) ev.push(frame);
  // Stryker disable next-line MethodExpression,ArrowFunction,ArithmeticOperator: equivalent: ev is already ascending (the evidence is in capture order, and the frame pushed above is at least every frame the filter kept), so the sort changes nothing, with any comparator
  return ev.sort((a, b) => a - b);
}

/**
 * The RST pairs with a SYN-ACK (rstPairs: the segment whose ack is its seq) and its sender had sent nothing with
 * ACK: the answer to its own SYN met no socket (synack-reset). A socketless RST before the handshake completed
 * always finds that pair: the SYN-ACK is among the log's first segments, which stay.
 */
export function answersSynAck(answers: Segment | null, senderSentAck: boolean): boolean {
  return answers !== null && (answers.flags & TCP_SYN) !== 0 && !senderSentAck;
}
