/**
 * Option values, checked: every command parses its numeric and structured
 * options through here, and a bad value is a UsageError (exit 2) whose
 * message names the option and the accepted range. The engine below trusts
 * what it gets from here.
 */
import { MAX_WORKERS } from '../analysis/analyze.js';
import type { CaptureArgs } from './common.js';
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
