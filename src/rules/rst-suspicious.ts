/**
 * rst-suspicious: a RST its claimed sender is unlikely to have sent (forged or
 * injected by a middlebox): TTL unlike the sender's, IP ID out of series,
 * missing options the sender always sends, in-window but not exact sequence
 * (RFC 5961 3.2: draws a challenge ACK), or data from the sender after it.
 * Reports the evidence and whether the connection survived.
 */
import { TCP_ACK, TCP_RST } from '../decode/packet.js';
import type { Rule, RuleHit } from './types.js';
import { actorOf, who } from './teardown.js';

export const rule: Rule = {
  id: 'rst-suspicious',
  title: 'Suspicious RST (forged or injected)',
  severity: 'warning',
  explanation: 'A RST whose packet does not look like the rest of its claimed sender\'s traffic: another TTL, an '
    + 'IP ID out of series, missing options, an inexact sequence number, or the sender carrying on afterwards. '
    + 'Middleboxes (firewalls, IPS, censorship) and attackers inject such resets; RFC 5961 makes receivers answer '
    + 'inexact ones with a challenge ACK instead of dropping the connection.',
  evaluate({ c, rec, verdicts }): RuleHit[] {
    const hits: RuleHit[] = [];
    for (const v of verdicts) {
      if (v.cause !== 'rst-suspicious') continue;
      const rst = v.rst.seg;
      const ev = c.evidence();
      // challenge ACK: the receiver's next segment, a pure ACK right after
      let challengeAckFrame: number | null = null;
      let survived = false;
      for (const s of ev) {
        // Stryker disable next-line EqualityOperator: `<=` as `<` is equivalent: the segment of rst.frame is the RST itself, from its claimed sender, which neither test below takes (the line's `>`, killed, is hidden with it)
        if (s.frame <= rst.frame) continue;
        if (challengeAckFrame === null && s.fromOrig !== rst.fromOrig && (s.flags & TCP_ACK) && !(s.flags & TCP_RST) && s.len === 0) challengeAckFrame = s.frame;
        // survived: the side the RST was aimed at carried on (a killed socket answers only with RSTs)
        if (s.fromOrig !== rst.fromOrig && !(s.flags & TCP_RST)) survived = true;
      }
      if (v.rst.acceptance !== 'in-window') challengeAckFrame = null;
      const frames = [rst.frame];
      if (challengeAckFrame !== null) frames.push(challengeAckFrame);
      hits.push({
        frame: rst.frame,
        frames,
        actor: actorOf(c, rst.fromOrig),
        summary: `a RST claiming to come from ${who(c, rec, rst.fromOrig)} (frame ${rst.frame}) looks forged: ${v.suspicion.join('; ')}. `
          + (survived ? 'The connection survived it' + (challengeAckFrame ? ` (challenge ACK, frame ${challengeAckFrame}).` : '.') : 'The connection ended with it.'),
        app: {
          [rst.fromOrig ? 'orig' : 'resp']: 'did not send this RST (as far as the wire shows)',
          [rst.fromOrig ? 'resp' : 'orig']: survived ? 'nothing: the RST was not accepted' : 'ECONNRESET on its next read() or write()',
        },
        evidence: {
          reasons: v.suspicion, ttl: rst.ttl, ipId: rst.ipId < 0 ? null : rst.ipId, acceptance: v.rst.acceptance, survived, challengeAck: challengeAckFrame !== null, challengeAckFrame,
          // null when the claimed sender sent nothing but RSTs before it
          senderTtl: v.rst.senderTtlMax < 0 ? null : v.rst.senderTtlMin === v.rst.senderTtlMax ? v.rst.senderTtlMin : [v.rst.senderTtlMin, v.rst.senderTtlMax],
          rstShape: v.shape,
        },
      });
    }
    return hits;
  },
};
