/**
 * Tunnels: the encapsulations that cloud mirrors, switches, routers and
 * mobile cores wrap TCP in, opened so that the inner connection is tracked.
 *
 * Each opener starts after an IP header whose protocol is not TCP and returns
 * the offset of the inner header (setting `out.proto` as link.ts does:
 * 0x0800, 0x86dd, or 0 for "look at the version nibble"), or a negative
 * DecodeResult: NotTcp when the packet is not one of these tunnels (plain UDP,
 * ICMP, ...), BadTunnelHeader when it is one whose header lies about its
 * length or does not fit in the captured bytes.
 *
 * Sources (fields only; the code is this project's):
 * - IPv4-in-IPv4 (RFC 2003, protocol 4), IPv6-in-IPv4 (RFC 4213 "6in4"/SIT,
 *   protocol 41), IPv4- and IPv6-in-IPv6 (RFC 2473, next header 4 and 41);
 * - GRE (RFC 2784, RFC 2890 key and sequence number; version 0 only; the
 *   RFC 1701 routing bit is not supported: such a packet is counted as not TCP);
 *   protocol types 0x0800, 0x86dd, 0x6558 (transparent Ethernet bridging),
 *   0x8847/0x8848 (MPLS), 0x88be (ERSPAN type I without a GRE sequence number,
 *   type II with one: an 8-byte header, version 1) and 0x22eb (ERSPAN type III:
 *   a 12-byte header, version 2, then an 8-byte platform-specific subheader
 *   when the O bit, the lowest bit of byte 11, is set), as in
 *   draft-foschiano-erspan and Wireshark's packet-erspan.c field layout;
 * - VXLAN (RFC 7348: UDP destination port 4789, the I flag 0x08 set, 24-bit
 *   VNI, then Ethernet);
 * - GENEVE (RFC 8926: UDP destination port 6081, version 0, options of
 *   4 x Opt Len bytes, protocol type 0x6558 Ethernet or an IP EtherType);
 * - GTP-U (3GPP TS 29.281: UDP port 2152 on either side, version 1, PT 1,
 *   message type 255 G-PDU; the 4 optional bytes when E, S or PN is set,
 *   then the extension header chain, each 4 x length bytes, ending in type 0);
 * - Teredo (RFC 4380: UDP port 3544 on either side, or, as Zeek's DPD
 *   signature does, any UDP payload that is exactly an IPv6 packet from or to
 *   the Teredo prefix 2001:0::/32; the authentication and origin indication
 *   headers skipped).
 *
 * Known gaps: IP fragments of the outer packet are not reassembled (the frame
 * counts as ip-fragment); GRE version 1 (PPTP), NVGRE's flow id and GRE
 * routing are not opened; VXLAN on the Linux default port 8472 and GENEVE or
 * VXLAN on other ports are not recognised (tshark needs "Decode As" for them too).
 */
import { i32, u16 } from './bytes.js';
import { afterEthernet, afterMplsStack, ETH_IPV4, ETH_IPV6, type LinkOut } from './link.js';
import { DecodeResult } from './packet.js';

/** Tunnel kinds, as TunnelLayer.kind numbers them and TUNNEL_NAMES names them. */
export const enum TunnelKind {
  Ipip = 1, SixIn4, FourIn6, SixIn6, Gre, ErspanI, ErspanII, ErspanIII, Vxlan, Geneve, Gtpu, Teredo,
}

/** Names of the kinds as the output shows them (index: TunnelKind). */
export const TUNNEL_NAMES: readonly string[] = [
  '', 'ipip', '6in4', '4in6', '6in6', 'gre', 'erspan-1', 'erspan-2', 'erspan-3', 'vxlan', 'geneve', 'gtp-u', 'teredo',
];

/** What the identifying number of a kind is (shown with it): the VNI, the GRE key, the ERSPAN session. */
export const TUNNEL_KEY_NAMES: readonly string[] = [
  '', '', '', '', '', 'key', 'session', 'session', 'session', 'vni', 'vni', 'teid', '',
];

