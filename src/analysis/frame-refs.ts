/**
 * Frame references of a capture set (several files read as one capture,
 * capture/capture-set.ts): the tracker and the rules number frames over the
 * merged stream; what the user gets names each frame by its file and that
 * file's own frame number, so Wireshark can open it (docs/schema.md,
 * "Capture sets"). Applied to a record and its findings when the connection
 * closes out, only for sets of two or more files (a single file's output is
 * unchanged, byte for byte).
 *
 * The fields, by name, wherever they are in a record or finding (so a new
 * rule's evidence follows without a list to keep):
 * - `frame` (a number): that file's frame number, and `file` right after it;
 * - `xFrame` (a number or null): the same, and `xFile` right after it;
 * - `frames` / `xFrames` (numbers): that file's numbers, and
 *   `frameFiles` / `xFrameFiles` (the file of each) right after;
 * - text (`summary`): every "frame N" / "frames N and M" reads
 *   "frame FILE#N" with the file's base name.
 */
import { basename } from 'node:path';
import type { FrameMap } from '../capture/capture-set.js';
import type { Finding } from '../rules/types.js';
import type { ConnRecord } from '../tcp/record.js';

import { mergedKeyFrame } from '../report/findings.js';

export { mergedKeyFrame };

function fileOf(map: FrameMap, merged: number): { file: string | null; frame: number } {
  if (!map.locate(merged)) return { file: null, frame: merged };
  return { file: map.paths[map.file], frame: map.frame };
}

function fileKey(key: string): string {
  return key === 'frame' ? 'file' : `${key.slice(0, -'Frame'.length)}File`;
}

function filesKey(key: string): string {
  return key === 'frames' ? 'frameFiles' : `${key.slice(0, -'Frames'.length)}FrameFiles`;
}

const isFrameKey = (k: string): boolean => k === 'frame' || (k.endsWith('Frame') && k.length > 5);
const isFramesKey = (k: string): boolean => k === 'frames' || (k.endsWith('Frames') && k.length > 6);

/** A copy of `v` with every frame reference localized (see the module comment), keys in place. */
function localize(v: unknown, map: FrameMap): unknown {
  if (Array.isArray(v)) return v.map((x) => localize(x, map));
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (isFrameKey(k) && (typeof x === 'number' || x === null)) {
      if (x === null || x <= 0) {
        out[k] = x;
        out[fileKey(k)] = null;
      } else {
        const r = fileOf(map, x);
        out[k] = r.frame;
        out[fileKey(k)] = r.file;
      }
    } else if (isFramesKey(k) && Array.isArray(x) && x.every((n) => typeof n === 'number')) {
      const refs = (x as number[]).map((n) => fileOf(map, n));
      out[k] = refs.map((r) => r.frame);
      out[filesKey(k)] = refs.map((r) => r.file);
    } else if (k === 'summary' && typeof x === 'string') {
      out[k] = localizeText(x, map);
    } else out[k] = localize(x, map);
  }
  return out;
}

/**
 * "frame 12" -> "frame ring_00002.pcap#3"; "frames 3 and 5" likewise, each
 * number. A number after ", " that is a decimal ("frame 9, 3.362 ms later") is
 * not a frame.
 */
export function localizeText(text: string, map: FrameMap): string {
  return text.replace(/\b(frames?) (\d+(?:(?:, | and )\d+(?!\d)(?!\.\d))*)/g, (_m, word: string, list: string) =>
    `${word} ${list.replace(/\d+/g, (n) => {
      const r = fileOf(map, Number(n));
      return r.file === null ? n : `${basename(r.file)}#${r.frame}`;
    })}`);
}

/**
 * The record with its frame references localized (a new object, the same keys
 * plus the file keys): what localize() makes of it, spelled out for the
 * record's known shape (once per connection of a set; the generic walk cost 14 %
 * of a ten-file run). A record key this function does not know falls back to
 * the generic walk; test/capture-set.test.ts compares both on every record.
 */
export function localizeRecord(rec: ConnRecord, map: FrameMap): ConnRecord {
  for (const k in rec) if (!RECORD_KEYS.has(k)) return localize(rec, map) as ConnRecord;
  const first = ref(map, rec.firstFrame);
  const last = ref(map, rec.lastFrame);
  const resets = rec.resets.map((x) => {
    const r = ref(map, x.frame);
    return { frame: r.frame, file: r.file, from: x.from, shape: x.shape, acceptance: x.acceptance };
  });
  const out = {
    id: rec.id, input: rec.input, stream: rec.stream, orig: { ...rec.orig }, resp: { ...rec.resp }, uid: rec.uid,
    communityId: rec.communityId, firstFrame: first.frame, firstFile: first.file, lastFrame: last.frame, lastFile: last.file,
    ts: rec.ts, duration: rec.duration, state: rec.state, history: rec.history, origPkts: rec.origPkts, respPkts: rec.respPkts,
    origIpBytes: rec.origIpBytes, respIpBytes: rec.respIpBytes,
    origBytes: rec.origBytes, respBytes: rec.respBytes, origRetransBytes: rec.origRetransBytes,
    respRetransBytes: rec.respRetransBytes, rsts: rec.rsts, endReason: rec.endReason, resets,
  } as unknown as ConnRecord;
  if (rec.seen !== undefined) out.seen = rec.seen;
  if (rec.missedBytes !== undefined) out.missedBytes = rec.missedBytes;
  if (rec.tunnel !== undefined) out.tunnel = localize(rec.tunnel, map) as ConnRecord['tunnel'];
  return out;
}

/** The keys localizeRecord spells out, in toRecord's order (the optional ones last, as toRecord adds them). */
const RECORD_KEYS = new Set([
  'id', 'input', 'stream', 'orig', 'resp', 'uid', 'communityId', 'firstFrame', 'lastFrame', 'ts', 'duration', 'state',
  'history', 'origPkts', 'respPkts', 'origIpBytes', 'respIpBytes', 'origBytes', 'respBytes', 'origRetransBytes', 'respRetransBytes', 'rsts',
  'endReason', 'resets', 'seen', 'missedBytes', 'tunnel',
]);

/** A merged frame number as file and frame (localize's rule: 0 or less is no frame, its file null). */
function ref(map: FrameMap, n: number): { file: string | null; frame: number } {
  return n <= 0 ? { file: null, frame: n } : fileOf(map, n);
}

/** The generic walk (for tests: localizeRecord must give the same). */
export function localizeRecordGeneric(rec: ConnRecord, map: FrameMap): ConnRecord {
  return localize(rec, map) as ConnRecord;
}

/** The finding with its frame references localized; remembers its merged key frame (mergedKeyFrame). */
export function localizeFinding(f: Finding, map: FrameMap): Finding {
  const out = localize(f, map) as Finding;
  mergedKeyFrame.set(out, f.frame);
  return out;
}
