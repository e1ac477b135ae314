/**
 * Inline SVG for the HTML report: the ladder (sequence) diagram of one worked
 * example and the timeline of findings over the capture.
 *
 * Guarantees: the output is static SVG (no script, no external reference, no
 * element ids, so any number of diagrams can share one page); every string
 * taken from a capture goes through `esc`. Arrowheads are drawn as polygons
 * rather than <marker> elements for the same reason (marker ids are global).
 */
import { HEAD_SEGMENTS } from '../tcp/connection.js';
import { TCP_FIN, TCP_RST, TCP_SYN } from '../decode/packet.js';
import { SEVERITIES_WORST_FIRST } from '../rules/types.js';
import { esc } from './escape.js';
import { duration, flagNames, hostPort, rel } from './format.js';
import type { Example, LadderSeg, ReportModel } from './model.js';

export const SEV_COLOR = { error: '#b42318', warning: '#b54708', info: '#175cd3' } as const;

const W = 900;
const X_LEFT = 210;
const X_RIGHT = 610;
const X_NOTES = 628;
const ROW = 38;
const GAP_ROW = 30;
const TOP = 84;
const SLOPE = 14;

function color(s: LadderSeg): string {
  if (s.flags & TCP_RST) return '#c0262d';
  if (s.flags & TCP_FIN) return '#1d4ed8';
  if (s.flags & TCP_SYN) return '#0f766e';
  return '#475467';
}

function arrowHead(x2: number, y2: number, x1: number, y1: number): string {
  const len = Math.hypot(x2 - x1, y2 - y1);
  const ux = (x2 - x1) / len;
  const uy = (y2 - y1) / len;
  const bx = x2 - ux * 10;
  const by = y2 - uy * 10;
  const px = -uy * 4.5;
  const py = ux * 4.5;
  return `${f1(x2)},${f1(y2)} ${f1(bx + px)},${f1(by + py)} ${f1(bx - px)},${f1(by - py)}`;
}

function f1(n: number): string {
  return (Math.round(n * 10) / 10).toString();
}

