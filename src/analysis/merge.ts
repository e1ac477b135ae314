/**
 * The merge of `--workers N` (parallel.ts runs the worker threads; this class
 * is the part byte-identity rests on, with no threads in it, so it is tested
 * on its own: test/merge.test.ts).
 *
 * Input: per lane, batches in the order the lane sent them. A batch holds the
 * records the lane closed out (each tagged with its close frame, END_FRAME for
 * the end-of-input flush, and its lane-local id), the firstFrame of every
 * connection the lane created since its previous batch (ascending; the lane
 * numbers its connections 1, 2, 3... in creation order) and the lane's
 * progress: every (input, frame) up to `progressKey` is processed completely
 * (no later batch holds a record closed, or a creation, at or before it).
 *
 * Output (`step`):
 * - records in the order (input, closeFrame, firstFrame): a record goes out
 *   only once every lane's progress is at or past its close frame, so no lane
 *   can still send one that sorts before it; ties at one close frame are
 *   broken by firstFrame. This is one process's order (Analyzer's
 *   onConnectionInOrder: its end-of-input flush closes out by first frame).
 * - ids renumbered to the global creation order, i.e. by (input, firstFrame)
 *   as one process numbers them: creations up to the common progress are
 *   merged across lanes and numbered 1, 2, 3... run-wide; `stream` is the id
 *   less the ids of earlier inputs, less one. The local-to-global map holds
 *   only connections created and not yet emitted.
 * - the end of each input (MergeSink.inputEnd) after its last record, once
 *   every lane has finished it; with the packet count each lane read (a
 *   consistency check: the file may change between the lanes' reads).
 * - maxLive: the peak of connections live across all lanes, from creation and
 *   close frames (a tracker closes connections out before it creates one
 *   within a frame, never after): one process's stats.maxLive.
 * Memory: consumed batches let go of their records at once; `takeConsumed`
 * tells the caller how many batches per lane to acknowledge.
 */
import type { TrackerStats } from '../tcp/tracker.js';

/** closeFrame of connections closed out by the end-of-input flush (frame numbers are 32-bit) */
export const END_FRAME = 2 ** 32;
/** (input, frame) as one number, ordered as the pair: input * 2^33 + frame (exact below 2^53) */
export const FRAME_KEY_SCALE = 2 ** 33;

/** The merge's part of a record; `id` is the lane's own until emitted, then the global one. */
export interface MergeRecord {
  input: number;
  closeFrame: number;
  firstFrame: number;
  id: number;
  /** set when emitted */
  stream: number;
}

export interface MergeBatch<R extends MergeRecord> {
  /** every record and creation of a batch belongs to this input */
  input: number;
  /** (input, last frame processed completely) as input * FRAME_KEY_SCALE + frame */
  progressKey: number;
  /** firstFrame of the connections created since the lane's previous batch, ascending */
  created: number[];
  /** in the order closed out (closeFrame never decreases within an input) */
  records: R[];
  /** with a lane's last batch of an input: the packets it read, and lane 0's summary of it */
  inputEnd?: { packets: number; summary?: unknown };
}

export interface MergeSink<R extends MergeRecord, S> {
  /** a record in merge order, with its global id and stream */
  record(r: R): void;
  /** the end of an input, after its last record: lane 0's summary and each lane's packet count */
  inputEnd(input: number, summary: S, packets: number[]): void;
}

interface Pending<R> {
  records: R[];
  pos: number;
}

/** Merge state of one lane. */
class LaneState<R> {
  readonly batches: Pending<R>[] = [];
  head = 0;
  /** batches consumed and not yet reported by takeConsumed */
  consumed = 0;
  progressKey = -1;
  /** creation keys (input * FRAME_KEY_SCALE + firstFrame) not yet given a global id */
  created: number[] = [];
  createdPos = 0;
  /** local id of the next creation */
  nextLocalId = 1;
  /** local id -> global id, for connections created and not yet emitted */
  readonly ids = new Map<number, number>();
  /** packets of each input as this lane read it */
  readonly packets: number[] = [];
}

const byMergeOrder = (a: MergeRecord, b: MergeRecord): number =>
  a.input - b.input || a.closeFrame - b.closeFrame || a.firstFrame - b.firstFrame;

const NO_RECORDS: never[] = [];

export class Merge<R extends MergeRecord, S = unknown> {
  private readonly lanes: LaneState<R>[];
  /** lane 0's summaries, by input */
  private readonly summaries: S[] = [];
  /** inputs whose end was emitted */
  private inputsDone = 0;
  /** global id count before each input's first connection */
  private readonly inputBase: number[] = [];
  private rankInput = -1;
  private nextGlobalId = 1;
  private live = 0;
  /** the peak of connections live across all lanes (one process's stats.maxLive) */
  maxLive = 0;
  private readonly createdKeys: number[] = [];

  constructor(lanes: number, private readonly inputs: number, private readonly sink: MergeSink<R, S>) {
    this.lanes = Array.from({ length: lanes }, () => new LaneState<R>());
  }

  /** Takes a lane's next batch (nothing is emitted until `step`). */
  add(lane: number, b: MergeBatch<R>): void {
    const l = this.lanes[lane];
    const base = b.input * FRAME_KEY_SCALE;
    for (const f of b.created) l.created.push(base + f);
    l.batches.push({ records: b.records, pos: 0 });
    l.progressKey = b.progressKey;
    if (b.inputEnd) {
      l.packets[b.input] = b.inputEnd.packets;
      if (lane === 0) this.summaries[b.input] = b.inputEnd.summary as S;
    }
  }

