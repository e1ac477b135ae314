/**
 * Decoder details on real frames: IPv4 options, IPv6 extension headers, TCP
 * options (unknown kinds skipped), --checksums, TSO total length 0, frames that
 * do not decode counted by reason, and no throw on any damaged frame.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readCaptureFile } from '../src/capture/reader.js';
import type { Frame } from '../src/capture/frame.js';
import { analyze } from '../src/analysis/analyze.js';
import { decodeFrame } from '../src/decode/decoder.js';
import {
  DECODE_REASONS, DecodeResult, newPacket, OPT_MSS, OPT_SACK, OPT_SACK_PERM, OPT_TS, OPT_WSCALE, TCP_SYN,
} from '../src/decode/packet.js';
import { corpusTrace, FORMATS } from './oracle.js';
import { pcap, tcpOpt, type Seg } from './pcap-writer.js';
import { requires } from './requires.js';

const F = (n: string): string => resolve(FORMATS, n);

interface Copy { frame: Frame; bytes: Buffer }
async function copies(file: string): Promise<Copy[]> {
  const out: Copy[] = [];
  await readCaptureFile(file, (f) => {
    const bytes = Buffer.from(f.buf.subarray(f.offset, f.offset + f.capLen));
    out.push({ frame: { ...f, buf: bytes, offset: 0 }, bytes });
  });
  return out;
}

test('IPv4 options and IPv6 hop-by-hop + destination options headers are walked (real sockets)', async () => {
  const p = newPacket();
  let v4opts = 0;
  let v6ext = 0;
  for (const { frame, bytes } of await copies(F('lo-us.pcap'))) {
    assert.equal(decodeFrame(frame, p, { checksums: false }), DecodeResult.Tcp);
    if (p.ipVersion === 4 && (bytes[14] & 0x0f) > 5) v4opts++;
    if (p.ipVersion === 6 && bytes[14 + 6] === 0) {
      v6ext++;
      assert.equal(bytes[14 + 40], 60, 'hop-by-hop is followed by destination options');
      assert.equal(p.tcpOffset, 14 + 40 + 16);
    }
  }
  assert.ok(v4opts >= 5, `${v4opts} IPv4 frames with options`);
  assert.ok(v6ext >= 5, `${v6ext} IPv6 frames with extension headers`);
});

test('TCP options of a Linux SYN: MSS, window scale, SACK-permitted, timestamps', async () => {
  const p = newPacket();
  const [syn] = await copies(F('lo-us.pcap'));
  assert.equal(decodeFrame(syn.frame, p, { checksums: false }), DecodeResult.Tcp);
  assert.equal(p.flags & TCP_SYN, TCP_SYN);
  assert.equal(p.optMss, 65495);
  assert.equal(p.optWscale, 10);
  assert.equal(p.optMask & (OPT_MSS | OPT_WSCALE | OPT_SACK_PERM | OPT_TS), OPT_MSS | OPT_WSCALE | OPT_SACK_PERM | OPT_TS);
  assert.ok(p.tsVal !== 0); // signed 32-bit form: may be negative
  assert.equal(p.tsEcr, 0);
});

test('SACK blocks are recognised (corpus retransmit-fast009.pcap frame 29, per tshark)', async () => {
  const p = newPacket();
  const all = await copies(corpusTrace('retransmit-fast009.pcap'));
  assert.equal(decodeFrame(all[28].frame, p, { checksums: false }), DecodeResult.Tcp);
  assert.ok(p.optMask & OPT_SACK);
});

test('options are per segment: frames alternating with and without the timestamp option never keep the previous one', async (t) => {
  // crafted: TS, none, TS, MSS only, TS, none... decoded in order into one Packet, as the pipeline does
  const segs: Seg[] = [];
  const want: { ts: [number, number] | null; mss: number }[] = [];
  for (let i = 0; i < 12; i++) {
    const ts: [number, number] | null = i % 2 === 0 ? [0x10000000 + i * 1000, 0x20000000 + i] : null;
    const mss = i % 4 === 3 ? 1460 : -1;
    const opts = [...(ts ? tcpOpt.ts(ts[0], ts[1]) : []), ...(mss > 0 ? tcpOpt.mss(mss) : [])];
    segs.push({ tsSec: 100 + i, src: ['10.4.0.1', 5000], dst: ['10.4.0.2', 80], flags: 'A', seq: 1 + i, ack: 1, opts: opts.length ? opts : undefined });
    want.push({ ts, mss });
  }
  const dir = mkdtempSync(join(tmpdir(), 'rstscope-tsopt-'));
  try {
    const file = join(dir, 'ts-alternating.pcap');
    writeFileSync(file, pcap(segs));
    await t.test('tshark reads the timestamp option exactly where it was put', requires('tshark'), () => {
      const shown = execFileSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=|', '-e', 'tcp.options.timestamp.tsval', '-e', 'tcp.options.timestamp.tsecr'],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter((l) => l !== '');
      assert.deepEqual(shown, want.map((w) => (w.ts ? `${w.ts[0]}|${w.ts[1]}` : '|')));
    });
    const frames = await copies(file);
    assert.equal(frames.length, want.length);
    const p = newPacket();
    for (let i = 0; i < frames.length; i++) {
      assert.equal(decodeFrame(frames[i].frame, p, { checksums: false }), DecodeResult.Tcp);
      const w = want[i];
      const got = { ts: p.optMask & OPT_TS ? [p.tsVal >>> 0, p.tsEcr >>> 0] : null, tsVal: p.tsVal, tsEcr: p.tsEcr, mss: p.optMss, mssBit: (p.optMask & OPT_MSS) !== 0 };
      assert.deepEqual(got, { ts: w.ts, tsVal: w.ts ? w.ts[0] : 0, tsEcr: w.ts ? w.ts[1] : 0, mss: w.mss, mssBit: w.mss > 0 }, `frame ${i + 1}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unknown and malformed TCP option kinds are skipped safely', async () => {
  const p = newPacket();
  const [syn] = await copies(F('lo-us.pcap'));
  // the SYN's options (IPv4 header of 24 bytes): MSS(4) SACKOK(2) TS(10) NOP WSCALE(3)
  const tcp = 14 + 24;
  const opts = tcp + 20;
  const b = Buffer.from(syn.bytes);
  // turn SACK-permitted (kind 4, len 2) into an unknown kind 254 of length 2
  assert.equal(b[opts + 4], 4);
  b[opts + 4] = 254;
  const f = { ...syn.frame, buf: b };
  assert.equal(decodeFrame(f, p, { checksums: false }), DecodeResult.Tcp);
  assert.equal(p.optMss, 65495);
  assert.equal(p.optWscale, 10, 'options after the unknown kind are still read');
  assert.equal(p.optMask & OPT_SACK_PERM, 0);
  // a zero option length ends option parsing without throwing; earlier options are kept
  b[opts + 5] = 0;
  assert.equal(decodeFrame(f, p, { checksums: false }), DecodeResult.Tcp);
  assert.equal(p.optMss, 65495);
  assert.equal(p.optWscale, -1);
  // a length running past the header likewise
  b[opts + 5] = 200;
  assert.equal(decodeFrame(f, p, { checksums: false }), DecodeResult.Tcp);
  assert.equal(p.payloadLen, 0);
});

test('--checksums: a wrong TCP checksum is counted and gives history C; without it the packet counts', async () => {
  const on = await analyze([F('checksum.pcap')], { checksums: true });
  assert.equal(on.stats.badChecksums, 1);
  const c = on.connections.find((r) => r.resp.port === 47801);
  assert.ok(c);
  assert.match(c.history, /C/);
  assert.equal(on.connections.find((r) => r.resp.port === 47802)?.history.includes('C'), false);
  const off = await analyze([F('checksum.pcap')], { checksums: false });
  assert.equal(off.stats.badChecksums, 0);
  const d = off.connections.find((r) => r.resp.port === 47801);
  assert.ok(d);
  assert.doesNotMatch(d.history, /C/);
  assert.equal(d.origBytes, 300);
  assert.equal(d.state, 'SF');
  // the same file with correct checksums everywhere else: only the damaged frame is bad
  const p = newPacket();
  const bad: number[] = [];
  for (const { frame } of await copies(F('checksum.pcap'))) {
    decodeFrame(frame, p, { checksums: true });
    if (p.badChecksum) bad.push(frame.frameNo);
  }
  assert.deepEqual(bad, [4]);
});

test('IPv4 total length 0 (TSO): payload length from the wire length, as tshark ip.tso_support does', async () => {
  const res = await analyze([F('tso-len0.pcap')]);
  const c = res.connections.find((r) => r.resp.port === 47801);
  assert.ok(c);
  assert.equal(c.origBytes, 300);
  assert.equal(c.respBytes, 200);
  assert.equal(c.state, 'SF');
});

test('frames that are not TCP are counted by reason, never thrown (Teredo.pcap, gtp2 trace: UDP tunnels)', async () => {
  const res = await analyze([corpusTrace('Teredo.pcap'), corpusTrace('gtp2_different_udp_port.pcap'), corpusTrace('llc.pcap')]);
  const skipped = res.stats.skipped;
  assert.ok((skipped['not-tcp'] ?? 0) > 0, JSON.stringify(skipped));
  for (const k of Object.keys(skipped)) assert.ok(DECODE_REASONS.includes(k), k);
  const total = Object.values(skipped).reduce((a, b) => a + b, 0);
  assert.equal(total + res.stats.tcpSegments, res.stats.frames);
  assert.ok(res.stats.tcpSegments > 0);
});

test('damaged frames never throw: every fixture frame cut at every length and with bytes flipped', async () => {
  const p = newPacket();
  let seed = 12345;
  const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const files = readdirSync(FORMATS).filter((f) => /\.pcap(ng)?$/.test(f)).map(F);
  files.push(corpusTrace('mixed-vlan-mpls.pcap'), corpusTrace('cisco-fabric-path.pcap'), corpusTrace('llc.pcap'));
  const seen = new Set<number>();
  let tried = 0;
  for (const file of files) {
    for (const { frame, bytes } of (await copies(file)).slice(0, 40)) {
      for (let len = 0; len <= bytes.length; len++) {
        // the frame view ends at len, the buffer too: a read past the view would throw RangeError
        const cut = Buffer.from(bytes.subarray(0, len));
        const r = decodeFrame({ ...frame, buf: cut, capLen: len }, p, { checksums: true });
        seen.add(r);
        tried++;
      }
      for (let k = 0; k < 30; k++) {
        const b = Buffer.from(bytes);
        for (let j = 0; j < 4; j++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
        const r = decodeFrame({ ...frame, buf: b, origLen: Math.floor(rnd() * 70000) }, p, { checksums: true });
        assert.ok(r >= 0 && r < DECODE_REASONS.length);
        seen.add(r);
        tried++;
      }
    }
  }
  assert.ok(tried > 10000);
  assert.ok(seen.has(DecodeResult.TruncatedLink) && seen.has(DecodeResult.TruncatedIp) && seen.has(DecodeResult.TruncatedTcp));
});
