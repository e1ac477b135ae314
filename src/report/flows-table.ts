/** Terminal table of connections (drawn like cli-table3's default style). */
import { tunnelLabel, type ConnRecord } from '../tcp/record.js';
import { frameRef, inputHeader, type InputSummary } from './input-summary.js';
import { vantageNotable, vantageSentence } from './vantage.js';
import { formatEndpoint } from '../tcp/address.js';
import { rolesLabel } from '../rules/mid-stream.js';
import { fitLines } from './wrap.js';

/**
 * UTC start time. Capture timestamps are untrusted: a pcapng timestamp can be
 * far outside Date's range (±8.64e15 ms), where toISOString() throws; those
 * print as raw seconds instead.
 */
function startTime(tsSec: number): string {
  const d = new Date(tsSec * 1000);
  if (Number.isNaN(d.getTime())) return `${tsSec} s`;
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

const HEAD = ['#', 'originator', 'responder', 'frames', 'start', 'dur s', 'state', 'history', 'pkts o/r', 'bytes o/r'];

/**
 * Longest history shown whole. Zeek repeats a letter for a repeated event
 * (a RST with a new sequence number adds another 'r'), so a RST storm on one
 * 4-tuple makes a history of hundreds of thousands of letters (measured:
 * 500,005 on bench-data/storm1m.pcap), and every row of a table is as wide as
 * its widest cell. The table shows the start and the length; JSON, NDJSON and
 * Zeek output carry the whole history.
 */
const MAX_HISTORY_CELL = 40;

function historyCell(h: string): string {
  return h.length <= MAX_HISTORY_CELL ? h : `${h.slice(0, 24)}... (${h.length} letters)`;
}

/** first-last frame; in a capture set FILE#N-FILE#N (the record names the files) */
function frames(r: ConnRecord): string {
  const set = r as ConnRecord & { firstFile?: string | null; lastFile?: string | null };
  return `${frameRef(r.firstFrame, set.firstFile)}-${frameRef(r.lastFrame, set.lastFile)}`;
}

function row(r: ConnRecord): string[] {
  return [
    String(r.stream), formatEndpoint(r.orig.ip, r.orig.port) + (r.roles === undefined ? '' : ` (roles: ${rolesLabel(r.roles)})`),
    formatEndpoint(r.resp.ip, r.resp.port) + (r.tunnel === undefined ? '' : ` (in ${tunnelLabel(r.tunnel)})`), frames(r),
    startTime(r.ts), r.duration.toFixed(3), r.state, historyCell(r.history),
    `${r.origPkts}/${r.respPkts}`, `${r.origBytes}/${r.respBytes}`,
  ];
}

/** A border line: left corner, a run of '─' per column joined by `mid`, right corner. */
function border(widths: number[], left: string, mid: string, right: string): string {
  return left + widths.map((w) => '─'.repeat(w + 2)).join(mid) + right + '\n';
}

function line(cells: string[], widths: number[]): string {
  let s = '│';
  for (let c = 0; c < cells.length; c++) s += ` ${cells[c].padEnd(widths[c])} │`;
  return s + '\n';
}

/** Columns left out, in this order, while the table is wider than the width it must fit in. */
const DROP_ORDER = [9, 8, 5, 3, 4];

/** Rows per piece of text handed to the writer. */
const ROWS_PER_PIECE = 2000;

/**
 * One table per input, as text in pieces (write each as it comes; the CLI
 * waits for stdout to drain between them): a header line, then the
 * connections, with the box-drawing lines of cli-table3's default style.
 *
 * Drawn here, not with cli-table3 (which the findings table uses): its layout
 * is quadratic in the rows (fillInTable checks every cell against all the rows
 * above it, for row spans; cli-table3 issue #68 is open about it). Measured:
 * 118 s for 26,073 connections (synth-p200000-c20000-s2.pcap), and past about
 * 120,000 rows `push.apply` overflows the call stack (the 1 M-RST storm ended
 * in "Maximum call stack size exceeded"). This is linear and byte-identical to
 * cli-table3's output (without rules between rows) on every capture checked. Every cell is ASCII
 * (addresses, numbers, Zeek letters; the file name is not in the table), so a
 * column's width is its longest text.
 *
 * Fits `width` characters per line: while the table is wider, the columns of
 * DROP_ORDER are left out (bytes, packets, duration, frames, start), and the
 * header says which (JSON and the other formats have them all). The address
 * columns are never left out: a table of long IPv6 addresses can stay wider.
 */
export function* flowsTable(inputs: InputSummary[], records: ConnRecord[], width = Number.POSITIVE_INFINITY): Generator<string> {
  for (let i = 0; i < inputs.length; i++) {
    const inp = inputs[i];
    const rows = records.filter((r) => r.input === i);
    let head = inputHeader(inp, `, ${rows.length} TCP connections`);
    for (const w of inp.warnings) head += `  warning: ${w}\n`;
    if (inp.vantage !== undefined && vantageNotable(inp.vantage)) head += `  vantage: ${vantageSentence(inp.vantage)}\n`;
    if (rows.length === 0) {
      yield head;
      continue;
    }
    const widths = HEAD.map((h) => h.length);
    for (const r of rows) {
      const cells = row(r);
      for (let c = 0; c < cells.length; c++) if (cells[c].length > widths[c]) widths[c] = cells[c].length;
    }
    const keep = HEAD.map((_h, c) => c);
    const total = (): number => keep.reduce((n, c) => n + widths[c] + 3, 1);
    const dropped: string[] = [];
    for (const c of DROP_ORDER) {
      if (total() <= width) break;
      keep.splice(keep.indexOf(c), 1);
      dropped.push(HEAD[c]);
    }
    if (dropped.length > 0) head += `  (left out to fit ${width} characters: ${dropped.join(', ')}; --width or -f json for all)\n`;
    const pick = <T>(cells: readonly T[]): T[] => keep.map((c) => cells[c]);
    const shown = pick(widths);
    let text = (Number.isFinite(width) ? fitLines(head, width) : head) + border(shown, '┌', '┬', '┐') + line(pick(HEAD), shown);
    for (let n = 0; n < rows.length; n++) {
      text += line(pick(row(rows[n])), shown);
      if ((n + 1) % ROWS_PER_PIECE === 0) {
        yield text;
        text = '';
      }
    }
    yield text + border(shown, '└', '┴', '┘');
  }
}
