/**
 * Every input that ever broke rstscope (test/regressions/, see its README.md)
 * runs again: in-process through the whole pipeline (whole and in small
 * chunks, scripts/fuzz.ts checkInput) and through the CLI (`flows` and
 * `analyze` tables, `report` as HTML and Markdown), whose outcome must be exit 0, 2 or 3 with no stack trace.
 * `npm run fuzz` writes new failures there as crash-<hash>.bin.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkInput, REGRESSIONS } from '../scripts/fuzz.js';
import { runCli } from './helpers.js';

const out = mkdtempSync(join(tmpdir(), 'rstscope-regress-'));
after(() => rmSync(out, { recursive: true, force: true }));
const files = readdirSync(REGRESSIONS).filter((f) => /\.(pcap|pcapng|bin)$/.test(f)).sort();

test('the regression set is not empty', () => {
  assert.ok(files.length >= 2, `${files.length} regression inputs`);
});

for (const name of files) {
  test(`regression ${name}`, async () => {
    const path = resolve(REGRESSIONS, name);
    const bytes = readFileSync(path);
    for (const chunk of [1, 3, 64]) checkInput(bytes, chunk);
    const runs = await Promise.all([
      runCli(['flows', path]), runCli(['analyze', path]),
      runCli(['report', path, '-o', join(out, `${name}.html`)]), runCli(['report', path, '-o', join(out, `${name}.md`)]),
    ]);
    for (const r of runs) {
      assert.ok(r.code === 0 || r.code === 2 || r.code === 3, `exit ${r.code}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at |internal error/, r.stderr);
    }
  });
}
