/**
 * The inputs of a run and how one is read: a file, or a set of files read
 * as one capture (capture/capture-set.ts). Shared by analyze() in this
 * thread (analyze.ts) and every --workers lane (worker.ts), so both read and
 * number frames alike.
 */
import { FrameMap, readCaptureSet } from '../capture/capture-set.js';
import type { FrameSink } from '../capture/frame.js';
import { readCaptureFile } from '../capture/reader.js';
import type { Analyzer } from './pipeline.js';

/** The inputs: every file on its own (perFile), or all of them as one capture (one input, a set when several). */
export function inputGroups(files: string[], perFile: boolean): string[][] {
  if (perFile || files.length <= 1) return files.map((f) => [f]);
  return [files];
}

export interface InputReadOptions {
  beforeRead: () => Promise<void> | void;
  onProgress?: (file: string, bytesRead: number, fileBytes: number) => void;
  /** where frames go (default: the analyzer's onFrame; a lane wraps it) */
  sink?: FrameSink;
  /** after the input was read, before its end-of-input flush */
  beforeEnd?: () => void;
}

/**
 * Reads one input into the analyzer: a file, or a set of several as one
 * capture (the analyzer then names frames by file). Shared by this thread's
 * path and each --workers lane, so both read alike.
 */
export async function readInput(a: Analyzer, group: string[], opts: InputReadOptions, beforeBegin?: () => void): Promise<void> {
  if (group.length === 1) {
    const file = group[0];
    a.beginInput();
    beforeBegin?.();
    const progress = opts.onProgress;
    const info = await readCaptureFile(file, opts.sink ?? a.onFrame, {
      beforeRead: opts.beforeRead,
      onProgress: progress ? (read, size) => progress(file, read, size) : undefined,
    });
    opts.beforeEnd?.();
    a.endInput(info);
    return;
  }
  const map = new FrameMap(group);
  a.beginInput(map);
  beforeBegin?.();
  const results = await readCaptureSet(group, opts.sink ?? a.onFrame, map, {
    beforeRead: () => {
      a.pruneFrameMap();
      return opts.beforeRead();
    },
    onFileProgress: opts.onProgress,
  });
  opts.beforeEnd?.();
  a.endInputSet(results);
}
