/**
 * Offload artefacts made from real kernel frames (issue 14, item 6), byte by
 * byte, for Ethernet or raw-IP IPv4 captures: what a capture shows when the NIC or the
 * stack segments, coalesces or checksums for the host.
 * - merge: TSO/GSO/GRO super-segments: runs of one sender's consecutive data
 *   segments (same ack, ACK/PSH only, contiguous) made one segment, up to
 *   `limit` payload bytes; beyond 65,535 bytes of IP packet the IPv4 total
 *   length is 0 (as captured before segmentation; the length is then the
 *   frame's);
 * - split: the reverse: every data segment cut into MSS-sized pieces, as on
 *   the wire when the capture holds the super-segments;
 * - total length 0 on every frame, TCP checksum zeroed or garbage.
 * Each variant keeps, per new frame, the original frames it carries.
 */
import { pcapRecords, tcpOf, writePcap } from './pcap-records.js';

export interface Variant {
  file: string;
  /** origin[n - 1]: the original frame numbers new frame n carries */
  origin: number[][];
}

interface Seg {
  rec: Buffer;
  /** offset of the TCP payload in rec */
  data: number;
  /** payload length on the wire (from the IPv4 total length, or the frame's length when 0) */
  len: number;
  seq: number;
  ack: number;
  flags: number;
  ports: number;
}

function seg(rec: Buffer, ip: number): Seg {
  const t = tcpOf(rec, ip);
  const data = t + (rec[t + 12] >> 4) * 4;
  const total = rec.readUInt16BE(ip + 2) || rec.readUInt32LE(12) - (ip - 16);
  return {
    rec, data, len: ip + total - data, seq: rec.readUInt32BE(t + 4), ack: rec.readUInt32BE(t + 8), flags: rec[t + 13],
    ports: rec.readUInt32BE(t),
  };
}

/** A data segment like `s` carrying `payload` (captured bytes, at most snaplen in all) of `len` bytes at `seq`. */
function build(s: Seg, ip: number, seq: number, flags: number, payload: Buffer, len: number, snaplen: number): Buffer {
  const head = s.rec.subarray(0, s.data);
  const wire = s.data - 16 + len;
  const rec = Buffer.concat([head, payload]).subarray(0, 16 + snaplen);
  const out = Buffer.from(rec);
  out.writeUInt32LE(out.length - 16, 8);
  out.writeUInt32LE(wire, 12);
  const total = wire - (ip - 16);
  out.writeUInt16BE(total > 0xffff ? 0 : total, ip + 2);
  const t = tcpOf(out, ip);
  out.writeUInt32BE(seq >>> 0, t + 4);
  out[t + 13] = flags;
  return out;
}

const DATA_FLAGS = 0x10 | 0x08; // ACK, PSH

/** Runs of one sender's contiguous data segments merged, up to `limit` payload bytes each. */
export function merged(file: string, out: string, limit: number): Variant {
  const { header, recs, ip } = pcapRecords(file);
  const snaplen = header.readUInt32LE(16);
  const outRecs: Buffer[] = [];
  const origin: number[][] = [];
  for (let i = 0; i < recs.length;) {
    const first = seg(recs[i], ip);
    const run = [first];
    let len = first.len;
    if (first.len > 0 && (first.flags & ~DATA_FLAGS) === 0) {
      for (let j = i + 1; j < recs.length; j++) {
        const s = seg(recs[j], ip);
        const last = run[run.length - 1];
        if (s.ports !== first.ports || s.len === 0 || (s.flags & ~DATA_FLAGS) !== 0 || s.ack !== first.ack
          || s.seq !== ((last.seq + last.len) >>> 0) || len + s.len > limit) break;
        run.push(s);
        len += s.len;
      }
    }
    if (run.length === 1) outRecs.push(recs[i]);
    else {
      const payload = Buffer.concat(run.map((s) => s.rec.subarray(s.data)));
      const flags = run.reduce((f, s) => f | s.flags, 0);
      outRecs.push(build(first, ip, first.seq, flags, payload, len, snaplen));
    }
    origin.push(run.map((_, k) => i + k + 1));
    i += run.length;
  }
  return { file: writePcap(out, header, outRecs), origin };
}

/**
 * Every data segment cut into pieces of at most `mss` bytes, PSH on the last;
 * a piece holds what the original frame captured of its bytes (a snaplen-cut
 * frame's later pieces hold none: headers only, their wire length kept).
 */
export function split(file: string, out: string, mss: number): Variant {
  const { header, recs, ip } = pcapRecords(file);
  const snaplen = header.readUInt32LE(16);
  const outRecs: Buffer[] = [];
  const origin: number[][] = [];
  recs.forEach((rec, i) => {
    const s = seg(rec, ip);
    if (s.len <= mss || (s.flags & ~DATA_FLAGS) !== 0) {
      outRecs.push(rec);
      origin.push([i + 1]);
      return;
    }
    for (let off = 0; off < s.len; off += mss) {
      const n = Math.min(mss, s.len - off);
      const flags = off + n < s.len ? s.flags & ~0x08 : s.flags;
      outRecs.push(build(s, ip, s.seq + off, flags, rec.subarray(s.data + off, s.data + off + n), n, snaplen));
      origin.push([i + 1]);
    }
  });
  return { file: writePcap(out, header, outRecs), origin };
}

/** Every frame as is, but for `edit` (on a copy; `ip`: where its IPv4 header starts). */
export function edited(file: string, out: string, edit: (rec: Buffer, ip: number) => void): Variant {
  const { header, recs, ip } = pcapRecords(file);
  return { file: writePcap(out, header, recs.map((r) => { const c = Buffer.from(r); edit(c, ip); return c; })), origin: recs.map((_, i) => [i + 1]) };
}

/**
 * IPv4 total length 0 (the frame's length stands for it), where the frame
 * holds the IP packet exactly (no Ethernet padding: a short frame padded to
 * 60 bytes keeps its length, as NICs only zero it on super-segments).
 */
export function zeroTotalLength(rec: Buffer, ip: number): void {
  if (rec.readUInt16BE(ip + 2) === rec.readUInt32LE(12) - (ip - 16)) rec.writeUInt16BE(0, ip + 2);
}

/** TCP checksum 0 (offload: filled in by the NIC after the capture point). */
export function zeroChecksum(rec: Buffer, ip: number): void {
  rec.writeUInt16BE(0, tcpOf(rec, ip) + 16);
}

/** TCP checksum garbage (a partial pseudo-header sum, or whatever the buffer held). */
export function garbageChecksum(rec: Buffer, ip: number): void {
  const t = tcpOf(rec, ip);
  rec.writeUInt16BE((rec.readUInt16BE(t + 16) ^ 0x5a5a) || 1, t + 16);
}
