/** refused: SYN answered by RST/ACK (no listener). Key frame: the RST. */
import type { Rule, RuleHit } from './types.js';
import { actorOf, endpointName, framesBetween, segTime, who } from './teardown.js';

export const rule: Rule = {
  id: 'refused',
  title: 'Connection refused',
  severity: 'warning',
  explanation: 'The SYN was answered by RST/ACK (seq 0, ack = ISN+1): nothing listened on that port, so the '
    + "responder's kernel refused the connection. The client's connect() fails with ECONNREFUSED.",
  evaluate({ c, rec, verdicts }): RuleHit[] {
    const hits: RuleHit[] = [];
    for (const v of verdicts) {
      if (v.cause !== 'refused') continue;
      const rst = v.rst.seg;
      const synFrames = c.origM.synFrames;
      const firstSyn = synFrames[0] ?? c.firstFrame;
      const synTimes = c.origM.synTimes;
      const rttMs = synTimes.length > 0 ? Math.round((segTime(rst) - synTimes[synTimes.length - 1]) * 1e6) / 1e3 : null;
      hits.push({
        frame: rst.frame,
        frames: framesBetween(c, firstSyn, rst.frame, synFrames),
        actor: actorOf(c, rst.fromOrig),
        summary: `${who(c, rec, !rst.fromOrig)} tried to connect (SYN, frame ${firstSyn}) and ${who(c, rec, rst.fromOrig)} answered with RST/ACK (frame ${rst.frame}): no process listened on port ${rec.resp.port}; connect() failed with ECONNREFUSED.`,
        app: { [rst.fromOrig ? 'resp' : 'orig']: 'connect() failed with ECONNREFUSED', [rst.fromOrig ? 'orig' : 'resp']: 'no listening socket: the kernel answered' },
        evidence: {
          synFrame: firstSyn, rstFrame: rst.frame, synAttempts: synFrames.length, answerMs: rttMs,
          rstShape: v.shape, port: rec.resp.port, server: endpointName(rec, false),
        },
      });
    }
    return hits;
  },
};
