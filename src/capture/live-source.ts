/**
 * What every live capture backend shares (the LiveSource contract, LiveError,
 * defaults, the stop-time drain, hints): the backends (live-tcpdump.ts,
 * live-cap.ts) import it from here and live.ts, which picks a backend,
 * re-exports it, so no backend imports the module that imports it.
 * Guarantees of a source: see live.ts.
 */
import { readdir } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import type { FrameSink } from './frame.js';
import type { InputInfo } from './parser.js';

export type LiveBackend = 'tcpdump' | 'cap';

export interface LiveOptions {
  interface: string;
  /** BPF filter expression (pcap-filter(7)); empty for everything */
  filter: string;
  /** bytes kept per packet (headers are all the rules need) */
  snaplenBytes: number;
  /** kernel capture buffer */
  bufferKiB: number;
  /** stop after this many packets */
  count?: number;
  /** also save the raw capture here (pcap) */
  writePath?: string;
  sink: FrameSink;
  /** called when the kernel drop count grows (total so far) */
  onDrops?: (totalDrops: number) => void;
}

export interface LiveSource {
  readonly backend: LiveBackend;
  readonly info: InputInfo;
  /** kernel drops so far; null when the backend cannot tell */
  readonly drops: number | null;
  /** resolves once packets are being captured; rejects with LiveError on start-up failure */
  start(): Promise<void>;
  /** resolves when the source has ended by itself (--count reached, capture process gone) */
  readonly ended: Promise<void>;
  /** stops capturing; resolves once every captured frame was delivered and `info` is final */
  stop(): Promise<void>;
  /** kills the capture at once (error paths, process exit); never throws */
  kill(): void;
}

/** A start-up failure with a message that says what to do (exit status 2). */
export class LiveError extends Error {}

export const DEFAULT_SNAPLEN_BYTES = 256;

/**
 * Stopping drains first: neither tcpdump (pcap_breakloop on SIGINT) nor
 * libpcap's close hands over packets still in the kernel ring, and those are
 * not counted as drops. So a stop waits until no packet has arrived for
 * DRAIN_QUIET_MS (at most DRAIN_MAX_MS under continuous traffic) before it
 * ends the capture.
 */
export const DRAIN_QUIET_MS = 200;
export const DRAIN_MAX_MS = 3000;

/** Resolves once `lastDataAt()` is DRAIN_QUIET_MS in the past, or after DRAIN_MAX_MS. */
export function drainQuiet(lastDataAt: () => number): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const check = (): void => {
      const now = Date.now();
      const quietFor = now - lastDataAt();
      if (quietFor >= DRAIN_QUIET_MS || now - t0 >= DRAIN_MAX_MS) resolve();
      else setTimeout(check, Math.min(DRAIN_QUIET_MS - quietFor, DRAIN_MAX_MS - (now - t0)) + 1);
    };
    check();
  });
}
export const DEFAULT_BUFFER_KIB = 64 * 1024;
/**
 * cap captures 65535 bytes per packet, so each ring slot is large: measured
 * here, 64 MiB lost 1-9% of a 50,000-datagram loopback burst, 256 MiB none.
 */
export const DEFAULT_CAP_BUFFER_KIB = 256 * 1024;

/** Interface names on this machine (Linux /sys/class/net), sorted; empty when unknown. */
export async function listInterfaces(): Promise<string[]> {
  try {
    return (await readdir('/sys/class/net')).sort();
  } catch {
    return Object.keys(networkInterfaces()).sort();
  }
}

export const PERMISSION_HINT = 'capturing needs root or CAP_NET_RAW (and CAP_NET_ADMIN for the kernel buffer size): run as root, or grant them to the capture program once, e.g. `sudo setcap cap_net_raw,cap_net_admin=eip "$(command -v tcpdump)"`';
