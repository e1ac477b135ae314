/**
 * The engine's entry point for capture files: `analyze(files, options)` reads
 * every input, tracks its TCP connections, evaluates the teardown rules and
 * hands out every connection as it is closed out, in this thread or, with
 * `options.workers`, in that many worker threads (parallel.ts).
 *
 * Guarantees, both ways alike:
 * - the same callbacks in the same order: onConnection / onNdjson in merge
 *   order (input, close frame, first frame; see pipeline.ts
 *   onConnectionInOrder and merge.ts), each input's onInputEnd after its last
 *   connection; hence byte-identical streamed output for any `workers`;
 * - the same result (records and findings sorted by sortResults, inputs,
 *   problems, stats), except: --max-connections applies to each worker on its
 *   own (evictions can differ from one thread's once it is hit).
 * Callers that need the tracker's Connection objects (the report's
 * collector) give `onCloseOut`, which only the in-process path can call:
 * the type then forbids `workers`.
 * Problems with the inputs are data (AnalysisResult.infos); nothing here
 * throws for bad input.
 */
import { STDIN_NAME } from '../capture/reader.js';
import { worstSeverity, type Finding } from '../rules/types.js';
import { ndjsonConnectionWithFindings } from '../report/ndjson.js';
import type { Connection } from '../tcp/connection.js';
import type { ConnRecord } from '../tcp/record.js';
import { inputGroups, readInput } from './input.js';
import { governMemory } from './memory.js';
import type { EngineOptions } from './options.js';
import { runLanes } from './parallel.js';
import { Analyzer, type AnalysisResult } from './pipeline.js';
import { hasRecordSelection } from './select.js';
import { VantageCounter } from '../report/vantage.js';

export { MAX_WORKERS } from './parallel.js';
export type { EngineOptions } from './options.js';
export type { AnalysisResult, InputSummary } from './pipeline.js';

/** Called as the tracker closes each connection out (close-out order, not merge order) with its Connection, valid during the call only (the tracker reuses it). */
export type CloseOutCallback = (rec: ConnRecord, found: Finding[], c: Connection) => void;

export type AnalyzeOptions = EngineOptions & (
  /** in this thread (workers absent) or in 1..MAX_WORKERS worker threads */
  | { workers?: number; onCloseOut?: undefined }
  /** in this thread, with the Connection objects */
  | { workers?: undefined; onCloseOut: CloseOutCallback }
);

export async function analyze(files: string[], options: AnalyzeOptions = {}): Promise<AnalysisResult> {
  const inputs = inputGroups(files, options.perFile === true);
  // each input's vantage (src/report/vantage.ts), counted from the records in their merged order (same with --workers)
  const vantage = options.onNdjson === undefined ? new VantageCounter() : null;
  let opts = options;
  if (vantage !== null) {
    const user = options.onConnection;
    opts = { ...options, onConnection: (rec: ConnRecord, found: Finding[]) => { vantage.add(rec); user?.(rec, found); } };
  }
  // every lane reads the inputs itself: standard input can be read once, so it runs in this thread (same output);
  // so does a selection of connections (stream numbers are the merge's)
  const res = opts.workers !== undefined && !files.includes(STDIN_NAME) && !hasRecordSelection(opts.records)
    ? await runLanes(inputs, opts.workers, opts) : await analyzeHere(inputs, opts);
  if (vantage !== null) res.inputs.forEach((inp, i) => { inp.vantage = vantage.of(i); });
  return res;
}

async function analyzeHere(inputs: string[][], opts: EngineOptions & { onCloseOut?: CloseOutCallback }): Promise<AnalysisResult> {
  const onNdjson = opts.onNdjson;
  const inOrder = onNdjson !== undefined
    ? (rec: ConnRecord, found: Finding[]) => {
      onNdjson(ndjsonConnectionWithFindings(rec, found), worstSeverity(found));
    }
    : opts.onConnection;
  const a = new Analyzer({ ...opts, onConnection: opts.onCloseOut, onConnectionInOrder: inOrder });
  const pace = opts.pace;
  const progress = opts.onProgress;
  for (const group of inputs) {
    await readInput(a, group, {
      beforeRead: pace ? () => { governMemory(); return pace(); } : governMemory,
      onProgress: progress ? (file, read, size) => progress(file, read, size, a.tracker.stats.frames) : undefined,
    });
  }
  return a.result();
}
