/**
 * --shard K/N: N processes each analyze a disjoint set of connections (by a
 * symmetric hash of addresses and ports); together they report exactly what
 * one run reports. `id` and `stream` are numbered per process, so the merge
 * key is the input file and the connection's first frame.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { CAPTURES, runCli, ZEEK_TRACES } from './helpers.js';

const CORPUS_POP3 = join(ZEEK_TRACES, 'pop3.pcap');
const INPUTS = [join(CAPTURES, 'port-reuse.pcap'), join(CAPTURES, 'write-after-peer-close-bug.pcap'), join(CAPTURES, 'refused.pcap'), CORPUS_POP3];

type Line = Record<string, unknown> & { type: string };

function canonical(lines: Line[]): string[] {
  const conns = new Map<number, Line>();
  for (const l of lines) if (l.type === 'connection') conns.set(l.id as number, l);
  const out: string[] = [];
  for (const l of lines) {
    if (l.type === 'connection') {
      const { id: _id, stream: _s, ...rest } = l;
      out.push(JSON.stringify(rest));
    } else if (l.type === 'finding') {
      const c = conns.get(l.connection as number)!;
      const { connection: _c, stream: _s, ...rest } = l;
      out.push(JSON.stringify({ ...rest, conn: `${c.input}:${c.firstFrame}` }));
    }
  }
  return out.sort();
}

async function run(args: string[]): Promise<Line[]> {
  const r = await runCli(['analyze', '--format', 'ndjson', ...args, ...INPUTS]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Line);
}

test('three shards together report exactly what one run reports', async () => {
  const whole = canonical(await run([]));
  const parts = await Promise.all([0, 1, 2].map((k) => run(['--shard', `${k}/3`])));
  // ids are per process: resolve each process's findings to connections before merging
  const merged = parts.flatMap((p) => canonical(p)).sort();
  assert.ok(whole.length > 10);
  assert.deepEqual(merged, whole);
  // every shard got some of the work or none, never the same connection twice
  const counts = parts.map((p) => p.filter((l) => l.type === 'connection').length);
  assert.equal(counts.reduce((a, b) => a + b, 0), whole.filter((l) => !l.includes('"rule"')).length);
});

test('a malformed --shard is a usage error', async () => {
  for (const bad of ['3/3', 'x/2', '1']) {
    const r = await runCli(['analyze', '--shard', bad, INPUTS[0]]);
    assert.equal(r.code, 2, bad);
    assert.match(r.stderr, /--shard takes K\/N/);
  }
});
