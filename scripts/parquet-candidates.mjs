// The measurement behind docs/decisions.md "Parquet with hyparquet-writer": the same connection records written
// as Parquet by each candidate library, CPU seconds and file size. Not part of npm test.
//
//   node bin/rstscope.js flows -f ndjson --quiet CAPTURE > /tmp/conns.ndjson
//   npm install --no-save parquet-wasm@0.8.0 apache-arrow@21.2.0 @duckdb/node-api@1.5.6-r.1
//   node scripts/parquet-candidates.mjs /tmp/conns.ndjson
import { readFileSync, statSync } from 'node:fs';

const FIELDS = [
  ['ts', 'ts'], ['uid', 'str'], ['community_id', 'str'], ['orig_h', 'str'], ['orig_p', 'i32'], ['resp_h', 'str'], ['resp_p', 'i32'],
  ['duration', 'f64'], ['state', 'str'], ['history', 'str'], ['orig_pkts', 'i64'], ['resp_pkts', 'i64'], ['orig_bytes', 'i64'],
  ['resp_bytes', 'i64'], ['rsts', 'i32'], ['end_reason', 'str'], ['first_frame', 'i64'], ['last_frame', 'i64'],
];
const get = (r) => [r.ts, r.uid, r.communityId, r.orig.ip, r.orig.port, r.resp.ip, r.resp.port, r.duration, r.state, r.history,
  r.origPkts, r.respPkts, r.origBytes, r.respBytes, r.rsts, r.endReason, r.firstFrame, r.lastFrame];
const GROUP = 65_536;

const rows = readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
  .filter((r) => r.type === 'connection').map(get);

async function measure(name, out, write) {
  const c0 = process.cpuUsage();
  await write(out);
  const c = process.cpuUsage(c0);
  console.log(`${name}: ${rows.length} rows, ${((c.user + c.system) / 1e6).toFixed(2)} s CPU, ${statSync(out).size} bytes`);
}

function columns(part, conv) {
  return FIELDS.map(([name, t], i) => ({ name, t, values: conv(t, part.map((r) => r[i])) }));
}

const hyp = await import('hyparquet-writer');
await measure('hyparquet-writer', '/tmp/candidate-hyparquet.parquet', (out) => {
  const T = {
    ts: { type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } },
    str: { type: 'BYTE_ARRAY', converted_type: 'UTF8' }, i32: { type: 'INT32' }, i64: { type: 'INT64' }, f64: { type: 'DOUBLE' },
  };
  const schema = [{ name: 'root', num_children: FIELDS.length }, ...FIELDS.map(([n, t]) => ({ name: n, repetition_type: 'REQUIRED', ...T[t] }))];
  const w = new hyp.ParquetWriter({ writer: hyp.fileWriter(out), schema });
  for (let s = 0; s < rows.length; s += GROUP) {
    const cols = columns(rows.slice(s, s + GROUP), (t, v) => (t === 'ts' ? BigInt64Array.from(v, (x) => BigInt(Math.round(x * 1e6)))
      : t === 'i64' ? BigInt64Array.from(v, (x) => BigInt(x)) : t === 'i32' ? Int32Array.from(v) : t === 'f64' ? Float64Array.from(v) : v));
    w.write({ columnData: cols.map((c) => ({ name: c.name, data: c.values })), rowGroupSize: GROUP });
  }
  w.finish();
});

const arrow = await import('apache-arrow');
const pw = await import('parquet-wasm');
const { openSync, writeSync, closeSync } = await import('node:fs');
await measure('parquet-wasm + apache-arrow (one Arrow table per 65,536 rows, concatenated: size only)', '/tmp/candidate-wasm.parquet', (out) => {
  const fd = openSync(out, 'w');
  for (let s = 0; s < rows.length; s += GROUP) {
    const cols = {};
    for (const c of columns(rows.slice(s, s + GROUP), (_t, v) => v)) {
      cols[c.name] = c.t === 'ts' ? arrow.vectorFromArray(c.values.map((x) => Math.round(x * 1e3)), new arrow.TimestampMillisecond())
        : c.t === 'i64' ? arrow.vectorFromArray(BigInt64Array.from(c.values, (x) => BigInt(x)))
          : c.t === 'i32' ? arrow.vectorFromArray(Int32Array.from(c.values))
            : c.t === 'f64' ? arrow.vectorFromArray(Float64Array.from(c.values)) : arrow.vectorFromArray(c.values, new arrow.Utf8());
    }
    const table = pw.Table.fromIPCStream(arrow.tableToIPC(new arrow.Table(cols), 'stream'));
    writeSync(fd, pw.writeParquet(table, new pw.WriterPropertiesBuilder().setCompression(pw.Compression.SNAPPY).build()));
  }
  closeSync(fd);
});

const duck = await import('@duckdb/node-api');
await measure('@duckdb/node-api (appender, then COPY TO parquet)', '/tmp/candidate-duckdb.parquet', async (out) => {
  const con = await (await duck.DuckDBInstance.create(':memory:')).connect();
  const SQL = { ts: 'TIMESTAMP', str: 'VARCHAR', i32: 'INTEGER', i64: 'BIGINT', f64: 'DOUBLE' };
  await con.run(`CREATE TABLE c (${FIELDS.map(([n, t]) => `${n} ${SQL[t]}`).join(', ')})`);
  const ap = await con.createAppender('c');
  for (const r of rows) {
    FIELDS.forEach(([, t], i) => {
      const v = r[i];
      if (t === 'ts') ap.appendTimestamp(new duck.DuckDBTimestampValue(BigInt(Math.round(v * 1e6))));
      else if (t === 'str') ap.appendVarchar(String(v));
      else if (t === 'i32') ap.appendInteger(v);
      else if (t === 'i64') ap.appendBigInt(BigInt(v));
      else ap.appendDouble(v);
    });
    ap.endRow();
  }
  ap.closeSync();
  await con.run(`COPY c TO '${out}' (FORMAT parquet)`);
});