/** Encapsulations opened in one frame, at most: deeper nesting (a GRE loop) is counted as tunnel-too-deep. */
export const MAX_TUNNEL_DEPTH = 8;

export const UDP_VXLAN = 4789;
export const UDP_GENEVE = 6081;
export const UDP_GTPU = 2152;
export const UDP_TEREDO = 3544;

/** What an opener reports besides the offset: the inner protocol (LinkOut) and the tunnel identity. */
export interface TunnelOut extends LinkOut {
  /** identity of the tunnel path so far (0: none), TunnelRegistry ids */
  tunnel: number;
}

/**
 * One layer of a tunnel path, as the output shows it. The outer addresses are
 * the unordered pair of tunnel endpoints, the lower address first (a tunnel
 * carries both directions of a connection, and a mirror session carries
 * everything one way: neither order says who the connection's client is).
 */
export interface TunnelLayer {
  kind: TunnelKind;
  /** VNI, GRE key, ERSPAN session or GTP TEID (first packet), -1 when the kind has none or the packet had none */
  key: number;
  ipVersion: number;
  a0: number; a1: number; a2: number; a3: number;
  z0: number; z1: number; z2: number; z3: number;
}

/** Entries the registry keeps at most; beyond it every new tunnel path shares OVERFLOW_ID (counted). */
export const MAX_TUNNELS = 1 << 20;
/** The shared id of tunnel paths past MAX_TUNNELS. */
export const OVERFLOW_ID = MAX_TUNNELS + 1;

/** Numbers kept per registry entry: parent, kind, key, version, then the sorted outer pair (4 + 4 words). */
const STRIDE = 12;
/** Shown key per entry: the first packet's (for GTP-U the TEID, which is not part of the identity). */
const SHOWN = 1;

function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * Interns tunnel paths: one small integer per distinct (parent path, kind,
 * identifying key, unordered pair of outer addresses), so that the tracker
 * keys connections by it with one integer comparison. The outer pair is
 * unordered because the two directions of a tunnel swap it (VTEP A to B and B
 * to A). Which key identifies: the VXLAN and GENEVE VNI, the GRE key (RFC
 * 2890: it identifies a flow within a tunnel) and the ERSPAN session; not the
 * GTP TEID, which differs by direction by design (uplink and downlink TEIDs).
 *
 * Ids are stable within one process, not across processes: outputs show the
 * layers (TunnelRegistry.layers), never the id. Memory grows with the number
 * of distinct tunnel paths, bounded by MAX_TUNNELS.
 */
export class TunnelRegistry {
  private ident = new Int32Array(STRIDE * 64);
  private shown = new Int32Array(SHOWN * 64);
  private readonly byHash = new Map<number, number>();
  /** next entry in the same hash chain (0: none), by id */
  private chain = new Int32Array(64);
  private count = 0;
  /** tunnel paths that shared OVERFLOW_ID */
  overflowed = 0;

  get size(): number {
    return this.count;
  }

