/**
 * synack-reset: the connecting side answered the server's SYN-ACK with a bare RST (issue 16). Its kernel had no
 * socket for the answer any more: the application closed the socket or gave up on its own connect timeout before
 * the SYN-ACK came (RFC 9293 3.10.7.1: a segment for no connection is answered with RST, seq = its ack). Without
 * its SYN in the capture, it may never have sent one: SYN-ACK backscatter (someone sent SYNs in its name, as a
 * spoofed SYN flood does), or the capture began after it. Key frame: the RST. The cause is given in
 * teardown.ts rstVerdicts (answersSynAck); this rule tells it.
 */
import type { Rule, RuleHit } from './types.js';
import { roundSec } from './patience.js';
import { actorOf, framesBefore, segTime, who } from './teardown.js';

export const rule: Rule = {
  id: 'synack-reset',
  title: 'SYN-ACK answered with RST (the connect was abandoned)',
  severity: 'warning',
  explanation: 'The server answered a SYN with SYN-ACK, and the connecting side answered that with a bare RST: no '
    + 'socket waited for the answer any more. The client had closed the socket or given up on its own connect '
    + 'timeout before the SYN-ACK came; a socket still in SYN-SENT would have completed the handshake. Without the '
    + 'client\'s SYN in the capture, the SYN-ACK may be backscatter of SYNs sent in its name.',
  evaluate({ c, rec, verdicts }): RuleHit[] {
    const hits: RuleHit[] = [];
    for (const v of verdicts) {
      if (v.cause !== 'synack-reset') continue;
      const rst = v.rst.seg;
      const trig = v.answers!; // answersSynAck: the SYN-ACK it pairs with
      const waitedSec = roundSec(segTime(rst) - segTime(trig));
      const sender = c.milestones(rst.fromOrig);
      const synFrame = sender.synCount > 0 ? sender.synFrames[0] : null;
      const me = who(c, rec, rst.fromOrig);
      const peer = who(c, rec, !rst.fromOrig);
      const gone = synFrame !== null
        ? `The connect() (SYN, frame ${synFrame}) had been abandoned before the SYN-ACK reached it (the application closed the socket, or gave up on its own timeout): a socket still in SYN-SENT would have completed the handshake.`
        : `No SYN from ${me} is in the capture: either the capture began after it, or it never sent one and the SYN-ACK is backscatter (SYNs sent in its name, as a spoofed SYN flood sends them).`;
      hits.push({
        frame: rst.frame,
        frames: framesBefore(c, rst.frame),
        actor: actorOf(c, rst.fromOrig),
        summary: `${peer} answered the SYN (SYN-ACK, frame ${trig.frame}); ${me} answered that with a bare RST ${waitedSec} s later (frame ${rst.frame}, seq = the SYN-ACK's ack): no socket waited for the answer any more. ${gone}`,
        app: {
          [rst.fromOrig ? 'orig' : 'resp']: synFrame !== null
            ? 'had abandoned the connect() (closed the socket, or its own timeout fired) before the answer came: no connection'
            : 'had no socket for this connection: no connection (its connect() was gone, or it never made one)',
          [rst.fromOrig ? 'resp' : 'orig']: 'its half-open connection (SYN-RECV) was dropped; the application never saw it (no accept())',
        },
        evidence: { synFrame, synAckFrame: trig.frame, rstFrame: rst.frame, afterSec: waitedSec, rstShape: v.shape },
      });
    }
    return hits;
  },
};
