/**
 * Tunnels (issue 14, item 2): the inner TCP connection of every encapsulation
 * src/decode/tunnel.ts opens is tracked and told as on the unwrapped capture.
 *
 * - VXLAN made by the kernel (test/fixtures/tunnels/vxlan-two-vnis.pcap,
 *   scripts/make-tunnel-captures.sh): two VNIs carrying the same inner
 *   addresses and ports are two connections.
 * - The rest wrapped byte by byte around real kernel frames
 *   (scripts/wrap-tunnels.ts): the committed files are what the script makes;
 *   each gives the records and findings of its base capture plus `tunnel`;
 *   each is checked frame by frame against tshark's decode of the inner
 *   packet (addresses, ports, raw sequence number, lengths) and of the
 *   tunnel fields (VNI, GRE key, ERSPAN session, TEID).
 * - Hostile: a header that lies about its length, a GRE loop, overlapping
 *   and reordered outer fragments.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze } from '../src/analysis/analyze.js';
import { readCaptureFile } from '../src/capture/reader.js';
import { decodeFrame } from '../src/decode/decoder.js';
import { DecodeResult, newPacket } from '../src/decode/packet.js';
import { formatAddress } from '../src/tcp/address.js';
import {
  BASE_V4, BASE_V6, eth, gre, ipv4, TUNNEL_FIXTURES, udp, WRAPS, wrapCapture, wrapFile, writePcap, type Rec, readPcap,
} from '../scripts/wrap-tunnels.js';
import { runCli } from './helpers.js';
import { requires } from './requires.js';

const VXLAN = join(TUNNEL_FIXTURES, 'vxlan-two-vnis.pcap');
const tmp = mkdtempSync(join(tmpdir(), 'rstscope-tunnels-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** What must not change when a capture is wrapped: records without `tunnel`, findings as they are. */
async function told(file: string): Promise<{ records: unknown[]; findings: unknown[]; tunnels: unknown[] }> {
  const res = await analyze([file]);
  const records = res.connections.map((r) => {
    const { tunnel: _t, input: _i, ...rest } = r;
    return rest;
  });
  const findings = res.findings.map((f) => ({ ...f, input: 0 }));
  return { records, findings, tunnels: res.connections.map((r) => r.tunnel) };
}

for (const w of WRAPS) {
  test(`${w.name}: the committed file is what scripts/wrap-tunnels.ts makes`, () => {
    const want = readFileSync(wrapFile(w));
    const file = join(tmp, `${w.name}.pcap`);
    writePcap(file, wrapCapture(w));
    assert.ok(readFileSync(file).equals(want), `regenerate with node dist/scripts/wrap-tunnels.js (${wrapFile(w)})`);
  });

  test(`${w.name}: the inner connection is told as on the unwrapped capture, with its tunnel`, async () => {
    const base = await told(w.base === 'v4' ? BASE_V4 : BASE_V6);
    const got = await told(wrapFile(w));
    assert.ok(base.findings.length > 0, 'the base capture has a finding to keep');
    assert.deepEqual(got.records, base.records);
    assert.deepEqual(got.findings, base.findings);
    assert.deepEqual(got.tunnels, [w.tunnel]);
  });
}

interface TsharkRow { inner: string; tcp: string; kinds: string[]; key: string }

