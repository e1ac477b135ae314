/**
 * Parquet output (`analyze` and `flows` with `--format parquet -o DIR`): the
 * connections (and, for analyze, the findings) as two Parquet tables,
 * DIR/connections.parquet and DIR/findings.parquet, with typed columns
 * (timestamps as TIMESTAMP(MICROS, UTC), counts as INT64, ports as INT32,
 * addresses and names as UTF-8 strings, rule evidence as JSON strings) that
 * DuckDB, Spark, pandas/pyarrow and Trino read as they are. docs/schema.md
 * lists the columns; this file is the only code that spells them.
 *
 * Streaming: rows are kept in column arrays until ROW_GROUP rows, then
 * written as one row group (hyparquet-writer's ParquetWriter, flushed to the
 * file in 1 MB pieces), so memory is bounded by one row group per table,
 * not by the capture. The library was chosen by measurement
 * (docs/decisions.md).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileWriter, ParquetWriter } from 'hyparquet-writer';
import type { Finding } from '../rules/types.js';
import type { ConnRecord } from '../tcp/record.js';

/**
 * rows per row group (and the most rows held in memory per table). Measured
 * on the 2 M-packet bench capture (288,175 rows): 65,536 peaked at 575 MB RSS,
 * 16,384 at 327 MB, files 2 % larger.
 */
export const ROW_GROUP = 16_384;

type Kind = 'str' | 'optstr' | 'json' | 'optjson' | 'ts' | 'i32' | 'i64' | 'f64';

