/**
 * abortive-close: RST without a FIN from a live socket (SO_LINGER 0, or an
 * application abort): pending data discarded. Key frame: the RST. Reports
 * bytes sent but never acknowledged at the time of the RST.
 */
import type { Rule, RuleHit } from './types.js';
import { actorOf, framesBefore, who } from './teardown.js';

export const rule: Rule = {
  id: 'abortive-close',
  title: 'Abortive close (RST from a live socket)',
  severity: 'warning',
  explanation: 'A socket was closed abortively: SO_LINGER with a zero timeout, or an application or kernel abort. '
    + 'Instead of FIN it sent RST/ACK at its current sequence number and discarded any data not yet acknowledged. '
    + 'The peer gets ECONNRESET on its next read() or write().',
  evaluate({ c, rec, verdicts }): RuleHit[] {
    const hits: RuleHit[] = [];
    for (const v of verdicts) {
      if (v.cause !== 'abortive-close') continue;
      const r = v.rst;
      const rst = r.seg;
      const afterFin = r.senderFinBefore;
      hits.push({
        frame: rst.frame,
        frames: framesBefore(c, rst.frame),
        actor: actorOf(c, rst.fromOrig),
        summary: `${who(c, rec, rst.fromOrig)} aborted the connection with RST (frame ${rst.frame})${afterFin ? ' after its FIN' : ' without a FIN'}`
          + (r.senderUnacked > 0 ? `, discarding ${r.senderUnacked} byte(s) it had sent that were never acknowledged` : '')
          + `: ${who(c, rec, !rst.fromOrig)} sees ECONNRESET.`,
        app: {
          [rst.fromOrig ? 'orig' : 'resp']: 'closed abortively (SO_LINGER 0 or abort): close() returned at once, unsent data discarded',
          [rst.fromOrig ? 'resp' : 'orig']: 'the next read() or write() failed with ECONNRESET',
        },
        evidence: { pendingBytes: r.senderUnacked, finSent: afterFin, rstFrame: rst.frame, rstShape: v.shape, acceptance: r.acceptance },
      });
    }
    return hits;
  },
};
