/**
 * Wraps real kernel frames in the tunnels this kernel's `ip link` cannot make
 * (GENEVE, GRE, ERSPAN II and III, IPIP, SIT, IPv4/IPv6-in-IPv6, GTP-U,
 * Teredo) and in nestings with VLAN and MPLS, byte by byte, from the field
 * layouts of the RFCs and specifications src/decode/tunnel.ts cites. The
 * inner frames are the kernel's, unchanged; the outer headers are written
 * here. test/tunnels.test.ts checks every file against tshark's decode of the
 * inner TCP, field by field, and against the findings on the unwrapped capture.
 *
 *   node dist/scripts/wrap-tunnels.js            # writes test/fixtures/tunnels/wrap-*.pcap
 *
 * The output is a pure function of the base captures (no time, no randomness):
 * the test regenerates it and compares bytes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const TUNNEL_FIXTURES = join(ROOT, 'test/fixtures/tunnels');
/** The IPv4 base: a real loopback capture (rst-with-unread-data) and the IPv6 one (make-tunnel-captures.sh). */
export const BASE_V4 = join(ROOT, 'captures/rst-with-unread-data.pcap');
export const BASE_V6 = join(TUNNEL_FIXTURES, 'base-v6.pcap');

export interface Rec {
  tsSec: number;
  tsUsec: number;
  /** the captured bytes of the Ethernet frame */
  data: Buffer;
  /** its length on the wire (more than data.length when the snaplen cut it) */
  origLen: number;
}

/** Records of a classic little-endian microsecond pcap of Ethernet frames (the tcpdump captures used here). */
export function readPcap(file: string): Rec[] {
  const b = readFileSync(file);
  if (b.readUInt32LE(0) !== 0xa1b2c3d4 || b.readUInt32LE(20) !== 1) throw new Error(`${file}: not a little-endian Ethernet pcap`);
  const out: Rec[] = [];
  for (let o = 24; o + 16 <= b.length;) {
    const cap = b.readUInt32LE(o + 8);
    out.push({
      tsSec: b.readUInt32LE(o), tsUsec: b.readUInt32LE(o + 4), data: Buffer.from(b.subarray(o + 16, o + 16 + cap)),
      origLen: b.readUInt32LE(o + 12),
    });
    o += 16 + cap;
  }
  return out;
}

export function writePcap(file: string, recs: Rec[]): void {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(1, 20);
  const parts: Buffer[] = [head];
  for (const r of recs) {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(r.tsSec, 0);
    h.writeUInt32LE(r.tsUsec, 4);
    h.writeUInt32LE(r.data.length, 8);
    h.writeUInt32LE(r.origLen, 12);
    parts.push(h, r.data);
  }
  writeFileSync(file, Buffer.concat(parts));
}

const MAC_A = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B = [0x02, 0, 0, 0, 0, 0x0b];

/** An Ethernet header (dst, src, then EtherTypes/tags as given). */
export function eth(fromA: boolean, ...types: number[]): Buffer {
  const b = Buffer.alloc(12 + 2 * types.length);
  b.set(fromA ? MAC_B : MAC_A, 0);
  b.set(fromA ? MAC_A : MAC_B, 6);
  types.forEach((t, i) => b.writeUInt16BE(t, 12 + 2 * i));
  return b;
}

function checksum(b: Buffer): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += b.readUInt16BE(i);
  if (b.length & 1) s += b[b.length - 1] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** An IPv4 header (20 bytes, checksum filled) for a payload of `len` bytes. */
export function ipv4(src: number[], dst: number[], proto: number, len: number, id = 0): Buffer {
  const b = Buffer.alloc(20);
  b[0] = 0x45;
  b.writeUInt16BE(20 + len, 2);
  b.writeUInt16BE(id, 4);
  b.writeUInt16BE(0x4000, 6);
  b[8] = 64;
  b[9] = proto;
  b.set(src, 12);
  b.set(dst, 16);
  b.writeUInt16BE(checksum(b), 10);
  return b;
}

/** An IPv6 header for a payload of `len` bytes. */
export function ipv6(src: number[], dst: number[], next: number, len: number): Buffer {
  const b = Buffer.alloc(40);
  b.writeUInt32BE(0x60000000, 0);
  b.writeUInt16BE(len, 4);
  b[6] = next;
  b[7] = 64;
  b.set(src, 8);
  b.set(dst, 24);
  return b;
}

