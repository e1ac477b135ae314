/**
 * Frame -> TCP segment view. IPv4 (RFC 791: IHL >= 5, options skipped,
 * fragments counted and not reassembled), IPv6 (RFC 8200: extension header
 * chain walked with a hop limit, so a looping or overrunning chain is a counted
 * decode failure), TCP (RFC 9293 3.1: data offset >= 5, options MSS, window
 * scale, SACK-permitted, SACK, timestamps; unknown kinds skipped by their
 * length; a length of 0 or 1 or one overrunning the header ends option parsing).
 *
 * The payload length comes from the IP length fields, never from the captured
 * length, so snaplen-truncated captures keep exact sequence accounting and
 * Ethernet padding is not counted as data.
 */
import { i32, u16 } from './bytes.js';
import type { Frame } from '../capture/frame.js';
import { verifyTcpChecksum } from './checksum.js';
import { ETH_IPV4, ETH_IPV6, linkPayload } from './link.js';
import type { FragmentAt } from './defrag.js';
import { MAX_TUNNEL_DEPTH, openTunnel, type TunnelOut } from './tunnel.js';
import {
  DecodeResult, OPT_MSS, OPT_SACK, OPT_SACK_PERM, OPT_TS, OPT_WSCALE, type Packet,
} from './packet.js';

const out: TunnelOut = { proto: 0, tunnel: 0 };
const MAX_V6_EXT_HEADERS = 12;

/**
 * Where the last frame that decodeFrame called a Fragment was fragmented
 * (src/decode/defrag.ts reassembles from it); `ip` is -1 when the fragmented
 * header was inside a tunnel (not reassembled).
 */
export const FRAGMENT_AT: FragmentAt = { ip: -1, version: 4, fragHdr: -1, prevNext: -1 };

function fragmentAt(depth: number, ip: number, version: number, fragHdr: number, prevNext: number): DecodeResult {
  FRAGMENT_AT.ip = depth === 0 ? ip : -1;
  FRAGMENT_AT.version = version;
  FRAGMENT_AT.fragHdr = fragHdr;
  FRAGMENT_AT.prevNext = prevNext;
  return DecodeResult.Fragment;
}

export interface DecodeOptions {
  checksums: boolean;
}

