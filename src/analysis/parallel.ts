/**
 * `--workers N`: N lanes (worker.ts runLane) each read every input and track
 * one shard of the connections (by the symmetric flow hash, so both
 * directions of a connection meet in one lane), each in its own worker
 * thread. This thread only merges their streams as they come (the Merge
 * class, merge.ts: order, numbering, maxLive) and hands records to the
 * caller of analyze() (analyze.ts), in bounded memory. (Below, "worker"
 * means any lane.)
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
import { governMemory } from './memory.js';
import type { EngineOptions } from './options.js';
import { mergedKeyFrame } from './frame-refs.js';
import { Merge, mergeStats, type MergeRecord } from './merge.js';
import { sortResults, type AnalysisResult, type InputSummary } from './pipeline.js';
import type { SelectionCounts } from './select.js';
import { META_FIELDS, type FromWorker, type ToWorker, type WorkerConfig } from './worker.js';

export const MAX_WORKERS = 64;

/** analyze()'s options as this path takes them (analyze.ts AnalyzeOptions without onCloseOut). */
export type ParallelOptions = EngineOptions;

/** A record as merged here: NDJSON text rendered by a worker, or the objects. */
interface WorkerRecord extends MergeRecord {
  /** NUL where `ID,"input":I,"stream":S` goes */
  text: string | null;
  rec: ConnRecord | null;
  found: Finding[] | null;
  worst: Severity | null;
}

/** A lane (its worker thread) as the run sees it; the merge keeps the rest. */
interface Lane {
  readonly worker: Worker;
  stats: TrackerStats | null;
  /** acknowledges batches to the lane */
  ack: (batches: number) => void;
}

/** The --workers path of analyze() (analyze.ts), which documents the options and guarantees. */
export async function runLanes(files: string[][], workers: number, opts: ParallelOptions = {}): Promise<AnalysisResult> {
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
    throw new RangeError(`workers: a whole number from 1 to ${MAX_WORKERS}, not ${workers}`); // the CLI checks first (src/cli/options.ts)
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
    packets: opts.packets,
    ndjson: opts.onNdjson !== undefined,
    index: w,
    progress: w === 0 && opts.onProgress !== undefined,
  }));
  const lanes = configs.map((cfg): Lane => ({ worker: new Worker(script, { workerData: cfg }), stats: null, ack: () => {} }));

  const connections: ConnRecord[] = [];
  const findings: Finding[] = [];
  const inputs: InputSummary[] = [];
  const infos: InputInfo[] = [];
  const onNdjson = opts.onNdjson;
  const sets = files.some((g) => g.length > 1);
  const merge = new Merge<WorkerRecord, { summary: InputSummary; infos: InputInfo[] }>(workers, files.length, {
    record: (r) => {
      const { id, input, stream } = r;
      if (r.text !== null) {
        // rendered by the worker: splice in the id and stream
        onNdjson!(ndjsonFillIds(r.text, id, input, stream), r.worst);
        return;
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
    },
    inputEnd: (_input, s, packets) => {
      const read = s.summary.packets;
      const other = packets.find((p) => p !== read);
      if (other !== undefined) {
        s.summary.warnings.push(`the file changed while the workers read it (${read} and ${other} packets): results may be inconsistent`);
      }
      inputs.push(s.summary);
      infos.push(...s.infos);
      opts.onInputEnd?.(s.summary, s.infos[0]);
    },
  });

  return new Promise<AnalysisResult>((resolve, reject) => {
    /** resolved or rejected: later events do not matter */
    let settled = false;
    let pumping = false;
    let inbox: [number, FromWorker][] = [];
    const stopAll = () => {
      return Promise.all(lanes.map((l) => l.worker.terminate())).then(() => undefined, () => undefined);
    };
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      void stopAll().then(() => reject(e));
    };
    let selection: SelectionCounts | null = null;
    const integrate = (w: number, m: FromWorker) => {
      if (m.type === 'done') {
        lanes[w].stats = m.stats;
        if (w === 0) selection = m.selection;
        return;
      }
      if (m.type === 'progress') {
        opts.onProgress?.(m.file, m.bytesRead, m.fileBytes, m.frames);
        return;
      }
      const input = m.input;
      const { meta, text, objects } = m;
      const records: WorkerRecord[] = [];
      let off = 0;
      let obj = 0;
      for (let i = 0; i < meta.length; i += META_FIELDS) {
        const len = meta[i + 3];
        const worst = meta[i + 4] < 0 ? null : SEVERITIES[meta[i + 4]];
        const r: WorkerRecord = {
          closeFrame: meta[i], input, firstFrame: meta[i + 1], id: meta[i + 2], stream: 0, text: null, rec: null, found: null, worst,
        };
        if (len >= 0) {
          r.text = text.slice(off, off + len);
          off += len;
        } else {
          const o = objects[obj++];
          r.rec = o.rec;
          r.found = o.found;
          // a capture set's findings sort by their merged key frames (sortResults)
          if (o.keys !== null) o.found.forEach((f, k) => mergedKeyFrame.set(f, o.keys![k]));
        }
        records.push(r);
      }
      const end = m.inputEnd;
      merge.add(w, {
        input, progressKey: m.progressKey, created: m.created, records,
        inputEnd: end && { packets: end.packets, summary: end.summary && end.infos ? { summary: end.summary, infos: end.infos } : undefined },
      });
    };
    const sendAcks = () => {
      lanes.forEach((l, w) => {
        const n = merge.takeConsumed(w);
        if (n > 0 && l.stats === null) l.ack(n);
      });
    };
    const finish = () => {
      if (!merge.drained()) throw new Error('workers finished with records left unmerged');
      if (keep) sortResults(connections, findings, sets);
      const stats = mergeStats(lanes.map((l) => l.stats!));
      stats.maxLive = merge.maxLive;
      settled = true;
      const res: AnalysisResult = { inputs, infos, connections, findings, stats };
      if (selection !== null) res.selection = selection;
      void stopAll().then(() => resolve(res));
    };
    const pump = async () => {
      if (pumping) return;
      pumping = true;
      try {
        while (!settled && inbox.length > 0) {
          const msgs = inbox;
          inbox = [];
          for (const [w, m] of msgs) integrate(w, m);
          const emitted = merge.step();
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
        inbox.push([w, m]);
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
