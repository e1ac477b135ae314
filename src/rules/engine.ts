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

export function evaluateRules(c: Connection, rec: ConnRecord): Finding[] {
  const out: Finding[] = [];
  const ctx = { c, rec, verdicts: c.rstCount > 0 ? rstVerdicts(c) : NO_VERDICTS };
  for (const rule of RULES) {
    for (const hit of rule.evaluate(ctx)) {
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
