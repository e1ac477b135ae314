/**
 * The mutation groups point at the code they name (issue 19: a score is only worth the lines it mutated).
 * A `file#name` spec must resolve to that function; a fixed `file:lines` range is pinned by the text it covers,
 * so an edit that moves the code under it fails here and asks for the range to be re-checked (then the pin
 * below updated) instead of silently mutating other lines.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { GROUPS, resolveSpec } from '../scripts/mutate-groups.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** sha256 (first 16 hex digits) of each fixed range's lines, as checked against the code on 2026-12-08 */
const PINNED: Record<string, string> = {
  'src/capture/pcap.ts:96-103': '5dd84f0e1d8e79f0',
  'src/capture/pcap.ts:118-119': 'eb2af79526b92309',
  'src/capture/pcapng.ts:109-112': '9887ae4fa6628f67',
  'src/capture/pcapng.ts:124-134': '750460d98c2a4af1',
  'src/capture/pcapng.ts:240:66-324': 'd44b8229902c732a',
  'src/capture/pcapng.ts:356-356': 'd81fbe82ddcd9da5',
  'src/capture/pcapng.ts:395-395': 'd81fbe82ddcd9da5',
  'src/capture/frame.ts:43-46': '0dbf727254b4dfde',
};

function rangeText(spec: string): string {
  const m = /^([^:#]*):(\d+)(?::\d+)?-(\d+)(?::\d+)?$/.exec(spec);
  assert.ok(m, `${spec}: not file:first-last`);
  const lines = readFileSync(join(ROOT, m[1]!), 'utf8').split('\n');
  return lines.slice(Number(m[2]) - 1, Number(m[3])).join('\n');
}

const digest = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16);

test('every mutation spec names an existing file; each file#name resolves to that function, from its declaration to its closing brace', () => {
  let named = 0;
  for (const g of GROUPS) {
    for (const spec of g.mutate) {
      const file = spec.replace(/[#:].*$/, '');
      assert.ok(existsSync(join(ROOT, file)), `${g.name}: ${file} does not exist`);
      if (!spec.includes('#')) continue;
      named++;
      const name = spec.slice(spec.indexOf('#') + 1);
      const text = rangeText(resolveSpec(ROOT, spec)).split('\n');
      assert.match(text[0]!, new RegExp(`\\b${name}\\(`), `${spec}: first line`);
      assert.match(text[text.length - 1]!, /^\s*}$/, `${spec}: last line`);
    }
    for (const t of g.tests) assert.ok(existsSync(join(ROOT, t.replace(/^dist\//, 'dist/'))), `${g.name}: ${t} is not built`);
  }
  assert.ok(named >= 1);
  assert.throws(() => resolveSpec(ROOT, 'src/tcp/accounting.ts#noSuchFunction'), /not declared/);
});

test('every fixed line range still covers the text it was checked against (else re-check the range and update the pin)', () => {
  const fixed = GROUPS.flatMap((g) => g.mutate).filter((s) => /:\d/.test(s) && !s.includes('#'));
  assert.deepEqual(fixed.sort(), Object.keys(PINNED).sort(), 'a fixed range was added or removed: pin it here');
  for (const spec of fixed) assert.equal(digest(rangeText(spec)), PINNED[spec], `${spec} changed: re-check that the range still covers the lines the group means, then update PINNED`);
});
