/**
 * What the outputs say about one input (a capture file or a live capture):
 * its format, link types, packet and byte counts, first and last timestamps,
 * and warnings in words. Made once per input, when the input has been read
 * (src/analysis/pipeline.ts); every output format prints it as is.
 */
import type { InputInfo } from '../capture/parser.js';
import { linkTypeName } from '../decode/link.js';

export interface InputSummary {
  file: string;
  format: string;
  linkTypes: string[];
  packets: number;
  bytes: number;
  firstTs: number | null;
  lastTs: number | null;
  warnings: string[];
}

/** The summary of an input that was read in full (or as far as it could be), from its reader's info. */
export function summarizeInput(info: InputInfo, firstTs: number | null, lastTs: number | null): InputSummary {
  const warnings = [...info.warnings];
  if (info.truncatedPackets > 0) warnings.push(`${info.truncatedPackets} packet(s) cut short by the snaplen (sequence accounting uses the IP length)`);
  if (info.unknownBlocks > 0) warnings.push(`${info.unknownBlocks} pcapng block(s) of unknown type skipped`);
  if (info.drops > 0) warnings.push(`the capture reports ${info.drops} packet(s) dropped by the kernel`);
  return {
    file: info.file,
    format: info.format,
    linkTypes: info.linkTypes.map(linkTypeName),
    packets: info.packets,
    bytes: info.bytes,
    firstTs,
    lastTs,
    warnings,
  };
}
