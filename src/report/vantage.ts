/**
 * Where the capture stood (issue 14, item 7), as far as its records show:
 * both directions of its connections or one, capture loss, tunnels. Made from
 * the records of one input (ConnRecord.seen, missedBytes, tunnel), so it is
 * the same however the work was split (--workers). NDJSON output has no
 * input vantage: each record there carries the same facts.
 *
 * Whether the capture was taken at an endpoint or mid-path is summed from
 * each record's position (src/report/position.ts, which says what it cannot
 * tell), with the evidence: the TTLs seen per side and the range of the
 * handshake halves.
 */
import type { ConnRecord } from '../tcp/record.js';
import { positionOf, sameHost } from './position.js';

/** distinct TTL values kept per side as evidence */
const MAX_TTLS = 8;

/** The capture's position and what it rests on. */
export interface VantagePosition {
  /** endpoint: every placed connection was captured at one of its ends; mid-path: every one between; else unknown */
  at: 'endpoint' | 'mid-path' | 'unknown';
  /** connections captured at the originator's end, the responder's, both (loopback, one link), mid-path, not placed */
  orig: number;
  resp: number;
  both: number;
  /** of `both`: one host talking to itself (loopback addresses, or one address at both ends) */
  sameHost: number;
  midPath: number;
  unknown: number;
  /** TTL / hop limit values seen on each side's non-RST packets (at most MAX_TTLS each, ascending) */
  ttl: { orig: number[]; resp: number[] };
  /** handshakes seen whole, and the range of their halves in ms ([lowest, highest]; null when none) */
  handshakes: number;
  handshakeMs: { resp: [number, number]; orig: [number, number] } | null;
}

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
  position: VantagePosition;
}

function emptyVantage(): Vantage {
  return {
    connections: 0, oneWay: 0, lossConnections: 0, missedBytes: 0, tunnelled: 0, tunnelTypes: [],
    position: {
      at: 'unknown', orig: 0, resp: 0, both: 0, sameHost: 0, midPath: 0, unknown: 0, ttl: { orig: [], resp: [] }, handshakes: 0, handshakeMs: null,
    },
  };
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
    addPosition(v.position, r);
  }

  /** The vantage of input `i` (no connections: all zero). */
  of(i: number): Vantage {
    return this.byInput[i] ?? emptyVantage();
  }
}

function addPosition(p: VantagePosition, r: ConnRecord): void {
  const where = positionOf(r);
  if (where === null) p.unknown++;
  else if (where === 'mid') p.midPath++;
  else p[where]++;
  if (where === 'both' && sameHost(r)) p.sameHost++;
  const placed = p.orig + p.resp + p.both;
  p.at = placed > 0 && p.midPath === 0 ? 'endpoint' : p.midPath > 0 && placed === 0 ? 'mid-path' : 'unknown';
  if (r.ttl?.orig !== undefined) addTtls(p.ttl.orig, r.ttl.orig);
  if (r.ttl?.resp !== undefined) addTtls(p.ttl.resp, r.ttl.resp);
  const h = r.handshakeMs;
  if (h !== undefined) {
    p.handshakes++;
    const m = p.handshakeMs;
    if (m === null) p.handshakeMs = { resp: [h.resp, h.resp], orig: [h.orig, h.orig] };
    else {
      widen(m.resp, h.resp);
      widen(m.orig, h.orig);
    }
  }
}

function addTtls(seen: number[], t: [number, number]): void {
  for (const v of t[0] === t[1] ? [t[0]] : t) {
    if (seen.includes(v) || seen.length >= MAX_TTLS) continue;
    seen.push(v);
    seen.sort((a, b) => a - b);
  }
}

function widen(range: [number, number], v: number): void {
  if (v < range[0]) range[0] = v;
  if (v > range[1]) range[1] = v;
}

/** Something about the vantage a reader must know before trusting "no findings": one-way records, loss, tunnels. */
export function vantageNotable(v: Vantage): boolean {
  return v.oneWay > 0 || v.lossConnections > 0 || v.tunnelled > 0 || v.position.at === 'mid-path';
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
  parts.push(positionSentence(v.position));
  return parts.join('; ');
}

/**
 * "taken at an endpoint: at the originator's end of all 3 connection(s) (TTLs
 * originators 64, responders 57; 3 handshake(s): SYN to SYN-ACK 20-21 ms,
 * SYN-ACK to ACK 0.02 ms)" and the like.
 */
export function positionSentence(p: VantagePosition): string {
  const placed = p.orig + p.resp + p.both;
  const of = (n: number): string => (n === placed + p.midPath + p.unknown ? `all ${n}` : `${n} of ${placed + p.midPath + p.unknown}`);
  let where: string;
  if (p.at === 'endpoint') {
    const ends: string[] = [];
    const why = p.sameHost === p.both ? 'one host talking to itself' : p.sameHost === 0 ? 'both hosts on the capture\'s own link, no router between'
      : 'one host talking to itself, or both hosts on the capture\'s own link';
    if (p.both > 0) ends.push(`at both ends of ${of(p.both)} connection(s) (${why})`);
    if (p.orig > 0) ends.push(`at the originator's end of ${of(p.orig)} connection(s)`);
    if (p.resp > 0) ends.push(`at the responder's end of ${of(p.resp)} connection(s)`);
    where = `taken at an endpoint: ${ends.join(', ')}`;
  } else if (p.at === 'mid-path') where = `taken mid-path (between the hosts) for ${of(p.midPath)} connection(s)`;
  else if (placed + p.midPath === 0) where = `position not inferred for ${of(p.unknown)} connection(s): no untouched TTL and no whole handshake to tell by, or the two disagree`;
  else where = `position unclear: ${placed} connection(s) place the capture at an endpoint, ${p.midPath} mid-path, ${p.unknown} not at all`;
  const ev: string[] = [];
  if (p.ttl.orig.length > 0 || p.ttl.resp.length > 0) ev.push(`TTLs originators ${ttlText(p.ttl.orig)}, responders ${ttlText(p.ttl.resp)}`);
  if (p.handshakeMs !== null) {
    ev.push(`${p.handshakes} handshake(s): SYN to SYN-ACK ${msRange(p.handshakeMs.resp)} ms, SYN-ACK to ACK ${msRange(p.handshakeMs.orig)} ms`);
  }
  return ev.length > 0 ? `${where} (${ev.join('; ')})` : where;
}

function ttlText(t: number[]): string {
  return t.length === 0 ? 'none (RSTs not counted)' : t.length >= MAX_TTLS ? `${t.join(', ')}, ...` : t.join(', ');
}

function msRange(r: [number, number]): string {
  return r[0] === r[1] ? String(r[0]) : `${r[0]}-${r[1]}`;
}
