/**
 * Generators for hostile captures (issue 7). Written at test time into a
 * temporary directory, never committed:
 *
 *   node dist/scripts/make-hostile.js syn-flood  --sources 1000000 --out FILE [--refused-every 4] [--duration 60]
 *   node dist/scripts/make-hostile.js rst-storm  --rsts 200000 --out FILE
 *   node dist/scripts/make-hostile.js seq-wrap   --wraps 3 --out FILE [--retransmit-at N]
 *   node dist/scripts/make-hostile.js days-long  --days 3 --out FILE
 *
 * Every file is a classic little-endian microsecond pcap with LINKTYPE_RAW
 * (101: the packet starts at the IPv4 header), written through one reused
 * 4 MiB buffer, so generating a million-packet file takes constant memory.
 * Addresses are documentation/benchmark ranges (RFC 5737 192.0.2.0/24 for
 * servers, RFC 2544 198.18.0.0/15 for flood sources); the files are bytes on
 * disk, no packet is ever sent.
 *
 * A "source" of the SYN flood is a distinct (address, port) pair: 16-bit ports
 * cannot give a million distinct values on one address, so the flood walks
 * ports 1024..65535 on 198.18.0.0, then on 198.18.0.1, and so on. Each source
 * sends one SYN to 192.0.2.10:80; every `refusedEvery`-th one is answered with
 * RST/ACK (refused), the rest never (syn-unanswered).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

export const LINKTYPE_RAW = 101;
const OUT_BUF = 4 << 20;
/** 2026-01-01T00:00:00Z */
export const T0_SEC = 1767225600;

/** Fields of one IPv4/TCP packet; `payloadLen` is the IP-length payload, `captured` how many payload bytes to store. */
export interface TcpSpec {
  src: number;
  dst: number;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  win?: number;
  payloadLen?: number;
  /** payload bytes actually written (default: all of payloadLen; less models a snaplen cut) */
  captured?: number;
  /** bytes to use as payload (repeated); default zeros */
  fill?: number;
  ttl?: number;
}

/** 192.0.2.x etc. as a 32-bit number */
export function ip4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/**
 * Streaming pcap writer (LINKTYPE_RAW, microseconds). `packet` writes one IPv4
 * header (20 bytes, no options) and one TCP header (20 bytes, no options)
 * followed by the captured part of the payload.
 */
export class PcapWriter {
  private readonly fd: number;
  private readonly buf = Buffer.alloc(OUT_BUF);
  private pos = 0;
  private ipId = 1;
  frames = 0;
  bytes = 0;

  constructor(path: string, readonly snaplen = 262144, linkType = LINKTYPE_RAW) {
    this.fd = openSync(path, 'w');
    const b = this.buf;
    b.writeUInt32LE(0xa1b2c3d4, 0);
    b.writeUInt16LE(2, 4);
    b.writeUInt16LE(4, 6);
    b.writeUInt32LE(snaplen, 16);
    b.writeUInt32LE(linkType, 20);
    this.pos = 24;
  }

  /** Raw record: header plus the given frame bytes (anything at all). */
  raw(tsUs: number, frame: Uint8Array, origLen = frame.length): void {
    if (this.pos + 16 + frame.length > OUT_BUF) this.flush();
    if (16 + frame.length > OUT_BUF) throw new Error('record larger than the writer buffer');
    this.header(tsUs, frame.length, origLen);
    this.buf.set(frame, this.pos);
    this.pos += frame.length;
  }

  private header(tsUs: number, capLen: number, origLen: number): void {
    const b = this.buf;
    const sec = Math.floor(tsUs / 1e6);
    b.writeUInt32LE(sec >>> 0, this.pos);
    b.writeUInt32LE(tsUs - sec * 1e6, this.pos + 4);
    b.writeUInt32LE(capLen, this.pos + 8);
    b.writeUInt32LE(origLen, this.pos + 12);
    this.pos += 16;
    this.frames++;
  }

