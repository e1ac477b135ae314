/**
 * `npm run bench`: end-to-end speed and memory of rstscope against a bare
 * record walk and other TCP tools, on the same capture in the same run, plus
 * rule precision/recall on synthetic captures whose truth is known
 * (scripts/gen-capture.ts). Prints markdown tables for docs/performance.md.
 *
 *   node dist/scripts/bench.js [--packets N] [--concurrent N] [--seed N] [--rounds N] [--runs N] [--ext-runs N]
 *        [--quick] [--no-ext] [--no-accuracy] [--no-pcapng] [--json FILE] [--max-connections N]
 *        [--workers N] [--capture FILE (an existing capture; its truth is FILE.truth.ndjson)]
 *        [--tools analyze,workers,flows,walk,floor,pcapng,ext] [--growth concurrency,packets]
 *
 * Rows (each where selected and available):
 * - rstscope analyze (1 worker), rstscope analyze --workers N, rstscope flows (`--format ndjson --quiet`);
 * - the same rstscope commands and the bare walk on the pcapng twin of the capture (same packets:
 *   gen-capture --format pcapng with the same parameters, or `editcap -F pcapng` for --capture FILE),
 *   with their ratio to the pcap row;
 * - the bare record walk (scripts/walk.ts: the floor for any capture tool in Node);
 * - the connection-table floor (scripts/floor.ts: the walk plus the least any tracker does per packet,
 *   a symmetric 4-tuple lookup in typed arrays and two counters; the floor for any TCP tracker in Node);
 * - tshark -n -q -z conv,tcp, tcptrace -n -l, argus -r FILE -w /dev/null (where installed).
 *
 * `--growth concurrency,packets` also measures rstscope and the walk on a capture with 10x the
 * concurrent connections (2x the packets so the larger live set is sustained: 4 M / 200,000, seed 2,
 * for the default 2 M / 20,000) and one with 5x the packets at the same concurrency (10 M, seed 3),
 * and prints how the cost per packet and the memory grow. On those captures rstscope runs with
 * `--max-connections` twice the concurrency (unless given) so that the live set is tracked, not evicted.
 *
 * Method (docs/performance.md):
 * - a generated capture is made once under bench-data/ (git-ignored) and reused while its
 *   `.meta.json` says it is complete and was made with the same parameters;
 * - each file is read once before timing so every tool starts with a warm page cache;
 * - every tool runs as its own process, stdout to /dev/null; the rstscope rows and the walks run
 *   round-robin (run 1 of every tool, then run 2 of every tool...) so that pcap and pcapng, 1 and N
 *   workers, see the same machine load; external tools run `--ext-runs` times after them;
 * - the table shows the median wall and CPU time and the largest peak RSS, from /usr/bin/time
 *   (%e, %U + %S, %M) when present, else wall time from the parent and RSS from /proc/PID/status;
 * - ratios are the tool's median over the reference row's median (rstscope analyze, else flows);
 *   on a loaded machine compare CPU, not wall.
 * Accuracy: `analyze --format ndjson` is run once more; every finding is
 * matched through its connection line (4-tuple, first frame) to the truth file.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, unlinkSync, existsSync, mkdirSync, openSync, readFileSync, readSync, closeSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DATA = join(ROOT, 'bench-data');
const TIME = '/usr/bin/time';
const ALL_TOOLS = ['analyze', 'workers', 'flows', 'walk', 'floor', 'pcapng', 'ext'];

interface Opts {
  packets: number;
  concurrent: number;
  runs: number;
  extRuns: number;
  seed: number;
  /** gen-capture --rounds: mean extra request/response rounds per conversation (0.5: its default) */
  rounds: number;
  ext: boolean;
  accuracy: boolean;
  json: string;
  maxConnections: number;
  capture: string;
  /** worker threads of the `analyze --workers N` row */
  workers: number;
  /** which measurements: analyze, workers, flows, walk, floor, pcapng, ext */
  tools: Set<string>;
  /** extra captures: 'concurrency' (10x concurrent connections), 'packets' (5x packets) */
  growth: Set<string>;
}