/** A UDP header (checksum 0: allowed over IPv4, RFC 768) for a payload of `len` bytes. */
export function udp(sport: number, dport: number, len: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16BE(sport, 0);
  b.writeUInt16BE(dport, 2);
  b.writeUInt16BE(8 + len, 4);
  return b;
}

const V4_A = [192, 0, 2, 1];
const V4_B = [192, 0, 2, 2];
const V6_A = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const V6_B = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

/** Outer IPv4 (A to B when the inner frame is the client's) around `payload`. */
function outer4(fromA: boolean, proto: number, payload: Buffer, id: number): Buffer {
  return Buffer.concat([ipv4(fromA ? V4_A : V4_B, fromA ? V4_B : V4_A, proto, payload.length, id), payload]);
}

function outer6(fromA: boolean, next: number, payload: Buffer): Buffer {
  return Buffer.concat([ipv6(fromA ? V6_A : V6_B, fromA ? V6_B : V6_A, next, payload.length), payload]);
}

/** GRE (RFC 2784/2890) with optional checksum, key and sequence number. */
export function gre(type: number, o: { csum?: boolean; key?: number; seq?: number }, payload: Buffer): Buffer {
  let flags = 0;
  const extra: Buffer[] = [];
  if (o.csum) { flags |= 0x8000; extra.push(Buffer.alloc(4)); }
  if (o.key !== undefined) { flags |= 0x2000; const k = Buffer.alloc(4); k.writeUInt32BE(o.key >>> 0); extra.push(k); }
  if (o.seq !== undefined) { flags |= 0x1000; const s = Buffer.alloc(4); s.writeUInt32BE(o.seq >>> 0); extra.push(s); }
  const h = Buffer.alloc(4);
  h.writeUInt16BE(flags, 0);
  h.writeUInt16BE(type, 2);
  const out = Buffer.concat([h, ...extra, payload]);
  if (o.csum) out.writeUInt16BE(checksum(out), 4);
  return out;
}

function vxlan(vni: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = 0x08;
  h.writeUInt32BE(vni << 8, 4);
  return Buffer.concat([h, payload]);
}

/** GENEVE (RFC 8926) with one 8-byte option (class 0x0102, type 0x80, 4 bytes of data). */
function geneve(vni: number, type: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h[0] = 2; // version 0, option length 2 (x 4 bytes)
  h.writeUInt16BE(type, 2);
  h.writeUInt32BE(vni << 8, 4);
  h.writeUInt16BE(0x0102, 8);
  h[10] = 0x80;
  h[11] = 1;
  h.writeUInt32BE(0xdeadbeef, 12);
  return Buffer.concat([h, payload]);
}

/** ERSPAN type II header (version 1, session `session`, index). */
function erspan2(session: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(0x1000, 0); // version 1, VLAN 0
  h.writeUInt16BE(session & 0x3ff, 2); // COS 0, En 0, T 0, session
  h.writeUInt32BE(0x00000007, 4); // reserved, index 7
  return Buffer.concat([h, payload]);
}

