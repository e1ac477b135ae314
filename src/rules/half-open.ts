/**
 * half-open: one side lost its state or vanished. Either a stateless RST
 * (socketless shape: bare RST, seq = the trigger's ack) answers data on a
 * connection the sender believes is open, or data/retransmissions go
 * unanswered until the capture or the connection ends. Key frame: the RST, or
 * the last unanswered retransmission.
 */
import { EpState } from '../tcp/endpoint.js';
import type { Rule, RuleHit } from './types.js';
import { actorOf, framesBefore, who } from './teardown.js';

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
      const trig = v.answers ?? v.rst.trigger; // the segment it answers (rstPairs), else the receiver's last
      hits.push({
        frame: rst.frame,
        frames: framesBefore(c, rst.frame),
        actor: actorOf(c, rst.fromOrig),
        summary: `${who(c, rec, !rst.fromOrig)} still believed the connection open and sent ${trig && trig.len > 0 ? `${trig.len} byte(s)` : 'a segment'} (frame ${trig?.frame ?? '?'}); ${who(c, rec, rst.fromOrig)} had no socket for it any more and answered with a stateless RST (frame ${rst.frame}): the sender gets ECONNRESET.`,
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
      const after = ev.slice(lastPeer + 1).filter((s) => s.fromOrig === fromOrig && s.retrans && s.len > 0);
      if (after.length < MIN_UNANSWERED_RETRANSMISSIONS) continue;
      const last = after[after.length - 1];
      const spanSec = Math.round(((last.tsSec - after[0].tsSec) + (last.tsNsec - after[0].tsNsec) / 1e9) * 1000) / 1000;
      hits.push({
        frame: last.frame,
        frames: after.map((s) => s.frame),
        actor: actorOf(c, fromOrig),
        summary: `${who(c, rec, fromOrig)} retransmitted ${after.length} time(s) over ${spanSec} s (last at frame ${last.frame}) and ${who(c, rec, !fromOrig)} never answered: it vanished or lost its state; the sender ends with ETIMEDOUT.`,
        app: {
          [fromOrig ? 'orig' : 'resp']: 'writes succeeded locally; after the retransmission timeout the socket fails with ETIMEDOUT',
          [fromOrig ? 'resp' : 'orig']: 'unreachable or without a socket for this connection',
        },
        evidence: { kind: 'unanswered-retransmissions', retransmissions: after.length, spanSec, lastFrame: last.frame },
      });
    }
    return hits;
  },
};
