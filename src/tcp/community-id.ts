/**
 * Join keys of a connection: the Community ID (spec v1,
 * github.com/corelight/community-id-spec) that Zeek's community-id package,
 * Suricata, Arkime and Security Onion put on flows, and a Zeek-style `uid`.
 * Computed once per connection record, from the address words the tracker
 * keeps (Connection.o0..o3/r0..r3: IPv4 in word 0, IPv6 in words 0-3, each
 * word big-endian), never per packet.
 *
 * Community ID v1: SHA-1 over seed (2 bytes) . saddr . daddr . proto (1) .
 * 0 (1) . sport (2) . dport (2), all in network byte order, with the
 * endpoints ordered so that the smaller address (then the smaller port) comes
 * first; "1:" + base64 of the 20-byte digest. The input is at most 40 bytes,
 * so the SHA-1 here handles one 64-byte block only (FIPS 180-4 §6.1; written
 * for this use, checked against the spec's baseline vectors in
 * test/community-id.test.ts). ICMP's type/code mapping is not needed (TCP only).
 *
 * uid: Zeek's format ("C" + base62 of 96 bits, Zeek's UID::Base62: the high
 * 32-bit word, then the low 64 bits, each written least significant digit
 * first with 0-9A-Za-z). Zeek draws the bits at random; rstscope derives them
 * from the Community ID digest, the input and the first frame and time, so a
 * run is reproducible (byte-identical output, with or without --workers) and
 * two connections of one run differ unless they are the same input's same
 * first frame.
 */

const W = new Int32Array(80);
const BLOCK = new Uint8Array(64);
const BLOCK_VIEW = new DataView(BLOCK.buffer);
/**
 * The last digest, as five big-endian words (int32: the same bits as the
 * unsigned words; all arithmetic here stays in int32, which V8 keeps
 * unboxed, measured twice as fast as Uint32Array words and a DataView).
 */
const H = new Int32Array(5);

/** SHA-1 of BLOCK[0, len) for len <= 55 (one block), into H. */
function sha1OneBlock(len: number): void {
  BLOCK.fill(0, len);
  BLOCK[len] = 0x80;
  for (let t = 0; t < 15; t++) {
    const i = t * 4;
    W[t] = (BLOCK[i] << 24) | (BLOCK[i + 1] << 16) | (BLOCK[i + 2] << 8) | BLOCK[i + 3];
  }
  W[15] = len * 8; // the message length in bits (the block's last word; the 8-byte length's high word is 0)
  for (let t = 16; t < 80; t++) {
    const x = W[t - 3] ^ W[t - 8] ^ W[t - 14] ^ W[t - 16];
    W[t] = (x << 1) | (x >>> 31);
  }
  let a = 0x67452301, b = 0xefcdab89 | 0, c = 0x98badcfe | 0, d = 0x10325476, e = 0xc3d2e1f0 | 0;
  for (let t = 0; t < 20; t++) {
    const tmp = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + W[t]) | 0;
    e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = tmp;
  }
  for (let t = 20; t < 40; t++) {
    const tmp = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + W[t]) | 0;
    e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = tmp;
  }
  for (let t = 40; t < 60; t++) {
    const tmp = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + (0x8f1bbcdc | 0) + W[t]) | 0;
    e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = tmp;
  }
  for (let t = 60; t < 80; t++) {
    const tmp = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + (0xca62c1d6 | 0) + W[t]) | 0;
    e = d; d = c; c = (b << 30) | (b >>> 2); b = a; a = tmp;
  }
  H[0] = (0x67452301 + a) | 0;
  H[1] = ((0xefcdab89 | 0) + b) | 0;
  H[2] = ((0x98badcfe | 0) + c) | 0;
  H[3] = (0x10325476 + d) | 0;
  H[4] = ((0xc3d2e1f0 | 0) + e) | 0;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_CODES = Uint8Array.from(B64, (ch) => ch.charCodeAt(0));
/**
 * Where the texts are spelled, one character code each, then made one flat
 * string by String.fromCharCode (measured: a string built by `+` per
 * character or pair costs a short-lived string object per piece, over 400
 * bytes of garbage per connection and twice the CPU; Buffer#toString costs a
 * call into C++ per text).
 */
const TEXT: number[] = new Array<number>(30).fill(0);
/** The uid's characters, by length (a uid is 'C' and 2 to 18 digits): fromCharCode takes a whole array, and setting an array's length costs more than the digits. */
const UID_TEXT: number[][] = Array.from({ length: 20 }, (_v, n) => new Array<number>(n).fill(0));
/** where putBase62 writes */
const DIGITS: number[] = new Array<number>(20).fill(0);

function putGroup(at: number, g: number): void {
  TEXT[at] = B64_CODES[(g >>> 18) & 63];
  TEXT[at + 1] = B64_CODES[(g >>> 12) & 63];
  TEXT[at + 2] = B64_CODES[(g >>> 6) & 63];
  TEXT[at + 3] = B64_CODES[g & 63];
}

