/**
 * The readers' fast paths against what the file says: the pcapng EPB fast
 * path (little-endian, known interface, per-second time cache) and the
 * zero-copy file reader (records spanning reads, blocks larger than the carry
 * room). Packets are real loopback frames (test/fixtures/formats/lo-ns.pcap)
 * re-wrapped in crafted blocks; every frame's number, time, interface, lengths
 * and bytes are compared with the values the file was built from, and times
 * and lengths with tshark's reading of the same file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CaptureStream, readCaptureFile } from '../src/capture/reader.js';
import type { Frame } from '../src/capture/frame.js';
import { pcapngBlock, pcapngShb } from '../scripts/make-hostile.js';
import { FORMATS } from './oracle.js';
import { requires } from './requires.js';

const LINKTYPE_ETHERNET = 1;

/** The real loopback frames of lo-ns.pcap (copied out of the reader's buffer). */
async function realFrames(): Promise<Buffer[]> {
  const out: Buffer[] = [];
  await readCaptureFile(resolve(FORMATS, 'lo-ns.pcap'), (f) => { out.push(Buffer.from(f.buf.subarray(f.offset, f.offset + f.capLen))); });
  assert.ok(out.length >= 20);
  return out;
}

function option(code: number, value: Buffer): Buffer {
  const b = Buffer.alloc(4 + ((value.length + 3) & ~3));
  b.writeUInt16LE(code, 0);
  b.writeUInt16LE(value.length, 2);
  value.copy(b, 4);
  return b;
}
const END_OF_OPTIONS = Buffer.alloc(4);

function idb(linkType: number, opts: Buffer[] = []): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(linkType, 0);
  head.writeUInt32LE(262144, 4);
  return pcapngBlock(1, Buffer.concat([head, ...opts, ...(opts.length ? [END_OF_OPTIONS] : [])]));
}

/** Expected reading of one packet. */
interface Want { ifId: number; time: string; capLen: number; origLen: number; data: Buffer }

/** units per second of an interface: 10^n, or 2^n when `binary` */
interface Res { ifId: number; dec?: number; bin?: number; offsetSec?: bigint }

function timeOf(res: Res, units: bigint): string {
  let sec: bigint;
  let ns: bigint;
  if (res.bin !== undefined) {
    const u = 1n << BigInt(res.bin);
    sec = units / u;
    ns = ((units % u) * 1_000_000_000n) / u;
  } else {
    const u = 10n ** BigInt(res.dec ?? 6);
    sec = units / u;
    ns = ((units % u) * 1_000_000_000n) / u;
  }
  return `${sec + (res.offsetSec ?? 0n)}.${String(ns).padStart(9, '0')}`;
}

function epb(res: Res, units: bigint, data: Buffer, want: Want[], o: { origLen?: number; capTo?: number; opts?: Buffer[] } = {}): Buffer {
  const cap = data.subarray(0, o.capTo ?? data.length);
  const origLen = o.origLen ?? data.length;
  const head = Buffer.alloc(20);
  head.writeUInt32LE(res.ifId, 0);
  head.writeUInt32LE(Number(units >> 32n) >>> 0, 4);
  head.writeUInt32LE(Number(units & 0xffffffffn) >>> 0, 8);
  head.writeUInt32LE(cap.length, 12);
  head.writeUInt32LE(origLen, 16);
  const padded = Buffer.alloc((cap.length + 3) & ~3);
  cap.copy(padded);
  const opts = o.opts ?? [];
  want.push({ ifId: res.ifId, time: timeOf(res, units), capLen: cap.length, origLen: Math.max(origLen, cap.length), data: Buffer.from(cap) });
  return pcapngBlock(6, Buffer.concat([head, padded, ...opts, ...(opts.length ? [END_OF_OPTIONS] : [])]));
}

/** Deterministic pseudo-random numbers (xorshift32). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

/** frames as plain data, bytes compared separately */
interface Got { frameNo: number; ifId: number; time: string; capLen: number; origLen: number; linkType: number; data: Buffer }
function record(out: Got[]) {
  return (f: Frame): void => {
    out.push({
      frameNo: f.frameNo, ifId: f.interfaceId, time: `${f.tsSec}.${String(f.tsNsec).padStart(9, '0')}`,
      capLen: f.capLen, origLen: f.origLen, linkType: f.linkType, data: Buffer.from(f.buf.subarray(f.offset, f.offset + f.capLen)),
    });
  };
}

function compare(got: Got[], want: Want[], what: string): void {
  assert.equal(got.length, want.length, `${what}: frame count`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    const where = `${what}: frame ${i + 1}`;
    assert.equal(g.frameNo, i + 1, where);
    assert.equal(g.ifId, w.ifId, `${where} interface`);
    assert.equal(g.time, w.time, `${where} time`);
    assert.equal(g.capLen, w.capLen, `${where} capLen`);
    assert.equal(g.origLen, w.origLen, `${where} origLen`);
    assert.equal(g.linkType, LINKTYPE_ETHERNET, `${where} link type`);
    assert.ok(g.data.equals(w.data), `${where} bytes`);
  }
}

