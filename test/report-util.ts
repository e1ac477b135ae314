/** Helpers shared by the report tests: a synthetic reset-flood capture writer. */
import { writeFileSync } from 'node:fs';

/**
 * Writes a classic pcap (Ethernet, IPv4, microsecond stamps) holding `n`
 * refused connection attempts: SYN from 10.1.x.y:port to 10.9.a.b:80 and the
 * RST/ACK (seq 0, ack ISN+1, win 0) a Linux host without a listener sends
 * (tcp_v4_send_reset). Attempt i goes to one of `servers` addresses, from one
 * of 250 clients; 100 attempts per capture second, with a burst of a fifth of
 * them in one second half way through. Checksums are zero (rstscope does not
 * check them by default).
 */
export function writeRefusalFlood(path: string, n: number, servers: number): void {
  const rec = 16 + 54;
  const buf = Buffer.alloc(24 + n * 2 * rec);
  buf.writeUInt32LE(0xa1b2c3d4, 0);
  buf.writeUInt16LE(2, 4);
  buf.writeUInt16LE(4, 6);
  buf.writeUInt32LE(65535, 16);
  buf.writeUInt32LE(1, 20);
  let o = 24;
  const t0 = 1_700_000_000;
  const burstStart = Math.floor(n * 0.4);
  const burstEnd = burstStart + Math.floor(n / 5);
  const packet = (tUs: number, src: number, dst: number, sport: number, dport: number, seq: number, ack: number, flags: number, win: number, ipId: number) => {
    buf.writeUInt32LE(t0 + Math.floor(tUs / 1e6), o);
    buf.writeUInt32LE(tUs % 1e6, o + 4);
    buf.writeUInt32LE(54, o + 8);
    buf.writeUInt32LE(54, o + 12);
    o += 16;
    buf.fill(0, o, o + 54);
    buf.writeUInt16BE(0x0800, o + 12);
    const ip = o + 14;
    buf[ip] = 0x45;
    buf.writeUInt16BE(40, ip + 2);
    buf.writeUInt16BE(ipId, ip + 4);
    buf.writeUInt16BE(0x4000, ip + 6);
    buf[ip + 8] = 64;
    buf[ip + 9] = 6;
    buf.writeUInt32BE(src >>> 0, ip + 12);
    buf.writeUInt32BE(dst >>> 0, ip + 16);
    const tcp = ip + 20;
    buf.writeUInt16BE(sport, tcp);
    buf.writeUInt16BE(dport, tcp + 2);
    buf.writeUInt32BE(seq >>> 0, tcp + 4);
    buf.writeUInt32BE(ack >>> 0, tcp + 8);
    buf[tcp + 12] = 5 << 4;
    buf[tcp + 13] = flags;
    buf.writeUInt16BE(win, tcp + 14);
    o += 54;
  };
  let tUs = 0;
  for (let i = 0; i < n; i++) {
    tUs += i >= burstStart && i < burstEnd ? Math.floor(1e6 / (n / 5)) || 1 : 10_000;
    const client = ((10 << 24) | (1 << 16) | (i % 250)) + 1;
    const server = (10 << 24) | (9 << 16) | (i % servers);
    const sport = 20000 + Math.floor(i / 250) % 40000;
    const isn = (i * 2654435761) >>> 0;
    packet(tUs, client, server, sport, 80, isn, 0, 0x02, 64240, i & 0xffff);
    packet(tUs + 15, server, client, 80, sport, 0, isn + 1, 0x14, 0, 0);
  }
  writeFileSync(path, buf.subarray(0, o));
}
