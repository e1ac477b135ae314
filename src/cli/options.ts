/**
 * Option values, checked: every command parses its numeric and structured
 * options through here, and a bad value is a UsageError (exit 2) whose
 * message names the option and the accepted range. The engine below trusts
 * what it gets from here.
 */
import { MAX_WORKERS } from '../analysis/analyze.js';
import { parseFilter } from '../analysis/bpf-parse.js';
import type { PacketSelection, RecordSelection, TimeBound } from '../analysis/select.js';
import { findRule, RULES } from '../rules/registry.js';
import type { CaptureArgs, SelectionArgs } from './common.js';
import { UsageError } from './exit.js';

/**
 * What the user typed for --NAME (the last occurrence on the command line), for
 * messages: yargs turns text into NaN and "" into 0. The value itself when the
 * option is not found (a test calling these checks directly).
 */
function typed(option: string, value: unknown): string {
  const args = process.argv;
  const short = option === 'count' ? '-c' : null; // the one numeric option with a one-letter alias (live)
  for (let i = args.length - 1; i >= 0; i--) {
    if (args[i].startsWith(`--${option}=`)) return args[i].slice(option.length + 3);
    if ((args[i] === `--${option}` || args[i] === short) && i + 1 < args.length) return args[i + 1];
  }
  return String(value);
}

/** A whole number in [min, max] (yargs gives NaN for text); "--NAME takes a whole number ..." otherwise. */
export function wholeNumber(option: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (Array.isArray(value)) throw new UsageError(`--${option} is given more than once`);
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`--${option} takes a whole number ${range}, not "${typed(option, value)}"`);
  }
  return value;
}

/** --workers: undefined (one thread, no workers) or 1..MAX_WORKERS worker threads. */
export function workersOption(value: number | undefined): number | undefined {
  return value === undefined ? undefined : wholeNumber('workers', value, 1, MAX_WORKERS);
}

/** --shard K/N as tracker options (every connection when absent). */
export function shardOption(shard: string | undefined): { shardIndex: number; shardCount: number } {
  if (shard === undefined) return { shardIndex: 0, shardCount: 1 };
  const m = /^(\d+)\/(\d+)$/.exec(shard);
  const k = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || n > 65536 || k >= n) throw new UsageError(`--shard takes K/N with 0 <= K < N (for example 0/4), not "${shard}"`);
  return { shardIndex: k, shardCount: n };
}

/** A number > 0 (fractions allowed: seconds); "--NAME takes a number > 0" otherwise. */
export function positiveNumber(option: string, value: number): number {
  if (Array.isArray(value)) throw new UsageError(`--${option} is given more than once`);
  if (!(Number.isFinite(value) && value > 0)) throw new UsageError(`--${option} takes a number > 0, not "${typed(option, value)}"`);
  return value;
}

/** The tracker options every capture command takes: --max-connections, --idle-timeout, --checksums, --shard. */
export function trackerOptions(argv: CaptureArgs): {
  maxConnections: number; inactivityTimeoutSec: number; checksums: boolean; shardIndex: number; shardCount: number;
} {
  return {
    maxConnections: wholeNumber('max-connections', argv['max-connections'], 1),
    inactivityTimeoutSec: idleTimeoutOption(argv['idle-timeout']),
    checksums: argv.checksums, ...shardOption(argv.shard),
  };
}

/** --idle-timeout: seconds of capture time, > 0 and at most a year (fractions allowed). */
export function idleTimeoutOption(value: number): number {
  if (!(Number.isFinite(value) && value > 0 && value <= 31_536_000)) {
    throw new UsageError(`--idle-timeout takes a number of seconds > 0 and at most 31536000 (a year), not "${value}"`);
  }
  return value;
}

/** --format parquet needs -o DIR, and -o is only for parquet (the other formats write to standard output). */
export function outputDirOption(format: string, output: string | undefined): string | undefined {
  if (format === 'parquet' && (output === undefined || output === '')) {
    throw new UsageError('--format parquet writes a directory of tables: give it with -o DIR');
  }
  if (format !== 'parquet' && output !== undefined) {
    throw new UsageError(`-o/--output is for --format parquet; --format ${format} writes to standard output`);
  }
  return output;
}

/** The capture files, `-` (standard input) at most once. */
export function inputFiles(files: string[]): string[] {
  if (files.length === 0) throw new UsageError('name a capture file, or - to read standard input');
  if (files.filter((f) => f === '-').length > 1) throw new UsageError('- (standard input) can be given once');
  return files;
}

/** A repeatable option's values (yargs gives one value or an array), commas splitting too; undefined when absent. */
function repeated(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const list = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(','));
  return list.map((v) => v.trim()).filter((v) => v !== '');
}

/** --filter: a tcpdump expression within the supported subset (docs/filter.md); the problem named otherwise. */
export function filterOption(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new UsageError('--filter is given more than once (join the expressions with "and")');
  const text = String(value);
  const parsed = parseFilter(text);
  if (!parsed.ok) throw new UsageError(`--filter "${text}": ${parsed.error}`);
  return text;
}

