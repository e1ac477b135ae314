/**
 * `--format parquet -o DIR` (issue 18 item 1): the tables hold exactly what
 * `analyze -f json` says, with Parquet types (timestamps, 64-bit counts,
 * 32-bit ports, UTF-8 strings, JSON), written in row groups; read back with
 * hyparquet, an independent reader (DuckDB's reading of the same files is in
 * docs/decisions.md).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { analyze } from '../src/analysis/analyze.js';
import { ParquetOutput, parquetColumns } from '../src/report/parquet.js';
import type { Finding } from '../src/rules/types.js';
import type { ConnRecord } from '../src/tcp/record.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'rstscope.js');
const CAPTURES = readdirSync(join(ROOT, 'captures')).filter((f) => f.endsWith('.pcap')).sort().map((f) => join('captures', f));
const RING = readdirSync(join(ROOT, 'test', 'fixtures', 'ring')).filter((f) => f.endsWith('.pcap')).sort().map((f) => join('test', 'fixtures', 'ring', f));

function run(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8' });
}

function bytes(path: string): ArrayBuffer {
  const b = readFileSync(path);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** A JSON column's value (hyparquet hands JSON-typed columns back as their text). */
function json(v: unknown): unknown {
  return typeof v === 'string' ? JSON.parse(v) : v;
}

async function rows(path: string): Promise<Record<string, unknown>[]> {
  return parquetReadObjects({ file: bytes(path) });
}

