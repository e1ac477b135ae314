/** simultaneous-open: both sides sent SYN without ACK before seeing the other's SYN (RFC 9293 3.5, figure 8). */
import type { Rule, RuleHit } from './types.js';
import { actorOf, who } from './teardown.js';

export const rule: Rule = {
  id: 'simultaneous-open',
  title: 'Simultaneous open',
  severity: 'info',
  explanation: 'Both sides called connect() towards each other and their SYNs crossed: each answered the other\'s '
    + 'SYN with SYN-ACK and one connection resulted (RFC 9293 3.5). Legal, rare, and seen with NAT traversal or '
    + 'peers that dial each other; a program connecting to its own port can also do it.',
  evaluate({ c, rec }): RuleHit[] {
    const fa = c.origM.bareSynFrame;
    const fb = c.respM.bareSynFrame;
    if (fa === 0 || fb === 0) return [];
    const first = { frame: Math.min(fa, fb), fromOrig: fa < fb };
    const second = { frame: Math.max(fa, fb), fromOrig: fa > fb };
    return [{
      frame: second.frame,
      frames: [first.frame, second.frame],
      actor: actorOf(c, second.fromOrig),
      summary: `${who(c, rec, first.fromOrig)} and ${who(c, rec, second.fromOrig)} both sent SYN (frames ${first.frame} and ${second.frame}) before seeing the other's: a simultaneous open.`,
      // a side's connect() completed when the peer acknowledged its SYN (a SYN-ACK or an ACK from the peer); a
      // handshake given up or not captured is told as such, not as a success
      app: { orig: connected(c.respM.sentAck), resp: connected(c.origM.sentAck) },
      evidence: { firstSynFrame: first.frame, secondSynFrame: second.frame },
    }];
  },
};

function connected(peerAcked: boolean): string {
  return peerAcked ? 'connect() succeeded' : 'connect() did not complete on this connection (no acknowledgment of its SYN seen)';
}
