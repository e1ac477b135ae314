/**
 * The report's collector: receives connections from the Analyzer as the
 * capture streams by and keeps what the report model (model.ts) needs.
 *
 * Memory guarantee: the collector never keeps a Finding or a ConnRecord per
 * connection. It keeps
 *   - one group per (input, rule, severity, originator IP, responder IP,
 *     responder port): counts, first/last time and frame, up to
 *     MAX_GROUP_STREAMS stream numbers;
 *   - one worked example (finding + record + copied evidence segments) for at
 *     most `maxDetails` groups, plus one per rule so every rule that fired has
 *     a worked example (at most RULES.length extra);
 *   - two numbers per finding for the timeline (time, severity), i.e. 9 bytes
 *     per finding;
 *   - one counter per RST-sending endpoint (bounded by MAX_RST_SENDERS).
 * A capture with 100,000 resets therefore yields a bounded report: the writers
 * cap the group index at `maxGroups` rows and the detailed entries at
 * `maxDetails`.
 */
import { tsSeconds } from '../capture/frame.js';
import { describeProblem, type Problem } from '../capture/problems.js';
import type { InputSummary } from './input-summary.js';
import { actorOf } from '../rules/teardown.js';
import { RULES } from '../rules/registry.js';
import { SEVERITIES, SEVERITY_RANK, severityCounts, type Finding, type Severity } from '../rules/types.js';
import { HEAD_SEGMENTS, type Connection } from '../tcp/connection.js';
import type { ConnRecord } from '../tcp/record.js';
import type { TrackerStats } from '../tcp/tracker.js';
import { hostPort } from './format.js';
import type { Example, Group, ReportModel, ReportOptions, RstSender, TimelineBin } from './model.js';

export const MAX_GROUP_STREAMS = 20;
export const MAX_RST_SENDERS = 50_000;
export const TIMELINE_BINS = 60;

/** Receives connections from the Analyzer and keeps what the report needs (bounded, see top). */
export class ReportCollector {
  connections = 0;
  findings = 0;
  rstPackets = 0;
  private readonly groups = new Map<string, Group>();
  /**
   * The groups that hold a worked example (at most maxDetails plus one per
   * rule), in the order they were created: the victim search looks at these,
   * not at every group (which made reports quadratic in the number of groups:
   * 110 s for the 2 M-packet bench capture's 102,053 findings).
   */
  private readonly withExample = new Set<Group>();
  private nextGroupId = 0;
  private detailed = 0;
  /** worked examples kept per rule */
  private readonly ruleExamples = new Map<string, number>();
  private ts = new Float64Array(1024);
  private sev = new Uint8Array(1024);
  private readonly senders = new Map<string, RstSender>();
  sendersDropped = 0;

  constructor(readonly opts: ReportOptions) {}

  readonly onConnection = (rec: ConnRecord, found: Finding[], c: Connection): void => {
    this.connections++;
    this.rstPackets += rec.rsts;
    for (const r of rec.resets) this.attributeRst(rec, r.frame, r.from === 'orig', found);
    for (const f of found) this.addFinding(rec, f, c);
  };

  private attributeRst(rec: ConnRecord, frame: number, fromOrig: boolean, found: Finding[]): void {
    const e = fromOrig ? rec.orig : rec.resp;
    const endpoint = fromOrig ? e.ip : hostPort(e.ip, e.port);
    let s = this.senders.get(endpoint);
    if (!s) {
      if (this.senders.size >= MAX_RST_SENDERS) {
        this.sendersDropped++;
        return;
      }
      s = { endpoint, role: fromOrig ? 'originator' : 'responder', rsts: 0, causes: {} };
      this.senders.set(endpoint, s);
    }
    s.rsts++;
    let cause = found.find((f) => f.frame === frame)?.rule;
    if (!cause) cause = found.find((f) => f.frames.includes(frame))?.rule ?? 'no finding';
    s.causes[cause] = (s.causes[cause] ?? 0) + 1;
  }

