/**
 * Packet times for people, in the formats of tshark's `-t` (the subset that
 * names one moment; tshark's delta formats have no meaning for a finding):
 * - `r`  seconds relative to the input's first packet ("12.345678"), tshark's default;
 * - `a`  local time of day ("23:08:21.123456");
 * - `ad` local date and time ("2026-11-29 23:08:21.123456");
 * - `u`  UTC time of day; `ud` UTC date and time;
 * - `e`  seconds since the epoch ("1795995011.900359").
 * Microsecond precision, as tshark prints pcap times. A time outside Date's
 * range (capture times are untrusted) prints as seconds.
 */
export const TIME_FORMATS = ['r', 'a', 'ad', 'u', 'ud', 'e'] as const;
export type TimeFormat = typeof TIME_FORMATS[number];

function p2(n: number): string {
  return String(n).padStart(2, '0');
}

/** `ts` (seconds since the epoch) in format `fmt`; `origin` is the first packet's time for `r` (null: 0 s). */
export function formatTime(ts: number, fmt: TimeFormat, origin: number | null = null): string {
  if (fmt === 'e') return ts.toFixed(6);
  if (fmt === 'r') return (origin === null ? 0 : ts - origin).toFixed(6);
  const micros = Math.round(ts * 1e6);
  const sec = Math.floor(micros / 1e6);
  const d = new Date(sec * 1000);
  if (Number.isNaN(d.getTime())) return ts.toFixed(6);
  const us = String(micros - sec * 1e6).padStart(6, '0');
  const utc = fmt === 'u' || fmt === 'ud';
  const h = utc ? d.getUTCHours() : d.getHours();
  const m = utc ? d.getUTCMinutes() : d.getMinutes();
  const s = utc ? d.getUTCSeconds() : d.getSeconds();
  const time = `${p2(h)}:${p2(m)}:${p2(s)}.${us}`;
  if (fmt === 'a' || fmt === 'u') return time;
  const date = utc
    ? `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}`
    : `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}`;
  return `${date} ${time}`;
}
