/**
 * Zeek conn.log-compatible TSV (the ASCII writer's format: #separator, #fields,
 * #types header lines and #close), so zeek-cut and Zeek log tooling read it.
 * Columns Zeek has and rstscope does not compute are written as '-' (unset).
 * `community_id` is the last column, as Zeek's community-id package adds it;
 * `uid` is the record's (Zeek's format, reproducible: src/tcp/community-id.ts).
 */
import type { ConnRecord } from '../tcp/record.js';

const FIELDS = [
  'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'service', 'duration', 'orig_bytes',
  'resp_bytes', 'conn_state', 'local_orig', 'local_resp', 'missed_bytes', 'history', 'orig_pkts', 'orig_ip_bytes',
  'resp_pkts', 'resp_ip_bytes', 'tunnel_parents', 'community_id',
];
const TYPES = [
  'time', 'string', 'addr', 'port', 'addr', 'port', 'enum', 'string', 'interval', 'count', 'count', 'string', 'bool',
  'bool', 'count', 'string', 'count', 'count', 'count', 'count', 'set[string]', 'string',
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
    `#fields\t${FIELDS.join('\t')}`,
    `#types\t${TYPES.join('\t')}`,
  ].join('\n') + '\n';
}

export function zeekFooter(now = new Date()): string {
  return `#close\t${zeekTime(now)}\n`;
}

export function zeekLine(r: ConnRecord): string {
  return [
    r.ts.toFixed(6), r.uid, r.orig.ip, r.orig.port, r.resp.ip, r.resp.port, 'tcp', '-', r.duration.toFixed(6),
    r.origBytes, r.respBytes, r.state, '-', '-', r.missedBytes ?? 0, r.history || '-', r.origPkts, '-', r.respPkts, '-', '-', r.communityId,
  ].join('\t') + '\n';
}
