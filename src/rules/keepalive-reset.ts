/**
 * keepalive-reset: an idle connection kept alive by keep-alive probes (seq =
 * SND.UNA-1, zero or one byte; a probe sent while the peer advertised a zero
 * window is a zero-window probe and does not count) that then ends in RST.
 * Key frame: the RST. Reports the idle time before the reset. A connection
 * that resumes with probes after the idle timer closed its record is told
 * here too: the new record's probes are recognised against the sequence
 * numbers of the record before (src/tcp/link.ts).
 */
import type { Rule, RuleHit } from './types.js';
import { keepaliveAcrossSplit } from './patience.js';
import { actorOf, framesBefore, segTime, who } from './teardown.js';

export const rule: Rule = {
  id: 'keepalive-reset',
  title: 'Reset of an idle, kept-alive connection',
  severity: 'warning',
  explanation: 'The connection sat idle with TCP keep-alive probes going back and forth, then one side reset it. '
    + 'Typical of idle timeouts: a server, proxy or load balancer drops idle connections (with RST) while a '
    + 'client pool keeps them; the next request on that connection fails with ECONNRESET.',
  evaluate({ c, rec, verdicts }): RuleHit[] {
    const hits: RuleHit[] = [];
    for (const v of verdicts) {
      if (v.cause !== 'keepalive-reset') continue;
      const rst = v.rst.seg;
      // a record that continues one the idle timer closed: its probes and idle time count too (src/tcp/link.ts)
      const split = keepaliveAcrossSplit(c, rst.frame, segTime(rst));
      const origProbes = c.origM.keepaliveProbes + (split?.origProbes ?? 0);
      const respProbes = c.respM.keepaliveProbes + (split?.respProbes ?? 0);
      const probes = origProbes + respProbes;
      const idle = Math.round((split?.idleSec ?? v.rst.idleBeforeSec) * 1000) / 1000;
      // the side whose probes went unanswered before the reset, else the one that probed more
      const prober = split !== null ? split.origProbes >= split.respProbes : origProbes >= respProbes;
      hits.push({
        frame: rst.frame,
        frames: framesBefore(c, rst.frame),
        actor: actorOf(c, rst.fromOrig),
        summary: `the connection was idle for ${idle} s, kept alive by ${probes} keep-alive probe(s) from ${who(c, rec, prober)}; then ${who(c, rec, rst.fromOrig)} reset it (RST, frame ${rst.frame}): the next use of this connection fails with ECONNRESET.`,
        app: {
          [rst.fromOrig ? 'orig' : 'resp']: 'dropped the idle connection (idle timeout or abort)',
          [rst.fromOrig ? 'resp' : 'orig']: 'the next read() or write() on the pooled connection failed with ECONNRESET',
        },
        evidence: { idleSec: idle, probes, rstFrame: rst.frame, rstShape: v.shape },
      });
    }
    return hits;
  },
};
