/**
 * rstscope command line. Problems are collected as data by the pipeline and
 * turned into messages and an exit code at this boundary (src/cli/exit.ts);
 * nothing below throws for bad input.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { analyzeCommand } from './commands/analyze.js';
import { flowsCommand } from './commands/flows.js';
import { liveCommand } from './commands/live.js';
import { explainCommand, rulesCommand } from './commands/rules.js';
import { reportCommand } from './commands/report.js';
import { showCommand } from './commands/show.js';
import { EXIT_USAGE, UsageError } from './exit.js';
import { err } from './output.js';
import { acceptReadFlag } from './read-flag.js';
import { commandOf, plainUsage, usageHint } from './usage.js';

const EPILOG = `Exit status: 0 success; 1 a finding at or above --fail-on; 2 usage error or nothing readable; 3 input only partly readable (results cover everything before the problem, stderr says where).
Frames are numbered from 1 per input file, as Wireshark and tshark number them; several files are one capture (merged by time, frames named FILE#N) unless --per-file. Docs: docs/ in the package.`;

/**
 * yargs drops a lone `-` from positionals (`analyze -`, standard input): it
 * travels through yargs as this token, and the middleware below turns it back
 * into `-` wherever it landed (a file, or an option's value as in `-o -`).
 */
const DASH_TOKEN = '\u0000-';

function restoreDash(argv: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(argv)) {
    if (v === DASH_TOKEN) argv[k] = '-';
    else if (Array.isArray(v)) argv[k] = v.map((x) => (x === DASH_TOKEN ? '-' : x));
  }
}

export async function main(args: string[]): Promise<void> {
  await yargs(args.map((a) => (a === '-' ? DASH_TOKEN : a)))
    .middleware(restoreDash, true)
    .scriptName('rstscope')
    .usage('$0 <command> [options]\n\nTCP teardown analyzer: who ended each connection, how, why, and what the applications saw.')
    .command(analyzeCommand)
    .command(flowsCommand)
    .command(liveCommand)
    .command(rulesCommand)
    .command(reportCommand)
    .command(showCommand)
    .command(explainCommand)
    .completion('completion', 'Print a shell completion script (bash, or zsh with bashcompinit): rstscope completion >> ~/.bashrc')
    .demandCommand(1, 'name a command: analyze, flows, report, show, live, rules or explain')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .alias('V', 'version')
    .epilog(EPILOG)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, e) => {
      // yargs' own parse errors (YError: an option without its value) are usage errors too
      if (e && !(e instanceof UsageError) && e.name !== 'YError') throw e;
      throw new UsageError(plainUsage(msg || e?.message || 'usage error', commandOf(args), args));
    })
    .parseAsync();
}

const ARGS = acceptReadFlag(hideBin(process.argv));

main(ARGS).catch((e: unknown) => {
  if (e instanceof UsageError) {
    err(`rstscope: ${e.message}\n${usageHint(commandOf(ARGS))}\n`);
  } else {
    err(`rstscope: internal error: ${(e as Error)?.message ?? e}\n`);
    if (process.env.RSTSCOPE_DEBUG) err(`${(e as Error)?.stack}\n`);
  }
  process.exitCode = EXIT_USAGE;
});
