/**
 * A parsed `--filter` (bpf-parse.ts) as one closure over the decoded TCP
 * segment and its frame, compiled once: per packet it reads numbers the
 * decoder already filled in (addresses, ports, IP version, TCP header offset)
 * and, only for what libpcap checks in the link header, a few frame bytes. No
 * allocation per packet.
 *
 * What libpcap checks, and so this (libpcap 1.10, read from `tcpdump -d`):
 * - every primitive first checks the link header's protocol field at its
 *   fixed place: Ethernet's EtherType at byte 12 (plus 4 per `vlan` parsed
 *   before it), SLL's at 14, PPP's at 2 (after FF 03), FDDI's SNAP type at 19,
 *   the address family of NULL/LOOP (2 for IPv4; 24, 28 or 30 for IPv6). So
 *   `host a` does not match a VLAN-tagged, MPLS or PPPoE frame, and
 *   `vlan and host a` matches a frame with (at least) one tag;
 * - `tcp` on IPv6 needs the next header to be TCP, or a fragment header then
 *   TCP; `port`/`portrange` on IPv6 need TCP right after the fixed header;
 * - tcp[...] and ip[...] are IPv4 only, ip6[...] IPv6 only; udp[...] never
 *   holds for TCP;
 * - a load past the captured bytes, or a division by zero, rejects the packet
 *   whatever the rest of the expression says (BPF returns 0).
 * Only frames that decode as TCP are given to the filter (the others never
 * reach the tracker anyway). A segment the decoder found inside a tunnel
 * (the IP header at the link layer's place is not the segment's own) matches
 * no primitive that reads IP or TCP fields: libpcap would read the outer
 * header, which the decoded packet does not hold. Known difference: with more `vlan`s parsed than
 * the frame has tags, libpcap reads IP header bytes as if they were an
 * EtherType; here such primitives are false.
 */
import type { Frame } from '../capture/frame.js';
import type { Packet } from '../decode/packet.js';
import type { Arith, Dir, FilterNode } from './bpf-parse.js';

export type PacketFilter = (p: Packet, f: Frame) => boolean;

type Pred = () => boolean;
type Val = () => number;

const LT_ETHERNET = 1;
const MAX_TAGS = 8;

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

