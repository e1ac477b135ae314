/**
 * --workers N: every worker reads the inputs and tracks one shard of the
 * connections; the main thread merges their streams (src/analysis/parallel.ts).
 * Held here: every format is byte-identical for N = 1, 2, 3; JSON documents
 * and tables equal one process's; NDJSON and Zeek lines are one process's
 * lines (the order may differ only among connections closed out at the same
 * frame); problems, stderr and exit codes are one process's; a failing
 * worker ends the run with an error, never a hang.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, CAPTURES, ROOT, runCli, ZEEK_TRACES, type CliResult } from './helpers.js';

const CORPUS = ZEEK_TRACES;
/**
 * Each file on its own (--per-file, as these tests were written: one input per file); capture sets with
 * workers are held in capture-set.test.ts. Merged into one set, these captures hit a timer difference
 * between lanes that a single mergecap'd file shows as well (the SYN-retry queue is FIFO while its
 * re-armed deadlines are not monotonic), so they stay per file here until that is fixed.
 */
const PER_FILE = '--per-file';
const INPUTS = [
  ...readdirSync(CAPTURES).filter((f) => f.endsWith('.pcap')).sort().map((f) => join(CAPTURES, f)),
  join(CORPUS, 'pop3.pcap'),
  join(CORPUS, 'ssh.pcap'),
];
/** more connections and both capture formats, for the batching tests */
const MANY = [
  ...readdirSync(CORPUS).filter((f) => /\.pcap(ng)?$/.test(f)).sort().map((f) => join(CORPUS, f)),
  ...INPUTS,
];

const withoutMaxLive = (s: string) => s.split('\n').filter((l) => !l.includes('"maxLive"')).join('\n');
/** Zeek logs: drop the #open/#close lines (they carry the wall-clock time) */
const withoutZeekTimes = (s: string) => s.split('\n').filter((l) => !/^#(open|close)\t/.test(l)).join('\n');

/** Runs the CLI with extra environment variables (runCli has no env option). */
function runEnv(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const errb: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => errb.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errb).toString('utf8') });
    });
  });
}

/** Runs one command for N = 1, 2, 3; asserts equal exit codes, stderr and (normalized) stdout; returns the N = 1 run. */
async function sameForAllN(args: string[], env: Record<string, string> = {}, normalize = (s: string) => s): Promise<CliResult> {
  const runs = await Promise.all(['1', '2', '3'].map((n) => runEnv([...args, '--workers', n], env)));
  for (const [i, r] of runs.entries()) {
    assert.equal(r.code, runs[0].code, `--workers ${i + 1}: exit code\n${r.stderr}`);
    assert.equal(r.stderr, runs[0].stderr, `--workers ${i + 1}: stderr`);
    assert.equal(normalize(r.stdout), normalize(runs[0].stdout), `--workers ${i + 1}: ${args.join(' ')}`);
  }
  return runs[0];
}

for (const cmd of ['analyze', 'flows']) {
  test(`${cmd} --workers 1, 2, 3: one process's JSON document and table`, async () => {
    for (const format of ['json', 'table']) {
      const one = await runCli([cmd, '--format', format, PER_FILE, ...INPUTS]);
      assert.equal(one.code, 0, one.stderr);
      const many = await sameForAllN([cmd, '--format', format, PER_FILE, ...INPUTS]);
      assert.equal(many.code, 0, many.stderr);
      // stats.maxLive is recomputed from creation and close frames; one process's
      // is compared too, but a tracker change could make it an estimate
      assert.equal(withoutMaxLive(many.stdout), withoutMaxLive(one.stdout), `${cmd} --format ${format}`);
      assert.equal(many.stdout, one.stdout, `${cmd} --format ${format}: stats.maxLive`);
    }
  });
}