function clip(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

export function segLabel(s: LadderSeg): string {
  let t = `${flagNames(s.flags)}  seq=${s.seqRel}`;
  if (s.ackRel >= 0) t += ` ack=${s.ackRel}`;
  t += ` len=${s.len}`;
  if (s.win === 0 && !(s.flags & TCP_RST)) t += ' win=0';
  return t;
}

/** A ladder's rows: its packets, with a gap row where the tracker kept no segments (SVG here, text in show.ts). */
export type LadderRow = { seg: LadderSeg } | { gap: string };

export function ladderRows(segs: LadderSeg[], notStored: number): LadderRow[] {
  const rows: LadderRow[] = [];
  let prevFrame = 0;
  const headLen = Math.min(segs.length, HEAD_SEGMENTS);
  for (let i = 0; i < segs.length; i++) {
    if (i === headLen && notStored > 0 && i > 0) {
      rows.push({ gap: `${notStored} segment(s) of this connection between frames ${prevFrame} and ${segs[i].frame} not kept` });
    }
    rows.push({ seg: segs[i] });
    prevFrame = segs[i].frame;
  }
  if (notStored > 0 && segs.length <= headLen) rows.push({ gap: `${notStored} later segment(s) not kept` });
  return rows;
}

/** The ladder diagram of a worked example: orig lane left, resp lane right, one arrow per stored packet. */
export function ladderSvg(ex: Example, severity: keyof typeof SEV_COLOR): string {
  const segs = ex.segments;
  const key = ex.finding.frame;
  const t0 = segs.length ? segs[0].ts : ex.rec.ts;
  const rows = ladderRows(segs, ex.notStored);
  let h = TOP;
  for (const r of rows) h += 'gap' in r ? GAP_ROW : ROW;
  h += 16;
  const o = ex.rec.orig;
  const r = ex.rec.resp;
  const sev = SEV_COLOR[severity];
  let svg = `<svg class="ladder" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img" aria-label="${esc(`Packet ladder of ${hostPort(o.ip, o.port)} and ${hostPort(r.ip, r.port)}`)}">`;
  // lane heads
  const lane = (x: number, role: string, ep: string) =>
    `<g class="lane"><rect x="${x - 150}" y="8" width="300" height="44" rx="6" fill="#f2f4f7" stroke="#d0d5dd"/>`
    + `<text x="${x}" y="26" text-anchor="middle" class="lane-role">${esc(role)}</text>`
    + `<text x="${x}" y="44" text-anchor="middle" class="lane-ep">${esc(ep)}</text>`
    + `<line x1="${x}" y1="52" x2="${x}" y2="${h - 8}" stroke="#98a2b3" stroke-width="1.5"/></g>`;
  svg += lane(X_LEFT, ex.origRole, hostPort(o.ip, o.port));
  svg += lane(X_RIGHT, ex.respRole, hostPort(r.ip, r.port));
  svg += `<text x="8" y="70" class="col-head">frame</text><text x="64" y="70" class="col-head">time (s)</text>`;
  let y = TOP;
  for (const row of rows) {
    if ('gap' in row) {
      svg += `<g class="gap"><rect x="${X_LEFT - 60}" y="${y + 4}" width="${X_RIGHT - X_LEFT + 120}" height="${GAP_ROW - 10}" fill="#fff" stroke="none"/>`
        + `<text x="${(X_LEFT + X_RIGHT) / 2}" y="${y + 18}" text-anchor="middle" class="gap-text">⋯ ${esc(row.gap)} ⋯</text></g>`;
      y += GAP_ROW;
      continue;
    }
    const s = row.seg;
    const isKey = s.frame === key;
    const x1 = s.fromOrig ? X_LEFT : X_RIGHT;
    const x2 = s.fromOrig ? X_RIGHT : X_LEFT;
    const ya = y + 12;
    const yb = ya + SLOPE;
    const c = isKey ? sev : color(s);
    const label = segLabel(s);
    const dir = s.fromOrig ? `${ex.origRole} → ${ex.respRole}` : `${ex.respRole} → ${ex.origRole}`;
    let tip = `frame ${s.frame}, ${rel(s.ts - t0)} s, ${dir}: ${label}`;
    if (s.retrans) tip += ' (retransmission)';
    if (s.payload !== undefined) tip += `, payload "${s.payload}${s.payloadMore ? '…' : ''}"`;
    svg += `<g class="pkt${isKey ? ' key' : ''}" data-frame="${s.frame}"><title>${esc(tip)}</title>`;
    if (isKey) svg += `<rect x="2" y="${y}" width="${W - 4}" height="${ROW - 2}" rx="4" fill="${sev}" fill-opacity="0.08" stroke="${sev}" stroke-opacity="0.5"/>`;
    svg += `<text x="8" y="${ya + 9}" class="frame-no">${s.frame}</text>`
      + `<text x="64" y="${ya + 9}" class="time">${esc(rel(s.ts - t0))}</text>`;
    svg += `<line x1="${x1}" y1="${ya}" x2="${f1(x2 + (x2 > x1 ? -2 : 2))}" y2="${yb}" stroke="${c}" stroke-width="${isKey ? 2.6 : 1.6}"${s.retrans ? ' stroke-dasharray="6 4"' : ''}/>`;
    svg += `<polygon points="${arrowHead(x2, yb, x1, ya)}" fill="${c}"/>`;
    const lx = (X_LEFT + X_RIGHT) / 2;
    svg += `<text x="${lx}" y="${ya - 4}" text-anchor="middle" class="pkt-label${isKey ? ' key-label' : ''}" fill="${c}">${esc(label)}</text>`;
    const notes: string[] = [];
    if (isKey) notes.push('◀ key packet');
    if (s.retrans) notes.push('retransmission');
    if (s.payload !== undefined) notes.push(`“${clip(s.payload, 30)}${s.payloadMore && s.payload.length <= 30 ? '…' : ''}”`);
    if (notes.length) svg += `<text x="${X_NOTES}" y="${ya + 9}" class="note${isKey ? ' key-note' : ''}"${isKey ? ` fill="${sev}"` : ''}>${esc(notes.join('  '))}</text>`;
    svg += '</g>';
    y += ROW;
  }
  svg += '</svg>';
  return svg;
}

/** Bars of findings per time bin, stacked by severity (error at the bottom). */
export function timelineSvg(model: ReportModel): string {
  const tl = model.timeline;
  if (!tl) return '';
  const w = 900;
  const h = 190;
  const x0 = 56;
  const x1 = w - 16;
  const y0 = 16;
  const y1 = 146;
  const n = tl.bins.length;
  const bw = (x1 - x0) / n;
  const max = Math.max(1, tl.max);
  const scale = (y1 - y0) / max;
  let svg = `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="Findings over capture time">`;
  svg += `<line x1="${x0}" y1="${y1}" x2="${x1}" y2="${y1}" stroke="#667085"/>`;
  svg += `<line x1="${x0}" y1="${y0}" x2="${x1}" y2="${y0}" stroke="#eaecf0" stroke-dasharray="3 3"/>`;
  svg += `<text x="${x0 - 6}" y="${y0 + 4}" text-anchor="end" class="axis">${max}</text>`;
  svg += `<text x="${x0 - 6}" y="${y1 + 4}" text-anchor="end" class="axis">0</text>`;
  for (let i = 0; i < n; i++) {
    const b = tl.bins[i];
    const total = b.error + b.warning + b.info;
    if (total === 0) continue;
    let y = y1;
    const x = x0 + i * bw + (n > 1 ? 1 : bw * 0.4);
    const width = n > 1 ? Math.max(1, bw - 2) : bw * 0.2;
    const tip = `${rel(b.start - tl.start)} s to ${rel(b.end - tl.start)} s: ${total} finding(s) (${b.error} error, ${b.warning} warning, ${b.info} info)`;
    svg += `<g class="bar" data-count="${total}"><title>${esc(tip)}</title>`;
    for (const sev of SEVERITIES_WORST_FIRST) {
      if (b[sev] === 0) continue;
      const hh = Math.max(1, b[sev] * scale);
      y -= hh;
      svg += `<rect x="${f1(x)}" y="${f1(y)}" width="${f1(width)}" height="${f1(hh)}" fill="${SEV_COLOR[sev]}"/>`;
    }
    svg += '</g>';
  }
  const span = tl.end - tl.start;
  const ticks = span > 0 ? [0, 0.25, 0.5, 0.75, 1] : [0];
  for (const t of ticks) {
    const x = span > 0 ? x0 + t * (x1 - x0) : x0 + (x1 - x0) / 2;
    svg += `<line x1="${f1(x)}" y1="${y1}" x2="${f1(x)}" y2="${y1 + 5}" stroke="#667085"/>`;
    svg += `<text x="${f1(x)}" y="${y1 + 18}" text-anchor="${t === 0 && span > 0 ? 'start' : t === 1 ? 'end' : 'middle'}" class="axis">+${t === 0 ? '0 s' : esc(duration(t * span))}</text>`;
  }
  svg += `<text x="${(x0 + x1) / 2}" y="${h - 6}" text-anchor="middle" class="axis-title">time since the first packet (${n} bins of ${esc(duration(span / n || 0))})</text>`;
  svg += '</svg>';
  return svg;
}
