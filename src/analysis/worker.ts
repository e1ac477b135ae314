/**
 * A lane of `--workers N` (parallel.ts runs the lanes, merge.ts merges their
 * streams): every lane runs this
 * module as a worker thread.
 *
 * Each lane reads every input itself (readCaptureFile: from the page cache
 * this costs about 0.3 s per 2 M packets, less than the main thread decoding
 * and copying frames to it) and runs its own Analyzer whose tracker keeps one
 * shard of the connections (TrackerOptions.shardIndex/shardCount). The
 * Analyzer decodes every frame and the tracker runs its timer sweep at every TCP
 * segment's time before it drops other shards' segments, so a connection is
 * closed out at the same frame as in one process (evictions past
 * --max-connections excepted: the cap is per lane). The frame being
 * processed is noted in a wrapper around Analyzer.onFrame (pipeline.ts is
 * unchanged).
 *
 * Stream to the main thread, in `batch` messages:
 * - records (`meta`, `text`, `objects`): closed-out connections with their
 *   findings, each tagged with `closeFrame`, the frame being processed when
 *   it was closed out (END_FRAME for the end-of-input flush). In the order
 *   closed out, so `closeFrame` never decreases within an input.
 * - `created`: the firstFrame of every connection this worker created since
 *   the last batch, ascending. The tracker numbers connections 1, 2, 3... in
 *   creation order (ConnRecord.id), so the k-th creation reported is local id k.
 * - `progressKey`: every frame up to this (input, frame) has been processed
 *   completely: no later batch holds a record closed at or before it, nor a
 *   creation at or before it.
 * Batches go out before each 1 MiB read and whenever RECORDS_PER_BATCH
 * records are pending. Backpressure: at most MAX_UNACKED batches are
 * unacknowledged; before reading on, the worker waits for the main thread's
 * `ack` (sent once a batch's records have been written out).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Frame } from '../capture/frame.js';
import type { InputInfo } from '../capture/parser.js';
import { ndjsonTemplate } from '../report/ndjson.js';
import { SEVERITIES, type Finding } from '../rules/types.js';
import type { ConnRecord } from '../tcp/record.js';
import type { TrackerOptions, TrackerStats } from '../tcp/tracker.js';
import { readInput } from './input.js';
import { governMemory } from './memory.js';
import { END_FRAME, FRAME_KEY_SCALE } from './merge.js';
import { mergedKeyFrame } from './frame-refs.js';
import { Analyzer, type InputSummary } from './pipeline.js';
import type { PacketSelection, SelectionCounts } from './select.js';

export interface WorkerConfig {
  /** the inputs: each a file, or a set of files read as one capture */
  files: string[][];
  /** tracker options with this worker's shard */
  tracker: TrackerOptions;
  rules: boolean;
  /** --filter, --since, --until (each lane drops the same frames) */
  packets?: PacketSelection;
  /**
   * render NDJSON here (the main thread only splices in the global id and
   * stream): `{"type":"connection",...}` and `{"type":"finding",...}` lines
   * exactly as the analyze and flows commands write them
   */
  ndjson: boolean;
  /** worker index: only worker 0 sends input summaries (every worker reads the same inputs) */
  index: number;
  /** send `progress` messages (worker 0, when the command draws a progress line) */
  progress: boolean;
}

/**
 * Per record of a batch, META_FIELDS numbers in `meta`: closeFrame,
 * firstFrame, the worker's own connection id (its creation order), the
 * length of the record's text in `text` (-1: the record is the next entry of
 * `objects`), and the index in SEVERITIES of its worst finding (-1: none).
 * NDJSON text holds a NUL character wherever the main thread splices in
 * `ID,"input":I,"stream":S` (JSON text never holds a raw NUL: JSON.stringify
 * escapes control characters).
 */
export const META_FIELDS = 5;

export type FromWorker =
  | {
    type: 'batch';
    /** every record of a batch belongs to this input */
    input: number;
    /** (input, last frame processed completely) as input * FRAME_KEY_SCALE + frame */
    progressKey: number;
    /** firstFrame of connections created (in `input`) since the last batch, ascending */
    created: number[];
    meta: Float64Array;
    text: string;
    /** records sent as objects; `keys`: each finding's merged key frame, for a capture set (else null) */
    objects: { rec: ConnRecord; found: Finding[]; keys: number[] | null }[];
    /** with the last batch of an input: its summary and its files' infos (worker 0) or its packet count (others, for a consistency check) */
    inputEnd?: { summary?: InputSummary; infos?: InputInfo[]; packets: number };
  }
  /** `selection`: what --filter, --since, --until left out (every lane sees every frame: worker 0's is reported) */
  | { type: 'done'; stats: TrackerStats; selection: SelectionCounts | null }
  /** bytes read of the current input (worker 0 only, with WorkerConfig.progress) */
  | { type: 'progress'; file: string; bytesRead: number; fileBytes: number; frames: number };

export type ToWorker = { type: 'ack'; batches: number };

// test hook (test/workers.test.ts): RSTSCOPE_TEST_WORKER_BATCH=1 sends every
// record in its own batch and waits for each ack, so small captures exercise
// mid-frame batches and backpressure
const tinyBatches = process.env.RSTSCOPE_TEST_WORKER_BATCH === '1';
/**
 * records per batch at most (besides the batch sent before every 1 MiB read);
 * 256 NDJSON records are ~110 KB of text, under V8's large-object size, so a
 * batch's string does not take fresh pages of its own
 */