/** ERSPAN type III header (version 2, session, timestamp) with the 8-byte platform subheader (O bit). */
function erspan3(session: number, ts: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(0x2000, 0); // version 2, VLAN 0
  h.writeUInt16BE(session & 0x3ff, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt16BE(0, 8); // SGT
  h[11] = 0x01; // O: a platform-specific subheader follows
  h.writeUInt32BE(0x18000000, 12); // platform id 3
  return Buffer.concat([h, payload]);
}

/** GTP-U G-PDU (TS 29.281) with E set and one PDU session container extension header. */
function gtpu(teid: number, payload: Buffer): Buffer {
  const ext = Buffer.from([0x01, 0x00, 0x01, 0x00]); // length 1 (4 bytes), content, next type 0
  const h = Buffer.alloc(12);
  h[0] = 0x34; // version 1, PT 1, E 1
  h[1] = 0xff;
  h.writeUInt16BE(4 + ext.length + payload.length, 2);
  h.writeUInt32BE(teid >>> 0, 4);
  h[11] = 0x85; // next extension header: PDU session container
  return Buffer.concat([h, ext, payload]);
}

/** Teredo (RFC 4380): the origin indication header on the server's packets. */
function teredo(fromA: boolean, payload: Buffer): Buffer {
  if (fromA) return payload;
  const o = Buffer.from([0, 0, ~40000 >> 8 & 0xff, ~40000 & 0xff, ~192 & 0xff, ~0 & 0xff, ~2 & 0xff, ~1 & 0xff]);
  return Buffer.concat([o, payload]);
}

const MPLS = (label: number, bos: boolean): number[] => [label >> 12, (label >> 4) & 0xff, ((label & 0xf) << 4) | (bos ? 1 : 0), 64];

export interface Wrap {
  name: string;
  base: 'v4' | 'v6';
  /** what the record's `tunnel` must show (JSON of TunnelRecord[]; src/dst of the first packet, the client's) */
  tunnel: unknown[];
  /** tshark options that decode it (heuristics, ports) */
  tshark?: string[];
  /** the new frame of an inner frame `f` (an Ethernet frame), n = its index, fromA = sent by the base capture's client */
  make: (f: Buffer, n: number, fromA: boolean) => Buffer;
}

const ipOf = (f: Buffer): Buffer => f.subarray(14);

export const WRAPS: Wrap[] = [
  {
    name: 'geneve', base: 'v4', tunnel: [{ type: 'geneve', vni: 0x123456, outer: ['192.0.2.1', '192.0.2.2'] }],
    make: (f, n, a) => { const g = geneve(0x123456, 0x6558, f); return Buffer.concat([eth(a, 0x0800), outer4(a, 17, Buffer.concat([udp(50000 + (a ? 1 : 2), 6081, g.length), g]), n)]); },
  },
  {
    name: 'geneve-ip', base: 'v6', tunnel: [{ type: 'geneve', vni: 9, outer: ['192.0.2.1', '192.0.2.2'] }],
    make: (f, n, a) => { const g = geneve(9, 0x86dd, ipOf(f)); return Buffer.concat([eth(a, 0x0800), outer4(a, 17, Buffer.concat([udp(50003, 6081, g.length), g]), n)]); },
  },
  {
    name: 'gre-ip', base: 'v4', tunnel: [{ type: 'gre', key: 77, outer: ['192.0.2.1', '192.0.2.2'] }],
    make: (f, n, a) => Buffer.concat([eth(a, 0x0800), outer4(a, 47, gre(0x0800, { key: 77, seq: n }, ipOf(f)), n)]),
  },
  {
    name: 'gre-teb-v6', base: 'v4', tunnel: [{ type: 'gre', outer: ['2001:db8::1', '2001:db8::2'] }],
    make: (f, _n, a) => Buffer.concat([eth(a, 0x86dd), outer6(a, 47, gre(0x6558, { csum: true }, f))]),
  },
  {
    name: 'erspan-2', base: 'v4', tunnel: [{ type: 'erspan-2', session: 5, outer: ['192.0.2.1', '192.0.2.2'] }],
    // a mirror session: every frame goes from the switch (A) to the collector (B)
    make: (f, n) => Buffer.concat([eth(true, 0x0800), outer4(true, 47, gre(0x88be, { seq: n }, erspan2(5, f)), n)]),
  },
  {
    name: 'erspan-3', base: 'v4', tunnel: [{ type: 'erspan-3', session: 6, outer: ['192.0.2.1', '192.0.2.2'] }],
    make: (f, n) => Buffer.concat([eth(true, 0x0800), outer4(true, 47, gre(0x22eb, { seq: n }, erspan3(6, 1000 + n, f)), n)]),
  },
  {
    name: 'ipip', base: 'v4', tunnel: [{ type: 'ipip', outer: ['192.0.2.1', '192.0.2.2'] }],
    make: (f, n, a) => Buffer.concat([eth(a, 0x0800), outer4(a, 4, ipOf(f), n)]),
  },
  {
    name: 'sit', base: 'v6', tunnel: [{ type: '6in4', outer: ['192.0.2.1', '192.0.2.2'] }],
    make: (f, n, a) => Buffer.concat([eth(a, 0x0800), outer4(a, 41, ipOf(f), n)]),
  },
  {
    name: '4in6', base: 'v4', tunnel: [{ type: '4in6', outer: ['2001:db8::1', '2001:db8::2'] }],
    make: (f, _n, a) => Buffer.concat([eth(a, 0x86dd), outer6(a, 4, ipOf(f))]),
  },
  {
    name: '6in6', base: 'v6', tunnel: [{ type: '6in6', outer: ['2001:db8::1', '2001:db8::2'] }],
    make: (f, _n, a) => Buffer.concat([eth(a, 0x86dd), outer6(a, 41, ipOf(f))]),
  },
  {
    name: 'gtp-u', base: 'v4', tunnel: [{ type: 'gtp-u', teid: 0x1111, outer: ['192.0.2.1', '192.0.2.2'] }],
    // uplink and downlink TEIDs differ (as on a real core): still one connection
    make: (f, n, a) => { const g = gtpu(a ? 0x1111 : 0x2222, ipOf(f)); return Buffer.concat([eth(a, 0x0800), outer4(a, 17, Buffer.concat([udp(2152, 2152, g.length), g]), n)]); },
  },
  {
    name: 'teredo', base: 'v6', tunnel: [{ type: 'teredo', outer: ['192.0.2.1', '192.0.2.2'] }],
    make: (f, n, a) => { const t = teredo(a, ipOf(f)); return Buffer.concat([eth(a, 0x0800), outer4(a, 17, Buffer.concat([udp(a ? 40000 : 3544, a ? 3544 : 40000, t.length), t]), n)]); },
  },
  {
    // VLAN 100, MPLS, VXLAN VNI 7, inner VLAN 200, GRE, then the packet: tunnels nested with tags and labels
    name: 'nested', base: 'v4',
    tunnel: [{ type: 'vxlan', vni: 7, outer: ['198.51.100.1', '198.51.100.2'] }, { type: 'gre', outer: ['192.0.2.1', '192.0.2.2'] }],
    make: (f, n, a) => {
      const innerGre = Buffer.concat([eth(a, 0x8100, 200, 0x0800), outer4(a, 47, gre(0x0800, {}, ipOf(f)), n)]);
      const v = vxlan(7, innerGre);
      const u = Buffer.concat([udp(50000, 4789, v.length), v]);
      const ip = Buffer.concat([ipv4(a ? [198, 51, 100, 1] : [198, 51, 100, 2], a ? [198, 51, 100, 2] : [198, 51, 100, 1], 17, u.length, n), u]);
      return Buffer.concat([eth(a, 0x8100, 100, 0x8847), Buffer.from(MPLS(1000, true)), ip]);
    },
  },
];

/** The client of a base capture: the source of its first frame (IPv4 or IPv6 source address and port, as bytes). */
function clientKey(f: Buffer): string {
  const ip = f.subarray(14);
  if (ip[0] >> 4 === 4) return ip.subarray(12, 16).toString('hex') + ip.subarray(20, 22).toString('hex');
  return ip.subarray(8, 24).toString('hex') + ip.subarray(40, 42).toString('hex');
}

/**
 * The base capture wrapped. A frame the snaplen cut is wrapped as it was on
 * the wire (its missing bytes as zeros, so every outer length field is the
 * real one) and then cut again at the same place: the wrapped capture is
 * snaplen-cut exactly where the base capture was.
 */
export function wrapCapture(w: Wrap): Rec[] {
  const base = readPcap(w.base === 'v4' ? BASE_V4 : BASE_V6);
  const client = clientKey(base[0].data);
  return base.map((r, n) => {
    const full = r.origLen > r.data.length ? Buffer.concat([r.data, Buffer.alloc(r.origLen - r.data.length)]) : r.data;
    const wrapped = w.make(full, n, clientKey(r.data) === client);
    const cut = wrapped.length - (r.origLen - r.data.length);
    return { tsSec: r.tsSec, tsUsec: r.tsUsec, data: wrapped.subarray(0, cut), origLen: wrapped.length };
  });
}

export function wrapFile(w: Wrap): string {
  return join(TUNNEL_FIXTURES, `wrap-${w.name}.pcap`);
}

function main(): void {
  for (const w of WRAPS) {
    writePcap(wrapFile(w), wrapCapture(w));
    process.stdout.write(`${wrapFile(w)}\n`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
