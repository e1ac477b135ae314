/**
 * The JSON Schemas shipped in schema/ (docs/schema.md) hold for real output:
 * `analyze -f json`, `flows -f json` and every `-f ndjson` line of both, over
 * every bundled capture (captures/, test/fixtures), a capture set (the ring
 * fixture: its file fields) and the Zeek corpus traces, validated with ajv
 * (docs/decisions.md says why ajv). The schemas are strict: a field they do not
 * name fails, so a new output field must be added to them (and documented).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import { analyze } from '../src/analysis/analyze.js';
import { totals } from '../src/report/findings.js';
import { ndjsonTotals } from '../src/report/ndjson.js';
import { CAPTURES, FIXTURES, ROOT, runCli, ZEEK_TRACES } from './helpers.js';

const SCHEMAS = join(ROOT, 'schema');
const ajv = new Ajv2020({ allErrors: true, strict: true });
for (const f of ['defs', 'flows', 'analyze', 'ndjson']) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, `${f}.schema.json`), 'utf8')) as object);
const validator = (id: string): ValidateFunction => ajv.getSchema(`urn:rstscope:schema:${id}`)!;

function check(v: ValidateFunction, doc: unknown, what: string): void {
  if (!v(doc)) assert.fail(`${what}: ${ajv.errorsText(v.errors, { separator: '\n' })}`);
}

/** every capture bundled with the repository: captures/ and the test fixtures (not the ring, a set of its own) */
function bundled(): string[] {
  const out = readdirSync(CAPTURES).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => join(CAPTURES, f));
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) { if (e.name !== 'ring') walk(join(dir, e.name)); } else if (/\.(pcap|pcapng|cap)$/.test(e.name)) out.push(join(dir, e.name));
    }
  };
  walk(FIXTURES);
  return out;
}

/** Validates analyze/flows JSON and NDJSON of one run over `files` (--per-file unless a set); returns the lines checked. */
async function validateRun(files: string[], opts: string[], label: string): Promise<number> {
  let lines = 0;
  for (const cmd of ['analyze', 'flows']) {
    const doc = await runCli([cmd, '-f', 'json', '--quiet', ...opts, ...files], { timeoutMs: 300_000 });
    assert.ok(doc.code === 0 || doc.code === 1 || doc.code === 3, `${cmd} ${label}: exit ${doc.code} ${doc.stderr}`);
    check(validator(cmd), JSON.parse(doc.stdout), `${cmd} -f json ${label}`);
    const nd = await runCli([cmd, '-f', 'ndjson', '--quiet', '--workers', '2', ...opts, ...files], { timeoutMs: 300_000 });
    for (const l of nd.stdout.split('\n')) {
      if (l === '') continue;
      check(validator('ndjson'), JSON.parse(l), `${cmd} -f ndjson ${label}: ${l.slice(0, 120)}`);
      lines++;
    }
  }
  return lines;
}

test('analyze/flows -f json and -f ndjson validate against schema/ over every bundled capture', async () => {
  const files = bundled();
  assert.ok(files.length > 50, `${files.length} captures`);
  assert.ok(files.some((f) => f.includes('/tunnels/')), 'the tunnel fixtures (tunnel[] records)');
  const n = await validateRun(files, ['--per-file'], 'bundled captures');
  assert.ok(n > 200, `${n} NDJSON lines`);
});

test('a capture set (several files as one capture) validates: its file fields are in the schema', async () => {
  const ring = readdirSync(join(FIXTURES, 'ring')).filter((f) => f.endsWith('.pcap')).map((f) => join(FIXTURES, 'ring', f));
  assert.ok(ring.length > 1);
  assert.ok(await validateRun(ring, [], 'ring set') > 0);
});

test('analyze/flows output over the Zeek corpus traces validates', () => {
  // the corpus is bundled in test/corpus/zeek (a fresh clone has it): no skip
  assert.ok(existsSync(ZEEK_TRACES), `Zeek corpus not found at ${ZEEK_TRACES}`);
  return validateRun(readdirSync(ZEEK_TRACES).map((f) => join(ZEEK_TRACES, f)), ['--per-file'], 'Zeek corpus').then((n) => {
    assert.ok(n > 1400, `${n} NDJSON lines`);
  });
});

test("live's totals line validates", async () => {
  const res = await analyze([join(CAPTURES, 'refused.pcap')], {});
  const line = ndjsonTotals(totals(res.connections.length, res.findings), { live: { interface: 'lo', packets: 2 }, stats: res.stats });
  check(validator('ndjson'), JSON.parse(line), 'totals');
});

test('the schemas are strict: an unknown field, a missing field, a wrong type or a line without its version fail', async () => {
  const res = await analyze([join(CAPTURES, 'refused.pcap')], {});
  const conn = res.connections[0] as unknown as Record<string, unknown>;
  const doc = { schema: 'rstscope/flows@1', inputs: res.inputs, connections: [conn], stats: res.stats };
  check(validator('flows'), doc, 'as written');
  const bad = (c: Record<string, unknown>): boolean => validator('flows')({ ...doc, connections: [c] });
  assert.equal(bad({ ...conn, extra: 1 }), false, 'unknown field');
  const { origIpBytes: _drop, ...missing } = conn;
  assert.equal(bad(missing), false, 'missing field');
  assert.equal(bad({ ...conn, state: 'XX' }), false, 'unknown state');
  assert.equal(bad({ ...conn, uid: 'X1' }), false, 'uid format');
  const line = { type: 'connection', ...conn };
  assert.equal(validator('ndjson')(line), false, 'NDJSON line without schema');
  assert.equal(validator('ndjson')({ type: 'connection', schema: 'rstscope/ndjson@1', ...conn }), true);
  assert.equal(validator('ndjson')({ type: 'connection', schema: 'rstscope/ndjson@2', ...conn }), false, 'other version');
  assert.equal(validator('ndjson')({ type: 'connection', schema: 'rstscope/ndjson@1', ...conn, extra: 1 }), false, 'NDJSON unknown field');
  const f = res.findings[0] as unknown as Record<string, unknown>;
  assert.equal(validator('ndjson')({ type: 'finding', schema: 'rstscope/ndjson@1', ...f }), true);
  assert.equal(validator('ndjson')({ type: 'finding', schema: 'rstscope/ndjson@1', ...f, severity: 'fatal' }), false, 'severity');
});

test('the schemas ship in the package', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
  assert.ok(pkg.files.includes('schema/*.schema.json'), pkg.files.join(' '));
});
