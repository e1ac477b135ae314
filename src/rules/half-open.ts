/**
 * half-open: one side lost its state or vanished. Either a stateless RST
 * (socketless shape: bare RST, seq = the trigger's ack) answers data on a
 * connection the sender believes is open, or data/retransmissions go
 * unanswered until the capture or the connection ends. Key frame: the RST, or
 * the last unanswered retransmission. Retransmissions count only when a
 * moment apart from the sender's previous segment (same-timestamp reordering
 * is not retransmission), and "the sender gives up" (error) needs its own RST
 * (also in the next record on the 4-tuple, src/tcp/link.ts), its silence
 * longer than any retransmission interval, or the time its retransmissions
 * last (src/rules/patience.ts); short of that the finding is info: no answer
 * in the N s before the capture ended.
 */
import { TCP_RST, TCP_SYN } from '../decode/packet.js';
import type { Segment } from '../tcp/connection.js';
import { EpState } from '../tcp/endpoint.js';
import { dataGiveUpSec, giveUpAfterSplit, MAX_RTO_SEC, MIN_RETRANSMIT_GAP_SEC, observedEnd, roundSec, rstNext } from './patience.js';
import type { Connection } from '../tcp/connection.js';
import type { UnansweredTail } from '../tcp/link.js';
import type { ConnRecord } from '../tcp/record.js';
import type { Rule, RuleHit } from './types.js';
import { actorOf, framesBefore, segTime, who } from './teardown.js';

/** A socketless RST this long after the segment it would answer, with none in flight, answers one the capture lacks. */
const UNSEEN_TRIGGER_SEC = 1;

/** Unanswered retransmissions at the end of the connection, from one side. */
const MIN_UNANSWERED_RETRANSMISSIONS = 3;

