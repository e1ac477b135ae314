/**
 * The incident-review report model (`rstscope report`): everything the HTML
 * and Markdown writers lay out, built while the capture streams by.
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
 *
 * Payload previews are read in a second pass over the inputs that have worked
 * examples, for the data-carrying frames of those examples only (the tracker
 * keeps no payload bytes).
 */
import { readFileSync } from 'node:fs';
import { readCaptureFile } from '../capture/reader.js';
import type { Frame } from '../capture/frame.js';
import { tsSeconds } from '../capture/frame.js';
import { describeProblem, type Problem } from '../capture/problems.js';
import { decodeFrame } from '../decode/decoder.js';
import { DecodeResult, newPacket, TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from '../decode/packet.js';
import { Analyzer, type InputSummary } from '../cli/pipeline.js';
import { actorOf } from '../rules/teardown.js';
import { RULES, findRule } from '../rules/registry.js';
import { SEVERITIES, SEVERITY_RANK, severityCounts, type Actor, type Finding, type Severity } from '../rules/types.js';
import { HEAD_SEGMENTS, type Connection } from '../tcp/connection.js';
import { formatEndpoint } from '../tcp/address.js';
import type { ConnRecord } from '../tcp/record.js';
import type { TrackerOptions, TrackerStats } from '../tcp/tracker.js';

export const MAX_GROUP_STREAMS = 20;
export const MAX_RST_SENDERS = 50_000;
export const TIMELINE_BINS = 60;
/** payload frames previewed per worked example */
export const MAX_PREVIEWS_PER_EXAMPLE = 8;

export interface ReportOptions {
  /** worked examples (detailed entries) at most, besides one per rule */
  maxDetails: number;
  /** rows of the finding-group index at most */
  maxGroups: number;
  /** payload bytes shown per data segment (0: none) */
  payloadBytes: number;
}

export const DEFAULT_REPORT_OPTIONS: ReportOptions = { maxDetails: 50, maxGroups: 500, payloadBytes: 48 };

/** One packet of a worked example, copied out of the connection's evidence. */
export interface LadderSeg {
  frame: number;
  /** seconds since the epoch (microsecond precision) */
  ts: number;
  fromOrig: boolean;
  flags: number;
  seqRel: number;
  /** -1 when the ACK flag is not set or unknown */
  ackRel: number;
  len: number;
  win: number;
  ttl: number;
  /** -1 for IPv6 */
  ipId: number;
  retrans: boolean;
  /** printable preview of the payload (escaped as JS-like text), when read */
  payload?: string;
  /** payload bytes beyond the preview, or not captured */
  payloadMore?: boolean;
}

export interface Example {
  finding: Finding;
  rec: ConnRecord;
  ipVersion: number;
  /** role names of the two lanes */
  origRole: Actor;
  respRole: Actor;
  segments: LadderSeg[];
  /** segments of the connection the tracker did not keep (between its first and last stored ones) */
  notStored: number;
  /** total segments of the connection */
  totalSegments: number;
}

export interface Group {
  id: number;
  input: number;
  rule: string;
  severity: Severity;
  origIp: string;
  respIp: string;
  respPort: number;
  count: number;
  firstTs: number;
  lastTs: number;
  firstFrame: number;
  lastFrame: number;
  /** distinct originator ports seen (stops counting exactly at 1000) */
  origPorts: Set<number>;
  streams: number[];
  example: Example | null;
}

export interface RstSender {
  /** "ip" for an originator, "ip:port" for a responder */
  endpoint: string;
  role: 'originator' | 'responder';
  rsts: number;
  /** rule id (or "no finding") -> RSTs */
  causes: Record<string, number>;
}

export interface TimelineBin {
  start: number;
  end: number;
  error: number;
  warning: number;
  info: number;
}

export interface ReportModel {
  tool: { name: string; version: string };
  inputs: InputSummary[];
  problems: string[];
  /** the input problems as data (for the exit code) */
  rawProblems: Problem[];
  connections: number;
  findings: number;
  rstPackets: number;
  byRule: { rule: string; title: string; severity: Severity; count: number; groups: number }[];
  bySeverity: Record<Severity, number>;
  rstSenders: RstSender[];
  rstSendersTotal: number;
  timeline: { start: number; end: number; bins: TimelineBin[]; max: number } | null;
  /** sorted: severity (error first), count, first time */
  groups: Group[];
  options: ReportOptions;
  stats: TrackerStats;
  evicted: number;
}

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
    const key = `${f.input}|${f.rule}|${f.severity}|${rec.orig.ip}|${rec.resp.ip}|${rec.resp.port}`;
    let g = this.groups.get(key);
    if (!g) {
      g = {
        id: this.nextGroupId++, input: f.input, rule: f.rule, severity: f.severity, origIp: rec.orig.ip,
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
  // frames are numbered from 1: a frame-0 record is an unwritten log slot, never a packet
  const segs = c.evidence().filter((s) => s.frame > 0);
  // RST records are stored apart and may fall outside the head/tail rings
  const extra = c.rsts.map((r) => r.seg).filter((s) => !segs.some((e) => e.frame === s.frame));
  const all = [...segs, ...extra].sort((a, b) => a.frame - b.frame);
  return {
    finding: f,
    rec,
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

export const hostPort = formatEndpoint;

/** "SYN/ACK", "FIN/PSH/ACK", "RST/ACK" (Wireshark-like order: SYN, FIN, RST, PSH, URG, ACK, ECE, CWR). */
export function flagNames(flags: number): string {
  const parts: string[] = [];
  if (flags & TCP_SYN) parts.push('SYN');
  if (flags & TCP_FIN) parts.push('FIN');
  if (flags & TCP_RST) parts.push('RST');
  if (flags & TCP_PSH) parts.push('PSH');
  if (flags & TCP_URG) parts.push('URG');
  if (flags & TCP_ACK) parts.push('ACK');
  if (flags & TCP_ECE) parts.push('ECE');
  if (flags & TCP_CWR) parts.push('CWR');
  return parts.join('/') || '(none)';
}

/**
 * Payload bytes as one line of text: printable ASCII kept, \r \n \t and other
 * bytes escaped (\xHH). The result is plain text; writers escape it for their
 * format like any other capture-derived string.
 */
export function previewText(b: Uint8Array): string {
  let s = '';
  for (const x of b) {
    if (x === 0x5c) s += '\\\\';
    else if (x >= 0x20 && x < 0x7f) s += String.fromCharCode(x);
    else if (x === 0x0d) s += '\\r';
    else if (x === 0x0a) s += '\\n';
    else if (x === 0x09) s += '\\t';
    else s += '\\x' + x.toString(16).padStart(2, '0');
  }
  return s;
}

/** Second pass: payload previews for the data segments of the worked examples. */
async function readPreviews(files: string[], examples: Example[], bytes: number): Promise<void> {
  if (bytes <= 0) return;
  const wanted = new Map<number, Map<number, LadderSeg[]>>();
  for (const ex of examples) {
    const key = ex.finding.frame;
    const data = ex.segments.filter((s) => s.len > 0)
      .sort((a, b) => Math.abs(a.frame - key) - Math.abs(b.frame - key)).slice(0, MAX_PREVIEWS_PER_EXAMPLE);
    if (data.length === 0) continue;
    let m = wanted.get(ex.finding.input);
    if (!m) wanted.set(ex.finding.input, (m = new Map()));
    for (const s of data) {
      const l = m.get(s.frame) ?? [];
      l.push(s);
      m.set(s.frame, l);
    }
  }
  const p = newPacket();
  for (const [input, frames] of wanted) {
    let last = 0;
    for (const k of frames.keys()) if (k > last) last = k;
    await readCaptureFile(files[input], (f: Frame) => {
      if (f.frameNo > last) return;
      const segs = frames.get(f.frameNo);
      if (!segs) return;
      if (decodeFrame(f, p, { checksums: false }) !== DecodeResult.Tcp) return;
      const start = p.tcpOffset + p.tcpHeaderLen;
      const n = Math.min(bytes, p.payloadCaptured);
      const text = previewText(f.buf.subarray(start, start + n));
      for (const s of segs) {
        s.payload = text;
        s.payloadMore = p.payloadLen > n;
      }
    });
  }
}

/** Reads the inputs and builds the report model. */
export async function buildReport(files: string[], opts: ReportOptions, tracker: Partial<TrackerOptions> & { version?: string } = {}): Promise<ReportModel> {
  const col = new ReportCollector(opts);
  const a = new Analyzer({ ...tracker, keepRecords: false, onConnection: col.onConnection });
  for (const file of files) {
    a.beginInput();
    const info = await readCaptureFile(file, a.onFrame);
    a.endInput(info);
  }
  const res = a.result();
  await readPreviews(files, col.examples(), opts.payloadBytes);
  const problems = res.infos.flatMap((i) => i.problems);
  return col.build({ inputs: res.inputs, problems, stats: res.stats }, tracker.version ?? packageVersion());
}

let cachedVersion: string | undefined;
export function packageVersion(): string {
  if (cachedVersion) return cachedVersion;
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      cachedVersion = String(JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')).version);
      return cachedVersion;
    } catch { /* try the next layout */ }
  }
  return (cachedVersion = 'unknown');
}

const fixCache = new Map<string, string>();
/**
 * The "## How to fix" section of docs/rules/<id>.md (Markdown), read from the
 * package's docs/ at run time; the rule's explanation when the page or the
 * section is missing.
 */
export function fixAdvice(ruleId: string): { markdown: string; fromDocs: boolean } {
  const cached = fixCache.get(ruleId);
  if (cached !== undefined) return { markdown: cached, fromDocs: true };
  if (/^[a-z0-9-]+$/.test(ruleId)) {
    for (const rel of ['../../../docs/rules/', '../../docs/rules/']) {
      let text: string;
      try {
        text = readFileSync(new URL(`${rel}${ruleId}.md`, import.meta.url), 'utf8');
      } catch {
        continue;
      }
      const m = /^## How to fix[^\n]*\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(text);
      if (m && m[1].trim()) {
        fixCache.set(ruleId, m[1].trim());
        return { markdown: m[1].trim(), fromDocs: true };
      }
    }
  }
  return { markdown: findRule(ruleId)?.explanation ?? '', fromDocs: false };
}

export function ruleTitle(id: string): string {
  return findRule(id)?.title ?? id;
}

/** UTC "2026-11-29 23:08:21.123456" */
export function utc(tsSec: number): string {
  const ms = Math.floor(tsSec * 1000);
  const us = Math.round((tsSec - Math.floor(tsSec)) * 1e6) % 1e6;
  const d = new Date(ms);
  // capture timestamps are untrusted: beyond Date's range toISOString() throws
  if (Number.isNaN(d.getTime())) return `${tsSec} s`;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}.${String(us).padStart(6, '0')}`;
}

/** A duration for people: "0.25 µs", "412 µs", "12.345 ms", "3.210 s", "2 h 03 min". */
export function duration(sec: number): string {
  const a = Math.abs(sec);
  if (a === 0) return '0 s';
  if (a < 1e-5) return `${(sec * 1e6).toFixed(2)} µs`;
  if (a < 1e-3) return `${Math.round(sec * 1e6)} µs`;
  if (a < 1) return `${(sec * 1e3).toFixed(3)} ms`;
  if (a < 120) return `${sec.toFixed(3)} s`;
  if (a < 7200) return `${Math.floor(a / 60)} min ${String(Math.floor(a % 60)).padStart(2, '0')} s`;
  return `${Math.floor(a / 3600)} h ${String(Math.floor((a % 3600) / 60)).padStart(2, '0')} min`;
}

/** Relative time in a connection: "+0.000000 s" style, fixed 6 decimals so columns align. */
export function rel(sec: number): string {
  return `${sec < 0 ? '-' : '+'}${Math.abs(sec).toFixed(6)}`;
}

/** Wireshark display filters for a worked example / group. */
export function wiresharkFilters(g: Group): { stream: string; key: string; frames: string; group: string } {
  const f = g.example?.finding;
  const frames = f ? f.frames.slice(0, 50) : [];
  return {
    stream: f ? `tcp.stream eq ${f.stream}` : '',
    key: f ? `frame.number == ${f.frame}` : '',
    frames: frames.length > 1 ? `frame.number in {${frames.join(' ')}}` : '',
    group: g.streams.length > 1 ? `tcp.stream in {${g.streams.join(' ')}}` : '',
  };
}

/** Describes an endpoint pair of a group: "192.0.2.1 > 198.51.100.2:443". */
export function groupEndpoints(g: Group): string {
  const o = g.origPorts.size === 1 ? hostPort(g.origIp, [...g.origPorts][0]) : g.origIp;
  return `${o} > ${hostPort(g.respIp, g.respPort)}`;
}
