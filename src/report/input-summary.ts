/**
 * What the outputs say about one input (a capture file or a live capture):
 * its format, link types, packet and byte counts, first and last timestamps,
 * and warnings in words. Made once per input, when the input has been read
 * (src/analysis/pipeline.ts); every output format prints it as is.
 */
import { basename } from 'node:path';
import type { InputInfo } from '../capture/parser.js';
import { linkTypeName } from '../decode/link.js';
import type { Vantage } from './vantage.js';

export interface InputSummary {
  file: string;
  format: string;
  linkTypes: string[];
  packets: number;
  bytes: number;
  firstTs: number | null;
  lastTs: number | null;
  warnings: string[];
  /** a set of several files read as one capture: each file's own summary (absent for one file) */
  files?: InputSummary[];
  /** where the capture stood, from its records (src/report/vantage.ts); absent when records were not kept */
  vantage?: Vantage;
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

/**
 * The summary of a set of files read as one capture: counts added up, link
 * types and formats together, the earliest and latest time, each file's
 * warnings prefixed with its name, and `files`, each file's own summary (in
 * the order given). `file` is the first file's path.
 */
export function summarizeSet(files: { info: InputInfo; firstTs: number | null; lastTs: number | null }[]): InputSummary {
  const parts = files.map((f) => summarizeInput(f.info, f.firstTs, f.lastTs));
  const formats: string[] = [];
  const linkTypes: string[] = [];
  let packets = 0;
  let bytes = 0;
  let firstTs: number | null = null;
  let lastTs: number | null = null;
  const warnings: string[] = [];
  for (const p of parts) {
    if (!formats.includes(p.format)) formats.push(p.format);
    for (const l of p.linkTypes) if (!linkTypes.includes(l)) linkTypes.push(l);
    packets += p.packets;
    bytes += p.bytes;
    if (p.firstTs !== null && (firstTs === null || p.firstTs < firstTs)) firstTs = p.firstTs;
    if (p.lastTs !== null && (lastTs === null || p.lastTs > lastTs)) lastTs = p.lastTs;
    for (const w of p.warnings) warnings.push(`${p.file}: ${w}`);
  }
  return {
    file: parts[0].file, format: formats.join('+'), linkTypes, packets, bytes, firstTs, lastTs, warnings, files: parts,
  };
}

/**
 * The header line(s) of an input in the text tables: "FILE: FORMAT, LINK
 * TYPES, N packets" and `extra`; a set of files says "N files as one
 * capture: ..." and lists each file on its own line below.
 */
export function inputHeader(inp: InputSummary, extra = ''): string {
  const what = (i: InputSummary) => `${i.format}, ${i.linkTypes.join('+') || 'no link type'}, ${i.packets} packets`;
  if (inp.files === undefined) return `${inp.file}: ${what(inp)}${extra}\n`;
  let out = `${inp.files.length} files as one capture: ${what(inp)}${extra}\n`;
  for (const f of inp.files) out += `  ${f.file}: ${what(f)}\n`;
  return out;
}

/** A frame as the text tables name it: its number, or FILE#N (base name) when it belongs to a capture set. */
export function frameRef(frame: number, file: string | null | undefined): string {
  return file === undefined || file === null ? String(frame) : `${basename(file)}#${frame}`;
}
