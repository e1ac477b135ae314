/**
 * Selection: which packets reach the tracker (--filter, --since, --until)
 * and which connections and findings are handed out (--stream, --uid, --rule,
 * --min-severity). Options are plain data (they cross into worker threads);
 * the CLI checks them before (src/cli/options.ts), so nothing here fails.
 *
 * Packets: a frame outside [since, until) is dropped before decoding, as
 * `editcap -A SINCE -B UNTIL` would; a TCP segment the filter does not select
 * is dropped after decoding, as `tcpdump -r FILE -w - EXPR` would. Dropped
 * frames are not counted in stats (frames that are not TCP are counted as
 * before: the filter only sees TCP segments). Frame numbers stay the file's.
 */
import type { Frame } from '../capture/frame.js';
import type { Packet } from '../decode/packet.js';
import { SEVERITY_RANK, type Finding, type Severity } from '../rules/types.js';
import type { ConnRecord } from '../tcp/record.js';
import { compileFilter, type PacketFilter } from './bpf-compile.js';
import { parseFilter } from './bpf-parse.js';

/** A time bound: absolute (seconds since the epoch) or relative to the input's first frame. */
export interface TimeBound {
  relative: boolean;
  sec: number;
  nsec: number;
}

export interface PacketSelection {
  /** a tcpdump filter expression (bpf-parse.ts: the supported subset) */
  filter?: string;
  /** frames at or after this time */
  since?: TimeBound;
  /** frames before this time */
  until?: TimeBound;
}

export interface RecordSelection {
  /** connections with one of these stream numbers (per input) */
  streams?: number[];
  /** connections with one of these uids */
  uids?: string[];
  /** findings of these rules only */
  rules?: string[];
  /** findings at or above this severity only */
  minSeverity?: Severity;
}

export function hasPacketSelection(s: PacketSelection | undefined): s is PacketSelection {
  return s !== undefined && (s.filter !== undefined || s.since !== undefined || s.until !== undefined);
}

export function hasRecordSelection(s: RecordSelection | undefined): s is RecordSelection {
  return s !== undefined && (s.streams !== undefined || s.uids !== undefined || s.rules !== undefined || s.minSeverity !== undefined);
}

/** What the packet selection left out, over the run (AnalysisResult.selection). */
export interface SelectionCounts {
  /** frames outside [since, until) */
  outsideTime: number;
  /** TCP segments inside the time window that the filter did not select */
  filteredOut: number;
  /** TCP segments selected (given to the tracker) */
  selected: number;
}

/** The packet selection of one run: call beginInput() per input, then inWindow() before decoding and filter after. */
export class PacketGate {
  readonly filter: PacketFilter | null;
  private sinceSec = -Infinity;
  private sinceNsec = 0;
  private untilSec = Infinity;
  private untilNsec = 0;
  private resolved = false;
  readonly counts: SelectionCounts = { outsideTime: 0, filteredOut: 0, selected: 0 };

  constructor(private readonly sel: PacketSelection) {
    if (sel.filter === undefined) this.filter = null;
    else {
      const parsed = parseFilter(sel.filter);
      if (!parsed.ok) throw new Error(`--filter was not checked: ${parsed.error}`); // the CLI checks it first
      this.filter = compileFilter(parsed.node);
    }
  }

  beginInput(): void {
    this.resolved = false;
  }

  /** Bounds of the current input, relative ones from its first frame `f`. */
  private resolve(f: Frame): void {
    this.resolved = true;
    const at = (b: TimeBound): [number, number] => {
      if (!b.relative) return [b.sec, b.nsec];
      const ns = f.tsNsec + b.nsec;
      return [f.tsSec + b.sec + Math.floor(ns / 1e9), ns % 1e9];
    };
    if (this.sel.since) [this.sinceSec, this.sinceNsec] = at(this.sel.since);
    if (this.sel.until) [this.untilSec, this.untilNsec] = at(this.sel.until);
  }

  /** Is frame `f` inside [since, until)? */
  inWindow(f: Frame): boolean {
    if (!this.resolved) this.resolve(f);
    const s = f.tsSec;
    if ((s < this.sinceSec || (s === this.sinceSec && f.tsNsec < this.sinceNsec))
      || (s > this.untilSec || (s === this.untilSec && f.tsNsec >= this.untilNsec))) {
      this.counts.outsideTime++;
      return false;
    }
    return true;
  }

  /** Is the decoded TCP segment `p` of `f` selected by the filter? */
  selects(p: Packet, f: Frame): boolean {
    if (this.filter === null || this.filter(p, f)) {
      this.counts.selected++;
      return true;
    }
    this.counts.filteredOut++;
    return false;
  }
}

/**
 * The findings to hand out with `rec`, or null when the connection itself is
 * not selected (--stream, --uid).
 */
export function selectRecord(sel: RecordSelection, rec: ConnRecord, found: Finding[]): Finding[] | null {
  if (sel.streams !== undefined && !sel.streams.includes(rec.stream)) return null;
  if (sel.uids !== undefined && !sel.uids.includes(rec.uid)) return null;
  const rules = sel.rules;
  const min = sel.minSeverity === undefined ? -1 : SEVERITY_RANK[sel.minSeverity];
  if (rules === undefined && min < 0) return found;
  return found.filter((x) => (rules === undefined || rules.includes(x.rule)) && SEVERITY_RANK[x.severity] >= min);
}
