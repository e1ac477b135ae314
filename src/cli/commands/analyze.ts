/** `rstscope analyze`: the cause story of every connection that ended badly. */
import type { CommandModule } from 'yargs';
import { writeJsonDocument } from '../../report/json.js';
import { FindingsDigest, findingsTable, totals } from '../../report/findings.js';
import { ndjsonInput } from '../../report/ndjson.js';
import { SEVERITIES, SEVERITY_RANK } from '../../rules/types.js';
import type { Finding, Severity } from '../../rules/types.js';
import { makeProgress } from '../progress.js';
import { captureOptions, findingFlags, timeFlag, widthFlag, reportProblems, reportSelection, selectionFlags, workersFlag, type CaptureArgs } from '../common.js';
import { inputFiles, outputDirOption, selectionOptions, trackerOptions, widthOption, workersOption } from '../options.js';
import { exitCodeFor } from '../exit.js';
import { drained, flushOut, out, outBuffered } from '../output.js';
import { analyze, type InputSummary } from '../../analysis/analyze.js';
import type { ConnRecord } from '../../tcp/record.js';
import type { ParquetOutput } from '../../report/parquet.js';
import { packageVersion } from '../../report/docs.js';
import type { TimeFormat } from '../../report/time-format.js';

interface AnalyzeArgs extends CaptureArgs {
  format: 'table' | 'json' | 'ndjson' | 'parquet';
  output?: string;
  'fail-on'?: Severity;
  'time-format': TimeFormat;
  width?: number;
}

export const analyzeCommand: CommandModule<object, AnalyzeArgs> = {
  command: 'analyze <files..>',
  describe: 'Tell who ended each connection that was refused, reset or closed oddly, how, why, and what the applications saw',
  builder: (y) => widthFlag(timeFlag(findingFlags(selectionFlags(workersFlag(captureOptions(y)))), 'r'))
    .option('format', {
      alias: 'f', choices: ['table', 'json', 'ndjson', 'parquet'] as const, default: 'table' as const,
      describe: 'table (findings by severity, then totals); json (the flows document plus "findings", docs/schema.md); ndjson (connections and findings as they complete); parquet (tables connections.parquet and findings.parquet in the directory -o DIR, for DuckDB, Spark, pandas)',
    })
    .option('output', { alias: 'o', type: 'string', describe: 'with --format parquet: the directory to write the tables into (created if missing)' })
    .option('fail-on', {
      choices: SEVERITIES,
      describe: 'exit with status 1 when a finding at or above this severity exists (for CI)',
    })
    .example('$0 analyze incident.pcap', 'findings, worst first')
    .example('$0 analyze --format json capture.pcapng > findings.json', 'everything, for tooling')
    .example('$0 analyze --fail-on warning recorded.pcap', 'fail a CI job on resets')
    .example("$0 analyze f.pcap --filter 'host 10.0.0.5 and port 443' --since +5m", 'one server, from 5 minutes into the capture')
    .example('$0 analyze f.pcap --rule rst-suspicious --min-severity warning', 'findings of one rule')
    .example('$0 analyze -t ud f.pcap', 'the time column in UTC date and time')
    .example('$0 analyze -f parquet -o out/ ring_*.pcap', 'connections and findings as Parquet tables') as never,
  handler: async (argv) => {
    const format = argv.format;
    const failOn = argv['fail-on'];
    const tracker = trackerOptions(argv);
    const selection = selectionOptions(argv);
    const workers = workersOption(argv.workers);
    const outDir = outputDirOption(format, argv.output);
    const view = { width: widthOption(argv.width), time: argv['time-format'] };
    // the Parquet writer is loaded only when asked for (its modules cost ~50 ms of start-up on every run)
    const parquet: ParquetOutput | null = outDir !== undefined
      ? new (await import('../../report/parquet.js')).ParquetOutput(outDir, argv.files, true, `rstscope ${packageVersion()}`) : null;
    const progress = makeProgress(argv.quiet);
    let hit = false;
    const check = (s: Severity | null) => {
      if (failOn && s !== null && SEVERITY_RANK[s] >= SEVERITY_RANK[failOn]) hit = true;
    };
    const digest = format === 'table' ? new FindingsDigest() : null;
    const res = await analyze(inputFiles(argv.files), {
      ...tracker,
      ...selection,
      workers,
      perFile: argv['per-file'],
      onProgress: progress?.update,
      // the table keeps a bounded digest, not every record: a flood stays small
      keepRecords: format === 'json',
      // streaming to a slow reader: wait for stdout (bounded memory)
      pace: format === 'ndjson' ? drained : undefined,
      onInputEnd: format === 'ndjson' ? (inp: InputSummary) => { outBuffered(ndjsonInput(inp)); } : undefined,
      ...(format === 'ndjson'
        ? { onNdjson: (lines: string, worst: Severity | null) => { check(worst); outBuffered(lines); } }
        : {
          onConnection: (rec: ConnRecord, found: Finding[]) => {
            for (const f of found) check(f.severity);
            digest?.add(rec, found);
            parquet?.add(rec, found);
          },
        }),
    });
    // (ndjson: every line was written as its connection or input ended)
    progress?.done();
    flushOut();
    if (format === 'json') {
      await writeJsonDocument({
        schema: 'rstscope/analyze@1', inputs: res.inputs, connections: res.connections, findings: res.findings,
        totals: totals(res.connections.length, res.findings), stats: res.stats,
      }, outBuffered, drained);
      flushOut();
    } else if (format === 'table') {
      out(findingsTable(res.inputs, digest!, { problems: res.infos.flatMap((i) => i.problems), stats: res.stats }, view));
    } else if (parquet) {
      parquet.close();
    }
    reportSelection(res, selection.packets);
    reportProblems(res);
    process.exitCode = exitCodeFor(res.infos.flatMap((i) => i.problems), res.infos.length, hit);
  },
};
