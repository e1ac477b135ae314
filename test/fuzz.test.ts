/**
 * The short fuzz run of `npm test` (fast-check, fixed seeds so a failure
 * reproduces; the long coverage-guided run is `npm run fuzz`, scripts/fuzz.ts).
 * Every reader and decoder gets arbitrary bytes:
 *   - the bundled captures (test/fixtures/formats, captures/, test/regressions)
 *     mutated: bit flips, boundary values in length fields, truncation,
 *     deleted / duplicated / inserted ranges, splices between files;
 *   - structured packets in every supported link type, with every IPv4, IPv6
 *     extension-header and TCP header field drawn at random, in pcap and pcapng;
 *   - random pcapng block sequences (types, lengths, trailers, options).
 * Properties (scripts/fuzz.ts runTarget/checkInput): no exception anywhere in
 * reading, decoding, tracking, rules and all output formats; at most one
 * problem with an in-file offset and a one-line message; frames in file order
 * inside the file; the same result whatever the chunking; a truncated file
 * keeps every record that lies wholly before the cut; bounded time per input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { newFrame } from '../src/capture/frame.js';
import { decodeFrame } from '../src/decode/decoder.js';
import { DecodeResult, newPacket } from '../src/decode/packet.js';
import { checkInput, INTERESTING_U32, loadSeeds, runTarget } from '../scripts/fuzz.js';
import { pcapBytes, pcapngBlock, pcapngEpb, pcapngIdb, pcapngShb } from '../scripts/make-hostile.js';

const seeds = loadSeeds();
/** wall-clock bound per input (small inputs; generous for a loaded 2-core CI machine) */
const MAX_MS_PER_INPUT = 3000;

function timed(buf: Uint8Array, chunk: number) {
  const t0 = Date.now();
  const r = checkInput(buf, chunk);
  const ms = Date.now() - t0;
  assert.ok(ms < MAX_MS_PER_INPUT, `${ms} ms for ${buf.length} bytes`);
  return r;
}

// ---------- mutations of real captures ----------

type Mutation =
  | { k: 'flip'; pos: number; bit: number }
  | { k: 'byte'; pos: number; v: number }
  | { k: 'u32'; pos: number; v: number; le: boolean }
  | { k: 'u16'; pos: number; v: number }
  | { k: 'cut'; pos: number }
  | { k: 'del'; pos: number; n: number }
  | { k: 'dup'; pos: number; n: number }
  | { k: 'ins'; pos: number; bytes: Uint8Array }
  | { k: 'splice'; donor: number; from: number; n: number; pos: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ k: fc.constant('flip' as const), pos: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ k: fc.constant('byte' as const), pos: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    k: fc.constant('u32' as const), pos: fc.nat(),
    v: fc.oneof(fc.constantFrom(...INTERESTING_U32), fc.integer({ min: 0, max: 0xffffffff })), le: fc.boolean(),
  }),
  fc.record({ k: fc.constant('u16' as const), pos: fc.nat(), v: fc.constantFrom(0, 1, 4, 5, 15, 20, 40, 60, 0x8100, 0x86dd, 0xffff) }),
  fc.record({ k: fc.constant('cut' as const), pos: fc.nat() }),
  fc.record({ k: fc.constant('del' as const), pos: fc.nat(), n: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ k: fc.constant('dup' as const), pos: fc.nat(), n: fc.integer({ min: 1, max: 300 }) }),
  fc.record({ k: fc.constant('ins' as const), pos: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ k: fc.constant('splice' as const), donor: fc.nat(), from: fc.nat(), n: fc.integer({ min: 1, max: 400 }), pos: fc.nat() }),
);

function applyMutations(seed: Buffer, muts: Mutation[]): Buffer {
  let b = Buffer.from(seed);
  for (const m of muts) {
    const len = b.length;
    const at = (p: number, room = 0) => (len - room > 0 ? p % (len - room) : 0);
    switch (m.k) {
      case 'flip': if (len) b[at(m.pos)] ^= 1 << m.bit; break;
      case 'byte': if (len) b[at(m.pos)] = m.v; break;
      case 'u32': if (len >= 4) { if (m.le) b.writeUInt32LE(m.v >>> 0, at(m.pos, 3)); else b.writeUInt32BE(m.v >>> 0, at(m.pos, 3)); } break;
      case 'u16': if (len >= 2) b.writeUInt16BE(m.v, at(m.pos, 1)); break;
      case 'cut': b = b.subarray(0, m.pos % (len + 1)); break;
      case 'del': { const p = m.pos % (len + 1); b = Buffer.concat([b.subarray(0, p), b.subarray(p + m.n)]); break; }
      case 'dup': { const p = m.pos % (len + 1); const q = Math.min(len, p + m.n); b = Buffer.concat([b.subarray(0, q), b.subarray(p, q), b.subarray(q)]); break; }
      case 'ins': { const p = m.pos % (len + 1); b = Buffer.concat([b.subarray(0, p), Buffer.from(m.bytes), b.subarray(p)]); break; }
      case 'splice': {
        const d = seeds[m.donor % seeds.length];
        const from = d.length ? m.from % d.length : 0;
        const p = m.pos % (len + 1);
        b = Buffer.concat([b.subarray(0, p), d.subarray(from, from + m.n), b.subarray(p)]);
        break;
      }
    }
  }
  return b;
}