/** Compiles a parsed filter to a closure: true when the packet is selected. */
export function compileFilter(root: FilterNode): PacketFilter {
  // per-packet state, set by `layout` before the tree runs
  let p: Packet;
  let f: Frame;
  /** leading VLAN tags (Ethernet) */
  let tags = 0;
  /** the vlan depth at which the link header names the packet's IP version directly, -1: at none */
  let direct = -1;
  /** absolute offset of the IP header where `direct` holds */
  let net = 0;
  /** a load ran past the captured bytes (or divided by zero): the packet is rejected */
  let aborted = false;

  const layout = (): void => {
    const b = f.buf;
    const s = f.offset;
    const end = s + f.capLen;
    const v4 = p.ipVersion === 4;
    tags = 0;
    direct = -1;
    switch (f.linkType) {
      case LT_ETHERNET: {
        let o = s + 12;
        while (o + 2 <= end) {
          const t = u16(b, o);
          if ((t === 0x8100 || t === 0x88a8 || t === 0x9100) && tags < MAX_TAGS) {
            tags++;
            o += 4;
            continue;
          }
          if (t === (v4 ? 0x0800 : 0x86dd)) {
            direct = tags;
            net = o + 2;
          }
          break;
        }
        return;
      }
      case 113: // Linux SLL
        if (u16(b, s + 14) === (v4 ? 0x0800 : 0x86dd)) { direct = 0; net = s + 16; }
        return;
      case 276: // Linux SLL2
        direct = 0; net = s + 20;
        return;
      case 12: case 14: case 101: case 228: case 229: // raw IP
        direct = 0; net = s;
        return;
      case 0: case 108: { // NULL (writer's byte order), LOOP (network order)
        let fam = f.linkType === 0 ? b[s] | (b[s + 1] << 8) | (b[s + 2] << 16) | (b[s + 3] << 24) : (b[s] << 24) | (b[s + 1] << 16) | (b[s + 2] << 8) | b[s + 3];
        if (f.linkType === 0 && (fam >>> 0) > 0xffff) fam = (b[s] << 24) | (b[s + 1] << 16) | (b[s + 2] << 8) | b[s + 3];
        if (v4 ? fam === 2 : fam === 24 || fam === 28 || fam === 30) { direct = 0; net = s + 4; }
        return;
      }
      case 9: case 50: // PPP with address and control bytes
        if (b[s] === 0xff && b[s + 1] === 0x03 && u16(b, s + 2) === (v4 ? 0x0021 : 0x0057)) { direct = 0; net = s + 4; }
        return;
      case 10: // FDDI: LLC/SNAP type at 19
        if (u16(b, s + 19) === (v4 ? 0x0800 : 0x86dd)) { direct = 0; net = s + 21; }
        return;
      default:
    }
  };

  /** IPv6: TCP right after the fixed header */
  const v6Next = (): boolean => p.tcpOffset - net === 40;

  const addrSide = (v6: boolean, words: number[], mask: number[], src: boolean): Pred => {
    if (!v6) {
      const w = words[0];
      const m = mask[0];
      return src ? () => (p.src0 & m) === w : () => (p.dst0 & m) === w;
    }
    const [w0, w1, w2, w3] = words;
    const [m0, m1, m2, m3] = mask;
    return src
      ? () => (p.src0 & m0) === w0 && (p.src1 & m1) === w1 && (p.src2 & m2) === w2 && (p.src3 & m3) === w3
      : () => (p.dst0 & m0) === w0 && (p.dst1 & m1) === w1 && (p.dst2 & m2) === w2 && (p.dst3 & m3) === w3;
  };

  const byDir = (dir: Dir, src: Pred, dst: Pred): Pred => {
    switch (dir) {
      case 'src': return src;
      case 'dst': return dst;
      case 'both': return () => src() && dst();
      default: return () => src() || dst();
    }
  };

  const val = (a: Arith, guards: Pred[]): Val => {
    switch (a.k) {
      case 'num': {
        const v = a.v;
        return () => v;
      }
      case 'len':
        return () => f.origLen;
      case 'neg': {
        const x = val(a.a, guards);
        return () => (0 - x()) >>> 0;
      }
      case 'load': {
        const d = a.depth;
        const size = a.size;
        const off = val(a.off, guards);
        if (a.proto === 'udp') guards.push(() => false);
        else if (a.proto === 'ip6') guards.push(() => direct === d && p.ipVersion === 6);
        else guards.push(() => direct === d && p.ipVersion === 4);
        const tcp = a.proto === 'tcp';
        return () => {
          const k = off();
          const base = tcp ? p.tcpOffset : net;
          const end = f.offset + f.capLen;
          if (k > end - base - size) {
            aborted = true;
            return 0;
          }
          const b = f.buf;
          const o = base + k;
          if (size === 1) return b[o];
          if (size === 2) return u16(b, o);
          return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
        };
      }
      case 'op': {
        const x = val(a.a, guards);
        const y = val(a.b, guards);
        switch (a.op) {
          case '+': return () => (x() + y()) >>> 0;
          case '-': return () => (x() - y()) >>> 0;
          case '*': return () => Math.imul(x(), y()) >>> 0;
          case '/': return () => {
            const n = x();
            const m = y();
            if (m === 0) { aborted = true; return 0; }
            return Math.floor(n / m);
          };
          case '%': return () => {
            const n = x();
            const m = y();
            if (m === 0) { aborted = true; return 0; }
            return n % m;
          };
          case '&': return () => (x() & y()) >>> 0;
          case '|': return () => (x() | y()) >>> 0;
          case '^': return () => (x() ^ y()) >>> 0;
          case '<<': return () => {
            const n = x();
            const m = y();
            return m < 32 ? (n << m) >>> 0 : 0;
          };
          default: return () => {
            const n = x();
            const m = y();
            return m < 32 ? n >>> m : 0;
          };
        }
      }
    }
  };

  const build = (n: FilterNode): Pred => {
    switch (n.k) {
      case 'and': {
        const a = build(n.a);
        const b = build(n.b);
        return () => a() && b();
      }
      case 'or': {
        const a = build(n.a);
        const b = build(n.b);
        return () => a() || b();
      }
      case 'not': {
        const a = build(n.a);
        return () => !a();
      }
      case 'proto': {
        const d = n.depth;
        switch (n.proto) {
          case 'ip': return () => direct === d && p.ipVersion === 4;
          case 'ip6': return () => direct === d && p.ipVersion === 6;
          case 'udp': return () => false;
          default: return () => direct === d && (p.ipVersion === 4 || v6Next() || (p.tcpOffset - net === 48 && f.buf[net + 6] === 44));
        }
      }
      case 'addr': {
        const d = n.depth;
        const version = n.v6 ? 6 : 4;
        const test = byDir(n.dir, addrSide(n.v6, n.words, n.mask, true), addrSide(n.v6, n.words, n.mask, false));
        return () => direct === d && p.ipVersion === version && test();
      }
      case 'port': {
        if (n.proto === 'udp') return () => false;
        const d = n.depth;
        const lo = n.lo;
        const hi = n.hi;
        const test = byDir(n.dir, () => p.srcPort >= lo && p.srcPort <= hi, () => p.dstPort >= lo && p.dstPort <= hi);
        return () => direct === d && (p.ipVersion === 4 || v6Next()) && test();
      }
      case 'vlan': {
        const d = n.depth;
        const id = n.id;
        if (id === null) return () => f.linkType === LT_ETHERNET && d < tags;
        return () => f.linkType === LT_ETHERNET && d < tags && (u16(f.buf, f.offset + 14 + 4 * d) & 0x0fff) === id;
      }
      case 'rel': {
        const guards: Pred[] = [];
        const a = val(n.a, guards);
        const b = val(n.b, guards);
        const guard: Pred = guards.length === 0 ? () => true
          : guards.reduce((x, y) => () => x() && y());
        switch (n.op) {
          case '>': return () => guard() && a() > b();
          case '<': return () => guard() && a() < b();
          case '>=': return () => guard() && a() >= b();
          case '<=': return () => guard() && a() <= b();
          case '=': return () => guard() && a() === b();
          default: return () => guard() && a() !== b();
        }
      }
    }
  };

  /**
   * The IP header at `net` is the one the decoder read the segment from (not
   * the outer header of a tunnel, whose inner packet the decoder may unwrap):
   * libpcap reads the outer one, whose fields the Packet does not hold, so then
   * nothing that reads the IP or TCP header matches.
   */
  const sameHeader = (): boolean => {
    const b = f.buf;
    if (p.ipVersion === 4) return b[net + 9] === 6 && p.tcpOffset === net + ((b[net] & 0x0f) << 2);
    if (b[net + 6] === 6) return p.tcpOffset === net + 40;
    return ((b[net + 8] << 24) | (b[net + 9] << 16) | (b[net + 10] << 8) | b[net + 11]) === p.src0
      && ((b[net + 20] << 24) | (b[net + 21] << 16) | (b[net + 22] << 8) | b[net + 23]) === p.src3;
  };

  const test = build(root);
  return (packet: Packet, frame: Frame): boolean => {
    p = packet;
    f = frame;
    aborted = false;
    layout();
    if (direct >= 0 && !sameHeader()) direct = -1;
    return test() && !aborted;
  };
}
