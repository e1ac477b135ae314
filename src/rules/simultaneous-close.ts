/**
 * simultaneous-close: both FINs were sent before either side had received the
 * other's (each FIN's ack does not cover the peer's FIN; RFC 9293 3.6 case 3).
 * Key frame: the second FIN. The test itself is close-order.ts (shared with
 * write-after-peer-close, which names this finding as the cause of RSTs that
 * answer data crossing the two closes).
 */
import { crossedFins } from './close-order.js';
import type { Rule, RuleHit } from './types.js';
import { actorOf, who } from './teardown.js';

export const rule: Rule = {
  id: 'simultaneous-close',
  title: 'Simultaneous close',
  severity: 'info',
  explanation: 'Both applications closed at about the same time: each FIN left before the other side\'s FIN '
    + 'arrived, so both sides go through CLOSING to TIME_WAIT (RFC 9293 3.6). Harmless; both ends keep TIME_WAIT.',
  evaluate({ c, rec }): RuleHit[] {
    const x = crossedFins(c);
    if (!x) return [];
    const { first, second } = x;
    return [{
      frame: second.frame,
      frames: [first.frame, second.frame],
      actor: actorOf(c, second.fromOrig),
      summary: `${who(c, rec, first.fromOrig)} (FIN, frame ${first.frame}) and ${who(c, rec, second.fromOrig)} (FIN, frame ${second.frame}) closed at the same time: neither FIN acknowledged the other.`,
      app: { orig: 'close() completed normally', resp: 'close() completed normally' },
      evidence: { firstFinFrame: first.frame, secondFinFrame: second.frame },
    }];
  },
};
