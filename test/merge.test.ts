/**
 * The --workers merge on its own (src/analysis/merge.ts), with hand-made
 * batches instead of worker threads: the order across lanes, ties, the
 * renumbering to one process's ids, holding records back until every lane is
 * past their close frame, the end-of-input flush, acknowledgements, maxLive.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { END_FRAME, FRAME_KEY_SCALE, Merge, mergeStats, type MergeBatch, type MergeRecord } from '../src/analysis/merge.js';
import type { TrackerStats } from '../src/tcp/tracker.js';

interface Rec extends MergeRecord {
  name: string;
}

/** a record closed at `close`, created at `first`, with the lane's local id */
const rec = (name: string, input: number, close: number, first: number, id: number): Rec => ({ name, input, closeFrame: close, firstFrame: first, id, stream: -1 });

const key = (input: number, frame: number): number => input * FRAME_KEY_SCALE + frame;

function batch(input: number, progressFrame: number, created: number[], records: Rec[], inputEnd?: MergeBatch<Rec>['inputEnd']): MergeBatch<Rec> {
  return { input, progressKey: key(input, progressFrame), created, records, inputEnd };
}

/** A merge that logs what it emits: "name#id/stream" per record, "end I" per input end. */
function logged(lanes: number, inputs: number) {
  const log: string[] = [];
  const packets: number[][] = [];
  const m = new Merge<Rec, string>(lanes, inputs, {
    record: (r) => log.push(`${r.name}#${r.id}/${r.stream}`),
    inputEnd: (i, summary, p) => {
      log.push(`end ${i} ${summary}`);
      packets.push(p);
    },
  });
  return { m, log, packets };
}

test('records come out in (closeFrame, firstFrame) order across lanes, only once every lane is past their close frame', () => {
  const { m, log } = logged(2, 1);
  // lane 0 created connections at frames 1 and 4, closed them at 5 and 10; lane 1 created one at 2, closed at 7
  m.add(0, batch(0, 10, [1, 4], [rec('a', 0, 5, 1, 1), rec('c', 0, 10, 4, 2)]));
  assert.equal(m.step(), 0, 'lane 1 has reported no progress: nothing can go out');
  m.add(1, batch(0, 7, [2], [rec('b', 0, 7, 2, 1)]));
  assert.equal(m.step(), 2);
  assert.deepEqual(log, ['a#1/0', 'b#2/1'], 'c (closed at 10) is held: lane 1 is only at frame 7');
  m.add(1, batch(0, 9, [], []));
  assert.equal(m.step(), 0, 'lane 1 at 9: still before c\'s close frame');
  m.add(1, batch(0, 10, [], []));
  assert.equal(m.step(), 1);
  assert.deepEqual(log, ['a#1/0', 'b#2/1', 'c#3/2']);
});

test('records closed out at the same frame come in firstFrame order, whichever lane holds them', () => {
  const { m, log } = logged(2, 1);
  m.add(0, batch(0, 8, [3], [rec('late', 0, 8, 3, 1)]));
  m.add(1, batch(0, 8, [1], [rec('early', 0, 8, 1, 1)]));
  m.step();
  assert.deepEqual(log, ['early#1/0', 'late#2/1']);
});

test('ids are renumbered to the global creation order (input, firstFrame), streams per input', () => {
  const { m, log } = logged(2, 1);
  // creations: lane 0 at 1 and 6, lane 1 at 2 and 3: global ids 1 (l0#1), 2 (l1#1), 3 (l1#2), 4 (l0#2)
  m.add(0, batch(0, 20, [1, 6], [rec('l0-2', 0, 9, 6, 2), rec('l0-1', 0, 12, 1, 1)]));
  m.add(1, batch(0, 20, [2, 3], [rec('l1-2', 0, 4, 3, 2), rec('l1-1', 0, 15, 2, 1)]));
  m.step();
  assert.deepEqual(log, ['l1-2#3/2', 'l0-2#4/3', 'l0-1#1/0', 'l1-1#2/1']);
});

test('a record whose creation was not reported is an error, not a wrong id', () => {
  const { m } = logged(1, 1);
  m.add(0, batch(0, 5, [], [rec('x', 0, 5, 1, 1)]));
  assert.throws(() => m.step(), /worker 0: connection 1 closed out before its creation was reported/);
});

