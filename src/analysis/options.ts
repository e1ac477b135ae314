/**
 * The options every engine run takes, in one thread or in worker threads
 * (analyze.ts adds onCloseOut for the in-process path only). parallel.ts
 * takes exactly these; its module comment says how each behaves with workers
 * (progress as lane 0 reads the input, NDJSON rendered in the workers).
 */
import type { InputInfo } from '../capture/parser.js';
import type { InputSummary } from '../report/input-summary.js';
import type { Finding, Severity } from '../rules/types.js';
import type { ConnRecord } from '../tcp/record.js';
import type { TrackerOptions } from '../tcp/tracker.js';
import type { PacketSelection, RecordSelection } from './select.js';

export interface EngineOptions extends Partial<TrackerOptions> {
  /**
   * Each file is an input of its own (frames, connections and timers start
   * afresh per file). Default: the files together are one capture, read in
   * timestamp order (capture/capture-set.ts), and connections continue across
   * them.
   */
  perFile?: boolean;
  /** evaluate teardown rules (default true) */
  rules?: boolean;
  /** which frames reach the tracker: --filter, --since, --until (select.ts) */
  packets?: PacketSelection;
  /**
   * which connections and findings are handed out: --stream, --uid, --rule,
   * --min-severity (select.ts). Given, the run is in this thread (stream
   * numbers are given out by the merge of worker lanes).
   */
  records?: RecordSelection;
  /** keep records and findings in the result, sorted (default true; false for streaming output) */
  keepRecords?: boolean;
  /** every connection with its findings, in merge order (not called when onNdjson is given) */
  onConnection?: (rec: ConnRecord, found: Finding[]) => void;
  /**
   * NDJSON output instead of onConnection, in merge order: per connection its
   * line and its findings' lines (`{"type":"connection",...}` then
   * `{"type":"finding",...}`, each JSON.stringify of the object with the type
   * first), with the findings' worst severity (null without findings). With
   * workers the lines are rendered in the workers.
   */
  onNdjson?: (lines: string, worst: Severity | null) => void;
  /** after the last connection of each input */
  onInputEnd?: (summary: InputSummary, info: InputInfo) => void;
  /** awaited between reads, or after records were handed out (streaming output: wait for stdout to drain) */
  pace?: () => Promise<void>;
  /** progress of the current input: bytes read of its size, frames so far */
  onProgress?: (file: string, bytesRead: number, fileBytes: number, frames: number) => void;
}
