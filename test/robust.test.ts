/**
 * Hostile and broken input (issue 7, docs/robustness.md): every case ends in
 * exactly one of full results (exit 0), partial results with one stderr line
 * naming file, byte offset and record (exit 3), or a one-line error (exit 2);
 * never a stack trace, never a hang. Cases are hand-built bytes written to a
 * temporary directory; the decoder cases are also checked in-process, field
 * by field.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newFrame } from '../src/capture/frame.js';
import { decodeFrame } from '../src/decode/decoder.js';
import { DecodeResult, newPacket, OPT_MSS } from '../src/decode/packet.js';
import {
  ACK, FIN, ip4, ip4Tcp, ip6Tcp, LINKTYPE_RAW, pcapBytes, pcapngBlock, pcapngEpb, pcapngIdb, pcapngShb, PSH, SYN, synFlood, T0_SEC,
} from '../scripts/make-hostile.js';
import { BIN, runCli, type CliResult } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'rstscope-robust-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
function file(name: string, bytes: Uint8Array): string {
  const p = join(dir, `${++fileNo}-${name}`);
  writeFileSync(p, bytes);
  return p;
}

const C = ip4(192, 0, 2, 1);
const S = ip4(192, 0, 2, 2);

/** A complete, clean connection as raw IPv4 packets: handshake, 10 bytes each way, FIN both ways. */
function cleanConnection(): Buffer[] {
  const c = { src: C, dst: S, sport: 40000, dport: 80 };
  const s = { src: S, dst: C, sport: 80, dport: 40000 };
  const data = new Uint8Array(10).fill(0x41);
  return [
    ip4Tcp({ ...c, seq: 100, flags: SYN }),
    ip4Tcp({ ...s, seq: 500, ack: 101, flags: SYN | ACK }),
    ip4Tcp({ ...c, seq: 101, ack: 501, flags: ACK }),
    ip4Tcp({ ...c, seq: 101, ack: 501, flags: PSH | ACK, payload: data }),
    ip4Tcp({ ...s, seq: 501, ack: 111, flags: PSH | ACK, payload: data }),
    ip4Tcp({ ...c, seq: 111, ack: 511, flags: FIN | ACK }),
    ip4Tcp({ ...s, seq: 511, ack: 112, flags: FIN | ACK }),
    ip4Tcp({ ...c, seq: 112, ack: 512, flags: ACK }),
  ];
}

function cleanPcap(): Buffer {
  return pcapBytes(cleanConnection().map((data, i) => ({ tsSec: T0_SEC, tsUsec: i * 1000, data })));
}

/** Byte offset of record `n` (1-based) in a pcap made by pcapBytes from `packets`. */
function recordOffset(packets: Buffer[], n: number): number {
  let o = 24;
  for (let i = 0; i < n - 1; i++) o += 16 + packets[i].length;
  return o;
}

/** The outcome contract: exit code, no stack trace, at most the expected stderr lines. */
function assertOutcome(r: CliResult, code: 0 | 2 | 3, path: string): void {
  assert.equal(r.code, code, `exit code (stderr: ${r.stderr})`);
  assert.doesNotMatch(r.stderr, /\n\s+at |internal error|Error:|unhandled/i, 'no stack trace or internal error');
  if (code === 0) assert.equal(r.stderr.trim(), '', 'nothing on stderr');
  else {
    const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith("Run 'rstscope --help'"));
    assert.equal(lines.length, 1, `one stderr line: ${r.stderr}`);
    assert.ok(lines[0].startsWith(`rstscope: ${path}`), `the line names the file: ${lines[0]}`);
  }
}

interface FlowsJson {
  inputs: { packets: number; warnings: string[] }[];
  connections: { state: string; origBytes: number; respBytes: number; origPkts: number; respPkts: number; duration: number; history: string; origRetransBytes: number }[];
  stats: { skipped: Record<string, number>; tcpSegments: number };
}

/** flows -f json and analyze (table) on one file; returns the flows result and document. */
async function both(path: string, code: 0 | 2 | 3): Promise<{ r: CliResult; doc: FlowsJson }> {
  const [r, t] = await Promise.all([runCli(['flows', '-f', 'json', path]), runCli(['analyze', path])]);
  assertOutcome(r, code, path);
  assertOutcome(t, code, path);
  return { r, doc: JSON.parse(r.stdout) as FlowsJson };
}

function partialLine(r: CliResult, offset: number, record: number, kind: 'truncated' | 'corrupt'): void {
  assert.match(r.stderr, new RegExp(`${kind} at byte offset ${offset} \\(record ${record}\\)`), r.stderr);
}