  /**
   * The id of the path `parent` + this layer. The outer IP header is at `ip`
   * (version `ipVersion`) of `b`; `key` is the identifying number (-1 none);
   * `shownKey` the number shown (the TEID for GTP-U).
   */
  intern(parent: number, kind: TunnelKind, key: number, shownKey: number, b: Uint8Array, ip: number, ipVersion: number): number {
    let s0: number, s1 = 0, s2 = 0, s3 = 0, d0: number, d1 = 0, d2 = 0, d3 = 0;
    if (ipVersion === 4) {
      s0 = i32(b, ip + 12); d0 = i32(b, ip + 16);
    } else {
      s0 = i32(b, ip + 8); s1 = i32(b, ip + 12); s2 = i32(b, ip + 16); s3 = i32(b, ip + 20);
      d0 = i32(b, ip + 24); d1 = i32(b, ip + 28); d2 = i32(b, ip + 32); d3 = i32(b, ip + 36);
    }
    // the unordered pair: the smaller address (as unsigned words, most significant first) first
    const swap = lessThan(d0, d1, d2, d3, s0, s1, s2, s3);
    const a0 = swap ? d0 : s0, a1 = swap ? d1 : s1, a2 = swap ? d2 : s2, a3 = swap ? d3 : s3;
    const z0 = swap ? s0 : d0, z1 = swap ? s1 : d1, z2 = swap ? s2 : d2, z3 = swap ? s3 : d3;
    let h = mix(parent ^ 0x9e3779b9);
    h = mix(h ^ (kind << 8) ^ ipVersion);
    h = mix(h ^ key);
    h = mix(h ^ a0); h = mix(h ^ a1); h = mix(h ^ a2); h = mix(h ^ a3);
    h = mix(h ^ z0); h = mix(h ^ z1); h = mix(h ^ z2); h = mix(h ^ z3);
    const first = this.byHash.get(h);
    const t = this.ident;
    for (let id = first ?? 0; id !== 0; id = this.chain[id]) {
      const o = (id - 1) * STRIDE;
      if (t[o] === parent && t[o + 1] === kind && t[o + 2] === key && t[o + 3] === ipVersion
        && t[o + 4] === a0 && t[o + 5] === a1 && t[o + 6] === a2 && t[o + 7] === a3
        && t[o + 8] === z0 && t[o + 9] === z1 && t[o + 10] === z2 && t[o + 11] === z3) return id;
    }
    if (this.count >= MAX_TUNNELS) {
      this.overflowed++;
      return OVERFLOW_ID;
    }
    const id = ++this.count;
    if (id * STRIDE > this.ident.length) this.grow();
    const o = (id - 1) * STRIDE;
    const e = this.ident;
    e[o] = parent; e[o + 1] = kind; e[o + 2] = key; e[o + 3] = ipVersion;
    e[o + 4] = a0; e[o + 5] = a1; e[o + 6] = a2; e[o + 7] = a3;
    e[o + 8] = z0; e[o + 9] = z1; e[o + 10] = z2; e[o + 11] = z3;
    this.shown[(id - 1) * SHOWN] = shownKey;
    this.chain[id] = first ?? 0;
    this.byHash.set(h, id);
    return id;
  }

  /** The layers of path `id`, outermost first ([] for 0; one layer of kind 0 for OVERFLOW_ID). */
  layers(id: number): TunnelLayer[] {
    const out: TunnelLayer[] = [];
    if (id === OVERFLOW_ID) {
      return [{ kind: 0 as TunnelKind, key: -1, ipVersion: 4, a0: 0, a1: 0, a2: 0, a3: 0, z0: 0, z1: 0, z2: 0, z3: 0 }];
    }
    for (let n = 0; id > 0 && id <= this.count && n < MAX_TUNNEL_DEPTH; n++) {
      const o = (id - 1) * STRIDE;
      const t = this.ident;
      out.push({
        kind: t[o + 1] as TunnelKind, key: this.shown[(id - 1) * SHOWN], ipVersion: t[o + 3],
        a0: t[o + 4], a1: t[o + 5], a2: t[o + 6], a3: t[o + 7], z0: t[o + 8], z1: t[o + 9], z2: t[o + 10], z3: t[o + 11],
      });
      id = t[o];
    }
    return out.reverse();
  }

  private grow(): void {
    const ident = new Int32Array(this.ident.length * 2);
    ident.set(this.ident);
    this.ident = ident;
    const shown = new Int32Array(this.shown.length * 2);
    shown.set(this.shown);
    this.shown = shown;
    const chain = new Int32Array(this.chain.length * 2);
    chain.set(this.chain);
    this.chain = chain;
  }
}

