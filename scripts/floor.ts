/**
 * The "connection-table floor" for the benchmark: the least work any TCP
 * connection tracker must do, on top of the bare record walk (scripts/walk.ts).
 * For each Ethernet/IPv4 or Ethernet/IPv6 TCP packet it reads the addresses,
 * ports, flags and lengths, hashes the 4-tuple symmetrically, finds or adds
 * the connection in an open-addressing table of typed arrays (no object per
 * connection), and counts packets and payload bytes per direction. Nothing
 * else: no sequence numbers, no state machine, no timers, no eviction, no
 * output per connection, so it is a lower bound for `rstscope flows`, not an
 * alternative (a 4-tuple reused after a close counts as one connection).
 *
 *   node dist/scripts/floor.js FILE.pcap|FILE.pcapng
 *
 * Prints `packets tcp connections bytes`. Same known gaps as the walk (no
 * VLAN tags, no IPv6 extension headers, every interface taken as Ethernet).
 * The table doubles when half full (it keeps every connection of the file).
 */
import { pathToFileURL } from 'node:url';
import { i32, u16 } from '../src/decode/bytes.js';
import { walkRecords } from './walk.js';

/** per slot: 4 words of each address (IPv4: word 0) and the ports */
const KEY_I32 = 9;

interface FloorCounts { packets: number; tcp: number; connections: number; bytes: number }

/** A 32-bit finalizer (murmur3's): one round per endpoint, cheaper than the tracker's flowHash, as a floor should be. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Open-addressing table of connections: keys, packets and bytes per direction, in typed arrays. */
class Table {
  slots = 1 << 16;
  mask = this.slots - 1;
  keys = new Int32Array(this.slots * KEY_I32);
  used = new Uint8Array(this.slots);
  /** packets and payload bytes, two directions per slot: [a->b, b->a] */
  pkts = new Int32Array(this.slots * 2);
  bytes = new Float64Array(this.slots * 2);
  count = 0;

  /** Doubles the table, re-placing every connection. */
  grow(): void {
    const { keys, used, pkts, bytes, slots } = this;
    this.slots *= 2;
    this.mask = this.slots - 1;
    this.keys = new Int32Array(this.slots * KEY_I32);
    this.used = new Uint8Array(this.slots);
    this.pkts = new Int32Array(this.slots * 2);
    this.bytes = new Float64Array(this.slots * 2);
    for (let s = 0; s < slots; s++) {
      if (used[s] === 0) continue;
      const k = s * KEY_I32;
      const ha = mix(keys[k] ^ keys[k + 1] ^ keys[k + 2] ^ keys[k + 3] ^ Math.imul(keys[k + 8] >>> 16, 0x9e3779b1));
      const hb = mix(keys[k + 4] ^ keys[k + 5] ^ keys[k + 6] ^ keys[k + 7] ^ Math.imul(keys[k + 8] & 0xffff, 0x9e3779b1));
      let i = mix(((ha + hb) | 0) ^ Math.imul(ha ^ hb, 0x27d4eb2d)) & this.mask;
      while (this.used[i] !== 0) i = (i + 1) & this.mask;
      this.used[i] = 1;
      this.keys.set(keys.subarray(k, k + KEY_I32), i * KEY_I32);
      this.pkts[2 * i] = pkts[2 * s];
      this.pkts[2 * i + 1] = pkts[2 * s + 1];
      this.bytes[2 * i] = bytes[2 * s];
      this.bytes[2 * i + 1] = bytes[2 * s + 1];
    }
  }
}

export function floor(path: string): FloorCounts {
  const t = new Table();
  const out: FloorCounts = { packets: 0, tcp: 0, connections: 0, bytes: 0 };
  walkRecords(path, (buf, f, capLen) => {
    out.packets++;
    if (capLen < 54) return;
    const etherType = u16(buf, f + 12);
    let a0: number, a1 = 0, a2 = 0, a3 = 0, b0: number, b1 = 0, b2 = 0, b3 = 0;
    let tcp: number; // TCP header offset
    let payload: number;
    if (etherType === 0x0800 && buf[f + 23] === 6) {
      const ip = f + 14;
      const ihl = (buf[ip] & 15) << 2;
      if (capLen < 14 + ihl + 20) return;
      a0 = i32(buf, ip + 12);
      b0 = i32(buf, ip + 16);
      tcp = ip + ihl;
      payload = u16(buf, ip + 2) - ihl;
    } else if (etherType === 0x86dd && buf[f + 20] === 6 && capLen >= 14 + 40 + 20) {
      const ip = f + 14;
      a0 = i32(buf, ip + 8); a1 = i32(buf, ip + 12); a2 = i32(buf, ip + 16); a3 = i32(buf, ip + 20);
      b0 = i32(buf, ip + 24); b1 = i32(buf, ip + 28); b2 = i32(buf, ip + 32); b3 = i32(buf, ip + 36);
      tcp = ip + 40;
      payload = u16(buf, ip + 4);
    } else return;
    out.tcp++;
    const sp = u16(buf, tcp);
    const dp = u16(buf, tcp + 2);
    payload -= (buf[tcp + 12] >> 4) << 2;
    const ha = mix(a0 ^ a1 ^ a2 ^ a3 ^ Math.imul(sp, 0x9e3779b1));
    const hb = mix(b0 ^ b1 ^ b2 ^ b3 ^ Math.imul(dp, 0x9e3779b1));
    const h = mix(((ha + hb) | 0) ^ Math.imul(ha ^ hb, 0x27d4eb2d));
    const ports = (sp << 16) | dp;
    const back = (dp << 16) | sp;
    let i = h & t.mask;
    let dir = 0;
    for (;;) {
      const keys = t.keys;
      const k = i * KEY_I32;
      if (t.used[i] === 0) {
        if (2 * (t.count + 1) > t.slots) {
          t.grow();
          i = h & t.mask;
          continue;
        }
        t.used[i] = 1;
        t.count++;
        keys[k] = a0; keys[k + 1] = a1; keys[k + 2] = a2; keys[k + 3] = a3;
        keys[k + 4] = b0; keys[k + 5] = b1; keys[k + 6] = b2; keys[k + 7] = b3;
        keys[k + 8] = ports;
        break;
      }
      if (keys[k + 8] === ports && keys[k] === a0 && keys[k + 4] === b0 && keys[k + 1] === a1 && keys[k + 2] === a2
        && keys[k + 3] === a3 && keys[k + 5] === b1 && keys[k + 6] === b2 && keys[k + 7] === b3) break;
      if (keys[k + 8] === back && keys[k] === b0 && keys[k + 4] === a0 && keys[k + 1] === b1 && keys[k + 2] === b2
        && keys[k + 3] === b3 && keys[k + 5] === a1 && keys[k + 6] === a2 && keys[k + 7] === a3) { dir = 1; break; }
      i = (i + 1) & t.mask;
    }
    t.pkts[2 * i + dir]++;
    t.bytes[2 * i + dir] += payload;
    out.bytes += payload;
  });
  out.connections = t.count;
  return out;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = floor(process.argv[2] ?? '');
  process.stdout.write(`${r.packets} ${r.tcp} ${r.connections} ${r.bytes}\n`);
}
