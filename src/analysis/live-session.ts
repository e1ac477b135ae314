/**
 * The analysis side of `rstscope live` (the command keeps flags, signals and
 * printing): frames from a live source go through an Analyzer as in
 * `analyze`, and findings are handed out as soon as they are decided.
 *
 * When a finding is handed out. The tracker closes a connection out on
 * Zeek's timers (5 s after a complete close, 5 min idle), which is too late
 * for a console. So, in addition, `tick(wallSec)` (the command calls it every
 * LIVE_TICK_MS):
 * - advances the tracker's clock to the wall clock minus ADVANCE_LAG_SEC
 *   (Tracker.advance, once a second), so expired timers close connections out
 *   while the wire is quiet (syn-unanswered after its 5 s attempt timer, idle
 *   timeouts);
 * - with `provisional`, evaluates the rules provisionally on every
 *   connection that is settled (a RST was seen, or both sides closed) and
 *   became quiet for SETTLE_SEC since the previous tick (found newest first
 *   via Tracker.forEachRecent, so the cost follows recent activity, not table
 *   size), and hands out the findings not handed out before (onFinding).
 *   Tracking is not changed by this: the connection stays in the table and is
 *   closed out on the same timers as in `analyze`, so records, ids and frame
 *   numbers are the same as `analyze` of the --write file. At the real
 *   close-out (onConnection) only findings not yet handed out follow.
 *   Worst-case delay from the deciding packet: SETTLE_SEC + LIVE_TICK_MS +
 *   capture delivery (~4 ms for tcpdump).
 * Known gap: if packets arrive after a provisional evaluation and change a
 * finding (its key frame or actor), both versions are handed out; `analyze`
 * of the saved capture shows only the final one.
 */
import type { FrameSink } from '../capture/frame.js';
import type { InputInfo } from '../capture/parser.js';
import { evaluateRules } from '../rules/engine.js';
import type { Finding } from '../rules/types.js';
import type { Connection } from '../tcp/connection.js';
import { EpState } from '../tcp/endpoint.js';
import { toRecord, type ConnRecord } from '../tcp/record.js';
import type { TrackerOptions } from '../tcp/tracker.js';
import { Analyzer, type AnalysisResult } from './pipeline.js';

/** how often the command calls tick() */
export const LIVE_TICK_MS = 100;
/** quiet time after the last packet of a settled connection before its findings are handed out */
const SETTLE_SEC = 0.3;
/** the tracker's clock trails the wall clock by this much, so no packet still in the pipe is older */
const ADVANCE_LAG_SEC = 1;
const ADVANCE_EVERY_SEC = 1;
/** connections are visited newest first down to the previous tick's window, minus this slack */
const RECENT_SLACK_SEC = 1;

export interface LiveSessionOptions extends Partial<TrackerOptions> {
  /** hand findings out as they are decided (table, ndjson); false: only in the result (json) */
  provisional: boolean;
  /** keep records and findings for the result (json) */
  keepRecords: boolean;
  /** every connection as it is closed out; with `provisional`, before its findings not yet handed out */
  onConnection?: (rec: ConnRecord) => void;
  /** a finding, once (provisionally decided or at close-out), with its connection's record at that time */
  onFinding?: (f: Finding, rec: ConnRecord) => void;
}

/** A connection whose end is on the wire: a RST, or both sides closed (or Zeek's close timer armed). */
function settled(c: Connection): boolean {
  return c.deleteAt !== Infinity || c.orig.state === EpState.Reset || c.resp.state === EpState.Reset
    || (c.orig.didClose && c.resp.didClose);
}

/** Findings are the same finding when rule, key frame and actor agree. */
function findingKey(f: Finding): string {
  return `${f.rule}|${f.frame}|${f.actor}`;
}

export class LiveSession {
  private readonly analyzer: Analyzer;
  /** finding keys handed out provisionally, per connection still in the table */
  private readonly printed = new WeakMap<Connection, Set<string>>();
  /** segment count at the last provisional evaluation, per connection */
  private readonly evaluatedAt = new WeakMap<Connection, number>();
  private lastAdvanceSec = 0;
  private lastTickSec = 0;
  /** connections closed out so far */
  connections = 0;

  constructor(private readonly opts: LiveSessionOptions) {
    this.analyzer = new Analyzer({
      ...opts,
      onConnection: (rec, found, c) => {
        this.connections++;
        if (!opts.provisional) return;
        opts.onConnection?.(rec);
        const seen = this.printed.get(c);
        this.printed.delete(c);
        this.evaluatedAt.delete(c); // the tracker reuses closed-out connection objects
        for (const f of found) if (!seen?.has(findingKey(f))) opts.onFinding?.(f, rec);
      },
    });
    this.analyzer.beginInput();
  }

  /** where the live source delivers frames */
  get onFrame(): FrameSink {
    return this.analyzer.onFrame;
  }

  /** The wall clock when capturing began (the first tick looks back from here). */
  started(wallSec: number): void {
    this.lastTickSec = wallSec;
  }

  /** Timers and provisional findings; call every LIVE_TICK_MS with the wall clock. */
  tick(wallSec: number): void {
    const tracker = this.analyzer.tracker;
    // the timer sweep walks the whole table: once a second is enough for timers of seconds
    if (wallSec - this.lastAdvanceSec >= ADVANCE_EVERY_SEC) {
      this.lastAdvanceSec = wallSec;
      tracker.advance(wallSec - ADVANCE_LAG_SEC);
    }
    if (!this.opts.provisional) return;
    // Connections that became quiet since the previous tick: newest first, stop
    // once past the previous tick's window (with slack for out-of-order stamps).
    const oldest = this.lastTickSec - SETTLE_SEC - RECENT_SLACK_SEC;
    this.lastTickSec = wallSec;
    tracker.forEachRecent((c) => {
      if (c.lastTime < oldest) return false;
      if (!settled(c) || wallSec - c.lastTime < SETTLE_SEC || this.evaluatedAt.get(c) === c.segments) return true;
      this.evaluatedAt.set(c, c.segments);
      const rec = toRecord(c);
      const found = evaluateRules(c, rec);
      if (found.length === 0) return true;
      let seen = this.printed.get(c);
      if (!seen) this.printed.set(c, (seen = new Set()));
      for (const f of found) {
        const k = findingKey(f);
        if (seen.has(k)) continue;
        seen.add(k);
        this.opts.onFinding?.(f, rec);
      }
      return true;
    });
  }

  /** Closes every connection out (their findings not yet handed out follow) and returns the run's result. */
  end(info: InputInfo): AnalysisResult {
    this.analyzer.endInput(info);
    return this.analyzer.result();
  }
}
