/**
 * Internet checksum (RFC 1071) over the IPv4 header and over TCP with its
 * pseudo-header (RFC 9293 3.1; RFC 8200 8.1 for IPv6). Only used with
 * --checksums: loopback and offloaded captures carry partial checksums.
 */
/** The 16-bit one's-complement sum of b[start, end) added to acc (not folded). */
export function sum16(b: Buffer, start: number, end: number, acc: number): number {
  let i = start;
  for (; i + 1 < end; i += 2) acc += (b[i] << 8) | b[i + 1];
  if (i < end) acc += b[i] << 8;
  return acc;
}

/** acc folded to 16 bits (carries added back in). */
export function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 65536);
  return acc;
}

/** true when both the IPv4 header checksum (if any) and the TCP checksum verify */
export function verifyTcpChecksum(b: Buffer, ip: number, version: 4 | 6, tcp: number, tcpLen: number): boolean {
  let acc = 0;
  if (version === 4) {
    const ihl = (b[ip] & 0x0f) * 4;
    if (fold(sum16(b, ip, ip + ihl, 0)) !== 0xffff) return false;
    acc = sum16(b, ip + 12, ip + 20, 0);
  } else {
    acc = sum16(b, ip + 8, ip + 40, 0);
  }
  acc += 6 + tcpLen;
  acc = sum16(b, tcp, tcp + tcpLen, acc);
  return fold(acc) === 0xffff;
}
