/**
 * Fuzzing rstscope's input path: readers (pcap, pcapng, chunked streams),
 * link/IP/TCP decoding, the tracker, the rules and every output format.
 *
 * The harness (`runTarget`) feeds bytes through the same objects the CLI
 * uses (CaptureStream -> Analyzer -> Tracker -> rules -> records ->
 * findingsTable / flowsTable / zeek / JSON) and checks the invariants the
 * robustness guarantees rest on (docs/robustness.md):
 *   - nothing throws, for any bytes;
 *   - a parser stops at its first problem: at most one problem per input,
 *     with an offset inside the file and a one-line message;
 *   - frames come out in file order, each inside the file;
 *   - chunking does not matter: the same bytes pushed in any chunk sizes give
 *     the same frames and the same problem (what live/stdin readers rely on).
 * Time is checked by the callers (a wall-clock bound per input).
 *
 * `npm run fuzz` (this file run directly) is the long, coverage-guided run:
 * V8 precise block coverage (node:inspector, Profiler.takePreciseCoverage)
 * after each input; an input that reaches a block of dist/src never reached
 * before joins the corpus and is mutated further. A failing input is written
 * to test/regressions/ (crash-<hash>.bin) and becomes a regression test
 * (test/fuzz-regressions.test.ts runs every file there).
 *
 *   node dist/scripts/fuzz.js [--seconds 600] [--seed N] [--no-coverage]
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CaptureStream } from '../src/capture/reader.js';
import type { Frame } from '../src/capture/frame.js';
import type { Problem } from '../src/capture/problems.js';
import { Analyzer } from '../src/analysis/pipeline.js';
import { FindingsDigest, findingsTable } from '../src/report/findings.js';
import type { Finding } from '../src/rules/types.js';
import { flowsTable } from '../src/report/flows-table.js';
import { zeekLine } from '../src/report/zeek.js';

/** repository root (this file runs from dist/scripts/) */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const REGRESSIONS = resolve(ROOT, 'test/regressions');

/** One frame as the reader delivered it (for comparing runs). */
export interface FrameSig {
  frameNo: number;
  fileOffset: number;
  capLen: number;
  linkType: number;
}

export interface TargetResult {
  frames: FrameSig[];
  problems: Problem[];
  connections: number;
  findings: number;
  /** characters of output produced (all formats) */
  outputChars: number;
}

/** Every bundled capture: the fuzz seeds. */
export function seedFiles(): string[] {
  const dirs = [resolve(ROOT, 'test/fixtures/formats'), resolve(ROOT, 'captures'), REGRESSIONS];
  const out: string[] = [];
  for (const d of dirs) {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names.sort()) if (/\.(pcap|pcapng|bin)$/.test(n)) out.push(resolve(d, n));
  }
  return out;
}

export function loadSeeds(): Buffer[] {
  return seedFiles().map((f) => readFileSync(f));
}

/**
 * Runs the whole analysis over `buf`, pushed in chunks of `chunk` bytes
 * (0: one push). Throws (an Error naming the broken invariant) on any failure.
 */
export function runTarget(buf: Uint8Array, chunk = 0): TargetResult {
  const frames: FrameSig[] = [];
  const a = new Analyzer({ keepRecords: true, rules: true, maxConnections: 64 });
  a.beginInput();
  const stream = new CaptureStream('fuzz-input', (f: Frame) => {
    frames.push({ frameNo: f.frameNo, fileOffset: f.fileOffset, capLen: f.capLen, linkType: f.linkType });
    if (f.offset < 0 || f.offset + f.capLen > f.buf.length) throw new Error(`frame ${f.frameNo} lies outside its buffer`);
    a.onFrame(f);
  });
  if (chunk <= 0 || chunk >= buf.length) stream.push(buf);
  else for (let o = 0; o < buf.length && !stream.stopped; o += chunk) stream.push(buf.subarray(o, o + chunk));
  const info = stream.end();
  a.endInput(info);
  const res = a.result();
  let outputChars = 0;
  const digest = new FindingsDigest(3);
  const byConn = new Map<number, Finding[]>();
  for (const f of res.findings) byConn.set(f.connection, [...(byConn.get(f.connection) ?? []), f]);
  for (const r of res.connections) digest.add(r, byConn.get(r.id) ?? []);
  outputChars += findingsTable(res.inputs, digest).length;
  for (const piece of flowsTable(res.inputs, res.connections)) outputChars += piece.length;
  for (const r of res.connections) outputChars += zeekLine(r).length;
  outputChars += JSON.stringify(res).length;

  if (info.problems.length > 1) throw new Error(`more than one problem: ${JSON.stringify(info.problems)}`);
  for (const p of info.problems) {
    if (!(p.offset >= 0 && p.offset <= buf.length)) throw new Error(`problem offset ${p.offset} outside a ${buf.length}-byte file`);
    if (!(p.record >= 0)) throw new Error(`problem record ${p.record}`);
    if (p.message.includes('\n') || p.message.length === 0) throw new Error(`problem message not one line: ${JSON.stringify(p.message)}`);
  }
  let prev = -1;
  for (const f of frames) {
    if (f.fileOffset <= prev) throw new Error(`frame ${f.frameNo} at offset ${f.fileOffset} is not after ${prev}`);
    if (f.fileOffset + f.capLen > buf.length) throw new Error(`frame ${f.frameNo} extends past the end of the file`);
    prev = f.fileOffset;
  }
  return { frames, problems: info.problems, connections: res.connections.length, findings: res.findings.length, outputChars };
}

