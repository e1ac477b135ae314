/**
 * `--workers N`: the main thread reads the captures and sends each TCP frame
 * to the worker its connection belongs to (symmetric flow hash modulo N, so
 * both directions meet); each worker tracks and evaluates its connections.
 * Results are merged deterministically: connections are renumbered in order of
 * input and first frame (the order one process numbers them in), findings
 * follow their connections, and everything is sorted as one run sorts it.
 * Known differences from one process: `stats.maxLive` is the sum of the
 * workers' peaks, and each worker applies --max-connections on its own.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { readCaptureFile } from '../capture/reader.js';
import type { InputInfo } from '../capture/parser.js';
import { decodeFrame } from '../decode/decoder.js';
import { DECODE_REASONS, DecodeResult, newPacket } from '../decode/packet.js';
import { DEFAULT_TRACKER_OPTIONS, flowHash, type TrackerOptions, type TrackerStats } from '../tcp/tracker.js';
import type { ConnRecord } from '../tcp/record.js';
import type { Finding } from '../rules/types.js';
import { sortResults, summarizeInput, type AnalysisResult, type InputSummary } from './pipeline.js';
import type { FromWorker, ToWorker } from './worker.js';
import { governMemory } from './memory.js';

const BATCH_BYTES = 1 << 20;

class Batch {
  buf = Buffer.allocUnsafe(BATCH_BYTES + 65536 + 24);
  used = 0;
}

export async function analyzeFilesParallel(files: string[], workers: number, tracker: Partial<TrackerOptions>, rules: boolean): Promise<AnalysisResult> {
  const opts = { ...DEFAULT_TRACKER_OPTIONS, ...tracker };
  const script = fileURLToPath(new URL('./worker.js', import.meta.url));
  const pool = Array.from({ length: workers }, () => new Worker(script, { workerData: { tracker: opts, rules } }));
  const results = pool.map((w) => new Promise<FromWorker>((resolve, reject) => {
    w.once('message', (m: FromWorker) => resolve(m));
    w.once('error', reject);
  }));
  const send = (i: number, m: ToWorker, transfer?: ArrayBuffer[]) => pool[i].postMessage(m, transfer);
  const batches = pool.map(() => new Batch());
  const flushBatch = (i: number) => {
    const b = batches[i];
    if (b.used === 0) return;
    const out = new Uint8Array(b.used);
    out.set(b.buf.subarray(0, b.used));
    send(i, { type: 'frames', buf: out }, [out.buffer as ArrayBuffer]);
    b.used = 0;
  };
  const p = newPacket();
  const skipped: Record<string, number> = {};
  let frames = 0;
  let tcpSegments = 0;
  const inputs: InputSummary[] = [];
  const infos: InputInfo[] = [];
  try {
    for (let input = 0; input < files.length; input++) {
      for (let i = 0; i < workers; i++) send(i, { type: 'begin', input });
      let firstTs: number | null = null;
      let lastTs: number | null = null;
      const info = await readCaptureFile(files[input], (f) => {
        frames++;
        const t = f.tsSec + f.tsNsec / 1e9;
        if (firstTs === null) firstTs = t;
        lastTs = t;
        const res = decodeFrame(f, p, opts);
        if (res !== DecodeResult.Tcp) {
          const reason = DECODE_REASONS[res];
          skipped[reason] = (skipped[reason] ?? 0) + 1;
          return;
        }
        tcpSegments++;
        const w = flowHash(p) % workers;
        const b = batches[w];
        const o = b.used;
        b.buf.writeUInt32LE(f.frameNo, o);
        b.buf.writeUInt32LE(f.tsSec, o + 4);
        b.buf.writeUInt32LE(f.tsNsec, o + 8);
        b.buf.writeUInt32LE(f.linkType, o + 12);
        b.buf.writeUInt32LE(f.capLen, o + 16);
        b.buf.writeUInt32LE(f.origLen, o + 20);
        f.buf.copy(b.buf, o + 24, f.offset, f.offset + f.capLen);
        b.used = o + 24 + f.capLen;
        if (b.used >= BATCH_BYTES) flushBatch(w);
      }, { beforeRead: governMemory });
      for (let i = 0; i < workers; i++) {
        flushBatch(i);
        send(i, { type: 'end', lastTsSec: lastTs });
      }
      infos.push(info);
      inputs.push(summarizeInput(info, firstTs, lastTs));
    }
    for (let i = 0; i < workers; i++) send(i, { type: 'finish' });
    const parts = await Promise.all(results);
    return merge(parts, inputs, infos, frames, tcpSegments, skipped);
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}

function merge(parts: FromWorker[], inputs: InputSummary[], infos: InputInfo[], frames: number, tcpSegments: number, skipped: Record<string, number>): AnalysisResult {
  const tagged: { rec: ConnRecord; worker: number }[] = [];
  parts.forEach((part, worker) => { for (const rec of part.records) tagged.push({ rec, worker }); });
  tagged.sort((a, b) => a.rec.input - b.rec.input || a.rec.firstFrame - b.rec.firstFrame);
  const newId = new Map<string, { id: number; stream: number }>();
  const streamNext = new Map<number, number>();
  const connections: ConnRecord[] = tagged.map(({ rec, worker }, i) => {
    const stream = streamNext.get(rec.input) ?? 0;
    streamNext.set(rec.input, stream + 1);
    newId.set(`${worker}:${rec.id}`, { id: i + 1, stream });
    return { ...rec, id: i + 1, stream };
  });
  const findings: Finding[] = [];
  parts.forEach((part, worker) => {
    for (const f of part.findings) {
      const m = newId.get(`${worker}:${f.connection}`)!;
      findings.push({ ...f, connection: m.id, stream: m.stream });
    }
  });
  sortResults(connections, findings);
  const stats: TrackerStats = {
    frames, tcpSegments, skipped, connections: 0, evicted: 0, reused: 0, timedOut: 0, maxLive: 0, badChecksums: 0, otherShard: 0,
  };
  for (const p of parts) {
    stats.connections += p.stats.connections;
    stats.evicted += p.stats.evicted;
    stats.reused += p.stats.reused;
    stats.timedOut += p.stats.timedOut;
    stats.maxLive += p.stats.maxLive;
    stats.badChecksums += p.stats.badChecksums;
    stats.otherShard += p.stats.otherShard;
  }
  return { inputs, infos, connections, findings, stats };
}

/**
 * Hands merged results to the per-connection and per-input callbacks a
 * command uses with one process, in the canonical order (input, first frame):
 * with --workers, NDJSON lines come in that order, after the run.
 */
export function replay(
  res: AnalysisResult,
  onConnection: (rec: ConnRecord, found: Finding[]) => void,
  onInputEnd?: (inp: InputSummary) => void,
): AnalysisResult {
  const byConn = new Map<number, Finding[]>();
  for (const f of res.findings) {
    const list = byConn.get(f.connection);
    if (list) list.push(f);
    else byConn.set(f.connection, [f]);
  }
  let i = 0;
  res.inputs.forEach((inp, input) => {
    for (; i < res.connections.length && res.connections[i].input === input; i++) {
      onConnection(res.connections[i], byConn.get(res.connections[i].id) ?? []);
    }
    onInputEnd?.(inp);
  });
  return res;
}
