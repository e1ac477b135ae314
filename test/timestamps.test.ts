/**
 * Frame times, exactly, from small captures built in memory and read in
 * process (no files, no child processes: this is the `timestamps` mutation
 * group's killing test, run once per mutant). Classic pcap in microseconds and
 * nanoseconds, both byte orders, out-of-range sub-second fields; pcapng with
 * if_tsresol in powers of 10 and of 2 (each branch of the conversion),
 * if_tsoffset (positive and negative, both byte orders), EPB and the obsolete
 * PB, the little-endian fast path (its per-second window, the one-second
 * boundary, going back in time, a high-word change) against the general path
 * of big-endian sections; and tsSeconds. Every expected time is computed with
 * BigInt from the units in the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CaptureStream } from '../src/capture/reader.js';
import { tsSeconds, type Frame } from '../src/capture/frame.js';
import { PcapngParser } from '../src/capture/pcapng.js';

type Endian = 'le' | 'be';

/** Times as "sec.nnnnnnnnn" of every frame of an in-memory capture (one push, or one per `chunks`). */
function times(file: Buffer, chunks = 1): string[] {
  const out: string[] = [];
  const s = new CaptureStream('mem', (f: Frame) => {
    assert.ok(Number.isInteger(f.tsSec) && Number.isInteger(f.tsNsec), `frame ${f.frameNo}: whole seconds and nanoseconds (${f.tsSec}, ${f.tsNsec})`);
    assert.ok(f.tsNsec >= 0 && f.tsNsec < 1e9, `frame ${f.frameNo}: nanoseconds in range (${f.tsNsec})`);
    out.push(`${f.tsSec}.${String(f.tsNsec).padStart(9, '0')}`);
  });
  const step = Math.ceil(file.length / chunks);
  for (let o = 0; o < file.length; o += step) s.push(file.subarray(o, o + step));
  const info = s.end();
  assert.deepEqual(info.problems, [], 'read without problems');
  return out;
}

const fmt = (sec: bigint, ns: bigint): string => `${sec}.${String(ns).padStart(9, '0')}`;

/** a small payload (its content does not matter to the reader) */
const DATA = Buffer.from('45000014000000004006000001020304', 'hex');

// ---- classic pcap ----

