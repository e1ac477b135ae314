/**
 * --workers N: connections are tracked in N worker threads (by symmetric flow
 * hash) and merged deterministically; the output equals one process's, byte
 * for byte, except stats.maxLive (the sum of the workers' peaks).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CAPTURES, ROOT, runCli } from './helpers.js';

const INPUTS = [
  ...readdirSync(CAPTURES).filter((f) => f.endsWith('.pcap')).sort().map((f) => join(CAPTURES, f)),
  join(ROOT, '../shared/corpus/zeek/traces/pop3.pcap'),
  join(ROOT, '../shared/corpus/zeek/traces/ssh.pcap'),
];

const withoutMaxLive = (s: string) => s.split('\n').filter((l) => !l.includes('"maxLive"')).join('\n');

for (const cmd of ['analyze', 'flows']) {
  test(`${cmd} --workers 2 and 3 give one process's JSON`, async () => {
    const one = await runCli([cmd, '--format', 'json', ...INPUTS]);
    assert.equal(one.code, 0, one.stderr);
    for (const n of ['2', '3']) {
      const many = await runCli([cmd, '--format', 'json', '--workers', n, ...INPUTS]);
      assert.equal(many.code, 0, many.stderr);
      assert.equal(withoutMaxLive(many.stdout), withoutMaxLive(one.stdout), `--workers ${n}`);
    }
  });
}

test('analyze --workers 2: the same table and the same NDJSON records', async () => {
  const one = await runCli(['analyze', ...INPUTS]);
  const two = await runCli(['analyze', '--workers', '2', ...INPUTS]);
  assert.equal(two.stdout, one.stdout);
  const sorted = (s: string) => s.trim().split('\n').sort().join('\n');
  const n1 = await runCli(['analyze', '--format', 'ndjson', ...INPUTS]);
  const n2 = await runCli(['analyze', '--format', 'ndjson', '--workers', '2', ...INPUTS]);
  assert.equal(sorted(n2.stdout), sorted(n1.stdout));
});