  private addFinding(rec: ConnRecord, f: Finding, c: Connection): void {
    const n = this.findings++;
    if (n === this.ts.length) {
      const ts = new Float64Array(n * 2); ts.set(this.ts); this.ts = ts;
      const sev = new Uint8Array(n * 2); sev.set(this.sev); this.sev = sev;
    }
    this.ts[n] = f.ts;
    this.sev[n] = SEVERITY_RANK[f.severity];
    // the variant is part of the key: one group, one story, one piece of advice (issue 15)
    const variant = typeof f.evidence.variant === 'string' ? f.evidence.variant : null;
    const key = `${f.input}|${f.rule}|${variant ?? ''}|${f.severity}|${rec.orig.ip}|${rec.resp.ip}|${rec.resp.port}`;
    let g = this.groups.get(key);
    if (!g) {
      g = {
        id: this.nextGroupId++, input: f.input, rule: f.rule, severity: f.severity, variant, origIp: rec.orig.ip,
        respIp: rec.resp.ip, respPort: rec.resp.port, count: 0, firstTs: f.ts, lastTs: f.ts,
        firstFrame: f.frame, lastFrame: f.frame, origPorts: new Set(), streams: [], example: null,
      };
      this.groups.set(key, g);
      this.maybeKeepExample(g, rec, f, c);
    }
    g.count++;
    if (f.ts < g.firstTs) g.firstTs = f.ts;
    if (f.ts > g.lastTs) g.lastTs = f.ts;
    if (f.frame < g.firstFrame) g.firstFrame = f.frame;
    if (f.frame > g.lastFrame) g.lastFrame = f.frame;
    if (g.origPorts.size < 1000) g.origPorts.add(rec.orig.port);
    if (g.streams.length < MAX_GROUP_STREAMS && !g.streams.includes(f.stream)) g.streams.push(f.stream);
  }

  /**
   * The first finding of a group becomes its worked example while fewer than
   * maxDetails are kept, or when its rule has none yet. Past the cap, a more
   * severe group takes the example slot of the least severe one (whose rule
   * keeps another example).
   */
  private maybeKeepExample(g: Group, rec: ConnRecord, f: Finding, c: Connection): void {
    const firstOfRule = !this.ruleExamples.get(g.rule);
    if (!firstOfRule && this.detailed >= this.opts.maxDetails) {
      let victim: Group | null = null;
      // an example is only ever given to a group when it is created, so this
      // set's order is the groups' order among those that hold one
      for (const o of this.withExample) {
        if (SEVERITY_RANK[o.severity] >= SEVERITY_RANK[g.severity]) continue;
        if ((this.ruleExamples.get(o.rule) ?? 0) < 2) continue; // keep one example per rule
        // the least severe; among equals the latest, so the earliest examples stay
        if (!victim || SEVERITY_RANK[o.severity] <= SEVERITY_RANK[victim.severity]) victim = o;
      }
      if (!victim) return;
      victim.example = null;
      this.withExample.delete(victim);
      this.detailed--;
      this.ruleExamples.set(victim.rule, this.ruleExamples.get(victim.rule)! - 1);
    }
    g.example = captureExample(rec, f, c);
    this.withExample.add(g);
    this.detailed++;
    this.ruleExamples.set(g.rule, (this.ruleExamples.get(g.rule) ?? 0) + 1);
  }

  /** Builds the model (sorts groups, bins the timeline). */
  build(a: { inputs: InputSummary[]; problems: Problem[]; stats: TrackerStats }, version: string): ReportModel {
    const groups = [...this.groups.values()].sort((x, y) => SEVERITY_RANK[y.severity] - SEVERITY_RANK[x.severity]
      || y.count - x.count || x.input - y.input || x.firstFrame - y.firstFrame);
    const byRuleMap = new Map<string, { count: number; groups: number; severity: Severity }>();
    for (const g of groups) {
      const e = byRuleMap.get(g.rule) ?? { count: 0, groups: 0, severity: g.severity };
      e.count += g.count;
      e.groups++;
      if (SEVERITY_RANK[g.severity] > SEVERITY_RANK[e.severity]) e.severity = g.severity;
      byRuleMap.set(g.rule, e);
    }
    const byRule = RULES.filter((r) => byRuleMap.has(r.id)).map((r) => ({ rule: r.id, title: r.title, ...byRuleMap.get(r.id)! }))
      .sort((x, y) => SEVERITY_RANK[y.severity] - SEVERITY_RANK[x.severity] || y.count - x.count);
    const bySeverity = severityCounts();
    for (let i = 0; i < this.findings; i++) bySeverity[SEVERITIES[this.sev[i]]]++;
    const senders = [...this.senders.values()].sort((x, y) => y.rsts - x.rsts || (x.endpoint < y.endpoint ? -1 : 1));
    return {
      tool: { name: 'rstscope', version },
      inputs: a.inputs,
      problems: a.problems.map((p) => describeProblem(p)),
      rawProblems: a.problems,
      connections: this.connections,
      findings: this.findings,
      rstPackets: this.rstPackets,
      byRule,
      bySeverity,
      rstSenders: senders.slice(0, 10),
      rstSendersTotal: this.senders.size + this.sendersDropped,
      timeline: this.timeline(a.inputs),
      groups,
      options: this.opts,
      stats: a.stats,
      evicted: a.stats.evicted,
    };
  }