function tsharkRows(file: string): string[] {
  const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=|', '-e', 'frame.number', '-e', 'frame.interface_id', '-e', 'frame.time_epoch', '-e', 'frame.cap_len'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
  return out.split('\n').filter((l) => l !== '');
}

test('pcapng fast path: interfaces, resolutions, second and high-word crossings, options, truncation, big blocks, sections: same as the file says and as tshark', async (ctx) => {
  const pkts = await realFrames();
  const rand = rng(7);
  const pick = (): Buffer => pkts[Math.floor(rand() * pkts.length)];
  const want: Want[] = [];
  const parts: Buffer[] = [pcapngShb()];
  const us: Res = { ifId: 0 };
  const ns: Res = { ifId: 1, dec: 9 };
  const ms: Res = { ifId: 2, dec: 3 };
  const b20: Res = { ifId: 3, bin: 20 };
  parts.push(idb(LINKTYPE_ETHERNET));
  parts.push(idb(LINKTYPE_ETHERNET, [option(9, Buffer.from([9]))]));
  parts.push(idb(LINKTYPE_ETHERNET, [option(9, Buffer.from([3]))]));
  parts.push(idb(LINKTYPE_ETHERNET, [option(9, Buffer.from([0x80 | 20]))]));
  // a run on one interface, steps crossing seconds, some going backwards
  let t = 1_767_225_600_000_000n;
  for (let i = 0; i < 400; i++) {
    t += BigInt(Math.floor(rand() * 700_000)) - (i % 37 === 0 ? 2_000_000n : 0n);
    parts.push(epb(us, t, pick(), want));
  }
  // microseconds across a change of the high word (every 2^32 units)
  const hiEdge = (t >> 32n) + 1n << 32n;
  for (let d = -5n; d <= 5n; d++) parts.push(epb(us, hiEdge + d * 400_000n, pick(), want));
  // nanoseconds: the low word wraps every 4.29 s
  let tn = 1_767_225_700_000_000_000n;
  for (let i = 0; i < 120; i++) {
    tn += BigInt(Math.floor(rand() * 900_000_000));
    parts.push(epb(ns, tn, pick(), want));
  }
  // interleaved interfaces: the fast path changes interface on every packet
  for (let i = 0; i < 60; i++) {
    t += 1000n;
    tn += 1_000_000n;
    parts.push(i % 2 ? epb(us, t, pick(), want) : epb(ns, tn, pick(), want));
  }
  // milliseconds and 2^-20 s, other blocks in between
  let tm = 1_767_225_800_000n;
  let tb = 1_767_225_900n << 20n;
  for (let i = 0; i < 40; i++) {
    tm += BigInt(Math.floor(rand() * 900));
    tb += BigInt(Math.floor(rand() * 600_000));
    parts.push(epb(ms, tm, pick(), want));
    if (i % 10 === 0) parts.push(pcapngBlock(0x1234, Buffer.alloc(40, 1))); // unknown type
    parts.push(epb(b20, tb, pick(), want));
  }
  // EPB options (flags, comment), snaplen-cut packets, a block larger than the reader's carry room
  t += 5n;
  parts.push(epb(us, t, pick(), want, { opts: [option(2, Buffer.from([1, 0, 0, 0])), option(1, Buffer.from('a comment of odd length'))] }));
  for (let i = 0; i < 30; i++) {
    t += 7n;
    const p = pick();
    parts.push(epb(us, t, p, want, { capTo: Math.min(p.length, 14 + (i % 50)), origLen: p.length }));
  }
  // two blocks larger than the carry room back to back: the second starts in the overflow window
  parts.push(pcapngBlock(0x1234, Buffer.alloc(1_500_000, 2)), pcapngBlock(0x1234, Buffer.alloc(2_500_000, 4)));
  // enough packets of every size to put many records across read boundaries
  for (let i = 0; i < 30000; i++) {
    t += BigInt(Math.floor(rand() * 3000));
    parts.push(epb(us, t, pick(), want));
    if (i === 15000) parts.push(pcapngBlock(0x1234, Buffer.alloc(400_000, 3)));
  }
  // a second section: interfaces are described again; the fast path must not keep the old one
  parts.push(pcapngShb());
  parts.push(idb(LINKTYPE_ETHERNET, [option(9, Buffer.from([9]))]));
  const ns2: Res = { ifId: 0, dec: 9 };
  for (let i = 0; i < 50; i++) {
    tn += 333_333_333n;
    parts.push(epb(ns2, tn, pick(), want));
  }
  const bytes = Buffer.concat(parts);
  assert.ok(bytes.length > 3 << 20, 'several 1 MiB reads');

  const dir = mkdtempSync(join(tmpdir(), 'rstscope-fast-'));
  try {
    const file = join(dir, 'paths.pcapng');
    writeFileSync(file, bytes);
    const got: Got[] = [];
    const info = await readCaptureFile(file, record(got));
    assert.deepEqual(info.problems, []);
    assert.equal(info.unknownBlocks, 7);
    assert.equal(info.truncatedPackets, 30);
    compare(got, want, 'file reader');

    // the same bytes pushed in chunks of awkward sizes (the window then compacts at odd places)
    for (const size of [13, 4093, (1 << 20) + 3]) {
      const chunked: Got[] = [];
      const cs = new CaptureStream('chunks', record(chunked));
      for (let o = 0; o < bytes.length; o += size) cs.push(bytes.subarray(o, o + size));
      assert.deepEqual(cs.end().problems, []);
      compare(chunked, want, `chunks of ${size}`);
    }

    await ctx.test('tshark reads the same interfaces, times and lengths', requires('tshark'), () => {
      const rows = tsharkRows(file);
      assert.equal(rows.length, want.length);
      for (let i = 0; i < rows.length; i++) {
        const g = got[i];
        assert.equal(rows[i], `${i + 1}|${g.ifId}|${g.time}|${g.capLen}`, `frame ${i + 1} against tshark`);
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pcapng fast path stops where the general path must report: bad trailer, undescribed interface, packet larger than its block', async () => {
  const pkts = await realFrames();
  const us: Res = { ifId: 0 };
  const cases: { name: string; block: (want: Want[]) => Buffer; message: RegExp }[] = [
    {
      name: 'trailer', message: /disagrees with its trailing copy/,
      block: (w) => { const b = epb(us, 1n, pkts[0], w); b.writeUInt32LE(b.length + 4, b.length - 4); return b; },
    },
    { name: 'interface', message: /names interface 5/, block: (w) => epb({ ifId: 5 }, 1n, pkts[0], w) },
    {
      name: 'capLen', message: /does not fit in its block/,
      block: (w) => { const b = epb(us, 1n, pkts[0], w); b.writeUInt32LE(b.length, 20); return b; },
    },
  ];
  const dir = mkdtempSync(join(tmpdir(), 'rstscope-fast-'));
  try {
    for (const c of cases) {
      const want: Want[] = [];
      const parts = [pcapngShb(), idb(LINKTYPE_ETHERNET)];
      for (let i = 0; i < 100; i++) parts.push(epb(us, 1_767_225_600_000_000n + BigInt(i), pkts[i % pkts.length], want));
      const good = want.length;
      const bad = c.block([]);
      parts.push(bad, epb(us, 1_767_225_700_000_000n, pkts[0], []));
      const file = join(dir, `${c.name}.pcapng`);
      writeFileSync(file, Buffer.concat(parts));
      const got: Got[] = [];
      const info = await readCaptureFile(file, record(got));
      compare(got, want.slice(0, good), c.name);
      assert.equal(info.problems.length, 1, c.name);
      assert.equal(info.problems[0].kind, 'corrupt', c.name);
      assert.match(info.problems[0].message, c.message);
      assert.equal(info.problems[0].record, 2 + good + 1, `${c.name}: the bad block is the one named`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('classic pcap through the zero-copy reader: records up to the 262144-byte limit across reads, both byte orders', async () => {
  const rand = rng(11);
  for (const le of [true, false]) {
    const w32 = (b: Buffer, v: number, o: number): void => { if (le) b.writeUInt32LE(v >>> 0, o); else b.writeUInt32BE(v >>> 0, o); };
    const head = Buffer.alloc(24);
    w32(head, 0xa1b2c3d4, 0);
    head.writeUInt16LE(le ? 2 : 0x0200, 4);
    head.writeUInt16LE(le ? 4 : 0x0400, 6);
    w32(head, 262144, 16);
    w32(head, LINKTYPE_ETHERNET, 20);
    const parts: Buffer[] = [head];
    const want: Want[] = [];
    let sec = 1_767_225_600;
    for (let i = 0; i < 600; i++) {
      const len = i % 50 === 7 ? 262144 : Math.floor(rand() * (i % 3 ? 1600 : 70000));
      const data = Buffer.alloc(len);
      for (let k = 0; k < len; k += 97) data[k] = (i + k) & 255;
      const usec = Math.floor(rand() * 1e6);
      sec += i % 5 === 0 ? 1 : 0;
      const rh = Buffer.alloc(16);
      w32(rh, sec, 0);
      w32(rh, usec, 4);
      w32(rh, len, 8);
      w32(rh, len + (i % 4 === 0 ? 10 : 0), 12);
      parts.push(rh, data);
      want.push({ ifId: 0, time: `${sec}.${String(usec * 1000).padStart(9, '0')}`, capLen: len, origLen: len + (i % 4 === 0 ? 10 : 0), data });
    }
    const dir = mkdtempSync(join(tmpdir(), 'rstscope-fast-'));
    try {
      const file = join(dir, 'big.pcap');
      const bytes = Buffer.concat(parts);
      assert.ok(bytes.length > 8 << 20);
      writeFileSync(file, bytes);
      const got: Got[] = [];
      const info = await readCaptureFile(file, record(got));
      assert.deepEqual(info.problems, []);
      assert.equal(info.format, 'pcap');
      compare(got, want, le ? 'little-endian' : 'big-endian');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
