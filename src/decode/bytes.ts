/**
 * Big-endian reads for the decoders. Callers check the bounds once per header
 * (smoltcp's style: one length check up front); these then read without the
 * per-call range check of Buffer.readUInt16BE / readInt32BE, which V8 does not
 * always inline (measured: 3-4% of the tracker stage on the bench capture).
 * Out of range they return garbage instead of throwing, so every call site
 * must sit behind a length check.
 */
export function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

/** Signed 32-bit (sequence numbers and address words are kept signed). */
export function i32(b: Uint8Array, o: number): number {
  return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}

/**
 * Payload bytes as one line of text: printable ASCII kept, \r \n \t and other
 * bytes escaped (\xHH). The result is plain text; writers escape it for their
 * format like any other capture-derived string.
 */
export function previewText(b: Uint8Array): string {
  let s = '';
  for (const x of b) {
    if (x === 0x5c) s += '\\\\';
    else if (x >= 0x20 && x < 0x7f) s += String.fromCharCode(x);
    else if (x === 0x0d) s += '\\r';
    else if (x === 0x0a) s += '\\n';
    else if (x === 0x09) s += '\\t';
    else s += '\\x' + x.toString(16).padStart(2, '0');
  }
  return s;
}