const UNIT_NS: Record<string, number> = { us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/**
 * --since/--until: `+N[ms|s|m|h]` after the input's first frame (seconds
 * without a unit), an ISO-8601 time with a zone (2024-05-01T10:00:00Z,
 * 2024-05-01 12:00:00.25+02:00), or seconds since the epoch (1714557600.5).
 */
export function timeOption(option: string, value: unknown): TimeBound | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new UsageError(`--${option} is given more than once`);
  const text = String(value).trim();
  const bad = (why: string): never => {
    throw new UsageError(`--${option} takes +DURATION (as +30s, +5m, +1.5h, +250ms) after the first packet, an ISO-8601 time with its zone (2024-05-01T10:00:00Z) or epoch seconds, not "${text}"${why}`);
  };
  const rel = /^\+(\d+(?:\.\d{1,9})?)(us|ms|s|m|h)?$/.exec(text);
  if (rel) {
    // integer nanoseconds from the decimal text, without a float rounding the fraction
    const [whole, frac = ''] = rel[1].split('.');
    const unit = UNIT_NS[rel[2] ?? 's'];
    const ns = BigInt(whole) * BigInt(unit) + (BigInt(frac.padEnd(9, '0')) * BigInt(unit)) / 1_000_000_000n;
    return { relative: true, sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) };
  }
  const epoch = /^(\d+)(?:\.(\d{1,9}))?$/.exec(text);
  if (epoch) return { relative: false, sec: Number(epoch[1]), nsec: Number((epoch[2] ?? '').padEnd(9, '0')) };
  const iso = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(text);
  if (!iso) return bad('');
  const [, y, mo, d, h, mi, s = '0', frac = '', zone] = iso;
  if (zone === undefined) return bad(': give the zone (Z for UTC, or +02:00)');
  const ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  const check = new Date(ms);
  if (check.getUTCMonth() !== +mo - 1 || check.getUTCDate() !== +d || +h > 23 || +mi > 59 || +s > 59) return bad(': no such date or time');
  let offset = 0;
  if (zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    offset = (z[1] === '-' ? -1 : 1) * (+z[2] * 3600 + +(z[3] ?? 0) * 60);
  }
  return { relative: false, sec: ms / 1000 - offset, nsec: Number(frac.padEnd(9, '0')) };
}

/** --filter, --since, --until, --stream, --uid, --rule, --min-severity, checked. */
export function selectionOptions(argv: SelectionArgs): { packets: PacketSelection; records: RecordSelection } {
  const since = timeOption('since', argv.since);
  const until = timeOption('until', argv.until);
  if (since && until && since.relative === until.relative
    && (since.sec > until.sec || (since.sec === until.sec && since.nsec >= until.nsec))) {
    throw new UsageError(`--since ${argv.since} is not before --until ${argv.until}: no packet would be read`);
  }
  const streams = repeated(argv.stream)?.map((s) => {
    if (!/^\d+$/.test(s)) throw new UsageError(`--stream takes a stream number (a whole number >= 0, as flows shows it), not "${s}"`);
    return Number(s);
  });
  const uids = repeated(argv.uid)?.map((u) => {
    if (!/^C[0-9A-Za-z]{1,32}$/.test(u)) throw new UsageError(`--uid takes a connection uid as flows and the conn.log show it (C followed by letters and digits), not "${u}"`);
    return u;
  });
  const rules = repeated(argv.rule)?.map((r) => {
    if (findRule(r) === undefined) throw new UsageError(`--rule: no rule "${r}" (rules: ${RULES.map((x) => x.id).join(', ')})`);
    return r;
  });
  const minSeverity = argv['min-severity'];
  const packets: PacketSelection = {};
  const filter = filterOption(argv.filter);
  if (filter !== undefined) packets.filter = filter;
  if (since) packets.since = since;
  if (until) packets.until = until;
  const records: RecordSelection = {};
  if (streams) records.streams = streams;
  if (uids) records.uids = uids;
  if (rules) records.rules = rules;
  if (minSeverity !== undefined) records.minSeverity = minSeverity;
  return { packets, records };
}

/** The width tables fit in: --width, else the terminal's, else $COLUMNS, else 140 (at least 40). */
export function widthOption(value: number | undefined): number {
  if (value !== undefined) return wholeNumber('width', value, 40, 10_000);
  if (process.stdout.isTTY && process.stdout.columns > 0) return Math.max(40, process.stdout.columns);
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env >= 40 ? env : 140;
}

/** live's capture filter: --filter, or the words after the options (tcpdump's way), not both. */
export function liveFilter(option: string, words: readonly string[] | undefined): string {
  const typed = (words ?? []).map(String).join(' ').trim();
  if (typed !== '' && option !== '') throw new UsageError(`give the capture filter once: --filter "${option}" or "${typed}" after the options, not both`);
  return typed !== '' ? typed : option;
}
