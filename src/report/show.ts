/**
 * `rstscope show FILE STREAM|UID`: one connection for the terminal, as plain
 * text: who and when, state and history (each letter said), its packets as a
 * ladder (the report's ladder model, collector.ts connectionLadder, drawn in
 * characters), every RST with its shape and acceptance, and the findings with
 * their evidence.
 */
import { rolesReason } from '../rules/mid-stream.js';
import type { Problem } from '../capture/problems.js';
import { TCP_RST } from '../decode/packet.js';
import type { Actor, Finding } from '../rules/types.js';
import type { ConnRecord } from '../tcp/record.js';
import { CONN_STATE_MEANING } from '../tcp/state.js';
import type { ConnectionLadder } from './collector.js';
import { duration, hostPort, rel, utc } from './format.js';
import { inputHeader, type InputSummary } from './input-summary.js';
import { ladderRows, segLabel } from './ladder.js';

export interface ShownConnection {
  rec: ConnRecord;
  findings: Finding[];
  ladder: ConnectionLadder;
}

export interface ShowModel {
  input: InputSummary | null;
  problems: Problem[];
  /** connections the tracker saw in the input */
  connections: number;
  /** the connection asked for, or null when the input has none such */
  conn: ShownConnection | null;
}

/** Zeek's history letters (upper case: originator, lower case: responder). */
const HISTORY_LETTERS: Record<string, string> = {
  s: 'SYN', h: 'SYN-ACK', a: 'pure ACK', d: 'data', f: 'FIN', r: 'RST', c: 'bad checksum', g: 'content gap',
  t: 'retransmitted data', w: 'zero window', i: 'inconsistent flags (SYN with RST)', q: 'several of SYN/FIN/RST at once',
  '^': 'roles flipped (the first packet was not a SYN from the originator)',
};

const SHAPES: Record<string, string> = {
  refusal: 'answers a SYN: no listener',
  socketless: 'bare RST at the ack of a segment the receiver had in flight: a kernel with no socket left for it',
  'live-socket': 'RST/ACK at the sender\'s next sequence number: sent by a live socket (abortive close)',
  other: 'none of the kernel shapes',
};

const ACCEPTANCES: Record<string, string> = {
  exact: 'at the sequence number the receiver expected: accepted, the receiver\'s connection is gone',
  'in-window': 'inside the receiver\'s window but not exact: answered with a challenge ACK (RFC 5961), not accepted',
  'out-of-window': 'outside the receiver\'s window: ignored',
  unknown: 'the receiver\'s window is not known',
};

/** "client", "server", "originator", "responder" */
function roleName(a: Actor): string {
  return a === 'orig' ? 'originator' : a === 'resp' ? 'responder' : a;
}

function historyLegend(history: string): string {
  const seen: string[] = [];
  for (const ch of history) {
    const key = ch === '^' ? ch : ch.toLowerCase();
    const who = ch === '^' ? '' : ch === ch.toUpperCase() ? ' (orig)' : ' (resp)';
    const item = `${ch} ${HISTORY_LETTERS[key] ?? '?'}${who}`;
    if (!seen.includes(item)) seen.push(item);
  }
  return seen.join(', ');
}

/** Arrow of `width` characters carrying `label`, pointing right (orig to resp) or left. */
function arrow(label: string, right: boolean, width: number): string {
  const text = ` ${label} `;
  const dashes = Math.max(4, width - text.length - 3);
  const before = right ? 2 : dashes - 2;
  const after = dashes - before;
  return right
    ? `|${'-'.repeat(before)}${text}${'-'.repeat(after)}>|`
    : `|<${'-'.repeat(before)}${text}${'-'.repeat(after)}|`;
}

const LADDER_WIDTH = 52;