test('NDJSON and Zeek: byte-identical for N = 1, 2, 3 and to one process', async () => {
  for (const [cmd, format] of [['analyze', 'ndjson'], ['flows', 'ndjson'], ['flows', 'zeek']]) {
    const norm = format === 'zeek' ? withoutZeekTimes : (s: string) => s;
    const one = await runCli([cmd, '--format', format, PER_FILE, ...INPUTS]);
    assert.equal(one.code, 0, one.stderr);
    const many = await sameForAllN([cmd, '--format', format, PER_FILE, ...INPUTS], {}, norm);
    assert.equal(many.code, 0, many.stderr);
    // one process streams in the merge's order (close frame, then first frame): the same bytes
    assert.equal(norm(many.stdout), norm(one.stdout), `${cmd} --format ${format}`);
    // every input line still follows its connections
    if (format === 'ndjson') {
      const types = many.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
      assert.equal(types.filter((t) => t === 'input').length, INPUTS.length);
      assert.equal(types[types.length - 1], 'input');
    }
  }
});

test('one record per batch and an ack per batch: the same output (merge, renumbering, backpressure)', async () => {
  const tiny = { RSTSCOPE_TEST_WORKER_BATCH: '1' };
  for (const [cmd, format] of [['analyze', 'ndjson'], ['analyze', 'json'], ['flows', 'zeek']]) {
    const norm = format === 'zeek' ? withoutZeekTimes : (s: string) => s;
    const one = await runCli([cmd, '--format', format, PER_FILE, ...MANY]);
    const batched = await sameForAllN([cmd, '--format', format, PER_FILE, ...MANY], tiny, norm);
    const plain = await runEnv([cmd, '--format', format, PER_FILE, '--workers', '2', ...MANY], {});
    assert.equal(batched.code, one.code, batched.stderr);
    assert.equal(batched.stderr, one.stderr);
    assert.equal(norm(batched.stdout), norm(plain.stdout), `${cmd} --format ${format}: batch size changes nothing`);
    assert.equal(norm(batched.stdout), norm(one.stdout));
  }
});

test('a truncated and a missing input: one process\'s exit code, stderr and records', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rstscope-workers-'));
  const whole = readFileSync(join(CORPUS, 'ssh.pcap'));
  const cut = join(dir, 'cut.pcap');
  writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.6)));
  const missing = join(dir, 'missing.pcap');
  for (const inputs of [[cut], [INPUTS[0], cut, INPUTS[1]], [missing, INPUTS[0]], [missing]]) {
    for (const format of ['ndjson', 'json']) {
      const one = await runCli(['analyze', '--format', format, ...inputs]);
      const many = await sameForAllN(['analyze', '--format', format, ...inputs]);
      assert.equal(many.code, one.code, `${inputs.join(' ')} ${format}: exit code`);
      assert.equal(many.stderr, one.stderr, `${inputs.join(' ')} ${format}: stderr`);
      assert.equal(many.stdout, one.stdout);
    }
  }
  const r = await runCli(['analyze', cut]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /truncated at byte offset/);
});

test('a failing worker ends the run with an error naming it, not a hang', async () => {
  const r = await runEnv(['flows', '--format', 'ndjson', '--workers', '2', ...MANY], { RSTSCOPE_TEST_WORKER_FAULT: '1' }, 30_000);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /worker thread 1 failed: injected worker fault/);
});

test('--workers must be a whole number from 1 to 64', async () => {
  for (const bad of ['0', '-1', '1.5', 'many', '65']) {
    const r = await runCli(['flows', '--workers', bad, INPUTS[0]]);
    assert.equal(r.code, 2, `--workers ${bad}`);
    assert.match(r.stderr, /--workers takes a whole number/);
  }
});

test('--workers with --shard: the workers split the shard, output equals the shard alone', async () => {
  for (const k of ['0', '1']) {
    const alone = await runCli(['flows', '--format', 'json', '--shard', `${k}/2`, ...INPUTS]);
    const split = await sameForAllN(['flows', '--format', 'json', '--shard', `${k}/2`, ...INPUTS]);
    assert.equal(split.stdout, alone.stdout, `--shard ${k}/2`);
  }
});
