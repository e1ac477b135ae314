/**
 * Where the capture was taken (issue 14, item 7): at an endpoint or mid-path,
 * from the TTLs and the handshake halves (src/report/position.ts), per record
 * (`ttl`, `handshakeMs`) and per input (`inputs[].vantage.position`, the
 * table's `vantage:` line, the report's header).
 * - every bundled capture (made by the kernel, on loopback or a veth) and the
 *   kernel-made VXLAN capture: at an endpoint (both ends on loopback);
 * - normal-close.pcap rewritten byte by byte as seen mid-path (addresses off
 *   loopback, both sides' TTLs lowered by routers, 20 ms before the SYN-ACK
 *   and 15 ms before the ACK): mid-path; the same with the client's TTL
 *   untouched and its ACK at once: at the originator's end; the two signs
 *   disagreeing: unknown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze } from '../src/analysis/analyze.js';
import { CAPTURES, FIXTURES, runCli } from './helpers.js';
import { fixChecksums, IP, pcapRecords, shiftUs, srcPortOf, writePcap } from './pcap-records.js';

const tmp = mkdtempSync(join(tmpdir(), 'rstscope-vantage-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const NORMAL = join(CAPTURES, 'normal-close.pcap');
/** normal-close.pcap's client port (frame 1 is its SYN) */
const CLIENT_PORT = 35836;

/**
 * normal-close.pcap as captured elsewhere: client 10.0.0.1 and server
 * 10.0.0.2 (no longer one host), each side's TTL, and the handshake's second
 * and third segments later by `synAckUs` and `ackUs` (everything after them too).
 */
function moved(name: string, ttl: { client: number; server: number }, synAckUs: number, ackUs: number): string {
  const { header, recs } = pcapRecords(NORMAL);
  const out = recs.map((r, i) => {
    const c = Buffer.from(r);
    const fromClient = srcPortOf(c) === CLIENT_PORT;
    c.writeUInt32BE(fromClient ? 0x0a000001 : 0x0a000002, IP + 12);
    c.writeUInt32BE(fromClient ? 0x0a000002 : 0x0a000001, IP + 16);
    c[IP + 8] = fromClient ? ttl.client : ttl.server;
    if (i >= 1) shiftUs(c, synAckUs);
    if (i >= 2) shiftUs(c, ackUs);
    fixChecksums(c);
    return c;
  });
  return writePcap(join(tmp, name), header, out);
}

test('bundled captures (loopback or namespaces, made by the kernel) and the kernel-made VXLAN capture: taken at an endpoint, both ends on loopback', async () => {
  const files = readdirSync(CAPTURES).filter((f) => f.endsWith('.pcap')).map((f) => join(CAPTURES, f));
  files.push(join(FIXTURES, 'tunnels/vxlan-two-vnis.pcap'));
  const res = await analyze(files, { perFile: true });
  let handshakes = 0;
  for (const inp of res.inputs) {
    const p = inp.vantage!.position;
    assert.equal(p.at, 'endpoint', inp.file);
    assert.equal(p.midPath + p.unknown, 0, inp.file);
    // one host talking to itself is both ends; between namespaces (10.77.0.x) the handshake halves tell which
    // end (half-open.pcap: the server 6 ms away from the capture, the client's ACK at once)
    const recs = res.connections.filter((c) => c.input === res.inputs.indexOf(inp));
    if (recs.every((c) => c.orig.ip.startsWith('127.'))) {
      assert.equal(p.both, recs.length, inp.file);
      if (p.handshakeMs !== null) assert.ok(p.handshakeMs.resp[1] < 1 && p.handshakeMs.orig[1] < 1, `${inp.file}: loopback halves under 1 ms`);
    } else assert.equal(p.orig + p.resp + p.both, recs.length, inp.file);
    assert.deepEqual(p.ttl.orig, [64], inp.file);
    handshakes += p.handshakes;
  }
  assert.ok(handshakes >= 15, `${handshakes} whole handshakes seen`);
  const rec = res.connections.find((c) => c.input === files.indexOf(NORMAL))!;
  assert.deepEqual(rec.ttl, { orig: [64, 64], resp: [64, 64] });
  assert.deepEqual(rec.handshakeMs, { resp: 0.016, orig: 0.015 }, 'frames 1-3 at 0, 16 and 31 us');
  // the report's header says it in words: both ends (loopback)
  const md = await runCli(['report', '--format', 'md', NORMAL]);
  assert.match(md.stdout, /taken at an endpoint: at both ends of all 1 connection\(s\) \(one host talking to itself\) \(TTLs originators 64, responders 64; 1 handshake\(s\): SYN to SYN-ACK 0\.016 ms, SYN-ACK to ACK 0\.015 ms\)/);
  // the table keeps quiet about an endpoint capture with nothing else to say
  assert.doesNotMatch((await runCli(['analyze', NORMAL])).stdout, /vantage:/);
});

