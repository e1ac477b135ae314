/**
 * NDJSON output (`flows`, `analyze` and `live` with `--format ndjson`): one
 * JSON object per line, its record type first, then the schema version
 * (`{"type":"connection","schema":"rstscope/ndjson@1",...}`, on every line:
 * schema/ndjson.schema.json), then the object's own fields in their order. This module is the only code
 * that spells an NDJSON line; docs/schema.md describes the records.
 *
 * Record types: `input` (an input's summary, after its last connection),
 * `connection` (a ConnRecord as it closes out), `finding` (each finding of
 * that connection, right after it), `totals` (live only, at the end).
 *
 * Guarantee: a line is exactly `JSON.stringify({ type, schema: NDJSON_SCHEMA, ...value }) + '\n'`
 * for the objects written here (their keys are names, never array indices,
 * and none is called `type` or `schema`), built without copying the object.
 */
import type { Finding } from '../rules/types.js';
import type { ConnRecord } from '../tcp/record.js';
import type { TrackerStats } from '../tcp/tracker.js';
import type { Totals } from './findings.js';

export type NdjsonType = 'input' | 'connection' | 'finding' | 'totals';

/** The schema version every NDJSON line carries (`schema`); bumped when a field is removed or renamed. */
export const NDJSON_SCHEMA = 'rstscope/ndjson@1';

/** What follows `{"type":"<type>"` on every line. */
const V = `,"schema":"${NDJSON_SCHEMA}"`;

/** `{"type":"<type>","schema":...,` followed by the fields of `value`, and a newline. */
function line(type: NdjsonType, value: object): string {
  const fields = JSON.stringify(value);
  return fields.length === 2 ? `{"type":"${type}"${V}}\n` : `{"type":"${type}"${V},${fields.slice(1)}\n`;
}

/** The `input` line: an input's summary (the analysis layer's InputSummary). */
export function ndjsonInput(summary: object): string {
  return line('input', summary);
}

/**
 * The `connection` line of a closed-out connection. Spelled field by field
 * (half the CPU of JSON.stringify's generic walk, measured on the bench
 * capture's records) for a record as toRecord makes it; the text is exactly
 * line('connection', rec) (test/ndjson.test.ts checks both on every record of
 * the bundled captures), because:
 * - the keys are written in ConnRecord's order, which is toRecord's;
 * - its strings need no escaping: addresses (hex digits, `.`, `:`), the uid
 *   (base62), the Community ID (base64 and `:`), the state, the history
 *   (letters and `^`), the end reason and the RST words are fixed alphabets
 *   without `"`, `\` or control characters;
 * - its numbers are finite (counters, frame numbers, ports; ts and duration
 *   are checked: JSON writes a non-finite number as null), and a finite
 *   number's text is the same in a template as in JSON.
 * A record with other keys (a capture set's, with its file references,
 * analysis/frame-refs.ts) goes the generic way.
 */
function connectionLine(r: ConnRecord): string {
  if (r.tunnel !== undefined || !Number.isFinite(r.ts) || !Number.isFinite(r.duration)) return line('connection', r);
  const set = r as SetRecord;
  if (set.firstFile !== undefined) return setConnectionLine(set);
  let s = `{"type":"connection"${V},"id":${r.id},"input":${r.input},"stream":${r.stream},"orig":{"ip":"${r.orig.ip}","port":${r.orig.port}},"resp":{"ip":"${r.resp.ip}","port":${r.resp.port}},"uid":"${r.uid}","communityId":"${r.communityId}","firstFrame":${r.firstFrame},"lastFrame":${r.lastFrame},"ts":${r.ts},"duration":${r.duration},"state":"${r.state}","history":"${r.history}","origPkts":${r.origPkts},"respPkts":${r.respPkts},"origIpBytes":${r.origIpBytes},"respIpBytes":${r.respIpBytes},"origBytes":${r.origBytes},"respBytes":${r.respBytes},"origRetransBytes":${r.origRetransBytes},"respRetransBytes":${r.respRetransBytes},"rsts":${r.rsts},"endReason":"${r.endReason}","resets":[`;
  const resets = r.resets;
  for (let i = 0; i < resets.length; i++) {
    const x = resets[i];
    s += `${i > 0 ? ',' : ''}{"frame":${x.frame},"from":"${x.from}","shape":"${x.shape}","acceptance":"${x.acceptance}"}`;
  }
  s += ']';
  if (r.seen !== undefined) s += `,"seen":"${r.seen}"`;
  if (r.missedBytes !== undefined) s += `,"missedBytes":${r.missedBytes}`;
  return `${s}${recordTail(r)}}\n`;
}

