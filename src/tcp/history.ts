/**
 * Zeek's history letters, packed: the only code that encodes or decodes
 * Connection.histCode / histLen / histMore and Connection.histSeen.
 *
 * Letters are 5-bit symbol codes (1-based index in HIST_SYMBOLS, upper case
 * for the originator, lower case for the responder, '^' for a flip). The first
 * HIST_INLINE letters are kept in one exact integer (10 x 5 bits: below 2^53),
 * the rest in a string. A connection adds five to ten letters; as string
 * appends each made a new string that lived as long as the connection (about
 * 20 % of the tracker's allocation). The string is made once, when read.
 */

/** Every letter Zeek's history uses (originator upper case, responder lower case), and '^' for a flip. */
const HIST_SYMBOLS = '^SHADFRCWTGIQshadfrcwtgiq';
/** letters kept in the inline code */
export const HIST_INLINE = 10;
/** symbol code of a letter, by char code, for each side */
const HIST_UPPER = new Uint8Array(128);
const HIST_LOWER = new Uint8Array(128);
for (let i = 0; i < HIST_SYMBOLS.length; i++) {
  const ch = HIST_SYMBOLS[i];
  if (ch === ch.toUpperCase()) HIST_UPPER[ch.charCodeAt(0)] = i + 1;
  HIST_LOWER[ch.toUpperCase().charCodeAt(0)] = HIST_SYMBOLS.indexOf(ch.toLowerCase()) + 1;
}
/** history strings by inline code: a capture has a few hundred distinct ones */
const HIST_STRINGS = new Map<number, string>();

// "seen" bits of Zeek's CheckHistory (its HIST_* flags): the originator's in
// the low 16 bits of histSeen, the responder's in the high 16.
export const H_SYN = 0x1;
export const H_FIN = 0x2;
export const H_RST = 0x4;
export const H_FIN_RST = 0x8;
export const H_ACK = 0x10;
export const H_DATA = 0x20;
export const H_MULTI = 0x40;

/** The seen-mask of a history bit for one side. */
export function seenMask(bit: number, fromOrig: boolean): number {
  return fromOrig ? bit : bit << 16;
}

/** histSeen with the sides swapped (Zeek's FlipRoles). */
export function flipSeen(seen: number): number {
  return (seen >>> 16) | ((seen & 0xffff) << 16);
}

/** Symbol code of an upper-case letter sent by one side. */
export function symbolOf(code: string, fromOrig: boolean): number {
  const ch = code.charCodeAt(0);
  return fromOrig ? HIST_UPPER[ch] : HIST_LOWER[ch];
}

/** Symbol code of a letter as it appears in a history string ('^', 'S', 's', ...). */
export function symbolOfLetter(letter: string): number {
  return HIST_SYMBOLS.indexOf(letter) + 1;
}

/** The inline code with one more symbol (only while fewer than HIST_INLINE letters are inline). */
export function appendInline(code: number, sym: number): number {
  return code * 32 + sym;
}

/** The letter of a symbol code. */
export function letterOf(sym: number): string {
  return HIST_SYMBOLS[sym - 1];
}

/** The history string: the inline letters, then `more` when there are more than HIST_INLINE letters. */
export function decodeHistory(code: number, len: number, more: string): string {
  if (len === 0) return '';
  let s = HIST_STRINGS.get(code);
  if (s === undefined) {
    s = '';
    for (let c = code; c > 0; c = Math.floor(c / 32)) s = HIST_SYMBOLS[(c % 32) - 1] + s;
    if (HIST_STRINGS.size < 65536) HIST_STRINGS.set(code, s);
  }
  return len > HIST_INLINE ? s + more : s;
}

/** A history string after a flip: '^' then every letter with its side swapped. */
export function flippedHistory(h: string): string {
  let out = '';
  for (const c of h) out += c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
  return '^' + out;
}
