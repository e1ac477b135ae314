/**
 * abortive-close: RST without a FIN from a live socket (SO_LINGER 0, or an
 * application abort): pending data discarded. Key frame: the RST. Reports
 * bytes sent but never acknowledged at the time of the RST.
 */
import { TCP_ACK } from '../decode/packet.js';
import type { Segment } from '../tcp/connection.js';
import type { Rule, RuleContext, RuleHit } from './types.js';
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
      if (afterFin && r.receiverFinBefore && r.senderUnacked === 0) {
        // both had closed and nothing of the RST's sender was outstanding: the RST (instead of the last ACK) only
        // ends the peer's closed socket early; no application is left to see an error (issue 15: nDPI cloudflare-warp)
        hits.push({
          frame: rst.frame,
          frames: framesBefore(c, rst.frame),
          actor: actorOf(c, rst.fromOrig),
          severity: 'info',
          summary: `${who(c, rec, rst.fromOrig)} and ${who(c, rec, !rst.fromOrig)} had both closed (FINs); ${who(c, rec, rst.fromOrig)} then sent RST (frame ${rst.frame}) instead of a last ACK. `
            + 'That only ends the peer\'s closed socket early (no TIME_WAIT on this side): both applications had closed, so none sees an error.',
          app: {
            [rst.fromOrig ? 'orig' : 'resp']: 'had closed (FIN); its stack ended the connection with RST instead of a last ACK (SO_LINGER 0 after shutdown, or a stack that skips TIME_WAIT)',
            [rst.fromOrig ? 'resp' : 'orig']: 'had closed (FIN): no error reaches it',
          },
          evidence: { pendingBytes: 0, finSent: true, peerFinSent: true, rstFrame: rst.frame, rstShape: v.shape, acceptance: r.acceptance },
        });
        continue;
      }
      const m = c.milestones(rst.fromOrig);
      // a bare RST qualifies when the peer sent nothing at all: an attempt ended before any answer in the capture
      if (!c.milestones(!rst.fromOrig).sentAck && m.synCount > 0 && ((rst.flags & TCP_ACK) !== 0 || c.ep(!rst.fromOrig).pkts === 0)) {
        hits.push(handshakeGivenUp(c, rec, rst, m.synCount, m.bareSynFrame !== 0, c.milestones(!rst.fromOrig).bareSynFrame !== 0, v.shape, r.acceptance));
        continue;
      }
      const peerClosed = !afterFin && r.receiverFinBefore;
      hits.push({
        frame: rst.frame,
        frames: framesBefore(c, rst.frame),
        actor: actorOf(c, rst.fromOrig),
        summary: `${who(c, rec, rst.fromOrig)} aborted the connection with RST (frame ${rst.frame})${afterFin ? ' after its FIN' : ' without a FIN'}`
          + (r.senderUnacked > 0 ? `, discarding ${r.senderUnacked} byte(s) it had sent that were never acknowledged` : '')
          + (peerClosed
            ? `, after ${who(c, rec, !rst.fromOrig)}'s FIN: if that side had closed its socket, no error reaches it; if it had only shut down writing and still reads, that read fails with ECONNRESET (the wire cannot tell close() from shutdown()).`
            : `: ${who(c, rec, !rst.fromOrig)} sees ECONNRESET.`),
        app: {
          [rst.fromOrig ? 'orig' : 'resp']: 'closed abortively (SO_LINGER 0 or abort): close() returned at once, unsent data discarded',
          [rst.fromOrig ? 'resp' : 'orig']: peerClosed
            ? 'had sent its FIN: no error after close(); a read after shutdown(SHUT_WR) fails with ECONNRESET'
            : 'the next read() or write() failed with ECONNRESET',
        },
        evidence: { pendingBytes: r.senderUnacked, finSent: afterFin, rstFrame: rst.frame, rstShape: v.shape, acceptance: r.acceptance },
      });
    }
    return hits;
  },
};

