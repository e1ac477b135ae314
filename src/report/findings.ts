/**
 * Findings for people: the terminal table of `analyze`, the one-line form used
 * by `live`, and totals. JSON/NDJSON use the Finding object as it is.
 */
import { basename } from 'node:path';
import Table from 'cli-table3';
import type { InputSummary } from '../cli/pipeline.js';
import type { Finding, Severity } from '../rules/types.js';
import type { ConnRecord } from '../tcp/record.js';

const SEV_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

function endpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function connLabel(rec: ConnRecord | undefined): string {
  if (!rec) return '?';
  return `${endpoint(rec.orig.ip, rec.orig.port)} > ${endpoint(rec.resp.ip, rec.resp.port)}`;
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
  const bySeverity: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const f of findings) {
    byRule[f.rule] = (byRule[f.rule] ?? 0) + 1;
    bySeverity[f.severity]++;
  }
  return { connections, findings: findings.length, byRule, bySeverity };
}

/**
 * The analyze table: findings by severity (errors first), with key frame,
 * endpoints, rule and story. Beyond `maxRows` per rule, findings are grouped
 * (count, first/last frame) so a flood does not print a million lines.
 */
export function findingsTable(inputs: InputSummary[], records: ConnRecord[], findings: Finding[], maxRowsPerRule = 20): string {
  const byId = new Map<number, ConnRecord>();
  for (const r of records) byId.set(r.id, r);
  let out = '';
  for (const inp of inputs) {
    out += `${inp.file}: ${inp.format}, ${inp.linkTypes.join('+') || 'no link type'}, ${inp.packets} packets\n`;
    for (const w of inp.warnings) out += `  warning: ${w}\n`;
  }
  const sorted = findings.slice().sort((a, b) => SEV_ORDER[a.severity] - SEV_ORDER[b.severity] || a.input - b.input || a.frame - b.frame);
  if (sorted.length === 0) {
    out += `\nNo teardown findings in ${records.length} connection(s).\n`;
    return out;
  }
  const width = Math.max(50, Math.min(process.stdout.columns || 140, 180) - (inputs.length > 1 ? 100 : 84));
  const t = new Table({
    head: ['severity', 'rule', inputs.length > 1 ? 'file, frame' : 'frame', 'connection', 'what happened'],
    colWidths: [10, 24, inputs.length > 1 ? 24 : 8, 34, width],
    wordWrap: true,
    style: { head: [], border: [] },
  });
  const shown = new Map<string, number>();
  // count and frame range only: a flood can group a million findings (no spread into Math.min: it overflows the stack)
  const grouped = new Map<string, { severity: Severity; count: number; minFrame: number; maxFrame: number }>();
  for (const f of sorted) {
    const n = shown.get(f.rule) ?? 0;
    if (n < maxRowsPerRule) {
      shown.set(f.rule, n + 1);
      const where = inputs.length > 1 ? `${basename(inputs[f.input]?.file ?? '?')} #${f.frame}` : String(f.frame);
      t.push([f.severity, f.rule, where, connLabel(byId.get(f.connection)), f.summary]);
    } else {
      const g = grouped.get(f.rule);
      if (g === undefined) grouped.set(f.rule, { severity: f.severity, count: 1, minFrame: f.frame, maxFrame: f.frame });
      else {
        g.count++;
        if (f.frame < g.minFrame) g.minFrame = f.frame;
        if (f.frame > g.maxFrame) g.maxFrame = f.frame;
      }
    }
  }
  for (const [rule, g] of grouped) {
    t.push([g.severity, rule, '…', `${g.count} more`, `${g.count} more ${rule} finding(s), frames ${g.minFrame}–${g.maxFrame}; use --format json for all of them`]);
  }
  out += t.toString() + '\n';
  const tot = totals(records.length, findings);
  const rules = Object.entries(tot.byRule).sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`).join(', ');
  out += `${tot.findings} finding(s) in ${tot.connections} connection(s): ${tot.bySeverity.error} error, ${tot.bySeverity.warning} warning, ${tot.bySeverity.info} info (${rules})\n`;
  return out;
}