/** "1:" and the base64 (with padding) of the 20 digest bytes in H: six 24-bit groups, then 2 bytes as "xyz=". */
function digestText(): string {
  const h0 = H[0], h1 = H[1], h2 = H[2], h3 = H[3], h4 = H[4];
  TEXT[0] = 0x31; // '1'
  TEXT[1] = 0x3a; // ':'
  // the 160 bits as 24-bit groups (bytes 0-2, 3-5, ..., 15-17), then bytes 18-19
  putGroup(2, h0 >>> 8);
  putGroup(6, ((h0 & 0xff) << 16) | (h1 >>> 16));
  putGroup(10, ((h1 & 0xffff) << 8) | (h2 >>> 24));
  putGroup(14, h2 & 0xffffff);
  putGroup(18, h3 >>> 8);
  putGroup(22, ((h3 & 0xff) << 16) | (h4 >>> 16));
  const t = (h4 & 0xffff) << 2; // 16 bits + 2 zero bits = 18 bits: three characters
  TEXT[26] = B64_CODES[(t >>> 12) & 63];
  TEXT[27] = B64_CODES[(t >>> 6) & 63];
  TEXT[28] = B64_CODES[t & 63];
  TEXT[29] = 0x3d; // '='
  return String.fromCharCode.apply(null, TEXT);
}

/**
 * The Community ID v1 of a flow (any IP protocol with ports: TCP 6, UDP 17,
 * SCTP 132). `src`/`dst` are the address words (1 for IPv4, 4 for IPv6).
 * Leaves the digest in H for uid().
 */
export function communityId(version: 4 | 6, src: readonly number[], sport: number, dst: readonly number[], dport: number,
  proto = 6, seed = 0): string {
  return communityIdOf(version, src[0], src[1] ?? 0, src[2] ?? 0, src[3] ?? 0, sport, dst[0], dst[1] ?? 0, dst[2] ?? 0, dst[3] ?? 0, dport, proto, seed);
}

/** communityId() from the address words as the tracker keeps them (Connection.o0..o3, r0..r3), with no arrays. */
export function communityIdOf(version: 4 | 6, s0: number, s1: number, s2: number, s3: number, sport: number,
  d0: number, d1: number, d2: number, d3: number, dport: number, proto = 6, seed = 0): string {
  const v6 = version !== 4;
  // the smaller endpoint (address as unsigned big-endian words, then port) first
  let swap: boolean;
  if ((s0 >>> 0) !== (d0 >>> 0)) swap = (s0 >>> 0) > (d0 >>> 0);
  else if (v6 && (s1 >>> 0) !== (d1 >>> 0)) swap = (s1 >>> 0) > (d1 >>> 0);
  else if (v6 && (s2 >>> 0) !== (d2 >>> 0)) swap = (s2 >>> 0) > (d2 >>> 0);
  else if (v6 && (s3 >>> 0) !== (d3 >>> 0)) swap = (s3 >>> 0) > (d3 >>> 0);
  else swap = sport > dport;
  const v = BLOCK_VIEW;
  v.setUint16(0, seed);
  let at = 2;
  if (swap) {
    at = putAddress(v, at, v6, d0, d1, d2, d3);
    at = putAddress(v, at, v6, s0, s1, s2, s3);
  } else {
    at = putAddress(v, at, v6, s0, s1, s2, s3);
    at = putAddress(v, at, v6, d0, d1, d2, d3);
  }
  BLOCK[at++] = proto;
  BLOCK[at++] = 0;
  v.setUint16(at, swap ? dport : sport); at += 2;
  v.setUint16(at, swap ? sport : dport); at += 2;
  sha1OneBlock(at);
  return digestText();
}

function putAddress(v: DataView, at: number, v6: boolean, w0: number, w1: number, w2: number, w3: number): number {
  v.setUint32(at, w0 >>> 0);
  if (!v6) return at + 4;
  v.setUint32(at + 4, w1 >>> 0);
  v.setUint32(at + 8, w2 >>> 0);
  v.setUint32(at + 12, w3 >>> 0);
  return at + 16;
}

/** The 20 digest bytes of the last communityId() call, hex (the spec's --no-base64 form; for tests). */
export function lastDigestHex(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += (H[i] >>> 0).toString(16).padStart(8, '0');
  return s;
}

const B62_CODES = Uint8Array.from('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', (ch) => ch.charCodeAt(0));

/** Writes base62 of the 64-bit value hi * 2^32 + lo (unsigned words) at DIGITS[at], least significant digit first (Zeek's uitoa_n); returns the end. */
function putBase62(at: number, hi: number, lo: number): number {
  // two 32-bit limbs, long division by 62 per digit: a remainder times 2^32 plus a limb stays below 2^38, exact in a double
  let h = hi >>> 0, l = lo >>> 0;
  do {
    const qh = Math.floor(h / 62);
    const cur = (h - qh * 62) * 4294967296 + l;
    const ql = Math.floor(cur / 62);
    DIGITS[at++] = B62_CODES[cur - ql * 62];
    h = qh;
    l = ql;
  } while (h !== 0 || l !== 0);
  return at;
}

/** A 32-bit mix step (the finaliser of MurmurHash3, a published constant set). */
function mix32(x: number): number {
  x ^= x >>> 16; x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13; x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * Zeek-format uid of the connection whose communityId() was computed last
 * (its digest words are mixed with the input, first frame and first time).
 */
export function uid(input: number, firstFrame: number, tsSec: number, tsNsec: number): string {
  const w0 = mix32(H[0] ^ Math.imul(input + 1, 0x9e3779b1) ^ tsNsec);
  const w1 = mix32(H[1] ^ w0 ^ firstFrame ^ mix32(tsSec));
  const w2 = mix32(H[2] ^ w1 ^ Math.imul(firstFrame, 0x27d4eb2f));
  DIGITS[0] = 0x43; // 'C'
  const n = putBase62(putBase62(1, 0, w0), w1, w2);
  const text = UID_TEXT[n];
  for (let i = 0; i < n; i++) text[i] = DIGITS[i];
  return String.fromCharCode.apply(null, text);
}