function parseArgs(argv: string[]): Opts {
  const o: Opts = {
    packets: 2_000_000, concurrent: 20_000, runs: 3, extRuns: 1, seed: 1, rounds: 0.5, ext: true, accuracy: true, json: '', maxConnections: 0, capture: '',
    workers: 2, tools: new Set(ALL_TOOLS), growth: new Set(),
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
    else if (a === '--rounds') o.rounds = Number(v());
    else if (a === '--quick') {
      o.packets = 100_000;
      o.concurrent = 2_000;
      o.runs = 1;
    } else if (a === '--no-ext') o.ext = false;
    else if (a === '--no-accuracy') o.accuracy = false;
    else if (a === '--no-pcapng') o.tools.delete('pcapng');
    else if (a === '--json') o.json = v();
    else if (a === '--max-connections') o.maxConnections = Number(v());
    else if (a === '--capture') o.capture = v();
    else if (a === '--workers') o.workers = Number(v());
    else if (a === '--tools') {
      o.tools = new Set(v().split(','));
      for (const t of o.tools) if (!ALL_TOOLS.includes(t)) throw new Error(`--tools: unknown tool ${t} (known: ${ALL_TOOLS.join(', ')})`);
    } else if (a === '--growth') {
      o.growth = new Set(v().split(','));
      for (const g of o.growth) if (g !== 'concurrency' && g !== 'packets') throw new Error('--growth takes concurrency, packets or both');
    } else throw new Error(`unknown option ${a}`);
  }
  if (!(o.runs >= 1) || !(o.extRuns >= 1) || !(o.workers >= 1)) throw new Error('--runs, --ext-runs and --workers must be at least 1');
  return o;
}

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

interface Capture {
  file: string;
  format: 'pcap' | 'pcapng';
  packets: number;
  bytes: number;
  truth: string;
  /** how it was made, for the table's heading */
  origin: string;
  /** the generator's --concurrent (0 when not generated here) */
  concurrent: number;
}

/** rounds: gen-capture --rounds (mean extra request/response rounds; 0.5 is its default) */
interface GenParams { packets: number; concurrent: number; seed: number; rounds: number }

/**
 * Generates the capture unless a complete one with the same parameters exists.
 * A capture without `.meta.json` but with its truth file (made by hand with
 * gen-capture) is adopted: its records are counted and the meta file written.
 */
function ensureCapture(g: GenParams, format: 'pcap' | 'pcapng'): Capture {
  mkdirSync(DATA, { recursive: true });
  const r = g.rounds === 0.5 ? '' : `-r${g.rounds}`;
  const file = join(DATA, `synth-p${g.packets}-c${g.concurrent}-s${g.seed}${r}.${format}`);
  const metaFile = `${file}.meta.json`;
  const want: Record<string, unknown> = { packets: g.packets, concurrent: g.concurrent, seed: g.seed, generator: 1 };
  if (g.rounds !== 0.5) want.rounds = g.rounds;
  if (format === 'pcapng') want.format = 'pcapng';
  const roundsArg = g.rounds === 0.5 ? [] : ['--rounds', String(g.rounds)];
  const origin = `gen-capture --packets ${g.packets} --concurrent ${g.concurrent} --seed ${g.seed}${r ? ` --rounds ${g.rounds}` : ''}${format === 'pcapng' ? ' --format pcapng' : ''}`;
  const truth = `${file}.truth.ndjson`;
  if (existsSync(metaFile) && existsSync(file)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
    if (JSON.stringify(meta.params) === JSON.stringify(want) && statSync(file).size === meta.bytes) {
      process.stderr.write(`bench: reusing ${file}\n`);
      return { file, format, packets: meta.packets, bytes: meta.bytes, truth, origin, concurrent: g.concurrent };
    }
  } else if (existsSync(file) && existsSync(truth)) {
    process.stderr.write(`bench: adopting ${file} (no .meta.json; counting its records)\n`);
    const packets = countPackets(file);
    const bytes = statSync(file).size;
    writeFileSync(metaFile, JSON.stringify({ params: want, packets, bytes, adopted: true }) + '\n');
    return { file, format, packets, bytes, truth, origin, concurrent: g.concurrent };
  }
  process.stderr.write(`bench: generating ${file} (${g.packets} packets, ${g.concurrent} concurrent connections, ${format})\n`);
  const gen = spawnSync(process.execPath, [join(ROOT, 'dist/scripts/gen-capture.js'), '--packets', String(g.packets), '--concurrent', String(g.concurrent), '--seed', String(g.seed), ...roundsArg, '--format', format, '--out', file], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (gen.status !== 0) throw new Error('gen-capture failed');
  const packets = countPackets(file);
  const bytes = statSync(file).size;
  writeFileSync(metaFile, JSON.stringify({ params: want, packets, bytes }) + '\n');
  return { file, format, packets, bytes, truth, origin, concurrent: g.concurrent };
}

/** The pcapng twin of an existing pcap (same packets), made once with editcap next to it. */
function editcapTwin(cap: Capture, notes: string[]): Capture | null {
  const twin = join(dirname(cap.file), `${basename(cap.file).replace(/\.pcap$/, '')}.pcapng`);
  const origin = `editcap -F pcapng ${basename(cap.file)}`;
  if (existsSync(twin) && statSync(twin).mtimeMs >= statSync(cap.file).mtimeMs) {
    return { file: twin, format: 'pcapng', packets: countPackets(twin), bytes: statSync(twin).size, truth: '', origin, concurrent: cap.concurrent };
  }
  if (!which('editcap')) {
    notes.push('pcapng twin: editcap is not installed, skipped');
    return null;
  }
  process.stderr.write(`bench: making ${twin} with editcap\n`);
  const r = spawnSync('editcap', ['-F', 'pcapng', cap.file, twin], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    notes.push('pcapng twin: editcap failed, skipped');
    return null;
  }
  return { file: twin, format: 'pcapng', packets: countPackets(twin), bytes: statSync(twin).size, truth: '', origin, concurrent: cap.concurrent };
}

/** Counts packet records (pcap or pcapng) with the bare walk, and warms the page cache. */
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

interface Run {
  wallSec: number;
  cpuSec: number;
  rssKb: number;
  status: number | null;
  load1: number;
  /** connections rstscope reported as closed out early (--max-connections), from its stderr */
  closedOutEarly: number;
}

/** Runs a command once, stdout to /dev/null, and measures wall time and peak RSS. */
function runOnce(cmd: string, args: string[]): Promise<Run> {
  const useTime = existsSync(TIME);
  const timeOut = join(DATA, `.time-${process.pid}`);
  const argv = useTime ? ['-f', '%e %M %U %S', '-o', timeOut, cmd, ...args] : args;
  const exe = useTime ? TIME : cmd;
  const load1 = loadavg()[0];
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
      const early = /(\d+) connection\(s\) were closed out early/.exec(stderr);
      resolveRun({ wallSec, cpuSec, rssKb, status, load1, closedOutEarly: early ? Number(early[1]) : 0 });
    });
  });
}