/** a < b, each four 32-bit words most significant first, compared unsigned. */
function lessThan(a0: number, a1: number, a2: number, a3: number, b0: number, b1: number, b2: number, b3: number): boolean {
  if (a0 !== b0) return (a0 >>> 0) < (b0 >>> 0);
  if (a1 !== b1) return (a1 >>> 0) < (b1 >>> 0);
  if (a2 !== b2) return (a2 >>> 0) < (b2 >>> 0);
  return (a3 >>> 0) < (b3 >>> 0);
}

/**
 * The process's tunnel registry: connection keys compare its ids, records
 * show its layers. One per process (each --workers worker has its own; ids
 * never leave the process).
 */
export const TUNNELS = new TunnelRegistry();

/**
 * Opens the tunnel carried by the IP packet at `ip` (version `ipVersion`,
 * protocol or final next header `ipProto`, whose payload runs from `l4` to
 * `l4End`, already bounded by the captured bytes). Returns the inner header's
 * offset and sets `out`, or a negative DecodeResult.
 */
export function openTunnel(b: Uint8Array, ip: number, ipVersion: number, ipProto: number, l4: number, l4End: number,
  out: TunnelOut): number {
  switch (ipProto) {
    case 4:
      out.proto = ETH_IPV4;
      out.tunnel = TUNNELS.intern(out.tunnel, ipVersion === 4 ? TunnelKind.Ipip : TunnelKind.FourIn6, -1, -1, b, ip, ipVersion);
      return l4;
    case 41:
      out.proto = ETH_IPV6;
      out.tunnel = TUNNELS.intern(out.tunnel, ipVersion === 4 ? TunnelKind.SixIn4 : TunnelKind.SixIn6, -1, -1, b, ip, ipVersion);
      return l4;
    case 47:
      return openGre(b, ip, ipVersion, l4, l4End, out);
    case 17:
      return openUdp(b, ip, ipVersion, l4, l4End, out);
    default:
      return -DecodeResult.NotTcp;
  }
}

const GRE_C = 0x8000;
const GRE_R = 0x4000;
const GRE_K = 0x2000;
const GRE_S = 0x1000;
const GRE_TEB = 0x6558;
const GRE_ERSPAN_2 = 0x88be;
const GRE_ERSPAN_3 = 0x22eb;

function openGre(b: Uint8Array, ip: number, ipVersion: number, g: number, end: number, out: TunnelOut): number {
  if (g + 4 > end) return -DecodeResult.BadTunnelHeader;
  const flags = u16(b, g);
  // version 1 is PPTP's enhanced GRE (PPP inside); routing (RFC 1701) is obsolete: neither is opened
  if ((flags & 0x0007) !== 0 || (flags & GRE_R) !== 0) return -DecodeResult.NotTcp;
  const type = u16(b, g + 2);
  let h = g + 4;
  if (flags & GRE_C) h += 4; // checksum and reserved1
  let key = -1;
  if (flags & GRE_K) {
    if (h + 4 > end) return -DecodeResult.BadTunnelHeader;
    key = i32(b, h);
    h += 4;
  }
  const seq = (flags & GRE_S) !== 0;
  if (seq) h += 4;
  if (h > end) return -DecodeResult.BadTunnelHeader;
  let kind = TunnelKind.Gre;
  let session = -1;
  if (type === GRE_ERSPAN_2) {
    if (seq) {
      // ERSPAN type II: Ver(4)=1 VLAN(12) COS(3) En(2) T(1) Session ID(10) Reserved(12) Index(20)
      if (h + 8 > end) return -DecodeResult.BadTunnelHeader;
      if (b[h] >> 4 !== 1) return -DecodeResult.BadTunnelHeader;
      session = u16(b, h + 2) & 0x3ff;
      h += 8;
      kind = TunnelKind.ErspanII;
    } else {
      kind = TunnelKind.ErspanI; // type I: no ERSPAN header, the mirrored frame follows GRE
    }
  } else if (type === GRE_ERSPAN_3) {
    // ERSPAN type III: Ver(4)=2 VLAN(12) COS(3) BSO(2) T(1) Session ID(10) Timestamp(32) SGT(16) P FT HW ID D Gra O
    if (h + 12 > end) return -DecodeResult.BadTunnelHeader;
    if (b[h] >> 4 !== 2) return -DecodeResult.BadTunnelHeader;
    session = u16(b, h + 2) & 0x3ff;
    const o = b[h + 11] & 1;
    h += 12 + (o ? 8 : 0);
    kind = TunnelKind.ErspanIII;
  }
  const id = kind === TunnelKind.Gre ? key : session;
  if (type === GRE_TEB || kind !== TunnelKind.Gre) {
    out.tunnel = TUNNELS.intern(out.tunnel, kind, id, id, b, ip, ipVersion);
    return ethernet(b, h, end, out);
  }
  if (type === ETH_IPV4 || type === ETH_IPV6 || type === 0x8847 || type === 0x8848) {
    out.tunnel = TUNNELS.intern(out.tunnel, kind, id, id, b, ip, ipVersion);
    if (type === ETH_IPV4 || type === ETH_IPV6) {
      out.proto = type;
      return h;
    }
    return mpls(b, h, end, out);
  }
  return -DecodeResult.NotTcp;
}