export const rule: Rule = {
  id: 'half-open',
  title: 'Half-open connection: the peer lost its state',
  severity: 'error',
  explanation: 'One side believes the connection is open while the other has no socket for it any more (it '
    + 'rebooted, crashed, was removed by a middlebox or timed out silently). Data sent to it is either answered '
    + 'by a stateless RST (no socket: bare RST, seq = the data\'s ack) or retransmitted unanswered until the '
    + 'sender gives up with ETIMEDOUT.',
  evaluate({ c, rec, verdicts }): RuleHit[] {
    const hits: RuleHit[] = [];
    for (const v of verdicts) {
      if (v.cause !== 'half-open') continue;
      const rst = v.rst.seg;
      const tail = giveUpAfterSplit(c, rst);
      if (tail !== null) {
        hits.push(giveUpHit(c, rec, rst, tail));
        continue;
      }
      const trig = v.answers ?? v.rst.trigger; // the segment it answers (rstPairs), else the receiver's last
      if (v.rst.receiverFinBefore) {
        // the receiver had closed (its FIN before the RST): its application is done with the socket; the RST only
        // ends the closed socket (FIN_WAIT or LAST_ACK), no application sees ECONNRESET
        const lost = trig !== null && trig.len > 0;
        hits.push({
          frame: rst.frame,
          frames: framesBefore(c, rst.frame),
          actor: actorOf(c, rst.fromOrig),
          severity: lost ? 'warning' : 'info',
          summary: `${who(c, rec, !rst.fromOrig)} had closed; its ${lost ? `last ${trig!.len} byte(s)` : 'segment'} (frame ${trig?.frame ?? '?'}) came after its FIN or with it, and ${who(c, rec, rst.fromOrig)} had no socket for it any more and answered with a stateless RST (frame ${rst.frame}). The RST only ends the closer's closed socket: no application sees ECONNRESET.${lost ? ' Those last bytes reached no socket: the peer\'s application never read them (it had closed or lost its state before they came).' : ''}`,
          app: {
            [rst.fromOrig ? 'orig' : 'resp']: 'no socket any more (closed earlier, or lost state)',
            [rst.fromOrig ? 'resp' : 'orig']: 'had closed the socket: no error reaches it',
          },
          evidence: { kind: 'stateless-rst-after-close', rstFrame: rst.frame, triggerFrame: trig?.frame ?? null, rstShape: v.shape },
        });
        continue;
      }
      hits.push({
        frame: rst.frame,
        frames: framesBefore(c, rst.frame),
        actor: actorOf(c, rst.fromOrig),
        summary: v.answers === null && trig !== null && v.shape === 'socketless' && segTime(rst) - segTime(trig) > UNSEEN_TRIGGER_SEC
          // no segment in flight matches: the one it answers is not in the capture (its seq is the ack the peer last sent)
          ? `${who(c, rec, rst.fromOrig)} sent a bare RST (frame ${rst.frame}) ${roundSec(segTime(rst) - segTime(trig))} s after the last exchange, with the seq ${who(c, rec, !rst.fromOrig)} last acknowledged (frame ${trig.frame}): the answer of a kernel with no socket for a segment the capture does not show. ${who(c, rec, !rst.fromOrig)} still believed the connection open: it gets ECONNRESET.`
          : `${who(c, rec, !rst.fromOrig)} still believed the connection open and sent ${trig && trig.len > 0 ? `${trig.len} byte(s)` : 'a segment'} (frame ${trig?.frame ?? '?'}); ${who(c, rec, rst.fromOrig)} had no socket for it any more and answered with a stateless RST (frame ${rst.frame}): the sender gets ECONNRESET.`,
        app: {
          [rst.fromOrig ? 'orig' : 'resp']: 'no socket any more (lost state: restart, crash, or silent timeout)',
          [rst.fromOrig ? 'resp' : 'orig']: 'the write succeeded locally; the next read() or write() failed with ECONNRESET',
        },
        evidence: { kind: 'stateless-rst', rstFrame: rst.frame, triggerFrame: trig?.frame ?? null, rstShape: v.shape },
      });
    }
    if (hits.length > 0 || c.rstCount > 0) return hits;
    // Unanswered retransmissions at the end: the peer vanished.
    if (c.orig.retransPkts < MIN_UNANSWERED_RETRANSMISSIONS && c.resp.retransPkts < MIN_UNANSWERED_RETRANSMISSIONS) return hits;
    const ev = c.evidence();
    if (ev.length === 0) return hits;
    for (const fromOrig of [true, false]) {
      const ep = c.ep(fromOrig);
      if (ep.state !== EpState.Established && ep.state !== EpState.Partial && ep.state !== EpState.Closed) continue;
      let lastPeer = -1;
      for (let i = 0; i < ev.length; i++) if (ev[i].fromOrig !== fromOrig) lastPeer = i;
      // Same-timestamp reordering is not retransmission: a segment counts when it repeats data sent a moment
      // or more before (a copy within a moment is a duplicate on the way); a segment whose data the log shows
      // no earlier copy of counts only when it left a moment after the sender's previous segment (a hole
      // filled by one burst reaching the capture point out of order does not).
      const after: Segment[] = [];
      for (let i = lastPeer + 1; i < ev.length; i++) {
        const s = ev[i];
        if (s.fromOrig !== fromOrig || !s.retrans || s.len <= 0) continue;
        if (sentBefore(ev, i) > MIN_RETRANSMIT_GAP_SEC) after.push(s);
      }
      if (after.length < MIN_UNANSWERED_RETRANSMISSIONS) continue;
      const last = after[after.length - 1];
      const spanSec = Math.round(((last.tsSec - after[0].tsSec) + (last.tsNsec - after[0].tsNsec) / 1e9) * 1000) / 1000;
      // Time must have passed for "the sender gave up": its own RST (in the next record on these ports),
      // silence longer than any retransmission interval while the capture went on, or the time its
      // retransmissions last. Short of that: no answer in the time the capture shows, at info.
      const abort = rstNext(c, fromOrig);
      const observedSec = Math.max(0, c.closedAt - segTime(after[0]));
      const silentSec = c.closedAt - segTime(last);
      const giveUpSec = dataGiveUpSec(last.ttl);
      const timedOut = abort === null && (silentSec >= MAX_RTO_SEC || observedSec >= giveUpSec);
      const still = c.next !== null && c.next.fromOrig === fromOrig && (c.next.flags & TCP_RST) === 0;
      const base = `${who(c, rec, fromOrig)} retransmitted ${after.length} time(s) over ${spanSec} s (last at frame ${last.frame})`;
      const evidence: Record<string, unknown> = { kind: 'unanswered-retransmissions', retransmissions: after.length, spanSec, lastFrame: last.frame };
      if (abort !== null) {
        hits.push({
          frame: last.frame,
          frames: [...after.map((s) => s.frame), abort.frame],
          actor: actorOf(c, fromOrig),
          summary: `${base} and ${who(c, rec, !fromOrig)} never answered; then the sender gave up and reset the connection (RST, frame ${abort.frame}, in the next record on these ports): ${who(c, rec, !fromOrig)} vanished or lost its state.`,
          app: {
            [fromOrig ? 'orig' : 'resp']: 'writes succeeded locally; the kernel gave up retransmitting and reset the connection: the socket fails with ETIMEDOUT',
            [fromOrig ? 'resp' : 'orig']: 'unreachable or without a socket for this connection',
          },
          evidence: { ...evidence, giveUpRstFrame: abort.frame },
        });
      } else if (timedOut) {
        hits.push({
          frame: last.frame,
          frames: after.map((s) => s.frame),
          actor: actorOf(c, fromOrig),
          summary: `${base} and ${who(c, rec, !fromOrig)} never answered: it vanished or lost its state; the sender ends with ETIMEDOUT.`,
          app: {
            [fromOrig ? 'orig' : 'resp']: 'writes succeeded locally; after the retransmission timeout the socket fails with ETIMEDOUT',
            [fromOrig ? 'resp' : 'orig']: 'unreachable or without a socket for this connection',
          },
          evidence,
        });
      } else {
        const seen = roundSec(observedSec);
        hits.push({
          frame: last.frame,
          frames: after.map((s) => s.frame),
          actor: actorOf(c, fromOrig),
          severity: 'info',
          summary: `${base}; no answer in the ${seen} s before ${observedEnd(c)}${still ? ` (the sender was still retransmitting at frame ${c.next!.frame})` : ''}. Too soon to tell whether ${who(c, rec, !fromOrig)} vanished: the sender's kernel retransmits for about ${giveUpSec} s before it gives up.`,
          app: {
            [fromOrig ? 'orig' : 'resp']: `writes succeeded locally; no acknowledgement in the ${seen} s the capture shows (the sender keeps retransmitting)`,
            [fromOrig ? 'resp' : 'orig']: 'no answer seen',
          },
          evidence: { ...evidence, observedSec: seen },
        });
      }
    }
    return hits;
  },
};

