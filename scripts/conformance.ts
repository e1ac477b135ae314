/**
 * Conformance with Zeek: runs the tracker on every trace of the Zeek corpus
 * (test/corpus/zeek, or $RSTSCOPE_ZEEK_CORPUS) and compares conn_state
 * and history with Zeek's own conn.log verdicts, connection by connection.
 * Matching (corpus README): unordered endpoint pair + first-packet time in
 * microseconds. Prints a per-trace table and the totals; `--json` prints the
 * numbers as JSON (used by the test that holds the result).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';
import { analyze } from '../src/analysis/analyze.js';
import type { ConnRecord } from '../src/tcp/record.js';

interface ZeekConn {
  ts: number; orig_h: string; orig_p: number; resp_h: string; resp_p: number; conn_state: string; history?: string;
}
interface Trace {
  file: string;
  run_options: Record<string, unknown>;
  capture: { link_types: unknown; encapsulated_tcp?: unknown };
  connections: ZeekConn[];
}

/** Traces left out of the totals (none since tunnels are opened: Teredo and GTP-U count, src/decode/tunnel.ts). */
export const EXCLUDED = new Set<string>();

export interface TraceResult {
  file: string;
  excluded: boolean;
  zeek: number;
  ours: number;
  matched: number;
  sameOrig: number;
  stateAgree: number;
  historyAgree: number;
  disagreements: string[];
}

export interface ConformanceSummary {
  traces: TraceResult[];
  total: { zeek: number; matched: number; stateAgree: number; historyAgree: number };
  stateAll: number;
  historyAll: number;
  stateMeanPerTrace: number;
  historyMeanPerTrace: number;
}

function key(aIp: string, aPort: number, bIp: string, bPort: number, tsUs: number): string {
  const a = `${aIp}|${aPort}`;
  const b = `${bIp}|${bPort}`;
  return (a < b ? `${a}|${b}` : `${b}|${a}`) + `|${tsUs}`;
}

/** The corpus bundled in test/corpus/zeek, or the folder $RSTSCOPE_ZEEK_CORPUS names. */
export function findCorpus(): string {
  // dist/scripts/conformance.js -> the repository root is two folders up
  const corpus = process.env.RSTSCOPE_ZEEK_CORPUS || resolve(dirname(fileURLToPath(import.meta.url)), '../../test/corpus/zeek');
  if (!existsSync(join(corpus, 'manifest.json'))) throw new Error(`Zeek corpus not found: no manifest.json in ${corpus}`);
  return corpus;
}

export async function runConformance(corpus = findCorpus()): Promise<ConformanceSummary> {
  const manifest = JSON.parse(readFileSync(join(corpus, 'manifest.json'), 'utf8')) as { traces: Trace[] };
  const traces: TraceResult[] = [];
  for (const t of manifest.traces) {
    const checksums = t.run_options['ignore_checksums_-C'] === false;
    const res = await analyze([join(corpus, t.file)], { checksums });
    const ours = new Map<string, ConnRecord[]>();
    for (const r of res.connections) {
      const k = key(r.orig.ip, r.orig.port, r.resp.ip, r.resp.port, Math.round(r.ts * 1e6));
      const list = ours.get(k) ?? [];
      list.push(r);
      ours.set(k, list);
    }
    const tr: TraceResult = {
      file: t.file.replace(/^traces\//, ''), excluded: false, zeek: t.connections.length, ours: res.connections.length,
      matched: 0, sameOrig: 0, stateAgree: 0, historyAgree: 0, disagreements: [],
    };
    tr.excluded = EXCLUDED.has(tr.file);
    for (const z of t.connections) {
      const k = key(z.orig_h, z.orig_p, z.resp_h, z.resp_p, Math.round(z.ts * 1e6));
      const list = ours.get(k);
      const r = list?.shift();
      if (!r) {
        tr.disagreements.push(`unmatched Zeek row ${z.orig_h}:${z.orig_p} > ${z.resp_h}:${z.resp_p} ${z.conn_state} ${z.history ?? ''}`);
        continue;
      }
      tr.matched++;
      if (r.orig.ip === z.orig_h && r.orig.port === z.orig_p) tr.sameOrig++;
      if (r.state === z.conn_state) tr.stateAgree++;
      if (z.history === undefined || r.history === z.history) tr.historyAgree++;
      if (r.state !== z.conn_state || (z.history !== undefined && r.history !== z.history)) {
        tr.disagreements.push(`${z.orig_h}:${z.orig_p} > ${z.resp_h}:${z.resp_p}: zeek ${z.conn_state} ${z.history ?? '-'}, ours ${r.state} ${r.history} (frames ${r.firstFrame}-${r.lastFrame})`);
      }
    }
    traces.push(tr);
  }
  const counted = traces.filter((t) => !t.excluded);
  const total = { zeek: 0, matched: 0, stateAgree: 0, historyAgree: 0 };
  for (const t of counted) {
    total.zeek += t.zeek;
    total.matched += t.matched;
    total.stateAgree += t.stateAgree;
    total.historyAgree += t.historyAgree;
  }
  const mean = (f: (t: TraceResult) => number) => counted.reduce((s, t) => s + f(t) / t.zeek, 0) / counted.length;
  return {
    traces,
    total,
    stateAll: total.stateAgree / total.zeek,
    historyAll: total.historyAgree / total.zeek,
    stateMeanPerTrace: mean((t) => t.stateAgree),
    historyMeanPerTrace: mean((t) => t.historyAgree),
  };
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

async function cli(): Promise<void> {
  const s = await runConformance();
  if (process.argv.includes('--json')) {
    process.stdout.write(JSON.stringify(s, null, 2) + '\n');
    return;
  }
  const t = new Table({ head: ['trace', 'zeek rows', 'ours', 'matched', 'same orig', 'conn_state', 'history'], style: { head: [], border: [] } });
  for (const r of s.traces) {
    t.push([r.file + (r.excluded ? ' (tunnel, not counted)' : ''), r.zeek, r.ours, r.matched, r.sameOrig, `${r.stateAgree}/${r.zeek}`, `${r.historyAgree}/${r.zeek}`]);
  }
  process.stdout.write(t.toString() + '\n');
  process.stdout.write(`conn_state agreement: ${pct(s.stateAll)} of ${s.total.zeek} connections, per-trace mean ${pct(s.stateMeanPerTrace)}\n`);
  process.stdout.write(`history agreement:    ${pct(s.historyAll)} of ${s.total.zeek} connections, per-trace mean ${pct(s.historyMeanPerTrace)}\n`);
  if (process.argv.includes('--verbose')) {
    for (const r of s.traces) for (const d of r.disagreements) process.stdout.write(`${r.file}: ${d}\n`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  cli().catch((e) => {
    process.stderr.write(`conformance: ${(e as Error).message}\n`);
    process.exitCode = 2;
  });
}