/** runTarget whole and in `chunk`-byte pieces; the two must agree. */
export function checkInput(buf: Uint8Array, chunk: number): TargetResult {
  const whole = runTarget(buf, 0);
  const pieces = runTarget(buf, chunk);
  // the message of an `unreadable` problem quotes the first bytes seen, which depends on the chunking
  const sig = (r: TargetResult) => JSON.stringify({
    f: r.frames, p: r.problems.map((x) => [x.kind, x.offset, x.record]), c: r.connections, n: r.findings,
  });
  const a = sig(whole);
  const b = sig(pieces);
  if (a !== b) throw new Error(`chunked reading (${chunk}-byte pieces) differs from whole reading`);
  return whole;
}

// ---------- mutation (used by the long run; the tests use fast-check) ----------

/** Values that sit on the readers' and decoders' boundaries. */
export const INTERESTING_U32 = [
  0, 1, 2, 3, 4, 5, 11, 12, 13, 15, 16, 19, 20, 24, 28, 31, 32, 40, 60, 64, 96, 127, 128, 255, 256,
  1500, 65535, 65536, 262143, 262144, 262145, 16 * 1024 * 1024, 16 * 1024 * 1024 + 4, 0x7fffffff, 0x80000000,
  0xfffffffc, 0xffffffff, 0x0a0d0d0a, 0x1a2b3c4d, 0x4d3c2b1a, 0xa1b2c3d4, 0xd4c3b2a1,
];

/** xorshift32: deterministic mutations from a seed */
export class Rng {
  constructor(private s: number) {
    if (this.s === 0) this.s = 0x9e3779b9;
  }

  u32(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }

  below(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }
}

export function mutate(input: Buffer, rng: Rng, donors: Buffer[]): Buffer {
  let b = Buffer.from(input);
  const n = 1 + rng.below(6);
  for (let i = 0; i < n; i++) {
    const len = b.length;
    switch (rng.below(10)) {
      case 0: if (len) b[rng.below(len)] ^= 1 << rng.below(8); break;
      case 1: if (len) b[rng.below(len)] = rng.below(256); break;
      case 2: {
        if (len < 4) break;
        const p = rng.below(len - 3);
        const v = INTERESTING_U32[rng.below(INTERESTING_U32.length)];
        if (rng.below(2)) b.writeUInt32LE(v >>> 0, p); else b.writeUInt32BE(v >>> 0, p);
        break;
      }
      case 3: {
        if (len < 2) break;
        const p = rng.below(len - 1);
        const v = [0, 1, 4, 5, 15, 20, 40, 0xffff][rng.below(8)];
        b.writeUInt16BE(v, p);
        break;
      }
      case 4: b = b.subarray(0, rng.below(len + 1)); break; // truncate
      case 5: { // delete a range
        const p = rng.below(len + 1);
        const q = Math.min(len, p + rng.below(64));
        b = Buffer.concat([b.subarray(0, p), b.subarray(q)]);
        break;
      }
      case 6: { // duplicate a range (duplicated records / frames)
        const p = rng.below(len + 1);
        const q = Math.min(len, p + rng.below(256));
        b = Buffer.concat([b.subarray(0, q), b.subarray(p, q), b.subarray(q)]);
        break;
      }
      case 7: { // insert random bytes
        const p = rng.below(len + 1);
        const ins = Buffer.alloc(1 + rng.below(16));
        for (let k = 0; k < ins.length; k++) ins[k] = rng.below(256);
        b = Buffer.concat([b.subarray(0, p), ins, b.subarray(p)]);
        break;
      }
      case 8: { // splice a piece of another input
        const d = donors[rng.below(donors.length)];
        if (!d || d.length === 0) break;
        const p = rng.below(d.length);
        const piece = d.subarray(p, p + 1 + rng.below(512));
        const at = rng.below(len + 1);
        b = Buffer.concat([b.subarray(0, at), piece, b.subarray(at)]);
        break;
      }
      default: { // small arithmetic on one byte (lengths, offsets, counts)
        if (len) {
          const p = rng.below(len);
          b[p] = (b[p] + (rng.below(2) ? 1 : 255) * (1 + rng.below(4))) & 0xff;
        }
      }
    }
  }
  return b;
}

