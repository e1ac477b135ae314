/**
 * Synthetic capture generator for benchmarks and rule precision/recall.
 *
 *   node dist/scripts/gen-capture.js --packets 2000000 --concurrent 20000 --out FILE
 *        [--format pcap|pcapng] [--seed N] [--duration SEC] [--v6 FRACTION]
 *
 * Writes a classic pcap (Ethernet, IPv4 and some IPv6; microsecond
 * timestamps) or a pcapng (one Ethernet interface, EPBs), streaming to disk
 * through one reused 4 MiB buffer: memory grows with the number of live
 * connections (one small object each), never with the file size.
 *
 * Many connections are open at once (`--concurrent`): a min-heap on capture
 * time schedules the next packet of every live connection, so packets of
 * different connections interleave and timestamps only go forward. When a
 * connection finishes, a new one starts, until the packet target is near;
 * the live ones then run to completion (the packet count is approximate:
 * within a few percent of `--packets`, printed at the end).
 *
 * Every connection follows one scenario whose wire shape is the one Linux
 * produces (observed kernel behaviour; comments below name the kernel path):
 *   normal, refused, syn-unanswered, write-after-peer-close,
 *   rst-with-unread-data, abortive-close, half-close, port-reuse.
 * FILE.truth.ndjson gets one line per connection (a port-reuse pair is two
 * connections): scenario, 4-tuple (orig = the SYN sender), first frame
 * (1-based, as tshark numbers frames), first packet time and the rules that
 * must fire. The benchmark matches findings to these lines by 4-tuple and first frame.
 *
 * Realism: SYN / SYN-ACK carry MSS, SACK-permitted, timestamps, window scale
 * (Linux order: MSS, SACK_PERM, TS, NOP, WS); every other segment from a
 * socket carries NOP NOP TS. Replies generated without a socket (the RST for
 * a closed port, the RST answering data after close) carry no options and IP
 * ID 0, as tcp_v4_send_reset() sends them. TTL / hop limit 64. IPv4 IDs
 * increment per host. Checksums are left zero (as with checksum offload).
 * Known gaps: no loss, reordering or retransmission of data segments; the
 * capture point sees every packet; payload bytes are zeros.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

// ---------- options ----------

export interface GenOptions {
  packets: number;
  concurrent: number;
  out: string;
  format: 'pcap' | 'pcapng';
  seed: number;
  /** capture time the whole run should span, seconds (sets the think times) */
  durationSec: number;
  /** fraction of connections over IPv6 */
  v6Fraction: number;
  /**
   * mean number of extra request/response rounds per conversation (default
   * 0.5: a normal connection has one or two exchanges). Larger values make
   * longer connections, hence fewer connections for the same packet count.
   */
  rounds: number;
  quiet: boolean;
}

export interface GenResult {
  packets: number;
  connections: number;
  bytes: number;
  captureSec: number;
  maxLive: number;
}

// ---------- random ----------

class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = (seed >>> 0) || 0x9e3779b9;
  }

  /** mulberry32: uniform in [0, 1) */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  u32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }

  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
}

// ---------- wire constants ----------

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;

const MSS_PAYLOAD = 1448; // 1460 - 12 bytes of timestamp option
const CAPTURE_START_SEC = 1767225600; // 2026-01-01T00:00:00Z
const CLIENT_HOSTS = 4096;
const SERVER_HOSTS = 64;
const EPHEMERAL_LO = 32768; // Linux ip_local_port_range default 32768..60999
const EPHEMERAL_N = 60999 - 32768 + 1;
const SERVER_PORTS = [80, 443, 5432, 6379, 8080, 3306, 9092, 11211];

const enum Opt { None, Syn, Ts }

type Scenario =
  | 'normal' | 'refused' | 'syn-unanswered' | 'write-after-peer-close' | 'rst-with-unread-data'
  | 'abortive-close' | 'half-close' | 'port-reuse';

/** Teardown-heavy mix (weights sum to 100). */
const MIX: [Scenario, number][] = [
  ['normal', 30], ['refused', 8], ['syn-unanswered', 5], ['write-after-peer-close', 12],
  ['rst-with-unread-data', 12], ['abortive-close', 12], ['half-close', 11], ['port-reuse', 10],
];