/** An inner Ethernet frame at `o`: its network header (VLAN, MPLS, PPPoE unwrapped by link.ts). */
function ethernet(b: Uint8Array, o: number, end: number, out: TunnelOut): number {
  if (o + 14 > end) return -DecodeResult.BadTunnelHeader;
  const r = afterEthernet(b, o, end, out);
  return r === -DecodeResult.TruncatedLink ? -DecodeResult.BadTunnelHeader : r;
}

/** An MPLS label stack at `o` (link.ts's walk, RFC 3032), then IP by its version nibble; a cut stack is a bad tunnel header. */
function mpls(b: Uint8Array, o: number, end: number, out: TunnelOut): number {
  const r = afterMplsStack(b, o, end, out);
  return r === -DecodeResult.TruncatedLink ? -DecodeResult.BadTunnelHeader : r;
}

function openUdp(b: Uint8Array, ip: number, ipVersion: number, u: number, end: number, out: TunnelOut): number {
  if (u + 8 > end) return -DecodeResult.NotTcp;
  const sport = u16(b, u);
  const dport = u16(b, u + 2);
  // the UDP length bounds the payload (Ethernet padding after a short datagram is not tunnel data)
  const ulen = u16(b, u + 4);
  if (ulen >= 8 && u + ulen < end) end = u + ulen;
  const p = u + 8;
  if (dport === UDP_VXLAN) {
    // flags (I = 0x08), 24 reserved bits, VNI (24), reserved (8)
    if (p + 8 > end) return -DecodeResult.BadTunnelHeader;
    if ((b[p] & 0x08) === 0) return -DecodeResult.NotTcp;
    const vni = (b[p + 4] << 16) | (b[p + 5] << 8) | b[p + 6];
    out.tunnel = TUNNELS.intern(out.tunnel, TunnelKind.Vxlan, vni, vni, b, ip, ipVersion);
    return ethernet(b, p + 8, end, out);
  }
  if (dport === UDP_GENEVE) {
    // Ver(2) Opt Len(6) | O C Rsvd(6) | Protocol Type(16) | VNI(24) Reserved(8) | options
    if (p + 8 > end) return -DecodeResult.BadTunnelHeader;
    if (b[p] >> 6 !== 0) return -DecodeResult.NotTcp;
    const inner = p + 8 + (b[p] & 0x3f) * 4;
    if (inner > end) return -DecodeResult.BadTunnelHeader;
    const type = u16(b, p + 2);
    const vni = (b[p + 4] << 16) | (b[p + 5] << 8) | b[p + 6];
    if (type === GRE_TEB) {
      out.tunnel = TUNNELS.intern(out.tunnel, TunnelKind.Geneve, vni, vni, b, ip, ipVersion);
      return ethernet(b, inner, end, out);
    }
    if (type === ETH_IPV4 || type === ETH_IPV6) {
      out.tunnel = TUNNELS.intern(out.tunnel, TunnelKind.Geneve, vni, vni, b, ip, ipVersion);
      out.proto = type;
      return inner;
    }
    return -DecodeResult.NotTcp;
  }
  if (sport === UDP_GTPU || dport === UDP_GTPU) return openGtpu(b, ip, ipVersion, p, end, out);
  if (sport === UDP_TEREDO || dport === UDP_TEREDO || looksLikeTeredo(b, p, end)) return openTeredo(b, ip, ipVersion, p, end, out);
  return -DecodeResult.NotTcp;
}

