/**
 * pcapng (draft-ietf-opsawg-pcapng). Sections (SHB) may change byte order and
 * reset the interface list; interfaces (IDB) carry their own link type,
 * snaplen, `if_tsresol` (option 9: 10^-n when the high bit is clear, 2^-n when
 * set; default 10^-6) and `if_tsoffset` (option 14, seconds). Packets come in
 * EPB (6), SPB (3, always interface 0) and the obsolete PB (2). ISB (5) gives
 * kernel drop counts. NRB (4), DSB (10), custom (0xBAD, 0x40000BAD) and other
 * known blocks are skipped; blocks of unknown type are skipped and counted.
 *
 * Guarantees: a block length that is not a multiple of 4, below 12, above
 * MAX_BLOCK_BYTES, or that disagrees with its trailing copy stops the parser at
 * once with a `corrupt` problem. A packet naming an interface that was never
 * described is a `corrupt` problem too (tshark stops there as well).
 */
import { endianness } from 'node:os';
import type { ByteWindow } from './window.js';
import { FormatParser, MAX_BLOCK_BYTES, MAX_PACKET_BYTES } from './parser.js';

export const PCAPNG_SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** the fast path reads little-endian fields through a Uint32Array: only on little-endian hosts */
const HOST_LE = endianness() === 'LE';

const BT_IDB = 1;
const BT_PB = 2;
const BT_SPB = 3;
const BT_NRB = 4;
const BT_ISB = 5;
const BT_EPB = 6;
const BT_DSB = 10;
const KNOWN_SKIPPED = new Set([BT_NRB, BT_DSB, 7, 8, 9, 0xbad, 0x40000bad, 0x80000001]);

interface Iface {
  linkType: number;
  snaplen: number;
  /** units per second, as a power: 10^dec or 2^bin */
  dec: number;
  bin: number;
  /** divisor for the fast path (10^dec when dec <= 9, else 0) */
  unitsPerSec: number;
  tsOffsetSec: number;
  /** cache of the last timestamp high word: hi*2^32 = cacheSec*unitsPerSec + cacheRem */
  cacheHi: number;
  cacheSec: number;
  cacheRem: number;
  /**
   * the second of the last decimal-resolution timestamp: stamps (secHi, lo) with
   * 0 <= lo - secLo < unitsPerSec fall in second secSec (tsOffsetSec included).
   * secHi is -1 when there is none (binary resolutions never use it).
   */
  secHi: number;
  secLo: number;
  secSec: number;
  lastDrops: number;
}

export class PcapngParser extends FormatParser {
  private le = true;
  private inSection = false;
  private ifaces: Iface[] = [];
  /**
   * The interface of the last EPB taken by the general path in a
   * little-endian section: the fast path (`runFast`) handles the following
   * EPBs on that same interface. null when there is none (new section,
   * big-endian section).
   */
  private fastIface: Iface | null = null;
  private fastId = -1;
  /** Uint32Array view of `u32Of` (the window buffer last seen by runFast) */
  private u32View: Uint32Array | null = null;
  private u32Of: Buffer | null = null;

  parse(win: ByteWindow): void {
    while (!this.stopped) {
      if (this.fastIface !== null) this.runFast(win);
      if (!this.step(win)) return;
    }
  }