  packet(tsUs: number, s: TcpSpec): void {
    const payloadLen = s.payloadLen ?? 0;
    const captured = Math.min(s.captured ?? payloadLen, payloadLen, this.snaplen - 40);
    const total = 40 + payloadLen;
    if (total > 65535) throw new Error('IPv4 total length above 65535');
    const capLen = 40 + captured;
    if (this.pos + 16 + capLen > OUT_BUF) this.flush();
    this.header(tsUs, capLen, total);
    const b = this.buf;
    const o = this.pos;
    b[o] = 0x45;
    b[o + 1] = 0;
    b.writeUInt16BE(total, o + 2);
    b.writeUInt16BE(this.ipId = (this.ipId + 1) & 0xffff, o + 4);
    b.writeUInt16BE(0x4000, o + 6); // DF
    b[o + 8] = s.ttl ?? 64;
    b[o + 9] = 6;
    b.writeUInt16BE(0, o + 10); // checksum left zero (offload)
    b.writeUInt32BE(s.src >>> 0, o + 12);
    b.writeUInt32BE(s.dst >>> 0, o + 16);
    const t = o + 20;
    b.writeUInt16BE(s.sport, t);
    b.writeUInt16BE(s.dport, t + 2);
    b.writeUInt32BE(s.seq >>> 0, t + 4);
    b.writeUInt32BE(s.ack >>> 0, t + 8);
    b[t + 12] = 5 << 4;
    b[t + 13] = s.flags;
    b.writeUInt16BE(s.win ?? 65535, t + 14);
    b.writeUInt32BE(0, t + 16);
    b.fill(s.fill ?? 0, t + 20, t + 20 + captured);
    this.pos = t + 20 + captured;
    this.bytes += 16 + capLen;
  }