function pcap(endian: Endian, nanos: boolean, records: [sec: number, sub: number][]): Buffer {
  const w32 = (b: Buffer, v: number, o: number) => (endian === 'le' ? b.writeUInt32LE(v >>> 0, o) : b.writeUInt32BE(v >>> 0, o));
  const h = Buffer.alloc(24);
  w32(h, nanos ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  if (endian === 'le') { h.writeUInt16LE(2, 4); h.writeUInt16LE(4, 6); } else { h.writeUInt16BE(2, 4); h.writeUInt16BE(4, 6); }
  w32(h, 65535, 16);
  w32(h, 101, 20); // LINKTYPE_RAW
  const parts = [h];
  for (const [sec, sub] of records) {
    const r = Buffer.alloc(16);
    w32(r, sec, 0);
    w32(r, sub, 4);
    w32(r, DATA.length, 8);
    w32(r, DATA.length, 12);
    parts.push(r, DATA);
  }
  return Buffer.concat(parts);
}

/**
 * The expected time: the sub-second field in its unit; an out-of-range field (>= 1 s, which tshark flags as
 * invalid) is not carried into the seconds but kept at the last unit of its second (src/capture/pcap.ts
 * invalidFraction).
 */
function pcapTime(nanos: boolean, sec: number, sub: number): string {
  if (sub >= (nanos ? 1_000_000_000 : 1_000_000)) return fmt(BigInt(sec), nanos ? 999_999_999n : 999_999_000n);
  const ns = BigInt(sub) * (nanos ? 1n : 1000n);
  return fmt(BigInt(sec) + ns / 1_000_000_000n, ns % 1_000_000_000n);
}

const PCAP_RECORDS: Record<'us' | 'ns', [number, number][]> = {
  us: [[0, 0], [1, 1], [1_700_000_000, 999_999], [0xffffffff, 123_456], [10, 1_000_000], [10, 1_500_001], [20, 0xffffffff]],
  ns: [[0, 0], [1, 1], [1_700_000_000, 999_999_999], [0xffffffff, 123_456_789], [10, 1_000_000_000], [10, 1_999_999_999], [20, 0xffffffff]],
};

for (const unit of ['us', 'ns'] as const) {
  for (const endian of ['le', 'be'] as const) {
    test(`pcap, ${unit === 'us' ? 'microseconds' : 'nanoseconds'}, ${endian === 'le' ? 'little' : 'big'}-endian: exact times, out-of-range sub-second fields kept within their second`, () => {
      const recs = PCAP_RECORDS[unit];
      assert.deepEqual(times(pcap(endian, unit === 'ns', recs)), recs.map(([s, sub]) => pcapTime(unit === 'ns', s, sub)));
    });
  }
}

test('pcap: an out-of-range field is not carried (1 s + 10^9 ns stays in second 1, at its last unit)', () => {
  assert.deepEqual(times(pcap('le', true, [[1, 1_000_000_000], [1, 999_999_999], [1, 2_000_000_001]])),
    ['1.999999999', '1.999999999', '1.999999999']);
  assert.deepEqual(times(pcap('be', false, [[1, 1_000_000], [1, 999_999]])), ['1.999999000', '1.999999000']);
});

// ---- pcapng ----

/** if_tsresol: 10^-n, or 2^-n when `bin` */
interface Res { dec?: number; bin?: number }

class Ng {
  private readonly parts: Buffer[] = [];
  constructor(readonly endian: Endian) {
    const body = Buffer.alloc(16);
    this.w32(body, 0x1a2b3c4d, 0);
    this.w16(body, 1, 4);
    body.writeInt32LE(-1, 8);
    body.writeInt32LE(-1, 12);
    this.block(0x0a0d0d0a, body);
  }

  w32(b: Buffer, v: number, o: number): void {
    if (this.endian === 'le') b.writeUInt32LE(v >>> 0, o); else b.writeUInt32BE(v >>> 0, o);
  }

  w16(b: Buffer, v: number, o: number): void {
    if (this.endian === 'le') b.writeUInt16LE(v, o); else b.writeUInt16BE(v, o);
  }

  block(type: number, body: Buffer): this {
    const padded = Buffer.alloc((body.length + 3) & ~3);
    body.copy(padded);
    const head = Buffer.alloc(8);
    const len = 12 + padded.length;
    this.w32(head, type, 0);
    this.w32(head, len, 4);
    const tail = Buffer.alloc(4);
    this.w32(tail, len, 0);
    this.parts.push(head, padded, tail);
    return this;
  }

  option(code: number, value: Buffer): Buffer {
    const b = Buffer.alloc(4 + ((value.length + 3) & ~3));
    this.w16(b, code, 0);
    this.w16(b, value.length, 2);
    value.copy(b, 4);
    return b;
  }

  /** if_tsoffset as the file's 64-bit signed integer */
  tsoffset(sec: bigint): Buffer {
    const v = Buffer.alloc(8);
    if (this.endian === 'le') v.writeBigInt64LE(sec); else v.writeBigInt64BE(sec);
    return this.option(14, v);
  }

  tsresol(res: Res): Buffer {
    return this.option(9, Buffer.from([res.bin !== undefined ? 0x80 | res.bin : res.dec ?? 6]));
  }

  /** an interface with these options (raw bytes, end-of-options marker included by the caller or not) */
  idb(options: Buffer[]): this {
    const head = Buffer.alloc(8);
    this.w16(head, 101, 0);
    this.w32(head, 65535, 4);
    return this.block(1, Buffer.concat([head, ...options]));
  }

  /** an EPB (or the obsolete PB) on interface `id`, at `units` of its resolution */
  packet(id: number, units: bigint, pb = false): this {
    const head = Buffer.alloc(20);
    if (pb) this.w16(head, id, 0); else this.w32(head, id, 0);
    this.w32(head, Number(units >> 32n), 4);
    this.w32(head, Number(units & 0xffffffffn), 8);
    this.w32(head, DATA.length, 12);
    this.w32(head, DATA.length, 16);
    return this.block(pb ? 2 : 6, Buffer.concat([head, DATA]));
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const END = Buffer.alloc(4);

/** the time of `units` at a resolution, plus an offset in seconds, as tshark shows it (truncated to ns) */
function ngTime(res: Res, units: bigint, offsetSec = 0n): string {
  const u = res.bin !== undefined ? 1n << BigInt(res.bin) : 10n ** BigInt(res.dec ?? 6);
  return fmt(units / u + offsetSec, ((units % u) * 1_000_000_000n) / u);
}

/** units per second of a resolution */
const upsOf = (res: Res): bigint => (res.bin !== undefined ? 1n << BigInt(res.bin) : 10n ** BigInt(res.dec ?? 6));

/**
 * Timestamps that walk every case of the conversion and of the fast path's
 * per-second window: within a second, the last unit of a second, exactly one
 * second on, back in time within the high word, a high-word change with the
 * low word inside the previous window, fractions that are not whole
 * nanoseconds, and the largest values whose seconds are exact in a double.
 */
function walk(res: Res): bigint[] {
  const ups = upsOf(res);
  const maxUnits = (1n << 53n) * ups - 1n; // seconds below 2^53
  const cap = (v: bigint) => (v > maxUnits ? maxUnits : v);
  const t0 = 1_700_000_000n * ups + ups / 2n + 1n; // mid-second
  const start = t0 - (t0 % ups); // the start of t0's second
  const hi1 = 1n << 32n;
  const list = [
    t0, t0 + 1n, start + ups - 1n, start + ups, start + ups + 1n, start + 3n * ups, start - 1n, start, t0 - ups,
    // high word 0, then 1 with the same low word, then back
    5n, 7n, hi1 + 7n, hi1 + 6n, hi1 - 1n, hi1, hi1 + ups, 3n * hi1 + 12345n,
    // fractions of a nanosecond (fine resolutions) and the extremes
    ups + 1n, ups * 1_000_000n - 1n, (1n << 64n) - 1n, (1n << 63n) + 5n, maxUnits, 0n,
  ];
  return list.map(cap).filter((v) => v >= 0n && v < 1n << 64n);
}

const RESOLUTIONS: Res[] = [
  { dec: 6 }, { dec: 0 }, { dec: 1 }, { dec: 3 }, { dec: 9 }, { dec: 10 }, { dec: 12 }, { dec: 19 },
  { bin: 0 }, { bin: 1 }, { bin: 8 }, { bin: 9 }, { bin: 10 }, { bin: 20 }, { bin: 30 }, { bin: 32 }, { bin: 33 }, { bin: 40 }, { bin: 63 },
];

const resName = (r: Res): string => (r.bin !== undefined ? `2^-${r.bin}` : `10^-${r.dec}`);

for (const endian of ['le', 'be'] as const) {
  test(`pcapng ${endian === 'le' ? 'little-endian (fast path)' : 'big-endian (general path)'}: every if_tsresol, exact times along the walk`, () => {
    for (const res of RESOLUTIONS) {
      const ng = new Ng(endian);
      // default 10^-6 when the option is absent
      ng.idb(res.dec === 6 ? [] : [ng.tsresol(res), END]);
      const units = walk(res);
      for (const u of units) ng.packet(0, u);
      assert.deepEqual(times(ng.bytes()), units.map((u) => ngTime(res, u)), resName(res));
    }
  });
}

test('pcapng: the fast path agrees with the general path when the file arrives in small chunks', () => {
  for (const res of [{ dec: 6 }, { dec: 9 }, { bin: 20 }]) {
    const ng = new Ng('le').idb([ng0(res)]);
    const units = walk(res);
    for (const u of units) ng.packet(0, u);
    assert.deepEqual(times(ng.bytes(), 17), units.map((u) => ngTime(res, u)), resName(res));
  }
  function ng0(res: Res): Buffer {
    return Buffer.concat([new Ng('le').tsresol(res), END]);
  }
});

test('pcapng: the fast path\'s second window, step by step (10^-6)', () => {
  const res = { dec: 6 };
  const T = 1_700_000_000_000_000n; // a whole second, in microseconds
  const seq = [
    T + 500_000n, // general path: sets the second [T, T + 10^6)
    T + 999_999n, // last unit of the second
    T + 1_000_000n, // exactly the next second: outside the window
    T + 1_000_000n + 999_999n,
    T + 999_999n, // back to the previous second
    T, // its first unit
    T - 1n, // before it
    T + 2_000_001n,
  ];
  for (const endian of ['le', 'be'] as const) {
    const ng = new Ng(endian).idb([]);
    for (const u of seq) ng.packet(0, u);
    assert.deepEqual(times(ng.bytes()), seq.map((u) => ngTime(res, u)), endian);
  }
});

/** times() with the number of general conversions (PcapngParser's setTime) it made */
function timesAndConversions(file: Buffer): { times: string[]; conversions: number } {
  const proto = PcapngParser.prototype as unknown as { setTime: (...a: unknown[]) => void };
  const setTime = proto.setTime;
  let conversions = 0;
  proto.setTime = function (this: unknown, ...a: unknown[]): void {
    conversions++;
    setTime.apply(this, a);
  };
  try {
    return { times: times(file), conversions };
  } finally {
    proto.setTime = setTime;
  }
}

test("pcapng: the fast path converts the rest of a second's packets without the general conversion (the window's purpose)", () => {
  for (const res of [{ dec: 6 }, { dec: 9 }, { dec: 3 }]) {
    const ups = upsOf(res);
    const T = 1_700_000_000n * ups; // a whole second
    // the first packet (mid-second, general path) opens the window [T, T + 1 s); every other one lies inside it,
    // its first unit and its last included, so none needs setTime
    const seq = [T + ups / 2n, T + ups / 2n + 1n, T, T + ups - 1n, T + ups / 2n];
    const ng = new Ng('le');
    ng.idb([ng.tsresol(res), END]);
    for (const u of seq) ng.packet(0, u);
    const r = timesAndConversions(ng.bytes());
    assert.deepEqual(r.times, seq.map((u) => ngTime(res, u)), resName(res));
    assert.equal(r.conversions, 1, `${resName(res)}: only the first packet takes setTime`);
    // a packet outside the window (the next second) takes it again, and opens that second's window
    const next = [...seq, T + ups, T + ups + 1n];
    const ng2 = new Ng('le');
    ng2.idb([ng2.tsresol(res), END]);
    for (const u of next) ng2.packet(0, u);
    assert.equal(timesAndConversions(ng2.bytes()).conversions, 2, `${resName(res)}: one more for the next second`);
  }
});

test('pcapng: a high-word change with the low word inside the current second is a new time, not the cached second', () => {
  const res = { dec: 9 };
  const hi = 1n << 32n;
  for (const endian of ['le', 'be'] as const) {
    for (const first of [5n, hi + 5n]) {
      const ng = new Ng(endian).idb([ng0(endian)]);
      // first packet on a high word other than 0 (the conversion's cache starts empty), then neighbours
      const seq = [first, first + 1n, first + hi, first + hi + 2n, first + 2n, 3n * hi + 5n, 3n * hi + 4n];
      for (const u of seq) ng.packet(0, u);
      assert.deepEqual(times(ng.bytes()), seq.map((u) => ngTime(res, u)), `${endian} ${first}`);
    }
  }
  function ng0(endian: Endian): Buffer {
    return Buffer.concat([new Ng(endian).tsresol(res), END]);
  }
});

test('pcapng: if_tsoffset adds whole seconds, positive or negative, in both byte orders and with every resolution branch', () => {
  const offsets = [0n, 1n, 3600n, (1n << 32n) + 5n, -1n, -1_000_000_000n, -((1n << 32n) + 7n)];
  for (const endian of ['le', 'be'] as const) {
    for (const res of [{ dec: 6 }, { dec: 12 }, { bin: 20 }, { bin: 40 }]) {
      for (const off of offsets) {
        const ng = new Ng(endian);
        ng.idb([ng.tsresol(res), ng.tsoffset(off), END]);
        const ups = upsOf(res);
        const seq = [10_000_000n * ups + 7n, 10_000_000n * ups + ups - 1n, 10_000_001n * ups, 10_000_000n * ups + 8n]; // below 2^64 units at 10^-12
        for (const u of seq) ng.packet(0, u);
        assert.deepEqual(times(ng.bytes()), seq.map((u) => ngTime(res, u, off)), `${endian} ${resName(res)} offset ${off}`);
      }
    }
  }
});

test('pcapng: interface options: order, padding, an option ending the block without an end marker, nothing read after the end marker', () => {
  for (const endian of ['le', 'be'] as const) {
    const ng = new Ng(endian);
    const u = 1_234_567_890_123n;
    const ifaces: { opts: Buffer[]; res: Res; off: bigint }[] = [
      // if_name (code 2) of 5 bytes, padded to 8, before the resolution and the offset
      { opts: [ng.option(2, Buffer.from('eth0\0')), ng.tsresol({ dec: 3 }), ng.tsoffset(100n), END], res: { dec: 3 }, off: 100n },
      // offset first, resolution last, no end-of-options marker: both still read
      { opts: [ng.tsoffset(-50n), ng.tsresol({ bin: 10 })], res: { bin: 10 }, off: -50n },
      // an offset as the very last option without an end marker
      { opts: [ng.tsresol({ dec: 9 }), ng.tsoffset(7n)], res: { dec: 9 }, off: 7n },
      // an option after the end-of-options marker is not read
      { opts: [ng.tsresol({ dec: 4 }), END, ng.tsresol({ dec: 9 }), ng.tsoffset(1000n)], res: { dec: 4 }, off: 0n },
      // an option whose length runs past the block ends the options (the resolution behind it is not read)
      { opts: [ng.tsresol({ dec: 3 }), overlong(ng), ng.tsresol({ dec: 9 })], res: { dec: 3 }, off: 0n },
      // a resolution option of length 0, and an offset shorter than 8 bytes, are ignored
      { opts: [ng.option(9, Buffer.alloc(0)), ng.option(14, Buffer.alloc(7, 1)), END], res: { dec: 6 }, off: 0n },
      // a resolution option longer than one byte: the first byte counts
      { opts: [ng.option(9, Buffer.from([2, 9, 9])), END], res: { dec: 2 }, off: 0n },
      // an option other than 9 and 14 with 8 bytes or more (if_description) is skipped, not read as an offset
      { opts: [ng.option(3, Buffer.from('a long description')), ng.tsresol({ dec: 3 }), END], res: { dec: 3 }, off: 0n },
      // the last option's value would run into the block's trailer: not read, an offset (its 8 bytes would be the
      // trailer and the next block's type) nor a resolution (its byte, the trailer's first)
      { opts: [ng.tsresol({ dec: 3 }), overlong(ng, 14, 8)], res: { dec: 3 }, off: 0n },
      { opts: [ng.tsoffset(5n), overlong(ng, 9, 1)], res: { dec: 6 }, off: 5n },
    ];
    ifaces.forEach((i) => ng.idb(i.opts));
    ifaces.forEach((_, id) => ng.packet(id, u));
    // the obsolete packet block carries the same timestamp fields
    ifaces.forEach((_, id) => ng.packet(id, u + 1n, true));
    assert.deepEqual(times(ng.bytes()), [
      ...ifaces.map((i) => ngTime(i.res, u, i.off)),
      ...ifaces.map((i) => ngTime(i.res, u + 1n, i.off)),
    ], endian);
  }
  /** an option header alone, claiming `len` bytes (64 by default): more than are left before the trailer */
  function overlong(ng: Ng, code = 2, len = 64): Buffer {
    const b = Buffer.alloc(4);
    ng.w16(b, code, 0);
    ng.w16(b, len, 2);
    return b;
  }
});

test('pcapng: packets on several interfaces keep each interface\'s resolution and second window', () => {
  for (const endian of ['le', 'be'] as const) {
    const ng = new Ng(endian);
    const a = { dec: 6 };
    const b = { dec: 9 };
    ng.idb([]).idb([ng.tsresol(b), END]);
    const seq: [number, bigint][] = [[0, 1_000_000_500_000n], [1, 1_000_000_000_500_000_000n], [0, 1_000_000_999_999n], [1, 1_000_000_000_999_999_999n], [0, 1_000_001_000_000n]];
    for (const [id, u] of seq) ng.packet(id, u);
    assert.deepEqual(times(ng.bytes()), seq.map(([id, u]) => ngTime(id === 0 ? a : b, u)), endian);
  }
});

test('pcapng: a new section starts with fresh interfaces (resolution and second window)', () => {
  const first = new Ng('le');
  first.idb([first.tsresol({ dec: 9 }), END]).packet(0, 5_000_000_123n).packet(0, 5_000_000_124n);
  const second = new Ng('le').idb([]).packet(0, 5_000_000_123n).packet(0, 5_000_000_124n);
  assert.deepEqual(times(Buffer.concat([first.bytes(), second.bytes()])),
    ['5.000000123', '5.000000124', '5000.000123000', '5000.000124000']);
});

test('tsSeconds: seconds with microsecond precision, the sub-microsecond digits dropped', () => {
  assert.equal(tsSeconds(0, 0), 0);
  assert.equal(tsSeconds(1, 999), 1);
  assert.equal(tsSeconds(1, 1000), 1.000001);
  assert.equal(tsSeconds(1_700_000_000, 999_999_999), 1_700_000_000.999999);
  assert.equal(tsSeconds(1_700_000_000, 123_456_789), 1_700_000_000.123456);
  assert.equal(tsSeconds(42, 500_000_000), 42.5);
  // the same double as parsing the decimal text
  for (const [s, ns] of [[1_600_000_000, 100_000], [1_234_567_890, 987_654_321], [3, 7_000]]) {
    assert.equal(tsSeconds(s, ns), Number(`${s}.${String(Math.floor(ns / 1000)).padStart(6, '0')}`));
  }
});