  /**
   * Fast path: a run of little-endian EPBs on the interface `fastIface`
   * (the common case: one interface, one section). Per block it reads the
   * type, the length and the captured length through one Uint32Array view of
   * the window (no per-block allocation, the view is made once per window
   * buffer), makes one combined validity check, and delivers the packet in
   * place. Any block it does not take (other type, other interface, bad or
   * incomplete length) is left at `win.start` for `step`, which reports
   * problems with the exact messages. Only used on little-endian hosts and
   * when the block is 4-byte aligned in memory (always, for the readers'
   * own windows: blocks are multiples of 4 and the windows start aligned).
   */
  private runFast(win: ByteWindow): void {
    const b = win.buf;
    let s = win.start;
    // a Uint32Array view needs a 4-aligned byteOffset; s stays aligned (block lengths are multiples of 4)
    if ((b.byteOffset & 3) !== 0 || (s & 3) !== 0) return;
    let u32 = this.u32View;
    if (u32 === null || this.u32Of !== b) {
      u32 = this.u32View = new Uint32Array(b.buffer, b.byteOffset, b.length >>> 2);
      this.u32Of = b;
    }
    const end = win.end;
    const iface = this.fastIface!;
    const id = this.fastId;
    const f = this.frame;
    const info = this.info;
    const sink = this.sink;
    const linkType = iface.linkType;
    const ups = iface.unitsPerSec;
    // ns per interface unit; exact for 10^-n resolutions with n <= 9
    // Stryker disable next-line EqualityOperator,ConditionalExpression: `ups >= 0` and `true` are equivalent (ups 0 makes `inSec < ups` false below, so nsPerUnit is never used); the line's `<=` and `false` are killed
    const nsPerUnit = ups > 0 ? 1e9 / ups : 0;
    while (end - s >= 32) {
      const i = s >>> 2;
      if (u32[i] !== BT_EPB) break;
      const len = u32[i + 1];
      // an incomplete block (or a bogus huge length) goes to step(): it validates and waits or fails
      if (len > end - s) break;
      const capLen = u32[i + 5];
      // the one check: length a multiple of 4, packet fits in its block (so len >= 32),
      // packet within MAX_PACKET_BYTES, block within MAX_BLOCK_BYTES, trailer agrees, same interface
      if ((len & 3) !== 0 || capLen > MAX_PACKET_BYTES || len < 32 + capLen || len > MAX_BLOCK_BYTES
        || u32[i + (len >>> 2) - 1] !== len || u32[i + 2] !== id) break;
      const hi = u32[i + 3];
      const lo = u32[i + 4];
      // time: the last second's window (same high word, lo within one second of units
      // from its start) needs no division; anything else takes the exact general conversion
      const inSec = lo - iface.secLo;
      // (a mutant that only sends more packets to setTime gives the same times: test/timestamps.test.ts counts
      // the setTime calls to tell it)
      if (hi === iface.secHi && inSec >= 0 && inSec < ups) {
        f.tsSec = iface.secSec;
        f.tsNsec = inSec * nsPerUnit;
      } else this.setTime(iface, hi, lo);
      const origLen = u32[i + 6];
      this.records++;
      f.linkType = linkType;
      f.interfaceId = id;
      f.frameNo = ++info.packets;
      f.buf = b;
      f.offset = s + 28;
      f.capLen = capLen;
      f.fileOffset = win.base + s;
      info.bytes += capLen;
      if (origLen < capLen) f.origLen = capLen;
      else {
        f.origLen = origLen;
        if (capLen < origLen) info.truncatedPackets++;
      }
      s += len;
      // the window is consistent before the sink runs (a sink that throws leaves it so)
      win.start = s;
      sink(f);
    }
    win.start = s;
  }

