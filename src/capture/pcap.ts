/**
 * Classic libpcap file format (https://www.tcpdump.org/manpages/pcap-savefile.5.html,
 * draft-ietf-opsawg-pcap). Both byte orders; microsecond (0xa1b2c3d4) and
 * nanosecond (0xa1b23c4d) magic. The link type is the low 16 bits of the
 * header's `network` field (the upper bits carry FCS information).
 *
 * Guarantees: a record whose captured length exceeds MAX_PACKET_BYTES stops
 * the parser at once with a `corrupt` problem (never buffered, so time stays
 * linear); a captured length above the snaplen or the wire length is accepted
 * with a warning, as tshark does.
 */
import type { ByteWindow } from './window.js';
import { FormatParser, MAX_PACKET_BYTES } from './parser.js';

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAP_MAGIC_US_SWAPPED = 0xd4c3b2a1;
const PCAP_MAGIC_NS_SWAPPED = 0x4d3cb2a1;

export function isPcapMagic(m: number): boolean {
  return m === PCAP_MAGIC_US || m === PCAP_MAGIC_NS || m === PCAP_MAGIC_US_SWAPPED || m === PCAP_MAGIC_NS_SWAPPED;
}

const FILE_HEADER = 24;
const RECORD_HEADER = 16;

export class PcapParser extends FormatParser {
  private headerDone = false;
  private le = true;
  private nanos = false;
  private snaplen = 0;
  private linkType = 0;
  /** DataView of `viewOf` (the window buffer last parsed) */
  private view: DataView | null = null;
  private viewOf: Buffer | null = null;

  parse(win: ByteWindow): void {
    if (this.stopped) return;
    if (!this.headerDone) {
      if (win.available < FILE_HEADER) return;
      const b = win.buf;
      const s = win.start;
      const magicBE = b.readUInt32BE(s);
      this.le = !(magicBE === PCAP_MAGIC_US || magicBE === PCAP_MAGIC_NS);
      const magic = this.le ? b.readUInt32LE(s) : magicBE;
      this.nanos = magic === PCAP_MAGIC_NS;
      this.snaplen = this.le ? b.readUInt32LE(s + 16) : b.readUInt32BE(s + 16);
      const network = this.le ? b.readUInt32LE(s + 20) : b.readUInt32BE(s + 20);
      this.linkType = network & 0xffff;
      this.info.format = 'pcap';
      this.addLinkType(this.linkType);
      this.frame.linkType = this.linkType;
      this.frame.interfaceId = 0;
      win.start += FILE_HEADER;
      this.headerDone = true;
    }
    const frame = this.frame;
    const le = this.le;
    const nanos = this.nanos;
    const snaplen = this.snaplen;
    const b = win.buf;
    // one DataView per window buffer (not per record): its loads are single
    // unaligned reads in optimised code, in either byte order
    let dv = this.view;
    if (dv === null || this.viewOf !== b) {
      dv = this.view = new DataView(b.buffer, b.byteOffset, b.length);
      this.viewOf = b;
    }
    for (;;) {
      const s = win.start;
      const avail = win.end - s;
      if (avail < RECORD_HEADER) return;
      const capLen = dv.getUint32(s + 8, le);
      if (capLen > MAX_PACKET_BYTES) {
        this.fail('corrupt', win.base + s, this.records + 1,
          `captured length ${capLen} exceeds the maximum of ${MAX_PACKET_BYTES} bytes`);
        return;
      }
      if (avail < RECORD_HEADER + capLen) return;
      const sec = dv.getUint32(s, le);
      const sub = dv.getUint32(s + 4, le);
      const origLen = dv.getUint32(s + 12, le);
      this.records++;
      if (capLen > snaplen && snaplen > 0) this.warnOnce(`captured length above the file's snaplen (${snaplen}) at record ${this.records}`);
      if (nanos) {
        frame.tsSec = sec;
        frame.tsNsec = sub;
      } else {
        frame.tsSec = sec;
        frame.tsNsec = sub * 1000;
      }
      // Stryker disable next-line ConditionalExpression: `true` is equivalent (the carry of an in-range field adds 0 s and leaves it as it is); the line's `false` is killed
      if (frame.tsNsec >= 1e9) {
        // Some writers store out-of-range sub-second fields; normalise like tshark.
        frame.tsSec += Math.floor(frame.tsNsec / 1e9);
        frame.tsNsec %= 1e9;
      }
      win.start = s + RECORD_HEADER + capLen;
      this.emit(b, s + RECORD_HEADER, capLen, origLen < capLen ? capLen : origLen, win.base + s);
    }
  }
}
