/**
 * Runs every rule over a connection as it closes out and turns hits into
 * findings. Rules are pure; a rule that throws is a bug, reported as an
 * internal error at the CLI boundary rather than hidden.
 */
import { tsSeconds } from '../capture/frame.js';
import type { Connection } from '../tcp/connection.js';
import type { ConnRecord } from '../tcp/record.js';
import { RULES } from './registry.js';
import { rstVerdicts, type RstVerdict } from './teardown.js';
import type { Finding } from './types.js';

const NO_VERDICTS: readonly RstVerdict[] = [];

export type { Finding } from './types.js';

function frameTime(c: Connection, frame: number): number {
  for (const s of c.evidence()) if (s.frame === frame) return tsSeconds(s.tsSec, s.tsNsec);
  for (const r of c.rsts) if (r.seg.frame === frame) return tsSeconds(r.seg.tsSec, r.seg.tsNsec);
  return frame === c.lastFrame ? tsSeconds(c.lastTsSec, c.lastTsNsec) : tsSeconds(c.firstTsSec, c.firstTsNsec);
}

/**
 * Verdicts that would rest on a record the tracker cut short (--max-connections:
 * the longest-idle connection is closed out early, `endReason: evicted`, and its
 * later packets start a new record) are not given (docs/robustness.md, "Connection cap"):
 * - on a record closed out by eviction: syn-unanswered and half-open (their
 *   unanswered-retransmission variant) say that nothing answered before the
 *   connection ended, but the record only stopped being watched: the SYN-ACK
 *   or the answer may be in the next record;
 * - on a record that continues an evicted one: half-open calls a RST
 *   socketless from the record's own history, which lacks its start (the
 *   peer's FIN that makes the same RST an answer to a write after close).
 * Every other rule tells what the record shows happening (a RST and what it
 * answered, a FIN then data, keep-alive probes, a SYN refused): eviction can
 * lose such a finding (its evidence split over two records), not invent one.
 */
function restsOnCut(rule: string, c: Connection, evidence: Record<string, unknown>): boolean {
  if (c.evicted && (rule === 'syn-unanswered' || (rule === 'half-open' && evidence.kind === 'unanswered-retransmissions'))) return true;
  return c.afterEviction && rule === 'half-open';
}

export function evaluateRules(c: Connection, rec: ConnRecord): Finding[] {
  const out: Finding[] = [];
  const ctx = { c, rec, verdicts: c.rstCount > 0 ? rstVerdicts(c) : NO_VERDICTS };
  const cut = c.evicted || c.afterEviction;
  for (const rule of RULES) {
    for (const hit of rule.evaluate(ctx)) {
      if (cut && restsOnCut(rule.id, c, hit.evidence)) continue;
      out.push({
        rule: rule.id,
        severity: hit.severity ?? rule.severity,
        connection: rec.id,
        input: rec.input,
        stream: rec.stream,
        uid: rec.uid,
        communityId: rec.communityId,
        frame: hit.frame,
        frames: hit.frames,
        ts: frameTime(c, hit.frame),
        actor: hit.actor,
        summary: hit.summary,
        app: hit.app,
        evidence: hit.evidence,
      });
    }
  }
  return out;
}
