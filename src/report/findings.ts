/**
 * Findings for people: the terminal table of `analyze`, the one-line form used
 * by `live`, and totals. JSON/NDJSON use the Finding object as it is.
 */
import { basename } from 'node:path';
import Table from 'cli-table3';
import type { Problem } from '../capture/problems.js';
import type { TrackerStats } from '../tcp/options.js';
import { notTcpSentence, nothingRead, unreadableSentence } from './coverage.js';
import { frameRef, inputHeader, type InputSummary } from './input-summary.js';
import { vantageNotable, vantageSentence } from './vantage.js';
import { formatEndpoint } from '../tcp/address.js';
import { SEVERITIES_WORST_FIRST, SEVERITY_RANK, severityCounts, type Finding, type Severity } from '../rules/types.js';
import { tunnelLabel, type ConnRecord } from '../tcp/record.js';

export function connLabel(rec: ConnRecord | undefined): string {
  if (!rec) return '?';
  const label = `${formatEndpoint(rec.orig.ip, rec.orig.port)} > ${formatEndpoint(rec.resp.ip, rec.resp.port)}`;
  return rec.tunnel === undefined ? label : `${label} (in ${tunnelLabel(rec.tunnel)})`;
}

/** One line per finding (live mode, table mode): "error write-after-peer-close frame 12 a > b: story". */
export function findingLine(f: Finding, rec?: ConnRecord): string {
  return `${f.severity.padEnd(7)} ${f.rule.padEnd(22)} frame ${String(f.frame).padEnd(7)} ${connLabel(rec)}  ${f.summary}`;
}

export interface Totals {
  connections: number;
  findings: number;
  byRule: Record<string, number>;
  bySeverity: Record<Severity, number>;
}

export function totals(connections: number, findings: Finding[]): Totals {
  const byRule: Record<string, number> = {};
  const bySeverity = severityCounts();
  for (const f of findings) {
    byRule[f.rule] = (byRule[f.rule] ?? 0) + 1;
    bySeverity[f.severity]++;
  }
  return { connections, findings: findings.length, byRule, bySeverity };
}

/**
 * The totals sentence of `analyze` (table) and `live`: "No teardown findings
 * in M connection(s)." or "N finding(s) in M connection(s): E error, W
 * warning, I info (rule n, ...)", rules by count, most first.
 */
