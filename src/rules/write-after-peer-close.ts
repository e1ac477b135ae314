/**
 * write-after-peer-close: one side sent FIN (close()), the other side then
 * sent data, and the closer's kernel answered with RST. Key frame: the RST.
 * Variant "bug": the writer's data acknowledged the FIN (it had received it and
 * wrote anyway); "race": the data was sent before the FIN arrived.
 */
import type { Rule, RuleHit } from './types.js';
import { actorOf, framesBetween, who } from './teardown.js';

export const rule: Rule = {
  id: 'write-after-peer-close',
  title: 'Write after the peer closed: answered with RST',
  severity: 'error',
  explanation: 'One side called close() and sent FIN. The other side kept writing; the closed socket cannot take '
    + 'data, so its kernel answered with RST. The writer\'s next write() fails with EPIPE and raises SIGPIPE, which '
    + 'kills a process that does not ignore it (ECONNRESET if the RST arrives before the FIN was processed).',
  evaluate({ c, rec, verdicts }): RuleHit[] {
    const hits: RuleHit[] = [];
    for (const v of verdicts) {
      if (v.cause !== 'write-after-peer-close') continue;
      const rst = v.rst.seg;
      const closer = rst.fromOrig;
      const writerM = c.milestones(!closer);
      const closerM = c.milestones(closer);
      const fin = closerM.fin;
      if (!fin) continue;
      // the first data the closer had not acknowledged when it sent FIN: after the FIN on the wire,
      // or crossing it (sent before the FIN arrived)
      const data = writerM.firstDataAfterPeerFin
        ?? c.evidence().find((s) => s.fromOrig !== closer && s.len > 0 && s.frame < rst.frame && s.seqRel + s.len > fin.ackRel) ?? null;
      if (!data) continue;
      const closerEp = c.ep(closer);
      const dataAckedFin = closerEp.finRel >= 0 && data.ackRel > closerEp.finRel;
      const variant = dataAckedFin ? 'bug' : 'race';
      const bytes = Math.max(writerM.dataAfterPeerFin, v.rst.receiverDataBeyondSenderFinAck);
      const writer = who(c, rec, !closer);
      const closerName = who(c, rec, closer);
      const summary = `${closerName} closed first (FIN, frame ${fin.frame}); ${writer} ${variant === 'bug' ? 'then' : 'meanwhile'} wrote ${bytes} byte(s) (frame ${data.frame})`
        + (variant === 'bug' ? ' after it had received that FIN' : ' before that FIN reached it (a race)')
        + `; ${closerName.replace(/^the /, 'the ')}'s kernel answered with RST (frame ${rst.frame}). `
        + (variant === 'bug'
          ? 'The writer read EOF (read() = 0) and wrote anyway: its next write fails with EPIPE and SIGPIPE.'
          : 'The FIN still arrived before the RST, so the writer\'s next write fails with EPIPE and SIGPIPE (ECONNRESET only if the FIN was lost).');
      hits.push({
        frame: rst.frame,
        frames: framesBetween(c, fin.frame, rst.frame),
        actor: actorOf(c, closer),
        summary,
        app: {
          [closer ? 'orig' : 'resp']: 'had called close(); its kernel reset the connection when data arrived',
          [closer ? 'resp' : 'orig']: variant === 'bug'
            ? 'read() returned 0 (EOF), the write() after it succeeded locally, then the next write() failed with EPIPE (SIGPIPE unless ignored or MSG_NOSIGNAL)'
            : 'write() succeeded locally (it was sent before the FIN arrived); read() then returned 0 (EOF), and the next write() failed with EPIPE (SIGPIPE unless ignored); ECONNRESET only if the FIN was lost',
        },
        evidence: {
          variant, finFrame: fin.frame, firstDataFrame: data.frame, bytesAfterFin: bytes,
          rstFrame: rst.frame, rstShape: v.shape, dataAckedFin,
        },
      });
    }
    return hits;
  },
};
