/**
 * Conformance with Zeek, pinned: today's disagreements with Zeek's conn.log on
 * the corpus (test/conformance-known.json, per trace and connection, each with
 * why) are the expectation. Any new disagreement fails naming the trace and
 * the connection; any listed one that went away (fixed, or changed) fails
 * asking for the list to be updated. Runs the built CLI over every trace of
 * the corpus manifest (test/conformance-known.ts); `npm run conformance`
 * prints the agreement table.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { corpusDir, currentDisagreements, type Disagreement } from './conformance-known.js';
import { ROOT } from './helpers.js';

const KNOWN = join(ROOT, 'test/conformance-known.json');

interface Known { traces: Record<string, (Disagreement & { why: string })[]> }

const show = (d: Disagreement): string => `${d.conn}: zeek ${d.zeek ?? '(no row)'}, ours ${d.ours ?? '(no connection)'}`;

test('the disagreements with Zeek on the corpus are exactly the known ones (test/conformance-known.json)', async () => {
  const known = JSON.parse(readFileSync(KNOWN, 'utf8')) as Known;
  const names = Object.keys(known.traces);
  assert.ok(names.length >= 42, `${names.length} traces listed`);
  const now = await currentDisagreements(corpusDir(names[0]));
  assert.deepEqual(Object.keys(now).sort(), [...names].sort(), 'the known list names every trace of the corpus manifest, and only those');
  const problems: string[] = [];
  for (const trace of names) {
    const want = new Map(known.traces[trace].map((d) => [show(d), d]));
    const got = new Map(now[trace].map((d) => [show(d), d]));
    for (const [k] of got) if (!want.has(k)) problems.push(`NEW disagreement in ${trace}: ${k}`);
    for (const [k] of want) if (!got.has(k)) problems.push(`${trace}: ${k} no longer happens: update test/conformance-known.json (and docs/conformance.md)`);
    for (const d of known.traces[trace]) assert.ok(d.why && d.why.length > 20, `${trace}: ${show(d)} says why`);
  }
  assert.deepEqual(problems, [], problems.join('\n'));
});
