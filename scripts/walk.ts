/**
 * The "bare record walk" baseline for the benchmark: the least work any pcap
 * tool must do. Reads a classic pcap (either byte order) in 1 MiB chunks into
 * one reused buffer and walks the records, reading the TCP flags byte of each
 * Ethernet/IPv4 or Ethernet/IPv6 TCP packet (no other decoding, no state).
 * Prints `packets tcp flagsum` so the work cannot be optimised away.
 *
 *   node dist/scripts/walk.js FILE.pcap
 *
 * Known gaps (deliberate, it is a baseline): no pcapng, no VLAN tags, no IPv6
 * extension headers.
 */
import { closeSync, openSync, readSync } from 'node:fs';

const CHUNK = 1 << 20;

export function walk(path: string): { packets: number; tcp: number; flagSum: number } {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(CHUNK + 262144 + 16);
  let start = 0;
  let end = 0;
  let packets = 0;
  let tcp = 0;
  let flagSum = 0;
  let le = true;
  let header = false;
  try {
    for (;;) {
      if (start > 0) {
        buf.copy(buf, 0, start, end);
        end -= start;
        start = 0;
      }
      const n = readSync(fd, buf, end, Math.min(CHUNK, buf.length - end), null);
      if (n === 0) break;
      end += n;
      if (!header) {
        if (end < 24) continue;
        le = buf.readUInt32LE(0) === 0xa1b2c3d4 || buf.readUInt32LE(0) === 0xa1b23c4d;
        start = 24;
        header = true;
      }
      while (end - start >= 16) {
        const capLen = le ? buf.readUInt32LE(start + 8) : buf.readUInt32BE(start + 8);
        if (end - start < 16 + capLen) break;
        const f = start + 16;
        packets++;
        if (capLen >= 34) {
          const etherType = (buf[f + 12] << 8) | buf[f + 13];
          if (etherType === 0x0800 && buf[f + 23] === 6) {
            const ihl = (buf[f + 14] & 15) * 4;
            if (capLen >= 14 + ihl + 14) {
              tcp++;
              flagSum += buf[f + 14 + ihl + 13];
            }
          } else if (etherType === 0x86dd && buf[f + 20] === 6 && capLen >= 14 + 40 + 14) {
            tcp++;
            flagSum += buf[f + 54 + 13];
          }
        }
        start = f + capLen;
      }
    }
  } finally {
    closeSync(fd);
  }
  return { packets, tcp, flagSum };
}

const r = walk(process.argv[2] ?? '');
process.stdout.write(`${r.packets} ${r.tcp} ${r.flagSum}\n`);
