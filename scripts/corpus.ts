/**
 * Precision harness (issue 15): runs the built CLI's `analyze -f ndjson` over
 * every capture file under one or more directories and writes a summary a
 * person can audit: files read / partial / unreadable, packets, connections,
 * findings per rule and severity, then every error- and warning-severity
 * finding with its file, frames, connection and story.
 *
 *   npm run corpus -- DIR [DIR...] [--out FILE] [--json] [--batch N] [--timeout S]
 *   npm run corpus -- --from RUN.json [--out FILE]   (render a saved --json run as Markdown)
 *
 * Files are tried when their name looks like a capture (.pcap .pcapng .cap
 * .dmp .trace .ntar, optionally .gz) or their first four bytes are a pcap or
 * pcapng magic number; the CLI decides what it can read. Files go to one
 * process per batch (at most --batch files and 64 MiB) to avoid a node start
 * per file; findings, connections and inputs are attributed to files by the
 * `input` index of the NDJSON lines (docs/schema.md), problems by the
 * `rstscope: FILE: why` lines on stderr (docs/exit-codes.md). A batch that
 * times out, crashes, reports an internal error or does not account for
 * every input is re-run one file per process, so one bad file costs only
 * itself. Needs no tshark: it only runs bin/rstscope.js (build first).
 *
 * Known gaps: a file that the CLI reads but that is inside an archive (zip)
 * is not unpacked; symbolic links are not followed.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const NAME = /\.(pcap|pcapng|cap|dmp|trace|ntar)(\.gz)?$/i;
const MAGICS = new Set(['a1b2c3d4', 'd4c3b2a1', 'a1b23c4d', '4d3cb2a1', '0a0d0d0a']);
const BATCH_BYTES = 64 * 1024 * 1024;

type Status = 'read' | 'partial' | 'unreadable' | 'timeout' | 'crashed';
type Severity = 'error' | 'warning' | 'info';

interface Options { dirs: string[]; out?: string; from?: string; json: boolean; batch: number; timeoutS: number; cli: string }

interface Endpoint { ip: string; port: number }
interface ConnLine {
  id: number; input: number; stream: number; orig: Endpoint; resp: Endpoint; firstFrame: number; lastFrame: number;
  state: string; history: string; duration: number; endReason: string;
}
interface FindingLine {
  rule: string; severity: Severity; connection: number; input: number; stream: number; frame: number;
  frames: number[]; actor: string; summary: string; evidence: unknown;
}
interface InputLine { file: string; format: string; packets: number; warnings: string[] }

export interface FileResult {
  file: string;
  status: Status;
  format: string;
  packets: number;
  connections: number;
  findings: number;
  problem?: string;
}

export interface AuditItem {
  file: string;
  rule: string;
  severity: Severity;
  stream: number;
  frame: number;
  frames: number[];
  actor: string;
  connection: string;
  summary: string;
  evidence: unknown;
}

export interface CorpusSummary {
  schema: 'rstscope/corpus@1';
  command: string;
  dirs: string[];
  files: Record<Status | 'found', number>;
  batches: { runs: number; exitCodes: Record<string, number>; retriedAlone: number };
  packets: number;
  connections: number;
  findings: { total: number; byRule: Record<string, Record<Severity, number>>; bySeverity: Record<Severity, number> };
  perFile: FileResult[];
  audit: AuditItem[];
}

function usage(msg: string): never {
  throw new Error(`${msg}\nusage: npm run corpus -- DIR [DIR...] [--out FILE] [--json] [--batch N] [--timeout SECONDS]\n       npm run corpus -- --from RUN.json [--out FILE]`);
}

function parseArgs(argv: string[]): Options {
  const here = dirname(fileURLToPath(import.meta.url));
  const o: Options = { dirs: [], json: false, batch: 40, timeoutS: 300, cli: resolve(here, '../../bin/rstscope.js') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
    if (a === '--out') o.out = value();
    else if (a === '--json') o.json = true;
    else if (a === '--from') o.from = value();
    else if (a === '--batch') o.batch = Math.max(1, Number(value()) | 0);
    else if (a === '--timeout') o.timeoutS = Math.max(1, Number(value()));
    else if (a === '--cli') o.cli = resolve(value());
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else o.dirs.push(a);
  }
  if (o.dirs.length === 0 && !o.from) usage('no directory given');
  return o;
}

function looksLikeCapture(path: string, size: number): boolean {
  if (NAME.test(path)) return true;
  if (size < 24) return false;
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, 0);
    return MAGICS.has(b.toString('hex'));
  } finally {
    closeSync(fd);
  }
}

/** Capture files under dir, recursively, sorted; symbolic links are not followed. */
function findCaptures(dir: string): { path: string; size: number }[] {
  const found: { path: string; size: number }[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = join(d, e.name);
      if (e.isDirectory()) { if (e.name !== '.git' && e.name !== 'node_modules') walk(p); }
      else if (e.isFile()) {
        const size = statSync(p).size;
        if (looksLikeCapture(p, size)) found.push({ path: p, size });
      }
    }
  };
  walk(dir);
  return found;
}

