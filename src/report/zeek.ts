/**
 * Zeek conn.log output in Zeek's two log formats, from one column list:
 * - TSV (the ASCII writer's format: #separator, #fields, #types header lines
 *   and #close), so zeek-cut and Zeek log tooling read it;
 * - JSON lines (the ASCII writer with LogAscii::use_json, JSON::TS_EPOCH):
 *   one object per connection, Zeek's field names (`id.orig_h` ...), times and
 *   intervals as numbers of seconds, unset fields left out as Zeek does.
 * Columns Zeek has and rstscope does not compute (service, local_orig,
 * local_resp, tunnel_parents) are unset: '-' in TSV, absent in JSON.
 * `community_id` is the last column, as Zeek's community-id package adds it;
 * `uid` is the record's (Zeek's format, reproducible: src/tcp/community-id.ts).
 * Known gap of the JSON form: Zeek prints a double with up to 6 decimals and
 * trailing zeros trimmed; JSON.stringify prints the shortest text of the same
 * number (the value read back is the same, the text may differ).
 */
import type { ConnRecord } from '../tcp/record.js';

type Cell = string | number | undefined;

/** name, Zeek type, value (undefined: unset) */
const COLUMNS: readonly (readonly [string, string, (r: ConnRecord) => Cell])[] = [
  ['ts', 'time', (r) => r.ts],
  ['uid', 'string', (r) => r.uid],
  ['id.orig_h', 'addr', (r) => r.orig.ip],
  ['id.orig_p', 'port', (r) => r.orig.port],
  ['id.resp_h', 'addr', (r) => r.resp.ip],
  ['id.resp_p', 'port', (r) => r.resp.port],
  ['proto', 'enum', () => 'tcp'],
  ['service', 'string', () => undefined],
  ['duration', 'interval', (r) => r.duration],
  ['orig_bytes', 'count', (r) => r.origBytes],
  ['resp_bytes', 'count', (r) => r.respBytes],
  ['conn_state', 'string', (r) => r.state],
  ['local_orig', 'bool', () => undefined],
  ['local_resp', 'bool', () => undefined],
  ['missed_bytes', 'count', (r) => r.missedBytes ?? 0],
  ['history', 'string', (r) => r.history || undefined],
  ['orig_pkts', 'count', (r) => r.origPkts],
  ['orig_ip_bytes', 'count', (r) => r.origIpBytes],
  ['resp_pkts', 'count', (r) => r.respPkts],
  ['resp_ip_bytes', 'count', (r) => r.respIpBytes],
  ['tunnel_parents', 'set[string]', () => undefined],
  ['community_id', 'string', (r) => r.communityId],
];

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function zeekTime(d: Date): string {
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}-${pad2(d.getUTCHours())}-${pad2(d.getUTCMinutes())}-${pad2(d.getUTCSeconds())}`;
}

export function zeekHeader(now = new Date()): string {
  return [
    '#separator \\x09',
    '#set_separator\t,',
    '#empty_field\t(empty)',
    '#unset_field\t-',
    '#path\tconn',
    `#open\t${zeekTime(now)}`,
    `#fields\t${COLUMNS.map((c) => c[0]).join('\t')}`,
    `#types\t${COLUMNS.map((c) => c[1]).join('\t')}`,
  ].join('\n') + '\n';
}

export function zeekFooter(now = new Date()): string {
  return `#close\t${zeekTime(now)}\n`;
}

/** One conn.log TSV line: unset '-', times and intervals with 6 decimals. */
export function zeekLine(r: ConnRecord): string {
  let s = '';
  for (let i = 0; i < COLUMNS.length; i++) {
    const [, type, get] = COLUMNS[i];
    const v = get(r);
    s += `${i > 0 ? '\t' : ''}${v === undefined ? '-' : type === 'time' || type === 'interval' ? (v as number).toFixed(6) : v}`;
  }
  return s + '\n';
}

/** One conn.log JSON line (Zeek's JSON log: `_path` and `_write_ts` are not written, as in Zeek's files). */
export function zeekJsonLine(r: ConnRecord): string {
  const o: Record<string, Cell> = {};
  for (const [name, , get] of COLUMNS) {
    const v = get(r);
    if (v !== undefined) o[name] = v;
  }
  return JSON.stringify(o) + '\n';
}
