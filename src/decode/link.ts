/**
 * Link layers: find where the IP header starts. Each function returns the
 * offset of the network header (>= 0) and stores the EtherType-like protocol
 * in `linkOut.proto` (0x0800 IPv4, 0x86dd IPv6, 0 = "look at the version
 * nibble"), or a negative DecodeResult.
 *
 * Sources: LINKTYPE registry (tcpdump.org/linktypes.html); IEEE 802.1Q/802.1ad
 * tags; RFC 3032 MPLS label stack; Cisco FabricPath (16-byte outer header,
 * EtherType 0x8903); Linux cooked v1 (16 bytes, protocol at 14) and v2
 * (20 bytes, protocol at 0); BSD null/loopback (4-byte family in the writer's
 * byte order) and LINKTYPE_LOOP (network byte order); FDDI (13-byte MAC header,
 * then 802.2 LLC/SNAP); PPP (RFC 1661: address/control bytes optional, one- or
 * two-byte protocol field; IPv4, IPv6 and MPLS, RFC 3032 5.3) on its own and inside
 * PPPoE (RFC 2516).
 */
import { u16 } from './bytes.js';
import { DecodeResult } from './packet.js';

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_PPP = 9;
export const LINKTYPE_FDDI = 10;
export const LINKTYPE_RAW_12 = 12;
export const LINKTYPE_RAW_14 = 14;
export const LINKTYPE_PPP_HDLC = 50;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

const LINK_NAMES: Record<number, string> = {
  0: 'NULL', 1: 'ETHERNET', 9: 'PPP', 10: 'FDDI', 12: 'RAW', 14: 'RAW', 50: 'PPP_HDLC', 101: 'RAW',
  108: 'LOOP', 113: 'LINUX_SLL', 228: 'IPV4', 229: 'IPV6', 276: 'LINUX_SLL2',
};

export function linkTypeName(lt: number): string {
  return LINK_NAMES[lt] ?? `LINKTYPE_${lt}`;
}

export const ETH_IPV4 = 0x0800;
export const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD = 0x9100;
const ETH_MPLS = 0x8847;
const ETH_MPLS_MC = 0x8848;
const ETH_FABRICPATH = 0x8903;
const ETH_PPPOE = 0x8864;
const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;
const PPP_MPLS = 0x0281;
const PPP_MPLS_MC = 0x0283;

export interface LinkOut {
  proto: number;
}

/** After an MPLS label stack starting at `o` (RFC 3032: 4 bytes a label, bottom-of-stack bit ends it). */
export function afterMplsStack(b: Uint8Array, o: number, end: number, out: LinkOut): number {
  for (let labels = 0; ; labels++) {
    if (o + 4 > end || labels > 16) return -DecodeResult.TruncatedLink;
    const bos = b[o + 2] & 0x01;
    o += 4;
    if (bos) break;
  }
  out.proto = 0; // RFC 3032: the payload type is implied; use the IP version nibble
  return o;
}

/**
 * After the PPP protocol field at `o` (RFC 1661 2): one byte when its low bit
 * is set (protocol field compression, PFC: 0x21 for 0x0021), else two. IPv4
 * (0x0021), IPv6 (0x0057), MPLS unicast and multicast (0x0281, 0x0283, RFC
 * 3032 5.3) then an IP packet; anything else is not IP.
 */
function afterPppProtocol(b: Uint8Array, o: number, end: number, out: LinkOut): number {
  if (o >= end) return -DecodeResult.TruncatedLink;
  let proto = b[o];
  if ((proto & 1) !== 0) o += 1;
  else {
    if (o + 2 > end) return -DecodeResult.TruncatedLink;
    proto = u16(b, o);
    o += 2;
  }
  if (proto === PPP_IPV4) out.proto = ETH_IPV4;
  else if (proto === PPP_IPV6) out.proto = ETH_IPV6;
  else if (proto === PPP_MPLS || proto === PPP_MPLS_MC) return afterMplsStack(b, o, end, out);
  else return -DecodeResult.NotIp;
  return o;
}

