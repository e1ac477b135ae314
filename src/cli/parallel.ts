/**
 * `--workers N`: N lanes (worker.ts runLane) each read every input and track
 * one shard of the connections (by the symmetric flow hash, so both
 * directions of a connection meet in one lane), each in its own worker
 * thread. This thread only merges their streams as they come and hands
 * records to the command, in bounded memory. (Below, "worker" means any lane.)
 *
 * Why no lane in this thread: measured on the 2 M-packet bench capture with
 * `analyze -f ndjson --workers 2`, a lane here left the merge (and the
 * rendering of its own lane's records) behind its tracking: the other worker
 * sat idle 20% of the run waiting for acknowledgements, and two workers ran no
 * faster than one process.
 *
 * Merge order. Every record is tagged with its close frame (the frame being
 * processed when it was closed out; END_FRAME for the end-of-input flush).
 * Records are emitted in the order (input, closeFrame, firstFrame): each
 * worker's stream is already ordered by close frame, and a record is emitted
 * only once every worker has reported progress at or past its close frame, so
 * no worker can still send one that sorts before it. Connections closed out at
 * the same frame come in firstFrame order. One process streams in the same
 * order (Analyzer's onConnectionInOrder; its end-of-input flush closes out by
 * first frame), so streamed output is byte-identical to one process's and
 * between N = 1, 2, 3 (--workers 1 runs the same path with one worker).
 *
 * Numbering. One process numbers connections (`id`, run-wide; `stream`, per
 * input) in creation order, i.e. by (input, firstFrame). Workers report the
 * firstFrame of every connection they create, ascending; this thread merges
 * those lists up to the common progress and gives each creation its global
 * id, so a record (and its findings) gets the id one process gives it. The
 * local-to-global map holds only connections created and not yet emitted
 * (memory follows live connections).
 *
 * Memory. A worker waits for acknowledgements when MAX_UNACKED batches are
 * unacknowledged; a batch is acknowledged once all its records were emitted
 * (and, for streaming output, stdout drained). A worker that runs ahead
 * therefore waits for the slowest one instead of piling records up here.
 *
 * Inputs, problems, stats. Every worker reads every input, so worker 0's
 * input summaries and problems are reported (once); the frame counters
 * (frames, tcpSegments, skipped) are worker 0's; connection counters are
 * summed; otherShard counts only segments outside the user's --shard (as one
 * process reports it); maxLive is recomputed here from creation and close
 * frames (a tracker closes connections out before it creates one within a
 * frame, never after), so it equals one process's. Known difference:
 * --max-connections applies to each worker on its own (evictions, hence
 * output, can differ from one process's once it is hit).
 *
 * A worker that fails (an exception, running out of memory, exiting early)
 * ends the run with an error naming it; the other workers are stopped.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { InputInfo } from '../capture/parser.js';
import { DEFAULT_TRACKER_OPTIONS, type TrackerOptions, type TrackerStats } from '../tcp/tracker.js';
import type { ConnRecord } from '../tcp/record.js';
import { ndjsonConnectionWithFindings, ndjsonFillIds } from '../report/ndjson.js';
import { SEVERITIES, type Finding, type Severity } from '../rules/types.js';
import { UsageError } from './exit.js';
import { governMemory } from './memory.js';
import { sortResults, type AnalysisResult, type InputSummary } from './pipeline.js';
import {
  END_FRAME, FRAME_KEY_SCALE, META_FIELDS, type FromWorker, type ToWorker, type WorkerConfig,
} from './worker.js';

export const MAX_WORKERS = 64;

export interface ParallelOptions extends Partial<TrackerOptions> {
  /** evaluate teardown rules (default true) */
  rules?: boolean;
  /** keep records and findings in the result, sorted as one process sorts them (default true) */
  keepRecords?: boolean;
  /** every connection with its findings, in merge order (see the module comment) */
  onConnection?: (rec: ConnRecord, found: Finding[]) => void;
  /**
   * NDJSON output instead of onConnection: per connection, its line and its
   * findings' lines (`{"type":"connection",...}` then `{"type":"finding",...}`,
   * as the commands write them), rendered in the workers, with the findings'
   * worst severity (for --fail-on; null without findings)
   */
  onNdjson?: (lines: string, worst: Severity | null) => void;
  /** after the last connection of each input */
  onInputEnd?: (summary: InputSummary, info: InputInfo) => void;
  /** awaited after records were emitted (streaming output: wait for stdout to drain) */
  pace?: () => Promise<void>;
  /** progress of the current input, as lane 0 reads it (every lane reads every input) */
  onProgress?: (file: string, bytesRead: number, fileBytes: number, frames: number) => void;
}

