/**
 * The tracker's options, defaults, counters and connection sink: types the
 * tracker and its rooms (flow-table.ts) share, in a file of their own so no
 * room imports the orchestrator (tracker.ts re-exports them).
 */
import type { Connection } from './connection.js';

export interface TrackerOptions {
  /** live connections kept at most; beyond, the longest-idle is closed out (evicted) */
  maxConnections: number;
  /** validate IP/TCP checksums; bad packets are counted and ignored as Zeek does */
  checksums: boolean;
  /** close out a connection idle this long (capture time) */
  inactivityTimeoutSec: number;
  /** drop a completely closed connection this long after its close */
  closeDelaySec: number;
  /** drop a half connection (peer never seen) this long after its close */
  partialCloseDelaySec: number;
  /** drop an unanswered SYN attempt this long after the SYN */
  attemptDelaySec: number;
  /** drop a connection this long after a RST (Zeek's tcp_reset_delay) */
  resetDelaySec: number;
  /**
   * an unanswered SYN whose retries stopped this long ago is closed out by the
   * sweep (Linux spaces SYN retries at most 64 s apart by default)
   */
  synRetryHorizonSec: number;
  /**
   * Analyze only the connections of one shard: those whose symmetric flow
   * hash modulo `shardCount` equals `shardIndex` (both directions of a
   * connection always land in the same shard). 1 shard = everything.
   */
  shardIndex: number;
  shardCount: number;
  /**
   * Keep the evidence the rules read: each connection's segment log (first and
   * last segments), teardown milestones, SYN times and full RST records. Off
   * (`flows`, which runs no rules), connections carry only what their record
   * says (docs/schema.md): state, history, counts and a summary of each RST;
   * records are the same either way. Measured on the 2 M-packet bench capture:
   * about a third less peak memory (see docs/performance.md).
   */
  evidence: boolean;
}

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = {
  // about 3-5 KB of memory per live connection: 50,000 keeps a 1 M-source flood near 325 MB;
  // raise it (--max-connections) for captures with more connections open at once
  maxConnections: 50_000,
  checksums: false,
  inactivityTimeoutSec: 300,
  closeDelaySec: 5,
  partialCloseDelaySec: 3,
  attemptDelaySec: 5,
  resetDelaySec: 5,
  synRetryHorizonSec: 70,
  shardIndex: 0,
  shardCount: 1,
  evidence: true,
};

export interface TrackerStats {
  frames: number;
  tcpSegments: number;
  /** frames that carried no analyzable TCP segment, by reason */
  skipped: Record<string, number>;
  connections: number;
  evicted: number;
  reused: number;
  timedOut: number;
  maxLive: number;
  badChecksums: number;
  /** TCP segments left to other shards (--shard) */
  otherShard: number;
  /** bytes the capture missed (ConnRecord.missedBytes summed over the connections closed out), and those connections */
  missedBytes: number;
  lossConnections: number;
}

export type ConnectionSink = (c: Connection) => void;
