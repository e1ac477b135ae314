/**
 * `rstscope live`: watch real traffic and print teardown findings as they are
 * decided, with the rules and output formats of `analyze` (docs/live.md).
 *
 * When a finding is printed: as soon as the live session
 * (src/analysis/live-session.ts) decides it, within about half a second of
 * the deciding packet, without changing tracking: records, ids and frame
 * numbers are those of `analyze` of the --write file (see there for the
 * policy and its known gap).
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
import type { Finding, Severity } from '../../rules/types.js';
import type { ConnRecord } from '../../tcp/record.js';
import { DEFAULT_TRACKER_OPTIONS } from '../../tcp/tracker.js';
import { LIVE_TICK_MS, LiveSession } from '../../analysis/live-session.js';
import { reportProblems, timeFlag } from '../common.js';
import type { TimeFormat } from '../../report/time-format.js';
import { exitCodeFor, EXIT_PARTIAL, EXIT_USAGE } from '../exit.js';
import { liveFilter, positiveNumber, wholeNumber } from '../options.js';
import { err, onStdoutClosed, out } from '../output.js';

interface LiveArgs {
  interface: string;
  filter: string;
  expression?: string[];
  duration?: number;
  count?: number;
  write?: string;
  format: 'table' | 'json' | 'ndjson';
  backend: LiveBackend;
  snaplen: number;
  'buffer-kib'?: number;
  'max-connections': number;
  checksums: boolean;
  'time-format': TimeFormat;
}

export const liveCommand: CommandModule<object, LiveArgs> = {
  command: 'live [expression..]',
  describe: 'Watch live traffic and print teardown findings within a second of the packet that decides them',
  builder: (y) => timeFlag(y, 'a')
    .option('interface', { alias: 'i', type: 'string', default: 'lo', describe: 'interface to capture on (tcpdump -D lists them)' })
    .positional('expression', { type: 'string', array: true, describe: 'BPF capture filter after the options, as tcpdump takes it (the same as --filter)' })
    .option('filter', { type: 'string', default: '', describe: 'BPF capture filter (pcap-filter(7)), e.g. "tcp port 443"; "tcp" is a good start' })
    .option('duration', { type: 'number', requiresArg: true, describe: 'stop after this many seconds' })
    .option('count', { alias: 'c', type: 'number', requiresArg: true, describe: 'stop after this many packets' })
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
    .option('snaplen', { type: 'number', requiresArg: true, default: DEFAULT_SNAPLEN_BYTES, describe: 'bytes kept per packet (tcpdump backend; headers are all the rules need)' })
    .option('buffer-kib', {
      type: 'number', requiresArg: true,
      describe: `kernel capture buffer in KiB (tcpdump -B); default ${DEFAULT_BUFFER_KIB} for tcpdump, ${DEFAULT_CAP_BUFFER_KIB} for cap (its 65535-byte slots fill a smaller ring in a burst); lower it and bursts are dropped`,
    })
    .option('max-connections', {
      type: 'number', requiresArg: true, default: DEFAULT_TRACKER_OPTIONS.maxConnections,
      describe: 'live connections kept at most; beyond, the longest-idle one is closed out early (counted and reported)',
    })
    .option('checksums', { type: 'boolean', default: false, describe: 'validate IP/TCP checksums (off: loopback and offloaded traffic carries partial checksums)' })
    .check((a) => {
      // options.ts: a usage error naming the option
      if (a.duration !== undefined) positiveNumber('duration', a.duration);
      if (a.count !== undefined) wholeNumber('count', a.count, 1);
      wholeNumber('snaplen', a.snaplen, 68, 262144);
      if (a['buffer-kib'] !== undefined) wholeNumber('buffer-kib', a['buffer-kib'], 1);
      wholeNumber('max-connections', a['max-connections'], 1);
      return true;
    })
    .example('$0 live -i eth0 --filter "tcp port 443"', 'findings as they happen, Ctrl-C for totals')
    .example('$0 live -i eth0 tcp port 443', 'the same, the filter typed as for tcpdump')
    .example('$0 live -i lo --duration 60 --write run.pcap', 'one minute, saved for `analyze` later')
    .example('$0 live --format ndjson --filter tcp | jq .', 'a stream of JSON findings') as never,
  handler: async (argv) => {
    const format = argv.format;
    const filter = liveFilter(argv.filter, argv.expression);
    const streaming = format !== 'json';
    const shown: Finding[] = [];
    let tot: Totals = totals(0, []);
    // -t r: seconds since the first finding's packet (the session's first packet is not kept)
    let firstTs: number | null = null;

    const print = (f: Finding, rec: ConnRecord): void => {
      tot.findings++;
      tot.byRule[f.rule] = (tot.byRule[f.rule] ?? 0) + 1;
      tot.bySeverity[f.severity as Severity]++;
      // a time of day by default: what a watcher compares with logs and clocks
      if (format === 'table') out(findingLine(f, rec, { format: argv['time-format'], origin: firstTs ??= f.ts }) + '\n');
      else if (format === 'ndjson') out(ndjsonFinding(f));
      else shown.push(f);
    };

    const session = new LiveSession({
      maxConnections: argv['max-connections'],
      checksums: argv.checksums,
      keepRecords: !streaming,
      provisional: streaming,
      onConnection: format === 'ndjson' ? (rec) => { out(ndjsonConnection(rec)); } : undefined,
      onFinding: print,
    });

    let source: LiveSource;
    try {
      source = openLiveSource(argv.backend, {
        interface: argv.interface,
        filter,
        snaplenBytes: argv.snaplen,
        bufferKiB: argv['buffer-kib'] ?? (argv.backend === 'cap' ? DEFAULT_CAP_BUFFER_KIB : DEFAULT_BUFFER_KIB),
        count: argv.count,
        writePath: argv.write,
        sink: session.onFrame,
        onDrops: (n) => err(`rstscope: warning: the kernel has dropped ${n} packet(s) so far; findings may be incomplete (raise --buffer-kib, narrow --filter)\n`),
      });
      await source.start();
    } catch (e) {
      if (!(e instanceof LiveError)) throw e;
      err(`rstscope: ${e.message}\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    const filterText = filter ? `, filter "${filter}"` : '';
    err(`rstscope: listening on ${argv.interface} (${source.backend}${filterText}); Ctrl-C to stop\n`);

    session.started(Date.now() / 1000);
    const tick = setInterval(() => session.tick(Date.now() / 1000), LIVE_TICK_MS);

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
    const res = session.end(source.info);
    const connections = session.connections;
    const input = res.inputs[0];
    const live = {
      backend: source.backend, interface: argv.interface, filter,
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
