/** `rstscope report`: an incident-review report (HTML or Markdown) of the teardown findings. */
import { writeFile } from 'node:fs/promises';
import type { CommandModule } from 'yargs';
import { evictionWarning } from '../../report/eviction.js';
import { renderHtml } from '../../report/html.js';
import { renderMarkdown } from '../../report/markdown.js';
import { buildReport, DEFAULT_REPORT_OPTIONS } from '../../report/model.js';
import { captureOptions, type CaptureArgs } from '../common.js';
import { exitCodeFor, UsageError } from '../exit.js';
import { err, out } from '../output.js';

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
  builder: (y) => captureOptions(y)
    .option('output', { alias: 'o', type: 'string', describe: 'report file (.html or .md); "-" or omitted: stdout' })
    .option('format', { choices: ['html', 'md'] as const, describe: 'html (one self-contained file with SVG diagrams) or md (Markdown for tickets); default: from the -o extension' })
    .option('max-details', { type: 'number', default: DEFAULT_REPORT_OPTIONS.maxDetails, describe: 'finding groups worked through in detail at most (plus one per rule)' })
    .option('max-groups', { type: 'number', default: DEFAULT_REPORT_OPTIONS.maxGroups, describe: 'rows of the finding-group index at most' })
    .option('payload-bytes', { type: 'number', default: DEFAULT_REPORT_OPTIONS.payloadBytes, describe: 'payload bytes previewed per data segment of a worked example (0: none, for captures with sensitive data)' })
    .check((a) => {
      for (const k of ['max-details', 'max-groups', 'payload-bytes'] as const) {
        const v = a[k] as number;
        if (!Number.isInteger(v) || v < 0) throw new UsageError(`--${k} must be a whole number >= 0`);
      }
      return true;
    })
    .example('$0 report incident.pcap -o incident.html', 'HTML report for a review meeting')
    .example('$0 report capture.pcapng -o findings.md', 'Markdown for a ticket') as never,
  handler: async (argv) => {
    const format = reportFormat(argv.output, argv.format);
    const model = await buildReport(argv.files, {
      maxDetails: argv['max-details'], maxGroups: argv['max-groups'], payloadBytes: argv['payload-bytes'],
    }, { maxConnections: argv['max-connections'], checksums: argv.checksums });
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
