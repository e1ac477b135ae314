/**
 * Where the capture stood (issue 14, item 7), as far as its records show:
 * both directions of its connections or one, capture loss, tunnels. Made from
 * the records of one input (ConnRecord.seen, missedBytes, tunnel), so it is
 * the same however the work was split (--workers). NDJSON output has no
 * input vantage: each record there carries the same facts.
 *
 * Known gap: whether the capture was taken at an endpoint or mid-path (the TTL
 * of one side untouched, a near-zero RTT on one side) is not inferred yet.
 */
import type { ConnRecord } from '../tcp/record.js';

export interface Vantage {
  connections: number;
  /** records that hold one direction's packets only (unanswered SYNs among them) */
  oneWay: number;
  /** records with capture loss, and the bytes missed in all */
  lossConnections: number;
  missedBytes: number;
  /** records carried in tunnels, and the tunnel kinds seen (outermost layer first, as `a in b`) */
  tunnelled: number;
  tunnelTypes: string[];
}

function emptyVantage(): Vantage {
  return { connections: 0, oneWay: 0, lossConnections: 0, missedBytes: 0, tunnelled: 0, tunnelTypes: [] };
}

/** Counts records by input as they close out (nothing kept but the counts). */
export class VantageCounter {
  private readonly byInput: Vantage[] = [];

  add(r: ConnRecord): void {
    const v = (this.byInput[r.input] ??= emptyVantage());
    v.connections++;
    if (r.seen !== undefined) v.oneWay++;
    if (r.missedBytes !== undefined) {
      v.lossConnections++;
      v.missedBytes += r.missedBytes;
    }
    if (r.tunnel !== undefined) {
      v.tunnelled++;
      const t = r.tunnel.map((l) => l.type).join('/');
      if (!v.tunnelTypes.includes(t)) v.tunnelTypes.push(t);
    }
  }

  /** The vantage of input `i` (no connections: all zero). */
  of(i: number): Vantage {
    return this.byInput[i] ?? emptyVantage();
  }
}

/** Something about the vantage a reader must know before trusting "no findings": one-way records, loss, tunnels. */
export function vantageNotable(v: Vantage): boolean {
  return v.oneWay > 0 || v.lossConnections > 0 || v.tunnelled > 0;
}

/** "both directions of all 12 connections; no capture loss seen" and the like, in one sentence. */
export function vantageSentence(v: Vantage): string {
  if (v.connections === 0) return 'no TCP connection seen';
  const parts: string[] = [];
  if (v.oneWay === 0) parts.push(`both directions of all ${v.connections} connection(s)`);
  else if (v.oneWay === v.connections) {
    parts.push(`one direction only of all ${v.connections} connection(s) (a one-sided tap, an asymmetric route, or attempts nobody answered): stories that need the other side are not told`);
  } else parts.push(`both directions of ${v.connections - v.oneWay} of ${v.connections} connection(s), one direction only of ${v.oneWay} (unanswered attempts, records a timer split, or packets that took another path)`);
  parts.push(v.lossConnections === 0 ? 'no capture loss seen'
    : `capture loss on ${v.lossConnections} connection(s): ${v.missedBytes} byte(s) acknowledged or skipped but never captured`);
  if (v.tunnelled > 0) parts.push(`${v.tunnelled} connection(s) inside tunnels (${v.tunnelTypes.join(', ')})`);
  return parts.join('; ');
}
