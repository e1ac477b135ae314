/**
 * Runs every rule over a connection as it closes out and turns hits into
 * findings. Rules are pure; a rule that throws is a bug, reported as an
 * internal error at the CLI boundary rather than hidden.
 */
import { tsSeconds } from '../capture/frame.js';
import { type Connection, RST_PAYLOAD_MAX, type RstRecord } from '../tcp/connection.js';
import type { ConnRecord } from '../tcp/record.js';
import { linkConsequences } from './consequence.js';
import { RULES } from './registry.js';
import { actorOf, rstVerdicts, type RstVerdict } from './teardown.js';
import {
  LOSS_MAX, lossNote, ONE_SIDED_MAX, oneSidedNote, otherDirectionMissing, restsOnSilence,
} from './one-sided.js';
import { MID_STREAM_MAX, midStreamNote, restsOnMissingStart } from './mid-stream.js';
import { SEVERITY_RANK, type Finding, type RuleHit } from './types.js';

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

/**
 * A RST that carried payload among a finding's frames (the key frame's first):
 * what it said, shown as it was sent (RstRecord.payload: printable text,
 * other bytes escaped, at most RST_PAYLOAD_MAX bytes). Some stacks and
 * middleboxes explain a reset this way ("Access Denied"; RFC 9293 3.5.3 allows
 * diagnostic data on a RST).
 */
function rstPayload(c: Connection, hit: RuleHit): { evidence: Record<string, unknown>; text: string } | null {
  let found: RstRecord | null = null;
  for (const r of c.rsts) {
    if (r.payload === null || !hit.frames.includes(r.seg.frame)) continue;
    if (found === null || r.seg.frame === hit.frame) found = r;
  }
  if (found === null) return null;
  const shown = Math.min(found.seg.len, RST_PAYLOAD_MAX);
  const cut = found.seg.len > shown ? ` (the first ${shown} of ${found.seg.len} bytes)` : '';
  return {
    evidence: { rstPayload: found.payload, rstPayloadBytes: found.seg.len, rstPayloadFrame: found.seg.frame },
    text: ` The RST (frame ${found.seg.frame}) carried ${found.seg.len} byte(s) of payload: "${found.payload}"${cut}.`,
  };
}

/**
 * The burst a finding's RST heads (RstVerdict.burst): its kernel's answers to
 * the other segments in flight, told with it once.
 */
function burstOf(verdicts: readonly RstVerdict[], hit: RuleHit): { evidence: Record<string, unknown>; text: string; frames: number[] } | null {
  const v = verdicts.find((x) => x.rst.seg.frame === hit.frame && x.burst.length > 0 && x.answers !== null);
  if (v === undefined) return null;
  const rsts = [v.rst.seg.frame, ...v.burst.map((b) => b.rst.seg.frame)];
  const answered = [v.answers!.frame, ...v.burst.map((b) => b.answers.frame)];
  return {
    evidence: { burstRstFrames: rsts, answeredFrames: answered },
    text: ` It is one of ${rsts.length} RSTs (frames ${rsts.join(', ')}), one for each segment in flight (frames ${answered.join(', ')}), each at that segment's ack: one answer from a kernel that no longer had an open socket for them, told here once.`,
    frames: [...rsts, ...answered],
  };
}

export function evaluateRules(c: Connection, rec: ConnRecord): Finding[] {
  const out: Finding[] = [];
  const ctx = { c, rec, verdicts: c.rstCount > 0 ? rstVerdicts(c) : NO_VERDICTS };
  const cut = c.evicted || c.afterEviction;
  const oneSided = otherDirectionMissing(c, rec);
  for (const rule of RULES) {
    for (const h of rule.evaluate(ctx)) {
      if (cut && restsOnCut(rule.id, c, h.evidence)) continue;
      let hit = h;
      if (c.rstCount > 0) {
        const burst = burstOf(ctx.verdicts, h);
        if (burst !== null) {
          hit = { ...hit, summary: hit.summary + burst.text, evidence: { ...hit.evidence, ...burst.evidence },
            frames: [...new Set([...hit.frames, ...burst.frames])].sort((a, b) => a - b) };
        }
        const payload = rstPayload(c, hit);
        if (payload !== null) hit = { ...hit, summary: hit.summary + payload.text, evidence: { ...hit.evidence, ...payload.evidence } };
      }
      let severity = hit.severity ?? rule.severity;
      if (oneSided && rule.id !== 'refused') {
        if (SEVERITY_RANK[severity] > SEVERITY_RANK[ONE_SIDED_MAX]) severity = ONE_SIDED_MAX;
        hit = { ...hit, summary: hit.summary + oneSidedNote(c, rec), evidence: { ...hit.evidence, seen: rec.seen } };
      }
      // seen from one side the one-sided note says what is missing; a record split off one whose handshake was seen
      // has its roles from there (actorOf names client and server)
      if (rec.roles !== undefined && !oneSided && actorOf(c, true) === 'orig') {
        const unsure = restsOnMissingStart(c, rec, rule.id, hit.evidence);
        if (unsure !== null && SEVERITY_RANK[severity] > SEVERITY_RANK[MID_STREAM_MAX]) severity = MID_STREAM_MAX;
        hit = { ...hit, summary: hit.summary + (unsure ?? '') + midStreamNote(rec), evidence: { ...hit.evidence, roles: rec.roles } };
      }
      const missed = rec.missedBytes ?? 0;
      if (missed > 0) {
        if (restsOnSilence(rule.id, hit.evidence) && SEVERITY_RANK[severity] > SEVERITY_RANK[LOSS_MAX]) severity = LOSS_MAX;
        hit = { ...hit, summary: hit.summary + lossNote(missed), evidence: { ...hit.evidence, missedBytes: missed } };
      }
      out.push({
        rule: rule.id,
        severity,
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
  if (out.length > 1) linkConsequences(c, out);
  return out;
}