interface BatchOutcome {
  ok: boolean;
  code: string;
  results: FileResult[];
  audit: AuditItem[];
  byRule: FindingLine[];
}

function connText(c: ConnLine | undefined): string {
  if (!c) return '?';
  return `${c.orig.ip}:${c.orig.port} -> ${c.resp.ip}:${c.resp.port} ${c.state} ${c.history} frames ${c.firstFrame}-${c.lastFrame} ${c.duration.toFixed(3)} s (${c.endReason})`;
}

/** Runs one CLI process over files; ok=false when the batch must be re-run file by file. */
function runBatch(o: Options, files: string[], base: string): BatchOutcome {
  const r = spawnSync(process.execPath, [o.cli, 'analyze', '-f', 'ndjson', '-q', ...files] /* absolute paths: never taken for options */, {
    encoding: 'utf8', timeout: o.timeoutS * 1000, maxBuffer: 2 ** 31 - 1, killSignal: 'SIGKILL',
  });
  const code = r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? 'timeout'
    : r.signal ? `signal ${r.signal}` : String(r.status);
  const stderr = (r.stderr ?? '').split('\n').filter((l) => l.length > 0);
  const inputs: InputLine[] = [];
  const conns = new Map<number, ConnLine>();
  const connCount = new Map<number, number>();
  const findings: FindingLine[] = [];
  for (const line of (r.stdout ?? '').split('\n')) {
    if (line.length === 0) continue;
    let rec: { type?: string };
    try { rec = JSON.parse(line) as { type?: string }; } catch { continue; }
    if (rec.type === 'input') inputs.push(rec as unknown as InputLine);
    else if (rec.type === 'connection') {
      const c = rec as unknown as ConnLine;
      connCount.set(c.input, (connCount.get(c.input) ?? 0) + 1);
      conns.set(c.id, c);
    } else if (rec.type === 'finding') findings.push(rec as unknown as FindingLine);
  }
  const internal = stderr.some((l) => l.includes('internal error'));
  const complete = inputs.length === files.length && inputs.every((inp, i) => inp.file === files[i]);
  const ok = code !== 'timeout' && !code.startsWith('signal') && ['0', '1', '2', '3'].includes(code) && !internal && complete;
  if (!ok) {
    const why = code === 'timeout' ? `no result within ${o.timeoutS} s`
      : (stderr.find((l) => l.includes('internal error')) ?? stderr[0] ?? `exit ${code}`);
    return {
      ok, code, audit: [], byRule: [],
      results: files.map((f) => ({ file: relative(base, f), status: code === 'timeout' ? 'timeout' : 'crashed', format: '?', packets: 0, connections: 0, findings: 0, problem: why })),
    };
  }
  const results: FileResult[] = inputs.map((inp, i) => {
    const problem = stderr.find((l) => l.startsWith(`rstscope: ${files[i]}: `));
    const status: Status = inp.format === 'unknown' ? 'unreadable' : problem ? 'partial' : 'read';
    return {
      file: relative(base, files[i]), status, format: inp.format, packets: inp.packets,
      connections: connCount.get(i) ?? 0, findings: findings.filter((f) => f.input === i).length,
      problem: problem?.slice(`rstscope: ${files[i]}: `.length),
    };
  });
  const audit: AuditItem[] = findings.filter((f) => f.severity !== 'info').map((f) => ({
    file: relative(base, files[f.input]), rule: f.rule, severity: f.severity, stream: f.stream, frame: f.frame,
    frames: f.frames, actor: f.actor, connection: connText(conns.get(f.connection)), summary: f.summary, evidence: f.evidence,
  }));
  return { ok, code, results, audit, byRule: findings };
}

