/** `rstscope report`: an incident-review report (HTML or Markdown) of the teardown findings. */
import { writeFile } from 'node:fs/promises';
import type { CommandModule } from 'yargs';
import { evictionWarning } from '../../report/eviction.js';
import { renderHtml } from '../../report/html.js';
import { renderMarkdown } from '../../report/markdown.js';
import { DEFAULT_REPORT_OPTIONS } from '../../report/model.js';
import { buildReport } from '../../analysis/report-run.js';
import { captureOptions, findingFlags, selectionFlags, type CaptureArgs } from '../common.js';
import { exitCodeFor, UsageError } from '../exit.js';
import { inputFiles, selectionOptions, trackerOptions, wholeNumber } from '../options.js';
import { err, out } from '../output.js';
import { makeProgress } from '../progress.js';

interface ReportArgs extends CaptureArgs {
  output?: string;
  format?: 'html' | 'md';
  'max-details': number;
  'max-groups': number;
  'payload-bytes': number;
}

/** html or md, from --format or else from the output file's extension. */
export function reportFormat(output: string | undefined, format: 'html' | 'md' | undefined): 'html' | 'md' {
  if (format) return format;
  if (output && /\.html?$/i.test(output)) return 'html';
  if (output && /\.(md|markdown)$/i.test(output)) return 'md';
  throw new UsageError(output && output !== '-'
    ? `cannot tell the report format from '${output}': name it .html or .md, or give --format html|md`
    : 'give --format html|md when the report goes to stdout');
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report <files..>',
  describe: 'Write an incident-review report (self-contained HTML or Markdown): summary, timeline, and per finding the story, ladder diagram, evidence table, what the applications saw, how to fix, Wireshark filters',
  builder: (y) => findingFlags(selectionFlags(captureOptions(y)))
    .option('output', { alias: 'o', type: 'string', describe: 'report file (.html or .md); "-" or omitted: stdout' })
    .option('format', { choices: ['html', 'md'] as const, describe: 'html (one self-contained file with SVG diagrams) or md (Markdown for tickets); default: from the -o extension' })
    .option('max-details', { type: 'number', requiresArg: true, default: DEFAULT_REPORT_OPTIONS.maxDetails, describe: 'finding groups worked through in detail at most (plus one per rule)' })
    .option('max-groups', { type: 'number', requiresArg: true, default: DEFAULT_REPORT_OPTIONS.maxGroups, describe: 'rows of the finding-group index at most' })
    .option('payload-bytes', { type: 'number', requiresArg: true, default: DEFAULT_REPORT_OPTIONS.payloadBytes, describe: 'payload bytes previewed per data segment of a worked example (0: none, for captures with sensitive data)' })
    .example('$0 report incident.pcap -o incident.html', 'HTML report for a review meeting')
    .example('$0 report capture.pcapng -o findings.md', 'Markdown for a ticket') as never,
  handler: async (argv) => {
    const format = reportFormat(argv.output, argv.format);
    const tracker = trackerOptions(argv);
    const selection = selectionOptions(argv);
    const opts = {
      maxDetails: wholeNumber('max-details', argv['max-details'], 0),
      maxGroups: wholeNumber('max-groups', argv['max-groups'], 0),
      payloadBytes: wholeNumber('payload-bytes', argv['payload-bytes'], 0),
    };
    const progress = makeProgress(argv.quiet);
    const files = inputFiles(argv.files);
    // the report reads each file on its own for now: its worked examples name frames per file (docs/capture-formats.md)
    if (files.length > 1 && !argv['per-file']) err('rstscope: report reads each file on its own (as --per-file); analyze and flows read several files as one capture\n');
    const model = await buildReport(files, opts, { ...tracker, ...selection, perFile: true, onProgress: progress?.update });
    progress?.done();
    const text = format === 'html' ? renderHtml(model) : renderMarkdown(model);
    if (!argv.output || argv.output === '-') {
      out(text);
    } else {
      try {
        await writeFile(argv.output, text);
      } catch (e) {
        throw new UsageError(`cannot write ${argv.output}: ${(e as Error).message}`);
      }
      err(`rstscope: wrote ${argv.output} (${format}, ${Buffer.byteLength(text)} bytes, ${model.findings} finding(s))\n`);
    }
    for (const p of model.problems) err(`rstscope: ${p}\n`);
    if (model.evicted > 0) {
      err(`rstscope: ${evictionWarning(model.evicted, 'stderr')}\n`);
    }
    process.exitCode = exitCodeFor(model.rawProblems, model.inputs.length, false);
  },
};
