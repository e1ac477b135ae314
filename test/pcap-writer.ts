/**
 * A tiny pcap writer for tests that need an exact packet sequence (timers,
 * wraparound, eviction). It writes what a kernel would put on the wire: the
 * real captures in captures/ remain the core fixtures.
 */
export interface Seg {
  tsSec: number;
  tsUsec?: number;
  src: [string, number];
  dst: [string, number];
  flags: string; // e.g. 'S', 'SA', 'A', 'PA', 'FA', 'R', 'RA'
  seq: number;
  ack?: number;
  len?: number;
  win?: number;
  ttl?: number;
  ipId?: number;
  /** raw TCP option bytes (padded with zeros to a multiple of 4); see tcpOpt */
  opts?: number[];
}

/** TCP option bytes: mss(n), wscale(n), ts(val, ecr), sackOk, nop */
export const tcpOpt = {
  mss: (n: number): number[] => [2, 4, n >> 8, n & 0xff],
  wscale: (n: number): number[] => [1, 3, 3, n],
  ts: (val: number, ecr: number): number[] => [1, 1, 8, 10, ...u32(val), ...u32(ecr)],
  sackOk: (): number[] => [4, 2],
};

function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

function ip4(s: string): number[] {
  return s.split('.').map(Number);
}

/** The 16 bytes of an IPv6 address in text form (hex groups, one `::` allowed; no embedded IPv4). */
function ip6(s: string): number[] {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const groups = (t: string | undefined): number[] => (t ? t.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  if (all.length !== 8 || all.some((g) => !(g >= 0 && g <= 0xffff))) throw new Error(`not an IPv6 address: ${s}`);
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

const FLAG_BITS: Record<string, number> = { F: 1, S: 2, R: 4, P: 8, A: 16 };

export function pcap(segs: Seg[]): Buffer {
  const parts: Buffer[] = [];
  const hdr = Buffer.alloc(24);
  hdr.writeUInt32LE(0xa1b2c3d4, 0);
  hdr.writeUInt16LE(2, 4);
  hdr.writeUInt16LE(4, 6);
  hdr.writeUInt32LE(262144, 16);
  hdr.writeUInt32LE(1, 20);
  parts.push(hdr);
  for (const s of segs) {
    const frame = ethFrame(s);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(s.tsSec, 0);
    rec.writeUInt32LE(s.tsUsec ?? 0, 4);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    parts.push(rec, frame);
  }
  return Buffer.concat(parts);
}

/**
 * One Ethernet/IPv4/TCP frame of a segment, or Ethernet/IPv6/TCP when the addresses are IPv6 (hop limit from `ttl`;
 * IPv6 has no IP ID, so `ipId` is not written). Checksums left zero; payload zeros.
 */
export function ethFrame(s: Seg): Buffer {
  const len = s.len ?? 0;
  const optLen = ((s.opts?.length ?? 0) + 3) & ~3;
  const v6 = s.src[0].includes(':');
  const ipLen = v6 ? 40 : 20;
  const frame = Buffer.alloc(14 + ipLen + 20 + optLen + len);
  const ip = 14;
  if (v6) {
    frame.writeUInt16BE(0x86dd, 12);
    frame[ip] = 0x60;
    frame.writeUInt16BE(20 + optLen + len, ip + 4);
    frame[ip + 6] = 6;
    frame[ip + 7] = s.ttl ?? 64;
    Buffer.from(ip6(s.src[0])).copy(frame, ip + 8);
    Buffer.from(ip6(s.dst[0])).copy(frame, ip + 24);
  } else {
    frame.writeUInt16BE(0x0800, 12);
    frame[ip] = 0x45;
    frame.writeUInt16BE(40 + optLen + len, ip + 2);
    frame.writeUInt16BE(s.ipId ?? 0, ip + 4);
    frame.writeUInt16BE(0x4000, ip + 6);
    frame[ip + 8] = s.ttl ?? 64;
    frame[ip + 9] = 6;
    Buffer.from(ip4(s.src[0])).copy(frame, ip + 12);
    Buffer.from(ip4(s.dst[0])).copy(frame, ip + 16);
  }
  const t = ip + ipLen;
  frame.writeUInt16BE(s.src[1], t);
  frame.writeUInt16BE(s.dst[1], t + 2);
  frame.writeUInt32BE(s.seq >>> 0, t + 4);
  frame.writeUInt32BE((s.ack ?? 0) >>> 0, t + 8);
  frame[t + 12] = (5 + optLen / 4) << 4;
  if (s.opts) Buffer.from(s.opts).copy(frame, t + 20);
  let fl = 0;
  for (const ch of s.flags) fl |= FLAG_BITS[ch] ?? 0;
  frame[t + 13] = fl;
  frame.writeUInt16BE(s.win ?? 65535, t + 14);
  return frame;
}
