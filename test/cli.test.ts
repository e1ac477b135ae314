/** The built CLI end to end: commands, formats and exit codes (src/cli/exit.ts). */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CAPTURES, runCli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'rstscope-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const WAPC = join(CAPTURES, 'write-after-peer-close-bug.pcap');
const NORMAL = join(CAPTURES, 'normal-close.pcap');

test('--help teaches: commands, exit codes, examples', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  for (const w of ['analyze', 'flows', 'rules', 'explain', 'Exit status']) assert.ok(r.stdout.includes(w), w);
  const a = await runCli(['analyze', '--help']);
  assert.ok(a.stdout.includes('--fail-on') && a.stdout.includes('Examples'));
});

test('no command, an unknown command or option: one-line usage error, exit 2', async () => {
  for (const args of [[], ['frobnicate'], ['flows', NORMAL, '--bogus']]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.ok(!r.stderr.includes('    at '), 'no stack trace');
  }
});

test('a missing file and a non-capture are exit 2 with a clear message', async () => {
  const r = await runCli(['flows', join(dir, 'nope.pcap')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /nope\.pcap: no such file/);
  const txt = join(dir, 'notes.txt');
  writeFileSync(txt, 'hello world, not a capture');
  const r2 = await runCli(['flows', txt]);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /not a pcap or pcapng capture: first bytes are 68 65 6c 6c/);
});

test('a truncated file: results for what was read, exit 3, stderr names file, offset and record', async () => {
  const full = readFileSync(WAPC);
  const cut = join(dir, 'cut.pcap');
  writeFileSync(cut, full.subarray(0, full.length - 10));
  const r = await runCli(['flows', '--format', 'json', cut]);
  assert.equal(r.code, 3);
  const doc = JSON.parse(r.stdout) as { connections: unknown[]; inputs: { packets: number }[] };
  assert.equal(doc.inputs[0].packets, 6);
  assert.equal(doc.connections.length, 1);
  assert.match(r.stderr, /cut\.pcap: truncated at byte offset \d+ \(record 7\)/);
});

test('analyze --fail-on: exit 1 at or above the severity, 0 below it', async () => {
  assert.equal((await runCli(['analyze', '--fail-on', 'error', WAPC])).code, 1);
  assert.equal((await runCli(['analyze', '--fail-on', 'warning', NORMAL])).code, 0);
  assert.equal((await runCli(['analyze', WAPC])).code, 0);
});

test('analyze --format json holds the flows document plus findings', async () => {
  const r = await runCli(['analyze', '--format', 'json', WAPC]);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.schema, 'rstscope/analyze@1');
  const c = doc.connections[0];
  for (const k of ['id', 'orig', 'resp', 'firstFrame', 'lastFrame', 'ts', 'duration', 'state', 'history', 'origPkts', 'respPkts', 'origBytes', 'respBytes']) {
    assert.ok(k in c, k);
  }
  assert.equal(typeof c.ts, 'number');
  const f = doc.findings[0];
  for (const k of ['rule', 'severity', 'connection', 'frame', 'frames', 'ts', 'actor', 'summary', 'evidence', 'app']) assert.ok(k in f, k);
  assert.equal(f.connection, c.id);
  assert.equal(doc.totals.bySeverity.error, 1);
});

test('analyze --format ndjson streams connections then their findings, then inputs', async () => {
  const r = await runCli(['analyze', '--format', 'ndjson', '--per-file', WAPC, NORMAL]);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.type), ['connection', 'finding', 'input', 'connection', 'input']);
  // without --per-file the two files are one capture: one input line, at the end, listing both files
  const set = (await runCli(['analyze', '--format', 'ndjson', WAPC, NORMAL])).stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(set.map((l) => l.type), ['connection', 'finding', 'connection', 'input']);
  assert.deepEqual(set[3].files.map((f: { file: string }) => f.file), [WAPC, NORMAL]);
});

