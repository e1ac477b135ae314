/**
 * Capture readers on real files (test/fixtures/formats, made by make.sh from
 * loopback traffic; see docs/capture-formats.md): byte orders, timestamp
 * precision, snaplen, pcapng sections/interfaces/blocks, connection frame
 * ranges against tshark, and damaged input (truncated, corrupt, fed in chunks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CaptureStream, readCaptureFile } from '../src/capture/reader.js';
import type { Frame } from '../src/capture/frame.js';
import { analyze } from '../src/analysis/analyze.js';
import { FORMATS, ourFrames, tsharkFrames } from './oracle.js';
import { requires } from './requires.js';
import { pcapngBlock, pcapngShb } from '../scripts/make-hostile.js';
import { ethFrame } from './pcap-writer.js';

const F = (n: string): string => resolve(FORMATS, n);

/** frames as plain data: number, time, link type, lengths, and a hash of the bytes */
async function frames(file: string): Promise<string[]> {
  const out: string[] = [];
  await readCaptureFile(file, (f: Frame) => {
    out.push(`${f.frameNo} ${f.tsSec}.${f.tsNsec} lt${f.linkType} ${f.capLen}/${f.origLen} ${f.buf.toString('hex', f.offset, f.offset + f.capLen)}`);
  });
  return out;
}

test('classic pcap: big-endian files read exactly like their little-endian originals', async () => {
  for (const [le, be] of [['lo-us.pcap', 'be-us.pcap'], ['lo-ns.pcap', 'be-ns.pcap']]) {
    // the header magic really is big-endian in one and little-endian in the other
    assert.equal(readFileSync(F(le)).readUInt32LE(0) >>> 0, le === 'lo-us.pcap' ? 0xa1b2c3d4 : 0xa1b23c4d);
    assert.equal(readFileSync(F(be)).readUInt32BE(0) >>> 0, le === 'lo-us.pcap' ? 0xa1b2c3d4 : 0xa1b23c4d);
    const a = await frames(F(le));
    assert.ok(a.length >= 20);
    assert.deepEqual(await frames(F(be)), a);
  }
});

test('classic pcap: nanosecond magic keeps sub-microsecond digits, microsecond files do not have them', async () => {
  const ns = await ourFrames(F('lo-ns.pcap'));
  assert.ok(ns.rows.some((r) => !r.time.endsWith('000')), 'some nanosecond time has sub-microsecond digits');
  const us = await ourFrames(F('lo-us.pcap'));
  assert.ok(us.rows.every((r) => r.time.endsWith('000')));
});

test('snaplen 96: packets are cut, yet payload and sequence accounting use the IP length', async () => {
  const { info, rows } = await ourFrames(F('lo-snap96.pcap'));
  assert.ok(info.truncatedPackets > 0, 'the capture holds cut packets');
  // the client sent 20000 bytes in segments whose captured part is at most 96 bytes
  const dataRows = rows.filter((r) => r.tcp && Number(r.tcp.split(' ')[3]) > 96);
  assert.ok(dataRows.length > 0);
  const res = await analyze([F('lo-snap96.pcap')]);
  const conv = res.connections.find((c) => c.resp.port === 47809);
  assert.ok(conv, 'the conversation is tracked');
  assert.equal(conv.origBytes, 20000);
  assert.equal(conv.respBytes, 200);
  assert.equal(conv.state, 'SF');
  assert.ok(res.inputs[0].warnings.some((w) => /snaplen/.test(w)));
});

test('pcapng: sections in both byte orders, interfaces with different link types and if_tsresol, EPB/SPB/PB, unknown blocks counted', async (t) => {
  const bytes = readFileSync(F('crafted.pcapng'));
  assert.equal(bytes.readUInt32BE(8), 0x1a2b3c4d, 'first section is big-endian');
  const { info, rows } = await ourFrames(F('crafted.pcapng'));
  assert.equal(info.format, 'pcapng');
  assert.deepEqual(info.problems, []);
  assert.equal(info.unknownBlocks, 3);
  assert.deepEqual([...info.linkTypes].sort((a, b) => a - b), [1, 101, 228, 276]);
  assert.equal(rows.length, 42);
  // SPBs (frames 1-6) have no timestamp; the 2^-20 interface gives microsecond-ish fractions
  assert.ok(rows.slice(0, 6).every((r) => r.time === ''));
  assert.ok(rows.slice(6).every((r) => r.time !== ''));
  assert.ok(rows.every((r) => r.tcp !== ''), 'every packet of every interface decodes as TCP');
  // if_tsresol matters here (2^-20, 10^-9, 10^-3 and 2^-30 interfaces)
  await t.test('every frame number and time is tshark\'s, to the nanosecond', requires('tshark'), () => {
    const ts = tsharkFrames(F('crafted.pcapng'));
    assert.deepEqual(rows.map((r) => `${r.frame} ${r.time}`), ts.map((r) => `${r.frame} ${r.time}`));
  });
  const res = await analyze([F('crafted.pcapng')]);
  assert.ok(res.inputs[0].warnings.some((w) => /3 pcapng block\(s\) of unknown type/.test(w)));
});