test('normal-close.pcap as seen mid-path (TTLs lowered on both sides, both handshake halves 15-20 ms): mid-path, with the evidence', async () => {
  const mid = moved('mid.pcap', { client: 61, server: 58 }, 20000, 15000);
  const res = await analyze([mid]);
  const rec = res.connections[0];
  assert.deepEqual(rec.ttl, { orig: [61, 61], resp: [58, 58] });
  assert.deepEqual(rec.handshakeMs, { resp: 20.016, orig: 15.015 });
  const p = res.inputs[0].vantage!.position;
  assert.deepEqual(p, {
    at: 'mid-path', orig: 0, resp: 0, both: 0, sameHost: 0, midPath: 1, unknown: 0, ttl: { orig: [61], resp: [58] },
    handshakes: 1, handshakeMs: { resp: [20.016, 20.016], orig: [15.015, 15.015] },
  });
  // the findings are those of the capture taken at the host
  const base = await analyze([NORMAL]);
  assert.deepEqual(res.findings.map((f) => [f.rule, f.frame]), base.findings.map((f) => [f.rule, f.frame]));
  const table = await runCli(['analyze', '--width', '400', mid]);
  assert.match(table.stdout, /vantage: both directions of all 1 connection\(s\); no capture loss seen; taken mid-path \(between the hosts\) for all 1 connection\(s\) \(TTLs originators 61, responders 58; 1 handshake\(s\): SYN to SYN-ACK 20\.016 ms, SYN-ACK to ACK 15\.015 ms\)/);
  const json = JSON.parse((await runCli(['analyze', '-f', 'json', mid])).stdout);
  assert.equal(json.inputs[0].vantage.position.at, 'mid-path');
  assert.deepEqual(json.connections[0].handshakeMs, { resp: 20.016, orig: 15.015 });
});

test('at the client: its TTL untouched and its ACK at once, the server 20 ms and six routers away: at the originator\'s end', async () => {
  const res = await analyze([moved('client-end.pcap', { client: 64, server: 58 }, 20000, 0)]);
  const p = res.inputs[0].vantage!.position;
  assert.equal(p.at, 'endpoint');
  assert.equal(p.orig, 1);
  assert.deepEqual(res.connections[0].handshakeMs, { resp: 20.016, orig: 0.015 });
  // at the server: the mirror image
  const srv = await analyze([moved('server-end.pcap', { client: 57, server: 128 }, 0, 30000)]);
  assert.equal(srv.inputs[0].vantage!.position.at, 'endpoint');
  assert.equal(srv.inputs[0].vantage!.position.resp, 1);
});

test('the signs disagree (the client\'s TTL untouched, yet both halves long): unknown, and the sentence says why', async () => {
  const f = moved('disagree.pcap', { client: 64, server: 58 }, 20000, 15000);
  const res = await analyze([f]);
  const p = res.inputs[0].vantage!.position;
  assert.equal(p.at, 'unknown');
  assert.equal(p.unknown, 1);
  const md = (await runCli(['report', '--format', 'md', f])).stdout;
  assert.match(md, /position not inferred for all 1 connection\(s\): no untouched TTL and no whole handshake to tell by, or the two disagree/);
});
