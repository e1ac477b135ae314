/**
 * half-close: legitimate shutdown(SHUT_WR): FIN one way, data keeps flowing
 * the other way and is acknowledged (RFC 9293 3.6). Severity info; never a
 * problem finding. Not reported when the closer later resets the writer
 * (that is write-after-peer-close).
 */
import type { Rule, RuleHit } from './types.js';
import { actorOf, who } from './teardown.js';

export const rule: Rule = {
  id: 'half-close',
  title: 'Half-close (shutdown for writing)',
  severity: 'info',
  explanation: 'One side finished sending and called shutdown(SHUT_WR): its FIN went out, and the other side kept '
    + 'sending data, which was acknowledged. This is the legitimate use of TCP\'s half-close; nothing was lost.',
  evaluate({ c, rec, verdicts }): RuleHit[] {
    const hits: RuleHit[] = [];
    const causes = verdicts.map((v) => v.cause);
    if (causes.includes('write-after-peer-close')) return hits;
    for (const closer of [true, false]) {
      const fin = c.milestones(closer).fin;
      const w = c.milestones(!closer);
      if (!fin || w.dataAfterPeerFin === 0 || !w.firstDataAfterPeerFin) continue;
      // the data after the FIN was acknowledged by the closer
      const closerEp = c.ep(closer);
      const writerEp = c.ep(!closer);
      if (closerEp.maxAckRel < writerEp.maxEndRel - (writerEp.finCount > 0 ? 1 : 0)) continue;
      hits.push({
        frame: fin.frame,
        frames: [fin.frame, w.firstDataAfterPeerFin.frame],
        actor: actorOf(c, closer),
        summary: `${who(c, rec, closer)} shut down its sending side (FIN, frame ${fin.frame}) and kept receiving: ${who(c, rec, !closer)} sent ${w.dataAfterPeerFin} more byte(s), all acknowledged.`,
        app: {
          [closer ? 'orig' : 'resp']: 'shutdown(SHUT_WR), then read the rest of the data',
          [closer ? 'resp' : 'orig']: 'read() returned 0 (EOF) and it went on writing, as the protocol allows',
        },
        evidence: { finFrame: fin.frame, bytesAfterFin: w.dataAfterPeerFin, firstDataFrame: w.firstDataAfterPeerFin.frame },
      });
    }
    return hits;
  },
};