export function totalsSentence(tot: Totals): string {
  if (tot.findings === 0) return `No teardown findings in ${tot.connections} connection(s).`;
  const severities = SEVERITIES_WORST_FIRST.map((s) => `${tot.bySeverity[s]} ${s}`).join(', ');
  const rules = Object.entries(tot.byRule).sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`).join(', ');
  return `${tot.findings} finding(s) in ${tot.connections} connection(s): ${severities} (${rules})`;
}

/** A finding kept for the table, with its connection's label (the record itself is not kept). */
interface KeptFinding {
  f: Finding;
  label: string;
}

/**
 * What the analyze table needs, gathered as connections close out, in memory
 * bounded by the number of rules: per rule the `maxRowsPerRule` earliest
 * findings (by input and key frame), and for the rest a count and a frame
 * range; totals by rule and severity. A flood of a million resets costs a few
 * kilobytes here, not a million records.
 */
export class FindingsDigest {
  connections = 0;
  readonly kept = new Map<string, KeptFinding[]>();
  readonly grouped = new Map<string, { severity: Severity; count: number; min: Finding; max: Finding }>();
  readonly byRule: Record<string, number> = {};
  readonly bySeverity: Record<Severity, number> = severityCounts();
  findings = 0;

  constructor(readonly maxRowsPerRule = 20) {}

  add(rec: ConnRecord, found: Finding[]): void {
    this.connections++;
    for (const f of found) {
      this.findings++;
      this.byRule[f.rule] = (this.byRule[f.rule] ?? 0) + 1;
      this.bySeverity[f.severity]++;
      let list = this.kept.get(f.rule);
      if (list === undefined) {
        list = [];
        this.kept.set(f.rule, list);
      }
      let spill: Finding = f;
      if (list.length < this.maxRowsPerRule || earlier(f, list[list.length - 1].f)) {
        const entry = { f, label: connLabel(rec) };
        let i = list.length;
        while (i > 0 && earlier(f, list[i - 1].f)) i--;
        list.splice(i, 0, entry);
        if (list.length <= this.maxRowsPerRule) continue;
        spill = list.pop()!.f;
      }
      const g = this.grouped.get(spill.rule);
      if (g === undefined) this.grouped.set(spill.rule, { severity: spill.severity, count: 1, min: spill, max: spill });
      else {
        g.count++;
        if (keyFrame(spill) < keyFrame(g.min)) g.min = spill;
        if (keyFrame(spill) > keyFrame(g.max)) g.max = spill;
      }
    }
  }

  totals(): Totals {
    return { connections: this.connections, findings: this.findings, byRule: { ...this.byRule }, bySeverity: { ...this.bySeverity } };
  }
}

/**
 * The merged frame number of a capture set's finding's key frame (its `frame`
 * is its file's own): set where findings are localized
 * (analysis/frame-refs.ts), read to order them.
 */
export const mergedKeyFrame = new WeakMap<object, number>();

/** A finding's key frame in the order of its input: the merged number in a capture set. */
function keyFrame(f: Finding): number {
  return mergedKeyFrame.get(f) ?? f.frame;
}

function earlier(a: Finding, b: Finding): boolean {
  return a.input < b.input || (a.input === b.input && keyFrame(a) < keyFrame(b));
}

/** A finding's key frame as the table names it (FILE#N in a capture set). */
function whereIs(f: Finding): string {
  return frameRef(f.frame, (f as Finding & { file?: string | null }).file);
}

/**
 * The analyze table: findings by severity (errors first), with key frame,
 * endpoints, rule and story. Beyond `maxRowsPerRule` per rule, findings are
 * grouped (count, first/last frame) so a flood does not print a million lines.
 */
export function findingsTable(inputs: InputSummary[], digest: FindingsDigest, run?: { problems: readonly Problem[]; stats: TrackerStats }): string {
  let out = '';
  for (const inp of inputs) {
    out += inputHeader(inp);
    for (const w of inp.warnings) out += `  warning: ${w}\n`;
    if (inp.vantage !== undefined && vantageNotable(inp.vantage)) out += `  vantage: ${vantageSentence(inp.vantage)}\n`;
  }
  // what the results cover (coverage.ts): nothing read is said instead of the totals
  // a capture set is one input of several files, each of which can be unreadable
  const files = inputs.reduce((n, i) => n + (i.files?.length ?? 1), 0);
  const unread = run ? unreadableSentence(run.problems, files) : null;
  const notTcp = run ? notTcpSentence(run.stats) : null;
  if (unread !== null && nothingRead(run!.problems, files)) return `${out}\n${unread}\n`;
  const coverage = `${notTcp !== null ? `${notTcp}\n` : ''}${unread !== null ? `${unread}\n` : ''}`;
  const rows: KeptFinding[] = [];
  for (const list of digest.kept.values()) rows.push(...list);
  rows.sort((a, b) => SEVERITY_RANK[b.f.severity] - SEVERITY_RANK[a.f.severity] || a.f.input - b.f.input || keyFrame(a.f) - keyFrame(b.f));
  if (rows.length === 0) {
    out += `\n${coverage}${totalsSentence(digest.totals())}\n`;
    return out;
  }
  // several files (inputs, or one set of them): the frame column names the file
  const named = inputs.length > 1 || inputs.some((i) => i.files !== undefined);
  const width = Math.max(50, Math.min(process.stdout.columns || 140, 180) - (named ? 100 : 84));
  const t = new Table({
    head: ['severity', 'rule', named ? 'file, frame' : 'frame', 'connection', 'what happened'],
    colWidths: [10, 24, named ? 24 : 8, 34, width],
    wordWrap: true,
    style: { head: [], border: [] },
  });
  for (const { f, label } of rows) {
    const inSet = (f as Finding & { file?: string | null }).file;
    const where = inSet !== undefined ? whereIs(f) : inputs.length > 1 ? `${basename(inputs[f.input]?.file ?? '?')} #${f.frame}` : String(f.frame);
    t.push([f.severity, f.rule, where, label, f.summary]);
  }
  const groups = [...digest.grouped].sort((a, b) => SEVERITY_RANK[b[1].severity] - SEVERITY_RANK[a[1].severity] || b[1].count - a[1].count);
  for (const [rule, g] of groups) {
    t.push([g.severity, rule, '…', `${g.count} more`, `${g.count} more ${rule} finding(s), frames ${whereIs(g.min)}–${whereIs(g.max)}; use --format json or ndjson for all of them`]);
  }
  out += t.toString() + '\n';
  out += `${coverage}${totalsSentence(digest.totals())}\n`;
  return out;
}
