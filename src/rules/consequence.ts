/**
 * A finding that is the consequence of another finding on the same connection
 * is told as such (issue 17): `evidence.causedBy` names the cause (its rule
 * and key frame), its summary says it follows from it, the application's view
 * names the cause, and it is ranked with its cause: its severity is at most
 * the cause's, so a table ordered by severity, then frame, shows it right
 * after the cause instead of above it.
 *
 * The link made here: a RST that rst-suspicious finds forged and that its
 * receiver accepted (`survived` false) closed the receiver's socket. When that
 * receiver later answers the peer's data with a RST from no socket (half-open,
 * `stateless-rst` or `stateless-rst-after-close`), that is what the forged RST
 * left behind, not a restart, crash or timeout of the receiver.
 * (write-after-peer-close links itself to simultaneous-close in its own rule.)
 */
import type { Connection } from '../tcp/connection.js';
import { SEVERITY_RANK, type Finding } from './types.js';

const STATELESS = new Set(['stateless-rst', 'stateless-rst-after-close']);

/** The side ('orig'/'resp') that sent the RST of `frame`, or null when the connection's RST list lacks it. */
function rstSide(c: Connection, frame: unknown): 'orig' | 'resp' | null {
  for (const r of c.rsts) if (r.seg.frame === frame) return r.seg.fromOrig ? 'orig' : 'resp';
  return null;
}

const WHO: Record<string, string> = { client: 'the client', server: 'the server', orig: 'the originator', resp: 'the responder' };

/** Marks the findings of one connection (`found`, in place) that follow from another of them. */
export function linkConsequences(c: Connection, found: Finding[]): void {
  for (const cause of found) {
    if (cause.rule !== 'rst-suspicious' || cause.evidence.survived !== false) continue;
    const claimed = rstSide(c, cause.frame);
    if (claimed === null) continue;
    const victim = claimed === 'orig' ? 'resp' : 'orig';
    for (let i = 0; i < found.length; i++) {
      const f = found[i];
      if (f.rule !== 'half-open' || !STATELESS.has(f.evidence.kind as string) || f.frame <= cause.frame) continue;
      if (f.evidence.causedBy !== undefined || rstSide(c, f.evidence.rstFrame) !== victim) continue;
      const who = WHO[f.actor];
      found[i] = {
        ...f,
        severity: SEVERITY_RANK[f.severity] > SEVERITY_RANK[cause.severity] ? cause.severity : f.severity,
        summary: `${f.summary} This follows from the RST at frame ${cause.frame}, which looks forged (rst-suspicious): ${who}'s kernel accepted it and dropped the connection, so it had no socket for what came after; no restart, crash or timeout of ${who} is needed to explain it.`,
        app: { ...f.app, [victim]: `no socket any more: the forged RST (frame ${cause.frame}) had closed it` },
        evidence: { ...f.evidence, causedBy: { rule: cause.rule, frame: cause.frame } },
      };
    }
  }
}
