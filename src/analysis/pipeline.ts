/**
 * The analysis pipeline: capture -> decode -> tcp -> rules -> records.
 * `Analyzer` takes frames from any source (file readers, live capture) and
 * hands out connection records and findings as connections close out. Every
 * input has its own frame numbering; connections do not span inputs. An
 * input is one file, or a set of files read as one capture
 * (capture/capture-set.ts): frames are then numbered over the merged stream
 * and each record and finding names its frames by file and that file's frame
 * number as it is handed out (frame-refs.ts).
 * Results are data; the CLI decides how to print them and the exit code.
 * The building block of every run: analyze() (analyze.ts) over capture
 * files, each --workers lane (worker.ts), the live session (live-session.ts).
 */
import type { Frame } from '../capture/frame.js';
import { decodeFrame, FRAGMENT_AT } from '../decode/decoder.js';
import { Defragmenter } from '../decode/defrag.js';
import { DecodeResult, newPacket, type Packet } from '../decode/packet.js';
import type { FrameMap } from '../capture/capture-set.js';
import type { InputInfo } from '../capture/parser.js';
import { summarizeInput, summarizeSet, type InputSummary } from '../report/input-summary.js';
import type { Connection } from '../tcp/connection.js';
import { toRecord, type ConnRecord } from '../tcp/record.js';
import { Tracker, type TrackerOptions, type TrackerStats } from '../tcp/tracker.js';
import { evaluateRules, type Finding } from '../rules/engine.js';
import { localizeFinding, localizeRecord, mergedKeyFrame } from './frame-refs.js';
import { governMemory } from './memory.js';
import {
  hasPacketSelection, hasRecordSelection, PacketGate, selectRecord, type PacketSelection, type RecordSelection,
  type SelectionCounts,
} from './select.js';

export type { InputSummary } from '../report/input-summary.js';

export interface AnalysisResult {
  inputs: InputSummary[];
  infos: InputInfo[];
  connections: ConnRecord[];
  findings: Finding[];
  stats: TrackerStats;
  /** with --filter, --since or --until: what they left out (select.ts) */
  selection?: SelectionCounts;
}

export interface PipelineOptions extends Partial<TrackerOptions> {
  /** called for every connection as it is closed out, with its findings */
  onConnection?: (rec: ConnRecord, findings: Finding[], c: Connection) => void;
  /**
   * Like onConnection, without the connection, in a defined order: by the
   * frame at which each connection was closed out, then by its first frame
   * (the end-of-input flush closes out by first frame). This is the order
   * `--workers N` merges in, so streamed output is byte-identical with and
   * without workers. Records closed out by one frame are held until that
   * frame is done (usually none or one).
   */
  onConnectionInOrder?: (rec: ConnRecord, findings: Finding[]) => void;
  /** keep records and findings in the result (false for streaming output) */
  keepRecords?: boolean;
  /** evaluate teardown rules (default true) */
  rules?: boolean;
  /** called when an input has been read and its connections closed out */
  onInputEnd?: (summary: InputSummary, info: InputInfo) => void;
  /** which frames reach the tracker (--filter, --since, --until; select.ts) */
  packets?: PacketSelection;
  /** which connections and findings are handed out (--stream, --uid, --rule, --min-severity; select.ts) */
  records?: RecordSelection;
}

/**
 * Sorts records and findings into the canonical output order (input, first
 * frame, id; findings by key frame). In a capture set (`sets`), frames are
 * each file's own, so the merged numbers decide: a record's id is its
 * creation order (by first frame), a finding's merged key frame is kept in
 * mergedKeyFrame.
 */
export function sortResults(connections: ConnRecord[], findings: Finding[], sets = false): void {
  if (sets) connections.sort((a, b) => a.input - b.input || a.id - b.id);
  else connections.sort((a, b) => a.input - b.input || a.firstFrame - b.firstFrame || a.id - b.id);
  const key = sets ? (f: Finding) => mergedKeyFrame.get(f) ?? f.frame : null;
  findings.sort((a, b) => a.input - b.input || (key === null ? a.frame - b.frame : key(a) - key(b)) || a.connection - b.connection || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0));
}

/** A closed-out record held until its close frame is done, with its merged first frame. */
interface Held {
  rec: ConnRecord;
  found: Finding[];
  first: number;
}

const byFirstFrame = (a: Held, b: Held): number => a.first - b.first;

/** Runs of a set's frame map held at least before they are pruned (capture/capture-set.ts FrameMap). */
const MIN_PRUNE_RUNS = 4096;

export class Analyzer {
  readonly tracker: Tracker;
  readonly connections: ConnRecord[] = [];
  readonly findings: Finding[] = [];
  readonly inputs: InputSummary[] = [];
  readonly infos: InputInfo[] = [];
  private firstTs: number | null = null;
  /** last frame's time, kept as integers: the float is made once per input, not per frame */
  private lastSec = 0;
  private lastNsec = 0;
  private inputIndex = -1;
  /** the one decoded-packet view, reused for every frame (the tracker copies what it keeps) */
  private readonly packet: Packet = newPacket();
  /** bound once: the per-frame callback for readers. The engine decodes; the tracker receives decoded TCP segments. */
  readonly onFrame = (f: Frame): void => {
    if (this.firstTs === null) this.firstTs = f.tsSec + f.tsNsec / 1e9;
    this.lastSec = f.tsSec;
    this.lastNsec = f.tsNsec;
    const tracker = this.tracker;
    const gate = this.gate;
    if (gate !== null && !gate.inWindow(f)) return;
    const res = decodeFrame(f, this.packet, tracker.opts);
    if (res === DecodeResult.Fragment) {
      this.fragment(f);
    } else {
      if (gate !== null && res === DecodeResult.Tcp && !gate.selects(this.packet, f)) return;
      tracker.countFrame(res);
      if (res === DecodeResult.Tcp) tracker.processPacket(this.packet, f);
    }
    if (this.held.length > 0) this.release();
  };
  /** IP reassembly (src/decode/defrag.ts): only fragments reach it */
  private readonly defrag = new Defragmenter();