/** After an EtherType at `o` (2 bytes): unwrap tags, MPLS and PPPoE; returns network offset. */
function afterEthertype(b: Uint8Array, o: number, end: number, out: LinkOut): number {
  for (let depth = 0; depth < 16; depth++) {
    if (o + 2 > end) return -DecodeResult.TruncatedLink;
    const type = u16(b, o);
    o += 2;
    if (type === ETH_VLAN || type === ETH_QINQ || type === ETH_QINQ_OLD) {
      o += 2; // TCI
      continue;
    }
    if (type === ETH_MPLS || type === ETH_MPLS_MC) return afterMplsStack(b, o, end, out);
    // PPPoE session stage (RFC 2516): version/type, code, session id, length, then the PPP protocol field
    if (type === ETH_PPPOE) return afterPppProtocol(b, o + 6, end, out);
    if (type === ETH_IPV4 || type === ETH_IPV6) {
      out.proto = type;
      return o;
    }
    if (type === ETH_FABRICPATH) {
      // FTag/TTL (2 bytes), then the inner classical Ethernet header
      o += 2 + 12;
      continue;
    }
    if (type <= 1500) {
      // 802.3 length: 802.2 LLC, IP only behind SNAP (AA AA 03, OUI, EtherType)
      if (o + 8 > end) return -DecodeResult.TruncatedLink;
      if (b[o] === 0xaa && b[o + 1] === 0xaa && b[o + 2] === 0x03) {
        o += 6;
        continue;
      }
      return -DecodeResult.NotIp;
    }
    return -DecodeResult.NotIp;
  }
  return -DecodeResult.NotIp;
}

function familyProto(fam: number): number {
  if (fam === 2) return ETH_IPV4;
  if (fam === 10 || fam === 24 || fam === 28 || fam === 30) return ETH_IPV6;
  return -1;
}

/** After an Ethernet header at `o` (a tunnel's inner frame): the network header's offset, or a negative DecodeResult. */
export function afterEthernet(b: Uint8Array, o: number, end: number, out: LinkOut): number {
  if (o + 14 > end) return -DecodeResult.TruncatedLink;
  return afterEthertype(b, o + 12, end, out);
}

/** Offset of the network header in b[start, end) for link type `lt`, or a negative DecodeResult. */
export function linkPayload(lt: number, b: Buffer, start: number, end: number, out: LinkOut): number {
  switch (lt) {
    case LINKTYPE_ETHERNET:
      if (start + 14 > end) return -DecodeResult.TruncatedLink;
      return afterEthertype(b, start + 12, end, out);
    case LINKTYPE_LINUX_SLL:
      if (start + 16 > end) return -DecodeResult.TruncatedLink;
      return afterEthertype(b, start + 14, end, out);
    case LINKTYPE_LINUX_SLL2:
      if (start + 20 > end) return -DecodeResult.TruncatedLink;
      {
        // protocol type at offset 0; the 20-byte header is followed by the packet
        const proto = u16(b, start);
        if (proto !== ETH_IPV4 && proto !== ETH_IPV6) return -DecodeResult.NotIp;
        out.proto = proto;
        return start + 20;
      }
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_12:
    case LINKTYPE_RAW_14:
      out.proto = 0;
      return start;
    case LINKTYPE_IPV4:
      out.proto = ETH_IPV4;
      return start;
    case LINKTYPE_IPV6:
      out.proto = ETH_IPV6;
      return start;
    case LINKTYPE_NULL: {
      if (start + 4 > end) return -DecodeResult.TruncatedLink;
      let fam = b.readUInt32LE(start);
      if (fam > 0xffff) fam = b.readUInt32BE(start);
      const p = familyProto(fam);
      if (p < 0) return -DecodeResult.NotIp;
      out.proto = p;
      return start + 4;
    }
    case LINKTYPE_LOOP: {
      if (start + 4 > end) return -DecodeResult.TruncatedLink;
      const p = familyProto(b.readUInt32BE(start));
      if (p < 0) return -DecodeResult.NotIp;
      out.proto = p;
      return start + 4;
    }
    case LINKTYPE_FDDI: {
      // frame control (1) + dst (6) + src (6), then 802.2 LLC
      if (start + 13 + 8 > end) return -DecodeResult.TruncatedLink;
      const o = start + 13;
      if (b[o] === 0xaa && b[o + 1] === 0xaa && b[o + 2] === 0x03) return afterEthertype(b, o + 6, end, out);
      return -DecodeResult.NotIp;
    }
    case LINKTYPE_PPP:
    case LINKTYPE_PPP_HDLC:
      // address and control (FF 03) are absent when the link negotiated ACFC (RFC 1661 6.6)
      if (start + 2 <= end && b[start] === 0xff && b[start + 1] === 0x03) return afterPppProtocol(b, start + 2, end, out);
      return afterPppProtocol(b, start, end, out);
    default:
      return -DecodeResult.UnsupportedLink;
  }
}