/** A record as merged here: NDJSON text rendered by a worker, or the objects. */
interface WorkerRecord {
  closeFrame: number;
  input: number;
  firstFrame: number;
  /** the worker's id, then the global one */
  id: number;
  /** NUL where `ID,"input":I,"stream":S` goes */
  text: string | null;
  rec: ConnRecord | null;
  found: Finding[] | null;
  worst: Severity | null;
}

interface Batch {
  records: WorkerRecord[];
  pos: number;
}

/** Merge state of one lane (its worker thread). */
class Lane {
  readonly batches: Batch[] = [];
  head = 0;
  /** everything up to this (input, frame) key was processed by the worker */
  progressKey = -1;
  /** creation keys (input * FRAME_KEY_SCALE + firstFrame) not yet given a global id */
  created: number[] = [];
  createdPos = 0;
  /** local id of the next creation: the tracker numbers its connections 1, 2, 3... */
  nextLocalId = 1;
  /** local id -> global id, for connections created and not yet emitted */
  readonly ids = new Map<number, number>();
  stats: TrackerStats | null = null;
  /** packets each input had when this worker read it (consistency check) */
  readonly packets: number[] = [];

  /** acknowledges batches to the lane */
  ack: (batches: number) => void = () => {};

  constructor(readonly worker: Worker) {}
}

const byMergeOrder = (a: WorkerRecord, b: WorkerRecord): number =>
  a.input - b.input || a.closeFrame - b.closeFrame || a.firstFrame - b.firstFrame;

const NO_RECORDS: WorkerRecord[] = [];

/** Per-frame counters every worker computes alike (they all see every frame). */
const PER_FRAME_STATS = new Set(['frames', 'tcpSegments', 'skipped', 'otherShard']);

function mergeStats(parts: TrackerStats[]): TrackerStats {
  const first = parts[0];
  const stats = { ...first, skipped: { ...first.skipped } } as TrackerStats & Record<string, unknown>;
  for (const key of Object.keys(stats)) {
    if (PER_FRAME_STATS.has(key) || typeof stats[key] !== 'number') continue;
    // connection counters: each connection lives in one worker; maxLive becomes the sum of peaks
    let sum = 0;
    for (const p of parts) sum += (p as unknown as Record<string, number>)[key];
    stats[key] = sum;
  }
  // segments of the user's --shard: each is in exactly one worker's shard
  let mine = 0;
  for (const p of parts) mine += p.tcpSegments - p.otherShard;
  stats.otherShard = first.tcpSegments - mine;
  return stats;
}