/** Saves a failing input under test/regressions/ and returns its path. */
export function saveRegression(buf: Uint8Array, why: string): string {
  mkdirSync(REGRESSIONS, { recursive: true });
  const h = createHash('sha256').update(buf).digest('hex').slice(0, 16);
  const path = resolve(REGRESSIONS, `crash-${h}.bin`);
  writeFileSync(path, buf);
  writeFileSync(`${path}.txt`, `${why.split('\n')[0]}\n`);
  return path;
}

// ---------- the long, coverage-guided run ----------

interface CoverageSession {
  newBlocks(): number;
  close(): void;
}

async function openCoverage(): Promise<CoverageSession> {
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object): unknown => {
    let result: unknown;
    let error: Error | null = null;
    // the in-process session answers synchronously
    session.post(method, params ?? {}, (e, r) => { error = e; result = r; });
    if (error) throw error;
    return result;
  };
  post('Profiler.enable');
  post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  const seen = new Set<string>();
  const srcPrefix = pathToFileURL(resolve(ROOT, 'dist/src')).href;
  return {
    newBlocks(): number {
      const r = post('Profiler.takePreciseCoverage') as { result: { url: string; functions: { functionName: string; ranges: { startOffset: number; endOffset: number; count: number }[] }[] }[] };
      let fresh = 0;
      for (const script of r.result) {
        if (!script.url.startsWith(srcPrefix)) continue;
        for (const fn of script.functions) {
          for (const range of fn.ranges) {
            if (range.count === 0) continue;
            const key = `${script.url}:${range.startOffset}:${range.endOffset}`;
            if (!seen.has(key)) {
              seen.add(key);
              fresh++;
            }
          }
        }
      }
      return fresh;
    },
    close(): void {
      session.disconnect();
    },
  };
}

async function longRun(args: string[]): Promise<number> {
  const num = (name: string, d: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : d;
  };
  const seconds = num('seconds', 600);
  const rng = new Rng(num('seed', Date.now() >>> 0));
  const useCoverage = !args.includes('--no-coverage');
  const corpus = loadSeeds();
  const donors = corpus.slice();
  const cov = useCoverage ? await openCoverage() : null;
  for (const s of corpus) {
    runTarget(s);
    cov?.newBlocks();
  }
  const t0 = Date.now();
  let execs = 0;
  let failures = 0;
  let lastReport = t0;
  while (Date.now() - t0 < seconds * 1000) {
    const parent = corpus[rng.below(corpus.length)];
    const input = mutate(parent, rng, donors);
    const chunk = 1 + rng.below(Math.max(1, input.length));
    const start = Date.now();
    try {
      checkInput(input, chunk);
      const ms = Date.now() - start;
      if (ms > 2000) throw new Error(`slow input: ${ms} ms for ${input.length} bytes`);
    } catch (e) {
      failures++;
      const path = saveRegression(input, (e as Error).stack ?? String(e));
      process.stderr.write(`fuzz: FAILURE ${(e as Error).message} -> ${path}\n`);
    }
    execs++;
    if (cov && cov.newBlocks() > 0 && input.length <= 1 << 20) corpus.push(input);
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      process.stderr.write(`fuzz: ${execs} inputs, ${Math.round(execs / ((lastReport - t0) / 1000))}/s, corpus ${corpus.length}, failures ${failures}\n`);
    }
  }
  cov?.close();
  process.stdout.write(`fuzz: ${execs} inputs in ${seconds} s, corpus ${corpus.length} (${corpus.length - donors.length} found by coverage), ${failures} failure(s)\n`);
  return failures > 0 ? 1 : 0;
}

