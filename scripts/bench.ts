/**
 * `npm run bench`: end-to-end speed and memory of rstscope against a bare
 * record walk and other TCP tools, plus rule precision/recall on synthetic
 * captures whose truth is known (scripts/gen-capture.ts).
 *
 *   node dist/scripts/bench.js [--packets N] [--concurrent N] [--runs N] [--ext-runs N]
 *        [--seed N] [--quick] [--no-ext] [--no-accuracy] [--json FILE] [--max-connections N]
 *        [--capture FILE (an existing capture; its truth is FILE.truth.ndjson)] [--tools flows,analyze,walk,ext]
 *
 * Method (docs/performance.md):
 * - the capture is generated once under bench-data/ (git-ignored) and reused
 *   while its `.meta.json` says it is complete and was made with the same parameters;
 * - the file is read once before timing so every tool starts with a warm page cache;
 * - every tool runs as its own process, stdout to /dev/null, `--runs` times
 *   (external tools `--ext-runs` times); the table shows the median wall time
 *   and the largest peak RSS, both from /usr/bin/time (%e, %M) when present,
 *   else wall time from the parent and RSS from /proc/PID/status polling;
 * - ratio = the tool's median wall time / rstscope flows' median wall time.
 * Accuracy: `analyze --format ndjson` is run once more; every finding is
 * matched through its connection line (4-tuple, first frame) to the truth file.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, unlinkSync, existsSync, mkdirSync, openSync, readFileSync, readSync, closeSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import Table from 'cli-table3';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DATA = join(ROOT, 'bench-data');
const TIME = '/usr/bin/time';

interface Opts {
  packets: number;
  concurrent: number;
  runs: number;
  extRuns: number;
  seed: number;
  ext: boolean;
  accuracy: boolean;
  json: string;
  maxConnections: number;
  capture: string;
  /** which measurements: flows, analyze, walk, ext */
  tools: Set<string>;
}

