/**
 * A worker thread of `--workers N`: its own tracker and rules over the frames
 * the main thread sends it (every frame of the connections whose flow hash
 * falls to this worker). Frames arrive in batches: a 24-byte header per frame
 * (frameNo, tsSec, tsNsec, linkType, capLen, origLen as 32-bit little-endian)
 * followed by the captured bytes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { newFrame } from '../capture/frame.js';
import { evaluateRules, type Finding } from '../rules/engine.js';
import { toRecord, type ConnRecord } from '../tcp/record.js';
import { Tracker, type TrackerOptions } from '../tcp/tracker.js';

export type ToWorker =
  | { type: 'begin'; input: number }
  | { type: 'frames'; buf: Uint8Array }
  /** end of an input; `lastTsSec` is the capture time of its last frame (any connection's) */
  | { type: 'end'; lastTsSec: number | null }
  | { type: 'finish' };

export interface FromWorker {
  records: ConnRecord[];
  findings: Finding[];
  stats: Tracker['stats'];
}

const { tracker: trackerOpts, rules } = workerData as { tracker: Partial<TrackerOptions>; rules: boolean };
const records: ConnRecord[] = [];
const findings: Finding[] = [];
const tracker = new Tracker((c) => {
  const rec = toRecord(c);
  records.push(rec);
  if (rules) for (const f of evaluateRules(c, rec)) findings.push(f);
}, trackerOpts);
const frame = newFrame();

parentPort!.on('message', (m: ToWorker) => {
  if (m.type === 'begin') tracker.beginInput(m.input);
  else if (m.type === 'frames') {
    const buf = Buffer.from(m.buf.buffer, m.buf.byteOffset, m.buf.byteLength);
    for (let o = 0; o + 24 <= buf.length;) {
      frame.frameNo = buf.readUInt32LE(o);
      frame.tsSec = buf.readUInt32LE(o + 4);
      frame.tsNsec = buf.readUInt32LE(o + 8);
      frame.linkType = buf.readUInt32LE(o + 12);
      frame.capLen = buf.readUInt32LE(o + 16);
      frame.origLen = buf.readUInt32LE(o + 20);
      frame.buf = buf;
      frame.offset = o + 24;
      tracker.process(frame);
      o += 24 + frame.capLen;
    }
  } else if (m.type === 'end') {
    // timers that one process would have fired by the input's last frame fire here too
    if (m.lastTsSec !== null) tracker.advance(m.lastTsSec);
    tracker.flush();
  }
  else if (m.type === 'finish') {
    const out: FromWorker = { records, findings, stats: tracker.stats };
    parentPort!.postMessage(out);
  }
});
