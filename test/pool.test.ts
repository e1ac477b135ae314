/**
 * Pooled connections (Connection.reuse): the resetter is derived from fresh
 * connections (src/tcp/reset.ts), so no field is missed by a hand-kept list.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Connection, NONE, type RstRecord } from '../src/tcp/connection.js';
import { derivePoolResetter } from '../src/tcp/reset.js';
import { SegmentArena } from '../src/tcp/segment-log.js';

/** Mutable objects reachable from `root` (two levels: the connection's fields and theirs), minus frozen ones. */
function mutableObjects(root: object, depth: number, out: Map<object, string>, path: string): void {
  for (const [k, v] of Object.entries(root)) {
    if (v === null || typeof v !== 'object' || Object.isFrozen(v)) continue;
    if (out.has(v)) continue;
    out.set(v, `${path}.${k}`);
    if (depth > 1 && !Array.isArray(v) && !ArrayBuffer.isView(v)) mutableObjects(v, depth - 1, out, `${path}.${k}`);
  }
}

/** Dirties every kind of field a connection has, as tracking does. */
function dirty(c: Connection, n: number): void {
  c.id = n;
  c.addHistory('S', true);
  c.orig.pkts = n;
  c.resp.finRel = n;
  c.origM.keepaliveProbes = n;
  c.rstCount = 3;
  c.setRstSum(0, n);
  c.setRstSum(2, n); // rstSumMore: an array made on demand
  c.rsts = [{ seg: c.segmentAt(0) } as RstRecord];
  c.deleteAt = n;
  c.flip();
}

test('a reused connection shares no mutable object with another pooled connection (or a fresh one), the arena excepted', () => {
  const arena = new SegmentArena();
  const fresh1 = new Connection(arena);
  const fresh2 = new Connection(arena);
  // shared by construction: what two new connections share (the arena and its chunk arrays)
  const shared = new Set<object>();
  const f1 = new Map<object, string>();
  const f2 = new Map<object, string>();
  mutableObjects(fresh1, 2, f1, 'c');
  mutableObjects(fresh2, 2, f2, 'c');
  for (const o of f1.keys()) if (f2.has(o)) shared.add(o);
  assert.ok(shared.has(arena), 'the arena is shared by construction');

  const pool = [new Connection(arena), new Connection(arena), new Connection(arena)];
  pool.forEach((c, i) => { dirty(c, i + 1); c.releaseLog(); c.reuse(); dirty(c, i + 10); c.releaseLog(); c.reuse(); });
  const all = [...pool, fresh1, fresh2];
  const seen = new Map<object, string>();
  all.forEach((c, i) => {
    const mine = new Map<object, string>();
    mutableObjects(c, 2, mine, `conn${i}`);
    for (const [o, where] of mine) {
      if (shared.has(o)) continue;
      assert.ok(!seen.has(o), `${where} is the same object as ${seen.get(o)}`);
      seen.set(o, where);
    }
  });
  // and the reset itself: back to a new connection's values
  for (const c of pool) {
    assert.equal(c.history, '');
    assert.equal(c.rstCount, 0);
    assert.equal(c.rstSumMore, null);
    assert.equal(c.rsts, NONE);
    assert.equal(c.orig.pkts, 0);
    assert.equal(c.resp.finRel, -1);
    assert.equal(c.origM.keepaliveProbes + c.respM.keepaliveProbes, 0);
    assert.equal(c.flipped, false);
    assert.equal(c.deleteAt, Infinity);
    assert.ok(c.logSlot >= 0);
  }
});

test('the derived resetter refuses an object field it cannot reset, instead of sharing it', () => {
  class WithMap { m = new Map<string, number>(); n = 1; }
  assert.throws(() => derivePoolResetter(new WithMap(), new WithMap(), 'WithMap'), /WithMap\.m holds an object without reset/);
  class WithList { list: number[] = []; bytes = new Uint8Array(2); n = 1; }
  const reset = derivePoolResetter(new WithList(), new WithList(), 'WithList');
  const a = new WithList();
  const list = a.list;
  a.list.push(3); a.bytes[1] = 9; a.n = 5;
  reset(a);
  assert.equal(a.list, list); // kept, emptied: not a shared default
  assert.deepEqual([a.list.length, a.bytes[1], a.n], [0, 0, 1]);
});
