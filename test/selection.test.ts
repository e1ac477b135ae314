/**
 * --since/--until, --stream/--uid, --rule/--min-severity on the built CLI:
 * what each selects, that each bad value is a usage error naming the option
 * (exit 2), and that options which select everything change nothing (the
 * default output stays byte for byte what it was).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CAPTURES, runCli } from './helpers.js';

interface Conn { stream: number; uid: string; ts: number; firstFrame: number; lastFrame: number }
interface Doc { connections: Conn[]; findings: { rule: string; severity: string; connection: number }[] }

async function json(args: string[]): Promise<Doc> {
  const r = await runCli(args);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Doc;
}

const STALE = join(CAPTURES, 'stale-connection.pcap');
// stale-connection.pcap: first frame at 1796660683.119018; connections start at frames 1, 6 (.467169) and 9 (.476809)

test('--since/--until keep the frames in [since, until): relative to the first frame, ISO-8601 and epoch seconds alike', async () => {
  const frames = async (...opts: string[]) => (await json(['flows', '-f', 'json', STALE, ...opts])).connections.map((c) => [c.firstFrame, c.lastFrame]);
  assert.deepEqual(await frames(), [[1, 5], [6, 8], [9, 16]]);
  assert.deepEqual(await frames('--since', '+0.348151s'), [[6, 8], [9, 16]]);
  assert.deepEqual(await frames('--since', '+348151us'), [[6, 8], [9, 16]]);
  // a microsecond later frame 6 is left out: its connection is seen from frame 7 on (packets are selected, not connections)
  assert.deepEqual(await frames('--since', '+348.152ms'), [[7, 8], [9, 16]]);
  assert.deepEqual(await frames('--until', '+0.348151s'), [[1, 5]]);
  assert.deepEqual(await frames('--since', '2026-12-07T16:24:43.467169Z', '--until', '2026-12-07 18:24:43.476809+02:00'), [[6, 8]]);
  assert.deepEqual(await frames('--since', '1796660683.467169', '--until', '1796660683.476809'), [[6, 8]]);
  assert.deepEqual(await frames('--until', '+0'), []);
  assert.deepEqual(await frames('--since', '+1h'), []);
});

test('--stream and --uid select connections; --rule and --min-severity select findings (and --fail-on sees only those)', async () => {
  const all = await json(['flows', '-f', 'json', STALE]);
  const one = await json(['flows', '-f', 'json', STALE, '--stream', '1']);
  assert.deepEqual(one.connections, [all.connections[1]]);
  const two = await json(['flows', '-f', 'json', STALE, '--stream', '2', '--stream', '0']);
  assert.deepEqual(two.connections, [all.connections[0], all.connections[2]]);
  assert.deepEqual((await json(['flows', '-f', 'json', STALE, '--stream', '0,2'])).connections, two.connections);
  const byUid = await json(['flows', '-f', 'json', STALE, '--uid', all.connections[2].uid]);
  assert.deepEqual(byUid.connections, [all.connections[2]]);
  assert.deepEqual((await json(['flows', '-f', 'json', STALE, '--uid', 'CAAAAAAAAAAAAAAAA'])).connections, []);

  const exact = join(CAPTURES, 'rst-suspicious-exact.pcap');
  const rules = (d: Doc) => d.findings.map((f) => `${f.rule}:${f.severity}`).sort();
  // the half-open is the forged RST's consequence: ranked with it (warning), src/rules/consequence.ts
  assert.deepEqual(rules(await json(['analyze', '-f', 'json', exact])), ['half-open:warning', 'rst-suspicious:warning']);
  assert.deepEqual(rules(await json(['analyze', '-f', 'json', exact, '--rule', 'rst-suspicious'])), ['rst-suspicious:warning']);
  assert.deepEqual(rules(await json(['analyze', '-f', 'json', exact, '--rule', 'half-open,refused'])), ['half-open:warning']);
  assert.deepEqual(rules(await json(['analyze', '-f', 'json', exact, '--min-severity', 'error'])), []);
  const both = [exact, join(CAPTURES, 'half-open.pcap'), '--per-file'];
  assert.deepEqual(rules(await json(['analyze', '-f', 'json', ...both, '--min-severity', 'error'])), ['half-open:error']);
  assert.deepEqual(rules(await json(['analyze', '-f', 'json', ...both, '--min-severity', 'warning'])), ['half-open:error', 'half-open:warning', 'rst-suspicious:warning']);
  const sel = await json(['analyze', '-f', 'json', exact, '--rule', 'refused']);
  assert.deepEqual(sel.findings, []);
  assert.equal(sel.connections.length, 1, 'the connections stay');
  const gate = await runCli(['analyze', exact, '--rule', 'half-open', '--fail-on', 'warning']);
  assert.equal(gate.code, 1);
  const open = await runCli(['analyze', exact, '--min-severity', 'error', '--rule', 'rst-suspicious', '--fail-on', 'warning']);
  assert.equal(open.code, 0, open.stdout);
  const table = await runCli(['analyze', exact, '--rule', 'rst-suspicious']);
  assert.match(table.stdout, /rst-suspicious/);
  assert.doesNotMatch(table.stdout, /half-open/);
});

test('a bad selection value is a usage error naming its option (exit 2)', async () => {
  const cases: [string[], RegExp][] = [
    [['--since', 'yesterday'], /^rstscope: --since takes \+DURATION/],
    [['--until', '2024-05-01T10:00:00'], /^rstscope: --until .*give the zone/],
    [['--since', '2024-02-30T10:00:00Z'], /^rstscope: --since .*no such date/],
    [['--since', '+5m', '--until', '+1m'], /^rstscope: --since \+5m is not before --until \+1m/],
    [['--since', '+1s', '--since', '+2s'], /^rstscope: --since is given more than once/],
    [['--stream', 'abc'], /^rstscope: --stream takes a stream number/],
    [['--stream', '-1'], /^rstscope: --stream takes a stream number/],
    [['--stream', '1,x'], /^rstscope: --stream takes a stream number .*not "x"/],
    [['--uid', 'x1'], /^rstscope: --uid takes a connection uid/],
    [['--rule', 'no-such-rule'], /^rstscope: --rule: no rule "no-such-rule" \(rules: refused, /],
    [['--min-severity', 'fatal'], /min-severity/],
    [['--filter', 'host'], /^rstscope: --filter "host": expected an address or number at the end/],
  ];
  for (const [opts, want] of cases) {
    for (const cmd of opts[0] === '--rule' || opts[0] === '--min-severity' ? ['analyze', 'report'] : ['analyze', 'flows', 'report']) {
      const r = await runCli([cmd, join(CAPTURES, 'refused.pcap'), ...opts, ...(cmd === 'report' ? ['--format', 'md'] : [])]);
      assert.equal(r.code, 2, `${cmd} ${opts.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, want, `${cmd} ${opts.join(' ')}`);
    }
  }
});

test('selections that keep everything leave the output byte for byte as without them', async () => {
  const files = readdirSync(CAPTURES).filter((f) => f.endsWith('.pcap')).map((f) => join(CAPTURES, f));
  const plain = await runCli(['analyze', '-f', 'json', '--per-file', ...files]);
  const all = await runCli(['analyze', '-f', 'json', '--per-file', ...files,
    '--filter', 'ip or ip6', '--since', '0', '--until', '4000000000', '--min-severity', 'info']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(all.stdout, plain.stdout);
  const some = await runCli(['analyze', '-f', 'json', '--per-file', ...files, '--filter', 'not port 0']);
  assert.equal(some.stdout, plain.stdout);
});

test('with --filter or --since/--until, stderr says what they left out (the same with --workers); without them, nothing', async () => {
  const file = join(CAPTURES, 'stale-connection.pcap');
  const args = ['analyze', file, '--filter', 'tcp[tcpflags] & tcp-rst = 0', '--until', '+0.37s'];
  const one = await runCli(args);
  assert.equal(one.code, 0, one.stderr);
  // 16 TCP frames: the last 3 after the window (from +0.375791 s), the RST (frame 8) left out by the filter
  const m = /^rstscope: selection: (\d+) TCP segment\(s\) analyzed; (\d+) left out by --filter; (\d+) frame\(s\) outside --since\/--until$/m.exec(one.stderr);
  assert.ok(m, one.stderr);
  assert.equal(Number(m[1]) + Number(m[2]) + Number(m[3]), 16);
  assert.deepEqual([m[1], m[2], m[3]], ['12', '1', '3']);
  const two = await runCli([...args, '--workers', '2']);
  assert.equal(two.stderr, one.stderr);
  assert.equal(two.stdout, one.stdout);
  const none = await runCli(['analyze', file]);
  assert.doesNotMatch(none.stderr, /selection/);
});