function parseArgs(argv: string[]): Opts {
  const o: Opts = {
    packets: 2_000_000, concurrent: 20_000, runs: 3, extRuns: 1, seed: 1, ext: true, accuracy: true, json: '', maxConnections: 0, capture: '', tools: new Set(['flows', 'analyze', 'walk', 'ext']),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    if (a === '--packets') o.packets = Number(v());
    else if (a === '--concurrent') o.concurrent = Number(v());
    else if (a === '--runs') o.runs = Number(v());
    else if (a === '--ext-runs') o.extRuns = Number(v());
    else if (a === '--seed') o.seed = Number(v());
    else if (a === '--quick') {
      o.packets = 100_000;
      o.concurrent = 2_000;
      o.runs = 1;
    } else if (a === '--no-ext') o.ext = false;
    else if (a === '--no-accuracy') o.accuracy = false;
    else if (a === '--json') o.json = v();
    else if (a === '--max-connections') o.maxConnections = Number(v());
    else if (a === '--capture') o.capture = v();
    else if (a === '--tools') o.tools = new Set(v().split(','));
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Generates the capture unless a complete one with the same parameters exists. */
function ensureCapture(o: Opts): { file: string; packets: number; bytes: number; truth: string } {
  mkdirSync(DATA, { recursive: true });
  const file = join(DATA, `synth-p${o.packets}-c${o.concurrent}-s${o.seed}.pcap`);
  const metaFile = `${file}.meta.json`;
  const want = { packets: o.packets, concurrent: o.concurrent, seed: o.seed, generator: 1 };
  if (existsSync(metaFile) && existsSync(file)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
    if (JSON.stringify(meta.params) === JSON.stringify(want) && statSync(file).size === meta.bytes) {
      process.stderr.write(`bench: reusing ${file}\n`);
      return { file, packets: meta.packets, bytes: meta.bytes, truth: `${file}.truth.ndjson` };
    }
  }
  process.stderr.write(`bench: generating ${file} (${o.packets} packets, ${o.concurrent} concurrent connections)\n`);
  const r = spawnSync(process.execPath, [join(ROOT, 'dist/scripts/gen-capture.js'), '--packets', String(o.packets), '--concurrent', String(o.concurrent), '--seed', String(o.seed), '--out', file], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error('gen-capture failed');
  const packets = countPackets(file);
  const bytes = statSync(file).size;
  writeFileSync(metaFile, JSON.stringify({ params: want, packets, bytes }) + '\n');
  return { file, packets, bytes, truth: `${file}.truth.ndjson` };
}

/** Counts pcap records (and warms the page cache). */
function countPackets(file: string): number {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist/scripts/walk.js'), file], { encoding: 'utf8' });
  return Number(r.stdout.split(' ')[0]);
}

function warm(file: string): void {
  const fd = openSync(file, 'r');
  const b = Buffer.allocUnsafe(1 << 22);
  while (readSync(fd, b, 0, b.length, null) > 0) { /* read through */ }
  closeSync(fd);
}

interface Run { wallSec: number; cpuSec: number; rssKb: number; status: number | null }

/** Runs a command once, stdout to /dev/null, and measures wall time and peak RSS. */
function runOnce(cmd: string, args: string[]): Promise<Run> {
  const useTime = existsSync(TIME);
  const timeOut = join(DATA, `.time-${process.pid}`);
  const argv = useTime ? ['-f', '%e %M %U %S', '-o', timeOut, cmd, ...args] : args;
  const exe = useTime ? TIME : cmd;
  return new Promise((resolveRun) => {
    const devnull = openSync('/dev/null', 'w');
    const t0 = process.hrtime.bigint();
    const child = spawn(exe, argv, { stdio: ['ignore', devnull, 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { if (stderr.length < 4000) stderr += d.toString(); });
    let polledKb = 0;
    const poll = useTime ? null : setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) polledKb = Math.max(polledKb, Number(m[1]));
      } catch { /* exited */ }
    }, 20);
    child.on('close', (status) => {
      const wallSec = Number(process.hrtime.bigint() - t0) / 1e9;
      if (poll) clearInterval(poll);
      closeSync(devnull);
      let rssKb = polledKb;
      let cpuSec = NaN;
      if (useTime) {
        const lines = readFileSync(timeOut, 'utf8').trim().split('\n');
        const last = lines[lines.length - 1].split(' ');
        rssKb = Number(last[1]);
        cpuSec = Number(last[2]) + Number(last[3]);
        try { unlinkSync(timeOut); } catch { /* gone */ }
      }
      if (status !== 0) process.stderr.write(`bench: ${cmd} ${args.join(' ')} exited with ${status}: ${stderr.trim().slice(0, 500)}\n`);
      resolveRun({ wallSec, cpuSec, rssKb, status });
    });
  });
}

interface ToolResult { tool: string; command: string; runs: Run[]; medianSec: number; medianCpuSec: number; rssKb: number; note?: string }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function measure(tool: string, cmd: string, args: string[], runs: number): Promise<ToolResult> {
  const rs: Run[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await runOnce(cmd, args);
    rs.push(r);
    process.stderr.write(`bench: ${tool} run ${i + 1}/${runs}: ${r.wallSec.toFixed(2)} s wall, ${r.cpuSec.toFixed(2)} s CPU, ${(r.rssKb / 1024).toFixed(0)} MB\n`);
  }
  return {
    tool, command: [cmd, ...args].join(' ').replace(ROOT + '/', ''), runs: rs, medianSec: median(rs.map((r) => r.wallSec)), medianCpuSec: median(rs.map((r) => r.cpuSec)), rssKb: Math.max(...rs.map((r) => r.rssKb)),
  };
}

// ---------- accuracy ----------

function canonIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname;
  } catch {
    return ip;
  }
}

/** Unordered endpoint pair, so a role flip does not lose the match. */
function pairKey(a: { ip: string; port: number }, b: { ip: string; port: number }): string {
  const x = `${canonIp(a.ip)}|${a.port}`;
  const y = `${canonIp(b.ip)}|${b.port}`;
  return x < y ? `${x}/${y}` : `${y}/${x}`;
}

interface TruthConn { scenario: string; rules: string[]; firstFrame: number; hit: Set<string> }

export interface RuleScore { rule: string; expected: number; tp: number; fp: number; fn: number; dup: number; precision: number; recall: number }

export interface Accuracy {
  truthConnections: number;
  connections: number;
  findings: number;
  unmatchedConnections: number;
  splitConnections: number;
  rules: RuleScore[];
  /** false positives by rule and by the scenario of the connection they fired on */
  confusion: Record<string, Record<string, number>>;
}

async function readLines(stream: NodeJS.ReadableStream, onLine: (l: string) => void): Promise<void> {
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  for await (const line of rl) if (line) onLine(line);
}

