/** `rstscope analyze`: the cause story of every connection that ended badly. */
import type { CommandModule } from 'yargs';
import { writeJsonDocument } from '../../report/json.js';
import { FindingsDigest, findingsTable, totals } from '../../report/findings.js';
import { ndjsonInput } from '../../report/ndjson.js';
import { SEVERITIES, SEVERITY_RANK } from '../../rules/types.js';
import type { Finding, Severity } from '../../rules/types.js';
import { makeProgress } from '../progress.js';
import { captureOptions, reportProblems, workersFlag, type CaptureArgs } from '../common.js';
import { inputFiles, trackerOptions, workersOption } from '../options.js';
import { exitCodeFor } from '../exit.js';
import { drained, flushOut, out, outBuffered } from '../output.js';
import { analyze, type InputSummary } from '../../analysis/analyze.js';
import type { ConnRecord } from '../../tcp/record.js';

interface AnalyzeArgs extends CaptureArgs {
  format: 'table' | 'json' | 'ndjson';
  'fail-on'?: Severity;
}

export const analyzeCommand: CommandModule<object, AnalyzeArgs> = {
  command: 'analyze <files..>',
  describe: 'Tell who ended each connection that was refused, reset or closed oddly, how, why, and what the applications saw',
  builder: (y) => workersFlag(captureOptions(y))
    .option('format', {
      alias: 'f', choices: ['table', 'json', 'ndjson'] as const, default: 'table' as const,
      describe: 'table (findings by severity, then totals); json (the flows document plus "findings", docs/schema.md); ndjson (connections and findings as they complete)',
    })
    .option('fail-on', {
      choices: SEVERITIES,
      describe: 'exit with status 1 when a finding at or above this severity exists (for CI)',
    })
    .example('$0 analyze incident.pcap', 'findings, worst first')
    .example('$0 analyze --format json capture.pcapng > findings.json', 'everything, for tooling')
    .example('$0 analyze --fail-on warning recorded.pcap', 'fail a CI job on resets') as never,
  handler: async (argv) => {
    const format = argv.format;
    const failOn = argv['fail-on'];
    const tracker = trackerOptions(argv);
    const workers = workersOption(argv.workers);
    const progress = makeProgress(argv.quiet);
    let hit = false;
    const check = (s: Severity | null) => {
      if (failOn && s !== null && SEVERITY_RANK[s] >= SEVERITY_RANK[failOn]) hit = true;
    };
    const digest = format === 'table' ? new FindingsDigest() : null;
    const res = await analyze(inputFiles(argv.files), {
      ...tracker,
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
      out(findingsTable(res.inputs, digest!));
    }
    reportProblems(res);
    process.exitCode = exitCodeFor(res.infos.flatMap((i) => i.problems), res.infos.length, hit);
  },
};