test('the seed set holds pcap and pcapng captures of every link type', () => {
  assert.ok(seeds.length >= 20, `${seeds.length} seeds`);
  for (const s of seeds) runTarget(s);
});

test('fuzz: mutated captures never crash, hang or break an invariant', () => {
  fc.assert(
    fc.property(
      fc.nat(), fc.array(mutationArb, { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 4096 }),
      (si, muts, chunk) => {
        timed(applyMutations(seeds[si % seeds.length], muts), chunk);
      },
    ),
    { numRuns: 600, seed: 0x5eed1, endOnFailure: true },
  );
});

test('fuzz: a capture cut anywhere keeps every record that lies wholly before the cut', () => {
  fc.assert(
    fc.property(fc.nat(), fc.nat(), (si, cutAt) => {
      const seed = seeds[si % seeds.length];
      const full = runTarget(seed);
      if (full.problems.length > 0) return; // only clean seeds have a known record layout
      const cut = cutAt % (seed.length + 1);
      const part = timed(seed.subarray(0, cut), 1 + (cutAt % 977));
      const n = part.frames.length;
      assert.deepEqual(part.frames, full.frames.slice(0, n), 'the frames read are the full file\'s first frames');
      // frame i's record ends at or before the next frame's offset (or the end of the file)
      for (let i = 0; i < full.frames.length; i++) {
        const recordEnd = i + 1 < full.frames.length ? full.frames[i + 1].fileOffset : seed.length;
        if (recordEnd <= cut) assert.ok(n > i, `frame ${i + 1} (record ending at ${recordEnd}) lost by a cut at ${cut}`);
      }
      if (cut < seed.length && cut > 0 && n < full.frames.length) {
        const ends = new Set(full.frames.map((f) => f.fileOffset));
        if (!ends.has(cut)) assert.ok(part.problems.length === 1, `a cut at ${cut} inside a record is reported`);
      }
    }),
    { numRuns: 300, seed: 0x5eed2 },
  );
});

// ---------- structured packets in every link type ----------

const u8 = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** TCP option bytes biased toward the interesting kinds and lengths (0, 1, too long) */
const tcpOptionsArb = fc.array(
  fc.oneof(
    fc.constant([0]), fc.constant([1]), fc.constant([2, 4, 5, 0xb4]), fc.constant([3, 3, 7]), fc.constant([4, 2]),
    fc.constant([8, 10, 0, 0, 0, 1, 0, 0, 0, 2]), fc.tuple(u8, fc.constantFrom(0, 1, 2, 40, 255)).map(([k, l]) => [k, l]),
    fc.uint8Array({ maxLength: 6 }).map((a) => [...a]),
  ),
  { maxLength: 8 },
).map((parts) => parts.flat());

const tcpArb = fc.record({
  sport: u16, dport: u16, seq: u32, ack: u32, off: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 15 })), flags: u8, win: u16,
  opts: tcpOptionsArb, payload: fc.uint8Array({ maxLength: 48 }),
}).map((t) => {
  const optLen = Math.min(40, t.opts.length + ((4 - (t.opts.length % 4)) % 4));
  const h = Buffer.alloc(20 + optLen);
  h.writeUInt16BE(t.sport, 0);
  h.writeUInt16BE(t.dport, 2);
  h.writeUInt32BE(t.seq, 4);
  h.writeUInt32BE(t.ack, 8);
  h[12] = (t.off < 0 ? (20 + optLen) >> 2 : t.off) << 4;
  h[13] = t.flags;
  h.writeUInt16BE(t.win, 14);
  Buffer.from(t.opts.slice(0, optLen)).copy(h, 20);
  return Buffer.concat([h, Buffer.from(t.payload)]);
});

const ip4Arb = fc.record({
  ihl: fc.oneof(fc.constant(5), fc.integer({ min: 0, max: 15 })), totalFix: fc.oneof(fc.constant(-1), u16),
  frag: fc.oneof(fc.constant(0x4000), fc.constant(0), u16), proto: fc.oneof(fc.constant(6), u8), ttl: u8,
  src: u32, dst: u32, tcp: tcpArb,
}).map((r) => {
  const hl = Math.max(20, r.ihl * 4);
  const h = Buffer.alloc(hl);
  h[0] = 0x40 | r.ihl;
  h.writeUInt16BE(r.totalFix >= 0 ? r.totalFix : Math.min(0xffff, hl + r.tcp.length), 2);
  h.writeUInt16BE(r.frag, 6);
  h[8] = r.ttl;
  h[9] = r.proto;
  h.writeUInt32BE(r.src, 12);
  h.writeUInt32BE(r.dst, 16);
  return Buffer.concat([h, r.tcp]);
});

