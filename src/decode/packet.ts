/**
 * The decoded view of one TCP segment. One `Packet` object is reused for every
 * frame: the decoder fills numeric fields from a single pass over the bytes
 * (one length check per header, then reads), without allocating. Addresses are
 * kept as four 32-bit words (IPv4 uses word 0 only) so that connection lookup
 * compares numbers, never strings.
 */
export const enum DecodeResult {
  Tcp = 0,
  NotIp,
  NotTcp,
  Fragment,
  TruncatedLink,
  TruncatedIp,
  BadIpHeader,
  TruncatedTcp,
  BadTcpHeader,
  UnsupportedLink,
  BadIpv6Chain,
  BadChecksum,
  BadTunnelHeader,
  TunnelTooDeep,
  /** never returned by decodeFrame: a fragment analyzed with the frame that completed its datagram (stats only) */
  ReassembledFragment,
}

/** Stable names for the reasons a frame carries no analyzable TCP segment. */
export const DECODE_REASONS: readonly string[] = [
  'tcp',
  'not-ip',
  'not-tcp',
  'ip-fragment',
  'truncated-link-header',
  'truncated-ip-header',
  'bad-ip-header',
  'truncated-tcp-header',
  'bad-tcp-header',
  'unsupported-link-type',
  'bad-ipv6-extension-chain',
  'bad-checksum',
  'bad-tunnel-header',
  'tunnel-too-deep',
  'reassembled-fragment',
];

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

/** bits of Packet.optMask: which TCP option kinds the segment carried */
export const OPT_MSS = 1 << 2;
export const OPT_WSCALE = 1 << 3;
export const OPT_SACK_PERM = 1 << 4;
export const OPT_SACK = 1 << 5;
export const OPT_TS = 1 << 8;

/**
 * Addresses, sequence and acknowledgment numbers and TCP timestamps are read
 * as signed 32-bit integers (V8 small integers: no heap number per packet);
 * compare them with src/tcp/seq.ts and print them with `>>> 0`.
 */
export interface Packet {
  ipVersion: number;
  src0: number; src1: number; src2: number; src3: number;
  dst0: number; dst1: number; dst2: number; dst3: number;
  /** TTL (IPv4) or hop limit (IPv6) */
  ttl: number;
  /** IPv4 identification, -1 for IPv6 */
  ipId: number;
  /** IPv4 Don't Fragment bit */
  df: boolean;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  /** raw (unscaled) window field */
  window: number;
  /** TCP header length in bytes */
  tcpHeaderLen: number;
  /** payload length from the IP length fields (not the captured length) */
  payloadLen: number;
  /**
   * the innermost IP datagram's length field, headers included (IPv4 total
   * length, IPv6 payload length + 40), as Zeek's IP_Hdr::TotalLen reads it (a
   * TSO super-segment's 0 stays 0, a jumbogram counts 40): what Zeek sums into
   * orig_ip_bytes/resp_ip_bytes
   */
  ipLen: number;
  /** offset of the TCP header in the frame's buffer */
  tcpOffset: number;
  /** payload bytes actually captured */
  payloadCaptured: number;
  optMask: number;
  optMss: number;
  optWscale: number;
  tsVal: number;
  tsEcr: number;
  /** true when --checksums is on and the IP or TCP checksum is wrong */
  badChecksum: boolean;
  /** the tunnel path the segment came through (src/decode/tunnel.ts TUNNELS ids), 0 when none: part of the connection key */
  tunnel: number;
}

export function newPacket(): Packet {
  return {
    ipVersion: 0, src0: 0, src1: 0, src2: 0, src3: 0, dst0: 0, dst1: 0, dst2: 0, dst3: 0,
    ttl: 0, ipId: -1, df: false, srcPort: 0, dstPort: 0, seq: 0, ack: 0, flags: 0, window: 0,
    tcpHeaderLen: 0, payloadLen: 0, ipLen: 0, tcpOffset: 0, payloadCaptured: 0, optMask: 0, optMss: -1, optWscale: -1,
    tsVal: 0, tsEcr: 0, badChecksum: false, tunnel: 0,
  };
}