export function runCorpus(o: Options, command: string): CorpusSummary {
  const s: CorpusSummary = {
    schema: 'rstscope/corpus@1', command, dirs: o.dirs,
    files: { found: 0, read: 0, partial: 0, unreadable: 0, timeout: 0, crashed: 0 },
    batches: { runs: 0, exitCodes: {}, retriedAlone: 0 },
    packets: 0, connections: 0,
    findings: { total: 0, byRule: {}, bySeverity: { error: 0, warning: 0, info: 0 } },
    perFile: [], audit: [],
  };
  const take = (b: BatchOutcome): void => {
    s.batches.runs++;
    s.batches.exitCodes[b.code] = (s.batches.exitCodes[b.code] ?? 0) + 1;
    for (const r of b.results) {
      s.perFile.push(r);
      s.files[r.status]++;
      s.packets += r.packets;
      s.connections += r.connections;
    }
    for (const f of b.byRule) {
      const row = (s.findings.byRule[f.rule] ??= { error: 0, warning: 0, info: 0 });
      row[f.severity]++;
      s.findings.bySeverity[f.severity]++;
      s.findings.total++;
    }
    s.audit.push(...b.audit);
  };
  for (const dir of o.dirs) {
    const base = resolve(dir);
    const files = findCaptures(base);
    s.files.found += files.length;
    for (let i = 0; i < files.length;) {
      const batch: string[] = [];
      let bytes = 0;
      while (i < files.length && batch.length < o.batch && (batch.length === 0 || bytes + files[i].size <= BATCH_BYTES)) {
        bytes += files[i].size;
        batch.push(files[i++].path);
      }
      process.stderr.write(`corpus: ${relative(process.cwd(), base) || '.'}: ${i}/${files.length} files\r`);
      const out = runBatch(o, batch, base);
      if (out.ok || batch.length === 1) { take(out); continue; }
      s.batches.retriedAlone += batch.length;
      for (const f of batch) take(runBatch(o, [f], base));
    }
    process.stderr.write('\n');
  }
  const sevRank: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
  s.audit.sort((a, b) => (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0) || sevRank[a.severity] - sevRank[b.severity]
    || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.frame - b.frame);
  return s;
}

function md(s: CorpusSummary): string {
  const L: string[] = [];
  const esc = (t: string): string => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  L.push('# rstscope precision run', '', `Command: \`${s.command}\``, '');
  L.push('| files found | read in full | partial | unreadable | timed out | crashed | packets | connections | findings |');
  L.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  L.push(`| ${s.files.found} | ${s.files.read} | ${s.files.partial} | ${s.files.unreadable} | ${s.files.timeout} | ${s.files.crashed} | ${s.packets} | ${s.connections} | ${s.findings.total} |`);
  L.push('', `Processes: ${s.batches.runs}; exit codes ${Object.entries(s.batches.exitCodes).map(([k, v]) => `${k}: ${v}`).join(', ')}; files re-run alone after a failed batch: ${s.batches.retriedAlone}.`, '');
  L.push('## Findings per rule', '', '| rule | error | warning | info | total |', '| --- | ---: | ---: | ---: | ---: |');
  for (const rule of Object.keys(s.findings.byRule).sort()) {
    const r = s.findings.byRule[rule];
    L.push(`| ${rule} | ${r.error} | ${r.warning} | ${r.info} | ${r.error + r.warning + r.info} |`);
  }
  const b = s.findings.bySeverity;
  L.push(`| **all** | ${b.error} | ${b.warning} | ${b.info} | ${s.findings.total} |`, '');
  const bad = s.perFile.filter((f) => f.status !== 'read');
  if (bad.length > 0) {
    L.push('## Files not read in full', '', '| file | status | packets | problem |', '| --- | --- | ---: | --- |');
    for (const f of bad) L.push(`| ${esc(f.file)} | ${f.status} | ${f.packets} | ${esc(f.problem ?? '')} |`);
    L.push('');
  }
  L.push('## Error and warning findings', '');
  L.push('Each with the command that shows its connection (`tcp.stream` equals `stream` unless port reuse split it differently).', '');
  let rule = '';
  for (const a of s.audit) {
    if (a.rule !== rule) { if (rule !== '') L.push(''); rule = a.rule; L.push(`### ${rule}`, ''); }
    L.push(`- **${a.severity}** \`${a.file}\` stream ${a.stream}, key frame ${a.frame}, frames ${a.frames.join(',')}; ${a.actor}`);
    L.push(`  - connection: ${a.connection}`);
    L.push(`  - story: ${a.summary}`);
    L.push(`  - evidence: \`${JSON.stringify(a.evidence)}\``);
    L.push(`  - check: \`tshark -r '${a.file}' -Y 'tcp.stream==${a.stream}'\``);
  }
  if (s.audit.length === 0) L.push('None.');
  return L.join('\n') + '\n';
}

function main(): void {
  let o: Options;
  try { o = parseArgs(process.argv.slice(2)); } catch (e) {
    process.stderr.write(`corpus: ${(e as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const command = `npm run corpus -- ${process.argv.slice(2).join(' ')}`;
  const s = o.from ? JSON.parse(readFileSync(o.from, 'utf8')) as CorpusSummary : runCorpus(o, command);
  const text = o.json ? JSON.stringify(s, null, 1) + '\n' : md(s);
  if (o.out) writeFileSync(o.out, text);
  else process.stdout.write(text);
}

main();