export const RECORDS_PER_BATCH = tinyBatches ? 1 : 256;
/** unacknowledged batches a worker may have in flight before it waits */
export const MAX_UNACKED = tinyBatches ? 1 : 16;

/**
 * How a lane talks to the merge (in parallel.ts, on the main thread): through
 * its worker thread's port. One implementation since every lane runs in a
 * worker thread; the seam keeps runLane free of worker_threads globals.
 */
interface LanePort {
  post(m: FromWorker, transfer?: ArrayBuffer[]): void;
  /** registers the handler of acknowledgements (a count of batches) */
  onAck(cb: (batches: number) => void): void;
  /** progress of the current input (lane 0 only: the main thread draws the progress line) */
  onProgress?: (file: string, bytesRead: number, fileBytes: number, frames: number) => void;
}

// a failure rejects runLane(): unhandled, it ends the thread with the Worker's 'error' event in the main thread
if (parentPort !== null) {
  const port = parentPort;
  const cfg = workerData as WorkerConfig;
  void runLane(cfg, {
    post: (m, transfer) => port.postMessage(m, transfer),
    onAck: (cb) => port.on('message', (m: ToWorker) => { if (m.type === 'ack') cb(m.batches); }),
    onProgress: cfg.progress
      ? (file, bytesRead, fileBytes, frames) => port.postMessage({ type: 'progress', file, bytesRead, fileBytes, frames } satisfies FromWorker)
      : undefined,
  });
}

/**
 * Reads every input and tracks this lane's shard, streaming batches to the
 * merge, in its worker thread.
 */
async function runLane(cfg: WorkerConfig, port: LanePort): Promise<void> {
  let unacked = 0;
  let wakeUp: (() => void) | null = null;
  port.onAck((batches) => {
    unacked -= batches;
    if (wakeUp !== null && unacked < MAX_UNACKED) {
      const w = wakeUp;
      wakeUp = null;
      w();
    }
  });
  // test hook (test/workers.test.ts): make worker 1 fail mid-run, as a crash would
  const fault = process.env.RSTSCOPE_TEST_WORKER_FAULT === '1' && cfg.index === 1;

  let input = 0;
  let curFrame = 0;
  /** the input's last frame, once its end-of-input flush runs */
  let lastFrame = 0;
  let created: number[] = [];
  let meta: number[] = [];
  let texts: string[] = [];
  let objects: { rec: ConnRecord; found: Finding[]; keys: number[] | null }[] = [];
  let records = 0;
  const send = (progressFrame: number, inputEnd?: { summary?: InputSummary; infos?: InputInfo[]; packets: number }) => {
    const m: FromWorker = {
      type: 'batch', input, progressKey: input * FRAME_KEY_SCALE + progressFrame, created,
      meta: Float64Array.from(meta), text: texts.join(''), objects, inputEnd,
    };
    created = [];
    meta = [];
    texts = [];
    objects = [];
    records = 0;
    unacked++;
    port.post(m, [m.meta.buffer as ArrayBuffer]);
  };
  let endOfInput = null as InputSummary | null;
  const analyzer = new Analyzer({
    ...cfg.tracker,
    rules: cfg.rules,
    packets: cfg.packets,
    keepRecords: false,
    onConnection: (rec, found, c) => {
      let worst = -1;
      for (const f of found) worst = Math.max(worst, SEVERITIES.indexOf(f.severity));
      // the merged first frame: in a capture set the record's own names file and frame
      meta.push(curFrame, c.firstFrame, rec.id);
      const text = cfg.ndjson ? ndjsonTemplate(rec, found) : null;
      if (text !== null) {
        meta.push(text.length, worst);
        texts.push(text);
      } else {
        meta.push(-1, worst);
        objects.push({ rec, found, keys: analyzer.hadSets ? found.map((f) => mergedKeyFrame.get(f) ?? f.frame) : null });
      }
      // mid-frame: only the frames before this one are complete
      if (++records >= RECORDS_PER_BATCH) send(curFrame === END_FRAME ? lastFrame : curFrame - 1);
    },
    onInputEnd: (summary) => { endOfInput = summary; },
  });
  const stats = analyzer.tracker.stats;
  const track = analyzer.onFrame;
  const onFrame = (f: Frame): void => {
    curFrame = f.frameNo;
    const before = stats.connections;
    track(f);
    if (stats.connections !== before) created.push(f.frameNo);
  };
  let reads = 0;
  const beforeRead = async (): Promise<void> => {
    governMemory();
    if (fault && ++reads === 3) throw new Error('injected worker fault (RSTSCOPE_TEST_WORKER_FAULT)');
    send(curFrame);
    if (unacked >= MAX_UNACKED) await new Promise<void>((resolve) => { wakeUp = resolve; });
  };

  for (let i = 0; i < cfg.files.length; i++) {
    const progress = port.onProgress;
    const infosBefore = analyzer.infos.length;
    await readInput(analyzer, cfg.files[i], {
      sink: onFrame,
      beforeRead,
      onProgress: progress ? (file, read, size) => progress(file, read, size, stats.frames) : undefined,
      beforeEnd: () => {
        lastFrame = curFrame;
        curFrame = END_FRAME;
      },
    }, () => {
      input = i;
      curFrame = 0;
    });
    const infos = analyzer.infos.slice(infosBefore);
    let packets = 0;
    for (const inf of infos) packets += inf.packets;
    send(END_FRAME, cfg.index === 0 ? { summary: endOfInput!, infos, packets } : { packets });
  }
  // the main thread ends this thread once every worker is done
  port.post({ type: 'done', stats: analyzer.tracker.stats, selection: analyzer.selection });
}