// ---------- the full-size hostile captures (npm run fuzz:hostile) ----------

interface CliRun {
  code: number | null;
  ms: number;
  peakRssMiB: number;
  stdoutLines: number;
  stderr: string;
}

/** Runs the CLI, sampling the child's peak RSS (VmHWM, Linux /proc) until it exits. */
async function runMeasured(args: string[], nodeFlags: string[] = []): Promise<CliRun> {
  const { spawn } = await import('node:child_process');
  const t0 = Date.now();
  const child = spawn(process.execPath, [...nodeFlags, resolve(ROOT, 'bin/rstscope.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let lines = 0;
  let stderr = '';
  let peakKiB = 0;
  const sample = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
    } catch { /* exited */ }
  };
  const timer = setInterval(sample, 100);
  child.stdout.on('data', (d: Buffer) => { for (const x of d) if (x === 10) lines++; });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
  const code = await new Promise<number | null>((res) => child.on('close', res));
  clearInterval(timer);
  return { code, ms: Date.now() - t0, peakRssMiB: Math.round(peakKiB / 1024), stdoutLines: lines, stderr: stderr.slice(0, 2000) };
}

async function hostileRun(args: string[]): Promise<number> {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { synFlood, rstStorm, seqWrap } = await import('./make-hostile.js');
  const i = args.indexOf('--sources');
  const sources = i >= 0 ? Number(args[i + 1]) : 1_000_000;
  const dir = mkdtempSync(resolve(tmpdir(), 'rstscope-hostile-'));
  let failures = 0;
  const report = (name: string, r: CliRun, ok: boolean) => {
    if (!ok) failures++;
    process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${name}: exit ${r.code}, ${(r.ms / 1000).toFixed(1)} s, peak RSS ${r.peakRssMiB} MiB, ${r.stdoutLines} stdout lines${r.stderr ? `\n       stderr: ${r.stderr.trim().split('\n').join('\n       stderr: ')}` : ''}\n`);
  };
  try {
    const flood = resolve(dir, 'flood.pcap');
    const gen = synFlood(flood, sources, 4, 60);
    process.stdout.write(`syn flood: ${gen.sources} sources, ${gen.frames} frames (${gen.refused} refused, ${gen.unanswered} unanswered)\n`);
    let r = await runMeasured(['analyze', flood]);
    report('analyze (table, default --max-connections)', r, r.code === 0 && r.stdoutLines < 500 && !/internal error/.test(r.stderr));
    r = await runMeasured(['analyze', '--max-connections', '5000', flood]);
    report('analyze (table, --max-connections 5000)', r, r.code === 0 && r.stdoutLines < 500 && /closed out early/.test(r.stderr));
    r = await runMeasured(['flows', '-f', 'zeek', '--max-connections', '5000', flood], ['--max-old-space-size=160']);
    report('flows -f zeek --max-connections 5000, heap capped at 160 MiB', r, r.code === 0 && r.stdoutLines >= sources);
    r = await runMeasured(['analyze', '-f', 'ndjson', '--max-connections', '5000', flood], ['--max-old-space-size=160']);
    report('analyze -f ndjson --max-connections 5000, heap capped at 160 MiB', r, r.code === 0 && r.stdoutLines >= sources);
    rmSync(flood);
    const storm = resolve(dir, 'storm.pcap');
    rstStorm(storm, sources);
    r = await runMeasured(['analyze', storm]);
    report(`analyze (table) on an RST storm of ${sources} RSTs`, r, r.code === 0 && r.stdoutLines < 500);
    rmSync(storm);
    const wrap = resolve(dir, 'wrap.pcap');
    seqWrap(wrap, 8, 10);
    r = await runMeasured(['flows', '-f', 'json', wrap]);
    report('flows on a transfer wrapping 2^32 eight times', r, r.code === 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return failures > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv.includes('--hostile')) {
  hostileRun(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
    process.stderr.write(`fuzz: ${(e as Error)?.stack ?? e}\n`);
    process.exitCode = 2;
  });
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  longRun(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
    process.stderr.write(`fuzz: ${(e as Error)?.stack ?? e}\n`);
    process.exitCode = 2;
  });
}