  private flush(): void {
    let off = 0;
    while (off < this.pos) off += writeSync(this.fd, this.buf, off, this.pos - off);
    this.pos = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

export interface FloodResult {
  frames: number;
  sources: number;
  refused: number;
  unanswered: number;
}

/**
 * SYN flood: `sources` distinct (address, port) pairs, one SYN each, spread
 * evenly over `durationSec` of capture time. Every `refusedEvery`-th SYN is
 * answered 100 µs later with RST/ACK (seq 0, ack ISN+1).
 */
export function synFlood(out: string, sources: number, refusedEvery = 4, durationSec = 60): FloodResult {
  const w = new PcapWriter(out, 96);
  const server = ip4(192, 0, 2, 10);
  const stepUs = Math.max(1, Math.floor((durationSec * 1e6) / sources));
  let refused = 0;
  for (let i = 0; i < sources; i++) {
    const src = (ip4(198, 18, 0, 0) + Math.floor(i / 64512)) >>> 0;
    const sport = 1024 + (i % 64512);
    const isn = Math.imul(i + 1, 0x9e3779b1) >>> 0;
    const t = T0_SEC * 1e6 + i * stepUs;
    w.packet(t, { src, dst: server, sport, dport: 80, seq: isn, ack: 0, flags: SYN, win: 64240 });
    if (refusedEvery > 0 && i % refusedEvery === 0) {
      refused++;
      w.packet(t + 100, { src: server, dst: src, sport: 80, dport: sport, seq: 0, ack: (isn + 1) >>> 0, flags: RST | ACK, win: 0 });
    }
  }
  w.close();
  return { frames: w.frames, sources, refused, unanswered: sources - refused };
}

export interface StormResult {
  frames: number;
  /** RSTs aimed at the one established connection */
  blindRsts: number;
  /** RSTs to tuples never seen before (backscatter) */
  strayRsts: number;
}

/**
 * RST storm: one established connection 198.18.0.1:40000 > 192.0.2.20:443
 * receives `rsts / 2` blind RSTs with sequence numbers scattered over the
 * whole space (an injection attack), while `rsts / 2` more RSTs arrive for
 * tuples never seen (backscatter from someone else's spoofed flood). The real
 * connection then closes with FIN/ACK both ways. 10 µs between packets.
 */
export function rstStorm(out: string, rsts: number): StormResult {
  const w = new PcapWriter(out, 96);
  const cli = ip4(198, 18, 0, 1);
  const srv = ip4(192, 0, 2, 20);
  let t = T0_SEC * 1e6;
  const c = { src: cli, dst: srv, sport: 40000, dport: 443 };
  const s = { src: srv, dst: cli, sport: 443, dport: 40000 };
  const ci = 1000;
  const si = 5000;
  w.packet(t += 10, { ...c, seq: ci, ack: 0, flags: SYN });
  w.packet(t += 10, { ...s, seq: si, ack: ci + 1, flags: SYN | ACK });
  w.packet(t += 10, { ...c, seq: ci + 1, ack: si + 1, flags: ACK });
  w.packet(t += 10, { ...c, seq: ci + 1, ack: si + 1, flags: PSH | ACK, payloadLen: 100 });
  w.packet(t += 10, { ...s, seq: si + 1, ack: ci + 101, flags: ACK });
  const blind = rsts >> 1;
  const stray = rsts - blind;
  for (let i = 0; i < blind; i++) {
    // spoofed: scattered sequence numbers, TTL unlike the server's
    w.packet(t += 10, { ...s, seq: Math.imul(i + 7, 0x9e3779b1) >>> 0, ack: 0, flags: RST, ttl: 200 });
  }
  for (let i = 0; i < stray; i++) {
    const src = (ip4(192, 0, 2, 100) + (i % 100)) >>> 0;
    w.packet(t += 10, {
      src, dst: cli, sport: 80, dport: 1024 + (i % 64000), seq: Math.imul(i + 3, 0x85ebca6b) >>> 0, ack: 0, flags: RST,
    });
  }
  w.packet(t += 10, { ...c, seq: ci + 101, ack: si + 1, flags: FIN | ACK });
  w.packet(t += 10, { ...s, seq: si + 1, ack: ci + 102, flags: FIN | ACK });
  w.packet(t += 10, { ...c, seq: ci + 102, ack: si + 2, flags: ACK });
  w.close();
  return { frames: w.frames, blindRsts: blind, strayRsts: stray };
}

export interface WrapResult {
  frames: number;
  /** payload bytes the client sent (each counted once) */
  bytes: number;
  segments: number;
  /** retransmitted payload bytes (the one injected retransmission, or 0) */
  retransBytes: number;
}

/**
 * A bulk transfer whose sequence numbers wrap past 2^32 `wraps` times. Each
 * data segment is cut by a 96-byte snaplen (IP total length 65535, 65495
 * payload bytes, 40 captured header bytes), so several times 4 GiB of
 * sequence space fits in a file of tens of MiB. The ISN sits just below 2^32
 * so the first wrap comes within the first segment. The server ACKs every
 * 16th segment. `retransmitAt` (a segment index) re-sends that segment once
 * right after it, which must count as exactly one retransmission.
 * 50 µs between segments (about 10 Gbit/s): a 3-wrap transfer spans ~10 s.
 */
export function seqWrap(out: string, wraps: number, retransmitAt = -1): WrapResult {
  const w = new PcapWriter(out, 96);
  const cli = ip4(198, 18, 0, 2);
  const srv = ip4(192, 0, 2, 30);
  const c = { src: cli, dst: srv, sport: 50000, dport: 5001 };
  const s = { src: srv, dst: cli, sport: 5001, dport: 50000 };
  const ci = 0xffffff00;
  const si = 0x7fffffff;
  const MSS = 65495;
  let t = T0_SEC * 1e6;
  w.packet(t += 50, { ...c, seq: ci, ack: 0, flags: SYN });
  w.packet(t += 50, { ...s, seq: si, ack: ci + 1, flags: SYN | ACK });
  w.packet(t += 50, { ...c, seq: ci + 1, ack: si + 1, flags: ACK });
  const segments = Math.ceil((wraps * 4294967296 + 1_000_000) / MSS);
  let rel = 1;
  let retransBytes = 0;
  for (let i = 0; i < segments; i++) {
    const seg = { ...c, seq: (ci + rel) >>> 0, ack: si + 1, flags: ACK, payloadLen: MSS, captured: 0 };
    w.packet(t += 50, seg);
    if (i === retransmitAt) {
      w.packet(t += 50, seg);
      retransBytes = MSS;
    }
    rel += MSS;
    if (i % 16 === 15) w.packet(t += 50, { ...s, seq: si + 1, ack: (ci + rel) >>> 0, flags: ACK });
  }
  w.packet(t += 50, { ...c, seq: (ci + rel) >>> 0, ack: si + 1, flags: FIN | ACK });
  w.packet(t += 50, { ...s, seq: si + 1, ack: (ci + rel + 1) >>> 0, flags: FIN | ACK });
  w.packet(t += 50, { ...c, seq: (ci + rel + 1) >>> 0, ack: si + 2, flags: ACK });
  w.close();
  return { frames: w.frames, bytes: rel - 1, segments, retransBytes };
}

export interface DaysResult {
  frames: number;
  durationSec: number;
  origBytes: number;
  respBytes: number;
}

/**
 * One connection lasting `days` days of capture time: a request (100 bytes)
 * and a response (200 bytes) every `intervalSec` (below the 5-minute
 * inactivity timeout, so it is one connection throughout), then FIN both ways.
 */
export function daysLong(out: string, days: number, intervalSec = 60): DaysResult {
  const w = new PcapWriter(out, 262144);
  const cli = ip4(198, 18, 0, 3);
  const srv = ip4(192, 0, 2, 40);
  const c = { src: cli, dst: srv, sport: 51000, dport: 6379 };
  const s = { src: srv, dst: cli, sport: 6379, dport: 51000 };
  const ci = 100;
  const si = 900;
  const t0 = T0_SEC * 1e6;
  let t = t0;
  w.packet(t, { ...c, seq: ci, ack: 0, flags: SYN });
  w.packet(t += 100, { ...s, seq: si, ack: ci + 1, flags: SYN | ACK });
  w.packet(t += 100, { ...c, seq: ci + 1, ack: si + 1, flags: ACK });
  let cr = 1;
  let sr = 1;
  const rounds = Math.floor((days * 86400) / intervalSec);
  for (let i = 0; i < rounds; i++) {
    t = t0 + (i + 1) * intervalSec * 1e6;
    w.packet(t, { ...c, seq: ci + cr, ack: si + sr, flags: PSH | ACK, payloadLen: 100, fill: 0x61 });
    cr += 100;
    w.packet(t += 200, { ...s, seq: si + sr, ack: ci + cr, flags: PSH | ACK, payloadLen: 200, fill: 0x62 });
    sr += 200;
    w.packet(t += 200, { ...c, seq: ci + cr, ack: si + sr, flags: ACK });
  }
  t += 1e6;
  w.packet(t, { ...c, seq: ci + cr, ack: si + sr, flags: FIN | ACK });
  w.packet(t += 100, { ...s, seq: si + sr, ack: ci + cr + 1, flags: FIN | ACK });
  w.packet(t += 100, { ...c, seq: ci + cr + 1, ack: si + sr + 1, flags: ACK });
  w.close();
  return { frames: w.frames, durationSec: (t - t0) / 1e6, origBytes: cr - 1, respBytes: sr - 1 };
}

function arg(args: string[], name: string, dflt?: string): string {
  const i = args.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < args.length) return args[i + 1];
  if (dflt === undefined) throw new Error(`--${name} is required`);
  return dflt;
}

function cli(args: string[]): void {
  const kind = args[0];
  const out = arg(args, 'out');
  let res: unknown;
  switch (kind) {
    case 'syn-flood':
      res = synFlood(out, Number(arg(args, 'sources', '1000000')), Number(arg(args, 'refused-every', '4')), Number(arg(args, 'duration', '60')));
      break;
    case 'rst-storm':
      res = rstStorm(out, Number(arg(args, 'rsts', '200000')));
      break;
    case 'seq-wrap':
      res = seqWrap(out, Number(arg(args, 'wraps', '3')), Number(arg(args, 'retransmit-at', '-1')));
      break;
    case 'days-long':
      res = daysLong(out, Number(arg(args, 'days', '3')));
      break;
    default:
      throw new Error('usage: make-hostile.js syn-flood|rst-storm|seq-wrap|days-long --out FILE [options]');
  }
  process.stdout.write(JSON.stringify(res) + '\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    cli(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`make-hostile: ${(e as Error).message}\n`);
    process.exitCode = 2;
  }
}

// ---------- small in-memory builders for hand-made corrupt captures (tests) ----------

export interface Ip4TcpBytes {
  src?: number;
  dst?: number;
  sport?: number;
  dport?: number;
  seq?: number;
  ack?: number;
  flags?: number;
  /** IPv4 header length in bytes as written in IHL (default 20; options zero-filled up to min(ihl, 60)) */
  ihl?: number;
  /** bytes of IPv4 header actually present (default = ihl, at least 20) */
  ipHeaderBytes?: number;
  /** IPv4 total length field (default: the real length) */
  totalLen?: number;
  /** TCP data offset in bytes as written (default 20 + options) */
  dataOffset?: number;
  /** raw TCP option bytes (written after the 20-byte header) */
  tcpOptions?: number[];
  payload?: Uint8Array;
}

/** One IPv4+TCP packet as bytes, with every length field overridable (for malformed headers). */
export function ip4Tcp(o: Ip4TcpBytes = {}): Buffer {
  const ihl = o.ihl ?? 20;
  const ipBytes = o.ipHeaderBytes ?? Math.max(20, Math.min(ihl, 60));
  const opts = o.tcpOptions ?? [];
  const payload = o.payload ?? new Uint8Array(0);
  const tcpLen = 20 + opts.length + payload.length;
  const b = Buffer.alloc(ipBytes + tcpLen);
  b[0] = 0x40 | ((ihl >> 2) & 0x0f);
  b.writeUInt16BE(o.totalLen ?? ipBytes + tcpLen, 2);
  b.writeUInt16BE(0x4000, 6);
  b[8] = 64;
  b[9] = 6;
  b.writeUInt32BE((o.src ?? ip4(192, 0, 2, 1)) >>> 0, 12);
  b.writeUInt32BE((o.dst ?? ip4(192, 0, 2, 2)) >>> 0, 16);
  const t = ipBytes;
  b.writeUInt16BE(o.sport ?? 40000, t);
  b.writeUInt16BE(o.dport ?? 80, t + 2);
  b.writeUInt32BE((o.seq ?? 1000) >>> 0, t + 4);
  b.writeUInt32BE((o.ack ?? 0) >>> 0, t + 8);
  b[t + 12] = (((o.dataOffset ?? 20 + opts.length) >> 2) & 0x0f) << 4;
  b[t + 13] = o.flags ?? SYN;
  b.writeUInt16BE(65535, t + 14);
  Buffer.from(opts).copy(b, t + 20);
  Buffer.from(payload).copy(b, t + 20 + opts.length);
  return b;
}

/** IPv6 + extension headers ([next-header type, length byte] each, 8 bytes per unit) + a TCP header. */
export function ip6Tcp(ext: { type: number; lenByte: number }[], opts: { truncateTo?: number; payloadLen?: number } = {}): Buffer {
  const parts: Buffer[] = [];
  const first = ext.length > 0 ? ext[0].type : 6;
  for (let i = 0; i < ext.length; i++) {
    const next = i + 1 < ext.length ? ext[i + 1].type : 6;
    const size = ext[i].type === 44 ? 8 : ext[i].type === 51 ? (ext[i].lenByte + 2) * 4 : (ext[i].lenByte + 1) * 8;
    const h = Buffer.alloc(Math.min(size, 2048));
    h[0] = next;
    h[1] = ext[i].lenByte;
    parts.push(h);
  }
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(40000, 0);
  tcp.writeUInt16BE(80, 2);
  tcp.writeUInt32BE(1000, 4);
  tcp[12] = 5 << 4;
  tcp[13] = SYN;
  parts.push(tcp);
  const body = Buffer.concat(parts);
  const ip = Buffer.alloc(40);
  ip[0] = 0x60;
  ip.writeUInt16BE(opts.payloadLen ?? body.length, 4);
  ip[6] = first;
  ip[7] = 64;
  ip[23] = 1; // 2001:db8::1 style is not needed: ::1 -> ::2
  ip[39] = 2;
  const whole = Buffer.concat([ip, body]);
  return opts.truncateTo !== undefined ? whole.subarray(0, opts.truncateTo) : whole;
}

/** A classic pcap file in memory: little-endian, microseconds. */
export function pcapBytes(records: { tsSec?: number; tsUsec?: number; data: Uint8Array; origLen?: number; capLen?: number }[], linkType = LINKTYPE_RAW, snaplen = 262144): Buffer {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(snaplen >>> 0, 16);
  h.writeUInt32LE(linkType, 20);
  parts.push(h);
  let i = 0;
  for (const r of records) {
    const rh = Buffer.alloc(16);
    rh.writeUInt32LE((r.tsSec ?? T0_SEC + i) >>> 0, 0);
    rh.writeUInt32LE(r.tsUsec ?? 0, 4);
    rh.writeUInt32LE((r.capLen ?? r.data.length) >>> 0, 8);
    rh.writeUInt32LE((r.origLen ?? r.data.length) >>> 0, 12);
    parts.push(rh, Buffer.from(r.data));
    i++;
  }
  return Buffer.concat(parts);
}

/** One pcapng block (little-endian): type, total length, body padded to 4, trailing length; `len` overrides both length fields. */
export function pcapngBlock(type: number, body: Uint8Array, len?: number, trailer?: number): Buffer {
  const padded = (body.length + 3) & ~3;
  const total = 12 + padded;
  const b = Buffer.alloc(total);
  b.writeUInt32LE(type >>> 0, 0);
  b.writeUInt32LE((len ?? total) >>> 0, 4);
  Buffer.from(body).copy(b, 8);
  b.writeUInt32LE((trailer ?? len ?? total) >>> 0, total - 4);
  return b;
}

export function pcapngShb(): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt32LE(0x1a2b3c4d, 0);
  body.writeUInt16LE(1, 4);
  body.writeInt32LE(-1, 8);
  body.writeInt32LE(-1, 12);
  return pcapngBlock(0x0a0d0d0a, body);
}

export function pcapngIdb(linkType = LINKTYPE_RAW, snaplen = 262144): Buffer {
  const body = Buffer.alloc(8);
  body.writeUInt16LE(linkType, 0);
  body.writeUInt32LE(snaplen, 4);
  return pcapngBlock(1, body);
}

/** Enhanced packet block; timestamp in the interface's units (default microseconds). */
export function pcapngEpb(ifId: number, tsUnits: bigint, data: Uint8Array, origLen = data.length): Buffer {
  const body = Buffer.alloc(20 + ((data.length + 3) & ~3));
  body.writeUInt32LE(ifId >>> 0, 0);
  body.writeUInt32LE(Number(tsUnits >> 32n) >>> 0, 4);
  body.writeUInt32LE(Number(tsUnits & 0xffffffffn) >>> 0, 8);
  body.writeUInt32LE(data.length, 12);
  body.writeUInt32LE(origLen, 16);
  Buffer.from(data).copy(body, 20);
  return pcapngBlock(6, body);
}
