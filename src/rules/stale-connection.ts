/**
 * stale-connection: a SYN met an older connection on the same ports. The
 * peer answered the SYN with an ACK for another sequence (not ISN+1: it still
 * held a connection it never saw end, and answered the SYN with that
 * connection's ACK, RFC 5961 4 / RFC 9293 3.10.7.4), the SYN-SENT socket
 * answered that ACK with a bare RST at its ack (RFC 9293 3.10.7.3), which
 * clears the stale connection, and connect() waits for the SYN's
 * retransmission. Key frame: the RST. RFC 793 calls this half-open connection
 * discovery; here the connecting side is the one that lives on.
 */
import type { Rule, RuleHit } from './types.js';
import { actorOf, who } from './teardown.js';

export const rule: Rule = {
  id: 'stale-connection',
  title: 'SYN met a stale connection on the same ports',
  severity: 'warning',
  explanation: 'The peer still held an older connection on the same addresses and ports (it never saw that '
    + 'connection end: a lost FIN or RST, a restarted client, a NAT reusing the port). It answered the new SYN '
    + 'with an ACK for the old connection instead of a SYN-ACK; the connecting socket, in SYN-SENT, answered that '
    + 'ACK with a RST at its acknowledgment number, which resets the old connection, and then retransmits its SYN: '
    + 'Linux at once (a few milliseconds: it expects this case), Windows after its retransmission timeout (3 s), '
    + 'so connect() is delayed by that long.',
  evaluate({ c, rec, verdicts }): RuleHit[] {
    const hits: RuleHit[] = [];
    for (const v of verdicts) {
      if (v.cause !== 'stale-connection' || v.answers === null) continue;
      const rst = v.rst.seg;
      const ack = v.answers;
      const syns = c.milestones(rst.fromOrig);
      // The RST's sender was in SYN-SENT (synSentAnswer), which only a SYN of its own in this record puts a
      // side in (state-machine.ts), and a side's first SYN is always kept (evidence.ts syn): never empty.
      const synFrame = syns.synFrames[0];
      const firstSynTime = syns.synTimes[0];
      const isn = c.ep(rst.fromOrig).isn >>> 0;
      // The retried SYN. The RST closed its sender's endpoint (a RST in SYN-SENT always does), and after a
      // close any SYN on these ports starts a new record (flow-table.ts isReuse): the retry, when the capture
      // has it, is the SYN that closed this record out as 'reused' (a record closed by its timer before the
      // retry does not know it; a SYN-ACK, which stays in the record, is no retry of connect()).
      const retryFrame = c.endReason === 'reused' ? c.reuseFrame : null;
      const sameIsn = (c.reuseSeq >>> 0) === isn; // read only with a retry
      const delaySec = retryFrame === null ? null : Math.round((c.reuseTime - firstSynTime) * 1000) / 1000;
      const me = who(c, rec, rst.fromOrig);
      const peer = who(c, rec, !rst.fromOrig);
      let retry: string;
      let connectView = 'connect() is delayed until its SYN is retransmitted; no error';
      if (delaySec === null) {
        retry = `connect() waits for the SYN's retransmission (Linux sends it at once, Windows after 3 s)${c.endReason === 'end' ? '; the capture ends before it' : ''}.`;
      } else {
        const delay = delaySec < 0.1 ? `${Math.round(delaySec * 1000)} ms` : `${delaySec.toFixed(1)} s`;
        if (sameIsn) {
          retry = `the same SYN (same ISN) went out again ${delay} after the first (frame ${retryFrame}): connect() was delayed by ~${delay}.`;
          connectView = `connect() took ~${delay} longer (its first SYN met the stale connection); no error`;
        } else retry = `a new SYN (another ISN) followed ${delay} after the first (frame ${retryFrame}).`;
      }
      hits.push({
        frame: rst.frame,
        // in capture order: the peer had sent nothing in this record before that first SYN (a side enters
        // SYN-SENT only while its peer is silent), and the RST came after the ACK it answers (rstPairs)
        frames: [synFrame, ack.frame, rst.frame],
        actor: actorOf(c, !rst.fromOrig),
        summary: `${me}'s SYN (frame ${synFrame}) met a stale connection: ${peer} answered with an ACK `
          + `for another sequence (frame ${ack.frame}, ack ${ack.ack} instead of ${(isn + 1) >>> 0}), as it does for a connection it still holds `
          + `on these ports; the SYN-SENT socket answered with RST (frame ${rst.frame}, seq = that ack), which clears the stale connection, and `
          + retry,
        app: {
          [rst.fromOrig ? 'orig' : 'resp']: connectView,
          [rst.fromOrig ? 'resp' : 'orig']: 'the old connection is reset: an application still holding it gets ECONNRESET on its next read() or write(); one in TIME_WAIT just ends',
        },
        evidence: {
          synFrame, staleAckFrame: ack.frame, rstFrame: rst.frame, staleAck: ack.ack, expectedAck: (isn + 1) >>> 0,
          retrySynFrame: retryFrame, retrySameIsn: retryFrame === null ? null : sameIsn, delaySec,
        },
      });
    }
    return hits;
  },
};
