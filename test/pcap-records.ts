/**
 * Byte-level editing of classic little-endian microsecond pcap files (the
 * bundled captures): records as buffers, rewritten in place by tests that
 * make variants of real kernel frames (mid-path, mid-stream, offload), and
 * the IPv4 and TCP checksums recomputed after an edit.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { fold, sum16 } from '../src/decode/checksum.js';

/**
 * A classic little-endian pcap as its file header and records (16-byte
 * record header + data), and where the IPv4 header starts in a record:
 * after the Ethernet header (link type 1) or at once (101, raw IP).
 */
export function pcapRecords(file: string): { header: Buffer; recs: Buffer[]; ip: number } {
  const b = readFileSync(file);
  assert.equal(b.readUInt32LE(0), 0xa1b2c3d4, `${file}: a little-endian microsecond pcap`);
  const link = b.readUInt32LE(20);
  assert.ok(link === 1 || link === 101, `${file}: Ethernet or raw IP`);
  const recs: Buffer[] = [];
  for (let o = 24; o < b.length;) {
    const n = 16 + b.readUInt32LE(o + 8);
    recs.push(b.subarray(o, o + n));
    o += n;
  }
  return { header: b.subarray(0, 24), recs, ip: link === 1 ? IP : 16 };
}

/** Writes a header and records (copies of the records: callers may edit theirs) as one file. */
export function writePcap(path: string, header: Buffer, recs: Buffer[]): string {
  writeFileSync(path, Buffer.concat([header, ...recs]));
  return path;
}

/** offset of the IPv4 header in a record of an Ethernet capture (16-byte record header + 14-byte Ethernet) */
export const IP = 16 + 14;

/** offset of the TCP header in an IPv4 record whose IP header starts at `ip` */
export function tcpOf(rec: Buffer, ip = IP): number {
  return ip + (rec[ip] & 0x0f) * 4;
}

/** TCP source port of an IPv4 record */
export function srcPortOf(rec: Buffer, ip = IP): number {
  return rec.readUInt16BE(tcpOf(rec, ip));
}

/** The record's timestamp moved by `us` microseconds. */
export function shiftUs(rec: Buffer, us: number): void {
  const t = rec.readUInt32LE(0) * 1e6 + rec.readUInt32LE(4) + us;
  rec.writeUInt32LE(Math.floor(t / 1e6), 0);
  rec.writeUInt32LE(t % 1e6, 4);
}

/**
 * Recomputes the IPv4 header checksum and the TCP checksum of an IPv4
 * record (over the captured TCP bytes, which must be the whole segment;
 * the IPv4 total length, when 0, from the captured length).
 */
export function fixChecksums(rec: Buffer, ip = IP): void {
  const ihl = (rec[ip] & 0x0f) * 4;
  rec.writeUInt16BE(0, ip + 10);
  rec.writeUInt16BE(0xffff - fold(sum16(rec, ip, ip + ihl, 0)), ip + 10);
  const tcp = ip + ihl;
  const total = rec.readUInt16BE(ip + 2) || rec.length - ip;
  const tcpLen = ip + total - tcp;
  rec.writeUInt16BE(0, tcp + 16);
  const acc = sum16(rec, ip + 12, ip + 20, 6 + tcpLen);
  rec.writeUInt16BE(0xffff - fold(sum16(rec, tcp, tcp + tcpLen, acc)), tcp + 16);
}
