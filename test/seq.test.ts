/** Wrap-safe 32-bit sequence arithmetic (src/tcp/seq.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seqAdd, seqBetween, seqDiff, seqLe, seqLt, unwrapRel } from '../src/tcp/seq.js';

test('comparisons across the 2^32 wrap', () => {
  assert.ok(seqLt(0xfffffff0, 0x10));
  assert.ok(!seqLt(0x10, 0xfffffff0));
  assert.ok(seqLe(5, 5));
  assert.equal(seqDiff(0xfffffff0, 0x10), 0x20);
  assert.equal(seqDiff(0x10, 0xfffffff0), -0x20);
  assert.equal(seqAdd(0xffffffff, 2), 1);
  assert.ok(seqBetween(0, 0xfffffffe, 2));
  assert.ok(!seqBetween(3, 0xfffffffe, 2));
});

test('unwrapRel gives a 64-bit offset that keeps growing through several wraps', () => {
  const isn = 0xfffff000;
  let rel = 0;
  let seq = isn;
  const step = 1 << 20;
  for (let i = 0; i < 5 * 4096; i++) { // 5 * 2^32 bytes
    seq = seqAdd(seq, step);
    const r = unwrapRel(seq, isn, rel);
    assert.equal(r, rel + step);
    rel = r;
  }
  assert.equal(rel, 5 * 2 ** 32);
  // a segment slightly behind the highest (a retransmission) unwraps below it
  assert.equal(unwrapRel(seqAdd(seq, -1000), isn, rel), rel - 1000);
});

test('evidence log: 64-bit relative offsets survive the two-word store', async () => {
  const { putRel, getRel } = await import('../src/tcp/segment-log.js');
  const l = new Int32Array(2);
  for (const v of [0, 1, -1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 5, 8 * 2 ** 32 + 12345, -(2 ** 40) - 7, 2 ** 52 + 3, -(2 ** 52)]) {
    putRel(l, 0, v);
    assert.equal(getRel(l, 0), v, String(v));
  }
});
