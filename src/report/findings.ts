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
import { formatTime, type TimeFormat } from './time-format.js';
import { fitLines, wrapText } from './wrap.js';

export function connLabel(rec: ConnRecord | undefined): string {
  if (!rec) return '?';
  const label = `${formatEndpoint(rec.orig.ip, rec.orig.port)} > ${formatEndpoint(rec.resp.ip, rec.resp.port)}`;
  return rec.tunnel === undefined ? label : `${label} (in ${tunnelLabel(rec.tunnel)})`;
}

/**
 * One line per finding (live): "23:08:21.123456 error write-after-peer-close frame 12 a > b  story", the
 * key frame's time first when `time` is given.
 */
export function findingLine(f: Finding, rec?: ConnRecord, time?: { format: TimeFormat; origin: number | null }): string {
  const when = time === undefined ? '' : `${formatTime(f.ts, time.format, time.origin)} `;
  return `${when}${f.severity.padEnd(7)} ${f.rule.padEnd(22)} frame ${String(f.frame).padEnd(7)} ${connLabel(rec)}  ${f.summary}`;
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

/** How the analyze table is drawn: the width it must fit in, and how it shows times. */
export interface TableView {
  /** characters per line: no line of the table is longer */
  width: number;
  /** the time column's format (tshark's -t) */
  time: TimeFormat;
}

export const DEFAULT_VIEW: TableView = { width: 140, time: 'r' };

/** The story column's least width; below it the findings are a list (a paragraph each) instead of a table. */
const MIN_STORY = 30;

/**
 * Each path's shortest trailing part (the base name, then with as many parent
 * directories as needed) that no other path of `paths` ends with: what the
 * table calls each input, so two files of the same name in two directories are
 * told apart.
 */
export function uniqueNames(paths: readonly string[]): string[] {
  const parts = paths.map((p) => p.split('/').filter((x) => x !== ''));
  return parts.map((mine, i) => {
    for (let n = 1; n < mine.length; n++) {
      const tail = mine.slice(-n).join('/');
      if (parts.every((o, j) => j === i || paths[j] === paths[i] || !(o.length >= n && o.slice(-n).join('/') === tail))) return tail;
    }
    return paths[i];
  });
}

/**
 * The analyze table: findings by severity (errors first), with key frame,
 * time, endpoints, rule and story. Beyond `maxRowsPerRule` per rule, findings
 * are grouped (count, first/last frame) so a flood does not print a million
 * lines. It fits `view.width`: columns are sized to their contents, the story
 * takes the rest, and when the story would be narrower than MIN_STORY each
 * finding is a paragraph instead (list layout). No rule between rows.
 */
export function findingsTable(inputs: InputSummary[], digest: FindingsDigest, run?: { problems: readonly Problem[]; stats: TrackerStats },
  view: TableView = DEFAULT_VIEW): string {
  // the table's own lines fit by construction; the headers and sentences around it are wrapped
  return fitLines(tableText(inputs, digest, run, view), view.width);
}

function tableText(inputs: InputSummary[], digest: FindingsDigest, run: { problems: readonly Problem[]; stats: TrackerStats } | undefined,
  view: TableView): string {
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
  const names = uniqueNames(inputs.map((i) => i.file));
  const cells: string[][] = rows.map(({ f, label }) => {
    const inSet = (f as Finding & { file?: string | null }).file;
    const where = inSet !== undefined ? whereIs(f) : inputs.length > 1 ? `${names[f.input] ?? '?'} #${f.frame}` : String(f.frame);
    return [f.severity, f.rule, where, formatTime(f.ts, view.time, inputs[f.input]?.firstTs ?? null), label, f.summary];
  });
  const groups = [...digest.grouped].sort((a, b) => SEVERITY_RANK[b[1].severity] - SEVERITY_RANK[a[1].severity] || b[1].count - a[1].count);
  for (const [rule, g] of groups) {
    cells.push([g.severity, rule, '…', '', `${g.count} more`, `${g.count} more ${rule} finding(s), frames ${whereIs(g.min)}–${whereIs(g.max)}; use --format json or ndjson for all of them`]);
  }
  const head = ['severity', 'rule', named ? 'file, frame' : 'frame', view.time === 'r' ? 'time (s)' : 'time', 'connection', 'what happened'];
  // each column as wide as its widest cell (within bounds) plus its padding; the story gets the rest
  const fit = (i: number, min: number, max: number): number =>
    Math.min(max, Math.max(min, head[i].length, ...cells.map((c) => c[i].length))) + 2;
  const widths = [fit(0, 8, 8), fit(1, 4, 22), fit(2, 5, 24), fit(3, 4, 26), fit(4, 12, 34), 0];
  const borders = head.length + 1;
  const used = (): number => widths.reduce((a, b) => a + b, 0) + borders;
  // narrow the connection column (it wraps) before giving up on the table
  if (view.width - used() < MIN_STORY + 2) widths[4] = Math.max(22, widths[4] - (MIN_STORY + 2 - (view.width - used())));
  widths[5] = view.width - used();
  if (widths[5] < MIN_STORY + 2) return out + listLayout(head, cells, view.width) + `${coverage}${totalsSentence(digest.totals())}\n`;
  const t = new Table({
    head,
    colWidths: widths,
    wordWrap: false,
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of cells) t.push(row.map((text, i) => wrapText(text, widths[i] - 2).join('\n')));
  out += t.toString() + '\n';
  out += `${coverage}${totalsSentence(digest.totals())}\n`;
  return out;
}

/** The findings as paragraphs: "severity rule frame time", then the connection and the story, indented, each line within `width`. */
function listLayout(head: string[], cells: string[][], width: number): string {
  let out = '\n';
  for (const [severity, rule, where, time, label, story] of cells) {
    const title = [severity, rule, `${head[2]} ${where}`, time === '' ? '' : `${head[3]} ${time}`].filter((x) => x !== '').join('  ');
    for (const l of wrapText(title, width)) out += `${l}\n`;
    for (const l of wrapText(label, width - 2)) out += `  ${l}\n`;
    for (const l of wrapText(story, width - 2)) out += `  ${l}\n`;
    out += '\n';
  }
  return out;
}
