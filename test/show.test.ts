/**
 * `rstscope show FILE STREAM|UID` on the built CLI: the connection chosen by
 * stream number or uid, its ladder (one line per packet kept, in frame order,
 * arrows pointing the way the packet went), history, RSTs with shape and
 * acceptance, findings with evidence; and the usage errors.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { CAPTURES, runCli } from './helpers.js';

interface Conn { stream: number; uid: string; history: string; state: string; firstFrame: number; lastFrame: number; resets: { frame: number; shape: string; acceptance: string }[] }

test('show prints the connection chosen by stream or uid: ladder, history, RSTs, findings with evidence', async () => {
  const file = join(CAPTURES, 'rst-suspicious-exact.pcap');
  const flows = JSON.parse((await runCli(['flows', '-f', 'json', file])).stdout) as { connections: Conn[] };
  const analysis = JSON.parse((await runCli(['analyze', '-f', 'json', file])).stdout) as { findings: { rule: string; frame: number; evidence: Record<string, unknown> }[] };
  const c = flows.connections[0];
  const byStream = await runCli(['show', file, String(c.stream)]);
  assert.equal(byStream.code, 0, byStream.stderr);
  const byUid = await runCli(['show', file, c.uid]);
  assert.equal(byUid.stdout, byStream.stdout);
  const text = byStream.stdout;
  assert.match(text, new RegExp(`uid ${c.uid}`));
  assert.match(text, new RegExp(`state ${c.state}: `));
  assert.match(text, new RegExp(`history ${c.history.replace('^', '\\^')}: `));
  // the ladder: one row per frame of the connection, ascending, arrows by direction
  const rows = text.split('\n').filter((l) => /^[* ] +\d+  [+-]\d+\.\d{6}  \|/.test(l));
  const frames = rows.map((l) => Number(/^[* ] +(\d+)/.exec(l)![1]));
  assert.deepEqual(frames, Array.from({ length: c.lastFrame - c.firstFrame + 1 }, (_, i) => c.firstFrame + i));
  assert.ok(rows.every((l) => /\|-+ .* -*>\|$/.test(l) || /\|<-+ .* -+\|$/.test(l)), rows.join('\n'));
  assert.match(rows[0], /SYN .*>\|$/, 'the first packet, the SYN, goes right (originator to responder)');
  for (const r of c.resets) assert.match(text, new RegExp(`frame ${r.frame} from the \\w+: shape ${r.shape} \\(.*\\); acceptance ${r.acceptance} \\(`));
  assert.ok(c.resets.length > 0);
  for (const f of analysis.findings) {
    assert.match(text, new RegExp(`\\w+ ${f.rule}, frame ${f.frame} `));
    const key = Object.keys(f.evidence)[0];
    assert.match(text, new RegExp(`\\n      ${key}: `));
    const row = rows.find((l) => Number(/^[* ] +(\d+)/.exec(l)![1]) === f.frame)!;
    assert.ok(row.startsWith('*'), `the key frame ${f.frame} is marked`);
  }
});

test('show on a connection without findings, and with --filter choosing among what is left', async () => {
  const file = join(CAPTURES, 'stale-connection.pcap');
  const r = await runCli(['show', file, '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /stream 2 /);
  const filtered = await runCli(['show', file, '0', '--since', '+0.348151s']);
  assert.match(filtered.stdout, /frames 6-8,/, 'stream 0 of the frames left');
});

test('show: a connection that is not there, or a bad reference, exits 2', async () => {
  const file = join(CAPTURES, 'stale-connection.pcap');
  const missing = await runCli(['show', file, '7']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no connection with stream 7 in .*stale-connection\.pcap \(it has 3 connection\(s\): streams 0 to 2\)/);
  const noUid = await runCli(['show', file, 'CAAAAAAAAAAAAAAAA']);
  assert.equal(noUid.code, 2);
  const bad = await runCli(['show', file, 'x7']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /stream number .* or a uid/);
  const nofile = await runCli(['show', join(CAPTURES, 'nope.pcap'), '0']);
  assert.equal(nofile.code, 2);
  assert.doesNotMatch(nofile.stderr, /no connection with/);
});