const ip6Arb = fc.record({
  chain: fc.array(fc.record({ type: fc.constantFrom(0, 43, 44, 51, 60, 135, 139, 140, 17, 59, 6), len: fc.oneof(u8, fc.constant(0)), fragOff: u16 }), { maxLength: 14 }),
  payloadFix: fc.oneof(fc.constant(-1), fc.constant(0), u16), tcp: tcpArb,
}).map((r) => {
  const parts: Buffer[] = [];
  for (let i = 0; i < r.chain.length; i++) {
    const e = r.chain[i];
    const size = e.type === 44 ? 8 : e.type === 51 ? (e.len + 2) * 4 : (e.len + 1) * 8;
    const h = Buffer.alloc(Math.min(size, 64)); // may be shorter than claimed: runs off the end
    h[0] = i + 1 < r.chain.length ? r.chain[i + 1].type : 6;
    h[1] = e.len;
    if (e.type === 44) h.writeUInt16BE(e.fragOff, 2);
    parts.push(h);
  }
  parts.push(r.tcp);
  const body = Buffer.concat(parts);
  const ip = Buffer.alloc(40);
  ip[0] = 0x60;
  ip.writeUInt16BE(r.payloadFix >= 0 ? r.payloadFix : Math.min(0xffff, body.length), 4);
  ip[6] = r.chain.length ? r.chain[0].type : 6;
  ip[7] = 64;
  return Buffer.concat([ip, body]);
});

const ipArb = fc.oneof({ weight: 4, arbitrary: ip4Arb }, { weight: 3, arbitrary: ip6Arb }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a)) });

const ethertypeStack = fc.array(
  fc.oneof(
    fc.constant([0x81, 0x00, 0, 1]), fc.constant([0x88, 0xa8, 0, 2]), fc.constant([0x91, 0x00, 0, 3]),
    fc.constant([0x89, 0x03, 0, 0, ...new Array(12).fill(0)]), fc.constant([0x00, 0x40, 0xaa, 0xaa, 0x03, 0, 0, 0]),
  ),
  { maxLength: 4 },
).chain((tags) => fc.oneof(
  fc.constant([...tags.flat(), 0x08, 0x00]), fc.constant([...tags.flat(), 0x86, 0xdd]),
  fc.array(fc.tuple(u8, u8, fc.boolean()), { minLength: 1, maxLength: 18 }).map((ls) => [...tags.flat(), 0x88, 0x47, ...ls.flatMap(([a, b, bos], i) => [a, b, (bos || i === ls.length - 1) ? 1 : 0, 64])]),
  fc.constantFrom(0x0021, 0x0057, 0xc021).map((ppp) => [...tags.flat(), 0x88, 0x64, 0x11, 0, 0, 1, 0, 0, ppp >> 8, ppp & 0xff]),
  fc.tuple(u8, u8).map(([a, b]) => [...tags.flat(), a, b]),
));

/** [link type, link header bytes] for every supported link type, plus an unsupported one */
const linkArb: fc.Arbitrary<[number, number[]]> = fc.oneof(
  ethertypeStack.map((s) => [1, [...new Array(12).fill(0xee), ...s]] as [number, number[]]),
  ethertypeStack.map((s) => [113, [0, 0, 0, 1, 0, 6, ...new Array(8).fill(0), ...s]] as [number, number[]]),
  fc.constantFrom(0x0800, 0x86dd, 0x0806).map((p) => [276, [p >> 8, p & 0xff, ...new Array(18).fill(0)]] as [number, number[]]),
  fc.constantFrom(2, 10, 24, 28, 30, 7, 0x02000000).map((fam) => [0, [fam & 0xff, (fam >> 8) & 0xff, (fam >> 16) & 0xff, fam >>> 24]] as [number, number[]]),
  fc.constantFrom(2, 24, 99).map((fam) => [108, [0, 0, 0, fam]] as [number, number[]]),
  fc.constantFrom(9, 50).chain((lt) => fc.constantFrom([0xff, 0x03, 0x00, 0x21], [0x00, 0x57], [0xff, 0x03, 0xc0, 0x21]).map((h) => [lt, [...h]] as [number, number[]])),
  ethertypeStack.map((s) => [10, [0x50, ...new Array(12).fill(0), 0xaa, 0xaa, 0x03, 0, 0, 0, ...s]] as [number, number[]]),
  fc.constantFrom(101, 12, 14, 228, 229).map((lt) => [lt, []] as [number, number[]]),
  fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 24 })).map(([lt, h]) => [lt, [...h]] as [number, number[]]),
);

