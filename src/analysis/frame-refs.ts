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
  const o = v as Record<string, unknown>;
  // for-in, not Object.entries (no array per key): the objects walked are plain JSON-like ones, whose for-in order
  // is Object.entries' and which inherit no enumerable key
  for (const k in o) {
    const x = o[k];
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
 * "frame 12" -> "frame ring_00002.pcap#3"; "frames 3 and 5" and "frames 3, 4 and 5" likewise, each number: what
 * `text.replace(/\b(frames?) (\d+(?:(?:, | and )\d+(?!\d)(?!\.\d))*)/g, ...)` with each number localized gives (a
 * frame in no file keeps its number; a number after ", " or " and " with a decimal part, "frame 9, 3.362 ms", is a
 * time, not a frame), by one scan for "frame" (test/capture-set.test.ts compares it with that replace).
 */
export function localizeText(text: string, map: FrameMap): string {
  let at = text.indexOf('frame');
  if (at < 0) return text; // most texts name no frame: no new string
  let out = '';
  let copied = 0;
  while (at >= 0) {
    let j = at + 5;
    if (text.charCodeAt(j) === 115) j++; // "frames"
    if ((at > 0 && isWordChar(text.charCodeAt(at - 1))) || text.charCodeAt(j) !== 32 || !isDigit(text.charCodeAt(j + 1))) {
      at = text.indexOf('frame', at + 5);
      continue;
    }
    let k = j + 1;
    out += text.slice(copied, k);
    for (;;) {
      let e = k;
      while (isDigit(text.charCodeAt(e))) e++;
      const n = Number(text.slice(k, e));
      out += map.locate(n) ? `${baseName(map, map.file)}#${map.frame}` : text.slice(k, e);
      if (text.charCodeAt(e) === 44 && text.charCodeAt(e + 1) === 32 && listNumber(text, e + 2)) {
        out += ', ';
        k = e + 2;
      } else if (text.startsWith(' and ', e) && listNumber(text, e + 5)) {
        out += ' and ';
        k = e + 5;
      } else {
        copied = e;
        break;
      }
    }
    at = text.indexOf('frame', copied);
  }
  return out + text.slice(copied);
}

/**
 * Whether a list goes on with a frame number at `at`: digits not followed by a decimal part ("frame 9, 3.362 ms
 * later": the 3.362 is a time, not a frame).
 */
function listNumber(text: string, at: number): boolean {
  if (!isDigit(text.charCodeAt(at))) return false;
  let e = at;
  while (isDigit(text.charCodeAt(e))) e++;
  return !(text.charCodeAt(e) === 46 && isDigit(text.charCodeAt(e + 1)));
}

/** The regular-expression form of localizeText (for tests: the scan must give the same). */
export function localizeTextRegex(text: string, map: FrameMap): string {
  return text.replace(/\b(frames?) (\d+(?:(?:, | and )\d+(?!\d)(?!\.\d))*)/g, (_m, word: string, list: string) =>
    `${word} ${list.replace(/\d+/g, (n) => (map.locate(Number(n)) ? `${baseName(map, map.file)}#${map.frame}` : n))}`);
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
/** a character of \w: ASCII letters, digits, underscore */
const isWordChar = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

/** basename() of a set's file, made once per map and file */
const baseNames = new WeakMap<FrameMap, string[]>();
function baseName(map: FrameMap, file: number): string {
  let names = baseNames.get(map);
  if (names === undefined) {
    names = map.paths.map((x) => basename(x));
    baseNames.set(map, names);
  }
  return names[file];
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
  const firstFile = fileAt(map, rec.firstFrame);
  const firstFrame = firstFile === null ? rec.firstFrame : map.frame;
  const lastFile = fileAt(map, rec.lastFrame);
  const lastFrame = lastFile === null ? rec.lastFrame : map.frame;
  const resets = rec.resets.map((x) => {
    const file = fileAt(map, x.frame);
    return { frame: file === null ? x.frame : map.frame, file, from: x.from, shape: x.shape, acceptance: x.acceptance };
  });
  // orig and resp are the record's own objects (not copies): the record is made for this close-out and nobody
  // changes either afterwards
  const out = {
    id: rec.id, input: rec.input, stream: rec.stream, orig: rec.orig, resp: rec.resp, uid: rec.uid,
    communityId: rec.communityId, firstFrame, firstFile, lastFrame, lastFile,
    ts: rec.ts, duration: rec.duration, state: rec.state, history: rec.history, origPkts: rec.origPkts, respPkts: rec.respPkts,
    origIpBytes: rec.origIpBytes, respIpBytes: rec.respIpBytes,
    origBytes: rec.origBytes, respBytes: rec.respBytes, origRetransBytes: rec.origRetransBytes,
    respRetransBytes: rec.respRetransBytes, rsts: rec.rsts, endReason: rec.endReason, resets,
  } as unknown as ConnRecord;
  if (rec.seen !== undefined) out.seen = rec.seen;
  if (rec.missedBytes !== undefined) out.missedBytes = rec.missedBytes;
  if (rec.tunnel !== undefined) out.tunnel = localize(rec.tunnel, map) as ConnRecord['tunnel'];
  if (rec.ttl !== undefined) out.ttl = rec.ttl;
  if (rec.handshakeMs !== undefined) out.handshakeMs = rec.handshakeMs;
  if (rec.roles !== undefined) out.roles = rec.roles;
  return out;
}

/**
 * The file of merged frame n (localize's rule: 0 or less is no frame, its file null; a frame not in the map too).
 * When not null, `map.frame` holds that file's frame number of n until the next call: one lookup per reference.
 */
function fileAt(map: FrameMap, n: number): string | null {
  return n > 0 && map.locate(n) ? map.paths[map.file] : null;
}

/** The keys localizeRecord spells out, in toRecord's order (the optional ones last, as toRecord adds them). */
const RECORD_KEYS = new Set([
  'id', 'input', 'stream', 'orig', 'resp', 'uid', 'communityId', 'firstFrame', 'lastFrame', 'ts', 'duration', 'state',
  'history', 'origPkts', 'respPkts', 'origIpBytes', 'respIpBytes', 'origBytes', 'respBytes', 'origRetransBytes', 'respRetransBytes', 'rsts',
  'endReason', 'resets', 'seen', 'missedBytes', 'tunnel', 'ttl', 'handshakeMs', 'roles',
]);

/** The generic walk (for tests: localizeRecord must give the same). */
export function localizeRecordGeneric(rec: ConnRecord, map: FrameMap): ConnRecord {
  return localize(rec, map) as ConnRecord;
}

/**
 * The finding with its frame references localized; remembers its merged key frame (mergedKeyFrame). The same as
 * the generic walk (test/capture-set.test.ts compares them on every finding), in the finding's own key order,
 * without its per-key arrays: `app` is shared (its texts are the applications' views, which name no frame: only
 * `summary` is rewritten), the evidence walked by the generic way (its keys vary by rule).
 */
export function localizeFinding(f: Finding, map: FrameMap): Finding {
  const out: Record<string, unknown> = {};
  const src = f as unknown as Record<string, unknown>;
  for (const k in src) {
    const x = src[k];
    if (k === 'frame' && (typeof x === 'number' || x === null)) {
      const file = x === null ? null : fileAt(map, x);
      out.frame = file === null ? x : map.frame;
      out.file = file;
    } else if (k === 'frames' && Array.isArray(x) && x.every((n) => typeof n === 'number')) {
      const frames = x as number[];
      const nums = new Array<number>(frames.length);
      const files = new Array<string | null>(frames.length);
      for (let i = 0; i < frames.length; i++) {
        files[i] = fileAt(map, frames[i]);
        nums[i] = files[i] === null ? frames[i] : map.frame;
      }
      out.frames = nums;
      out.frameFiles = files;
    } else if (k === 'summary' && typeof x === 'string') out.summary = localizeText(x, map);
    else if (k === 'app' && isTextMap(x)) out.app = x;
    else out[k] = localize(x, map);
  }
  mergedKeyFrame.set(out as unknown as Finding, f.frame);
  return out as unknown as Finding;
}

/** An object whose values are all strings and none of whose keys is a frame key (what the generic walk copies as is). */
function isTextMap(x: unknown): boolean {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return false;
  const o = x as Record<string, unknown>;
  for (const k in o) if (typeof o[k] !== 'string' || isFrameKey(k) || k === 'summary') return false;
  return true;
}

/** The generic walk of a finding (for tests: localizeFinding must give the same). */
export function localizeFindingGeneric(f: Finding, map: FrameMap): Finding {
  return localize(f, map) as Finding;
}