/** A capture set's record (analysis/frame-refs.ts localizeRecord): file names next to its frame numbers. */
type SetRecord = ConnRecord & { firstFile: string | null; lastFile: string | null; resets: (ConnRecord['resets'][number] & { file?: string | null })[] };

/** The keys a set's record has when localizeRecord spelled it (anything else: the generic way). */
const SET_KEYS = new Set([
  'id', 'input', 'stream', 'orig', 'resp', 'uid', 'communityId', 'firstFrame', 'firstFile', 'lastFrame', 'lastFile', 'ts',
  'duration', 'state', 'history', 'origPkts', 'respPkts', 'origIpBytes', 'respIpBytes', 'origBytes', 'respBytes', 'origRetransBytes', 'respRetransBytes',
  'rsts', 'endReason', 'resets', 'seen', 'missedBytes', 'ttl', 'handshakeMs', 'roles',
]);

/**
 * The record's `ttl`, `handshakeMs` and `roles` as JSON writes them (numbers:
 * TTLs are bytes, the halves finite; `roles` one of three fixed words).
 */
function recordTail(r: ConnRecord): string {
  let s = '';
  const t = r.ttl;
  if (t !== undefined) {
    s += ',"ttl":{';
    if (t.orig !== undefined) s += `"orig":[${t.orig[0]},${t.orig[1]}]`;
    if (t.resp !== undefined) s += `${t.orig !== undefined ? ',' : ''}"resp":[${t.resp[0]},${t.resp[1]}]`;
    s += '}';
  }
  const h = r.handshakeMs;
  if (h !== undefined) s += `,"handshakeMs":{"resp":${h.resp},"orig":${h.orig}}`;
  if (r.roles !== undefined) s += `,"roles":"${r.roles}"`;
  return s;
}

/**
 * connectionLine for a capture set's record: the same spelling with the file
 * names, which are paths as the user gave them and so go through
 * JSON.stringify (null when the frame is not in a file).
 */
function setConnectionLine(r: SetRecord): string {
  for (const k in r) if (!SET_KEYS.has(k)) return line('connection', r);
  let s = `{"type":"connection"${V},"id":${r.id},"input":${r.input},"stream":${r.stream},"orig":{"ip":"${r.orig.ip}","port":${r.orig.port}},"resp":{"ip":"${r.resp.ip}","port":${r.resp.port}},"uid":"${r.uid}","communityId":"${r.communityId}","firstFrame":${r.firstFrame},"firstFile":${pathJson(r.firstFile)},"lastFrame":${r.lastFrame},"lastFile":${pathJson(r.lastFile)},"ts":${r.ts},"duration":${r.duration},"state":"${r.state}","history":"${r.history}","origPkts":${r.origPkts},"respPkts":${r.respPkts},"origIpBytes":${r.origIpBytes},"respIpBytes":${r.respIpBytes},"origBytes":${r.origBytes},"respBytes":${r.respBytes},"origRetransBytes":${r.origRetransBytes},"respRetransBytes":${r.respRetransBytes},"rsts":${r.rsts},"endReason":"${r.endReason}","resets":[`;
  const resets = r.resets;
  for (let i = 0; i < resets.length; i++) {
    const x = resets[i];
    if (x.file === undefined) return line('connection', r);
    s += `${i > 0 ? ',' : ''}{"frame":${x.frame},"file":${pathJson(x.file)},"from":"${x.from}","shape":"${x.shape}","acceptance":"${x.acceptance}"}`;
  }
  s += ']';
  if (r.seen !== undefined) s += `,"seen":"${r.seen}"`;
  if (r.missedBytes !== undefined) s += `,"missedBytes":${r.missedBytes}`;
  return `${s}${recordTail(r)}}\n`;
}

/**
 * JSON.stringify of a set's file path (or null), remembered for the last path: a set has a few paths and a
 * record's references are mostly to one file, so the text is made once per change of file, not per reference.
 */
function pathJson(path: string | null): string {
  if (path === null) return 'null';
  if (path !== lastPath) {
    lastPath = path;
    lastPathJson = JSON.stringify(path);
  }
  return lastPathJson;
}
let lastPath: string | null = null;
let lastPathJson = 'null';

/** The `connection` line of a closed-out connection. */
export function ndjsonConnection(rec: ConnRecord): string {
  return connectionLine(rec);
}

/**
 * The `finding` line of one finding: its fixed fields spelled in Finding's
 * order (as rules/engine.ts makes it), the summary, `app` and `evidence` by
 * JSON.stringify; the text is exactly line('finding', f) (test/ndjson.test.ts
 * checks both on every finding of the bundled captures): the rule id,
 * severity, actor, uid and Community ID are fixed alphabets needing no
 * escaping; frames and the ids are finite integers (checked for the frames,
 * with ts). A finding with other keys (a capture set's file references)
 * goes the generic way.
 */
