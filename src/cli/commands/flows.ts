/** `rstscope flows`: one row per connection with its Zeek-compatible state and history. */
import type { CommandModule } from 'yargs';
import { flowsTable } from '../../report/flows-table.js';
import { zeekFooter, zeekHeader, zeekLine } from '../../report/zeek.js';
import { makeProgress } from '../progress.js';
import { captureOptions, shardOptions, reportProblems, type CaptureArgs } from '../common.js';
import { exitCodeFor } from '../exit.js';
import { drained, flushOut, out, outBuffered } from '../output.js';
import { analyzeFiles } from '../pipeline.js';

interface FlowsArgs extends CaptureArgs {
  format: 'table' | 'json' | 'ndjson' | 'zeek';
}

export const flowsCommand: CommandModule<object, FlowsArgs> = {
  command: 'flows <files..>',
  describe: 'List every TCP connection with its Zeek-compatible conn_state and history',
  builder: (y) => captureOptions(y)
    .option('format', {
      alias: 'f', choices: ['table', 'json', 'ndjson', 'zeek'] as const, default: 'table' as const,
      describe: 'table; json (one document, see docs/schema.md); ndjson (one connection per line as it closes); zeek (conn.log TSV for zeek-cut)',
    })
    .example('$0 flows capture.pcap', 'table of connections')
    .example('$0 flows -f zeek capture.pcapng | zeek-cut id.orig_h conn_state history', 'conn.log for Zeek tooling') as never,
  handler: async (argv) => {
    const progress = makeProgress(argv.quiet);
    const format = argv.format;
    const streaming = format === 'ndjson' || format === 'zeek';
    if (format === 'zeek') out(zeekHeader());
    const res = await analyzeFiles(argv.files, {
      maxConnections: argv['max-connections'],
      checksums: argv.checksums,
      ...shardOptions(argv.shard),
      onProgress: progress?.update,
      onInputEnd: format === 'ndjson' ? (inp) => { outBuffered(`{"type":"input",${JSON.stringify(inp).slice(1)}\n`); } : undefined,
      keepRecords: !streaming,
      // streaming to a slow reader: wait for stdout between reads (bounded memory)
      pace: streaming ? drained : undefined,
      rules: false,
      onConnection: streaming
        ? (rec) => {
          if (format === 'ndjson') outBuffered(`{"type":"connection",${JSON.stringify(rec).slice(1)}\n`);
          else outBuffered(zeekLine(rec));
        }
        : undefined,
    });
    progress?.done();
    flushOut();
    if (format === 'zeek') out(zeekFooter());
    else if (format === 'json') {
      out(JSON.stringify({ schema: 'rstscope/flows@1', inputs: res.inputs, connections: res.connections, stats: res.stats }, null, 2) + '\n');
    } else if (format === 'table') out(flowsTable(res.inputs, res.connections));
    reportProblems(res);
    process.exitCode = exitCodeFor(res.infos.flatMap((i) => i.problems), res.infos.length, false);
  },
};
