/**
 * The analysis run behind `rstscope report`: the inputs are read once with
 * the report's collector (src/report/model.ts ReportCollector: bounded
 * memory, see there) receiving every connection with its tracker
 * Connection, then a second pass reads payload previews for the data
 * segments of the worked examples only (the tracker keeps no payload bytes).
 * The first pass is analyze() in this thread (the collector needs the
 * Connection objects, which worker threads do not send); --shard applies as
 * in `analyze`. Problems with the inputs are data in the model.
 */
import type { Frame } from '../capture/frame.js';
import { readCaptureFile, STDIN_NAME } from '../capture/reader.js';
import { decodeFrame } from '../decode/decoder.js';
import { DecodeResult, newPacket } from '../decode/packet.js';
import { ReportCollector } from '../report/collector.js';
import { packageVersion } from '../report/docs.js';
import { previewText } from '../report/format.js';
import {
  MAX_PREVIEWS_PER_EXAMPLE, type Example, type LadderSeg, type ReportModel, type ReportOptions,
} from '../report/model.js';
import type { TrackerOptions } from '../tcp/tracker.js';
import { analyze } from './analyze.js';
import type { PacketSelection, RecordSelection } from './select.js';

export interface ReportRunOptions extends Partial<TrackerOptions> {
  /** each file on its own (the report does not read capture sets yet: its examples name frames per file) */
  perFile?: boolean;
  /** --filter, --since, --until (select.ts) */
  packets?: PacketSelection;
  /** --stream, --uid, --rule, --min-severity (select.ts) */
  records?: RecordSelection;
  /** the tool version the report names (default: package.json's) */
  version?: string;
  /** progress of the first pass: bytes read of the current input's size, frames so far */
  onProgress?: (file: string, bytesRead: number, fileBytes: number, frames: number) => void;
}

/** Reads the inputs and builds the report model. */
export async function buildReport(files: string[], opts: ReportOptions, run: ReportRunOptions = {}): Promise<ReportModel> {
  const col = new ReportCollector(opts);
  const { version, ...tracker } = run;
  const res = await analyze(files, { ...tracker, keepRecords: false, onCloseOut: col.onConnection });
  await readPreviews(files, col.examples(), opts.payloadBytes);
  const problems = res.infos.flatMap((i) => i.problems);
  return col.build({ inputs: res.inputs, problems, stats: res.stats }, version ?? packageVersion());
}

/** Second pass: payload previews for the data segments of the worked examples. */
async function readPreviews(files: string[], examples: Example[], bytes: number): Promise<void> {
  if (bytes <= 0) return;
  const wanted = new Map<number, Map<number, LadderSeg[]>>();
  for (const ex of examples) {
    const key = ex.finding.frame;
    const data = ex.segments.filter((s) => s.len > 0)
      .sort((a, b) => Math.abs(a.frame - key) - Math.abs(b.frame - key)).slice(0, MAX_PREVIEWS_PER_EXAMPLE);
    if (data.length === 0) continue;
    let m = wanted.get(ex.finding.input);
    if (!m) wanted.set(ex.finding.input, (m = new Map()));
    for (const s of data) {
      const l = m.get(s.frame) ?? [];
      l.push(s);
      m.set(s.frame, l);
    }
  }
  const p = newPacket();
  for (const [input, frames] of wanted) {
    if (files[input] === STDIN_NAME) continue; // read once, already
    let last = 0;
    for (const k of frames.keys()) if (k > last) last = k;
    await readCaptureFile(files[input], (f: Frame) => {
      if (f.frameNo > last) return;
      const segs = frames.get(f.frameNo);
      if (!segs) return;
      if (decodeFrame(f, p, { checksums: false }) !== DecodeResult.Tcp) return;
      const start = p.tcpOffset + p.tcpHeaderLen;
      const n = Math.min(bytes, p.payloadCaptured);
      const text = previewText(f.buf.subarray(start, start + n));
      for (const s of segs) {
        s.payload = text;
        s.payloadMore = p.payloadLen > n;
      }
    });
  }
}
