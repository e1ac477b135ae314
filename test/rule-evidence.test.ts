/**
 * Every evidence field a rule writes is documented on its rule page: each key
 * of `evidence` (and of its nested objects, e.g. write-after-peer-close's
 * `otherDirection`) in the findings over every bundled capture and the Zeek
 * corpus is named, in backquotes, in the "## Evidence" section of
 * docs/rules/<rule>.md.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyze } from '../src/analysis/analyze.js';
import { CAPTURES, FIXTURES, ROOT, ZEEK_TRACES } from './helpers.js';

/** The backquoted names in the "## Evidence" section of a rule's page. */
function documented(rule: string): Set<string> {
  const page = readFileSync(join(ROOT, 'docs/rules', `${rule}.md`), 'utf8');
  const at = page.indexOf('\n## Evidence\n');
  assert.ok(at >= 0, `docs/rules/${rule}.md has no "## Evidence" section`);
  const end = page.indexOf('\n## ', at + 1);
  const section = page.slice(at, end < 0 ? undefined : end);
  return new Set([...section.matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]));
}

function captures(): string[] {
  const out = readdirSync(CAPTURES).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => join(CAPTURES, f));
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (/\.(pcap|pcapng|cap)$/.test(e.name)) out.push(join(dir, e.name));
    }
  };
  walk(FIXTURES);
  if (existsSync(ZEEK_TRACES)) for (const f of readdirSync(ZEEK_TRACES)) out.push(join(ZEEK_TRACES, f));
  else if (process.env.CI === 'true') assert.fail(`Zeek corpus not found at ${ZEEK_TRACES}`);
  return out;
}

test("every evidence field in the output is named in its rule page's Evidence section", async () => {
  const res = await analyze(captures(), { perFile: true });
  assert.ok(res.findings.length > 100, `${res.findings.length} findings`);
  const pages = new Map<string, Set<string>>();
  const missing = new Set<string>();
  const rules = new Set<string>();
  for (const f of res.findings) {
    rules.add(f.rule);
    if (!pages.has(f.rule)) pages.set(f.rule, documented(f.rule));
    const names = pages.get(f.rule)!;
    const walk = (o: Record<string, unknown>): void => {
      for (const [k, v] of Object.entries(o)) {
        if (!names.has(k)) missing.add(`${f.rule}: ${k}`);
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>);
      }
    };
    walk(f.evidence);
  }
  assert.ok(rules.size >= 12, `${rules.size} rules seen`);
  assert.deepEqual([...missing].sort(), []);
});

test('every rule page has an Evidence section', () => {
  for (const f of readdirSync(join(ROOT, 'docs/rules')).filter((x) => x.endsWith('.md') && x !== 'README.md')) {
    assert.ok(documented(f.slice(0, -3)).size > 0, f);
  }
});