/** pcapng option (little-endian), padded to 4 */
function ngOption(code: number, value: Buffer): Buffer {
  const b = Buffer.alloc(4 + ((value.length + 3) & ~3));
  b.writeUInt16LE(code, 0);
  b.writeUInt16LE(value.length, 2);
  value.copy(b, 4);
  return b;
}
/** IDB for Ethernet with if_tsresol (9) and if_tsoffset (14, signed 64-bit seconds) when given */
function ngIdb(o: { tsresol?: number; tsoffset?: bigint } = {}): Buffer {
  const opts: Buffer[] = [];
  if (o.tsresol !== undefined) opts.push(ngOption(9, Buffer.from([o.tsresol])));
  if (o.tsoffset !== undefined) {
    const v = Buffer.alloc(8);
    v.writeBigInt64LE(o.tsoffset);
    opts.push(ngOption(14, v));
  }
  const head = Buffer.alloc(8);
  head.writeUInt16LE(1, 0);
  head.writeUInt32LE(262144, 4);
  return pcapngBlock(1, Buffer.concat([head, ...opts, ...(opts.length ? [Buffer.alloc(4)] : [])]));
}
/** EPB on interface `ifId` at `units` of that interface's resolution */
function ngEpb(ifId: number, units: bigint, data: Buffer): Buffer {
  const head = Buffer.alloc(20);
  head.writeUInt32LE(ifId, 0);
  head.writeUInt32LE(Number(units >> 32n), 4);
  head.writeUInt32LE(Number(units & 0xffffffffn), 8);
  head.writeUInt32LE(data.length, 12);
  head.writeUInt32LE(data.length, 16);
  const padded = Buffer.alloc((data.length + 3) & ~3);
  data.copy(padded);
  return pcapngBlock(6, Buffer.concat([head, padded]));
}

