/**
 * tshark as a test oracle for the capture readers and the decoder: per-frame
 * number, capture time (nanoseconds) and TCP header fields, compared with what
 * readCaptureFile + decodeFrame produce. tshark is installed in CI (.ci/run).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { readCaptureFile } from '../src/capture/reader.js';
import type { InputInfo } from '../src/capture/parser.js';
import { decodeFrame } from '../src/decode/decoder.js';
import { DECODE_REASONS, DecodeResult, newPacket } from '../src/decode/packet.js';
import { FIXTURES, ZEEK_TRACES } from './helpers.js';

export const FORMATS = resolve(FIXTURES, 'formats');

/** A trace of the Zeek corpus (test/corpus/zeek/traces, or $RSTSCOPE_ZEEK_CORPUS/traces). */
export function corpusTrace(name: string): string {
  const file = resolve(ZEEK_TRACES, name);
  if (!existsSync(file)) throw new Error(`corpus trace ${name} not found in ${ZEEK_TRACES}`);
  return file;
}

export interface FrameRow {
  frame: number;
  /** seconds.nanoseconds, 9 digits ('' when the record has no timestamp: pcapng SPB) */
  time: string;
  /** 'srcport dstport seq len hdrlen' for a TCP segment, '' otherwise */
  tcp: string;
}

export function tsharkFrames(file: string): FrameRow[] {
  const out = execFileSync('tshark', [
    '-r', file, '-o', 'tcp.analyze_sequence_numbers:FALSE', '-T', 'fields', '-E', 'separator=|',
    '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'tcp.srcport', '-e', 'tcp.dstport',
    '-e', 'tcp.seq_raw', '-e', 'tcp.len', '-e', 'tcp.hdr_len',
  ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
  return out.split('\n').filter((l) => l !== '').map((l) => {
    const [frame, time, sp, dp, seq, len, hl] = l.split('|');
    return { frame: Number(frame), time, tcp: sp ? `${sp} ${dp} ${seq} ${len} ${hl}` : '' };
  });
}

export interface OurFrames {
  rows: FrameRow[];
  info: InputInfo;
  skipped: Record<string, number>;
}

export async function ourFrames(file: string, checksums = false): Promise<OurFrames> {
  const p = newPacket();
  const rows: FrameRow[] = [];
  const skipped: Record<string, number> = {};
  const info = await readCaptureFile(file, (f) => {
    const r = decodeFrame(f, p, { checksums });
    const time = f.tsSec === 0 && f.tsNsec === 0 ? '' : `${f.tsSec}.${String(f.tsNsec).padStart(9, '0')}`;
    rows.push({
      frame: f.frameNo, time,
      tcp: r === DecodeResult.Tcp ? `${p.srcPort} ${p.dstPort} ${p.seq >>> 0} ${p.payloadLen} ${p.tcpHeaderLen}` : '',
    });
    if (r !== DecodeResult.Tcp) skipped[DECODE_REASONS[r]] = (skipped[DECODE_REASONS[r]] ?? 0) + 1;
  });
  return { rows, info, skipped };
}
