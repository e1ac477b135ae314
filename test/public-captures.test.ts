/**
 * Issue 15: what rstscope must and must not say on small public captures
 * that nobody on this team made (test/fixtures/public/: sources, licences
 * and each case's story in README.md, the expectations in expected.json,
 * whose `about` field defines every key checked here).
 *
 * One test per capture, run in-process through the engine's entry point.
 * A case listed in PENDING is a known-wrong story not yet fixed: its test
 * asserts that the check still fails (and prints why), so the list is the
 * open work; a pending case that starts passing fails its test, so the list
 * cannot go stale.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { analyze } from '../src/analysis/analyze.js';
import type { Finding } from '../src/rules/types.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const DIR = join(HERE, '..', '..', 'test', 'fixtures', 'public');

interface Match { rule?: string; severity?: string; frame?: number; stream?: number; severities?: string[] }
interface Expect {
  case: string;
  mustAppear?: Match[];
  mustNotAppear?: Match[];
  exactly?: { rule: string; count: number }[];
  atMost?: { rule: string; stream: number; count: number }[];
  connections?: number;
  inputWarning?: string;
  evidenceMustNotContain?: Record<string, unknown>[];
  mustShow?: string;
}

const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as { files: Record<string, Expect> };

/** Cases whose fix has not landed yet (issue 15): file -> what is still wrong. */
const PENDING: Record<string, string> = {};

function matches(f: Finding, m: Match): boolean {
  if (m.rule !== undefined && f.rule !== m.rule) return false;
  if (m.severity !== undefined && f.severity !== m.severity) return false;
  if (m.frame !== undefined && f.frame !== m.frame) return false;
  if (m.stream !== undefined && f.stream !== m.stream) return false;
  if (m.severities !== undefined && !m.severities.includes(f.severity)) return false;
  return true;
}

function brief(fs: Finding[]): string {
  return fs.map((f) => `${f.rule}/${f.severity}@${f.frame}(stream ${f.stream})`).join(', ') || 'none';
}

/** Deep equality by JSON text, for evidence values. */
function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

async function check(file: string, e: Expect): Promise<void> {
  const path = join(DIR, file);
  const res = await analyze([path], { keepRecords: true });
  const fs = res.findings;
  for (const m of e.mustAppear ?? []) {
    assert.ok(fs.some((f) => matches(f, m)), `${file}: expected a finding ${JSON.stringify(m)}; got ${brief(fs)}`);
  }
  for (const m of e.mustNotAppear ?? []) {
    const bad = fs.filter((f) => matches(f, m));
    assert.equal(bad.length, 0, `${file}: must not say ${JSON.stringify(m)}; got ${brief(bad)}`);
  }
  for (const x of e.exactly ?? []) {
    const n = fs.filter((f) => f.rule === x.rule).length;
    assert.equal(n, x.count, `${file}: expected exactly ${x.count} ${x.rule}; got ${brief(fs)}`);
  }
  for (const x of e.atMost ?? []) {
    const n = fs.filter((f) => f.rule === x.rule && f.stream === x.stream).length;
    assert.ok(n <= x.count, `${file}: expected at most ${x.count} ${x.rule} on stream ${x.stream}; got ${brief(fs)}`);
  }
  if (e.connections !== undefined) {
    const flows = await analyze([path], { keepRecords: true, rules: false });
    assert.equal(flows.connections.length, e.connections, `${file}: connection records`);
  }
  if (e.inputWarning !== undefined) {
    const re = new RegExp(e.inputWarning, 'i');
    const warnings = res.inputs.flatMap((i) => i.warnings);
    assert.ok(warnings.some((w) => re.test(w)), `${file}: expected an input warning /${e.inputWarning}/; got ${JSON.stringify(warnings)}`);
  }
  for (const bad of e.evidenceMustNotContain ?? []) {
    for (const f of fs) {
      for (const [k, v] of Object.entries(bad)) {
        assert.ok(!same(f.evidence[k], v), `${file}: ${f.rule}@${f.frame} evidence.${k} = ${JSON.stringify(v)}`);
      }
    }
  }
  if (e.mustShow !== undefined) {
    const text = fs.map((f) => f.summary + JSON.stringify(f.evidence)).join('\n');
    assert.ok(text.includes(e.mustShow), `${file}: expected "${e.mustShow}" in a finding's summary or evidence`);
  }
}

for (const [file, e] of Object.entries(expected.files)) {
  const pending = PENDING[file];
  if (pending === undefined) {
    test(`public capture ${file}: ${e.case}`, () => check(file, e));
  } else {
    // Pinned as known-wrong: the check must still fail (its message is printed); once the fix lands it passes,
    // this test fails and the entry must leave PENDING.
    test(`public capture ${file} (known wrong, pending: ${pending})`, async (t) => {
      const err = await check(file, e).then(() => null, (x: unknown) => x);
      assert.ok(err !== null, `${file} passes now: remove it from PENDING in test/public-captures.test.ts`);
      t.diagnostic(`still wrong: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    });
  }
}

test('every PENDING entry names a capture in expected.json', () => {
  for (const file of Object.keys(PENDING)) assert.ok(file in expected.files, file);
});