async function accuracy(file: string, truthFile: string, extraArgs: string[]): Promise<Accuracy> {
  const byKey = new Map<string, TruthConn>();
  const byPair = new Map<string, TruthConn[]>();
  await readLines(createReadStream(truthFile), (l) => {
    const t = JSON.parse(l);
    const tc: TruthConn = { scenario: t.scenario, rules: t.rules, firstFrame: t.firstFrame, hit: new Set() };
    const pk = pairKey(t.orig, t.resp);
    byKey.set(`${pk}#${t.firstFrame}`, tc);
    let list = byPair.get(pk);
    if (!list) byPair.set(pk, (list = []));
    list.push(tc);
  });
  const connOf = new Map<number, TruthConn | null>();
  const findings: { rule: string; connection: number }[] = [];
  let connections = 0;
  let unmatched = 0;
  let split = 0;
  const child = spawn(process.execPath, [join(ROOT, 'bin/rstscope.js'), 'analyze', '--format', 'ndjson', ...extraArgs, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  await readLines(child.stdout!, (l) => {
    if (l.startsWith('{"type":"finding"')) {
      const f = JSON.parse(l);
      findings.push({ rule: f.rule, connection: f.connection });
    } else if (l.startsWith('{"type":"connection"')) {
      const c = JSON.parse(l);
      connections++;
      const pk = pairKey(c.orig, c.resp);
      let tc = byKey.get(`${pk}#${c.firstFrame}`) ?? null;
      if (tc === null) {
        // a later piece of a truth connection that the tracker split (e.g. a SYN retransmitted after
        // the 5 s attempt timer): the truth connection with the same pair that started last before it
        const list = byPair.get(pk) ?? [];
        for (const t of list) if (t.firstFrame < c.firstFrame && (tc === null || t.firstFrame > tc.firstFrame)) tc = t;
        if (tc !== null) split++;
        else unmatched++;
        connOf.set(c.id, tc === null ? null : { ...tc, hit: tc.hit, scenario: tc.scenario, rules: [], firstFrame: -1 });
      } else connOf.set(c.id, tc);
    }
  });
  await new Promise((r) => child.on('close', r));
  const rules = new Set<string>();
  for (const t of byKey.values()) for (const r of t.rules) rules.add(r);
  for (const f of findings) rules.add(f.rule);
  const score = new Map<string, RuleScore>();
  for (const r of [...rules].sort()) score.set(r, { rule: r, expected: 0, tp: 0, fp: 0, fn: 0, dup: 0, precision: 0, recall: 0 });
  for (const t of byKey.values()) for (const r of t.rules) score.get(r)!.expected++;
  const confusion: Record<string, Record<string, number>> = {};
  for (const f of findings) {
    const s = score.get(f.rule)!;
    const tc = connOf.get(f.connection) ?? null;
    const split = tc !== null && tc.firstFrame === -1;
    if (tc !== null && tc.hit.has(f.rule) && split) { s.dup++; continue; }
    if (tc !== null && !split && tc.rules.includes(f.rule)) {
      if (tc.hit.has(f.rule)) s.dup++;
      else { s.tp++; tc.hit.add(f.rule); }
      continue;
    }
    s.fp++;
    const sc = tc === null ? '(no truth connection)' : split ? `${tc.scenario} (split piece)` : tc.scenario;
    (confusion[f.rule] ??= {})[sc] = ((confusion[f.rule] ??= {})[sc] ?? 0) + 1;
  }
  for (const s of score.values()) {
    s.fn = s.expected - s.tp;
    s.precision = s.tp + s.fp > 0 ? s.tp / (s.tp + s.fp) : s.expected === 0 ? 1 : 0;
    s.recall = s.expected > 0 ? s.tp / s.expected : 1;
  }
  return {
    truthConnections: byKey.size, connections, findings: findings.length, unmatchedConnections: unmatched, splitConnections: split,
    rules: [...score.values()], confusion,
  };
}

// ---------- main ----------

function hasCommand(sub: string): boolean {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/rstscope.js'), sub, '--help'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes(`rstscope ${sub}`);
}

export function machine(): Record<string, string | number> {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch { /* not Linux */ }
  const nproc = spawnSync('nproc', { encoding: 'utf8' }).stdout?.trim() || String(cpus().length);
  return { nproc, cpu, node: process.version, memGB: Math.round(Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1048576) };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const cap = o.capture
    ? { file: resolve(o.capture), packets: countPackets(resolve(o.capture)), bytes: statSync(o.capture).size, truth: `${resolve(o.capture)}.truth.ndjson` }
    : ensureCapture(o);
  warm(cap.file);
  const loadStart = loadavg().map((x) => x.toFixed(1)).join(' ');
  const node = process.execPath;
  const bin = join(ROOT, 'bin/rstscope.js');
  const extra = o.maxConnections > 0 ? ['--max-connections', String(o.maxConnections)] : [];
  const notes: string[] = [];
  const results: ToolResult[] = [];
  if (o.tools.has('flows')) results.push(await measure('rstscope flows', node, [bin, 'flows', '--format', 'ndjson', ...extra, cap.file], o.runs));
  const analyze = hasCommand('analyze');
  if (analyze && o.tools.has('analyze')) results.push(await measure('rstscope analyze', node, [bin, 'analyze', '--format', 'ndjson', ...extra, cap.file], o.runs));
  else notes.push('rstscope analyze: not available in this build');
  if (o.tools.has('walk')) results.push(await measure('bare record walk', node, [join(ROOT, 'dist/scripts/walk.js'), cap.file], o.runs));
  if (o.ext && o.tools.has('ext')) {
    const ext: [string, string, string[]][] = [
      ['tshark -z conv,tcp', 'tshark', ['-n', '-q', '-z', 'conv,tcp', '-r', cap.file]],
      ['tcptrace -n -l', 'tcptrace', ['-n', '-l', cap.file]],
      ['argus', 'argus', ['-r', cap.file, '-w', '/dev/null']],
    ];
    for (const [name, cmd, args] of ext) {
      const path = which(cmd);
      if (!path) {
        notes.push(`${name}: ${cmd} is not installed, skipped`);
        continue;
      }
      results.push(await measure(name, path, args, o.extRuns));
    }
  }
  const base = results.find((r) => r.tool === 'rstscope flows')?.medianSec ?? NaN;
  const table = new Table({ head: ['tool', 'packets/s', 'MB/s', 'peak RSS (MB)', 'wall s (median)', 'CPU s (median)', 'packets/CPU-s', 'runs', 'wall vs rstscope flows'], style: { head: [], border: [] } });
  for (const r of results) {
    table.push([
      r.tool, Math.round(cap.packets / r.medianSec).toLocaleString('en-US'), (cap.bytes / 1e6 / r.medianSec).toFixed(0),
      (r.rssKb / 1024).toFixed(0), r.medianSec.toFixed(2), r.medianCpuSec.toFixed(2),
      Math.round(cap.packets / r.medianCpuSec).toLocaleString('en-US'), String(r.runs.length), `${(r.medianSec / base).toFixed(2)}x`,
    ]);
  }
  const m = machine();
  process.stdout.write(`capture: ${cap.file.replace(ROOT + '/', '')}: ${cap.packets.toLocaleString('en-US')} packets, ${(cap.bytes / 1e6).toFixed(0)} MB\n`);
  process.stdout.write(`machine: ${m.nproc} CPUs, ${m.cpu}, ${m.memGB} GB, node ${m.node}; load average at start ${loadStart}, at end ${loadavg().map((x) => x.toFixed(1)).join(' ')}\n`);
  process.stdout.write(table.toString() + '\n');
  for (const n of notes) process.stdout.write(`note: ${n}\n`);
  let acc: Accuracy | null = null;
  if (o.accuracy && analyze && existsSync(cap.truth)) {
    acc = await accuracy(cap.file, cap.truth, extra);
    const t = new Table({ head: ['rule', 'expected', 'true pos', 'false pos', 'false neg', 'duplicates', 'precision', 'recall'], style: { head: [], border: [] } });
    for (const s of acc.rules) t.push([s.rule, s.expected, s.tp, s.fp, s.fn, s.dup, s.precision.toFixed(4), s.recall.toFixed(4)]);
    process.stdout.write(`\nrule accuracy against ${cap.truth.replace(ROOT + '/', '')}: ${acc.truthConnections} truth connections, `
      + `${acc.connections} connections reported (${acc.splitConnections} later pieces of a truth connection, ${acc.unmatchedConnections} unmatched), ${acc.findings} findings\n`);
    process.stdout.write(t.toString() + '\n');
    for (const [rule, by] of Object.entries(acc.confusion)) {
      process.stdout.write(`false positives of ${rule}: ${Object.entries(by).map(([k, v]) => `${v} on ${k}`).join(', ')}\n`);
    }
  }
  if (o.json) {
    writeFileSync(o.json, JSON.stringify({ machine: m, capture: cap, options: { ...o, tools: [...o.tools] }, results, notes, accuracy: acc }, null, 2) + '\n');
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error)?.stack ?? e}\n`);
  process.exitCode = 2;
});