export async function analyzeFilesParallel(files: string[], workers: number, opts: ParallelOptions = {}): Promise<AnalysisResult> {
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
    throw new UsageError(`--workers takes a whole number from 1 to ${MAX_WORKERS}, not "${workers}"`);
  }
  const tracker: TrackerOptions = { ...DEFAULT_TRACKER_OPTIONS };
  for (const key of Object.keys(DEFAULT_TRACKER_OPTIONS) as (keyof TrackerOptions)[]) {
    const v = opts[key];
    if (v !== undefined) (tracker as unknown as Record<string, unknown>)[key] = v;
  }
  const rules = opts.rules !== false;
  tracker.evidence = opts.evidence ?? rules; // no rules, no evidence for them to read
  const keep = opts.keepRecords !== false;
  const script = fileURLToPath(new URL('./worker.js', import.meta.url));
  // lane w keeps the connections with hash % (M * N) === K + M * w: together
  // exactly the user's shard K of M (hash % M === K), each in one lane
  const configs = Array.from({ length: workers }, (_, w): WorkerConfig => ({
    files,
    tracker: { ...tracker, shardCount: tracker.shardCount * workers, shardIndex: tracker.shardIndex + tracker.shardCount * w },
    rules,
    ndjson: opts.onNdjson !== undefined,
    index: w,
    progress: w === 0 && opts.onProgress !== undefined,
  }));
  const lanes = configs.map((cfg) => new Lane(new Worker(script, { workerData: cfg })));

  const connections: ConnRecord[] = [];
  const findings: Finding[] = [];
  const inputs: InputSummary[] = [];
  const infos: InputInfo[] = [];
  /** input summaries from worker 0, by input index */
  const summaries: { summary: InputSummary; info: InputInfo }[] = [];
  /** global id count before each input's first connection */
  const inputBase: number[] = [];
  let rankInput = -1;
  let nextGlobalId = 1;
  /** connections live across all workers, and the peak (one process's stats.maxLive) */
  let live = 0;
  let maxLive = 0;
  const createdKeys: number[] = [];

  const emitSummariesBefore = (input: number, progress: number) => {
    while (inputs.length < input && inputs.length * FRAME_KEY_SCALE + END_FRAME <= progress) {
      const i = inputs.length;
      const s = summaries[i];
      for (let w = 1; w < lanes.length; w++) {
        if (lanes[w].packets[i] !== s.info.packets) {
          s.summary.warnings.push(`the file changed while the workers read it (${s.info.packets} and ${lanes[w].packets[i]} packets): results may be inconsistent`);
          break;
        }
      }
      inputs.push(s.summary);
      infos.push(s.info);
      opts.onInputEnd?.(s.summary, s.info);
    }
  };

  /** Emits everything every worker has gone past; returns the number of records emitted. */
  const step = (): number => {
    let progress = Infinity;
    for (const l of lanes) if (l.progressKey < progress) progress = l.progressKey;
    // 1. global ids for creations up to the common progress, in (input, firstFrame) order
    for (;;) {
      let best: Lane | null = null;
      let bestKey = progress;
      for (const l of lanes) {
        if (l.createdPos < l.created.length && l.created[l.createdPos] <= bestKey) {
          best = l;
          bestKey = l.created[l.createdPos];
        }
      }
      if (best === null) break;
      best.createdPos++;
      const input = Math.floor(bestKey / FRAME_KEY_SCALE);
      if (input !== rankInput) {
        rankInput = input;
        inputBase[input] = nextGlobalId - 1;
      }
      best.ids.set(best.nextLocalId++, nextGlobalId++);
      createdKeys.push(bestKey);
    }
    for (const l of lanes) {
      if (l.createdPos > 4096 && l.createdPos * 2 > l.created.length) {
        l.created = l.created.slice(l.createdPos);
        l.createdPos = 0;
      }
    }
    // 2. records closed out up to the common progress
    const ready: WorkerRecord[] = [];
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
        // consumed: let the records go now (the batch is acknowledged in sendAcks)
        batch.records = NO_RECORDS;
        batch.pos = 0;
      }
    });
    ready.sort(byMergeOrder);
    // live connections over time: at a frame, close-outs come before the creation
    let r = 0;
    for (const k of createdKeys) {
      while (r < ready.length && ready[r].input * FRAME_KEY_SCALE + ready[r].closeFrame <= k) {
        live--;
        r++;
      }
      if (++live > maxLive) maxLive = live;
    }
    live -= ready.length - r;
    createdKeys.length = 0;
    const onNdjson = opts.onNdjson;
    for (const r of ready) {
      const { id, input } = r;
      emitSummariesBefore(input, progress);
      const stream = id - inputBase[input] - 1;
      if (r.text !== null) {
        // rendered by the worker: splice in the id and stream
        onNdjson!(ndjsonFillIds(r.text, id, input, stream), r.worst);
        continue;
      }
      const rec = r.rec!;
      const found = r.found!;
      rec.id = id;
      rec.stream = stream;
      for (const f of found) {
        f.connection = id;
        f.stream = stream;
      }
      if (onNdjson !== undefined) {
        onNdjson(ndjsonConnectionWithFindings(rec, found), r.worst);
      } else opts.onConnection?.(rec, found);
      if (keep) {
        connections.push(rec);
        for (const f of found) findings.push(f);
      }
    }
    emitSummariesBefore(files.length, progress);
    return ready.length;
  };

  return new Promise<AnalysisResult>((resolve, reject) => {
    /** resolved or rejected: later events do not matter */
    let settled = false;
    let pumping = false;
    let inbox: [Lane, FromWorker][] = [];
    const stopAll = () => {
      return Promise.all(lanes.map((l) => l.worker.terminate())).then(() => undefined, () => undefined);
    };
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      void stopAll().then(() => reject(e));
    };
    const integrate = (l: Lane, m: FromWorker) => {
      if (m.type === 'done') {
        l.stats = m.stats;
        return;
      }
      if (m.type === 'progress') {
        opts.onProgress?.(m.file, m.bytesRead, m.fileBytes, m.frames);
        return;
      }
      const input = m.input;
      for (const f of m.created) l.created.push(input * FRAME_KEY_SCALE + f);
      const { meta, text, objects } = m;
      const records: WorkerRecord[] = [];
      let off = 0;
      let obj = 0;
      for (let i = 0; i < meta.length; i += META_FIELDS) {
        const len = meta[i + 3];
        const worst = meta[i + 4] < 0 ? null : SEVERITIES[meta[i + 4]];
        const r: WorkerRecord = { closeFrame: meta[i], input, firstFrame: meta[i + 1], id: meta[i + 2], text: null, rec: null, found: null, worst };
        if (len >= 0) {
          r.text = text.slice(off, off + len);
          off += len;
        } else {
          r.rec = objects[obj].rec;
          r.found = objects[obj++].found;
        }
        records.push(r);
      }
      l.batches.push({ records, pos: 0 });
      l.progressKey = m.progressKey;
      if (m.inputEnd) {
        l.packets[m.input] = m.inputEnd.packets;
        if (m.inputEnd.summary && m.inputEnd.info) summaries[m.input] = { summary: m.inputEnd.summary, info: m.inputEnd.info };
      }
    };
    const sendAcks = () => {
      for (const l of lanes) {
        let n = 0;
        while (l.head < l.batches.length && l.batches[l.head].pos === l.batches[l.head].records.length) {
          l.head++;
          n++;
        }
        if (l.head > 1024 && l.head * 2 > l.batches.length) {
          l.batches.splice(0, l.head);
          l.head = 0;
        }
        if (n > 0 && l.stats === null) l.ack(n);
      }
    };
    const finish = () => {
      for (const l of lanes) {
        if (l.head < l.batches.length || l.createdPos < l.created.length || l.ids.size > 0) {
          throw new Error('workers finished with records left unmerged');
        }
      }
      if (keep) sortResults(connections, findings);
      const stats = mergeStats(lanes.map((l) => l.stats!));
      stats.maxLive = maxLive;
      settled = true;
      void stopAll().then(() => resolve({ inputs, infos, connections, findings, stats }));
    };
    const pump = async () => {
      if (pumping) return;
      pumping = true;
      try {
        while (!settled && inbox.length > 0) {
          const msgs = inbox;
          inbox = [];
          for (const [l, m] of msgs) integrate(l, m);
          const emitted = step();
          if (emitted > 0 && opts.pace) await opts.pace();
          sendAcks();
          governMemory();
          if (lanes.every((l) => l.stats !== null)) finish();
        }
      } catch (e) {
        fail(e as Error);
      } finally {
        pumping = false;
      }
    };
    lanes.forEach((l, w) => {
      const worker = l.worker;
      l.ack = (batches) => worker.postMessage({ type: 'ack', batches } satisfies ToWorker);
      worker.on('message', (m: FromWorker) => {
        inbox.push([l, m]);
        void pump();
      });
      worker.on('error', (e: Error) => fail(new Error(`worker thread ${w} failed: ${e.message}`)));
      worker.on('messageerror', (e: Error) => fail(new Error(`worker thread ${w} sent an unreadable message: ${e.message}`)));
      worker.on('exit', (code) => {
        if (l.stats === null) fail(new Error(`worker thread ${w} exited (code ${code}) before it finished`));
      });
    });
  });
}
