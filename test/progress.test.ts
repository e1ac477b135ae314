/**
 * The progress line (src/cli/progress.ts): drawn on stderr when it is a
 * terminal, with or without --workers; never with --quiet and never when
 * stderr is not a terminal. `script` (util-linux) gives the command a
 * pseudo-terminal; its output is what the terminal received (without `script`
 * those tests skip, test/requires.ts).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { BIN, CAPTURES, runCli } from './helpers.js';
import { requires } from './requires.js';

const run = promisify(execFile);
const CAPTURE = join(CAPTURES, 'abortive-close.pcap');

/** What a terminal shows when the command runs on it (stdout sent to /dev/null inside). */
async function onTerminal(args: string[]): Promise<string> {
  const cmd = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const { stdout } = await run('script', ['-qec', `${cmd} >/dev/null`, '/dev/null'], { encoding: 'utf8' });
  return stdout;
}

for (const extra of [[], ['--workers', '2']]) {
  const name = extra.length ? ' with --workers 2' : '';
  test(`progress line on a terminal${name}: file, bar, percentage, rate, time left; cleared at the end`, requires('script'), async () => {
    for (const cmd of ['flows', 'analyze']) {
      const screen = await onTerminal([cmd, '-f', 'ndjson', ...extra, CAPTURE]);
      assert.match(screen, /\r[^\r]*abortive-close\.pcap \[#+\.*\] +100% .* pkt\/s .* elapsed, .* left/, `${cmd}: ${JSON.stringify(screen)}`);
      assert.ok(screen.endsWith('\r\x1b[K'), `${cmd}: the line is cleared at the end: ${JSON.stringify(screen.slice(-20))}`);
    }
  });

  test(`no progress line with --quiet${name}`, requires('script'), async () => {
    assert.equal(await onTerminal(['flows', '-f', 'ndjson', '--quiet', ...extra, CAPTURE]), '');
  });
}

test('no progress line when stderr is not a terminal', async () => {
  const r = await runCli(['flows', '-f', 'ndjson', '--workers', '2', CAPTURE]);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
});

test('report draws the progress line of its analysis pass on a terminal, and none with --quiet', requires('script'), async () => {
  const screen = await onTerminal(['report', '--format', 'md', CAPTURE]);
  assert.match(screen, /\r[^\r]*abortive-close\.pcap \[#+\.*\] +100% .* pkt\/s .* elapsed, .* left/, JSON.stringify(screen));
  assert.ok(screen.endsWith('\r\x1b[K'), `the line is cleared at the end: ${JSON.stringify(screen.slice(-20))}`);
  assert.equal(await onTerminal(['report', '--format', 'md', '--quiet', CAPTURE]), '');
});