interface ToolResult {
  tool: string;
  command: string;
  /** which capture it read */
  format: 'pcap' | 'pcapng';
  packets: number;
  bytes: number;
  runs: Run[];
  medianSec: number;
  medianCpuSec: number;
  rssKb: number;
  note?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One measured command. */
interface Spec { tool: string; cmd: string; args: string[]; cap: Capture }

function summarize(spec: Spec, rs: Run[]): ToolResult {
  const ok = rs.filter((r) => r.status === 0);
  const use = ok.length > 0 ? ok : rs;
  return {
    tool: spec.tool, command: [spec.cmd, ...spec.args].join(' ').split(process.execPath).join('node').split(ROOT + '/').join(''),
    format: spec.cap.format, packets: spec.cap.packets, bytes: spec.cap.bytes, runs: rs,
    medianSec: median(use.map((r) => r.wallSec)), medianCpuSec: median(use.map((r) => r.cpuSec)), rssKb: Math.max(...use.map((r) => r.rssKb)),
    note: [
      ok.length < rs.length ? `${rs.length - ok.length} run(s) failed` : '',
      rs.some((r) => r.closedOutEarly > 0) ? `${int(Math.max(...rs.map((r) => r.closedOutEarly)))} connections closed out early` : '',
    ].filter((x) => x).join('; ') || undefined,
  };
}

function logRun(tool: string, i: number, n: number, r: Run): void {
  process.stderr.write(`bench: ${tool} run ${i + 1}/${n}: ${r.wallSec.toFixed(2)} s wall, ${r.cpuSec.toFixed(2)} s CPU, ${(r.rssKb / 1024).toFixed(0)} MB, load ${r.load1.toFixed(1)}\n`);
}

/**
 * Runs the groups round-robin, `runs` rounds: every tool sees the same spread
 * of machine load. Within a group (a pcap row and its pcapng twin) the runs
 * alternate, and which goes first alternates from round to round.
 */
async function measureInterleaved(groups: Spec[][], runs: number): Promise<ToolResult[]> {
  const specs = groups.flat();
  const all = new Map<Spec, Run[]>(specs.map((s) => [s, []]));
  for (let i = 0; i < runs; i++) {
    for (const g of groups) {
      for (const spec of i % 2 ? [...g].reverse() : g) {
        const r = await runOnce(spec.cmd, spec.args);
        all.get(spec)!.push(r);
        logRun(spec.tool, i, runs, r);
      }
    }
  }
  return specs.map((s) => summarize(s, all.get(s)!));
}

/** Runs one command `runs` times in a row (kept for callers of the old API). */
async function measure(tool: string, cmd: string, args: string[], runs: number, cap: Capture): Promise<ToolResult> {
  const spec: Spec = { tool, cmd, args, cap };
  return (await measureInterleaved([[spec]], runs))[0];
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

function hasOption(sub: string, option: string): boolean {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/rstscope.js'), sub, '--help'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes(option);
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

const int = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');
const fix = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : '-');
const rel = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}x` : '-');
const rel3 = (x: number): string => (Number.isFinite(x) ? `${x.toFixed(3)}x` : '-');

/** A markdown table; `right` marks the columns to right-align. */
function markdown(head: string[], rows: string[][], right: boolean[]): string {
  const lines = [`| ${head.join(' | ')} |`, `|${right.map((r) => (r ? '---:' : '---')).join('|')}|`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n') + '\n';
}

function relPath(f: string): string {
  return f.replace(ROOT + '/', '');
}

interface CaptureReport {
  capture: Capture;
  twin: Capture | null;
  connections: number;
  loadStart: string;
  loadEnd: string;
  results: ToolResult[];
  notes: string[];
  accuracy: Accuracy | null;
}

/** Lines of a truth file = connections the generator made (0 when there is none). */
function truthConnections(file: string): number {
  if (!file || !existsSync(file)) return 0;
  const fd = openSync(file, 'r');
  const b = Buffer.allocUnsafe(1 << 22);
  let n = 0;
  for (;;) {
    const got = readSync(fd, b, 0, b.length, null);
    if (got === 0) break;
    for (let i = 0; i < got; i++) if (b[i] === 10) n++;
  }
  closeSync(fd);
  return n;
}

/** Measures every selected tool on one capture (and its pcapng twin) and prints the tables. */
async function benchCapture(o: Opts, cap: Capture, twin: Capture | null, withExt: boolean, notes: string[]): Promise<CaptureReport> {
  const node = process.execPath;
  const bin = join(ROOT, 'bin/rstscope.js');
  const walkJs = join(ROOT, 'dist/scripts/walk.js');
  const floorJs = join(ROOT, 'dist/scripts/floor.js');
  const extra = o.maxConnections > 0 ? ['--max-connections', String(o.maxConnections)] : [];
  if (o.maxConnections > 0) notes.push(`rstscope ran with --max-connections ${o.maxConnections}`);
  warm(cap.file);
  if (twin) warm(twin.file);
  const loadStart = loadavg().map((x) => x.toFixed(1)).join(' ');
  const analyze = hasCommand('analyze');
  if (!analyze && (o.tools.has('analyze') || o.tools.has('workers'))) notes.push('rstscope analyze: not available in this build');
  const workers = analyze && o.tools.has('workers') && hasOption('analyze', '--workers');
  if (analyze && o.tools.has('workers') && !workers) notes.push('rstscope analyze --workers: not available in this build');
  const rst = (c: Capture, sub: string, more: string[] = []): Spec => ({
    tool: `rstscope ${sub}${more.length ? ` ${more.join(' ')}` : ''}${c.format === 'pcapng' ? ' (pcapng)' : ''}`,
    cmd: node, args: [bin, sub, '--format', 'ndjson', '--quiet', ...more, ...extra, c.file], cap: c,
  });
  const walkSpec = (c: Capture): Spec => ({ tool: `bare record walk${c.format === 'pcapng' ? ' (pcapng)' : ''}`, cmd: node, args: [walkJs, c.file], cap: c });
  // each group: a row and its pcapng twin, measured alternately
  const groups: Spec[][] = [];
  const withTwin = (make: (c: Capture) => Spec): Spec[] => (twin ? [make(cap), make(twin)] : [make(cap)]);
  if (analyze && o.tools.has('analyze')) groups.push(withTwin((c) => rst(c, 'analyze')));
  if (workers) groups.push([rst(cap, 'analyze', ['--workers', String(o.workers)])]);
  if (o.tools.has('flows')) groups.push(withTwin((c) => rst(c, 'flows')));
  if (o.tools.has('walk')) groups.push(withTwin(walkSpec));
  if (o.tools.has('floor')) groups.push([{ tool: 'connection-table floor', cmd: node, args: [floorJs, cap.file], cap }]);
  const results = await measureInterleaved(groups, o.runs);
  if (withExt) {
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
      results.push(await measure(name, path, args, o.extRuns, cap));
    }
  }
  const loadEnd = loadavg().map((x) => x.toFixed(1)).join(' ');
  let acc: Accuracy | null = null;
  if (o.accuracy && analyze && existsSync(cap.truth)) acc = await accuracy(cap.file, cap.truth, extra);
  const report: CaptureReport = { capture: cap, twin, connections: truthConnections(cap.truth), loadStart, loadEnd, results, notes, accuracy: acc };
  printCapture(o, report);
  return report;
}

function printCapture(o: Opts, rep: CaptureReport): void {
  const { capture: cap, twin, results } = rep;
  const out = (s: string): void => { process.stdout.write(s); };
  const m = machine();
  out(`\n### ${relPath(cap.file)}\n\n`);
  out(`Capture: ${int(cap.packets)} packets, ${int(cap.bytes / 1e6)} MB${rep.connections ? `, ${int(rep.connections)} connections (truth file)` : ''} (${cap.origin})`);
  if (twin) out(`; pcapng twin ${relPath(twin.file)}: ${int(twin.packets)} packets, ${int(twin.bytes / 1e6)} MB (${twin.origin})`);
  out('.\n');
  out(`Machine: ${m.nproc} CPUs, ${m.cpu}, ${m.memGB} GB, node ${m.node}; load average (1, 5, 15 min) at start ${rep.loadStart}, at end ${rep.loadEnd}.\n\n`);
  const ref = results.find((r) => r.tool === 'rstscope analyze') ?? results.find((r) => r.tool === 'rstscope flows');
  const refName = ref?.tool ?? 'rstscope';
  const pcapOf = (r: ToolResult): ToolResult | undefined => (r.format === 'pcapng' ? results.find((x) => x.format === 'pcap' && x.tool === r.tool.replace(/ \(pcapng\)$/, '')) : undefined);
  const rows = results.map((r) => {
    const p = pcapOf(r);
    const loads = r.runs.map((x) => x.load1);
    return [
      r.tool, int(r.packets / r.medianSec), int(r.bytes / 1e6 / r.medianSec), int(r.rssKb / 1024),
      fix(r.medianSec), fix(r.medianCpuSec), int(r.packets / r.medianCpuSec),
      rel(r.medianSec / (ref?.medianSec ?? NaN)), rel(r.medianCpuSec / (ref?.medianCpuSec ?? NaN)),
      p ? `${rel3(r.medianSec / p.medianSec)} / ${rel3(r.medianCpuSec / p.medianCpuSec)}` : '',
      `${r.runs.length}${r.note ? ` (${r.note})` : ''}`, `${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`,
    ];
  });
  out(markdown(
    ['tool', 'packets/s', 'MB/s', 'peak RSS (MB)', 'wall s (median)', 'CPU s (median)', 'packets/CPU-s', `wall vs ${refName}`, `CPU vs ${refName}`, 'pcapng/pcap (wall / CPU)', 'runs', 'load (1 min)'],
    rows, [false, true, true, true, true, true, true, true, true, true, true, true],
  ));
  out('\nCommands (stdout to /dev/null):\n\n');
  for (const r of results) out(`- ${r.tool}: \`${r.command.replace(/\/usr\/(s?bin)\//, '')}\`\n`);
  for (const n of rep.notes) out(`\nNote: ${n}\n`);
  const acc = rep.accuracy;
  if (acc) {
    out(`\nRule accuracy against ${relPath(cap.truth)}: ${int(acc.truthConnections)} truth connections, `
      + `${int(acc.connections)} connections reported (${int(acc.splitConnections)} later pieces of a truth connection, ${int(acc.unmatchedConnections)} unmatched), ${int(acc.findings)} findings.\n\n`);
    out(markdown(['rule', 'expected', 'true pos', 'false pos', 'false neg', 'duplicates', 'precision', 'recall'],
      acc.rules.map((s) => [s.rule, int(s.expected), int(s.tp), int(s.fp), int(s.fn), int(s.dup), s.precision.toFixed(4), s.recall.toFixed(4)]),
      [false, true, true, true, true, true, true, true]));
    for (const [rule, by] of Object.entries(acc.confusion)) {
      out(`\nfalse positives of ${rule}: ${Object.entries(by).map(([k, v]) => `${v} on ${k}`).join(', ')}\n`);
    }
  }
}

