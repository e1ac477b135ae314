/**
 * `rstscope live`: watch real traffic and print teardown findings as they are
 * decided, with the rules and output formats of `analyze` (docs/live.md).
 *
 * When a finding is printed. The tracker closes a connection out on Zeek's
 * timers (5 s after a complete close, 5 min idle), which is too late for a
 * console. So, in addition, every TICK_MS the command:
 * - advances the tracker's clock to the wall clock minus ADVANCE_LAG_SEC
 *   (Tracker.advance, once a second), so expired timers close connections out while the wire
 *   is quiet (syn-unanswered after its 5 s attempt timer, idle timeouts);
 * - evaluates the rules provisionally on every connection that is settled (a
 *   RST was seen, or both sides closed) and became quiet for SETTLE_SEC since
 *   the previous tick (found newest first via Tracker.forEachRecent, so the
 *   cost follows recent activity, not table size), and
 *   prints the findings not printed before. Tracking is not changed by this:
 *   the connection stays in the table and is closed out on the same timers as
 *   in `analyze`, so records, ids and frame numbers are the same as `analyze`
 *   of the --write file. At the real close-out only findings not yet printed
 *   are added. Worst-case delay from the deciding packet: SETTLE_SEC + TICK_MS
 *   + capture delivery (~4 ms for tcpdump).
 * Known gap: if packets arrive after a provisional evaluation and change a
 * finding (its key frame or actor), both versions are printed; `analyze` of
 * the saved capture shows only the final one.
 *
 * --format json prints one document at the end (the `analyze` document plus
 * a "live" member); table and ndjson stream.
 */
import type { CommandModule } from 'yargs';
import {
  DEFAULT_BUFFER_KIB, DEFAULT_CAP_BUFFER_KIB, DEFAULT_SNAPLEN_BYTES, LiveError, openLiveSource, type LiveBackend, type LiveSource,
} from '../../capture/live.js';
import { findingLine, totals, totalsSentence, type Totals } from '../../report/findings.js';
import { ndjsonConnection, ndjsonFinding, ndjsonInput, ndjsonTotals } from '../../report/ndjson.js';
import { evaluateRules } from '../../rules/engine.js';
import type { Finding, Severity } from '../../rules/types.js';
import type { Connection } from '../../tcp/connection.js';
import { EpState } from '../../tcp/endpoint.js';
import { toRecord, type ConnRecord } from '../../tcp/record.js';
import { DEFAULT_TRACKER_OPTIONS } from '../../tcp/tracker.js';
import { reportProblems } from '../common.js';
import { exitCodeFor, EXIT_PARTIAL, EXIT_USAGE, UsageError } from '../exit.js';
import { err, onStdoutClosed, out } from '../output.js';
import { Analyzer } from '../pipeline.js';

const TICK_MS = 100;
/** quiet time after the last packet of a settled connection before its findings are printed */
const SETTLE_SEC = 0.3;
/** the tracker's clock trails the wall clock by this much, so no packet still in the pipe is older */
const ADVANCE_LAG_SEC = 1;
const ADVANCE_EVERY_SEC = 1;
/** connections are visited newest first down to the previous tick's window, minus this slack */
const RECENT_SLACK_SEC = 1;

interface LiveArgs {
  interface: string;
  filter: string;
  duration?: number;
  count?: number;
  write?: string;
  format: 'table' | 'json' | 'ndjson';
  backend: LiveBackend;
  snaplen: number;
  'buffer-kib'?: number;
  'max-connections': number;
  checksums: boolean;
}

/** A connection whose end is on the wire: a RST, or both sides closed (or Zeek's close timer armed). */
function settled(c: Connection): boolean {
  return c.deleteAt !== Infinity || c.orig.state === EpState.Reset || c.resp.state === EpState.Reset
    || (c.orig.didClose && c.resp.didClose);
}

function findingKey(f: Finding): string {
  return `${f.rule}|${f.frame}|${f.actor}`;
}