function findingLine(f: Finding): string {
  if ((f as { file?: unknown }).file !== undefined) return setFindingLine(f as SetFinding);
  if (!Number.isFinite(f.ts)) return line('finding', f);
  const frames = f.frames;
  let list = '';
  for (let i = 0; i < frames.length; i++) {
    const n = frames[i];
    if (typeof n !== 'number' || !Number.isFinite(n)) return line('finding', f);
    list += i > 0 ? `,${n}` : `${n}`;
  }
  return `{"type":"finding"${V},"rule":"${f.rule}","severity":"${f.severity}","connection":${f.connection},"input":${f.input},"stream":${f.stream},"uid":"${f.uid}","communityId":"${f.communityId}","frame":${f.frame},"frames":[${list}],"ts":${f.ts},"actor":"${f.actor}","summary":${JSON.stringify(f.summary)},"app":${JSON.stringify(f.app)},"evidence":${JSON.stringify(f.evidence)}}\n`;
}

/** A capture set's finding (analysis/frame-refs.ts localizeFinding): file names next to its frame numbers. */
type SetFinding = Finding & { file: string | null; frameFiles: (string | null)[] };

/** A set's finding's keys, in localizeFinding's order of them (anything else: the generic way). */
const SET_FINDING_KEYS = ['rule', 'severity', 'connection', 'input', 'stream', 'uid', 'communityId', 'frame', 'file',
  'frames', 'frameFiles', 'ts', 'actor', 'summary', 'app', 'evidence'];

/**
 * findingLine for a capture set's finding: the same spelling with the file names (pathJson). Exactly
 * line('finding', f) (test/ndjson.test.ts checks both over a set's findings): its keys are checked to be
 * SET_FINDING_KEYS in that order, its numbers finite.
 */
function setFindingLine(f: SetFinding): string {
  let k = 0;
  for (const key in f) if (key !== SET_FINDING_KEYS[k++]) return line('finding', f);
  if (k !== SET_FINDING_KEYS.length || !Number.isFinite(f.ts) || !Number.isFinite(f.frame)) return line('finding', f);
  const frames = f.frames;
  const files = f.frameFiles;
  if (!Array.isArray(files) || files.length !== frames.length) return line('finding', f);
  let list = '';
  let fileList = '';
  for (let i = 0; i < frames.length; i++) {
    const n = frames[i];
    const file = files[i];
    if (typeof n !== 'number' || !Number.isFinite(n) || (file !== null && typeof file !== 'string')) return line('finding', f);
    list += i > 0 ? `,${n}` : `${n}`;
    fileList += i > 0 ? `,${pathJson(file)}` : pathJson(file);
  }
  if (f.file !== null && typeof f.file !== 'string') return line('finding', f);
  return `{"type":"finding"${V},"rule":"${f.rule}","severity":"${f.severity}","connection":${f.connection},"input":${f.input},"stream":${f.stream},"uid":"${f.uid}","communityId":"${f.communityId}","frame":${f.frame},"file":${pathJson(f.file)},"frames":[${list}],"frameFiles":[${fileList}],"ts":${f.ts},"actor":"${f.actor}","summary":${JSON.stringify(f.summary)},"app":${JSON.stringify(f.app)},"evidence":${JSON.stringify(f.evidence)}}\n`;
}

/** The `finding` line of one finding. */
export function ndjsonFinding(f: Finding): string {
  return findingLine(f);
}

/** A connection's line followed by its findings' lines (analyze). */
export function ndjsonConnectionWithFindings(rec: ConnRecord, found: readonly Finding[]): string {
  let text = connectionLine(rec);
  for (const f of found) text += findingLine(f);
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
  let text = `{"type":"connection"${V},"id":\0,${json.slice(head.length)}\n`;
  for (const f of found) {
    const fConn = f.connection;
    f.connection = 0;
    f.stream = 0;
    const fl = JSON.stringify(f);
    f.connection = fConn;
    const fHead = `{"rule":${JSON.stringify(f.rule)},"severity":${JSON.stringify(f.severity)},"connection":`;
    const fMid = `0,"input":${f.input},"stream":0`;
    if (!fl.startsWith(fHead) || !fl.startsWith(fMid, fHead.length)) return null;
    text += `{"type":"finding"${V},${fHead.slice(1)}\0${fl.slice(fHead.length + fMid.length)}\n`;
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
