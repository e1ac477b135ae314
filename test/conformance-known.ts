/**
 * Today's disagreements with Zeek on the corpus, connection by connection, as
 * the built CLI (`flows -f json`) gives them: the expectation that
 * test/conformance.test.ts holds against test/conformance-known.json.
 *
 * Matching is the corpus README's (and scripts/conformance.ts's): unordered
 * endpoint pair plus the first packet's time in microseconds. A connection is
 * named by Zeek's originator 4-tuple and start time ("a:p > b:q @ts"), or by
 * ours for a connection Zeek has no row for. A disagreement is any difference
 * in conn_state or history, a Zeek row we have no connection for, or a
 * connection of ours Zeek has no row for. Traces Zeek ran without -C are run
 * with --checksums. The corpus is found through test/oracle.ts corpusTrace, so
 * it follows the corpus when it moves.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { corpusTrace } from './oracle.js';
import { runCli } from './helpers.js';

export interface Disagreement {
  /** "orig_ip:port > resp_ip:port @seconds.micros" */
  conn: string;
  /** Zeek's "conn_state history" ('-' for no history), null when Zeek has no row */
  zeek: string | null;
  /** ours, "conn_state history", null when we have no connection */
  ours: string | null;
}

interface ZeekConn { ts: number; orig_h: string; orig_p: number; resp_h: string; resp_p: number; conn_state: string; history?: string }
interface Manifest { traces: { file: string; run_options: Record<string, unknown>; connections: ZeekConn[] }[] }
interface OurConn { orig: { ip: string; port: number }; resp: { ip: string; port: number }; ts: number; state: string; history: string }

function pairKey(aIp: string, aPort: number, bIp: string, bPort: number, tsUs: number): string {
  const a = `${aIp}|${aPort}`;
  const b = `${bIp}|${bPort}`;
  return (a < b ? `${a}|${b}` : `${b}|${a}`) + `|${tsUs}`;
}

function name(oIp: string, oPort: number, rIp: string, rPort: number, ts: number): string {
  const us = Math.round(ts * 1e6);
  return `${oIp}:${oPort} > ${rIp}:${rPort} @${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
}

/** The corpus directory, found from one of its traces the way test/oracle.ts finds traces. */
export function corpusDir(someTrace: string): string {
  return dirname(dirname(corpusTrace(someTrace)));
}

/** Disagreements per trace file (file name without traces/), every trace of the manifest. */
export async function currentDisagreements(corpus: string): Promise<Record<string, Disagreement[]>> {
  const manifest = JSON.parse(readFileSync(join(corpus, 'manifest.json'), 'utf8')) as Manifest;
  const out: Record<string, Disagreement[]> = {};
  const run = async (t: Manifest['traces'][number]): Promise<void> => {
    const file = t.file.replace(/^traces\//, '');
    const args = ['flows', '-f', 'json', '-q', corpusTrace(file)];
    if (t.run_options['ignore_checksums_-C'] === false) args.push('--checksums');
    const r = await runCli(args, { timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(`flows ${file}: exit ${r.code}: ${r.stderr}`);
    const ours = (JSON.parse(r.stdout) as { connections: OurConn[] }).connections;
    const byKey = new Map<string, OurConn[]>();
    for (const c of ours) {
      const k = pairKey(c.orig.ip, c.orig.port, c.resp.ip, c.resp.port, Math.round(c.ts * 1e6));
      const l = byKey.get(k) ?? [];
      l.push(c);
      byKey.set(k, l);
    }
    const list: Disagreement[] = [];
    for (const z of t.connections) {
      const k = pairKey(z.orig_h, z.orig_p, z.resp_h, z.resp_p, Math.round(z.ts * 1e6));
      const c = byKey.get(k)?.shift();
      const zs = `${z.conn_state} ${z.history ?? '-'}`;
      const conn = name(z.orig_h, z.orig_p, z.resp_h, z.resp_p, z.ts);
      if (!c) { list.push({ conn, zeek: zs, ours: null }); continue; }
      if (c.state !== z.conn_state || (z.history !== undefined && c.history !== z.history)) {
        list.push({ conn, zeek: zs, ours: `${c.state} ${c.history}` });
      }
    }
    for (const rest of byKey.values()) {
      for (const c of rest) list.push({ conn: name(c.orig.ip, c.orig.port, c.resp.ip, c.resp.port, c.ts), zeek: null, ours: `${c.state} ${c.history}` });
    }
    out[file] = list;
  };
  // two at a time (the machine's cores)
  const queue = [...manifest.traces];
  await Promise.all([0, 1].map(async () => { for (let t = queue.shift(); t; t = queue.shift()) await run(t); }));
  const sorted: Record<string, Disagreement[]> = {};
  for (const t of manifest.traces) {
    const f = t.file.replace(/^traces\//, '');
    sorted[f] = out[f];
  }
  return sorted;
}