test('pcapng if_tsresol and if_tsoffset give exact timestamps; the fast path crosses a second at exactly N+1 s', async (t) => {
  const pkt = ethFrame({ tsSec: 0, src: ['10.3.0.1', 1234], dst: ['10.3.0.2', 80], flags: 'S', seq: 1 });
  // N s + (10^9 - 1) ns and (N+1) s share the 64-bit timestamp's high word (checked below), so
  // the second EPB is on the fast path's cached second and must not be read as N s + 10^9 ns
  const N = 1_700_000_000n;
  const NS = 1_000_000_000n;
  assert.equal((N * NS + NS - 1n) >> 32n, ((N + 1n) * NS + 1n) >> 32n, 'same high word');
  const parts = [pcapngShb(),
    ngIdb(), // 0: default 10^-6
    ngIdb({ tsresol: 9 }), // 1: 10^-9
    ngIdb({ tsresol: 3 }), // 2: 10^-3
    ngIdb({ tsresol: 0x80 | 20 }), // 3: 2^-20
    ngIdb({ tsresol: 9, tsoffset: 1_000_000n }), // 4: 10^-9, +1,000,000 s
    ngIdb({ tsoffset: 86_400n }), // 5: 10^-6, +1 day
  ];
  const want: string[] = [];
  const put = (ifId: number, units: bigint, time: string): void => { parts.push(ngEpb(ifId, units, pkt)); want.push(time); };
  // the same unit count 1,700,000,000,123,456 on each resolution
  put(0, 1_700_000_000_123_456n, '1700000000.123456000');
  put(1, 1_700_000_000_123_456n, '1700000.000123456');
  put(2, 1_700_000_000_123_456n, '1700000000123.456000000');
  put(3, (1_700_000_000n << 20n) + 524_288n + 1n, '1700000000.500000953'); // 2^-20 s = 953.67 ns, truncated
  put(4, N * NS + 1n, '1701000000.000000001');
  put(5, 1_700_000_000_000_001n, '1700086400.000001000');
  // a run on the ns interface: the first EPB sets the fast path's second, the next ones take it
  put(1, N * NS + 500_000_000n, '1700000000.500000000');
  put(1, N * NS + NS - 1n, '1700000000.999999999');
  put(1, (N + 1n) * NS, '1700000001.000000000');
  put(1, (N + 1n) * NS + 1n, '1700000001.000000001');
  // and on the offset interface (the cached second includes the offset)
  put(4, N * NS + 2n, '1701000000.000000002');
  put(4, N * NS + NS - 1n, '1701000000.999999999');
  put(4, (N + 1n) * NS, '1701000001.000000000');
  const dir = mkdtempSync(join(tmpdir(), 'rstscope-tsresol-'));
  try {
    const file = join(dir, 'tsresol.pcapng');
    writeFileSync(file, Buffer.concat(parts));
    const got: string[] = [];
    const info = await readCaptureFile(file, (f: Frame) => { got.push(`${f.tsSec}.${String(f.tsNsec).padStart(9, '0')}`); });
    assert.deepEqual(info.problems, []);
    assert.deepEqual(got, want);
    // the same bytes in chunks (the fast path then restarts at every chunk edge)
    const chunked: string[] = [];
    const cs = new CaptureStream('chunks', (f: Frame) => { chunked.push(`${f.tsSec}.${String(f.tsNsec).padStart(9, '0')}`); });
    const bytes = Buffer.concat(parts);
    for (let o = 0; o < bytes.length; o += 4096) cs.push(bytes.subarray(o, o + 4096));
    cs.end();
    assert.deepEqual(chunked, want);
    await t.test('tshark (which applies if_tsresol and if_tsoffset) reads the same times', requires('tshark'), () => {
      assert.deepEqual(tsharkFrames(file).map((r) => r.time), want);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pcapng from dumpcap: two interfaces (Ethernet and Linux cooked) in one section; concatenated sections', async () => {
  const two = await ourFrames(F('dumpcap-2if.pcapng'));
  assert.deepEqual([...two.info.linkTypes].sort((a, b) => a - b), [1, 113]);
  const sec = await ourFrames(F('sections.pcapng'));
  assert.equal(sec.rows.length, two.rows.length + (await ourFrames(F('lo-ns.pcap'))).rows.length);
  // numbering runs on across the section boundary
  assert.deepEqual(sec.rows.map((r) => r.frame), sec.rows.map((_, i) => i + 1));
});

/** tshark's first and last frame of each tcp.stream, as "first-last" strings */
function tsharkStreams(file: string): string[] {
  const out = execFileSync('tshark', ['-r', file, '-Y', 'tcp', '-T', 'fields', '-e', 'tcp.stream', '-e', 'frame.number'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const m = new Map<string, [number, number]>();
  for (const line of out.split('\n').filter(Boolean)) {
    const [s, n] = line.split('\t');
    const r = m.get(s);
    if (r) r[1] = Number(n); else m.set(s, [Number(n), Number(n)]);
  }
  return [...m.values()].map(([a, b]) => `${a}-${b}`).sort();
}

// Not dumpcap-2if.pcapng: it holds each packet twice (lo and any), the second copies after the first
// connection closed; the tracker (like Zeek) starts a new connection there, tshark's tcp.stream does not.
for (const name of ['lo-us.pcap', 'lo-ns.pcap', 'sll2.pcap', 'qinq.pcap', 'null-be.pcap', 'raw12.pcap', 'ipv6-229.pcap', 'lo-snap96.pcap']) {
  test(`${name}: each connection's firstFrame/lastFrame equal tshark's frame.number range of its tcp.stream`, requires('tshark'), async () => {
    const res = await analyze([F(name)]);
    const ours = res.connections.map((c) => `${c.firstFrame}-${c.lastFrame}`).sort();
    assert.ok(ours.length >= 2);
    assert.deepEqual(ours, tsharkStreams(F(name)));
  });
}

test('a file cut inside a record: frames before the cut are delivered, then a truncated problem', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rstscope-cap-'));
  try {
    for (const name of ['lo-us.pcap', 'crafted.pcapng']) {
      const whole = readFileSync(F(name));
      const all = await frames(F(name));
      const cut = join(dir, name);
      writeFileSync(cut, whole.subarray(0, whole.length - 7));
      const { info, rows } = await ourFrames(cut);
      assert.equal(rows.length, all.length - 1);
      assert.equal(info.problems.length, 1);
      assert.equal(info.problems[0].kind, 'truncated');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a corrupt record length stops the reader at once with a corrupt problem', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rstscope-cap-'));
  try {
    const b = Buffer.from(readFileSync(F('lo-us.pcap')));
    // third record's captured length: 24-byte file header, records of 16 + capLen bytes
    let o = 24;
    for (let i = 0; i < 2; i++) o += 16 + b.readUInt32LE(o + 8);
    b.writeUInt32LE(0x7fffffff, o + 8);
    const file = join(dir, 'corrupt.pcap');
    writeFileSync(file, b);
    const t0 = process.hrtime.bigint();
    const { info, rows } = await ourFrames(file);
    assert.ok(Number(process.hrtime.bigint() - t0) / 1e6 < 5000, "no buffering up to the bogus length");
    assert.equal(rows.length, 2);
    assert.equal(info.problems[0].kind, 'corrupt');
    assert.equal(info.problems[0].offset, o);
    assert.equal(info.problems[0].record, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CaptureStream fed in chunks of every size gives the same frames as the file reader', async () => {
  for (const name of ['be-ns.pcap', 'crafted.pcapng', 'sections.pcapng']) {
    const want = await frames(F(name));
    const bytes = readFileSync(F(name));
    for (const size of [1, 3, 17, 1000, bytes.length]) {
      const got: string[] = [];
      const cs = new CaptureStream(name, (f) => {
        got.push(`${f.frameNo} ${f.tsSec}.${f.tsNsec} lt${f.linkType} ${f.capLen}/${f.origLen} ${f.buf.toString('hex', f.offset, f.offset + f.capLen)}`);
      });
      for (let i = 0; i < bytes.length; i += size) cs.push(bytes.subarray(i, i + size));
      const info = cs.end();
      assert.deepEqual(info.problems, [], `${name} in chunks of ${size}`);
      assert.deepEqual(got, want, `${name} in chunks of ${size}`);
    }
  }
});

test('not a capture, empty file, missing file: unreadable problems, no throw', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rstscope-cap-'));
  try {
    writeFileSync(join(dir, 'text'), 'hello, this is not a capture\n');
    writeFileSync(join(dir, 'empty'), '');
    for (const n of ['text', 'empty', 'missing']) {
      const info = await readCaptureFile(join(dir, n), () => assert.fail('no frame expected'));
      assert.equal(info.problems.length, 1, n);
      assert.equal(info.problems[0].kind, 'unreadable', n);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an invalid sub-second field (>= 1 s) is warned and kept within its second, not carried into later seconds', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rstscope-cap-'));
  try {
    for (const [name, nanos] of [['lo-us.pcap', false], ['lo-ns.pcap', true]] as const) {
      const b = Buffer.from(readFileSync(F(name)));
      const want = await frames(F(name));
      // records 2 and 3: the sub-second field set to exactly one second and to 2^31 units
      let o = 24;
      o += 16 + b.readUInt32LE(o + 8);
      b.writeUInt32LE(nanos ? 1_000_000_000 : 1_000_000, o + 4);
      const sec2 = b.readUInt32LE(o);
      o += 16 + b.readUInt32LE(o + 8);
      b.writeUInt32LE(0x80000000, o + 4);
      const sec3 = b.readUInt32LE(o);
      const file = join(dir, name);
      writeFileSync(file, b);
      const got = await frames(file);
      const last = nanos ? 999_999_999 : 999_999_000;
      assert.equal(got[1].split(' ')[1], `${sec2}.${last}`, `${name} frame 2`);
      assert.equal(got[2].split(' ')[1], `${sec3}.${last}`, `${name} frame 3`);
      assert.deepEqual(got.filter((_, i) => i !== 1 && i !== 2), want.filter((_, i) => i !== 1 && i !== 2), 'other frames as they were');
      const { info } = await ourFrames(file);
      const unit = nanos ? 'nanoseconds' : 'microseconds';
      assert.deepEqual(info.warnings, [`2 record(s) with an invalid timestamp: ${unit} field >= ${nanos ? '1,000,000,000' : '1,000,000'} `
        + `(first at record 2: ${nanos ? 1_000_000_000 : 1_000_000}); each is placed at the last ${unit.slice(0, -1)} of the second its seconds field names, not carried into later seconds`]);
      // the same from a byte stream fed in small chunks: one warning with the final count
      const cs = new CaptureStream(name, () => undefined);
      for (let i = 0; i < b.length; i += 7) cs.push(b.subarray(i, i + 7));
      assert.deepEqual(cs.end().warnings, info.warnings);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
