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
import { FORMATS, ourFrames } from './oracle.js';

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

test('pcapng: sections in both byte orders, interfaces with different link types and if_tsresol, EPB/SPB/PB, unknown blocks counted', async () => {
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
  const res = await analyze([F('crafted.pcapng')]);
  assert.ok(res.inputs[0].warnings.some((w) => /3 pcapng block\(s\) of unknown type/.test(w)));
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
  test(`${name}: each connection's firstFrame/lastFrame equal tshark's frame.number range of its tcp.stream`, async () => {
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
