/**
 * rstscope command line. Problems are collected as data by the pipeline and
 * turned into messages and an exit code here, at the boundary (src/cli/exit.ts).
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { describeProblem } from '../capture/problems.js';
import { flowsTable } from '../report/flows-table.js';
import { zeekFooter, zeekHeader, zeekLine } from '../report/zeek.js';
import { exitCodeFor, EXIT_USAGE, UsageError } from './exit.js';
import { err, out } from './output.js';
import { analyzeFiles, type AnalysisResult } from './pipeline.js';
import { DEFAULT_TRACKER_OPTIONS } from '../tcp/tracker.js';

function reportProblems(res: AnalysisResult): void {
  for (const info of res.infos) {
    for (const p of info.problems) {
      const what = p.kind === 'unreadable' ? '' : ' (results above cover everything before it)';
      err(`rstscope: ${describeProblem(p)}${what}\n`);
    }
  }
  if (res.stats.evicted > 0) {
    err(`rstscope: ${res.stats.evicted} connection(s) closed out early because more than --max-connections were live at once\n`);
  }
}

function flowsJson(res: AnalysisResult): object {
  return {
    inputs: res.inputs,
    connections: res.connections,
    stats: res.stats,
  };
}

async function runFlows(argv: { files: string[]; format: string; 'max-connections': number; checksums: boolean }): Promise<void> {
  const format = argv.format;
  const streaming = format === 'ndjson' || format === 'zeek';
  if (format === 'zeek') out(zeekHeader());
  const res = await analyzeFiles(argv.files, {
    maxConnections: argv['max-connections'],
    checksums: argv.checksums,
    keepRecords: !streaming,
    onConnection: streaming
      ? (rec) => {
        if (format === 'ndjson') out(JSON.stringify({ type: 'connection', ...rec }) + '\n');
        else out(zeekLine(rec));
      }
      : undefined,
  });
  if (format === 'zeek') out(zeekFooter());
  else if (format === 'ndjson') {
    for (const inp of res.inputs) out(JSON.stringify({ type: 'input', ...inp }) + '\n');
  } else if (format === 'json') out(JSON.stringify(flowsJson(res), null, 2) + '\n');
  else out(flowsTable(res.inputs, res.connections));
  reportProblems(res);
  process.exitCode = exitCodeFor(res.infos.flatMap((i) => i.problems), res.infos.length, false);
}

export async function main(args: string[]): Promise<void> {
  const parser = yargs(args)
    .scriptName('rstscope')
    .usage('$0 <command> [options]\n\nTCP teardown analyzer: who ended each connection, how, why, and what the applications saw.')
    .command(
      'flows <files..>',
      'List every TCP connection in the captures with its Zeek-compatible state and history',
      (y) => y
        .positional('files', { type: 'string', array: true, demandOption: true, describe: 'pcap or pcapng files' })
        .option('format', { alias: 'f', choices: ['table', 'json', 'ndjson', 'zeek'], default: 'table', describe: 'output format (zeek: conn.log TSV that zeek-cut reads)' })
        .option('max-connections', { type: 'number', default: DEFAULT_TRACKER_OPTIONS.maxConnections, describe: 'live connections kept at most; beyond, the longest-idle one is closed out early (counted and reported)' })
        .option('checksums', { type: 'boolean', default: false, describe: 'validate IP/TCP checksums and ignore bad packets (off by default: loopback and offloaded captures carry partial checksums)' })
        .example('$0 flows capture.pcap', 'table of connections')
        .example('$0 flows -f zeek capture.pcapng | zeek-cut id.orig_h conn_state history', 'conn.log for Zeek tooling'),
      async (argv) => runFlows(argv as never),
    )
    .demandCommand(1, 'Name a command: flows. See rstscope --help.')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, e) => {
      if (e && !(e instanceof UsageError)) throw e;
      throw new UsageError(msg || e?.message || 'usage error');
    });
  await parser.parseAsync();
}

main(hideBin(process.argv)).catch((e: unknown) => {
  if (e instanceof UsageError) {
    err(`rstscope: ${e.message}\nRun 'rstscope --help' for usage.\n`);
  } else {
    err(`rstscope: internal error: ${(e as Error)?.message ?? e}\n`);
    if (process.env.RSTSCOPE_DEBUG) err(`${(e as Error)?.stack}\n`);
  }
  process.exitCode = EXIT_USAGE;
});
