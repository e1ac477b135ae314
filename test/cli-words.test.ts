/**
 * Issue 17, "Terminal": what a tcpdump/tshark user types works (`-r FILE`,
 * a capture filter after live's options), usage errors are plain sentences
 * naming what is missing or wrong (no yargs wording), and the hint to read
 * --help follows usage errors only.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { acceptReadFlag } from '../src/cli/read-flag.js';
import { CAPTURES, runCli } from './helpers.js';

const CAP = join(CAPTURES, 'refused.pcap');
const YARGS_WORDS = /non-option|Invalid values|Argument:|Given:|Choices:|Unknown argument|Missing required argument|Not enough arguments/;

test('-r FILE reads FILE, as tshark -r and tcpdump -r do; rstscope -r FILE is analyze', async () => {
  const plain = await runCli(['analyze', '-f', 'json', CAP]);
  for (const args of [['analyze', '-f', 'json', '-r', CAP], ['analyze', '-r', CAP, '-f', 'json'], ['analyze', '-f', 'json', `--read=${CAP}`], ['-r', CAP, '-f', 'json']]) {
    const r = await runCli(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, plain.stdout, args.join(' '));
  }
  assert.deepEqual(acceptReadFlag(['flows', '-r', 'a.pcap', '-r', 'b.pcap', '--per-file']), ['flows', '--per-file', 'a.pcap', 'b.pcap']);
  assert.deepEqual(acceptReadFlag(['explain', 'refused']), ['explain', 'refused']);
  assert.deepEqual(acceptReadFlag(['live', '-i', 'lo']), ['live', '-i', 'lo']);
});

test('usage errors are plain sentences naming the command, then one hint to its --help', async () => {
  const cases: [string[], RegExp, string][] = [
    [['analyze'], /^rstscope: analyze: name one or more capture files/, 'analyze'],
    [['show', CAP], /^rstscope: show: name a capture file and a connection/, 'show'],
    [['explain'], /^rstscope: explain: name a rule, e\.g\. rstscope explain refused/, 'explain'],
    [['analyze', '-f', 'xml', CAP], /^rstscope: --format cannot be "xml": choose table, json, ndjson or parquet/, 'analyze'],
    [['flows', CAP, '--bogus'], /^rstscope: unknown option --bogus/, 'flows'],
    [['frobnicate'], /^rstscope: no command 'frobnicate'/, ''],
    [[], /^rstscope: name a command: analyze, flows/, ''],
    [['live', '--filter', 'tcp', 'port', '80'], /^rstscope: give the capture filter once/, 'live'],
  ];
  for (const [args, msg, cmd] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, msg, args.join(' '));
    assert.doesNotMatch(r.stderr, YARGS_WORDS, args.join(' '));
    const hint = cmd === '' ? "Run 'rstscope --help' for the commands." : `Run 'rstscope ${cmd} --help' for its options.`;
    assert.equal(r.stderr.split('\n').filter((l) => l.includes('--help')).join('\n'), hint, args.join(' '));
  }
});

test('no usage hint after an error that is not about usage (a missing file, a directory)', async () => {
  for (const args of [['analyze', '/nonexistent/x.pcap'], ['analyze', CAPTURES]]) {
    const r = await runCli(args);
    assert.equal(r.code, 2);
    assert.doesNotMatch(r.stderr, /--help/, args.join(' '));
  }
});

test('live takes the capture filter after its options, as tcpdump does (shown in its help)', async () => {
  const r = await runCli(['live', '--help']);
  assert.match(r.stdout, /rstscope live \[expression\.\.\]/);
  assert.match(r.stdout, /live -i eth0 tcp port 443/);
});

test('rstscope completion prints a bash completion script; the completions know the commands and options', async () => {
  const script = await runCli(['completion']);
  assert.equal(script.code, 0, script.stderr);
  assert.match(script.stdout, /rstscope --get-yargs-completions/);
  assert.match(script.stdout, /complete .*-F _rstscope_yargs_completions rstscope/);
  const commands = await runCli(['--get-yargs-completions', 'rstscope', '']);
  for (const c of ['analyze', 'flows', 'report', 'show', 'live', 'explain']) assert.match(commands.stdout, new RegExp(`^${c}$`, 'm'), c);
  const options = await runCli(['--get-yargs-completions', 'rstscope', 'analyze', '--']);
  for (const o of ['--format', '--filter', '--time-format', '--width', '--fail-on']) assert.match(options.stdout, new RegExp(`^${o}$`, 'm'), o);
});
