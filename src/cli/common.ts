/** Options and reporting shared by the commands that read captures. */
import type { Argv } from 'yargs';
import { describeProblem, type Problem } from '../capture/problems.js';
import { evictionWarning } from '../report/eviction.js';
import { DEFAULT_TRACKER_OPTIONS } from '../tcp/tracker.js';
import { SEVERITIES, type Severity } from '../rules/types.js';
import { err } from './output.js';
import type { AnalysisResult } from '../analysis/analyze.js';
import type { PacketSelection } from '../analysis/select.js';
import { num } from '../report/format.js';
import { TIME_FORMATS } from '../report/time-format.js';

/** The options of the commands that read captures which select packets and connections (src/analysis/select.ts, checked in options.ts). */
export interface SelectionArgs {
  filter?: string;
  since?: string;
  until?: string;
  stream?: string | string[];
  uid?: string | string[];
  rule?: string | string[];
  'min-severity'?: Severity;
}

export interface CaptureArgs extends SelectionArgs {
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
  return trackerFlags(y
    .positional('files', {
      type: 'string', array: true, demandOption: true,
      describe: 'pcap or pcapng files, gzip-compressed or not; - reads standard input. Several files are one capture, merged by timestamp (a tcpdump -C/-G ring, editcap -c pieces, one file per interface): connections continue across files, frames are named file#frame',
    })
    .option('per-file', {
      type: 'boolean', default: false,
      describe: 'analyze each file on its own (frames, connections and timers start afresh in every file) instead of as one capture',
    }));
}

/** The tracker's options and --quiet (every command that reads captures, `show` too). */
export function trackerFlags<T>(y: Argv<T>) {
  return y
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

/**
 * With --filter, --since or --until: one line on stderr saying what they left
 * out, so that an empty result is not read as an all-clear of the whole capture.
 */
export function reportSelection(res: AnalysisResult, packets: PacketSelection): void {
  const s = res.selection;
  if (s === undefined) return;
  const parts = [`${num(s.selected)} TCP segment(s) analyzed`];
  if (packets.filter !== undefined) parts.push(`${num(s.filteredOut)} left out by --filter`);
  if (packets.since !== undefined || packets.until !== undefined) parts.push(`${num(s.outsideTime)} frame(s) outside --since/--until`);
  err(`rstscope: selection: ${parts.join('; ')}\n`);
}

/** Prints input problems on stderr, one line each. */
export function printProblems(problems: readonly Problem[]): void {
  for (const p of problems) {
    const what = p.kind === 'unreadable' ? '' : '; everything before it was analyzed and reported';
    err(`rstscope: ${describeProblem(p)}${what}\n`);
  }
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
  for (const info of res.infos) printProblems(info.problems);
  if (res.stats.evicted > 0) {
    err(`rstscope: ${evictionWarning(res.stats.evicted, 'stderr')}\n`);
  }
}

/** --filter, --since, --until, --stream, --uid: which packets are read and which connections are shown (analyze, flows, report). */
export function selectionFlags<T>(y: Argv<T>) {
  return packetFlags(y)
    .option('stream', {
      type: 'string', requiresArg: true,
      describe: 'only the connection with this stream number (per input, as flows shows it; repeatable, or N,M). With --filter, the numbers count the selected connections',
    })
    .option('uid', {
      type: 'string', requiresArg: true,
      describe: 'only the connection with this uid (C..., as flows, NDJSON and the conn.log show it; repeatable)',
    });
}

/** --filter, --since, --until: which packets reach the tracker (analyze, flows, report, show). */
export function packetFlags<T>(y: Argv<T>) {
  return y
    .option('filter', {
      type: 'string', requiresArg: true,
      describe: 'read only the packets this tcpdump expression selects, as `tcpdump -r FILE -w - EXPR` would: host/src host/dst host ADDR, net CIDR | NET mask MASK, [tcp|udp] [src|dst] port N, portrange LO-HI, ip, ip6, tcp, udp, vlan [ID], tcp[13] & 2 != 0 and tcp[tcpflags] & (tcp-syn|tcp-rst) tests (tcp[], ip[], ip6[], len, less, greater), and/or/not/&&/||/!, parentheses, `host a or b`. No names (addresses and numbers only); anything else is refused, naming the part (docs/filter.md)',
    })
    .option('since', {
      type: 'string', requiresArg: true,
      describe: 'read only packets at or after this time: +30s, +5m, +1.5h, +250ms after the first packet of each input; an ISO-8601 time with its zone (2024-05-01T10:00:00Z); or epoch seconds',
    })
    .option('until', {
      type: 'string', requiresArg: true,
      describe: 'read only packets before this time (same forms as --since)',
    });
}

/** --rule, --min-severity: which findings are shown (analyze, report). */
export function findingFlags<T>(y: Argv<T>) {
  return y
    .option('rule', {
      type: 'string', requiresArg: true,
      describe: 'only findings of this rule (repeatable, or a,b; `rstscope rules` lists them)',
    })
    .option('min-severity', {
      choices: SEVERITIES,
      describe: 'only findings at or above this severity',
    });
}

/** --time-format/-t: how findings' times are shown (tshark's -t choices). */
export function timeFlag<T>(y: Argv<T>, defaultTime: string) {
  return y
    .option('time-format', {
      alias: 't', choices: TIME_FORMATS, default: defaultTime,
      describe: 'how times are shown, as tshark -t: r seconds since the first packet, a local time of day, ad local date and time, u UTC time of day, ud UTC date and time, e seconds since the epoch',
    });
}

/** --width: the characters per line a table fits in. */
export function widthFlag<T>(y: Argv<T>) {
  return y
    .option('width', {
      type: 'number', requiresArg: true,
      describe: 'characters per line for the table (default: the terminal\'s width, else $COLUMNS, else 140); below about 120 findings are listed as paragraphs',
    });
}