describe('reader edge cases: exit code, stderr line, and what was kept', { concurrency: 4 }, () => {
  test('empty file: one-line error, exit 2', async () => {
    const p = file('empty.pcap', new Uint8Array(0));
    const { r } = await both(p, 2);
    assert.match(r.stderr, /empty/);
  });

  test('not a capture at all: one-line error, exit 2', async () => {
    const p = file('text.pcap', Buffer.from('<html><script>alert(1)</script></html>\n'));
    const { r } = await both(p, 2);
    assert.match(r.stderr, /not a pcap or pcapng capture/);
  });

  test('a pcap of only its file header: full (empty) results, exit 0', async () => {
    const { doc } = await both(file('header-only.pcap', pcapBytes([])), 0);
    assert.equal(doc.inputs[0].packets, 0);
    assert.equal(doc.connections.length, 0);
  });

  test('a pcapng of only its section header: full (empty) results, exit 0', async () => {
    const { doc } = await both(file('shb-only.pcapng', pcapngShb()), 0);
    assert.equal(doc.inputs[0].packets, 0);
  });

  test('pcap cut inside its file header: not a capture, one line, exit 2', async () => {
    const p = file('cut-header.pcap', pcapBytes([]).subarray(0, 10));
    const { r } = await both(p, 2);
    assert.match(r.stderr, /^rstscope: \S+cut-header\.pcap: not a capture \(file header incomplete\): the file ends after 10 byte\(s\)\n$/);
  });

  test('pcap cut inside a record header: earlier records kept, exit 3 at that record', async () => {
    const pk = cleanConnection();
    const whole = cleanPcap();
    const at = recordOffset(pk, 6);
    const { r, doc } = await both(file('cut-rechdr.pcap', whole.subarray(0, at + 7)), 3);
    partialLine(r, at, 6, 'truncated');
    assert.equal(doc.inputs[0].packets, 5);
    assert.equal(doc.connections.length, 1);
    assert.equal(doc.connections[0].origBytes, 10);
    assert.equal(doc.connections[0].respBytes, 10);
  });

  test('pcap cut inside a packet body: earlier records kept, exit 3 at that record', async () => {
    const pk = cleanConnection();
    const at = recordOffset(pk, 5);
    const { r, doc } = await both(file('cut-body.pcap', cleanPcap().subarray(0, at + 16 + 30)), 3);
    partialLine(r, at, 5, 'truncated');
    assert.equal(doc.inputs[0].packets, 4);
    assert.equal(doc.connections[0].origBytes, 10);
  });

  test('record length above the snaplen (but within 256 KiB): accepted with a warning, exit 0', async () => {
    const pk = cleanConnection();
    const bytes = pcapBytes(pk.map((data) => ({ data })), LINKTYPE_RAW, 48);
    const { doc } = await both(file('above-snaplen.pcap', bytes), 0);
    assert.equal(doc.inputs[0].packets, 8);
    assert.ok(doc.inputs[0].warnings.some((w) => /snaplen/.test(w)), JSON.stringify(doc.inputs[0].warnings));
    assert.equal(doc.connections[0].state, 'SF');
  });

  test('record length above 256 KiB: corrupt, earlier records kept, exit 3, no 4 GiB allocation', async () => {
    const pk = cleanConnection();
    const bytes = cleanPcap();
    const at = recordOffset(pk, 4);
    bytes.writeUInt32LE(0xfffffff0, at + 8);
    const { r, doc } = await both(file('huge-record.pcap', bytes), 3);
    partialLine(r, at, 4, 'corrupt');
    assert.equal(doc.inputs[0].packets, 3);
    assert.equal(doc.connections.length, 1);
  });

  test('record length of 262145 (one past the limit): corrupt, exit 3', async () => {
    const pk = cleanConnection();
    const bytes = cleanPcap();
    const at = recordOffset(pk, 2);
    bytes.writeUInt32LE(262145, at + 8);
    const { r } = await both(file('limit-record.pcap', bytes), 3);
    partialLine(r, at, 2, 'corrupt');
  });

  const pcapngPackets = (): Buffer[] => cleanConnection().map((d, i) => pcapngEpb(0, BigInt(T0_SEC) * 1_000_000n + BigInt(i * 1000), d));

  test('pcapng block length not a multiple of 4: corrupt, earlier blocks kept, exit 3', async () => {
    const eps = pcapngPackets();
    const head = Buffer.concat([pcapngShb(), pcapngIdb(), ...eps.slice(0, 3)]);
    const bad = Buffer.from(eps[3]);
    bad.writeUInt32LE(bad.length + 2, 4);
    const { r, doc } = await both(file('len-not-4.pcapng', Buffer.concat([head, bad, ...eps.slice(4)])), 3);
    partialLine(r, head.length, 6, 'corrupt');
    assert.match(r.stderr, /not a multiple of 4/);
    assert.equal(doc.inputs[0].packets, 3);
  });

  test('pcapng block length below its minimum: corrupt, exit 3', async () => {
    const eps = pcapngPackets();
    const head = Buffer.concat([pcapngShb(), pcapngIdb(), eps[0]]);
    for (const len of [8, 0]) {
      const bad = Buffer.from(eps[1]);
      bad.writeUInt32LE(len, 4);
      const { r, doc } = await both(file(`len-${len}.pcapng`, Buffer.concat([head, bad, ...eps.slice(2)])), 3);
      partialLine(r, head.length, 4, 'corrupt');
      assert.equal(doc.inputs[0].packets, 1);
    }
    // an EPB whose (consistent) length is below the EPB minimum of 32
    const tiny = pcapngBlock(6, Buffer.alloc(8));
    const { r } = await both(file('epb-tiny.pcapng', Buffer.concat([head, tiny])), 3);
    partialLine(r, head.length, 4, 'corrupt');
  });

  test('pcapng without an interface description: corrupt at the first packet, exit 3', async () => {
    const eps = pcapngPackets();
    const shb = pcapngShb();
    const { r, doc } = await both(file('no-idb.pcapng', Buffer.concat([shb, ...eps])), 3);
    partialLine(r, shb.length, 2, 'corrupt');
    assert.match(r.stderr, /before any interface description/);
    assert.equal(doc.inputs[0].packets, 0);
  });

  test('pcapng interface index out of range: corrupt at that packet, earlier kept, exit 3', async () => {
    const eps = pcapngPackets();
    const head = Buffer.concat([pcapngShb(), pcapngIdb(), ...eps.slice(0, 2)]);
    const stray = pcapngEpb(7, BigInt(T0_SEC) * 1_000_000n, cleanConnection()[2]);
    const { r, doc } = await both(file('bad-ifindex.pcapng', Buffer.concat([head, stray, ...eps.slice(3)])), 3);
    partialLine(r, head.length, 5, 'corrupt');
    assert.match(r.stderr, /interface 7/);
    assert.equal(doc.inputs[0].packets, 2);
  });

  test('pcapng timestamp beyond any date: full results, exit 0 (no crash formatting the time)', async () => {
    const pk = cleanConnection();
    const eps = pk.map((d) => pcapngEpb(0, 0xffffffff_fffff000n, d));
    const { doc } = await both(file('far-future.pcapng', Buffer.concat([pcapngShb(), pcapngIdb(), ...eps])), 0);
    assert.equal(doc.connections.length, 1);
  });

  test('timestamps going backwards: one connection, full results, exit 0', async () => {
    const pk = cleanConnection();
    const recs = pk.map((data, i) => ({ tsSec: T0_SEC + (i === 4 ? -3600 : i), data }));
    const { doc } = await both(file('backwards.pcap', pcapBytes(recs)), 0);
    assert.equal(doc.connections.length, 1);
    const c = doc.connections[0];
    assert.equal(c.state, 'SF');
    assert.equal(c.origBytes, 10);
    assert.equal(c.respBytes, 10);
    assert.ok(Number.isFinite(c.duration));
  });

  test('duplicated frames (every packet captured twice): bytes counted once, state unchanged', async () => {
    const pk = cleanConnection();
    const recs = pk.flatMap((data, i) => [{ tsSec: T0_SEC, tsUsec: i * 1000, data }, { tsSec: T0_SEC, tsUsec: i * 1000 + 1, data }]);
    const { doc } = await both(file('dup.pcap', pcapBytes(recs)), 0);
    assert.equal(doc.connections.length, 1);
    const c = doc.connections[0];
    assert.equal(c.state, 'SF');
    assert.equal(c.origBytes, 10);
    assert.equal(c.respBytes, 10);
    assert.equal(c.origPkts + c.respPkts, 16);
  });
});

