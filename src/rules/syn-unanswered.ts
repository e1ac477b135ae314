/**
 * syn-unanswered: SYN and its retransmissions, no SYN-ACK and no RST.
 * Key frame: the first SYN. Reports retries and their spacing.
 */
import { EpState } from '../tcp/endpoint.js';
import type { Rule, RuleHit } from './types.js';
import { actorOf, who } from './teardown.js';

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
    // a one-sided capture shows the client ACKing or sending data: the SYN-ACK was answered, just not captured
    if (c.origM.sentAck) return [];
    const frames = c.origM.synFrames.slice();
    const times = c.origM.synTimes;
    if (frames.length === 0) return [];
    const spacingSec = times.slice(1).map((t, i) => Math.round((t - times[i]) * 1000) / 1000);
    const waitedSec = times.length > 1 ? Math.round((times[times.length - 1] - times[0]) * 1000) / 1000 : 0;
    const retries = frames.length - 1;
    const gaveUp = o.state === EpState.Reset || o.state === EpState.Closed;
    let appOrig = 'connect() still waiting when the capture ended (it ends in ETIMEDOUT once the SYN retries run out)';
    if (gaveUp) appOrig = 'the application gave up on connect() (it aborted the attempt before any answer)';
    else if (c.endReason === 'timeout' || c.endReason === 'closed') appOrig = 'connect() ends in ETIMEDOUT (or the application gave up first)';
    const lastFrame = c.lastFrame;
    if (!frames.includes(lastFrame)) frames.push(lastFrame);
    return [{
      frame: frames[0],
      frames: frames.sort((a, b) => a - b),
      actor: actorOf(c, true),
      summary: `${who(c, rec, true)} sent SYN (frame ${frames[0]})${retries > 0 ? ` and retried ${retries} time(s)${spacingSec.length ? ` after ${spacingSec.join(', ')} s` : ''}` : ''}, but ${who(c, rec, false)} never answered (no SYN-ACK, no RST): dropped by a firewall, an unreachable host, or a full accept queue.`,
      app: { orig: appOrig, resp: 'nothing reached an application' },
      evidence: { synFrame: frames[0], retries, spacingSec, waitedSec, clientAborted: gaveUp },
    }];
  },
};