/** tshark's decode: innermost addresses, TCP fields, the tunnel kinds in its protocol chain, the identifying fields. */
function tsharkRows(file: string, extra: string[] = []): TsharkRow[] {
  const out = execFileSync('tshark', [
    '-r', file, ...extra, '-o', 'tcp.analyze_sequence_numbers:FALSE', '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a',
    '-e', 'frame.protocols', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'ipv6.src', '-e', 'ipv6.dst',
    '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tcp.seq_raw', '-e', 'tcp.len', '-e', 'tcp.hdr_len',
    '-e', 'vxlan.vni', '-e', 'geneve.vni', '-e', 'gre.key', '-e', 'erspan.spanid', '-e', 'gtp.teid',
  ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter((l) => l !== '').map((l) => {
    const [protos, ip4s, ip4d, ip6s, ip6d, sp, dp, seq, len, hl, vxlan, geneve, greKey, span, teid] = l.split('|');
    const chain = protos.split(':');
    const last = (s: string) => s.split(',').pop() ?? '';
    // the innermost IP layer decides which address fields are the inner ones
    const innerV6 = chain.lastIndexOf('ipv6') > chain.lastIndexOf('ip');
    const kinds: string[] = [];
    for (let i = 0; i < chain.length; i++) {
      const p = chain[i];
      const n = chain[i + 1];
      if (p === 'vxlan' || p === 'geneve' || p === 'teredo') kinds.push(p);
      else if (p === 'gtp') kinds.push('gtp-u');
      else if (p === 'gre') kinds.push(n === 'erspan' ? 'erspan' : 'gre');
      else if ((p === 'ip' || p === 'ipv6') && (n === 'ip' || n === 'ipv6')) {
        kinds.push(p === 'ip' ? (n === 'ip' ? 'ipip' : '6in4') : (n === 'ip' ? '4in6' : '6in6'));
      }
    }
    return {
      inner: innerV6 ? `${last(ip6s)} ${last(ip6d)}` : `${last(ip4s)} ${last(ip4d)}`,
      tcp: sp ? `${sp} ${dp} ${seq} ${len} ${hl}` : '',
      kinds,
      key: [vxlan, geneve, greKey, span, teid].filter((x) => x !== '').map((x) => String(Number(x))).join(','),
    };
  });
}

async function ourRows(file: string): Promise<{ inner: string; tcp: string; result: DecodeResult }[]> {
  const p = newPacket();
  const rows: { inner: string; tcp: string; result: DecodeResult }[] = [];
  await readCaptureFile(file, (f) => {
    const r = decodeFrame(f, p, { checksums: false });
    rows.push({
      result: r,
      inner: r === DecodeResult.Tcp
        ? `${formatAddress(p.ipVersion, p.src0, p.src1, p.src2, p.src3)} ${formatAddress(p.ipVersion, p.dst0, p.dst1, p.dst2, p.dst3)}` : '',
      tcp: r === DecodeResult.Tcp ? `${p.srcPort} ${p.dstPort} ${p.seq >>> 0} ${p.payloadLen} ${p.tcpHeaderLen}` : '',
    });
  });
  return rows;
}

for (const w of WRAPS) {
  test(`${w.name}: every frame's inner TCP and tunnel fields match tshark`, requires('tshark'), async () => {
    const theirs = tsharkRows(wrapFile(w), w.tshark);
    const ours = await ourRows(wrapFile(w));
    assert.equal(ours.length, theirs.length);
    const kinds = (w.tunnel as { type: string }[]).map((t) => t.type.replace(/-[0-9]$/, ''));
    const keys = (w.tunnel as Record<string, number>[]).map((t) => t.vni ?? t.key ?? t.session).filter((k) => k !== undefined);
    for (let i = 0; i < ours.length; i++) {
      assert.equal(ours[i].result, DecodeResult.Tcp, `frame ${i + 1}`);
      assert.equal(ours[i].inner, theirs[i].inner, `frame ${i + 1} inner addresses`);
      assert.equal(ours[i].tcp, theirs[i].tcp, `frame ${i + 1} TCP fields`);
      assert.deepEqual(theirs[i].kinds, kinds, `frame ${i + 1} tunnel chain`);
      // the identifying numbers tshark reads (the TEID changes with the direction: compared on the first frame only)
      if (w.name !== 'gtp-u') assert.equal(theirs[i].key, keys.join(','), `frame ${i + 1} tunnel key`);
    }
    if (w.name === 'gtp-u') assert.equal(theirs[0].key, String((w.tunnel[0] as { teid: number }).teid));
  });
}

test('VXLAN made by the kernel: two VNIs carrying the same inner 4-tuple are two connections, each with its own story', async () => {
  const res = await analyze([VXLAN]);
  const tcp = res.connections;
  assert.equal(tcp.length, 2);
  for (const r of tcp) {
    assert.equal(`${r.orig.ip}:${r.orig.port} > ${r.resp.ip}:${r.resp.port}`, '10.42.0.1:40000 > 10.42.0.2:8080');
  }
  assert.deepEqual(tcp.map((r) => r.tunnel?.map((t) => t.vni)), [[42], [43]]);
  assert.deepEqual(tcp.map((r) => r.tunnel?.[0].type), ['vxlan', 'vxlan']);
  // VNI 42: the server closed with the request unread, its kernel reset; VNI 43: a normal close
  assert.deepEqual(tcp.map((r) => r.state), ['RSTR', 'SF']);
  assert.deepEqual(res.findings.map((f) => [f.rule, f.connection]), [['rst-with-unread-data', tcp[0].id]]);
  assert.deepEqual(tcp[0].tunnel?.[0], { type: 'vxlan', vni: 42, outer: ['192.0.2.11', '192.0.2.12'] });
  assert.deepEqual(tcp[1].tunnel?.[0], { type: 'vxlan', vni: 43, outer: ['192.0.2.21', '192.0.2.22'] });
});

test('VXLAN made by the kernel: every frame matches tshark (inner addresses, TCP fields, VNI)', requires('tshark'), async () => {
  const theirs = tsharkRows(VXLAN);
  const ours = await ourRows(VXLAN);
  assert.equal(ours.length, theirs.length);
  let tcp = 0;
  for (let i = 0; i < ours.length; i++) {
    assert.equal(ours[i].tcp, theirs[i].tcp, `frame ${i + 1}`);
    if (ours[i].tcp !== '') {
      tcp++;
      assert.equal(ours[i].inner, theirs[i].inner, `frame ${i + 1}`);
      assert.deepEqual(theirs[i].kinds, ['vxlan']);
    }
  }
  assert.ok(tcp >= 16, `${tcp} TCP frames`);
});

test('the CLI shows the tunnel: the table names it with the connection, JSON carries it', async () => {
  const t = await runCli(['analyze', VXLAN]);
  assert.equal(t.code, 0);
  assert.match(t.stdout, /\(in vxlan vni 42/);
  const flows = await runCli(['flows', VXLAN]);
  assert.match(flows.stdout, /10\.42\.0\.2:8080 \(in vxlan vni 42 192\.0\.2\.11-192\.0\.2\.12\)/);
  assert.match(flows.stdout, /10\.42\.0\.2:8080 \(in vxlan vni 43 192\.0\.2\.21-192\.0\.2\.22\)/);
  const j = JSON.parse((await runCli(['flows', '-f', 'json', VXLAN])).stdout) as { connections: { tunnel: unknown }[] };
  assert.deepEqual(j.connections.map((c) => c.tunnel), [
    [{ type: 'vxlan', vni: 42, outer: ['192.0.2.11', '192.0.2.12'] }],
    [{ type: 'vxlan', vni: 43, outer: ['192.0.2.21', '192.0.2.22'] }],
  ]);
});

// ---------- hostile tunnels ----------

/** One IPv4 frame around `payload` (protocol `proto`), A to B. */
function frame4(proto: number, payload: Buffer): Buffer {
  return Buffer.concat([eth(true, 0x0800), ipv4([192, 0, 2, 1], [192, 0, 2, 2], proto, payload.length), payload]);
}

async function decodeOne(data: Buffer): Promise<DecodeResult> {
  const file = join(tmp, 'one.pcap');
  writePcap(file, [{ tsSec: 1, tsUsec: 0, data, origLen: data.length }]);
  const [row] = await ourRows(file);
  return row.result;
}

test('a GENEVE header whose option length runs past the packet is a counted bad-tunnel-header, never a crash', async () => {
  const inner = readPcap(BASE_V4)[0].data;
  const g = Buffer.alloc(8);
  g[0] = 0x3f; // 63 x 4 bytes of options: far past the frame
  g.writeUInt16BE(0x6558, 2);
  const frame = frame4(17, Buffer.concat([udp(1, 6081, 8 + inner.length), g, inner]));
  assert.equal(await decodeOne(frame), DecodeResult.BadTunnelHeader);
  // the same with an honest option length decodes
  g[0] = 0;
  assert.equal(await decodeOne(frame4(17, Buffer.concat([udp(1, 6081, 8 + inner.length), g, inner]))), DecodeResult.Tcp);
});

test('a GTP-U extension header chain that runs past the message is bad-tunnel-header', async () => {
  const ip = readPcap(BASE_V4)[0].data.subarray(14);
  const h = Buffer.alloc(12);
  h[0] = 0x34;
  h[1] = 0xff;
  h.writeUInt16BE(4 + 4 + ip.length, 2);
  h[11] = 0x85;
  const ext = Buffer.from([0xff, 0, 0, 0]); // 255 x 4 bytes: past the end
  assert.equal(await decodeOne(frame4(17, Buffer.concat([udp(2152, 2152, 16 + ip.length), h, ext, ip]))), DecodeResult.BadTunnelHeader);
});

test('a GRE loop (IPv4 in GRE in IPv4 ... 12 deep) stops at the depth limit, counted as tunnel-too-deep', async () => {
  let pkt: Buffer = readPcap(BASE_V4)[0].data.subarray(14);
  for (let i = 0; i < 12; i++) {
    const g = gre(0x0800, {}, pkt);
    pkt = Buffer.concat([ipv4([192, 0, 2, 1], [192, 0, 2, 2], 47, g.length), g]);
  }
  assert.equal(await decodeOne(Buffer.concat([eth(true, 0x0800), pkt])), DecodeResult.TunnelTooDeep);
  const res = await analyze([join(tmp, 'one.pcap')]);
  assert.deepEqual(res.stats.skipped, { 'tunnel-too-deep': 1 });
  // eight levels are opened
  pkt = readPcap(BASE_V4)[0].data.subarray(14);
  for (let i = 0; i < 8; i++) {
    const g = gre(0x0800, {}, pkt);
    pkt = Buffer.concat([ipv4([192, 0, 2, 1], [192, 0, 2, 2], 47, g.length), g]);
  }
  assert.equal(await decodeOne(Buffer.concat([eth(true, 0x0800), pkt])), DecodeResult.Tcp);
});

test('a UDP datagram to a tunnel port that is not that tunnel stays plain not-tcp', async () => {
  // VXLAN without the I flag, GTP echo request, GENEVE version 1
  const junk = Buffer.alloc(16);
  assert.equal(await decodeOne(frame4(17, Buffer.concat([udp(1, 4789, 16), junk]))), DecodeResult.NotTcp);
  const echo = Buffer.from([0x32, 0x01, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0]);
  assert.equal(await decodeOne(frame4(17, Buffer.concat([udp(2152, 2152, echo.length), echo]))), DecodeResult.NotTcp);
  const g1 = Buffer.alloc(8);
  g1[0] = 0x40;
  assert.equal(await decodeOne(frame4(17, Buffer.concat([udp(1, 6081, 8), g1]))), DecodeResult.NotTcp);
});

// ---------- outer fragments ----------

/** The outer IPv4 packet of an Ethernet frame cut into fragments of at most `size` payload bytes (a multiple of 8). */
function fragments(frame: Buffer, size: number): Buffer[] {
  const ip = frame.subarray(14);
  const ihl = (ip[0] & 15) * 4;
  const payload = ip.subarray(ihl, ip.readUInt16BE(2));
  const out: Buffer[] = [];
  for (let off = 0; off < payload.length; off += size) {
    const part = payload.subarray(off, off + size);
    const h = ipv4([...ip.subarray(12, 16)], [...ip.subarray(16, 20)], ip[9], part.length, ip.readUInt16BE(4));
    h.writeUInt16BE(((off + size < payload.length ? 0x2000 : 0) | (off / 8)), 6);
    h.writeUInt16BE(0, 10);
    out.push(Buffer.concat([frame.subarray(0, 14), h, part]));
  }
  return out;
}

test('outer IPv4 fragments (reordered, duplicated) are put back together: the same story; overlaps are dropped, counted', async () => {
  const w = WRAPS.find((x) => x.name === 'gre-ip')!;
  const recs = wrapCapture(w);
  const out: Rec[] = [];
  recs.forEach((r, i) => {
    // the snaplen-cut frame as it was on the wire (its missing bytes as zeros): every fragment is whole
    const parts = fragments(r.data.length < r.origLen ? Buffer.concat([r.data, Buffer.alloc(r.origLen - r.data.length)]) : r.data, 16);
    assert.ok(parts.length >= 3);
    // every other packet's fragments arrive last first, the last one twice
    const rev = parts.slice().reverse();
    const order = i % 2 === 0 ? parts : [rev[0], ...rev];
    for (const p of order) out.push({ tsSec: r.tsSec, tsUsec: r.tsUsec, data: p, origLen: p.length });
  });
  const file = join(tmp, 'fragments.pcap');
  writePcap(file, out);
  const base = await told(BASE_V4);
  const got = await told(file);
  // frame numbers differ (each packet is now several frames); the rule, severity and connection story hold
  assert.deepEqual((got.findings as { rule: string; severity: string }[]).map((f) => [f.rule, f.severity]),
    (base.findings as { rule: string; severity: string }[]).map((f) => [f.rule, f.severity]));
  assert.deepEqual((got.records as { state: string; history: string; origBytes: number }[]).map((r) => [r.state, r.history, r.origBytes]),
    (base.records as { state: string; history: string; origBytes: number }[]).map((r) => [r.state, r.history, r.origBytes]));
  const res = await analyze([file]);
  assert.equal(res.stats.tcpSegments, recs.length);
  assert.equal((res.stats.skipped['reassembled-fragment'] ?? 0) + res.stats.tcpSegments, out.length);
  assert.equal(res.stats.skipped['ip-fragment'], undefined);

  // an overlapping fragment (RFC 5722): that datagram is dropped, its fragments counted as ip-fragment
  const parts = fragments(recs[0].data, 16);
  const overlap = Buffer.from(parts[1]);
  overlap.writeUInt16BE(0x2000 | 1, 20); // offset 8 bytes: overlaps the first fragment
  const bad = join(tmp, 'overlap.pcap');
  writePcap(bad, [parts[0], overlap, ...parts.slice(1)].map((data) => ({ tsSec: 1, tsUsec: 0, data, origLen: data.length })));
  const r2 = await analyze([bad]);
  assert.equal(r2.stats.tcpSegments, 0);
  assert.equal(r2.stats.skipped['ip-fragment'], parts.length + 1);
});
