/**
 * `flows -f zeek-json`: Zeek's conn.log as Zeek writes JSON logs. Checked
 * against the TSV conn.log of the same run, which the corpus tests hold to
 * Zeek's own: every row of every bundled capture and corpus trace is one JSON
 * object whose keys are the TSV's #fields in order, less the unset ('-')
 * cells, and whose values are the TSV cells (numbers for Zeek's time,
 * interval, count and port columns).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CAPTURES, runCli, ZEEK_TRACES } from './helpers.js';

const NUMERIC = new Set(['time', 'interval', 'count', 'port']);

async function compare(file: string): Promise<number> {
  const [tsv, json] = await Promise.all([runCli(['flows', '-f', 'zeek', file]), runCli(['flows', '-f', 'zeek-json', file])]);
  assert.equal(json.code, tsv.code, file);
  const lines = tsv.stdout.split('\n');
  const fields = lines.find((l) => l.startsWith('#fields'))!.split('\t').slice(1);
  const types = lines.find((l) => l.startsWith('#types'))!.split('\t').slice(1);
  const rows = lines.filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split('\t'));
  const objects = json.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(objects.length, rows.length, file);
  rows.forEach((row, i) => {
    const want: Record<string, unknown> = {};
    fields.forEach((f, j) => {
      if (row[j] !== '-') want[f] = NUMERIC.has(types[j]) ? Number(row[j]) : row[j];
    });
    assert.deepEqual(Object.keys(objects[i]), Object.keys(want), `${file} row ${i}: keys`);
    assert.deepEqual(objects[i], want, `${file} row ${i}`);
  });
  return rows.length;
}

test("flows -f zeek-json is the conn.log's rows as JSON objects, Zeek's field names, unset fields left out", async () => {
  let n = 0;
  for (const f of readdirSync(CAPTURES).filter((x) => /\.pcap(ng)?$/.test(x))) n += await compare(join(CAPTURES, f));
  assert.ok(n > 15, `${n} connections`);
});

test('flows -f zeek-json over the Zeek corpus traces', async () => {
  let n = 0;
  for (const f of readdirSync(ZEEK_TRACES)) n += await compare(join(ZEEK_TRACES, f));
  assert.ok(n > 1400, `${n} connections`);
});

test('flows -f zeek-json: the join keys and the IP byte counts are filled in', async () => {
  const r = await runCli(['flows', '-f', 'zeek-json', join(CAPTURES, 'refused.pcap')]);
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout.split('\n')[0]) as Record<string, unknown>;
  assert.match(String(o.uid), /^C[0-9A-Za-z]{17}$/);
  assert.match(String(o.community_id), /^1:[A-Za-z0-9+/]{27}=$/);
  assert.equal(o.proto, 'tcp');
  assert.equal(o.conn_state, 'REJ');
  assert.equal(typeof o.ts, 'number');
  assert.ok((o.orig_ip_bytes as number) >= 40 && (o.resp_ip_bytes as number) >= 40);
  for (const unset of ['service', 'local_orig', 'local_resp', 'tunnel_parents']) assert.ok(!(unset in o), unset);
});