const EXPECTED: Record<Scenario, string[]> = {
  'normal': [],
  'refused': ['refused'],
  'syn-unanswered': ['syn-unanswered'],
  'write-after-peer-close': ['write-after-peer-close'],
  'rst-with-unread-data': ['rst-with-unread-data'],
  'abortive-close': ['abortive-close'],
  'half-close': ['half-close'],
  'port-reuse': [],
};

/** Rough packets per connection of the mix, used only to pace time. */
const AVG_PACKETS = 12;
/** Rough think-time gaps per connection, used only to pace time. */
const AVG_THINKS = 3;

// ---------- output ----------

const OUT_BUF = 4 << 20;
const MAX_RECORD = 16 + 28 + 14 + 40 + 60 + MSS_PAYLOAD + 64;

class CaptureWriter {
  private readonly fd: number;
  private readonly buf = Buffer.alloc(OUT_BUF);
  private pos = 0;
  bytes = 0;
  frames = 0;

  constructor(path: string, readonly format: 'pcap' | 'pcapng') {
    this.fd = openSync(path, 'w');
    const b = this.buf;
    if (format === 'pcap') {
      b.writeUInt32LE(0xa1b2c3d4, 0);
      b.writeUInt16LE(2, 4);
      b.writeUInt16LE(4, 6);
      b.writeInt32LE(0, 8);
      b.writeUInt32LE(0, 12);
      b.writeUInt32LE(262144, 16); // snaplen
      b.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
      this.pos = 24;
    } else {
      // Section Header Block, no options
      b.writeUInt32LE(0x0a0d0d0a, 0);
      b.writeUInt32LE(28, 4);
      b.writeUInt32LE(0x1a2b3c4d, 8);
      b.writeUInt16LE(1, 12);
      b.writeUInt16LE(0, 14);
      b.writeInt32LE(-1, 16);
      b.writeInt32LE(-1, 20);
      b.writeUInt32LE(28, 24);
      // Interface Description Block: Ethernet, snaplen 262144, default µs resolution
      b.writeUInt32LE(1, 28);
      b.writeUInt32LE(20, 32);
      b.writeUInt16LE(1, 36);
      b.writeUInt16LE(0, 38);
      b.writeUInt32LE(262144, 40);
      b.writeUInt32LE(20, 44);
      this.pos = 48;
    }
  }

  /** Returns the offset where the frame's link-layer bytes go (record header written by `commit`). */
  begin(): number {
    if (this.pos + MAX_RECORD > OUT_BUF) this.flush();
    return this.pos + (this.format === 'pcap' ? 16 : 28);
  }

  commit(frameLen: number, tsUs: number): void {
    const b = this.buf;
    const p = this.pos;
    const sec = Math.floor(tsUs / 1e6);
    const usec = tsUs - sec * 1e6;
    if (this.format === 'pcap') {
      b.writeUInt32LE(sec, p);
      b.writeUInt32LE(usec, p + 4);
      b.writeUInt32LE(frameLen, p + 8);
      b.writeUInt32LE(frameLen, p + 12);
      this.pos = p + 16 + frameLen;
    } else {
      const padded = (frameLen + 3) & ~3;
      const total = 28 + padded + 4;
      b.writeUInt32LE(6, p);
      b.writeUInt32LE(total, p + 4);
      b.writeUInt32LE(0, p + 8);
      b.writeUInt32LE(Math.floor(tsUs / 4294967296), p + 12);
      b.writeUInt32LE(tsUs % 4294967296, p + 16);
      b.writeUInt32LE(frameLen, p + 20);
      b.writeUInt32LE(frameLen, p + 24);
      b.fill(0, p + 28 + frameLen, p + 28 + padded);
      b.writeUInt32LE(total, p + 28 + padded);
      this.pos = p + total;
    }
    this.frames++;
  }

  get buffer(): Buffer {
    return this.buf;
  }

