/**
 * IP reassembly: fragments of one datagram (RFC 791 3.2 for IPv4; RFC 8200
 * 4.5 for IPv6) are held until every byte has arrived, then the datagram is
 * handed back as one synthetic raw-IP frame that decodes like any other
 * (its frame number and time are the completing fragment's). Tunnels make
 * this common: encapsulation overhead pushes full-size segments over the
 * path MTU, and the outer packet is fragmented (GTP-U, GRE, VXLAN).
 *
 * Guarantees and limits:
 * - Only the outermost IP header is reassembled (a fragment inside a tunnel
 *   stays counted as ip-fragment: a known gap).
 * - Overlapping fragments drop the datagram (RFC 5722 for IPv6; Linux does the
 *   same for IPv4 since 4.19); an exact duplicate of a held fragment is ignored.
 * - Bounded: a datagram is dropped REASSEMBLY_TIMEOUT_SEC of capture time after
 *   its first fragment (Linux's ipfrag_time), and the oldest pending datagrams
 *   go first beyond MAX_PENDING datagrams or MAX_HELD_BYTES bytes held.
 *   Dropped fragments stay counted as ip-fragment.
 * - Not on the path of unfragmented packets: only frames the decoder called
 *   fragments come here.
 */
import type { Frame } from '../capture/frame.js';
import { u16 } from './bytes.js';
import { LINKTYPE_RAW } from './link.js';

export const REASSEMBLY_TIMEOUT_SEC = 30;
export const MAX_PENDING = 4096;
export const MAX_HELD_BYTES = 64 << 20;
/** IPv4 total length and IPv6 payload length are 16-bit: no datagram is longer. */
const MAX_DATAGRAM = 65535;

/** Where the decoder found the fragment (decodeFrame fills it when it returns Fragment for the outermost IP header). */
export interface FragmentAt {
  /** offset of the fragmented IP header in the frame's buffer, -1 when not reassemblable (inside a tunnel) */
  ip: number;
  version: number;
  /** IPv6: offset of the fragment header, and of the byte that names it (the previous header's next-header field) */
  fragHdr: number;
  prevNext: number;
}

interface Part {
  off: number;
  data: Buffer;
}

interface Datagram {
  /** the unfragmentable part (IPv4 header, or IPv6 header and extension headers before the fragment header) */
  head: Buffer | null;
  /** IPv6: the fragment header's next header, for the reassembled chain */
  next: number;
  /** IPv6: offset in `head` of the byte to set to `next` */
  prevNext: number;
  parts: Part[];
  /** payload length, known once the last fragment (MF clear) arrived; -1 before */
  total: number;
  bytes: number;
  frames: number;
  firstTime: number;
}

export class Defragmenter {
  private readonly pending = new Map<string, Datagram>();
  private held = 0;
  private readonly frame: Frame = {
    frameNo: 0, tsSec: 0, tsNsec: 0, linkType: LINKTYPE_RAW, capLen: 0, origLen: 0,
    buf: Buffer.alloc(0), offset: 0, interfaceId: 0, fileOffset: 0,
  };
  /** datagrams reassembled */
  reassembled = 0;
  /** fragment frames of the last datagram completed by add() */
  lastFrames = 0;

