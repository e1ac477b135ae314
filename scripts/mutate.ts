/**
 * Mutation testing (StrykerJS) over the modules where a silent bug costs most.
 *
 *   npm run mutate                 # every group below
 *   npm run mutate -- state rst    # only these groups
 *   npm run mutate -- --list       # the groups, their files and tests
 *   npm run mutate -- --concurrency 1 state   # one mutant at a time (default 2)
 *   npm run mutate -- --concurrency 1 merge   # one test process at a time (default 2)
 *   npm run mutate -- --mutate src/rules/teardown.ts:40-60 rst-causes
 *   npm run mutate -- --mutate src/tcp/accounting.ts#recordRst rst
 *                                  # one group's tests against these files or ranges only
 *                                  # (repeatable; report in reports/mutation/<group>-narrow.json)
 *
 * Each group is one Stryker run: it mutates the group's source files in a
 * sandbox copy of the project, builds it with tsc (mutants are compiled in
 * once and switched on one at a time by Stryker's environment variable) and
 * runs `node --test` over the group's test files with Stryker's command
 * runner: a mutant is killed when that command fails. Many tests run the
 * built CLI as a child process, which inherits the active mutant through the
 * environment (the instrumented code reads __STRYKER_ACTIVE_MUTANT__) but
 * reports no coverage back. So no coverage analysis: every mutant runs every
 * test file of its group. (Measured: Stryker's TAP runner reports per-file
 * coverage from the test process only and then runs just the files that
 * "cover" a mutant, so a test that reaches the code through the CLI never ran
 * against it: the `rst` group scored 39.7% that way, its acceptance mutants
 * "survived" untested.) The TypeScript checker drops mutants that do not
 * compile.
 *
 * Equivalent mutants (no test can tell them from the original) are marked in
 * the source with `// Stryker disable next-line <mutator>: <reason>`; Stryker
 * reports them as Ignored and leaves them out of the score. docs/testing.md
 * lists them with the scores.
 *
 * Output: per group, the clear-text report on stdout and a JSON report in
 * reports/mutation/<group>.json (git-ignored); at the end one Markdown table
 * (file, killed, timeout, survived, no coverage, ignored, score) and every
 * surviving mutant with its place, ready for docs/testing.md.
 *
 * Not part of `npm test`: a full run takes tens of minutes on 2 cores.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GROUPS, resolveSpec, type Group } from './mutate-groups.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Counts { killed: number; timeout: number; survived: number; noCoverage: number; ignored: number; errors: number }

function score(c: Counts): number {
  const detected = c.killed + c.timeout;
  const valid = detected + c.survived + c.noCoverage;
  return valid === 0 ? 100 : (100 * detected) / valid;
}

async function runGroup(g: Group, concurrency: number, narrow: boolean): Promise<{ perFile: Map<string, Counts>; survivors: string[] }> {
  const { Stryker } = await import('@stryker-mutator/core');
  // a narrowed run never overwrites the group's full report
  const report = join('reports/mutation', `${g.name}${narrow ? '-narrow' : ''}.json`);
  const stryker = new Stryker({
    packageManager: 'npm',
    testRunner: 'command',
    commandRunner: { command: `node --test --test-concurrency=1 ${g.tests.join(' ')}` },
    buildCommand: 'npx tsc -p tsconfig.json',
    checkers: ['typescript'],
    tsconfigFile: 'tsconfig.json',
    mutate: g.mutate.map((m) => resolveSpec(ROOT, m)),
    coverageAnalysis: 'off',
    concurrency,
    timeoutMS: 60_000,
    // progress-append-only: a line every few seconds (mutants tested, survived, time left) in a log
    reporters: ['clear-text', 'json', 'progress-append-only'],
    jsonReporter: { fileName: report },
    // one sandbox directory per group: runs of different groups can go side by side (cleanTempDir removes it)
    tempDirName: `.stryker-tmp/${g.name}`,
    cleanTempDir: 'always',
    plugins: ['@stryker-mutator/typescript-checker'],
  });
  const results = await stryker.runMutationTest();
  const perFile = new Map<string, Counts>();
  const survivors: string[] = [];
  for (const r of results) {
    const file = relative(ROOT, resolve(ROOT, r.fileName));
    let c = perFile.get(file);
    if (!c) perFile.set(file, c = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, ignored: 0, errors: 0 });
    switch (r.status) {
      case 'Killed': c.killed++; break;
      case 'Timeout': c.timeout++; break;
      case 'Survived': c.survived++; break;
      case 'NoCoverage': c.noCoverage++; break;
      case 'Ignored': c.ignored++; break;
      default: c.errors++; // CompileError, RuntimeError: not valid mutants
    }
    if (r.status === 'Survived' || r.status === 'NoCoverage') {
      const at = `${file}:${r.location.start.line}:${r.location.start.column}`;
      survivors.push(`- \`${at}\` ${r.mutatorName}: \`${(r.replacement ?? '').replace(/\s+/g, ' ').slice(0, 100)}\` (${r.status})`);
    }
  }
  return { perFile, survivors };
}

async function main(): Promise<void> {
  process.chdir(ROOT);
  const args = process.argv.slice(2);
  // --concurrency N: test processes at once (default 2, the machine's cores)
  let concurrency = 2;
  const ci = args.indexOf('--concurrency');
  if (ci >= 0) {
    concurrency = Number(args[ci + 1]);
    args.splice(ci, 2);
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      console.error('mutate: --concurrency takes a whole number from 1');
      process.exitCode = 2;
      return;
    }
  }
  // --mutate FILE[:lines] (repeatable): replaces the group's files, for one group at a time. The
  // files are not checked against the group's: the run's score only describes what it mutated.
  const narrowTo: string[] = [];
  for (let mi = args.indexOf('--mutate'); mi >= 0; mi = args.indexOf('--mutate')) {
    const spec = args[mi + 1];
    if (spec === undefined || spec.startsWith('--')) {
      console.error('mutate: --mutate takes a file or file:lines');
      process.exitCode = 2;
      return;
    }
    narrowTo.push(spec);
    args.splice(mi, 2);
  }
  if (args.includes('--list')) {
    for (const g of GROUPS) console.log(`${g.name}: ${g.what}\n  mutate: ${g.mutate.join(' ')}\n  tests:  ${g.tests.join(' ')}`);
    return;
  }
  const unknown = args.filter((a) => !GROUPS.some((g) => g.name === a));
  if (unknown.length > 0) {
    console.error(`mutate: unknown group ${unknown.join(', ')} (groups: ${GROUPS.map((g) => g.name).join(', ')})`);
    process.exitCode = 2;
    return;
  }
  let chosen = args.length > 0 ? GROUPS.filter((g) => args.includes(g.name)) : GROUPS;
  if (narrowTo.length > 0) {
    if (chosen.length !== 1) {
      console.error('mutate: --mutate needs exactly one group (whose tests run)');
      process.exitCode = 2;
      return;
    }
    chosen = [{ ...chosen[0]!, mutate: narrowTo }];
  }
  mkdirSync('reports/mutation', { recursive: true });
  const rows: string[] = ['| group | file | killed | timeout | survived | no coverage | ignored (equivalent) | score |', '|---|---|---:|---:|---:|---:|---:|---:|'];
  const survivors: string[] = [];
  for (const g of chosen) {
    const started = Date.now();
    const r = await runGroup(g, concurrency, narrowTo.length > 0);
    for (const [file, c] of r.perFile) {
      rows.push(`| ${g.name} | \`${file}\` | ${c.killed} | ${c.timeout} | ${c.survived} | ${c.noCoverage} | ${c.ignored} | ${score(c).toFixed(1)}% |`);
    }
    survivors.push(`### ${g.name}${narrowTo.length > 0 ? ` (--mutate ${narrowTo.join(' ')})` : ''} (${((Date.now() - started) / 1000).toFixed(0)} s)`, ...(r.survivors.length ? r.survivors : ['- none']));
  }
  const md = [`Mutation testing, ${new Date().toISOString()}`, '', ...rows, '', 'Surviving mutants:', '', ...survivors, ''].join('\n');
  writeFileSync('reports/mutation/summary.md', md);
  console.log(md);
}

main().catch((e: unknown) => {
  console.error(`mutate: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  process.exitCode = 1;
});
