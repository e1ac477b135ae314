/**
 * self-connect (issue 16): the rule's edges on crafted packets (the kernel-made case is captures/self-connect.pcap,
 * checked with the other captures): IPv6, and near misses that are not a self-connect (same address with another
 * port, same port with another address), whose one-sidedness stays what it is.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { analyze } from '../src/analysis/analyze.js';
import { pcap, type Seg } from './pcap-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'rstscope-self-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** SYN, the SYN answered with SYN/ACK (same ISN), ACK, 5 bytes, their ACK: all from a to b */
function selfLike(a: [string, number], b: [string, number]): Seg[] {
  const s = (us: number, flags: string, seq: number, ack?: number, len?: number): Seg => ({ tsSec: 900, tsUsec: us, src: a, dst: b, flags, seq, ack, len });
  return [s(0, 'S', 1000), s(10, 'SA', 1000, 1001), s(20, 'A', 1001, 1001), s(30, 'PA', 1001, 1001, 5), s(40, 'A', 1006, 1006)];
}

async function run(name: string, segs: Seg[]) {
  const file = join(dir, `${name}.pcap`);
  writeFileSync(file, pcap(segs));
  return analyze([file]);
}

test('self-connect over IPv6: fires at the SYN/ACK, with the address and both frames; the record is not one-sided', async () => {
  const res = await run('v6', selfLike(['fd00::7', 45000], ['fd00::7', 45000]));
  assert.deepEqual(res.findings.map((f) => [f.rule, f.severity, f.frame, f.frames, f.actor, f.evidence]),
    [['self-connect', 'warning', 2, [1, 2], 'orig', { address: '[fd00::7]:45000', synFrame: 1, synAckFrame: 2 }]]);
  assert.equal(res.connections.length, 1);
  assert.equal(res.connections[0].seen, undefined);
});

test('not a self-connect: the same address with another port, or the same port with another address', async () => {
  for (const [name, a, b] of [['ports', ['127.0.0.1', 45000], ['127.0.0.1', 45001]], ['addrs', ['10.9.0.1', 45000], ['10.9.0.2', 45000]]] as const) {
    const res = await run(name, selfLike([...a], [...b]));
    assert.deepEqual(res.findings.filter((f) => f.rule === 'self-connect'), [], name);
    // all packets one way between two different endpoints: that is one direction only
    assert.equal(res.connections[0].seen, 'orig-only', name);
  }
});
