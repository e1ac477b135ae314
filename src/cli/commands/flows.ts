/** `rstscope flows`: one row per connection with its Zeek-compatible state and history. */
import type { CommandModule } from 'yargs';
import { writeJsonDocument } from '../../report/json.js';
import { flowsTable } from '../../report/flows-table.js';
import { ndjsonInput } from '../../report/ndjson.js';
import { zeekFooter, zeekHeader, zeekJsonLine, zeekLine } from '../../report/zeek.js';
import { makeProgress } from '../progress.js';
import { captureOptions, reportProblems, reportSelection, selectionFlags, widthFlag, workersFlag, type CaptureArgs } from '../common.js';
import { inputFiles, outputDirOption, selectionOptions, trackerOptions, widthOption, workersOption } from '../options.js';
import { exitCodeFor } from '../exit.js';
import { drained, flushOut, out, outBuffered } from '../output.js';
import { analyze, type InputSummary } from '../../analysis/analyze.js';
import type { ConnRecord } from '../../tcp/record.js';
import type { ParquetOutput } from '../../report/parquet.js';
import { packageVersion } from '../../report/docs.js';

interface FlowsArgs extends CaptureArgs {
  format: 'table' | 'json' | 'ndjson' | 'zeek' | 'zeek-json' | 'parquet';
  output?: string;
  width?: number;
}

export const flowsCommand: CommandModule<object, FlowsArgs> = {
  command: 'flows <files..>',
  describe: 'List every TCP connection with its Zeek-compatible conn_state and history',
  builder: (y) => widthFlag(selectionFlags(workersFlag(captureOptions(y))))
    .option('format', {
      alias: 'f', choices: ['table', 'json', 'ndjson', 'zeek', 'zeek-json', 'parquet'] as const, default: 'table' as const,
      describe: 'table; json (one document, see docs/schema.md); ndjson (one connection per line as it closes); zeek (conn.log TSV for zeek-cut); zeek-json (conn.log as Zeek writes JSON logs: one object per connection, Zeek field names); parquet (the table connections.parquet in the directory -o DIR)',
    })
    .option('output', { alias: 'o', type: 'string', describe: 'with --format parquet: the directory to write the table into (created if missing)' })
    .example('$0 flows capture.pcap', 'table of connections')
    .example("$0 flows capture.pcap --filter 'tcp[tcpflags] & tcp-rst != 0'", 'the connections with a RST')
    .example('$0 flows -f zeek capture.pcapng | zeek-cut id.orig_h conn_state history', 'conn.log for Zeek tooling')
    .example("$0 flows -f zeek-json capture.pcap | jq -c 'select(.conn_state == \"REJ\")'", "conn.log as Zeek's JSON logs") as never,
  handler: async (argv) => {
    const format = argv.format;
    const tracker = trackerOptions(argv);
    const selection = selectionOptions(argv);
    const workers = workersOption(argv.workers);
    const outDir = outputDirOption(format, argv.output);
    const width = widthOption(argv.width);
    // the Parquet writer is loaded only when asked for (its modules cost ~50 ms of start-up on every run)
    const parquet: ParquetOutput | null = outDir !== undefined
      ? new (await import('../../report/parquet.js')).ParquetOutput(outDir, argv.files, false, `rstscope ${packageVersion()}`) : null;
    const progress = makeProgress(argv.quiet);
    const streaming = format === 'ndjson' || format === 'zeek' || format === 'zeek-json' || format === 'parquet';
    if (format === 'zeek') out(zeekHeader());
    const res = await analyze(inputFiles(argv.files), {
      ...tracker,
      ...selection,
      workers,
      perFile: argv['per-file'],
      rules: false,
      onProgress: progress?.update,
      keepRecords: !streaming,
      // streaming to a slow reader: wait for stdout (bounded memory)
      pace: streaming ? drained : undefined,
      onInputEnd: format === 'ndjson' ? (inp: InputSummary) => { outBuffered(ndjsonInput(inp)); } : undefined,
      ...(format === 'ndjson' ? { onNdjson: (lines: string) => outBuffered(lines) } : {}),
      ...(format === 'zeek' ? { onConnection: (rec: ConnRecord) => outBuffered(zeekLine(rec)) } : {}),
      ...(format === 'zeek-json' ? { onConnection: (rec: ConnRecord) => outBuffered(zeekJsonLine(rec)) } : {}),
      ...(parquet ? { onConnection: (rec: ConnRecord) => parquet.add(rec, []) } : {}),
    });
    progress?.done();
    flushOut();
    if (format === 'zeek') out(zeekFooter());
    else if (parquet) parquet.close();
    else if (format === 'json') {
      await writeJsonDocument({ schema: 'rstscope/flows@1', inputs: res.inputs, connections: res.connections, stats: res.stats }, outBuffered, drained);
      flushOut();
    } else if (format === 'table') {
      for (const piece of flowsTable(res.inputs, res.connections, width)) {
        outBuffered(piece);
        await drained();
      }
    }
    reportSelection(res, selection.packets);
    reportProblems(res);
    process.exitCode = exitCodeFor(res.infos.flatMap((i) => i.problems), res.infos.length, false);
  },
};