  /**
   * Holds the fragment in frame `f` (decoded as far as `at`). Returns the
   * reassembled datagram as a frame (valid until the next call) when `f`
   * completes one, else null.
   */
  add(f: Frame, at: FragmentAt): Frame | null {
    if (at.ip < 0) return null;
    const b = f.buf;
    const end = f.offset + f.capLen;
    const now = f.tsSec + f.tsNsec / 1e9;
    this.expire(now);
    const o = at.ip;
    let key: string;
    let off: number;
    let more: boolean;
    let dataAt: number;
    let dataEnd: number;
    let headLen: number;
    let next = 0;
    if (at.version === 4) {
      const ihl = (b[o] & 0x0f) * 4;
      const total = u16(b, o + 2);
      const frag = u16(b, o + 6);
      off = (frag & 0x1fff) * 8;
      more = (frag & 0x2000) !== 0;
      dataAt = o + ihl;
      dataEnd = o + total;
      headLen = ihl;
      key = `4|${b.readUInt32BE(o + 12)}|${b.readUInt32BE(o + 16)}|${u16(b, o + 4)}|${b[o + 9]}`;
    } else {
      const h = at.fragHdr;
      const fo = u16(b, h + 2);
      off = fo & 0xfff8;
      more = (fo & 1) !== 0;
      next = b[h];
      dataAt = h + 8;
      dataEnd = o + 40 + u16(b, o + 4);
      headLen = h - o;
      key = `6|${b.toString('latin1', o + 8, o + 40)}|${b.readUInt32BE(h + 4)}`;
    }
    // a fragment cut by the snaplen cannot be put together
    if (dataEnd > end || dataEnd < dataAt) return null;
    const len = dataEnd - dataAt;
    if (off + len > MAX_DATAGRAM || (more && len % 8 !== 0)) return null;
    let d = this.pending.get(key);
    if (d === undefined) {
      d = { head: null, next: 0, prevNext: -1, parts: [], total: -1, bytes: 0, frames: 0, firstTime: now };
      this.pending.set(key, d);
    }
    for (const p of d.parts) {
      if (off < p.off + p.data.length && p.off < off + len) {
        if (p.off === off && p.data.length === len && p.data.equals(b.subarray(dataAt, dataEnd))) {
          d.frames++; // a duplicate: the frame is part of the datagram, its bytes already held
          return null;
        }
        this.drop(key, d);
        return null;
      }
    }
    if (!more) {
      if (d.total >= 0 && d.total !== off + len) {
        this.drop(key, d);
        return null;
      }
      d.total = off + len;
    }
    if (off === 0) {
      d.head = Buffer.from(b.subarray(o, o + headLen));
      d.next = next;
      d.prevNext = at.version === 6 ? at.prevNext - o : -1;
    }
    d.parts.push({ off, data: Buffer.from(b.subarray(dataAt, dataEnd)) });
    d.bytes += len;
    d.frames++;
    this.held += len;
    if (d.head === null || d.total < 0 || d.bytes < d.total) {
      this.shrink();
      return null;
    }
    // every byte is here (no overlaps, so the sum covers 0..total exactly)
    this.pending.delete(key);
    this.held -= d.bytes;
    this.reassembled++;
    this.lastFrames = d.frames;
    return this.assemble(d, at.version, f);
  }

  private assemble(d: Datagram, version: number, f: Frame): Frame {
    const head = d.head!;
    const out = Buffer.alloc(head.length + d.total);
    head.copy(out, 0);
    for (const p of d.parts) p.data.copy(out, head.length + p.off);
    if (version === 4) {
      out.writeUInt16BE(head.length + d.total, 2);
      out.writeUInt16BE(u16(out, 6) & 0x4000, 6); // keep DF; offset 0, MF clear
      out.writeUInt16BE(0, 10); // the header checksum no longer applies
    } else {
      out.writeUInt16BE(head.length - 40 + d.total, 4);
      out[d.prevNext] = d.next;
    }
    const fr = this.frame;
    fr.frameNo = f.frameNo;
    fr.tsSec = f.tsSec;
    fr.tsNsec = f.tsNsec;
    fr.interfaceId = f.interfaceId;
    fr.fileOffset = f.fileOffset;
    fr.buf = out;
    fr.offset = 0;
    fr.capLen = out.length;
    fr.origLen = out.length;
    return fr;
  }

  private drop(key: string, d: Datagram): void {
    this.pending.delete(key);
    this.held -= d.bytes;
  }

  /** Drops datagrams whose first fragment is older than the timeout (insertion order is age order). */
  private expire(now: number): void {
    for (const [k, d] of this.pending) {
      if (now - d.firstTime <= REASSEMBLY_TIMEOUT_SEC) break;
      this.drop(k, d);
    }
  }

  private shrink(): void {
    for (const [k, d] of this.pending) {
      if (this.pending.size <= MAX_PENDING && this.held <= MAX_HELD_BYTES) break;
      this.drop(k, d);
    }
  }
}