function tmp(t: { after: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'rstscope-parquet-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

for (const [what, inputs, perFile] of [['each file on its own (--per-file)', CAPTURES, true], ['a ring of files read as one capture', RING, false]] as const) test(`analyze -f parquet, ${what}: every connection and finding of analyze -f json, column by column`, async (t) => {
  const dir = tmp(t);
  const opts = perFile ? ['--per-file'] : [];
  const r = run('analyze', '-f', 'parquet', '-o', dir, ...opts, ...inputs);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
  const doc = JSON.parse(run('analyze', '-f', 'json', ...opts, ...inputs).stdout) as { connections: (ConnRecord & { firstFile?: string; lastFile?: string })[]; findings: (Finding & { file?: string; frameFiles?: string[] })[]; inputs: { file: string }[] };
  const conns = await rows(join(dir, 'connections.parquet'));
  assert.equal(conns.length, doc.connections.length);
  doc.connections.forEach((c, i) => {
    const p = conns[i];
    assert.equal(p.id, BigInt(c.id));
    assert.equal(p.uid, c.uid);
    assert.equal(p.community_id, c.communityId);
    assert.equal(p.file, c.firstFile ?? doc.inputs[c.input].file);
    assert.equal(p.last_file, c.lastFile ?? doc.inputs[c.input].file);
    assert.equal(p.stream, BigInt(c.stream));
    assert.equal((p.ts as Date).getTime(), Math.floor(c.ts * 1000));
    assert.deepEqual([p.orig_h, p.orig_p, p.resp_h, p.resp_p], [c.orig.ip, c.orig.port, c.resp.ip, c.resp.port]);
    assert.deepEqual([p.first_frame, p.last_frame], [BigInt(c.firstFrame), BigInt(c.lastFrame)]);
    assert.equal(p.duration, c.duration);
    assert.deepEqual([p.conn_state, p.history, p.end_reason], [c.state, c.history, c.endReason]);
    assert.deepEqual([p.orig_pkts, p.resp_pkts, p.orig_bytes, p.resp_bytes, p.orig_retrans_bytes, p.resp_retrans_bytes],
      [c.origPkts, c.respPkts, c.origBytes, c.respBytes, c.origRetransBytes, c.respRetransBytes].map(BigInt));
    assert.equal(p.rsts, c.rsts);
    assert.deepEqual(json(p.resets), c.resets);
  });
  const found = await rows(join(dir, 'findings.parquet'));
  assert.ok(doc.findings.length >= (perFile ? 10 : 1));
  // the json document sorts findings; compare as sets keyed by connection, rule and frame
  const key = (conn: unknown, rule: unknown, frame: unknown) => `${conn}/${rule}/${frame}`;
  const byKey = new Map(found.map((p) => [key(p.connection, p.rule, p.frame), p]));
  assert.equal(byKey.size, doc.findings.length);
  for (const f of doc.findings) {
    const p = byKey.get(key(BigInt(f.connection), f.rule, BigInt(f.frame)));
    assert.ok(p, `finding ${f.rule} at ${f.frame}`);
    assert.deepEqual([p.severity, p.actor, p.summary, p.uid, p.community_id, p.stream], [f.severity, f.actor, f.summary, f.uid, f.communityId, BigInt(f.stream)]);
    assert.deepEqual([p.app_orig ?? undefined, p.app_resp ?? undefined], [f.app.orig, f.app.resp]);
    assert.deepEqual(json(p.frames), f.frames);
    assert.deepEqual(json(p.frame_files), f.frameFiles ?? null);
    assert.equal(p.file, f.file ?? doc.inputs[f.input].file);
    assert.deepEqual(json(p.evidence), f.evidence);
    assert.equal((p.ts as Date).getTime(), Math.floor(f.ts * 1000));
  }
});

test('parquet schema: typed columns (TIMESTAMP micros UTC, INT64 counts, INT32 ports, UTF-8, JSON), as docs/schema.md lists them', async (t) => {
  const dir = tmp(t);
  assert.equal(run('analyze', '-f', 'parquet', '-o', dir, 'captures/refused.pcap').status, 0);
  for (const table of ['connections', 'findings'] as const) {
    const meta = parquetMetadata(bytes(join(dir, `${table}.parquet`)));
    const cols = parquetColumns()[table];
    const schema = meta.schema.slice(1);
    assert.deepEqual(schema.map((s) => s.name), cols.map(([n]) => n));
    for (const s of schema) {
      const kind = cols.find(([n]) => n === s.name)![1];
      const want = { ts: 'INT64', i64: 'INT64', i32: 'INT32', f64: 'DOUBLE', str: 'BYTE_ARRAY', optstr: 'BYTE_ARRAY', json: 'BYTE_ARRAY', optjson: 'BYTE_ARRAY' }[kind];
      assert.equal(s.type, want, `${table}.${s.name}`);
      if (kind === 'ts') assert.deepEqual(s.logical_type, { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' });
      if (kind === 'str' || kind === 'optstr') assert.equal(s.converted_type, 'UTF8', `${table}.${s.name}`);
      if (kind === 'json' || kind === 'optjson') assert.equal(s.converted_type, 'JSON', `${table}.${s.name}`);
      assert.equal(s.repetition_type, kind === 'optstr' || kind === 'optjson' ? 'OPTIONAL' : 'REQUIRED', `${table}.${s.name}`);
    }
    assert.match(meta.created_by ?? '', /^rstscope /);
  }
  const schemaDoc = readFileSync(join(ROOT, 'docs', 'schema.md'), 'utf8');
  for (const [table, cols] of Object.entries(parquetColumns())) {
    for (const [name] of cols) assert.ok(schemaDoc.includes(`\`${name}\``), `docs/schema.md names ${table}.${name}`);
  }
});

test('parquet: rows are written in row groups as they come (memory bounded by one group), the last group partial', async (t) => {
  const dir = tmp(t);
  const files = CAPTURES.map((f) => join(ROOT, f));
  const out = new ParquetOutput(dir, files, true, 'rstscope test', 4);
  const res = await analyze(files, { onConnection: (rec, found) => out.add(rec, found) });
  out.close();
  const n = res.stats.connections;
  const meta = parquetMetadata(bytes(join(dir, 'connections.parquet')));
  assert.equal(Number(meta.num_rows), n);
  assert.equal(meta.row_groups.length, Math.ceil(n / 4));
  assert.ok(meta.row_groups.slice(0, -1).every((g) => Number(g.num_rows) === 4));
  assert.equal((await rows(join(dir, 'connections.parquet'))).length, n);
});

test('flows -f parquet writes connections.parquet only; an empty input gives valid empty tables', async (t) => {
  const dir = tmp(t);
  assert.equal(run('flows', '-f', 'parquet', '-o', dir, 'captures/normal-close.pcap').status, 0);
  assert.deepEqual(readdirSync(dir), ['connections.parquet']);
  assert.equal((await rows(join(dir, 'connections.parquet'))).length, 1);
  // a capture with no packets (a classic pcap header only)
  const empty = tmp(t);
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0); header.writeUInt16LE(2, 4); header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16); header.writeUInt32LE(1, 20);
  writeFileSync(join(empty, 'none.pcap'), header);
  const r = run('analyze', '-f', 'parquet', '-o', join(empty, 'out'), join(empty, 'none.pcap'));
  assert.equal(r.status, 0, r.stderr);
  assert.equal((await rows(join(empty, 'out', 'connections.parquet'))).length, 0);
  assert.equal((await rows(join(empty, 'out', 'findings.parquet'))).length, 0);
});

test('parquet options: -f parquet without -o, and -o without -f parquet, are usage errors naming the option', () => {
  const a = run('analyze', '-f', 'parquet', 'captures/refused.pcap');
  assert.equal(a.status, 2);
  assert.match(a.stderr, /-o DIR/);
  const b = run('flows', '-o', '/tmp/x', 'captures/refused.pcap');
  assert.equal(b.status, 2);
  assert.match(b.stderr, /-o\/--output is for --format parquet/);
});