test('end-of-input flush: held until every lane has finished the input, then the input\'s end, then the next input with streams from 0', () => {
  const { m, log, packets } = logged(2, 2);
  m.add(0, batch(0, 3, [1], []));
  m.add(1, batch(0, 3, [2], []));
  assert.equal(m.step(), 0);
  // lane 0 finishes input 0: its flush closes out its connection
  m.add(0, batch(0, END_FRAME, [], [rec('f0', 0, END_FRAME, 1, 1)], { packets: 3, summary: 'input-0' }));
  assert.equal(m.step(), 0, 'lane 1 is still inside input 0');
  assert.deepEqual(log, []);
  // lane 1 finishes input 0 too, and is already into input 1
  m.add(1, batch(0, END_FRAME, [], [rec('f1', 0, END_FRAME, 2, 1)], { packets: 4 }));
  m.add(1, batch(1, 2, [1], [rec('n1', 1, 2, 1, 2)]));
  assert.equal(m.step(), 2);
  assert.deepEqual(log, ['f0#1/0', 'f1#2/1', 'end 0 input-0'], 'input 0 ends once both lanes are past it; input 1 waits for lane 0');
  m.add(0, batch(1, END_FRAME, [], [], { packets: 5, summary: 'input-1' }));
  m.add(1, batch(1, END_FRAME, [], [], { packets: 5 }));
  assert.equal(m.step(), 1);
  assert.deepEqual(log, ['f0#1/0', 'f1#2/1', 'end 0 input-0', 'n1#3/0', 'end 1 input-1']);
  assert.deepEqual(packets, [[3, 4], [5, 5]], 'each lane\'s packet count (a changed file shows as a difference)');
  assert.ok(m.drained());
});

test('an input without connections still ends, in order', () => {
  const { m, log } = logged(1, 3);
  m.add(0, batch(0, END_FRAME, [], [], { packets: 0, summary: 'a' }));
  m.add(0, batch(1, END_FRAME, [], [], { packets: 0, summary: 'b' }));
  m.add(0, batch(2, 1, [1], [rec('x', 2, 1, 1, 1)]));
  m.step();
  assert.deepEqual(log, ['end 0 a', 'end 1 b', 'x#1/0']);
});

test('consumed batches are counted once per lane for acknowledgement; a half-emitted batch is not', () => {
  const { m } = logged(2, 1);
  m.add(0, batch(0, 4, [1, 2], [rec('a', 0, 3, 1, 1), rec('b', 0, 4, 2, 2)]));
  m.add(0, batch(0, 4, [], []));
  m.add(1, batch(0, 3, [], []));
  m.step();
  assert.equal(m.takeConsumed(0), 0, 'b (closed at 4) is held: the first batch is not consumed, nor the one behind it');
  assert.equal(m.takeConsumed(1), 1);
  assert.ok(!m.drained());
  m.add(1, batch(0, 4, [], []));
  m.step();
  assert.equal(m.takeConsumed(0), 2);
  assert.equal(m.takeConsumed(0), 0, 'counted once');
  assert.equal(m.takeConsumed(1), 1);
  assert.ok(m.drained());
});

test('maxLive: close-outs at a frame come before that frame\'s creation, peaks across lanes add up', () => {
  const { m } = logged(2, 1);
  // a: 1..5 (lane 0), b: 2..5 (lane 1), c: created at 5 (lane 0) after a and b closed, d: 6..7 (lane 1)
  m.add(0, batch(0, 10, [1, 5], [rec('a', 0, 5, 1, 1), rec('c', 0, 9, 5, 2)]));
  m.add(1, batch(0, 10, [2, 6], [rec('b', 0, 5, 2, 1), rec('d', 0, 7, 6, 2)]));
  m.step();
  assert.equal(m.maxLive, 2);
});

test('mergeStats: frame counters from lane 0, connection counters summed, otherShard only outside the user\'s shard', () => {
  const lane = (connections: number, otherShard: number) => ({
    frames: 100, tcpSegments: 80, otherShard, connections, evicted: 1, skipped: { nonTcp: 20 },
  }) as unknown as TrackerStats;
  const s = mergeStats([lane(3, 50), lane(4, 45)]) as unknown as Record<string, unknown>;
  assert.equal(s.frames, 100);
  assert.equal(s.tcpSegments, 80);
  assert.equal(s.connections, 7);
  assert.equal(s.evicted, 2);
  assert.deepEqual(s.skipped, { nonTcp: 20 });
  // the lanes kept 30 + 35 of the 80 segments: 15 were outside the user's shard
  assert.equal(s.otherShard, 15);
});

