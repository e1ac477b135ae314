import type { Frame, FrameSink } from './frame.js';
import { newFrame } from './frame.js';
import type { Problem } from './problems.js';
import type { ByteWindow } from './window.js';

/** What a reader learned about one input, reported with the results. */
export interface InputInfo {
  file: string;
  format: 'pcap' | 'pcapng' | 'unknown';
  /** distinct link types seen (pcap: the header's; pcapng: every interface's) */
  linkTypes: number[];
  packets: number;
  bytes: number;
  /** pcapng blocks of a type this reader does not know, skipped */
  unknownBlocks: number;
  /** packets whose captured length is below their wire length (snaplen) */
  truncatedPackets: number;
  /** kernel drops reported by the capture (pcapng ISB, EPB flags, live sources) */
  drops: number;
  warnings: string[];
  problems: Problem[];
}

export function newInputInfo(file: string): InputInfo {
  return {
    file, format: 'unknown', linkTypes: [], packets: 0, bytes: 0, unknownBlocks: 0,
    truncatedPackets: 0, drops: 0, warnings: [], problems: [],
  };
}

/** Largest packet record accepted; libpcap's MAXIMUM_SNAPLEN (262144). */
export const MAX_PACKET_BYTES = 262144;
/** Largest pcapng block accepted (name resolution blocks can be large). */
export const MAX_BLOCK_BYTES = 16 * 1024 * 1024;

/**
 * Incremental parser of one capture format. `parse` consumes every complete
 * record in the window and returns; it never throws on bad input, it records a
 * Problem and sets `stopped`.
 */
export abstract class FormatParser {
  readonly frame: Frame = newFrame();
  stopped = false;
  /** records (packet records or blocks) consumed so far */
  records = 0;

  constructor(readonly info: InputInfo, readonly sink: FrameSink) {}

  abstract parse(win: ByteWindow): void;

  /** Called at end of input with the bytes left unparsed. */
  finish(win: ByteWindow): void {
    if (this.stopped || win.available === 0) return;
    // the magic matched but the file ended inside the file header (pcap) or first block (pcapng):
    // nothing in it is a capture; one line, as for any other non-capture (exit 2)
    if (this.info.format === 'unknown') {
      this.fail('unreadable', 0, 0, `not a capture (file header incomplete): the file ends after ${win.position + win.available} byte(s)`);
      return;
    }
    this.fail(
      'truncated', win.position, this.records + 1,
      `file ends inside a record (${win.available} bytes left of an incomplete record)`,
    );
  }

  protected fail(kind: Problem['kind'], offset: number, record: number, message: string): void {
    this.stopped = true;
    this.info.problems.push({ kind, file: this.info.file, offset, record, message });
  }

  protected addLinkType(lt: number): void {
    if (!this.info.linkTypes.includes(lt)) this.info.linkTypes.push(lt);
  }

  protected warnOnce(message: string): void {
    if (!this.info.warnings.includes(message)) this.info.warnings.push(message);
  }

  /** Deliver a packet; frame fields other than buffer/lengths set by caller. */
  protected emit(buf: Buffer, offset: number, capLen: number, origLen: number, fileOffset: number): void {
    const f = this.frame;
    f.frameNo = ++this.info.packets;
    f.buf = buf;
    f.offset = offset;
    f.capLen = capLen;
    f.origLen = origLen;
    f.fileOffset = fileOffset;
    this.info.bytes += capLen;
    if (capLen < origLen) this.info.truncatedPackets++;
    this.sink(f);
  }
}
