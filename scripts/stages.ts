/**
 * Where the time goes, stage by stage: runs the pipeline over one capture up
 * to a given stage and prints wall and CPU seconds (docs/performance.md,
 * "Where the time goes"). Each stage includes the ones before it.
 *
 *   node dist/scripts/stages.js read|decode|track|record|json FILE [--alloc]
 *
 * read: the file reader with an empty frame sink; decode: + link/IP/TCP views;
 * track: + the tracker with an empty connection sink; record: + connection
 * records; json: + their NDJSON text (not written anywhere).
 *
 * --alloc: also the bytes allocated over the run (V8's sampling heap profiler,
 * collected objects included) and the ten functions that allocated most.
 */
import { Session } from 'node:inspector/promises';
import { readCaptureFile } from '../src/capture/reader.js';
import type { Frame } from '../src/capture/frame.js';
import { decodeFrame } from '../src/decode/decoder.js';
import { DecodeResult, newPacket } from '../src/decode/packet.js';
import type { Connection } from '../src/tcp/connection.js';
import { toRecord } from '../src/tcp/record.js';
import { Tracker } from '../src/tcp/tracker.js';

const STAGES = ['read', 'decode', 'track', 'record', 'json'];

// `stages.js ... | head`: a reader that goes away ends the output, not the process with an EPIPE trace
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const alloc = args.includes('--alloc');
  const [stage, file] = args.filter((a) => a !== '--alloc');
  if (!STAGES.includes(stage) || !file) {
    process.stderr.write(`usage: node dist/scripts/stages.js ${STAGES.join('|')} FILE\n`);
    process.exitCode = 2;
    return;
  }
  const session = alloc ? new Session() : null;
  if (session) {
    session.connect();
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true,
    });
  }
  const t0 = performance.now();
  let frames = 0;
  let bytes = 0;
  let tracker: Tracker | null = null;
  let sink: (f: Frame) => void;
  if (stage === 'read') sink = () => { frames++; };
  else if (stage === 'decode') {
    const p = newPacket();
    const opts = { checksums: false };
    sink = (f) => { frames++; decodeFrame(f, p, opts); };
  } else {
    const onConn = stage === 'track' ? (): void => {}
      : stage === 'record' ? (c: Connection): void => { bytes += toRecord(c).id > 0 ? 1 : 0; }
        : (c: Connection): void => { bytes += JSON.stringify(toRecord(c)).length; };
    const t = tracker = new Tracker(onConn, {});
    const p = newPacket();
    sink = (f) => {
      frames++;
      const res = decodeFrame(f, p, t.opts);
      t.countFrame(res);
      if (res === DecodeResult.Tcp) t.processPacket(p, f);
    };
  }
  await readCaptureFile(file, sink, {});
  tracker?.flush();
  const cpu = process.cpuUsage();
  process.stdout.write(`${stage}: ${frames} frames, ${((performance.now() - t0) / 1000).toFixed(2)} s wall, `
    + `${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU${tracker ? `, ${tracker.stats.connections} connections` : ''}`
    + `${stage === 'json' ? `, ${bytes} bytes of NDJSON` : ''}\n`);
  if (session) {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    const bySite = new Map<string, number>();
    const walk = (n: typeof profile.head): void => {
      const site = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
      bySite.set(site, (bySite.get(site) ?? 0) + n.selfSize);
      for (const child of n.children) walk(child);
    };
    walk(profile.head);
    let total = 0;
    for (const v of bySite.values()) total += v;
    process.stdout.write(`allocated: ${(total / 1e6).toFixed(0)} MB (sampled)\n`);
    for (const [site, v] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 10)) {
      process.stdout.write(`  ${(v / 1e6).toFixed(1).padStart(7)} MB  ${site}\n`);
    }
    session.disconnect();
  }
}

await main();
