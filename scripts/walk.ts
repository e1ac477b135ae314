/**
 * The "bare record walk" baseline for the benchmark: the least work any
 * capture tool must do. Reads a classic pcap (either byte order) or a pcapng
 * (either byte order per section) in 1 MiB chunks into one reused buffer and
 * walks the records, reading the TCP flags byte of each Ethernet/IPv4 or
 * Ethernet/IPv6 TCP packet (no other decoding, no state, no validation beyond
 * what keeps the walk in bounds). Prints `packets tcp flagsum` so the work
 * cannot be optimised away.
 *
 *   node dist/scripts/walk.js FILE.pcap|FILE.pcapng
 *
 * Known gaps (deliberate, it is a baseline): no VLAN tags, no IPv6 extension
 * headers, every interface is taken as Ethernet, pcapng packets only from
 * EPBs (the block every current writer uses), no timestamps.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const CHUNK = 1 << 20;

interface Counts { packets: number; tcp: number; flagSum: number }

/** Reads the TCP flags of an Ethernet frame at buf[f .. f + capLen). */
function frameFlags(buf: Buffer, f: number, capLen: number, c: Counts): void {
  c.packets++;
  if (capLen < 34) return;
  const etherType = (buf[f + 12] << 8) | buf[f + 13];
  if (etherType === 0x0800 && buf[f + 23] === 6) {
    const ihl = (buf[f + 14] & 15) * 4;
    if (capLen >= 14 + ihl + 14) {
      c.tcp++;
      c.flagSum += buf[f + 14 + ihl + 13];
    }
  } else if (etherType === 0x86dd && buf[f + 20] === 6 && capLen >= 14 + 40 + 14) {
    c.tcp++;
    c.flagSum += buf[f + 54 + 13];
  }
}

/**
 * Walks the packet records of a pcap or pcapng file, calling `onFrame` with
 * each record's bytes (buf[f .. f + capLen), valid during the call only).
 * Returns nothing: the callback keeps its own counts.
 */
export function walkRecords(path: string, onFrame: (buf: Buffer, f: number, capLen: number) => void): void {
  const fd = openSync(path, 'r');
  let buf = Buffer.allocUnsafe(CHUNK + 262144 + 64);
  let start = 0;
  let end = 0;
  let le = true;
  let format: 'unknown' | 'pcap' | 'pcapng' = 'unknown';
  /** bytes the record at `start` needs in the buffer, when it did not fit */
  let need = 0;
  try {
    for (;;) {
      if (start > 0) {
        buf.copy(buf, 0, start, end);
        end -= start;
        start = 0;
      }
      if (need > buf.length - CHUNK) {
        // a pcapng block larger than the buffer (e.g. a big name resolution block)
        const bigger = Buffer.allocUnsafe(need + CHUNK);
        buf.copy(bigger, 0, 0, end);
        buf = bigger;
      }
      const n = readSync(fd, buf, end, Math.min(CHUNK, buf.length - end), null);
      if (n === 0) break;
      end += n;
      if (format === 'unknown') {
        if (end < 24) continue;
        if (buf.readUInt32BE(0) === 0x0a0d0d0a) format = 'pcapng';
        else {
          format = 'pcap';
          le = buf.readUInt32LE(0) === 0xa1b2c3d4 || buf.readUInt32LE(0) === 0xa1b23c4d;
          start = 24;
        }
      }
      need = 0;
      if (format === 'pcap') {
        while (end - start >= 16) {
          const capLen = le ? buf.readUInt32LE(start + 8) : buf.readUInt32BE(start + 8);
          if (end - start < 16 + capLen) break;
          onFrame(buf, start + 16, capLen);
          start += 16 + capLen;
        }
      } else {
        while (end - start >= 12) {
          const type = le ? buf.readUInt32LE(start) : buf.readUInt32BE(start);
          // the section header's type reads the same in both byte orders; its byte-order magic decides
          if (type === 0x0a0d0d0a) le = buf.readUInt32LE(start + 8) === 0x1a2b3c4d;
          const len = le ? buf.readUInt32LE(start + 4) : buf.readUInt32BE(start + 4);
          if (len < 12) throw new Error(`walk: bad pcapng block length ${len}`);
          if (end - start < len) {
            need = len;
            break;
          }
          if (type === 6 && len >= 32) {
            const capLen = le ? buf.readUInt32LE(start + 20) : buf.readUInt32BE(start + 20);
            if (capLen <= len - 32) onFrame(buf, start + 28, capLen);
          }
          start += len;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

export function walk(path: string): Counts {
  const c: Counts = { packets: 0, tcp: 0, flagSum: 0 };
  walkRecords(path, (buf, f, capLen) => frameFlags(buf, f, capLen, c));
  return c;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = walk(process.argv[2] ?? '');
  process.stdout.write(`${r.packets} ${r.tcp} ${r.flagSum}\n`);
}
