/**
 * NDJSON output (`flows`, `analyze` and `live` with `--format ndjson`): one
 * JSON object per line, its record type first (`{"type":"connection",...}`),
 * then the object's own fields in their order. This module is the only code
 * that spells an NDJSON line; docs/schema.md describes the records.
 *
 * Record types: `input` (an input's summary, after its last connection),
 * `connection` (a ConnRecord as it closes out), `finding` (each finding of
 * that connection, right after it), `totals` (live only, at the end).
 *
 * Guarantee: a line is exactly `JSON.stringify({ type, ...value }) + '\n'`
 * for the objects written here (their keys are names, never array indices,
 * and none is called `type`), built without copying the object.
 */
import type { Finding } from '../rules/types.js';
import type { ConnRecord } from '../tcp/record.js';
import type { TrackerStats } from '../tcp/tracker.js';
import type { Totals } from './findings.js';

export type NdjsonType = 'input' | 'connection' | 'finding' | 'totals';

/** `{"type":"<type>",` followed by the fields of `value`, and a newline. */
function line(type: NdjsonType, value: object): string {
  const fields = JSON.stringify(value);
  return fields.length === 2 ? `{"type":"${type}"}\n` : `{"type":"${type}",${fields.slice(1)}\n`;
}

/** The `input` line: an input's summary (the analysis layer's InputSummary). */
export function ndjsonInput(summary: object): string {
  return line('input', summary);
}

/** The `connection` line of a closed-out connection. */
export function ndjsonConnection(rec: ConnRecord): string {
  return line('connection', rec);
}

/** The `finding` line of one finding. */
export function ndjsonFinding(f: Finding): string {
  return line('finding', f);
}

/** A connection's line followed by its findings' lines (analyze). */
export function ndjsonConnectionWithFindings(rec: ConnRecord, found: readonly Finding[]): string {
  let text = line('connection', rec);
  for (const f of found) text += line('finding', f);
  return text;
}

/** The `totals` line of `live`: the totals, then what was captured and the tracker's counters. */
export function ndjsonTotals(tot: Totals, more: { live: object; stats: TrackerStats }): string {
  return line('totals', { ...tot, live: more.live, stats: more.stats });
}

/**
 * For `--workers`: a connection's and its findings' lines rendered in a
 * worker before the global connection id and stream number are known. Each
 * line holds one NUL character where `ndjsonFillIds` puts
 * `ID,"input":I,"stream":S` (JSON text never holds a raw NUL: JSON.stringify
 * escapes control characters). Relies on the field order of the record (id,
 * input, stream first) and of a finding (rule, severity, connection, input,
 * stream first); when a line does not start as expected, returns null (the
 * caller then sends the objects and writes them with
 * ndjsonConnectionWithFindings). Filled in, the text equals
 * ndjsonConnectionWithFindings of the record and findings with the ids set.
 * Sets rec.stream and each finding's stream to 0.
 */
export function ndjsonTemplate(rec: ConnRecord, found: readonly Finding[]): string | null {
  const id = rec.id;
  rec.id = 0;
  rec.stream = 0;
  const json = JSON.stringify(rec);
  rec.id = id;
  const head = `{"id":0,"input":${rec.input},"stream":0,`;
  if (!json.startsWith(head)) return null;
  let text = `{"type":"connection","id":\0,${json.slice(head.length)}\n`;
  for (const f of found) {
    const fConn = f.connection;
    f.connection = 0;
    f.stream = 0;
    const fl = JSON.stringify(f);
    f.connection = fConn;
    const fHead = `{"rule":${JSON.stringify(f.rule)},"severity":${JSON.stringify(f.severity)},"connection":`;
    const fMid = `0,"input":${f.input},"stream":0`;
    if (!fl.startsWith(fHead) || !fl.startsWith(fMid, fHead.length)) return null;
    text += `{"type":"finding",${fHead.slice(1)}\0${fl.slice(fHead.length + fMid.length)}\n`;
  }
  return text;
}

/**
 * An ndjsonTemplate text with the connection's global id, input and stream
 * in place of every NUL (String.prototype.replaceAll measured ~50x slower
 * here).
 */
export function ndjsonFillIds(text: string, id: number, input: number, stream: number): string {
  const ids = `${id},"input":${input},"stream":${stream}`;
  let out = '';
  let from = 0;
  for (let at = text.indexOf('\0'); at >= 0; at = text.indexOf('\0', from)) {
    out += text.slice(from, at) + ids;
    from = at + 1;
  }
  return out + text.slice(from);
}