function ladderLines(shown: ShownConnection): string[] {
  const { rec, ladder } = shown;
  const segs = ladder.segments;
  const keyFrames = new Set(shown.findings.map((f) => f.frame));
  const t0 = segs.length > 0 ? segs[0].ts : rec.ts;
  const left = `${roleName(ladder.origRole)} ${hostPort(rec.orig.ip, rec.orig.port)}`;
  const right = `${roleName(ladder.respRole)} ${hostPort(rec.resp.ip, rec.resp.port)}`;
  const lines = [`   frame  time       ${left.padEnd(LADDER_WIDTH - right.length)}${right}`];
  for (const row of ladderRows(segs, ladder.notStored)) {
    if ('gap' in row) {
      lines.push(`          ...        (${row.gap})`);
      continue;
    }
    const s = row.seg;
    let label = segLabel(s);
    if (s.retrans) label += ' retransmission';
    const mark = keyFrames.has(s.frame) ? '*' : ' ';
    lines.push(`${mark} ${String(s.frame).padStart(6)}  ${rel(s.ts - t0)}  ${arrow(label, s.fromOrig, LADDER_WIDTH)}`);
  }
  if (segs.length === 0) lines.push('   (no packets kept)');
  if (keyFrames.size > 0) lines.push('  * the frame a finding names first');
  return lines;
}

function evidenceLines(ev: Record<string, unknown>): string[] {
  return Object.entries(ev).map(([k, v]) => `      ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
}

/** The text of `show` for a connection that was found. */
export function renderShow(m: ShowModel): string {
  const shown = m.conn;
  const out: string[] = [];
  if (m.input) out.push(inputHeader(m.input).trimEnd());
  if (shown === null) return `${out.join('\n')}\n`;
  const { rec, findings, ladder } = shown;
  out.push('');
  out.push(`Connection ${hostPort(rec.orig.ip, rec.orig.port)} > ${hostPort(rec.resp.ip, rec.resp.port)} (IPv${ladder.ipVersion})`);
  out.push(`  stream ${rec.stream}   uid ${rec.uid}   community_id ${rec.communityId}`);
  out.push(`  originator: ${roleName(ladder.origRole)}, responder: ${roleName(ladder.respRole)}`
    + (rec.roles === undefined ? '' : `; no handshake captured: roles inferred from ${rolesReason(rec)}`));
  out.push(`  frames ${rec.firstFrame}-${rec.lastFrame}, from ${utc(rec.ts)} UTC for ${duration(rec.duration)}; record ended: ${rec.endReason}`);
  out.push(`  state ${rec.state}: ${CONN_STATE_MEANING[rec.state]}`);
  out.push(`  history ${rec.history || '(none)'}${rec.history ? `: ${historyLegend(rec.history)}` : ''}`);
  out.push(`  packets ${rec.origPkts} orig / ${rec.respPkts} resp; payload bytes ${rec.origBytes} / ${rec.respBytes}; retransmitted ${rec.origRetransBytes} / ${rec.respRetransBytes}`);
  out.push('');
  out.push(`Packets (${ladder.segments.length} of ${ladder.totalSegments} kept${ladder.notStored > 0 ? `; ${ladder.notStored} in the middle not kept` : ''})`);
  out.push(...ladderLines(shown));
  out.push('');
  const rsts = ladder.segments.filter((s) => (s.flags & TCP_RST) !== 0).length;
  out.push(`RSTs (${rec.rsts}${rec.resets.length < rec.rsts ? `, the first ${rec.resets.length} classified` : ''})`);
  if (rec.rsts === 0 && rsts === 0) out.push('  none');
  for (const r of rec.resets) {
    const from = r.from === 'orig' ? ladder.origRole : ladder.respRole;
    out.push(`  frame ${r.frame} from the ${roleName(from)}: shape ${r.shape} (${SHAPES[r.shape] ?? r.shape}); acceptance ${r.acceptance} (${ACCEPTANCES[r.acceptance] ?? r.acceptance})`);
  }
  out.push('');
  out.push(`Findings (${findings.length})`);
  if (findings.length === 0) out.push('  none: the rules consider this ending normal');
  for (const f of findings) {
    out.push(`  ${f.severity} ${f.rule}, frame ${f.frame} (frames ${f.frames.join(', ')}); by the ${roleName(f.actor)}`);
    out.push(`    ${f.summary}`);
    if (f.app.orig) out.push(`    ${roleName(ladder.origRole)} saw: ${f.app.orig}`);
    if (f.app.resp) out.push(`    ${roleName(ladder.respRole)} saw: ${f.app.resp}`);
    const ev = evidenceLines(f.evidence);
    if (ev.length > 0) out.push('    evidence:', ...ev);
    out.push(`    rstscope explain ${f.rule}`);
  }
  return `${out.join('\n')}\n`;
}
