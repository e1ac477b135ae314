/**
 * Symmetric flow hash of a TCP 4-tuple: both directions of a connection hash
 * the same, so one lookup finds a connection whichever side sent the packet
 * and a shard (--shard, --workers) always holds both directions.
 */
import type { Packet } from '../decode/packet.js';

function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16); // signed 32-bit: a small integer, never a boxed number
}

/** Hash of one endpoint (address words and port). */
function endHash(a0: number, a1: number, a2: number, a3: number, port: number): number {
  let h = mix(a0 ^ 0x9e3779b9);
  h = mix(h ^ a1);
  h = mix(h ^ a2);
  h = mix(h ^ a3);
  return mix(h ^ port);
}

/** Symmetric hash of a TCP 4-tuple: the same for both directions (also used to shard work). */
export function flowHash(p: Packet): number {
  const a = endHash(p.src0, p.src1, p.src2, p.src3, p.srcPort);
  const b = endHash(p.dst0, p.dst1, p.dst2, p.dst3, p.dstPort);
  // 30 bits: a V8 small integer, so Map lookups never box the key
  return mix(((a + b) | 0) ^ Math.imul(a ^ b, 0x27d4eb2d)) & 0x3fffffff;
}