test('flows --format zeek writes a conn.log that zeek-cut style tools read', async () => {
  const r = await runCli(['flows', '--format', 'zeek', WAPC]);
  const lines = r.stdout.trim().split('\n');
  const fields = lines.find((l) => l.startsWith('#fields'))!.split('\t').slice(1);
  const row = lines.find((l) => !l.startsWith('#'))!.split('\t');
  assert.equal(row.length, fields.length);
  assert.equal(row[fields.indexOf('conn_state')], 'RSTR');
  assert.equal(row[fields.indexOf('proto')], 'tcp');
  assert.ok(lines[lines.length - 1].startsWith('#close'));
});

test('rules lists every rule; explain prints its page; an unknown id is exit 2', async () => {
  const r = await runCli(['rules', '--format', 'json']);
  const ids = (JSON.parse(r.stdout) as { id: string }[]).map((x) => x.id);
  assert.deepEqual(ids.sort(), ['abortive-close', 'half-close', 'half-open', 'keepalive-reset', 'refused', 'rst-suspicious',
    'rst-with-unread-data', 'self-connect', 'simultaneous-close', 'simultaneous-open', 'stale-connection', 'syn-unanswered', 'synack-reset', 'write-after-peer-close']);
  const e = await runCli(['explain', 'write-after-peer-close']);
  assert.equal(e.code, 0);
  assert.match(e.stdout, /SIGPIPE/);
  assert.match(e.stdout, /## How to fix/);
  const bad = await runCli(['explain', 'nope']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no rule 'nope'/);
});

test('output into a closed pipe ends quietly', async () => {
  const { spawn } = await import('node:child_process');
  const { BIN } = await import('./helpers.js');
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [BIN, 'flows', '--format', 'ndjson', ...Array(200).fill(NORMAL)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.once('data', () => child.stdout.destroy());
    child.on('close', (c) => { assert.equal(err, ''); resolve(c); });
  });
  assert.equal(code, 0);
});

test('report checks --shard as analyze does: a malformed shard is a usage error (exit 2)', async () => {
  for (const cmd of [['analyze'], ['report', '--format', 'md']]) {
    for (const bad of ['9/2', '2/2', 'x/2']) {
      const r = await runCli([...cmd, '--shard', bad, WAPC]);
      assert.equal(r.code, 2, `${cmd[0]} --shard ${bad}: ${r.stderr}`);
      assert.match(r.stderr, /--shard takes K\/N with 0 <= K < N/);
      assert.equal(r.stdout, '', 'no report');
    }
  }
});

test('report --shard K/N reports shard K only: the shards together hold every connection and finding once', async () => {
  const { readdirSync } = await import('node:fs');
  const files = readdirSync(CAPTURES).filter((f) => f.endsWith('.pcap')).sort().map((f) => join(CAPTURES, f));
  const counts = async (extra: string[]): Promise<[number, number]> => {
    const r = await runCli(['report', '--format', 'md', ...extra, ...files]);
    assert.equal(r.code, 0, r.stderr);
    const m = /(\d+) finding\(s\) in (\d+) connection\(s\)/.exec(r.stdout);
    assert.ok(m, 'the report names its counts');
    return [Number(m[1]), Number(m[2])];
  };
  const [findings, connections] = await counts([]);
  const [f0, c0] = await counts(['--shard', '0/2']);
  const [f1, c1] = await counts(['--shard', '1/2']);
  assert.ok(c0 > 0 && c1 > 0 && c0 < connections, `both shards hold some connections (${c0}, ${c1} of ${connections})`);
  assert.equal(c0 + c1, connections);
  assert.equal(f0 + f1, findings);
});

test('report does not take --workers (its collector needs the tracker\'s connections, which workers do not send)', async () => {
  const r = await runCli(['report', '--format', 'md', '--workers', '2', WAPC]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /unknown option --workers/);
});

test('numeric options take whole numbers in range: a usage error names the option', async () => {
  for (const args of [
    ['analyze', '--max-connections', '0', WAPC],
    ['flows', '--max-connections', 'many', WAPC],
    ['report', '--format', 'md', '--max-connections', '1.5', WAPC],
    ['report', '--format', 'md', '--max-details', '-1', WAPC],
    ['report', '--format', 'md', '--payload-bytes', 'x', WAPC],
  ]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, args.join(' '));
    const option = args.find((a) => a.startsWith('--') && a !== '--format')!;
    assert.match(r.stderr, new RegExp(`${option} takes a whole number >= \\d+, not "`), args.join(' '));
  }
});