  /** Emits everything every lane has gone past; returns the number of records emitted. */
  step(): number {
    const lanes = this.lanes;
    let progress = Infinity;
    // Stryker disable next-line EqualityOperator: `<=` for `<` is equivalent (taking an equal minimum changes nothing); the line's `>=` is killed, Stryker disables per line and mutator
    for (const l of lanes) if (l.progressKey < progress) progress = l.progressKey;
    // 1. global ids for creations up to the common progress, in (input, firstFrame) order
    for (;;) {
      let best: LaneState<R> | null = null;
      let bestKey = progress;
      for (const l of lanes) {
        // Stryker disable next-line ConditionalExpression,EqualityOperator: the bound `createdPos < created.length` as `true` or `<=` is equivalent: past the end created[createdPos] is undefined and `undefined <= bestKey` is false. The line's other mutants of these kinds are killed (Stryker disables per line and mutator)
        if (l.createdPos < l.created.length && l.created[l.createdPos] <= bestKey) {
          best = l;
          bestKey = l.created[l.createdPos];
        }
      }
      if (best === null) break;
      best.createdPos++;
      const input = Math.floor(bestKey / FRAME_KEY_SCALE);
      if (input !== this.rankInput) {
        this.rankInput = input;
        this.inputBase[input] = this.nextGlobalId - 1;
      }
      best.ids.set(best.nextLocalId++, this.nextGlobalId++);
      this.createdKeys.push(bestKey);
    }
    for (const l of lanes) {
      if (l.createdPos > 4096 && l.createdPos * 2 > l.created.length) {
        l.created = l.created.slice(l.createdPos);
        l.createdPos = 0;
      }
    }
    // 2. records closed out up to the common progress
    const ready: R[] = [];
    lanes.forEach((l, w) => {
      for (let b = l.head; b < l.batches.length; b++) {
        const batch = l.batches[b];
        const recs = batch.records;
        let pos = batch.pos;
        while (pos < recs.length && recs[pos].input * FRAME_KEY_SCALE + recs[pos].closeFrame <= progress) {
          const r = recs[pos++];
          const id = l.ids.get(r.id);
          if (id === undefined) throw new Error(`worker ${w}: connection ${r.id} closed out before its creation was reported`);
          l.ids.delete(r.id);
          r.id = id;
          ready.push(r);
        }
        if (pos < recs.length) {
          batch.pos = pos;
          break;
        }
        // consumed: let the records go now (counted for takeConsumed)
        batch.records = NO_RECORDS;
        batch.pos = 0;
      }
      // batches consumed from the front
      while (l.head < l.batches.length && l.batches[l.head].records.length === 0) {
        l.head++;
        l.consumed++;
      }
      if (l.head > 1024 && l.head * 2 > l.batches.length) {
        l.batches.splice(0, l.head);
        l.head = 0;
      }
    });
    ready.sort(byMergeOrder);
    // live connections over time: at a frame, close-outs come before the creation
    let r = 0;
    for (const k of this.createdKeys) {
      while (r < ready.length && ready[r].input * FRAME_KEY_SCALE + ready[r].closeFrame <= k) {
        this.live--;
        r++;
      }
      // Stryker disable next-line EqualityOperator: `>=` for `>` is equivalent (at an equal peak it stores the same value); the line's `<=` is killed
      if (++this.live > this.maxLive) this.maxLive = this.live;
    }
    this.live -= ready.length - r;
    this.createdKeys.length = 0;
    for (const rec of ready) {
      this.inputEndsBefore(rec.input, progress);
      rec.stream = rec.id - this.inputBase[rec.input] - 1;
      this.sink.record(rec);
    }
    this.inputEndsBefore(this.inputs, progress);
    return ready.length;
  }

  /** Batches of `lane` fully consumed since the last call. */
  takeConsumed(lane: number): number {
    const l = this.lanes[lane];
    const n = l.consumed;
    l.consumed = 0;
    return n;
  }

  /** True when every batch was consumed and every creation emitted (the end of a run). */
  drained(): boolean {
    return this.lanes.every((l) => l.head === l.batches.length && l.createdPos === l.created.length && l.ids.size === 0);
  }

  /** Emits the end of every input before `input` that every lane has finished. */
  private inputEndsBefore(input: number, progress: number): void {
    while (this.inputsDone < input && this.inputsDone * FRAME_KEY_SCALE + END_FRAME <= progress) {
      const i = this.inputsDone++;
      this.sink.inputEnd(i, this.summaries[i], this.lanes.map((l) => l.packets[i]));
    }
  }
}

/** Per-frame counters every lane computes alike (they all see every frame). */
// Stryker disable next-line StringLiteral: 'skipped' and 'otherShard' as "" are equivalent: skipped is an object (the typeof test skips it too) and otherShard is recomputed below; 'frames' and 'tcpSegments' as "" are killed
const PER_FRAME_STATS = new Set(['frames', 'tcpSegments', 'skipped', 'otherShard']);

/**
 * One process's stats from the lanes': frame counters are lane 0's,
 * connection counters are summed (each connection lives in one lane),
 * otherShard counts only segments outside the user's --shard. maxLive comes
 * out as the sum of the lanes' peaks: the caller sets Merge.maxLive instead.
 */
export function mergeStats(parts: TrackerStats[]): TrackerStats {
  const first = parts[0];
  const stats = { ...first, skipped: { ...first.skipped } } as TrackerStats & Record<string, unknown>;
  for (const key of Object.keys(stats)) {
    if (PER_FRAME_STATS.has(key) || typeof stats[key] !== 'number') continue;
    let sum = 0;
    for (const p of parts) sum += (p as unknown as Record<string, number>)[key];
    stats[key] = sum;
  }
  // segments of the user's --shard: each is in exactly one lane's shard
  let mine = 0;
  for (const p of parts) mine += p.tcpSegments - p.otherShard;
  stats.otherShard = first.tcpSegments - mine;
  return stats;
}
