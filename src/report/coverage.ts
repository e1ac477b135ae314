/**
 * What the results cover, said where people look (the analyze table, the
 * Markdown and HTML reports), so that "no findings" is never read as "all
 * clear" when rstscope saw little or nothing:
 * - no input could be read (every input missing, a directory, not a capture):
 *   said instead of the totals, and at the top of a report;
 * - some inputs could not be read: said with the totals;
 * - packets that were not analyzed as TCP (other protocols, tunnels, link
 *   types or encapsulations not decoded, fragments, damaged headers), by
 *   reason, whenever they are at least NOT_TCP_SHARE of the packets (or no
 *   packet was TCP at all). JSON and NDJSON carry the same counts as data
 *   (`stats.skipped`).
 */
import type { Problem } from '../capture/problems.js';
import type { TrackerStats } from '../tcp/options.js';
import { MAX_TUNNEL_DEPTH } from '../decode/tunnel.js';

/** Share of all packets from which the packets not analyzed as TCP are told (1 %: a DNS lookup or two per connection stays below it only in busy TCP captures; a tunnel is far above it). */
export const NOT_TCP_SHARE = 0.01;

/** The reasons of `stats.skipped` (DECODE_REASONS) in words. */
const REASON_WORDS: Record<string, string> = {
  'not-tcp': 'IP but not TCP (UDP, ICMP, IPsec, or a tunnel rstscope does not open: docs/tunnels.md lists those it does)',
  'not-ip': 'not IP (ARP and other link-layer protocols, or an encapsulation rstscope does not decode)',
  'ip-fragment': 'IP fragments whose datagram never completed (or fragmented inside a tunnel)',
  'bad-tunnel-header': 'with a tunnel header that does not fit in the packet',
  'tunnel-too-deep': `nested in more than ${MAX_TUNNEL_DEPTH} tunnels`,
  'unsupported-link-type': 'of a link type rstscope does not decode',
  'truncated-link-header': 'cut inside the link-layer header',
  'truncated-ip-header': 'cut inside the IP header',
  'bad-ip-header': 'with an invalid IP header',
  'truncated-tcp-header': 'cut inside the TCP header',
  'bad-tcp-header': 'with an invalid TCP header',
  'bad-ipv6-extension-chain': 'with an IPv6 extension header chain that cannot be walked',
  'bad-checksum': 'with a bad checksum (--checksums)',
};

/**
 * "No input could be read (N of N inputs unreadable): nothing was analyzed."
 * when every input is unreadable (exit status 2); "K of N inputs could not be
 * read; the results cover the others only." when some are; null otherwise.
 */
export function unreadableSentence(problems: readonly Problem[], inputs: number): string | null {
  const unreadable = new Set(problems.filter((p) => p.kind === 'unreadable').map((p) => p.file)).size;
  if (unreadable === 0 || inputs === 0) return null;
  if (unreadable >= inputs) return `No input could be read (${unreadable} of ${inputs} input${inputs === 1 ? '' : 's'} unreadable): nothing was analyzed.`;
  return `${unreadable} of ${inputs} inputs could not be read; the results cover the others only.`;
}

/** True when no input could be read at all. */
export function nothingRead(problems: readonly Problem[], inputs: number): boolean {
  return unreadableSentence(problems, inputs)?.startsWith('No input') ?? false;
}

/**
 * "S of F packets (P%) were not analyzed as TCP: n1 reason1, n2 reason2." when
 * they are at least NOT_TCP_SHARE of the packets or no packet was TCP; null
 * otherwise.
 */
export function notTcpSentence(stats: Pick<TrackerStats, 'frames' | 'tcpSegments' | 'skipped'>): string | null {
  // fragments put back together are analyzed with the frame that completed their datagram
  const reasons = Object.entries(stats.skipped ?? {}).filter(([r, n]) => n > 0 && r !== 'reassembled-fragment').sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const skipped = reasons.reduce((a, [, n]) => a + n, 0);
  if (skipped === 0 || stats.frames === 0) return null;
  if (skipped < NOT_TCP_SHARE * stats.frames && stats.tcpSegments > 0) return null;
  const pct = (100 * skipped) / stats.frames;
  const shown = pct >= 1 ? String(Math.round(pct)) : pct.toFixed(1);
  return `${skipped} of ${stats.frames} packets (${shown}%) were not analyzed as TCP: `
    + `${reasons.map(([r, n]) => `${n} ${REASON_WORDS[r] ?? r}`).join('; ')}. No finding can come from them.`;
}