/** How cost grows from the base capture to the growth captures. */
function printGrowth(reps: CaptureReport[]): void {
  const out = (s: string): void => { process.stdout.write(s); };
  const base = reps[0];
  const tools = ['rstscope analyze', 'rstscope flows', 'bare record walk'];
  const head = ['capture', 'packets', 'concurrent connections (generator)', 'connections', 'MB'];
  for (const t of tools) head.push(`${t}: µs CPU/packet (x base)`, `${t}: peak RSS MB`);
  const rows = reps.map((rep) => {
    const row = [relPath(rep.capture.file), int(rep.capture.packets), rep.capture.concurrent ? int(rep.capture.concurrent) : '-', int(rep.connections), int(rep.capture.bytes / 1e6)];
    for (const t of tools) {
      const r = rep.results.find((x) => x.tool === t);
      const b = base.results.find((x) => x.tool === t);
      const us = r ? (r.medianCpuSec / r.packets) * 1e6 : NaN;
      const bus = b ? (b.medianCpuSec / b.packets) * 1e6 : NaN;
      row.push(r ? `${fix(us, 3)} (${rel(us / bus)})` : '-', r ? int(r.rssKb / 1024) : '-');
    }
    return row;
  });
  out('\n### How the cost grows\n\n');
  out(markdown(head, rows, head.map((_, i) => i > 0)));
  out('\nCPU per packet is the median CPU time (user + sys, Node start-up of about 0.1-0.2 s included) over the packets; x base is the ratio to the first row.\n');
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const notes: string[] = [];
  let cap: Capture;
  let twin: Capture | null = null;
  if (o.capture) {
    const file = resolve(o.capture);
    const format = readFileSync(file).subarray(0, 4).readUInt32BE(0) === 0x0a0d0d0a ? 'pcapng' : 'pcap';
    cap = { file, format, packets: countPackets(file), bytes: statSync(file).size, truth: `${file}.truth.ndjson`, origin: 'given with --capture', concurrent: 0 };
    if (o.tools.has('pcapng') && format === 'pcap') twin = editcapTwin(cap, notes);
  } else {
    cap = ensureCapture(o, 'pcap');
    if (o.tools.has('pcapng')) twin = ensureCapture(o, 'pcapng');
  }
  if (twin && twin.packets !== cap.packets) {
    notes.push(`pcapng twin has ${twin.packets} packets, the pcap ${cap.packets}: not a twin, skipped`);
    twin = null;
  }
  const reports: CaptureReport[] = [];
  process.stdout.write('## Benchmark\n');
  reports.push(await benchCapture(o, cap, twin, o.ext && o.tools.has('ext'), notes));
  const growth: GenParams[] = [];
  if (o.growth.has('concurrency')) growth.push({ packets: o.packets * 2, concurrent: o.concurrent * 10, seed: 2, rounds: o.rounds });
  if (o.growth.has('packets')) growth.push({ packets: o.packets * 5, concurrent: o.concurrent, seed: 3, rounds: o.rounds });
  for (const g of growth) {
    // no external tools (tshark needs ~1.5 GB per million packets) and no twin on the growth captures
    // and, unless --max-connections was given, a connection cap of twice the concurrency so that the
    // live set (open connections plus closed ones waiting for their timers) is tracked, not evicted
    const gOpts: Opts = {
      ...o, tools: new Set([...o.tools].filter((t) => t !== 'pcapng' && t !== 'ext')),
      maxConnections: o.maxConnections > 0 ? o.maxConnections : Math.max(50_000, 2 * g.concurrent),
    };
    reports.push(await benchCapture(gOpts, ensureCapture(g, 'pcap'), null, false, []));
  }
  if (reports.length > 1) printGrowth(reports);
  if (o.json) {
    writeFileSync(o.json, JSON.stringify({
      machine: machine(), options: { ...o, tools: [...o.tools], growth: [...o.growth] },
      captures: reports.map((r) => ({ ...r })),
      // the single-capture fields of earlier versions
      capture: reports[0].capture, results: reports[0].results, notes: reports[0].notes, accuracy: reports[0].accuracy,
    }, null, 2) + '\n');
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error)?.stack ?? e}\n`);
  process.exitCode = 2;
});
