/**
 * rst-with-unread-data: a side closed while data it had received was unread:
 * its kernel sends RST/ACK instead of FIN (RFC 2525 2.17; Linux tcp_close).
 * Key frame: the RST. Reports the unread byte count as the wire shows it
 * (bytes the peer sent after the closer's last data).
 */
import type { Rule, RuleHit } from './types.js';
import { actorOf, framesBetween, unansweredBytes, who } from './teardown.js';

export const rule: Rule = {
  id: 'rst-with-unread-data',
  title: 'Closed with unread data: RST instead of FIN',
  severity: 'warning',
  explanation: 'The application closed its socket while received data was still unread in the receive queue. '
    + 'The kernel then discards that data and sends RST instead of FIN (RFC 2525 2.17). The peer gets '
    + 'ECONNRESET, and may lose a response it was about to read.',
  evaluate({ c, rec, verdicts }): RuleHit[] {
    const hits: RuleHit[] = [];
    for (const v of verdicts) {
      if (v.cause !== 'rst-with-unread-data') continue;
      const rst = v.rst.seg;
      const unread = unansweredBytes(c, v.rst);
      const ev = c.evidence();
      // the first of the bytes unansweredBytes counts: scanning back from the RST to the closer's last payload,
      // the earliest new (not retransmitted) data of the peer. Those are the segments unansweredBytes sums, so
      // no stop on reaching `unread` is needed: nothing before the earliest of them adds to it.
      let firstUnread = rst.frame;
      for (let i = ev.length - 1; i >= 0; i--) {
        const s = ev[i];
        if (s.frame >= rst.frame) continue;
        if (s.fromOrig === rst.fromOrig) {
          if (s.len > 0) break;
        } else if (s.len > 0 && !s.retrans) firstUnread = s.frame;
      }
      hits.push({
        frame: rst.frame,
        frames: framesBetween(c, firstUnread, rst.frame),
        actor: actorOf(c, rst.fromOrig),
        summary: `${who(c, rec, !rst.fromOrig)} sent ${unread} byte(s) (from frame ${firstUnread}) that ${who(c, rec, rst.fromOrig)} never answered; it closed with that data unread, so its kernel sent RST/ACK (frame ${rst.frame}) instead of FIN: the peer gets ECONNRESET.`,
        app: {
          [rst.fromOrig ? 'orig' : 'resp']: 'close() returned 0; the unread data was discarded',
          [rst.fromOrig ? 'resp' : 'orig']: 'the next read() or write() failed with ECONNRESET ("connection reset by peer")',
        },
        evidence: { unreadBytes: unread, firstUnreadFrame: firstUnread, rstFrame: rst.frame, rstShape: v.shape, acceptance: v.rst.acceptance },
      });
    }
    return hits;
  },
};