const frameArb = fc.record({ link: linkArb, ip: ipArb, cut: fc.oneof(fc.constant(-1), fc.nat({ max: 200 })), extraWire: fc.nat({ max: 100 }) });

test('fuzz: structured packets of every link type decode without reading past the frame', () => {
  fc.assert(
    fc.property(frameArb, ({ link: [lt, head], ip, cut, extraWire }) => {
      let bytes = Buffer.concat([Buffer.from(head), ip]);
      if (cut >= 0) bytes = bytes.subarray(0, cut);
      // decode from an offset inside a larger buffer whose tail is poison: reading past capLen would show
      const pad = 7;
      const buf = Buffer.alloc(pad + bytes.length + 64, 0x5a);
      bytes.copy(buf, pad);
      const f = newFrame();
      f.buf = buf;
      f.offset = pad;
      f.capLen = bytes.length;
      f.origLen = bytes.length + extraWire;
      f.linkType = lt;
      const p = newPacket();
      const res = decodeFrame(f, p, { checksums: (extraWire & 1) === 1 });
      assert.ok(res >= DecodeResult.Tcp && res <= DecodeResult.BadChecksum, `result ${res}`);
      if (res === DecodeResult.Tcp) {
        assert.ok(p.tcpOffset >= pad && p.tcpOffset + 20 <= pad + bytes.length, 'the TCP header lies in the frame');
        assert.ok(p.tcpHeaderLen >= 20 && p.tcpHeaderLen <= 60);
        assert.ok(p.payloadLen >= 0, `payload length ${p.payloadLen}`);
        assert.ok(p.payloadCaptured >= 0 && p.payloadCaptured <= p.payloadLen);
        assert.ok(p.tcpOffset + p.tcpHeaderLen + p.payloadCaptured <= pad + bytes.length || p.payloadCaptured === 0);
      }
    }),
    { numRuns: 3000, seed: 0x5eed3 },
  );
});

test('fuzz: structured packets through pcap and pcapng, whole pipeline', () => {
  fc.assert(
    fc.property(
      fc.array(frameArb, { minLength: 1, maxLength: 12 }), fc.boolean(),
      // pcapng timestamps: ordinary microseconds, or any 64-bit value (far beyond Date's range)
      fc.array(fc.oneof(u32.map((x) => BigInt(x) * 1_000_000n), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })), { minLength: 12, maxLength: 12 }),
      fc.integer({ min: 1, max: 512 }),
      (frames, ng, times, chunk) => {
        const lt = frames[0].link[0];
        const datas = frames.map(({ link: [, head], ip, cut }) => {
          const b = Buffer.concat([Buffer.from(head), ip]);
          return cut >= 0 ? b.subarray(0, cut) : b;
        });
        const bytes = ng
          ? Buffer.concat([pcapngShb(), pcapngIdb(lt), ...datas.map((d, i) => pcapngEpb(0, times[i], d, d.length + frames[i].extraWire))])
          : pcapBytes(datas.map((d, i) => ({ tsSec: Number(times[i] / 1_000_000n) >>> 0, data: d, origLen: d.length + frames[i].extraWire })), lt);
        const r = timed(bytes, chunk);
        assert.equal(r.problems.length, 0, JSON.stringify(r.problems));
        assert.equal(r.frames.length, frames.length);
      },
    ),
    { numRuns: 300, seed: 0x5eed4 },
  );
});

// ---------- random pcapng block sequences ----------

const blockArb = fc.record({
  type: fc.oneof(fc.constantFrom(1, 2, 3, 4, 5, 6, 10, 0xbad, 0x0a0d0d0a), u32),
  body: fc.uint8Array({ maxLength: 96 }),
  len: fc.oneof({ weight: 5, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.constantFrom(0, 4, 8, 12, 13, 16, 28, 31, 32, 0xfffffffc, 16 * 1024 * 1024) }),
  trailerOff: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -8, max: 8 }) }),
});

test('fuzz: random pcapng block sequences (types, lengths, trailers, options)', () => {
  fc.assert(
    fc.property(fc.array(blockArb, { maxLength: 12 }), fc.integer({ min: 1, max: 256 }), (blocks, chunk) => {
      const parts: Buffer[] = [pcapngShb()];
      for (const b of blocks) {
        if (b.len < 0) {
          const blk = pcapngBlock(b.type, b.body);
          if (b.trailerOff !== 0) blk.writeUInt32LE((blk.length + b.trailerOff) >>> 0, blk.length - 4);
          parts.push(blk);
        } else parts.push(pcapngBlock(b.type, b.body, b.len));
      }
      timed(Buffer.concat(parts), chunk);
    }),
    { numRuns: 500, seed: 0x5eed5 },
  );
});