export function decodeFrame(f: Frame, p: Packet, opts: DecodeOptions): DecodeResult {
  const b = f.buf;
  const end = f.offset + f.capLen;
  let o = linkPayload(f.linkType, b, f.offset, end, out);
  if (o < 0) return -o as DecodeResult;
  out.tunnel = 0;
  let tcp: number;
  let tcpLen: number; // TCP header + payload length per the IP header
  let ipAt: number; // the innermost IP header (checksum pseudo-header)
  let ipVer: number;
  // one pass per IP header: the packet's own, then one per tunnel opened (tunnel.ts)
  for (let depth = 0; ; depth++) {
    let proto = out.proto;
    if (o >= end) return depth === 0 ? DecodeResult.TruncatedIp : DecodeResult.BadTunnelHeader;
    if (proto === 0) {
      const v = b[o] >> 4;
      proto = v === 4 ? ETH_IPV4 : v === 6 ? ETH_IPV6 : -1;
      if (proto < 0) return DecodeResult.NotIp;
    }
    // wire length left from here: bounds a TSO super-segment or jumbogram (outermost packet only)
    const wireLeft = depth === 0 ? f.origLen - (o - f.offset) : end - o;
    let ipProto: number;
    let l4: number;
    let l4Len: number;
    let fragment = false;
    if (proto === ETH_IPV4) {
      if (o + 20 > end) return DecodeResult.TruncatedIp;
      const vihl = b[o];
      if (vihl >> 4 !== 4) return DecodeResult.BadIpHeader;
      const ihl = (vihl & 0x0f) * 4;
      if (ihl < 20) return DecodeResult.BadIpHeader;
      if (o + ihl > end) return DecodeResult.TruncatedIp;
      let total = u16(b, o + 2);
      // Total length 0: a TSO/GSO super-segment captured before segmentation
      // (tshark: "reported as 0, presumed to be because of TCP segmentation offload");
      // the wire length of the frame is the best bound.
      if (total === 0) total = wireLeft;
      if (total < ihl) return DecodeResult.BadIpHeader;
      const frag = u16(b, o + 6);
      ipProto = b[o + 9];
      fragment = (frag & 0x1fff) !== 0 || (frag & 0x2000) !== 0;
      if (ipProto === 6) {
        if (fragment) return fragmentAt(depth, o, 4, -1, -1);
        p.ipVersion = 4;
        p.ttl = b[o + 8];
        p.ipId = u16(b, o + 4);
        p.df = (frag & 0x4000) !== 0;
        p.src0 = i32(b, o + 12); p.src1 = 0; p.src2 = 0; p.src3 = 0;
        p.dst0 = i32(b, o + 16); p.dst1 = 0; p.dst2 = 0; p.dst3 = 0;
        tcp = o + ihl;
        tcpLen = total - ihl;
        p.ipLen = u16(b, o + 2); // as Zeek's IP_Hdr::TotalLen: 0 stays 0
        ipAt = o;
        ipVer = 4;
        break;
      }
      l4 = o + ihl;
      l4Len = total - ihl;
      ipVer = 4;
    } else if (proto === ETH_IPV6) {
      if (o + 40 > end) return DecodeResult.TruncatedIp;
      if (b[o] >> 4 !== 6) return DecodeResult.BadIpHeader;
      const payload = u16(b, o + 4);
      let next = b[o + 6];
      let h = o + 40;
      let n = 0;
      let nextAt = o + 6; // the byte that names `next`
      while (next !== 6 && next !== 4 && next !== 41 && next !== 47 && next !== 17) {
        if (next === 0 || next === 43 || next === 60 || next === 135 || next === 139 || next === 140) {
          if (h + 8 > end) return DecodeResult.BadIpv6Chain;
          next = b[h];
          nextAt = h;
          h += (b[h + 1] + 1) * 8;
        } else if (next === 44) {
          if (h + 8 > end) return DecodeResult.BadIpv6Chain;
          const fragOff = u16(b, h + 2);
          if ((fragOff & 0xfff8) !== 0 || (fragOff & 1) !== 0) return fragmentAt(depth, o, 6, h, nextAt);
          next = b[h];
          h += 8;
        } else if (next === 51) {
          if (h + 8 > end) return DecodeResult.BadIpv6Chain;
          next = b[h];
          nextAt = h;
          h += (b[h + 1] + 2) * 4;
        } else {
          return DecodeResult.NotTcp;
        }
        if (++n > MAX_V6_EXT_HEADERS || h > end) return DecodeResult.BadIpv6Chain;
      }
      // payload length 0 means a jumbogram (RFC 2675): fall back to the wire length
      const len = payload === 0 ? wireLeft - (h - o) : payload - (h - o - 40);
      if (next === 6) {
        p.ipVersion = 6;
        p.ttl = b[o + 7];
        p.ipId = -1;
        p.df = false;
        p.src0 = i32(b, o + 8); p.src1 = i32(b, o + 12); p.src2 = i32(b, o + 16); p.src3 = i32(b, o + 20);
        p.dst0 = i32(b, o + 24); p.dst1 = i32(b, o + 28); p.dst2 = i32(b, o + 32); p.dst3 = i32(b, o + 36);
        tcp = h;
        tcpLen = len;
        p.ipLen = payload + 40; // as Zeek's IP_Hdr::TotalLen (a jumbogram counts 40)
        ipAt = o;
        ipVer = 6;
        break;
      }
      ipProto = next;
      l4 = h;
      l4Len = len;
      ipVer = 6;
    } else {
      return DecodeResult.NotIp;
    }
    // not TCP: a tunnel to open, or not for us
    if (ipProto !== 4 && ipProto !== 41 && ipProto !== 47 && ipProto !== 17) return DecodeResult.NotTcp;
    if (fragment) return fragmentAt(depth, o, 4, -1, -1); // a tunnel's payload cut across fragments
    if (depth >= MAX_TUNNEL_DEPTH) return DecodeResult.TunnelTooDeep;
    const l4End = l4Len >= 0 && l4 + l4Len < end ? l4 + l4Len : end;
    const inner = openTunnel(b, o, ipVer, ipProto, l4, l4End, out);
    if (inner < 0) return -inner as DecodeResult;
    o = inner;
  }
  p.tunnel = out.tunnel;
  if (tcp + 20 > end) return DecodeResult.TruncatedTcp;
  const off = (b[tcp + 12] >> 4) * 4;
  if (off < 20 || off > tcpLen) return DecodeResult.BadTcpHeader;
  p.srcPort = u16(b, tcp);
  p.dstPort = u16(b, tcp + 2);
  p.seq = i32(b, tcp + 4);
  p.ack = i32(b, tcp + 8);
  p.flags = b[tcp + 13];
  p.window = u16(b, tcp + 14);
  p.tcpHeaderLen = off;
  p.tcpOffset = tcp;
  p.payloadLen = tcpLen - off;
  const capturedPayload = end - tcp - off;
  p.payloadCaptured = capturedPayload < 0 ? 0 : capturedPayload < p.payloadLen ? capturedPayload : p.payloadLen;
  parseOptions(b, tcp + 20, Math.min(tcp + off, end), p);
  p.badChecksum = false;
  if (opts.checksums && end - tcp >= tcpLen) {
    p.badChecksum = !verifyTcpChecksum(b, ipAt, ipVer === 4 ? 4 : 6, tcp, tcpLen);
  }
  return DecodeResult.Tcp;
}

function parseOptions(b: Buffer, o: number, end: number, p: Packet): void {
  let mask = 0;
  p.optMss = -1;
  p.optWscale = -1;
  p.tsVal = 0;
  p.tsEcr = 0;
  while (o < end) {
    const kind = b[o];
    if (kind === 0) break; // end of option list
    if (kind === 1) { o++; continue; } // NOP
    if (o + 1 >= end) break;
    const len = b[o + 1];
    if (len < 2 || o + len > end) break; // malformed: stop, keep what was read
    if (kind < 32) mask |= 1 << kind;
    if (kind === 2 && len === 4) p.optMss = u16(b, o + 2);
    else if (kind === 3 && len === 3) p.optWscale = b[o + 2];
    else if (kind === 8 && len === 10) { p.tsVal = i32(b, o + 2); p.tsEcr = i32(b, o + 6); }
    o += len;
  }
  p.optMask = mask;
}

export { OPT_MSS, OPT_SACK, OPT_SACK_PERM, OPT_TS, OPT_WSCALE };
