/**
 * Streaming reads through one reused buffer: a ~200 MB capture built at test
 * time from real records (lo-us.pcap repeated, frame times shifted so they keep
 * increasing) is read while RSS is sampled and an event-loop counter runs.
 * Guarantees checked: RSS does not grow with file size, and the event loop
 * keeps turning during the read (reads are awaited 1 MiB at a time).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readCaptureFile } from '../src/capture/reader.js';
import { FORMATS } from './oracle.js';

const TARGET_BYTES = 200 * 1024 * 1024;

function buildLarge(path: string): number {
  const src = readFileSync(resolve(FORMATS, 'lo-us.pcap'));
  const body = src.subarray(24);
  // one ~1 MiB block of repeated records, rewritten per copy with a later time
  const reps = Math.ceil((1 << 20) / body.length);
  const block = Buffer.alloc(body.length * reps);
  for (let i = 0; i < reps; i++) body.copy(block, i * body.length);
  const fd = openSync(path, 'w');
  let records = 0;
  let perBlock = 0;
  for (let o = 0; o < block.length; o += 16 + block.readUInt32LE(o + 8)) perBlock++;
  try {
    writeSync(fd, src.subarray(0, 24));
    let written = 24;
    let sec = block.readUInt32LE(0);
    while (written < TARGET_BYTES) {
      for (let o = 0; o < block.length; o += 16 + block.readUInt32LE(o + 8)) block.writeUInt32LE(sec++, o);
      writeSync(fd, block);
      written += block.length;
      records += perBlock;
    }
  } finally {
    closeSync(fd);
  }
  return records;
}

test('a 200 MB capture streams with flat RSS while the event loop keeps turning', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rstscope-big-'));
  try {
    const file = join(dir, 'big.pcap');
    const records = buildLarge(file);
    assert.ok(statSync(file).size >= TARGET_BYTES);
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let rssMax = rssBefore;
    let ticks = 0;
    const timer = setInterval(() => {
      ticks++;
      const r = process.memoryUsage().rss;
      if (r > rssMax) rssMax = r;
    }, 1);
    let frames = 0;
    let bytes = 0;
    let rssAtTenth = 0;
    const t0 = process.hrtime.bigint();
    const info = await readCaptureFile(file, (f) => {
      frames++;
      bytes += f.capLen;
      if (frames === Math.floor(records / 10)) rssAtTenth = process.memoryUsage().rss;
    });
    clearInterval(timer);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const rssEnd = process.memoryUsage().rss;
    assert.deepEqual(info.problems, []);
    assert.equal(frames, records);
    assert.ok(bytes > 150 * 1024 * 1024);
    const growMiB = (rssMax - rssBefore) / 1048576;
    // the whole file is 200 MiB: holding it, or growing with it, would show here
    assert.ok(growMiB < 48, `RSS grew by ${growMiB.toFixed(1)} MiB reading 200 MiB`);
    // after the first tenth the window is at full size: the last nine tenths add nothing
    assert.ok((rssEnd - rssAtTenth) / 1048576 < 24, `RSS grew ${((rssEnd - rssAtTenth) / 1048576).toFixed(1)} MiB after the first tenth`);
    // ~200 reads of 1 MiB, each awaited: interval callbacks run in between
    assert.ok(ticks >= 20, `the event loop turned only ${ticks} times in ${ms.toFixed(0)} ms`);
    console.log(`# 200 MiB: ${frames} frames in ${ms.toFixed(0)} ms (${(frames / ms / 1000).toFixed(2)} M frames/s), RSS +${growMiB.toFixed(1)} MiB, ${ticks} timer ticks`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