test('a lane that has reported nothing holds everything back, even a record closed at frame 1', () => {
  const { m, log } = logged(2, 1);
  m.add(0, batch(0, 1, [1], [rec('a', 0, 1, 1, 1)]));
  assert.equal(m.step(), 0, 'lane 1 has not reported: its progress is before the first frame');
  m.add(1, batch(0, 1, [], []));
  assert.equal(m.step(), 1);
  assert.deepEqual(log, ['a#1/0']);
});

test('records of two inputs ready in one step: input order first, each input ending after its last record', () => {
  const { m, log } = logged(2, 2);
  // lane 0 is through input 0 and into input 1 (a record closed at its frame 2); lane 1 finishes input 0 only now
  m.add(0, batch(0, END_FRAME, [], [], { packets: 3, summary: 's0' }));
  m.add(0, batch(1, 2, [1], [rec('in1', 1, 2, 1, 1)]));
  m.add(1, batch(0, END_FRAME, [1], [rec('in0', 0, END_FRAME, 1, 1)], { packets: 3 }));
  m.add(1, batch(1, 2, [], []));
  assert.equal(m.step(), 2);
  assert.deepEqual(log, ['in0#1/0', 'end 0 s0', 'in1#2/0']);
});

test('an input whose first connection comes after inputs without any: its streams still start at 0', () => {
  const { m, log } = logged(1, 2);
  m.add(0, batch(0, END_FRAME, [], [], { packets: 2, summary: 'empty' }));
  m.add(0, batch(1, 5, [2, 3], [rec('x', 1, 4, 2, 1), rec('y', 1, 5, 3, 2)]));
  m.step();
  assert.deepEqual(log, ['end 0 empty', 'x#1/0', 'y#2/1']);
});

test('maxLive: in a later input, close-outs and creations compare by frame within that input', () => {
  const { m } = logged(1, 2);
  m.add(0, batch(0, END_FRAME, [], [], { packets: 0 }));
  // input 1: a 1..5, b 2..6: two live at once
  m.add(0, batch(1, 10, [1, 2], [rec('a', 1, 5, 1, 1), rec('b', 1, 6, 2, 2)]));
  m.step();
  assert.equal(m.maxLive, 2);
});

test('maxLive over several steps: connections closed out in one step are no longer live in the next', () => {
  const { m } = logged(1, 1);
  // step 1: a 1..2, then b 3..4 (b created after a closed): never more than one live
  m.add(0, batch(0, 4, [1, 3], [rec('a', 0, 2, 1, 1), rec('b', 0, 4, 3, 2)]));
  m.step();
  assert.equal(m.maxLive, 1);
  // step 2: c and d overlap: two live, not more (a and b are gone)
  m.add(0, batch(0, 10, [5, 6], [rec('c', 0, 7, 5, 3), rec('d', 0, 8, 6, 4)]));
  m.step();
  assert.equal(m.maxLive, 2);
});

test('drained: false while a batch, a creation or an id is still pending in any lane', () => {
  // a batch held (its record not reported as created: no id, no creation pending)
  let { m } = logged(2, 1);
  m.add(0, batch(0, 10, [], [rec('x', 0, 6, 1, 1)]));
  m.add(1, batch(0, 3, [], []));
  m.step();
  assert.ok(!m.drained(), 'a batch is not consumed');
  // every batch consumed, a creation past the common progress not yet numbered
  ({ m } = logged(2, 1));
  m.add(0, batch(0, 10, [5], []));
  m.add(1, batch(0, 3, [], []));
  m.step();
  assert.ok(!m.drained(), 'a creation is not numbered');
  // every batch consumed, every creation numbered, the connection not yet closed out
  ({ m } = logged(2, 1));
  m.add(0, batch(0, 10, [5], []));
  m.add(1, batch(0, 10, [], []));
  m.step();
  assert.ok(!m.drained(), 'a connection is still open');
  m.add(0, batch(0, 12, [], [rec('y', 0, 11, 5, 1)]));
  m.add(1, batch(0, 12, [], []));
  m.step();
  assert.ok(m.drained());
});