/** A frame reference's file in a capture set (frame-refs.ts puts `firstFile`, `file`, ... beside the frame numbers), else the input's file. */
function fileField(row: object, key: string, inputFile: string): string {
  const v = (row as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : inputFile;
}

/** A column: its name, type, and how a row's value is read. */
interface Column<R> { name: string; kind: Kind; get: (row: R, file: string) => unknown }

const CONNECTION_COLUMNS: Column<ConnRecord>[] = [
  { name: 'id', kind: 'i64', get: (r) => r.id },
  { name: 'uid', kind: 'str', get: (r) => r.uid },
  { name: 'community_id', kind: 'str', get: (r) => r.communityId },
  { name: 'input', kind: 'i32', get: (r) => r.input },
  { name: 'file', kind: 'str', get: (r, file) => fileField(r, 'firstFile', file) },
  { name: 'last_file', kind: 'str', get: (r, file) => fileField(r, 'lastFile', file) },
  { name: 'stream', kind: 'i64', get: (r) => r.stream },
  { name: 'ts', kind: 'ts', get: (r) => r.ts },
  { name: 'orig_h', kind: 'str', get: (r) => r.orig.ip },
  { name: 'orig_p', kind: 'i32', get: (r) => r.orig.port },
  { name: 'resp_h', kind: 'str', get: (r) => r.resp.ip },
  { name: 'resp_p', kind: 'i32', get: (r) => r.resp.port },
  { name: 'first_frame', kind: 'i64', get: (r) => r.firstFrame },
  { name: 'last_frame', kind: 'i64', get: (r) => r.lastFrame },
  { name: 'duration', kind: 'f64', get: (r) => r.duration },
  { name: 'conn_state', kind: 'str', get: (r) => r.state },
  { name: 'history', kind: 'str', get: (r) => r.history },
  { name: 'orig_pkts', kind: 'i64', get: (r) => r.origPkts },
  { name: 'resp_pkts', kind: 'i64', get: (r) => r.respPkts },
  { name: 'orig_bytes', kind: 'i64', get: (r) => r.origBytes },
  { name: 'resp_bytes', kind: 'i64', get: (r) => r.respBytes },
  { name: 'orig_retrans_bytes', kind: 'i64', get: (r) => r.origRetransBytes },
  { name: 'resp_retrans_bytes', kind: 'i64', get: (r) => r.respRetransBytes },
  { name: 'rsts', kind: 'i32', get: (r) => r.rsts },
  { name: 'end_reason', kind: 'str', get: (r) => r.endReason },
  { name: 'resets', kind: 'json', get: (r) => r.resets },
  { name: 'tunnel', kind: 'optjson', get: (r) => r.tunnel ?? null },
];

const FINDING_COLUMNS: Column<Finding>[] = [
  { name: 'connection', kind: 'i64', get: (f) => f.connection },
  { name: 'uid', kind: 'str', get: (f) => f.uid },
  { name: 'community_id', kind: 'str', get: (f) => f.communityId },
  { name: 'input', kind: 'i32', get: (f) => f.input },
  { name: 'file', kind: 'str', get: (f, file) => fileField(f, 'file', file) },
  { name: 'stream', kind: 'i64', get: (f) => f.stream },
  { name: 'rule', kind: 'str', get: (f) => f.rule },
  { name: 'severity', kind: 'str', get: (f) => f.severity },
  { name: 'frame', kind: 'i64', get: (f) => f.frame },
  { name: 'frames', kind: 'json', get: (f) => f.frames },
  { name: 'frame_files', kind: 'optjson', get: (f) => (f as unknown as Record<string, unknown>).frameFiles ?? null },
  { name: 'ts', kind: 'ts', get: (f) => f.ts },
  { name: 'actor', kind: 'str', get: (f) => f.actor },
  { name: 'summary', kind: 'str', get: (f) => f.summary },
  { name: 'app_orig', kind: 'optstr', get: (f) => f.app.orig ?? null },
  { name: 'app_resp', kind: 'optstr', get: (f) => f.app.resp ?? null },
  { name: 'evidence', kind: 'json', get: (f) => f.evidence },
];

/** Parquet schema element of a column kind (parquet-format's SchemaElement, as hyparquet-writer takes it). */
function schemaElement(name: string, kind: Kind): Record<string, unknown> {
  switch (kind) {
    case 'str': return { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' };
    case 'optstr': return { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' };
    case 'json': return { name, type: 'BYTE_ARRAY', converted_type: 'JSON', repetition_type: 'REQUIRED' };
    case 'optjson': return { name, type: 'BYTE_ARRAY', converted_type: 'JSON', repetition_type: 'OPTIONAL' };
    case 'ts': return { name, type: 'INT64', repetition_type: 'REQUIRED', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } };
    case 'i32': return { name, type: 'INT32', repetition_type: 'REQUIRED' };
    case 'i64': return { name, type: 'INT64', repetition_type: 'REQUIRED' };
    case 'f64': return { name, type: 'DOUBLE', repetition_type: 'REQUIRED' };
  }
}

/** One table: column buffers of up to ROW_GROUP rows and its writer. */
class Table<R> {
  private readonly writer: ParquetWriter;
  private readonly buffers: unknown[][];
  private rows = 0;

  constructor(path: string, private readonly columns: Column<R>[], createdBy: string, private readonly rowGroup: number) {
    const schema = [{ name: 'schema', num_children: columns.length }, ...columns.map((c) => schemaElement(c.name, c.kind))];
    this.writer = new ParquetWriter({ writer: fileWriter(path), schema: schema as never, createdBy });
    this.buffers = columns.map(() => []);
  }

  add(row: R, file: string): void {
    const cols = this.columns;
    for (let i = 0; i < cols.length; i++) this.buffers[i].push(cols[i].get(row, file));
    if (++this.rows >= this.rowGroup) this.flush();
  }

  private flush(): void {
    if (this.rows === 0) return;
    const columnData = this.columns.map((c, i) => ({ name: c.name, data: columnArray(c.kind, this.buffers[i]) }));
    this.writer.write({ columnData: columnData as never, rowGroupSize: this.rowGroup });
    for (const b of this.buffers) b.length = 0;
    this.rows = 0;
  }

  finish(): void {
    this.flush();
    this.writer.finish();
  }
}

/** A buffered column as the typed array or value list the writer encodes. */
function columnArray(kind: Kind, values: unknown[]): unknown {
  switch (kind) {
    case 'ts': return BigInt64Array.from(values as number[], (s) => BigInt(Math.round(s * 1e6)));
    case 'i64': return BigInt64Array.from(values as number[], (v) => BigInt(v));
    case 'i32': return Int32Array.from(values as number[]);
    case 'f64': return Float64Array.from(values as number[]);
    case 'json': return values.map((v) => JSON.stringify(v));
    case 'optjson': return values.map((v) => (v === null ? null : JSON.stringify(v)));
    default: return values;
  }
}

/**
 * The Parquet output of one run: `connections.parquet` always, and
 * `findings.parquet` when `findings` (analyze). `files` names each input
 * index (the `file` column). Call `add` for each connection with its
 * findings, in the order they should appear, then `close`.
 */
export class ParquetOutput {
  private readonly connections: Table<ConnRecord>;
  private readonly findings: Table<Finding> | null;

  constructor(dir: string, private readonly files: readonly string[], findings: boolean, createdBy: string, rowGroup = ROW_GROUP) {
    mkdirSync(dir, { recursive: true });
    this.connections = new Table(join(dir, 'connections.parquet'), CONNECTION_COLUMNS, createdBy, rowGroup);
    this.findings = findings ? new Table(join(dir, 'findings.parquet'), FINDING_COLUMNS, createdBy, rowGroup) : null;
  }

  add(rec: ConnRecord, found: readonly Finding[]): void {
    const file = this.files[rec.input] ?? '';
    this.connections.add(rec, file);
    if (this.findings) for (const f of found) this.findings.add(f, file);
  }

  close(): void {
    this.connections.finish();
    this.findings?.finish();
  }
}

/** The column names and Parquet types of both tables (docs/schema.md, tests). */
export function parquetColumns(): { connections: [string, Kind][]; findings: [string, Kind][] } {
  return {
    connections: CONNECTION_COLUMNS.map((c) => [c.name, c.kind]),
    findings: FINDING_COLUMNS.map((c) => [c.name, c.kind]),
  };
}
