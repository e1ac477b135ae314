/** Options and reporting shared by the commands that read captures. */
import type { Argv } from 'yargs';
import { describeProblem } from '../capture/problems.js';
import { evictionWarning } from '../report/eviction.js';
import { DEFAULT_TRACKER_OPTIONS } from '../tcp/tracker.js';
import { err } from './output.js';
import type { AnalysisResult } from '../analysis/analyze.js';

export interface CaptureArgs {
  files: string[];
  'max-connections': number;
  'idle-timeout': number;
  checksums: boolean;
  quiet: boolean;
  shard?: string;
  workers?: number;
  'per-file': boolean;
}

export function captureOptions<T>(y: Argv<T>) {
  return y
    .positional('files', {
      type: 'string', array: true, demandOption: true,
      describe: 'pcap or pcapng files, gzip-compressed or not; - reads standard input. Several files are one capture, merged by timestamp (a tcpdump -C/-G ring, editcap -c pieces, one file per interface): connections continue across files, frames are named file#frame',
    })
    .option('per-file', {
      type: 'boolean', default: false,
      describe: 'analyze each file on its own (frames, connections and timers start afresh in every file) instead of as one capture',
    })
    .option('max-connections', {
      type: 'number', requiresArg: true, default: DEFAULT_TRACKER_OPTIONS.maxConnections,
      describe: 'live connections kept at most; beyond, the longest-idle one is closed out early (counted and reported)',
    })
    .option('idle-timeout', {
      type: 'number', default: DEFAULT_TRACKER_OPTIONS.inactivityTimeoutSec,
      describe: 'seconds (capture time) a connection may stay silent before its record is closed, as Zeek\'s tcp_inactivity_timeout; a later packet on the same ports starts a new record, and the findings tell both records as one socket where they can (docs/conformance.md, "Timers")',
    })
    .option('shard', {
      type: 'string',
      describe: 'K/N: analyze only shard K (0-based) of N, by a symmetric hash of each connection\'s addresses and ports; N processes with K = 0..N-1 together cover every connection exactly once (docs/scaling.md)',
    })
    .option('quiet', {
      alias: 'q', type: 'boolean', default: false,
      describe: 'no progress line on stderr (it is shown only when stderr is a terminal)',
    })
    .option('checksums', {
      type: 'boolean', default: false,
      describe: 'validate IP/TCP checksums and ignore bad packets as Zeek does (off by default: loopback and offloaded captures carry partial checksums)',
    });
}

/** --workers, for the commands that can run in worker threads (analyze, flows). */
export function workersFlag<T>(y: Argv<T>) {
  return y.option('workers', {
    type: 'number', requiresArg: true,
    describe: 'worker threads that track connections (by a symmetric hash of addresses and ports), each reading the input; results stream; output is byte for byte one process\'s (docs/performance.md). Pays off on long captures (10 M packets: 1.2-1.3x with 2); use at most the number of cores',
  });
}

/** Prints every input problem and the eviction count on stderr. */
export function reportProblems(res: AnalysisResult): void {
  for (const info of res.infos) {
    for (const p of info.problems) {
      const what = p.kind === 'unreadable' ? '' : '; everything before it was analyzed and reported';
      err(`rstscope: ${describeProblem(p)}${what}\n`);
    }
  }
  if (res.stats.evicted > 0) {
    err(`rstscope: ${evictionWarning(res.stats.evicted, 'stderr')}\n`);
  }
}