function openGtpu(b: Uint8Array, ip: number, ipVersion: number, g: number, end: number, out: TunnelOut): number {
  // flags: Version(3)=1 PT(1)=1 (*) E S PN | message type | length (16) | TEID (32)
  if (g + 8 > end) return -DecodeResult.NotTcp;
  const flags = b[g];
  if (flags >> 5 !== 1 || (flags & 0x10) === 0) return -DecodeResult.NotTcp;
  if (b[g + 1] !== 0xff) return -DecodeResult.NotTcp; // not a G-PDU: signalling, echo, end marker
  const teid = i32(b, g + 4);
  // the length counts the bytes after the 8 mandatory ones
  const last = g + 8 + u16(b, g + 2);
  if (last < end) end = last;
  let h = g + 8;
  if (flags & 0x07) {
    if (h + 4 > end) return -DecodeResult.BadTunnelHeader;
    let next = b[h + 3];
    h += 4;
    for (let n = 0; next !== 0; n++) {
      if (h + 4 > end || n > 16) return -DecodeResult.BadTunnelHeader;
      const len = b[h] * 4;
      if (len === 0 || h + len > end) return -DecodeResult.BadTunnelHeader;
      next = b[h + len - 1];
      h += len;
    }
  }
  if (h >= end) return -DecodeResult.BadTunnelHeader;
  out.tunnel = TUNNELS.intern(out.tunnel, TunnelKind.Gtpu, -1, teid, b, ip, ipVersion);
  out.proto = 0;
  return h;
}

/** Teredo's headers before the IPv6 packet (RFC 4380 5.1.1): authentication, then origin indication. */
function teredoInner(b: Uint8Array, p: number, end: number): number {
  if (p + 2 <= end && b[p] === 0 && b[p + 1] === 1) {
    // authentication: 0x0001, ID-len, AU-len, client id, authentication value, nonce (8), confirmation (1)
    if (p + 4 > end) return -1;
    p += 4 + b[p + 2] + b[p + 3] + 9;
  }
  if (p + 2 <= end && b[p] === 0 && b[p + 1] === 0) p += 8; // origin indication: 0x0000, port, address
  return p;
}

/** A UDP payload that is exactly one IPv6 packet from or to 2001:0::/32 (Zeek's Teredo DPD signature's test). */
function looksLikeTeredo(b: Uint8Array, p: number, end: number): boolean {
  const v6 = teredoInner(b, p, end);
  if (v6 < 0 || v6 + 40 > end || b[v6] >> 4 !== 6) return false;
  if (v6 + 40 + u16(b, v6 + 4) !== end) return false;
  return i32(b, v6 + 8) === 0x20010000 || i32(b, v6 + 24) === 0x20010000;
}

function openTeredo(b: Uint8Array, ip: number, ipVersion: number, p: number, end: number, out: TunnelOut): number {
  const v6 = teredoInner(b, p, end);
  if (v6 < 0 || v6 + 40 > end || b[v6] >> 4 !== 6) return -DecodeResult.NotTcp; // qualification bubbles, other UDP
  out.tunnel = TUNNELS.intern(out.tunnel, TunnelKind.Teredo, -1, -1, b, ip, ipVersion);
  out.proto = ETH_IPV6;
  return v6;
}