export const liveCommand: CommandModule<object, LiveArgs> = {
  command: 'live',
  describe: 'Watch live traffic and print teardown findings within a second of the packet that decides them',
  builder: (y) => y
    .option('interface', { alias: 'i', type: 'string', default: 'lo', describe: 'interface to capture on (tcpdump -D lists them)' })
    .option('filter', { type: 'string', default: '', describe: 'BPF capture filter (pcap-filter(7)), e.g. "tcp port 443"; "tcp" is a good start' })
    .option('duration', { type: 'number', describe: 'stop after this many seconds' })
    .option('count', { alias: 'c', type: 'number', describe: 'stop after this many packets' })
    .option('write', { alias: 'w', type: 'string', describe: 'also save the raw capture (pcap) to this file; `analyze` of it gives the same findings' })
    .option('format', {
      alias: 'f', choices: ['table', 'json', 'ndjson'] as const, default: 'table' as const,
      describe: 'table (a line per finding as decided, then totals); ndjson (connections and findings as they are decided, then input and totals); json (one analyze document at the end)',
    })
    .option('backend', {
      choices: ['tcpdump', 'cap'] as const, default: 'tcpdump' as const,
      describe: 'tcpdump: a tcpdump child process does the capture (needs tcpdump; counts kernel drops). '
        + 'cap: in-process libpcap via the optional npm package "cap" (needs libpcap-dev to build and capture privilege for node itself); '
        + 'it cannot count kernel drops, stamps packets when they reach rstscope rather than in the kernel, always captures 65535 bytes per packet in promiscuous mode, '
        + 'and drops most of a burst unless the buffer is large: not fit where losses must be known or timestamps must be exact',
    })
    .option('snaplen', { type: 'number', default: DEFAULT_SNAPLEN_BYTES, describe: 'bytes kept per packet (tcpdump backend; headers are all the rules need)' })
    .option('buffer-kib', {
      type: 'number',
      describe: `kernel capture buffer in KiB (tcpdump -B); default ${DEFAULT_BUFFER_KIB} for tcpdump, ${DEFAULT_CAP_BUFFER_KIB} for cap (its 65535-byte slots fill a smaller ring in a burst); lower it and bursts are dropped`,
    })
    .option('max-connections', {
      type: 'number', default: DEFAULT_TRACKER_OPTIONS.maxConnections,
      describe: 'live connections kept at most; beyond, the longest-idle one is closed out early (counted and reported)',
    })
    .option('checksums', { type: 'boolean', default: false, describe: 'validate IP/TCP checksums (off: loopback and offloaded traffic carries partial checksums)' })
    .check((a) => {
      if (a.duration !== undefined && !(a.duration > 0)) throw new UsageError('--duration must be a positive number of seconds');
      if (a.count !== undefined && !(Number.isInteger(a.count) && a.count > 0)) throw new UsageError('--count must be a positive whole number of packets');
      if (!(Number.isInteger(a.snaplen) && a.snaplen >= 68 && a.snaplen <= 262144)) throw new UsageError('--snaplen must be a whole number of bytes from 68 to 262144');
      const kib = a['buffer-kib'];
      if (kib !== undefined && !(Number.isInteger(kib) && kib > 0)) throw new UsageError('--buffer-kib must be a positive whole number');
      return true;
    })
    .example('$0 live -i eth0 --filter "tcp port 443"', 'findings as they happen, Ctrl-C for totals')
    .example('$0 live -i lo --duration 60 --write run.pcap', 'one minute, saved for `analyze` later')
    .example('$0 live --format ndjson --filter tcp | jq .', 'a stream of JSON findings') as never,
  handler: async (argv) => {
    const format = argv.format;
    const streaming = format !== 'json';
    const printed = new WeakMap<Connection, Set<string>>();
    const evaluatedAt = new WeakMap<Connection, number>();
    const shown: Finding[] = [];
    let tot: Totals = totals(0, []);
    let connections = 0;

    const print = (f: Finding, rec: ConnRecord): void => {
      tot.findings++;
      tot.byRule[f.rule] = (tot.byRule[f.rule] ?? 0) + 1;
      tot.bySeverity[f.severity as Severity]++;
      if (format === 'table') out(findingLine(f, rec) + '\n');
      else if (format === 'ndjson') out(ndjsonFinding(f));
      else shown.push(f);
    };

    const analyzer = new Analyzer({
      maxConnections: argv['max-connections'],
      checksums: argv.checksums,
      keepRecords: !streaming,
      onConnection: (rec, found, c) => {
        connections++;
        if (!streaming) return;
        if (format === 'ndjson') out(ndjsonConnection(rec));
        const seen = printed.get(c);
        printed.delete(c);
        evaluatedAt.delete(c); // the tracker reuses closed-out connection objects
        for (const f of found) if (!seen?.has(findingKey(f))) print(f, rec);
      },
    });

    let source: LiveSource;
    try {
      source = openLiveSource(argv.backend, {
        interface: argv.interface,
        filter: argv.filter,
        snaplenBytes: argv.snaplen,
        bufferKiB: argv['buffer-kib'] ?? (argv.backend === 'cap' ? DEFAULT_CAP_BUFFER_KIB : DEFAULT_BUFFER_KIB),
        count: argv.count,
        writePath: argv.write,
        sink: analyzer.onFrame,
        onDrops: (n) => err(`rstscope: warning: the kernel has dropped ${n} packet(s) so far; findings may be incomplete (raise --buffer-kib, narrow --filter)\n`),
      });
      analyzer.beginInput();
      await source.start();
    } catch (e) {
      if (!(e instanceof LiveError)) throw e;
      err(`rstscope: ${e.message}\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    const filterText = argv.filter ? `, filter "${argv.filter}"` : '';
    err(`rstscope: listening on ${argv.interface} (${source.backend}${filterText}); Ctrl-C to stop\n`);

    const tracker = analyzer.tracker;
    let lastAdvanceSec = 0;
    let lastTickSec = Date.now() / 1000;
    const tick = setInterval(() => {
      const wallSec = Date.now() / 1000;
      // the timer sweep walks the whole table: once a second is enough for timers of seconds
      if (wallSec - lastAdvanceSec >= ADVANCE_EVERY_SEC) {
        lastAdvanceSec = wallSec;
        tracker.advance(wallSec - ADVANCE_LAG_SEC);
      }
      if (!streaming) return;
      // Connections that became quiet since the previous tick: newest first, stop
      // once past the previous tick's window (with slack for out-of-order stamps).
      const oldest = lastTickSec - SETTLE_SEC - RECENT_SLACK_SEC;
      lastTickSec = wallSec;
      tracker.forEachRecent((c) => {
        if (c.lastTime < oldest) return false;
        if (!settled(c) || wallSec - c.lastTime < SETTLE_SEC || evaluatedAt.get(c) === c.segments) return true;
        evaluatedAt.set(c, c.segments);
        const rec = toRecord(c);
        const found = evaluateRules(c, rec);
        if (found.length === 0) return true;
        let seen = printed.get(c);
        if (!seen) printed.set(c, (seen = new Set()));
        for (const f of found) {
          const k = findingKey(f);
          if (seen.has(k)) continue;
          seen.add(k);
          print(f, rec);
        }
        return true;
      });
    }, TICK_MS);

    let stopRequested = false;
    const stop = (): void => {
      if (stopRequested) {
        source.kill(); // a second Ctrl-C: do not wait for the capture to flush
        return;
      }
      stopRequested = true;
      void source.stop();
    };
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of signals) process.on(s, stop);
    // nobody reads the output any more (`rstscope live | head -1`): stop like Ctrl-C, exit quietly
    const offClosed = onStdoutClosed(stop);
    const timer = argv.duration !== undefined ? setTimeout(stop, argv.duration * 1000) : null;

    try {
      await source.ended;
    } finally {
      clearInterval(tick);
      if (timer) clearTimeout(timer);
      for (const s of signals) process.removeListener(s, stop);
      offClosed();
    }
    const byItself = !stopRequested && !(argv.count !== undefined && source.info.packets >= argv.count);
    analyzer.endInput(source.info);

    const res = analyzer.result();
    const input = res.inputs[0];
    const live = {
      backend: source.backend, interface: argv.interface, filter: argv.filter,
      packets: source.info.packets, drops: source.drops, write: argv.write ?? null,
    };
    if (format === 'json') {
      tot = totals(res.connections.length, res.findings);
      out(JSON.stringify({
        schema: 'rstscope/analyze@1', inputs: res.inputs, connections: res.connections, findings: res.findings,
        totals: tot, stats: res.stats, live,
      }, null, 2) + '\n');
    } else {
      tot.connections = connections;
      if (format === 'ndjson') {
        out(ndjsonInput(input));
        out(ndjsonTotals(tot, { live, stats: res.stats }));
      } else {
        const drops = source.drops === null ? 'kernel drops unknown (the cap backend cannot count them)' : `${source.drops} dropped by kernel`;
        let text = `\n${input.file} (${source.backend}${filterText}): ${source.info.packets} packets captured, ${drops}\n`;
        for (const w of input.warnings) text += `  warning: ${w}\n`;
        text += `${totalsSentence(tot)}\n`;
        out(text);
      }
    }
    reportProblems(res);
    if (source.drops !== null && source.drops > 0) err(`rstscope: the kernel dropped ${source.drops} packet(s): findings may be incomplete\n`);
    process.exitCode = exitCodeFor(res.infos.flatMap((i) => i.problems), 1, false);
    if (byItself) {
      err(`rstscope: the capture ended by itself (the capture process exited or the interface went away); results cover what was captured\n`);
      process.exitCode = EXIT_PARTIAL;
    }
  },
};
