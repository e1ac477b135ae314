/** Terminal table of connections (cli-table3). */
import Table from 'cli-table3';
import type { ConnRecord } from '../tcp/record.js';
import type { InputSummary } from '../cli/pipeline.js';
import { formatEndpoint } from '../tcp/address.js';

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

export function flowsTable(inputs: InputSummary[], records: ConnRecord[]): string {
  let out = '';
  for (let i = 0; i < inputs.length; i++) {
    const inp = inputs[i];
    const rows = records.filter((r) => r.input === i);
    out += `${inp.file}: ${inp.format}, ${inp.linkTypes.join('+') || 'no link type'}, ${inp.packets} packets, ${rows.length} TCP connections\n`;
    for (const w of inp.warnings) out += `  warning: ${w}\n`;
    if (rows.length === 0) continue;
    const t = new Table({
      head: ['#', 'originator', 'responder', 'frames', 'start', 'dur s', 'state', 'history', 'pkts o/r', 'bytes o/r'],
      style: { head: [], border: [] },
    });
    for (const r of rows) {
      t.push([
        r.stream, formatEndpoint(r.orig.ip, r.orig.port), formatEndpoint(r.resp.ip, r.resp.port), `${r.firstFrame}-${r.lastFrame}`,
        startTime(r.ts), r.duration.toFixed(3), r.state, r.history,
        `${r.origPkts}/${r.respPkts}`, `${r.origBytes}/${r.respBytes}`,
      ]);
    }
    out += t.toString() + '\n';
  }
  return out;
}