  /**
   * General path: consumes one block. Returns false when the window does not
   * hold a complete block (or the parser stopped).
   */
  private step(win: ByteWindow): boolean {
    const avail = win.end - win.start;
    if (avail < 12) return false;
    const b = win.buf;
    const s = win.start;
    const offset = win.base + s;
    let type = this.le ? b.readUInt32LE(s) : b.readUInt32BE(s);
    if (type === PCAPNG_SHB || b.readUInt32BE(s) === PCAPNG_SHB) {
      type = PCAPNG_SHB;
      const bom = b.readUInt32LE(s + 8);
      if (bom === BYTE_ORDER_MAGIC) this.le = true;
      else if (b.readUInt32BE(s + 8) === BYTE_ORDER_MAGIC) this.le = false;
      else {
        this.fail('corrupt', offset, this.records + 1, 'section header block with an unknown byte-order magic');
        return false;
      }
    } else if (!this.inSection) {
      this.fail('corrupt', offset, this.records + 1, 'block outside a section (no section header block first)');
      return false;
    }
    const le = this.le;
    const len = le ? b.readUInt32LE(s + 4) : b.readUInt32BE(s + 4);
    if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK_BYTES) {
      this.fail('corrupt', offset, this.records + 1,
        `block length ${len} is ${len < 12 ? 'below the minimum of 12' : len % 4 ? 'not a multiple of 4' : `above the limit of ${MAX_BLOCK_BYTES}`}`);
      return false;
    }
    if (avail < len) return false;
    const trailer = le ? b.readUInt32LE(s + len - 4) : b.readUInt32BE(s + len - 4);
    if (trailer !== len) {
      this.fail('corrupt', offset, this.records + 1, `block length ${len} disagrees with its trailing copy ${trailer}`);
      return false;
    }
    this.records++;
    win.start = s + len;
    switch (type) {
      case PCAPNG_SHB:
        this.inSection = true;
        this.ifaces = [];
        this.fastIface = null;
        this.fastId = -1;
        this.info.format = 'pcapng';
        break;
      case BT_IDB:
        this.readIdb(b, s, len, offset);
        break;
      case BT_EPB:
        this.readEpb(b, s, len, offset);
        break;
      case BT_SPB:
        this.readSpb(b, s, len, offset);
        break;
      case BT_PB:
        this.readPb(b, s, len, offset);
        break;
      case BT_ISB:
        this.readIsb(b, s, len);
        break;
      default:
        if (!KNOWN_SKIPPED.has(type)) this.info.unknownBlocks++;
    }
    return !this.stopped;
  }

  private u32(b: Buffer, o: number): number {
    return this.le ? b.readUInt32LE(o) : b.readUInt32BE(o);
  }

  private u16(b: Buffer, o: number): number {
    return this.le ? b.readUInt16LE(o) : b.readUInt16BE(o);
  }

  private readIdb(b: Buffer, s: number, len: number, offset: number): void {
    if (len < 20) {
      this.fail('corrupt', offset, this.records, `interface description block of ${len} bytes is below its minimum of 20`);
      return;
    }
    const iface: Iface = {
      linkType: this.u16(b, s + 8), snaplen: this.u32(b, s + 12), dec: 6, bin: -1,
      unitsPerSec: 1e6, tsOffsetSec: 0, cacheHi: -1, cacheSec: 0, cacheRem: 0,
      // Stryker disable next-line UnaryOperator: `secHi: +1` is equivalent: setTime sets secHi before the fast path reads it, except on interfaces whose unitsPerSec is 0, where `inSec < ups` is false whatever secHi is
      secHi: -1, secLo: 0, secSec: 0, lastDrops: 0,
    };
    // options: code u16, length u16, value padded to 4
    let o = s + 16;
    const end = s + len - 4;
    // Stryker disable next-line EqualityOperator,ArithmeticOperator: `<` is equivalent: an option header ending exactly at `end` has length 0, and no option of length 0 is read (end of options, or too short for 9 and 14); the line's `>` is killed. `o - 4` is equivalent: o never passes `end` (block lengths are multiples of 4, step checks), so it only adds a read of the trailer at o = end, which breaks (code 0, or a length past `end`)
    while (o + 4 <= end) {
      const code = this.u16(b, o);
      const olen = this.u16(b, o + 2);
      if (code === 0 || o + 4 + olen > end) break;
      if (code === 9 && olen >= 1) {
        const v = b[o + 4];
        // Stryker disable next-line UnaryOperator: `dec = +1` is equivalent: with bin set (0 to 127) setTime takes a binary branch and never reads dec
        if (v & 0x80) { iface.bin = v & 0x7f; iface.dec = -1; iface.unitsPerSec = 0; }
        // (`v < 9` or `false` would send 10^-9 or coarser to setTime's BigInt decimal path: the same times, but every
        // packet through setTime, which test/timestamps.test.ts counts)
        else { iface.dec = v; iface.unitsPerSec = v <= 9 ? 10 ** v : 0; }
      } else if (code === 14 && olen >= 8) {
        const hi = this.le ? b.readInt32LE(o + 8) : b.readInt32BE(o + 4);
        const lo = this.le ? b.readUInt32LE(o + 4) : b.readUInt32BE(o + 8);
        iface.tsOffsetSec = hi * 4294967296 + lo;
      }
      o += 4 + ((olen + 3) & ~3);
    }
    this.ifaces.push(iface);
    this.addLinkType(iface.linkType);
  }

  /** Converts a 64-bit timestamp in interface units to frame.tsSec/tsNsec. */
  private setTime(iface: Iface, hi: number, lo: number): void {
    const f = this.frame;
    if (iface.unitsPerSec > 0) {
      const ups = iface.unitsPerSec;
      // Stryker disable next-line ConditionalExpression: `true` is equivalent (recomputing the cache for every packet gives the same values); the line's `false` is killed
      if (hi !== iface.cacheHi) {
        // hi * 2^32 split exactly into seconds and remaining units (BigInt once per hi change)
        const v = BigInt(hi) << 32n;
        const u = BigInt(ups);
        iface.cacheSec = Number(v / u);
        iface.cacheRem = Number(v % u);
        iface.cacheHi = hi;
      }
      const rem = iface.cacheRem + lo; // < 1e9 + 2^32: exact
      const extra = Math.floor(rem / ups);
      const units = rem - extra * ups;
      f.tsSec = iface.cacheSec + extra + iface.tsOffsetSec;
      f.tsNsec = units * (1e9 / ups);
      iface.secHi = hi;
      iface.secLo = lo - units;
      iface.secSec = f.tsSec;
    } else if (iface.bin >= 0 && iface.bin <= 32) {
      // 2^-k units, k <= 32: hi * 2^32 units are hi * 2^(32-k) whole seconds.
      // ns = floor(frac * 10^9 / 2^k) = floor(frac * 1953125 / 2^(k-9)) since
      // 10^9 = 2^9 * 1953125; frac * 1953125 < 2^53, so every step is exact and
      // truncates as tshark does. No BigInt on this path.
      const k = iface.bin;
      const unit = 2 ** k;
      const loSec = Math.floor(lo / unit);
      const frac = lo - loSec * unit;
      f.tsSec = hi * 2 ** (32 - k) + loSec + iface.tsOffsetSec;
      // Stryker disable next-line EqualityOperator,ConditionalExpression: `k > 9` and `true` are equivalent: for k <= 9 both formulas are exact integers, frac * 1953125 * 2^(9-k) = frac * 10^9 / 2^k; the line's `<` and `false` are killed
      f.tsNsec = k >= 9 ? Math.floor((frac * 1953125) / 2 ** (k - 9)) : frac * (1e9 / unit);
    } else if (
      // (the directive leads the condition: on the line before `} else if` it would trail the block above, and Stryker only reads leading comments)
      // Stryker disable next-line EqualityOperator: `>= 32` is equivalent: bin 32 takes the branch above; the line's `<=` is killed
      iface.bin > 32) {
      // rare: finer than 2^-32 s; exact with BigInt (allocates per packet)
      const v = (BigInt(hi) << 32n) | BigInt(lo);
      const k = BigInt(iface.bin);
      const sec = v >> k;
      const frac = v - (sec << k);
      f.tsSec = Number(sec) + iface.tsOffsetSec;
      f.tsNsec = Number((frac * 1_000_000_000n) >> k);
    } else {
      // decimal resolution finer than nanoseconds
      const v = (BigInt(hi) << 32n) | BigInt(lo);
      const u = 10n ** BigInt(iface.dec);
      const sec = v / u;
      f.tsSec = Number(sec) + iface.tsOffsetSec;
      f.tsNsec = Number(((v - sec * u) * 1_000_000_000n) / u);
    }
  }

  private iface(id: number, offset: number): Iface | undefined {
    const iface = this.ifaces[id];
    if (!iface) {
      this.fail('corrupt', offset, this.records,
        this.ifaces.length === 0 ? 'packet block before any interface description block'
          : `packet block names interface ${id}, but only ${this.ifaces.length} interface(s) are described`);
    }
    return iface;
  }

  private deliver(iface: Iface, id: number, b: Buffer, dataStart: number, capLen: number, origLen: number, offset: number): void {
    const f = this.frame;
    f.linkType = iface.linkType;
    f.interfaceId = id;
    this.emit(b, dataStart, capLen, origLen < capLen ? capLen : origLen, offset);
  }

  private readEpb(b: Buffer, s: number, len: number, offset: number): void {
    if (len < 32) {
      this.fail('corrupt', offset, this.records, `enhanced packet block of ${len} bytes is below its minimum of 32`);
      return;
    }
    const id = this.u32(b, s + 8);
    const iface = this.iface(id, offset);
    if (!iface) return;
    const capLen = this.u32(b, s + 20);
    if (capLen > len - 32 || capLen > MAX_PACKET_BYTES) {
      this.fail('corrupt', offset, this.records, `captured length ${capLen} does not fit in its block of ${len} bytes`);
      return;
    }
    this.setTime(iface, this.u32(b, s + 12), this.u32(b, s + 16));
    if (this.le && HOST_LE) {
      this.fastIface = iface;
      this.fastId = id;
    }
    this.deliver(iface, id, b, s + 28, capLen, this.u32(b, s + 24), offset);
  }

  private readSpb(b: Buffer, s: number, len: number, offset: number): void {
    if (len < 16) {
      this.fail('corrupt', offset, this.records, `simple packet block of ${len} bytes is below its minimum of 16`);
      return;
    }
    const iface = this.iface(0, offset);
    if (!iface) return;
    const origLen = this.u32(b, s + 8);
    let capLen = Math.min(origLen, len - 16);
    if (iface.snaplen > 0) capLen = Math.min(capLen, iface.snaplen);
    // SPB carries no timestamp (pcapng draft 4.4); tshark shows none either. The
    // frame gets time 0 (tsSec = tsNsec = 0), which consumers read as "unknown".
    const f = this.frame;
    f.tsSec = 0;
    f.tsNsec = 0;
    this.deliver(iface, 0, b, s + 12, capLen, origLen, offset);
  }

  private readPb(b: Buffer, s: number, len: number, offset: number): void {
    if (len < 32) {
      this.fail('corrupt', offset, this.records, `packet block of ${len} bytes is below its minimum of 32`);
      return;
    }
    const id = this.u16(b, s + 8);
    const iface = this.iface(id, offset);
    if (!iface) return;
    const capLen = this.u32(b, s + 20);
    if (capLen > len - 32) {
      this.fail('corrupt', offset, this.records, `captured length ${capLen} does not fit in its block of ${len} bytes`);
      return;
    }
    this.setTime(iface, this.u32(b, s + 12), this.u32(b, s + 16));
    this.deliver(iface, id, b, s + 28, capLen, this.u32(b, s + 24), offset);
  }

  private readIsb(b: Buffer, s: number, len: number): void {
    if (len < 24) return;
    const id = this.u32(b, s + 8);
    const iface = this.ifaces[id];
    if (!iface) return;
    // option isb_ifdrop (code 5, u64)
    let o = s + 20;
    const end = s + len - 4;
    while (o + 4 <= end) {
      const code = this.u16(b, o);
      const olen = this.u16(b, o + 2);
      if (code === 0 || o + 4 + olen > end) break;
      if (code === 5 && olen === 8) {
        const hi = this.u32(b, this.le ? o + 8 : o + 4);
        const lo = this.u32(b, this.le ? o + 4 : o + 8);
        const drops = hi * 4294967296 + lo;
        if (drops > iface.lastDrops) {
          this.info.drops += drops - iface.lastDrops;
          iface.lastDrops = drops;
        }
      }
      o += 4 + ((olen + 3) & ~3);
    }
  }
}