  private timeline(inputs: InputSummary[]): ReportModel['timeline'] {
    let start = Infinity;
    let end = -Infinity;
    for (const i of inputs) {
      if (i.firstTs !== null && i.firstTs < start) start = i.firstTs;
      if (i.lastTs !== null && i.lastTs > end) end = i.lastTs;
    }
    if (!Number.isFinite(start) || !Number.isFinite(end)) return null;
    const span = end - start;
    const nBins = span > 0 ? TIMELINE_BINS : 1;
    const width = span > 0 ? span / nBins : 1;
    const bins: TimelineBin[] = [];
    for (let i = 0; i < nBins; i++) bins.push({ start: start + i * width, end: start + (i + 1) * width, error: 0, warning: 0, info: 0 });
    for (let i = 0; i < this.findings; i++) {
      let b = Math.floor((this.ts[i] - start) / width);
      if (b < 0) b = 0;
      if (b >= nBins) b = nBins - 1;
      bins[b][SEVERITIES[this.sev[i]]]++;
    }
    let max = 0;
    for (const b of bins) max = Math.max(max, b.error + b.warning + b.info);
    return { start, end, bins, max };
  }

  /** Examples kept, for the payload pass. */
  examples(): Example[] {
    const out: Example[] = [];
    for (const g of this.groups.values()) if (g.example) out.push(g.example);
    return out;
  }
}

function captureExample(rec: ConnRecord, f: Finding, c: Connection): Example {
  return { finding: f, rec, ...connectionLadder(c) };
}

/** The ladder of a connection: the packets the tracker kept, its two roles (the report's examples, `rstscope show`). */
export type ConnectionLadder = Omit<Example, 'finding' | 'rec'>;

/** A connection's ladder, copied out of its evidence (valid after the tracker reuses `c`). */
export function connectionLadder(c: Connection): ConnectionLadder {
  // frames are numbered from 1: a frame-0 record is an unwritten log slot, never a packet
  const segs = c.evidence().filter((s) => s.frame > 0);
  // RST records are stored apart and may fall outside the head/tail rings
  const extra = c.rsts.map((r) => r.seg).filter((s) => !segs.some((e) => e.frame === s.frame));
  const all = [...segs, ...extra].sort((a, b) => a.frame - b.frame);
  return {
    ipVersion: c.ipVersion,
    origRole: actorOf(c, true),
    respRole: actorOf(c, false),
    segments: all.map((s) => ({
      frame: s.frame, ts: tsSeconds(s.tsSec, s.tsNsec), fromOrig: s.fromOrig, flags: s.flags, seqRel: s.seqRel,
      ackRel: s.ackRel, len: s.len, win: s.win, ttl: s.ttl, ipId: c.ipVersion === 6 ? -1 : s.ipId, retrans: s.retrans,
    })),
    notStored: notKept(c.segments, all),
    totalSegments: c.segments,
  };
}

/**
 * Segments the tracker counted but did not keep. They all lie between the
 * last head segment and the first tail segment. There cannot be more of them
 * than there are frames between those two frames.
 */
function notKept(total: number, kept: { frame: number }[]): number {
  let n = Math.max(0, total - kept.length);
  if (n > 0 && kept.length > HEAD_SEGMENTS) n = Math.min(n, kept[HEAD_SEGMENTS].frame - kept[HEAD_SEGMENTS - 1].frame - 1);
  return n;
}