  flush(): void {
    let off = 0;
    while (off < this.pos) off += writeSync(this.fd, this.buf, off, this.pos - off);
    this.bytes += this.pos;
    this.pos = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** Line-buffered NDJSON writer (flushes every ~1 MiB). */
class LineWriter {
  private readonly fd: number;
  private pending: string[] = [];
  private size = 0;
  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  line(s: string): void {
    this.pending.push(s);
    this.size += s.length + 1;
    if (this.size > 1 << 20) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    writeSync(this.fd, this.pending.join('\n') + '\n');
    this.pending = [];
    this.size = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

// ---------- connections ----------

/** One TCP connection (a port-reuse pair reuses the object with new ISNs). */
class Conn {
  v6 = false;
  cHost = 0;
  sHost = 0;
  cPort = 0;
  sPort = 0;
  /** next sequence number each side will send (absolute, uint32) */
  cNxt = 0;
  sNxt = 0;
  cTsOff = 0;
  sTsOff = 0;
  /** last TSval each side sent (the peer echoes it) */
  cTsLast = 0;
  sTsLast = 0;
  rttSec = 0.001;
  /** capture time of the next step, seconds from capture start */
  t = 0;
  heapIdx = -1;
  gen!: Generator<number, void, void>;
  scenario: Scenario = 'normal';
}

export function generate(o: GenOptions): GenResult {
  const rng = new Rng(o.seed);
  const w = new CaptureWriter(o.out, o.format);
  const truth = new LineWriter(`${o.out}.truth.ndjson`);
  const ipIdV4 = new Uint16Array(CLIENT_HOSTS + SERVER_HOSTS);
  for (let i = 0; i < ipIdV4.length; i++) ipIdV4[i] = rng.int(0, 65535);

  const rate = o.packets / o.durationSec; // packets per second of capture time
  const lifeSec = (o.concurrent * AVG_PACKETS) / rate;
  const thinkMean = lifeSec / AVG_THINKS;
  let now = 0; // seconds from capture start
  let nextTuple = 0;
  let started = 0;
  let truthConns = 0;
  let live = 0;
  let maxLive = 0;
  const stopAt = Math.max(0, o.packets - o.concurrent * AVG_PACKETS * 0.45);

  // ---- packet emission ----
  const MAC_C = Buffer.from([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]);
  const MAC_S = Buffer.from([0x02, 0x00, 0x00, 0x00, 0x00, 0x02]);

  function v4Addr(host: number, server: boolean): number {
    return server ? ((172 << 24) | (16 << 16) | host) >>> 0 : ((10 << 24) | (1 << 16) | host) >>> 0;
  }
  function ipString(c: Conn, server: boolean): string {
    const host = server ? c.sHost : c.cHost;
    if (!c.v6) {
      const a = v4Addr(host, server);
      return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
    }
    return `fd00::${server ? 5 : 'c'}:${(host + 1).toString(16)}`;
  }

  /**
   * Writes one segment. `fromClient` picks the sender; seq is the sender's
   * SND.NXT unless `seqOverride` >= 0; ack is the sender's RCV.NXT (every
   * earlier segment arrived: the capture has no loss) unless `ackOverride` >= 0.
   */
  function tx(c: Conn, fromClient: boolean, flags: number, len: number, opt: Opt, kernelReply = false, seqOverride = -1, ackOverride = -1): void {
    const b = w.buffer;
    let p = w.begin();
    const l3 = p + 14;
    (fromClient ? MAC_S : MAC_C).copy(b, p);
    (fromClient ? MAC_C : MAC_S).copy(b, p + 6);
    b.writeUInt16BE(c.v6 ? 0x86dd : 0x0800, p + 12);
    const optLen = opt === Opt.Syn ? 20 : opt === Opt.Ts ? 12 : 0;
    const tcpLen = 20 + optLen;
    let t: number;
    if (!c.v6) {
      const ipLen = 20 + tcpLen + len;
      b[l3] = 0x45;
      b[l3 + 1] = 0;
      b.writeUInt16BE(ipLen, l3 + 2);
      let id = 0;
      if (!kernelReply) {
        const h = fromClient ? c.cHost : CLIENT_HOSTS + c.sHost;
        id = ipIdV4[h];
        ipIdV4[h] = (id + 1) & 0xffff;
      }
      b.writeUInt16BE(id, l3 + 4);
      b.writeUInt16BE(0x4000, l3 + 6); // DF
      b[l3 + 8] = 64;
      b[l3 + 9] = 6;
      b.writeUInt16BE(0, l3 + 10);
      b.writeUInt32BE(v4Addr(fromClient ? c.cHost : c.sHost, !fromClient), l3 + 12);
      b.writeUInt32BE(v4Addr(fromClient ? c.sHost : c.cHost, fromClient), l3 + 16);
      t = l3 + 20;
    } else {
      b.writeUInt32BE(0x60000000, l3);
      b.writeUInt16BE(tcpLen + len, l3 + 4);
      b[l3 + 6] = 6;
      b[l3 + 7] = 64;
      const srcServer = !fromClient;
      for (let k = 0; k < 2; k++) {
        const server = k === 0 ? srcServer : !srcServer;
        const host = server ? c.sHost : c.cHost;
        const a = l3 + 8 + k * 16;
        b.writeUInt32BE(0xfd000000, a);
        b.writeUInt32BE(0, a + 4);
        b.writeUInt32BE(0, a + 8);
        b.writeUInt32BE(((server ? 5 : 0xc) << 16 | (host + 1)) >>> 0, a + 12);
      }
      t = l3 + 40;
    }
    const seq = seqOverride >= 0 ? seqOverride : fromClient ? c.cNxt : c.sNxt;
    const ack = ackOverride >= 0 ? ackOverride : (flags & ACK) ? (fromClient ? c.sNxt : c.cNxt) : 0;
    b.writeUInt16BE(fromClient ? c.cPort : c.sPort, t);
    b.writeUInt16BE(fromClient ? c.sPort : c.cPort, t + 2);
    b.writeUInt32BE(seq >>> 0, t + 4);
    b.writeUInt32BE(ack >>> 0, t + 8);
    b[t + 12] = (tcpLen / 4) << 4;
    b[t + 13] = flags;
    let win: number;
    if (kernelReply) win = 0;
    else if (flags & SYN) win = fromClient ? 64240 : (c.v6 ? 64800 : 65160);
    else win = fromClient ? 502 : 509; // scaled by 2^7
    b.writeUInt16BE(win, t + 14);
    b.writeUInt32BE(0, t + 16); // checksum 0, urgent 0
    const nowMs = Math.floor(now * 1000);
    const tsval = ((fromClient ? c.cTsOff : c.sTsOff) + nowMs) >>> 0;
    const tsecr = (flags & ACK) ? (fromClient ? c.sTsLast : c.cTsLast) : 0;
    let q = t + 20;
    if (opt === Opt.Syn) {
      b[q] = 2; b[q + 1] = 4; b.writeUInt16BE(c.v6 ? 1440 : 1460, q + 2);
      b[q + 4] = 4; b[q + 5] = 2;
      b[q + 6] = 8; b[q + 7] = 10; b.writeUInt32BE(tsval, q + 8); b.writeUInt32BE(tsecr >>> 0, q + 12);
      b[q + 16] = 1; b[q + 17] = 3; b[q + 18] = 3; b[q + 19] = 7;
      q += 20;
    } else if (opt === Opt.Ts) {
      b[q] = 1; b[q + 1] = 1; b[q + 2] = 8; b[q + 3] = 10;
      b.writeUInt32BE(tsval, q + 4); b.writeUInt32BE(tsecr >>> 0, q + 8);
      q += 12;
    }
    if (opt !== Opt.None) {
      if (fromClient) c.cTsLast = tsval;
      else c.sTsLast = tsval;
    }
    if (len > 0) b.fill(0, q, q + len);
    p = q + len;
    w.commit(p - (l3 - 14), Math.round(CAPTURE_START_SEC * 1e6 + now * 1e6));
    if (seqOverride < 0) {
      const adv = len + ((flags & SYN) ? 1 : 0) + ((flags & FIN) ? 1 : 0);
      if (fromClient) c.cNxt = (c.cNxt + adv) >>> 0;
      else c.sNxt = (c.sNxt + adv) >>> 0;
    }
  }

  function recordTruth(c: Conn): void {
    truthConns++;
    truth.line(JSON.stringify({
      scenario: c.scenario,
      orig: { ip: ipString(c, false), port: c.cPort },
      resp: { ip: ipString(c, true), port: c.sPort },
      firstFrame: w.frames + 1,
      ts: CAPTURE_START_SEC + Math.round(now * 1e6) / 1e6,
      rules: EXPECTED[c.scenario],
    }));
  }

  // ---- scenario building blocks (yield = seconds until the next step) ----
  const small = (): number => 0.00002 + rng.next() * 0.00008; // back-to-back segments / stack reaction
  const think = (): number => rng.exp(thinkMean);

  function* handshake(c: Conn): Generator<number, void, void> {
    c.cNxt = rng.u32();
    c.sNxt = rng.u32();
    recordTruth(c);
    tx(c, true, SYN, 0, Opt.Syn);
    yield c.rttSec;
    tx(c, false, SYN | ACK, 0, Opt.Syn);
    yield small();
    tx(c, true, ACK, 0, Opt.Ts);
  }

  /** `from` sends `bytes` in MSS-sized segments, PSH on the last. */
  function* send(c: Conn, fromClient: boolean, bytes: number): Generator<number, void, void> {
    while (bytes > 0) {
      const n = Math.min(bytes, MSS_PAYLOAD);
      bytes -= n;
      tx(c, fromClient, ACK | (bytes === 0 ? PSH : 0), n, Opt.Ts);
      if (bytes > 0) yield small();
    }
  }

  /** Request from the client, response from the server, client ACK. */
  function* exchange(c: Conn): Generator<number, void, void> {
    yield* send(c, true, rng.int(60, 900));
    yield c.rttSec / 2 + rng.exp(0.002);
    yield* send(c, false, rng.int(200, 6000));
    yield c.rttSec / 2;
    tx(c, true, ACK, 0, Opt.Ts);
  }

  /** Orderly close started by `clientFirst ? client : server` (tcp_close, then the peer's close). */
  function* close(c: Conn, clientFirst: boolean): Generator<number, void, void> {
    tx(c, clientFirst, FIN | ACK, 0, Opt.Ts);
    yield c.rttSec / 2;
    if (rng.next() < 0.5) {
      // the peer's kernel ACKs the FIN, its application closes a little later
      tx(c, !clientFirst, ACK, 0, Opt.Ts);
      yield rng.exp(0.005);
    }
    tx(c, !clientFirst, FIN | ACK, 0, Opt.Ts);
    yield c.rttSec / 2;
    tx(c, clientFirst, ACK, 0, Opt.Ts);
  }

  /**
   * Extra request/response rounds for one conversation. With the default mean
   * of 0.5 this draws exactly what the generator always drew (one coin), so
   * captures made before --rounds existed are reproduced byte for byte.
   */
  function extraRounds(): number {
    if (o.rounds === 0.5) return rng.next() < 0.5 ? 1 : 0;
    return rng.int(0, Math.round(2 * o.rounds));
  }

  /** Extra rounds in scenarios that had a fixed conversation (none with the default mean). */
  function* moreRounds(c: Conn): Generator<number, void, void> {
    if (o.rounds === 0.5) return;
    for (let k = rng.int(0, Math.round(2 * o.rounds)); k > 0; k--) {
      yield think();
      yield* exchange(c);
    }
  }

  function* normal(c: Conn): Generator<number, void, void> {
    yield* handshake(c);
    yield think();
    yield* exchange(c);
    for (let k = extraRounds(); k > 0; k--) {
      yield think();
      yield* exchange(c);
    }
    yield think();
    yield* close(c, rng.next() < 0.6);
  }

  function* scenario(c: Conn): Generator<number, void, void> {
    switch (c.scenario) {
      case 'normal':
        yield* normal(c);
        return;
      case 'port-reuse': {
        yield* normal(c);
        // same 4-tuple again (tcp_tw_reuse / a client binding its port): new ISN, new connection
        yield 0.5 + rng.next() * 2;
        yield* normal(c);
        return;
      }
      case 'refused': {
        c.cNxt = rng.u32();
        recordTruth(c);
        tx(c, true, SYN, 0, Opt.Syn);
        yield c.rttSec;
        // tcp_v4_send_reset for a SYN to a closed port: RST|ACK, seq 0, ack ISN+1, no options, IP ID 0
        tx(c, false, RST | ACK, 0, Opt.None, true, 0, c.cNxt);
        return;
      }
      case 'syn-unanswered': {
        c.cNxt = rng.u32();
        recordTruth(c);
        const isn = c.cNxt;
        tx(c, true, SYN, 0, Opt.Syn);
        // initial RTO 1 s, doubling (RFC 6298, tcp_syn_retries): retransmissions at +1, +3, +7 s
        for (const gap of [1, 2, 4]) {
          yield gap + rng.next() * 0.004;
          c.cNxt = isn;
          tx(c, true, SYN, 0, Opt.Syn);
        }
        return;
      }
      case 'write-after-peer-close': {
        yield* handshake(c);
        if (rng.next() < 0.7) {
          yield think();
          yield* exchange(c);
        }
        yield* moreRounds(c);
        yield think();
        // the server closes (idle timeout); the client kernel ACKs the FIN
        tx(c, false, FIN | ACK, 0, Opt.Ts);
        yield c.rttSec / 2;
        tx(c, true, ACK, 0, Opt.Ts);
        yield think();
        // the client application writes to the half-closed socket
        const dataAck = c.sNxt;
        yield* send(c, true, rng.int(20, 1400));
        yield c.rttSec / 2;
        // the server socket is gone (orphan in FIN_WAIT2 / closed): tcp_v4_send_reset answers with
        // a bare RST, seq = the data's ack, no ACK flag, no options, IP ID 0
        tx(c, false, RST, 0, Opt.None, true, dataAck, 0);
        return;
      }
      case 'rst-with-unread-data': {
        yield* handshake(c);
        if (rng.next() < 0.5) {
          yield think();
          yield* exchange(c);
        }
        yield* moreRounds(c);
        yield think();
        yield* send(c, true, rng.int(40, 3000));
        yield c.rttSec / 2;
        tx(c, false, ACK, 0, Opt.Ts);
        yield think();
        // the server application close()s with unread data in its receive queue: tcp_close sends
        // RST|ACK (tcp_send_active_reset), seq = SND.NXT, ack = RCV.NXT, with timestamps; no FIN
        tx(c, false, RST | ACK, 0, Opt.Ts);
        return;
      }
      case 'abortive-close': {
        yield* handshake(c);
        yield think();
        yield* exchange(c);
        yield* moreRounds(c);
        yield think();
        const actorClient = rng.next() < 0.5;
        // the actor writes, then close()s with SO_LINGER {1, 0} before the peer ACKs:
        // tcp_disconnect -> tcp_send_active_reset, seq = SND.NXT (after the unacked data)
        yield* send(c, actorClient, rng.int(100, 4000));
        yield small();
        tx(c, actorClient, RST | ACK, 0, Opt.Ts);
        return;
      }
      case 'half-close': {
        yield* handshake(c);
        yield think();
        yield* send(c, true, rng.int(60, 900));
        yield small();
        // shutdown(SHUT_WR) by the client
        tx(c, true, FIN | ACK, 0, Opt.Ts);
        yield c.rttSec / 2 + rng.exp(0.002);
        const segs = rng.int(2, 6);
        for (let i = 0; i < segs; i++) {
          tx(c, false, ACK | (i === segs - 1 ? PSH : 0), MSS_PAYLOAD, Opt.Ts);
          if (i % 2 === 1 || i === segs - 1) {
            yield c.rttSec / 2;
            tx(c, true, ACK, 0, Opt.Ts); // the half-closed client still ACKs
          }
          yield small();
        }
        yield think() / 4;
        tx(c, false, FIN | ACK, 0, Opt.Ts);
        yield c.rttSec / 2;
        tx(c, true, ACK, 0, Opt.Ts);
        return;
      }
    }
  }

  function pickScenario(): Scenario {
    let r = rng.next() * 100;
    for (const [s, wgt] of MIX) {
      if (r < wgt) return s;
      r -= wgt;
    }
    return 'normal';
  }

  function newConn(at: number): Conn {
    const c = new Conn();
    const k = nextTuple++;
    c.v6 = rng.next() < o.v6Fraction;
    c.cHost = k % CLIENT_HOSTS;
    c.cPort = EPHEMERAL_LO + (Math.floor(k / CLIENT_HOSTS) % EPHEMERAL_N);
    c.sHost = rng.int(0, SERVER_HOSTS - 1);
    c.sPort = SERVER_PORTS[rng.int(0, SERVER_PORTS.length - 1)];
    c.cTsOff = rng.u32();
    c.sTsOff = rng.u32();
    c.rttSec = 0.0002 + rng.exp(0.01);
    c.scenario = pickScenario();
    c.t = at;
    c.gen = scenario(c);
    started++;
    live++;
    if (live > maxLive) maxLive = live;
    return c;
  }

  // ---- min-heap on c.t ----
  const heap: Conn[] = [];
  function up(i: number): void {
    const c = heap[i];
    while (i > 0) {
      const pi = (i - 1) >> 1;
      const pc = heap[pi];
      if (pc.t <= c.t) break;
      heap[i] = pc;
      pc.heapIdx = i;
      i = pi;
    }
    heap[i] = c;
    c.heapIdx = i;
  }
  function down(i: number): void {
    const n = heap.length;
    const c = heap[i];
    for (;;) {
      let m = 2 * i + 1;
      if (m >= n) break;
      if (m + 1 < n && heap[m + 1].t < heap[m].t) m++;
      if (heap[m].t >= c.t) break;
      heap[i] = heap[m];
      heap[i].heapIdx = i;
      i = m;
    }
    heap[i] = c;
    c.heapIdx = i;
  }
  function push(c: Conn): void {
    heap.push(c);
    up(heap.length - 1);
  }
  function popMin(): Conn {
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      down(0);
    }
    return top;
  }

  // ramp: the first connections start spread over one connection lifetime
  for (let i = 0; i < o.concurrent; i++) push(newConn(rng.next() * lifeSec));

  let lastReport = Date.now();
  while (heap.length > 0) {
    const c = heap[0];
    now = c.t;
    const r = c.gen.next();
    if (r.done) {
      popMin();
      live--;
      if (w.frames < stopAt) push(newConn(now + rng.exp(0.01)));
      continue;
    }
    c.t = now + r.value;
    down(0);
    if (!o.quiet && (w.frames & 0xffff) === 0 && Date.now() - lastReport > 2000) {
      lastReport = Date.now();
      process.stderr.write(`gen-capture: ${w.frames} packets, ${live} live, t=${now.toFixed(1)} s\n`);
    }
  }
  const frames = w.frames;
  w.close();
  truth.close();
  return { packets: frames, connections: truthConns, bytes: w.bytes, captureSec: now, maxLive };
}

// ---------- CLI ----------

function parseArgs(argv: string[]): GenOptions {
  const o: GenOptions = {
    packets: 2_000_000, concurrent: 20_000, out: '', format: 'pcap', seed: 1, durationSec: 0, v6Fraction: 0.15, rounds: 0.5, quiet: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    if (a === '--packets') o.packets = Number(v());
    else if (a === '--concurrent') o.concurrent = Number(v());
    else if (a === '--out') o.out = v();
    else if (a === '--format') {
      const f = v();
      if (f !== 'pcap' && f !== 'pcapng') throw new Error('--format is pcap or pcapng');
      o.format = f;
    } else if (a === '--seed') o.seed = Number(v());
    else if (a === '--duration') o.durationSec = Number(v());
    else if (a === '--v6') o.v6Fraction = Number(v());
    else if (a === '--rounds') o.rounds = Number(v());
    else if (a === '--quiet') o.quiet = true;
    else throw new Error(`unknown option ${a}`);
  }
  if (!o.out) throw new Error('--out FILE is required');
  if (!(o.packets > 0) || !(o.concurrent > 0)) throw new Error('--packets and --concurrent must be positive');
  if (!(o.rounds >= 0) || o.rounds > 1000) throw new Error('--rounds is a mean number of extra exchanges, 0 to 1000');
  // default pacing: ~45 s of capture per million packets, at least one connection lifetime of 10 s
  if (!(o.durationSec > 0)) o.durationSec = Math.max(10, (o.packets / 1e6) * 45);
  return o;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  try {
    const o = parseArgs(process.argv.slice(2));
    const t0 = Date.now();
    const r = generate(o);
    process.stderr.write(
      `gen-capture: wrote ${o.out} (${o.format}): ${r.packets} packets, ${r.connections} connections, `
      + `${(r.bytes / 1e6).toFixed(1)} MB, ${r.captureSec.toFixed(1)} s of capture time, max ${r.maxLive} live, `
      + `in ${((Date.now() - t0) / 1000).toFixed(1)} s; truth in ${o.out}.truth.ndjson\n`,
    );
  } catch (e) {
    process.stderr.write(`gen-capture: ${(e as Error).message}\n`);
    process.exitCode = 2;
  }
}
