/**
 * Formatting helpers of the reports (HTML, Markdown, SVG): times, durations,
 * endpoints, TCP flags, payload previews, numbers, Wireshark filters. They
 * return plain text; each writer escapes it for its format (escape.ts).
 */
import { TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from '../decode/packet.js';
import { formatEndpoint } from '../tcp/address.js';
import type { Group } from './model.js';

/** "192.0.2.1:443", "[2001:db8::1]:443" */
export const hostPort = formatEndpoint;

/** "SYN/ACK", "FIN/PSH/ACK", "RST/ACK" (Wireshark-like order: SYN, FIN, RST, PSH, URG, ACK, ECE, CWR). */
export function flagNames(flags: number): string {
  const parts: string[] = [];
  if (flags & TCP_SYN) parts.push('SYN');
  if (flags & TCP_FIN) parts.push('FIN');
  if (flags & TCP_RST) parts.push('RST');
  if (flags & TCP_PSH) parts.push('PSH');
  if (flags & TCP_URG) parts.push('URG');
  if (flags & TCP_ACK) parts.push('ACK');
  if (flags & TCP_ECE) parts.push('ECE');
  if (flags & TCP_CWR) parts.push('CWR');
  return parts.join('/') || '(none)';
}

/** Payload bytes as one line of text (src/decode/bytes.ts, where the tracker uses it too). */
export { previewText } from '../decode/bytes.js';

/** A count with thousands separators: "102,053". */
export function num(n: number): string {
  return n.toLocaleString('en-US');
}

/** UTC "2026-11-29 23:08:21.123456" */
export function utc(tsSec: number): string {
  const ms = Math.floor(tsSec * 1000);
  const us = Math.round((tsSec - Math.floor(tsSec)) * 1e6) % 1e6;
  const d = new Date(ms);
  // capture timestamps are untrusted: beyond Date's range toISOString() throws
  if (Number.isNaN(d.getTime())) return `${tsSec} s`;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}.${String(us).padStart(6, '0')}`;
}

/** A duration for people: "0.25 µs", "412 µs", "12.345 ms", "3.210 s", "2 h 03 min". */
export function duration(sec: number): string {
  const a = Math.abs(sec);
  if (a === 0) return '0 s';
  if (a < 1e-5) return `${(sec * 1e6).toFixed(2)} µs`;
  if (a < 1e-3) return `${Math.round(sec * 1e6)} µs`;
  if (a < 1) return `${(sec * 1e3).toFixed(3)} ms`;
  if (a < 120) return `${sec.toFixed(3)} s`;
  if (a < 7200) return `${Math.floor(a / 60)} min ${String(Math.floor(a % 60)).padStart(2, '0')} s`;
  return `${Math.floor(a / 3600)} h ${String(Math.floor((a % 3600) / 60)).padStart(2, '0')} min`;
}

/** Relative time in a connection: "+0.000000 s" style, fixed 6 decimals so columns align. */
export function rel(sec: number): string {
  return `${sec < 0 ? '-' : '+'}${Math.abs(sec).toFixed(6)}`;
}

/** Wireshark display filters for a worked example / group. */
export function wiresharkFilters(g: Group): { stream: string; key: string; frames: string; group: string } {
  const f = g.example?.finding;
  const frames = f ? f.frames.slice(0, 50) : [];
  return {
    stream: f ? `tcp.stream eq ${f.stream}` : '',
    key: f ? `frame.number == ${f.frame}` : '',
    frames: frames.length > 1 ? `frame.number in {${frames.join(' ')}}` : '',
    group: g.streams.length > 1 ? `tcp.stream in {${g.streams.join(' ')}}` : '',
  };
}

/** Describes an endpoint pair of a group: "192.0.2.1 > 198.51.100.2:443". */
export function groupEndpoints(g: Group): string {
  const o = g.origPorts.size === 1 ? hostPort(g.origIp, [...g.origPorts][0]) : g.origIp;
  return `${o} > ${hostPort(g.respIp, g.respPort)}`;
}