test('the output pipe closing early (`rstscope flows -f ndjson big.pcap | head -1`) ends the run quietly', async () => {
  const p = join(dir, 'many.pcap');
  synFlood(p, 20_000, 2, 5);
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [BIN, 'flows', '-f', 'ndjson', p], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  // read the first line, then close our end of the pipe, as `head -1` does
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((res) => child.on('close', res));
  assert.equal(code, 0, stderr);
  assert.equal(stderr, '', 'no EPIPE message, no stack trace');
});

// ---------- decoder: malformed IP and TCP headers ----------

function decode(pkt: Uint8Array, linkType = LINKTYPE_RAW) {
  const f = newFrame();
  f.buf = Buffer.from(pkt);
  f.offset = 0;
  f.capLen = pkt.length;
  f.origLen = pkt.length;
  f.linkType = linkType;
  const p = newPacket();
  const res = decodeFrame(f, p, { checksums: false });
  return { res, p };
}

describe('decoder: malformed headers are counted, never read past the frame', { concurrency: 4 }, () => {
  test('IPv4 header length below 20', () => {
    for (const ihl of [0, 4, 16]) assert.equal(decode(ip4Tcp({ ihl, ipHeaderBytes: 20 })).res, DecodeResult.BadIpHeader, `ihl ${ihl}`);
  });

  test('IPv4 header length beyond the frame', () => {
    const pkt = ip4Tcp({ ihl: 60, ipHeaderBytes: 20 }).subarray(0, 40);
    assert.equal(decode(pkt).res, DecodeResult.TruncatedIp);
    assert.equal(decode(ip4Tcp().subarray(0, 12)).res, DecodeResult.TruncatedIp);
  });

  test('IPv4 total length below the header length', () => {
    assert.equal(decode(ip4Tcp({ totalLen: 12 })).res, DecodeResult.BadIpHeader);
  });

  test('TCP data offset below 5', () => {
    for (const off of [0, 4, 16]) assert.equal(decode(ip4Tcp({ dataOffset: off })).res, DecodeResult.BadTcpHeader, `offset ${off}`);
  });

  test('TCP data offset beyond the segment', () => {
    // 60-byte header claimed, 20 present and the IP length says so
    assert.equal(decode(ip4Tcp({ dataOffset: 60 })).res, DecodeResult.BadTcpHeader);
    // TCP header cut short by the frame
    assert.equal(decode(ip4Tcp().subarray(0, 30)).res, DecodeResult.TruncatedTcp);
  });

  test('TCP option length 0, 1 and beyond the header: parsing stops, earlier options kept', () => {
    const mss = [2, 4, 0x05, 0xb4];
    for (const bad of [[8, 0, 0, 0], [8, 1, 0, 0], [3, 40, 0, 0], [5]]) {
      const opts = [...mss, ...bad];
      while (opts.length % 4) opts.push(0);
      const { res, p } = decode(ip4Tcp({ tcpOptions: opts, payload: new Uint8Array(5) }));
      assert.equal(res, DecodeResult.Tcp, `option bytes ${bad}`);
      assert.equal(p.optMss, 1460);
      assert.ok(p.optMask & OPT_MSS);
      assert.equal(p.payloadLen, 5, 'the payload length is unaffected by the bad option');
      assert.equal(p.tcpHeaderLen, 20 + opts.length);
    }
  });

  test('IPv6 extension header chain that loops (longer than any real chain) or runs off the end', () => {
    const ok = decode(ip6Tcp([{ type: 0, lenByte: 0 }, { type: 60, lenByte: 1 }]));
    assert.equal(ok.res, DecodeResult.Tcp);
    assert.equal(ok.p.srcPort, 40000);
    // 40 destination-options headers, each naming the next: treated as a loop
    const loop = decode(ip6Tcp(Array.from({ length: 40 }, () => ({ type: 60, lenByte: 0 }))));
    assert.equal(loop.res, DecodeResult.BadIpv6Chain);
    // a header whose length runs past the frame
    const overrun = decode(ip6Tcp([{ type: 0, lenByte: 200 }], { truncateTo: 40 + 8 + 20 }));
    assert.equal(overrun.res, DecodeResult.BadIpv6Chain);
    // the chain itself cut off inside a header
    assert.equal(decode(ip6Tcp([{ type: 43, lenByte: 0 }], { truncateTo: 44 })).res, DecodeResult.BadIpv6Chain);
  });

  test('the CLI counts every malformed frame by reason and still reports the good connection (exit 0)', async () => {
    const bad = [
      ip4Tcp({ ihl: 8, ipHeaderBytes: 20 }), ip4Tcp({ dataOffset: 8 }), ip4Tcp({ dataOffset: 60 }),
      ip6Tcp(Array.from({ length: 40 }, () => ({ type: 60, lenByte: 0 }))), ip4Tcp().subarray(0, 30),
    ];
    const pk = cleanConnection();
    const recs = [...pk.slice(0, 3), ...bad, ...pk.slice(3)].map((data, i) => ({ tsSec: T0_SEC, tsUsec: i, data }));
    const p = file('malformed-mix.pcap', pcapBytes(recs));
    const { doc } = await both(p, 0);
    assert.deepEqual(doc.stats.skipped, {
      'bad-ip-header': 1, 'bad-tcp-header': 2, 'bad-ipv6-extension-chain': 1, 'truncated-tcp-header': 1,
    });
    assert.equal(doc.connections.length, 1);
    assert.equal(doc.connections[0].state, 'SF');
  });
});
