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