/**
 * The peer never acknowledged anything and the RST's sender gave up on the handshake with RST/ACK. Told by what the
 * sender was: a listener whose SYN-ACKs went unanswered (nDPI gnutella.pcap: SYN-ACKs retransmitted for 66 s, then
 * the RST; nobody had a connection to see ECONNRESET on), or a connecting side (it sent a SYN without ACK): in a
 * simultaneous open (the peer's SYN crossed it, RFC 9293 3.5 figure 8) its SYN-ACK went unanswered; otherwise its
 * SYN got no acknowledgment at all. `segments` counts the sender's SYN-bearing segments as recorded (retries more
 * than 200 ms apart, at most MAX_SYN_TIMES), the bare SYN included for a connecting side.
 */
function handshakeGivenUp(c: RuleContext['c'], rec: RuleContext['rec'], rst: Segment, segments: number, connecting: boolean,
  peerSentSyn: boolean, shape: string, acceptance: string): RuleHit {
  const me = rst.fromOrig ? 'orig' : 'resp';
  const peer = rst.fromOrig ? 'resp' : 'orig';
  const sender = who(c, rec, rst.fromOrig);
  const other = who(c, rec, !rst.fromOrig);
  const base = { frame: rst.frame, frames: framesBefore(c, rst.frame), actor: actorOf(c, rst.fromOrig) };
  if (!connecting) {
    return {
      ...base,
      summary: `${sender} sent its SYN-ACK ${segments} time(s) and ${other} never acknowledged it; then it gave up on the handshake with RST (frame ${rst.frame}). The connection never completed: the listener's application never saw it, and the connecting side's connect() did not complete on it.`,
      app: {
        [me]: 'the half-open connection (SYN-RECV) was dropped; the application never saw it (no accept())',
        [peer]: 'no ACK of the SYN-ACK seen: its connect() did not complete on this connection (gone, or its ACKs were lost)',
      },
      evidence: { kind: 'handshake-abandoned', synAcks: segments, rstFrame: rst.frame, rstShape: shape, acceptance },
    };
  }
  if (peerSentSyn) {
    return {
      ...base,
      summary: `${sender} and ${other} both sent SYN (a simultaneous open) and ${other} never acknowledged ${sender}'s (${segments} handshake segment(s) from ${sender}, retries included); then ${sender} gave up on the handshake with RST (frame ${rst.frame}). The connect() of ${sender} never completed on this connection.`,
      app: {
        [me]: 'its connect() did not complete: it gave up on the handshake with RST',
        [peer]: 'never acknowledged the peer\'s SYN (gone, or its ACKs were not captured): if its connect() had completed, its next read() or write() failed with ECONNRESET',
      },
      evidence: { kind: 'handshake-abandoned', syns: segments, simultaneousOpen: true, rstFrame: rst.frame, rstShape: shape, acceptance },
    };
  }
  if ((rst.flags & TCP_ACK) === 0) {
    // nothing from the peer, and a bare RST: the sender abandoned its attempt (a stack that resets on close), or
    // the RST answers a SYN-ACK that took another path; no connection is shown either way, so information
    return {
      ...base,
      severity: 'info',
      summary: `${sender} sent SYN ${segments} time(s), then ended the attempt with a bare RST (frame ${rst.frame}) before any answer in the capture: it abandoned the attempt (a stack that resets on close), or the RST answers a SYN-ACK the capture does not have. No connection is shown; nobody is told ECONNRESET.`,
      app: {
        [me]: 'its connect() did not complete on what the capture shows (abandoned, or completed and then reset by itself)',
        [peer]: 'nothing of it in the capture',
      },
      evidence: { kind: 'handshake-abandoned', syns: segments, simultaneousOpen: false, rstFrame: rst.frame, rstShape: shape, acceptance },
    };
  }
  return {
    ...base,
    summary: `${sender} sent SYN ${segments} time(s) and ${other} never acknowledged it; then ${sender} ended its attempt with RST/ACK (frame ${rst.frame}). The connection never completed.`,
    app: {
      [me]: 'its connect() did not complete: the attempt ended with its own RST (an application abort, or a stack or middlebox that ends attempts so)',
      [peer]: 'no acknowledgment of the SYN seen: no connection was made on its side',
    },
    evidence: { kind: 'handshake-abandoned', syns: segments, simultaneousOpen: false, rstFrame: rst.frame, rstShape: shape, acceptance },
  };
}
