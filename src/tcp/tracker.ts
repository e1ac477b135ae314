/**
 * The TCP tracker: per packet, find or create the connection, account the
 * segment as Zeek does, record evidence for the rules, run the state machine
 * and apply what it returns. Each job lives in its own file:
 * - flow-hash.ts: the symmetric 4-tuple hash (also used to shard work);
 * - flow-table.ts: lookup, creation and roles, close-out, pool, eviction, sweep;
 * - timers.ts: the capture clock, deadline queues, the idle order;
 * - accounting.ts: Zeek's per-segment accounting (sequence bases, history, ...);
 * - evidence.ts: what the rules read (nothing for `flows`: NullRecorder);
 * - state-machine.ts: Zeek's endpoint state machine, returning actions;
 * - segment-log.ts, rst-summary.ts, history.ts, milestones.ts: packed layouts.
 *
 * Semantics follow Zeek's TCP analyzer (TCPSessionAdapter: UpdateStateMachine,
 * IsReuse, WantConnection, update_history) so that conn_state and history can
 * be checked against Zeek's own verdicts (see docs/conformance.md). All timers
 * run on capture time, never on the wall clock.
 */
import type { Frame } from '../capture/frame.js';
import { DECODE_REASONS, DecodeResult, type Packet } from '../decode/packet.js';
import { Accounting } from './accounting.js';
import type { Connection } from './connection.js';
import { DEFAULT_TRACKER_OPTIONS, type ConnectionSink, type TrackerOptions, type TrackerStats } from './options.js';
import { EvidenceRecorder, NullRecorder } from './evidence.js';
import { flowHash } from './flow-hash.js';
import { FlowTable } from './flow-table.js';
import { SegmentArena } from './segment-log.js';
import {
  ACT_ARM_ATTEMPT, ACT_ARM_CLOSE, ACT_ARM_PARTIAL_CLOSE, ACT_ARM_RESET, ACT_FLIP, ACT_NOT_PARTIAL, step,
} from './state-machine.js';
import { Clock } from './timers.js';

export { flowHash } from './flow-hash.js';

export { DEFAULT_TRACKER_OPTIONS, type ConnectionSink, type TrackerOptions, type TrackerStats } from './options.js';

export class Tracker {
  readonly opts: TrackerOptions;
  readonly stats: TrackerStats;
  private readonly clock = new Clock();
  private readonly table: FlowTable;
  private readonly accounting: Accounting;

  constructor(sink: ConnectionSink, opts: Partial<TrackerOptions> = {}) {
    this.opts = { ...DEFAULT_TRACKER_OPTIONS, ...opts };
    const skipped: Record<string, number> = {};
    this.stats = {
      frames: 0, tcpSegments: 0, skipped, connections: 0, evicted: 0, reused: 0, timedOut: 0, maxLive: 0, badChecksums: 0,
      otherShard: 0, missedBytes: 0, lossConnections: 0,
    };
    const evidence = this.opts.evidence;
    this.table = new FlowTable(sink, this.opts, this.stats, this.clock, evidence ? new SegmentArena() : null);
    this.accounting = new Accounting(this.clock, evidence ? new EvidenceRecorder(this.clock) : new NullRecorder(),
      this.opts.checksums, this.stats);
  }

  get liveConnections(): number {
    return this.table.liveConnections;
  }

  /** Starts a new input file: frame numbers and stream indexes restart. Call flush() between files. */
  beginInput(index: number): void {
    this.table.beginInput(index);
  }

  /** Counts a decoded frame in stats: every frame, and by reason those that carried no analyzable TCP segment. */
  countFrame(res: DecodeResult): void {
    this.stats.frames++;
    if (res !== DecodeResult.Tcp) {
      const reason = DECODE_REASONS[res];
      this.stats.skipped[reason] = (this.stats.skipped[reason] ?? 0) + 1;
    }
  }

  /**
   * Counts the frame that completed a reassembled datagram of `frames`
   * fragment frames (src/decode/defrag.ts), decoded as `res`: its earlier
   * fragments, counted as ip-fragment when they came, move to
   * reassembled-fragment (analyzed with this frame); this frame counts as
   * its datagram's result.
   */
  countReassembled(frames: number, res: DecodeResult): void {
    const skipped = this.stats.skipped;
    const earlier = frames - 1;
    if (earlier > 0) {
      skipped['ip-fragment'] -= earlier;
      if (skipped['ip-fragment'] === 0) delete skipped['ip-fragment'];
      skipped['reassembled-fragment'] = (skipped['reassembled-fragment'] ?? 0) + earlier;
    }
    this.countFrame(res);
  }

  /** Tracks one decoded TCP segment `p` of frame `f` (decodeFrame returned DecodeResult.Tcp). */
  processPacket(p: Packet, f: Frame): void {
    this.stats.tcpSegments++;
    this.clock.now = f.tsSec + f.tsNsec / 1e9;
    const table = this.table;
    const hash = flowHash(p);
    table.current(p, hash, f.frameNo);
    table.sweep();

    if (this.opts.shardCount > 1 && hash % this.opts.shardCount !== this.opts.shardIndex) {
      this.stats.otherShard++;
      return;
    }
    const c = table.find(hash, p, f.tsSec, f.frameNo) ?? table.create(hash, p, f);
    // a connection from an address and port to itself counts as from the originator
    const fromOrig = table.sentByOrig(c, p);
    if (!this.accounting.deliver(c, fromOrig, p, f)) return;
    this.apply(c, step(fromOrig ? c.orig : c.resp, fromOrig ? c.resp : c.orig, fromOrig, p.flags, p.seq, p.payloadLen));
  }

  /** Does what the state machine returned (src/tcp/state-machine.ts), in Zeek's order. */
  private apply(c: Connection, result: number): void {
    if (result & ACT_ARM_ATTEMPT) this.table.armAttempt(c);
    if (result & ACT_FLIP) {
      c.partial = false;
      c.flip();
    }
    if (result & ACT_NOT_PARTIAL) c.partial = false;
    const table = this.table;
    if (result & ACT_ARM_PARTIAL_CLOSE) table.armDelete(c, this.opts.partialCloseDelaySec, table.partialCloseTimers);
    else if (result & ACT_ARM_CLOSE) table.armDelete(c, this.opts.closeDelaySec, table.closeTimers);
    if (result & ACT_ARM_RESET) table.armDelete(c, this.opts.resetDelaySec, table.resetTimers);
  }

  /** Closes out every live connection (end of input). */
  flush(): void {
    this.table.flush();
  }

  /**
   * flush() in pieces: closes out at most `max` live connections; returns true
   * once every connection is closed out (the caller may collect garbage or let
   * output drain between pieces: the end of a large input closes out tens of
   * thousands of connections at once). Do not process frames until it returned true.
   */
  flushStep(max: number): boolean {
    return this.table.flushStep(max);
  }

  /**
   * Live capture (src/cli/commands/live.ts): runs the timer sweep at capture time
   * `nowSec` although no packet arrived, so connections whose close, attempt or
   * idle timers expired are closed out while the wire is quiet. Same timers
   * and outcome as the packet-driven sweep; the caller passes a time no later
   * than any packet still in flight (it lags the wall clock).
   */
  advance(nowSec: number): void {
    this.clock.now = nowSec;
    this.table.sweep();
  }

  /**
   * Live capture: visits live connections most recently active first, until
   * `fn` returns false. `fn` must not change tracker state.
   */
  forEachRecent(fn: (c: Connection) => boolean): void {
    this.table.forEachRecent(fn);
  }
}