/**
 * Seconds since the sender last sent the data of segment `i` (its latest earlier copy in the log), or, when the
 * log holds no earlier copy, since the sender's previous segment (Infinity when there is none).
 */
function sentBefore(ev: readonly Segment[], i: number): number {
  const s = ev[i];
  const t = segTime(s);
  let prev = -1;
  for (let j = i - 1; j >= 0; j--) {
    const e = ev[j];
    if (e.fromOrig !== s.fromOrig) continue;
    if (prev < 0) prev = j;
    if (e.len > 0 && e.seqRel <= s.seqRel && s.seqRel < e.seqRel + e.len) return t - segTime(e);
  }
  return prev < 0 ? Infinity : t - segTime(ev[prev]);
}

/**
 * The sender gave up in a record of its own: its retransmissions went
 * unanswered until the capture's timers closed the record(s) they were in,
 * then its RST came (src/tcp/link.ts links them). Told on the RST's record,
 * naming the retransmissions' frames in the earlier ones.
 */
function giveUpHit(c: Connection, rec: ConnRecord, rst: Segment, tail: UnansweredTail): RuleHit {
  const sender = who(c, rec, rst.fromOrig);
  const peer = who(c, rec, !rst.fromOrig);
  const tookSec = roundSec(segTime(rst) - tail.firstTime);
  const spanSec = roundSec(tail.lastTime - tail.firstTime);
  return {
    frame: rst.frame,
    frames: [...new Set([...tail.frames, rst.frame])].sort((a, b) => a - b),
    actor: actorOf(c, rst.fromOrig),
    summary: `${sender} sent ${tail.fin ? 'its last data and FIN' : 'data'} (frame ${tail.firstFrame}) and retransmitted it ${tail.count} time(s) over ${spanSec} s (last at frame ${tail.lastFrame}); ${peer} never answered. ${tookSec} s after frame ${tail.firstFrame} the sender gave up and reset the connection (RST, frame ${rst.frame}; the capture's timers had closed the earlier record(s), so the RST is a record of its own): ${peer} vanished or lost its state, or the path dropped everything.`,
    app: {
      [rst.fromOrig ? 'orig' : 'resp']: tail.fin
        ? 'it had already closed the socket (FIN), so nothing reports the failure to it: its last bytes were never acknowledged'
        : 'writes succeeded locally; the kernel gave up retransmitting and reset the connection: the socket fails with ETIMEDOUT',
      [rst.fromOrig ? 'resp' : 'orig']: 'unreachable or without a socket for this connection',
    },
    evidence: {
      kind: 'gave-up-after-split', retransmissions: tail.count, firstFrame: tail.firstFrame, lastFrame: tail.lastFrame,
      spanSec, giveUpRstFrame: rst.frame, giveUpAfterSec: tookSec, senderClosed: tail.fin,
    },
  };
}