  /** A fragment: held; when it completes a datagram, the datagram is decoded and tracked as this frame. */
  private fragment(f: Frame): void {
    const tracker = this.tracker;
    const whole = this.defrag.add(f, FRAGMENT_AT);
    if (whole === null) {
      tracker.countFrame(DecodeResult.Fragment);
      return;
    }
    const res = decodeFrame(whole, this.packet, tracker.opts);
    tracker.countReassembled(this.defrag.lastFrames, res);
    const gate = this.gate;
    if (res === DecodeResult.Tcp && (gate === null || gate.selects(this.packet, whole))) tracker.processPacket(this.packet, whole);
  }

  /** records closed out during the current frame (or flush piece), for onConnectionInOrder */
  private readonly held: Held[] = [];
  /** the current input's frame map when it is a set of several files (null: one file, frames are its own) */
  private frameMap: FrameMap | null = null;
  private pruneAt = MIN_PRUNE_RUNS;
  /** some input was a set of several files (sortResults orders by merged frames) */
  private sets = false;
  /** --filter, --since, --until (null: every frame) */
  private readonly gate: PacketGate | null;

  private release(): void {
    const held = this.held;
    if (held.length > 1) held.sort(byFirstFrame);
    const cb = this.opts.onConnectionInOrder!;
    for (const h of held) cb(h.rec, h.found);
    held.length = 0;
  }

  constructor(private readonly opts: PipelineOptions = {}) {
    const keep = opts.keepRecords !== false;
    const rules = opts.rules !== false;
    const inOrder = opts.onConnectionInOrder !== undefined;
    this.gate = hasPacketSelection(opts.packets) ? new PacketGate(opts.packets) : null;
    const select = hasRecordSelection(opts.records) ? opts.records : null;
    this.tracker = new Tracker((c) => {
      let rec = toRecord(c);
      let found = rules ? evaluateRules(c, rec) : [];
      const map = this.frameMap;
      if (map !== null) {
        rec = localizeRecord(rec, map);
        found = found.map((f) => localizeFinding(f, map));
      }
      if (select !== null) {
        const kept = selectRecord(select, rec, found);
        if (kept === null) return;
        found = kept;
      }
      if (keep) {
        this.connections.push(rec);
        for (const f of found) this.findings.push(f);
      }
      opts.onConnection?.(rec, found, c);
      if (inOrder) this.held.push({ rec, found, first: c.firstFrame });
    }, { ...opts, evidence: opts.evidence ?? rules }); // no rules, no evidence for them to read
  }

  /**
   * Starts the next input; `frameMap` when it is a set of several files
   * (frames come numbered over the merged stream, records name file and frame).
   */
  beginInput(frameMap: FrameMap | null = null): number {
    this.inputIndex++;
    this.tracker.beginInput(this.inputIndex);
    this.gate?.beginInput();
    this.firstTs = null;
    this.frameMap = frameMap;
    this.pruneAt = MIN_PRUNE_RUNS;
    if (frameMap !== null) this.sets = true;
    return this.inputIndex;
  }

  /** What --filter, --since and --until left out so far (null without them). */
  get selection(): SelectionCounts | null {
    return this.gate === null ? null : this.gate.counts;
  }

  /** Some input was a set of several files (for sortResults). */
  get hadSets(): boolean {
    return this.sets;
  }

  /**
   * Between reads of a set: lets the frame map go of the runs before the
   * first frame of every live connection (no record can name them any more),
   * when it has grown; the walk over live connections is paid once per
   * doubling, so memory follows live connections, not the number of files.
   */
  pruneFrameMap(): void {
    const map = this.frameMap;
    if (map === null || map.runs < this.pruneAt) return;
    let min = Infinity;
    this.tracker.forEachRecent((c) => {
      if (c.firstFrame < min) min = c.firstFrame;
      return true;
    });
    map.pruneBefore(min); // none live: all but the current run
    this.pruneAt = Math.max(MIN_PRUNE_RUNS, 2 * map.runs);
  }

  /** Closes out the input's connections and records its summary. */
  endInput(info: InputInfo): void {
    this.flushInput();
    this.infos.push(info);
    const lastTs = this.firstTs === null ? null : this.lastSec + this.lastNsec / 1e9;
    const summary = summarizeInput(info, this.firstTs, lastTs);
    this.inputs.push(summary);
    this.opts.onInputEnd?.(summary, info);
  }

  /** endInput for a set of several files: one summary for the set, with each file's (`files`). */
  endInputSet(files: { info: InputInfo; firstTs: number | null; lastTs: number | null }[]): void {
    this.flushInput();
    for (const f of files) this.infos.push(f.info);
    const summary = summarizeSet(files);
    this.inputs.push(summary);
    this.frameMap = null;
    this.opts.onInputEnd?.(summary, files[0].info);
  }

  private flushInput(): void {
    // in pieces, collecting garbage between them: tens of thousands of records at once otherwise set the peak
    for (;;) {
      const done = this.tracker.flushStep(2048);
      if (this.held.length > 0) this.release();
      if (done) break;
      governMemory();
    }
  }

  result(): AnalysisResult {
    sortResults(this.connections, this.findings, this.sets);
    const res: AnalysisResult = {
      inputs: this.inputs, infos: this.infos, connections: this.connections, findings: this.findings, stats: this.tracker.stats,
    };
    if (this.gate !== null) res.selection = this.gate.counts;
    return res;
  }
}