test('mergeStats: a field that is not a number is lane 0\'s, not summed', () => {
  const lane = (note: string) => ({
    frames: 1, tcpSegments: 1, otherShard: 0, connections: 1, skipped: {}, note,
  }) as unknown as TrackerStats;
  const s = mergeStats([lane('lane 0'), lane('lane 1')]) as unknown as Record<string, unknown>;
  assert.equal(s.note, 'lane 0');
  assert.equal(s.connections, 2);
});

/** The lane queues' private state, for the compaction tests (TypeScript's `private` is not enforced at run time). */
interface LaneInternals { created: number[]; createdPos: number; batches: unknown[]; head: number }
const lanesOf = (m: Merge<Rec, string>): LaneInternals[] => (m as unknown as { lanes: LaneInternals[] }).lanes;

test('the creation queue is compacted once more than 4096 entries and more than half of it are numbered, and ids stay right', () => {
  // The thresholds are memory policy (shortening the array too often costs a copy per step,
  // never doing it keeps every creation of a run); this pins them, together with the ids after a compaction.
  const frames = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
  const run = (created: number, numbered: number): { m: Merge<Rec, string>; log: string[] } => {
    const { m, log } = logged(2, 1);
    m.add(0, batch(0, created, frames(1, created), []));
    m.add(1, batch(0, numbered, [], []));
    m.step();
    return { m, log };
  };
  const shape = (m: Merge<Rec, string>) => [lanesOf(m)[0].createdPos, lanesOf(m)[0].created.length];
  assert.deepEqual(shape(run(10, 10).m), [10, 10], 'few numbered: not compacted');
  assert.deepEqual(shape(run(4096, 4096).m), [4096, 4096], '4096 numbered: not yet');
  assert.deepEqual(shape(run(4097, 4097).m), [0, 0], '4097 numbered, all of the queue: compacted');
  assert.deepEqual(shape(run(8194, 4097).m), [4097, 8194], 'exactly half numbered: not compacted');
  assert.deepEqual(shape(run(8192, 4097).m), [0, 8192 - 4097], 'more than half numbered: compacted');
  // after a compaction, the rest of the creations are numbered on, and records find their ids
  const { m, log } = run(8192, 4097);
  m.add(0, batch(0, 9000, [], [rec('first', 0, 8500, 1, 1), rec('late', 0, 8600, 4098, 4098)]));
  m.add(1, batch(0, 9000, [], []));
  m.step();
  assert.deepEqual(log, ['first#1/0', 'late#4098/4097']);
  assert.deepEqual(shape(m), [8192 - 4097, 8192 - 4097], 'the rest numbered: 4095, too few to compact again');
});

test('the batch queue is compacted once more than 1024 batches and more than half of it are consumed', () => {
  const run = (consumed: number, heldBehind: number): Merge<Rec, string> => {
    const { m } = logged(1, 1);
    m.add(0, batch(0, 1, [1], []));
    for (let i = 1; i < consumed; i++) m.add(0, batch(0, 1, [], []));
    // a batch whose record closes later, and more batches behind it: none of them consumed yet
    m.add(0, batch(0, 1, [], [rec('held', 0, 5, 1, 1)]));
    for (let i = 0; i < heldBehind; i++) m.add(0, batch(0, 1, [], []));
    m.step();
    return m;
  };
  const shape = (m: Merge<Rec, string>) => [lanesOf(m)[0].head, lanesOf(m)[0].batches.length];
  assert.deepEqual(shape(run(10, 0)), [10, 11], 'few consumed: not compacted');
  assert.deepEqual(shape(run(1024, 0)), [1024, 1025], '1024 consumed: not yet');
  assert.deepEqual(shape(run(1025, 0)), [0, 1], '1025 consumed of 1026: compacted');
  assert.deepEqual(shape(run(1025, 1024)), [1025, 2050], 'exactly half consumed: not compacted');
  assert.deepEqual(shape(run(1025, 1023)), [0, 1024], 'more than half consumed: compacted');
  const { m: done, log } = logged(1, 1);
  done.add(0, batch(0, 1, [1], []));
  for (let i = 0; i < 2000; i++) done.add(0, batch(0, 1, [], []));
  done.add(0, batch(0, 6, [], [rec('a', 0, 6, 1, 1)]));
  done.step();
  assert.deepEqual(log, ['a#1/0']);
  assert.equal(done.takeConsumed(0), 2002);
  assert.ok(done.drained());
});
