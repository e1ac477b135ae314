/**
 * Memory governor. V8 lets the old generation grow to several times the live
 * heap before a full collection; with connection objects dying at a steady
 * rate that garbage, not live state, sets the peak RSS (measured on a
 * million-source SYN flood: 130 MB live, 550 MB heap before each collection).
 * Between reads of the input (every 1 MiB), if the heap has grown more than
 * `slackBytes` past what the last full collection left, a full collection
 * runs now. Costs about 10-100 ms per collection; bounds RSS to live state plus
 * the slack (32 MiB: measured on the 10 M-packet capture, 64 MiB gave a higher
 * peak and 16 MiB cost 30% more CPU for the same peak).
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | null = null;
try {
  setFlagsFromString('--expose-gc');
  // 8 MiB semi-spaces for the isolates created from here on: the --workers
  // lanes (worker threads). The main isolate already exists and keeps V8's
  // default (up to 16 MiB): measured on the 2 M-packet capture, 118 scavenges
  // with and without this line in one process, while the lanes of
  // `analyze --workers 2` peak at 352-362 MB with it and 377-383 MB without,
  // no slower. (Passing it on the command line to one process made it slower:
  // 178 scavenges, 6.6-8.6 s against 6.1-6.6 s.)
  setFlagsFromString('--max-semi-space-size=8');
  gc = runInNewContext('gc') as () => void;
} catch {
  gc = null; // without it V8's own heuristics apply
}

const DEFAULT_SLACK_BYTES = 32 * 1024 * 1024;
let baseline = -1;

/** Call between reads; cheap when there is nothing to do. */
export function governMemory(slackBytes = DEFAULT_SLACK_BYTES): void {
  if (gc === null) return;
  const used = getHeapStatistics().used_heap_size;
  if (baseline < 0) baseline = used;
  if (used - baseline > slackBytes) {
    gc();
    baseline = getHeapStatistics().used_heap_size;
  }
}
