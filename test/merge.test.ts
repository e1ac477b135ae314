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
