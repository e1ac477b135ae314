/**
 * syn-unanswered: SYN and its retransmissions, no SYN-ACK and no RST.
 * Key frame: the first SYN. Reports retries and their spacing. A warning
 * only once the sender gave up (on the wire, or by the time its SYN retries
 * take); before that, "no answer in the N s before the capture ended", at
 * info. A SYN-ACK that came after the attempt timer split the record is an
 * answer (the next record on the 4-tuple begins with it): no finding.
 */
import { EpState } from '../tcp/endpoint.js';
import { otherDirectionMissing } from './one-sided.js';
import type { Rule, RuleHit } from './types.js';
import { answeredLater, INITIAL_RTO_SEC, MAX_SYN_RETRY_GAP_SEC, observedEnd, roundMs, roundSec, sameSynRetryNext, synGiveUpSec } from './patience.js';
import { actorOf, segTime, who } from './teardown.js';

export const rule: Rule = {
  id: 'syn-unanswered',
  title: 'Connection attempt never answered',
  severity: 'warning',
  explanation: 'The client sent SYN (and retransmitted it) but nothing came back: no SYN-ACK and no RST. A '
    + 'firewall dropped it, the host is down or unreachable, or the listener\'s accept queue was full. '
    + 'connect() ends in ETIMEDOUT after the kernel\'s SYN retries (Linux: tcp_syn_retries, about 127 s by default).',
  evaluate({ c, rec }): RuleHit[] {
    const o = c.orig;
    if (!o.sawSyn || c.flipped || c.resp.pkts > 0) return [];
    if (o.state !== EpState.SynSent && o.state !== EpState.Reset && o.state !== EpState.Closed) return [];
    // a one-sided capture shows the client ACKing or sending data, or resetting from SYN-SENT (an answer to a
    // segment of the server's): the SYN was answered, the answer just not captured
    if (c.origM.sentAck || otherDirectionMissing(c, rec)) return [];
    const frames = c.origM.synFrames.slice();
    const times = c.origM.synTimes;
    if (frames.length === 0) return [];
    const ttl = c.evidence().find((s) => s.fromOrig)?.ttl ?? 64;
    // the responder answered after all, in the next record on these ports (the attempt timer split them),
    // while the sender's SYN retries were still running: not unanswered
    const late = answeredLater(c) ? c.next : null;
    if (late !== null && late.time - times[0] < synGiveUpSec(ttl)) return [];
    const spacingSec = times.slice(1).map((t, i) => Math.round((t - times[i]) * 1000) / 1000);
    const waitedSec = times.length > 1 ? Math.round((times[times.length - 1] - times[0]) * 1000) / 1000 : 0;
    const retries = frames.length - 1;
    const gaveUp = o.state === EpState.Reset || o.state === EpState.Closed;
    // Time must have passed: "never answered" needs the sender's own give-up on the wire (it aborted the
    // attempt, moved on to a new ISN, or fell silent longer than any SYN retry gap while the capture went on)
    // or the time its SYN retries take. Short of that: no answer in the time the capture shows.
    const observedSec = Math.max(0, c.closedAt - times[0]);
    const silentSec = c.closedAt - times[times.length - 1];
    const movedOn = c.next !== null && c.next.fromOrig && !sameSynRetryNext(c);
    // the sender's own RST within the first retransmission timeout (1 s, RFC 6298 2.1): it abandoned the attempt
    // before a server could be said not to answer (or the RST answers a SYN-ACK that took another path): not proof
    const rstSec = c.rsts.length > 0 && c.rsts[0].seg.fromOrig ? segTime(c.rsts[0].seg) - times[0] : -1;
    const quickAbort = gaveUp && rstSec >= 0 && rstSec < INITIAL_RTO_SEC && retries === 0;
    const proven = !quickAbort && (gaveUp || movedOn || late !== null || silentSec >= MAX_SYN_RETRY_GAP_SEC || observedSec >= synGiveUpSec(ttl));
    let appOrig = 'connect() still waiting when the capture ended (it ends in ETIMEDOUT once the SYN retries run out)';
    if (gaveUp) appOrig = 'the application gave up on connect() (it aborted the attempt before any answer)';
    if (quickAbort) appOrig = 'the application abandoned connect() within the first second (closed the socket, or its own timeout)';
    else if (proven) appOrig = 'connect() ends in ETIMEDOUT (or the application gave up first)';
    else if (c.endReason !== 'end') appOrig = 'connect() was still waiting when the record closed (it ends in ETIMEDOUT once the SYN retries run out)';
    const lastFrame = c.lastFrame;
    if (!frames.includes(lastFrame)) frames.push(lastFrame);
    const tried = `${who(c, rec, true)} sent SYN (frame ${frames[0]})${retries > 0 ? ` and retried ${retries} time(s)${spacingSec.length ? ` after ${spacingSec.join(', ')} s` : ''}` : ''}`;
    const summary = proven
      ? (late !== null
        ? `${tried}, but ${who(c, rec, false)} answered only at frame ${late.frame}, ${roundSec(late.time - times[0])} s after the first SYN, when the sender's SYN retries (about ${synGiveUpSec(ttl)} s) had run out: too late for this connect().`
        : `${tried}, but ${who(c, rec, false)} never answered (no SYN-ACK, no RST): dropped by a firewall, an unreachable host, or a full accept queue.`)
      : quickAbort
        ? `${tried}, then ended the attempt itself with a RST (frame ${c.rsts[0].seg.frame}) ${roundMs(rstSec)} ms later, before any answer in the capture: the application abandoned it (or the RST answers a SYN-ACK the capture does not have). Too soon to say the server never answered.`
        : `${tried}; no answer in the ${roundSec(observedSec)} s before ${observedEnd(c)} (too soon to tell: the sender's SYN retries last about ${synGiveUpSec(ttl)} s).`;
    return [{
      frame: frames[0],
      frames: frames.sort((a, b) => a - b),
      actor: actorOf(c, true),
      summary,
      app: { orig: appOrig, resp: 'nothing reached an application' },
      evidence: { synFrame: frames[0], retries, spacingSec, waitedSec, clientAborted: gaveUp },
      ...(proven ? {} : { severity: 'info' as const }),
    }];
  },
};
