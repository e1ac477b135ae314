/**
 * One direction only (issue 14, item 3): every bundled capture cut to the
 * packets of one side (what an asymmetric route or a one-sided tap gives).
 * What one side proves is told (a refusal from its RST/ACK alone); nothing
 * that needs the missing side is asserted: no finding above info except
 * refused, and every finding on a connection whose other direction is proven
 * missing says so (evidence `seen`, and in words).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze } from '../src/analysis/analyze.js';
import { CAPTURES, FIXTURES } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'rstscope-one-sided-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** TCP source port of an IPv4 or IPv6 packet (no extension headers) at `ip` of the frame, or -1. */
function srcPort(f: Buffer, ip: number): number {
  const v = f[ip] >> 4;
  if (v === 4) return f.readUInt16BE(ip + (f[ip] & 15) * 4);
  if (v === 6) return f.readUInt16BE(ip + 40);
  return -1;
}

/**
 * The capture (classic little-endian pcap of Ethernet or raw IP frames,
 * micro- or nanosecond) cut to the packets of one side: those from the first frame's
 * source port (the client's) or the others (the server's). Headers and
 * records are copied as they are.
 */
function oneSide(file: string, client: boolean): string {
  const b = readFileSync(file);
  assert.ok(b.readUInt32LE(0) === 0xa1b2c3d4 || b.readUInt32LE(0) === 0xa1b23c4d, `${file}: little-endian pcap`);
  const link = b.readUInt32LE(20);
  assert.ok(link === 1 || link === 101, `${file}: Ethernet or raw IP`);
  const ip = link === 1 ? 14 : 0;
  const parts: Buffer[] = [b.subarray(0, 24)];
  let first = -2;
  for (let o = 24; o + 16 <= b.length;) {
    const cap = b.readUInt32LE(o + 8);
    const data = b.subarray(o + 16, o + 16 + cap);
    const port = srcPort(data, ip);
    if (first === -2) first = port;
    if ((port === first) === client) parts.push(b.subarray(o, o + 16 + cap));
    o += 16 + cap;
  }
  const out = join(tmp, `${file.slice(file.lastIndexOf('/') + 1, -5)}-${client ? 'client' : 'server'}.pcap`);
  writeFileSync(out, Buffer.concat(parts));
  return out;
}

// a self-connect has one endpoint: its packets cannot be split by side (test/self-connect.test.ts covers it)
const captures = readdirSync(CAPTURES).filter((f) => f.endsWith('.pcap') && f !== 'self-connect.pcap').map((f) => join(CAPTURES, f));

test('the bundled captures are all here to be cut', () => {
  assert.ok(captures.length >= 20, `${captures.length} captures`);
});

for (const file of captures) {
  const name = file.slice(file.lastIndexOf('/') + 1);
  for (const client of [true, false]) {
    test(`${name}, ${client ? "the client's" : "the server's"} packets only: nothing above info but a refusal, and one-sided findings say so`, async () => {
      const res = await analyze([oneSide(file, client)]);
      const byId = new Map(res.connections.map((r) => [r.id, r]));
      for (const f of res.findings) {
        const rec = byId.get(f.connection)!;
        assert.ok(rec.seen !== undefined, 'a one-sided capture gives one-sided records');
        if (f.rule === 'refused') continue;
        if (f.evidence.seen !== undefined) {
          assert.equal(f.severity, 'info', `${f.rule} at frame ${f.frame}: ${f.summary}`);
          assert.match(f.summary, /The capture shows only the packets of/);
        } else {
          // the other direction is not proven missing (nothing the seen side sent answers it): only what that side
          // did, as information (an unanswered SYN; an attempt it ended itself with a bare RST)
          assert.ok((f.rule === 'syn-unanswered' || (f.rule === 'abortive-close' && f.evidence.kind === 'handshake-abandoned')) && f.severity === 'info',
            `${f.rule}/${f.severity} at frame ${f.frame}: ${f.summary}`);
        }
      }
    });
  }
}

test('a refusal seen from the server side only (its RST/ACK, seq 0) is still a refusal, told as such', async () => {
  const res = await analyze([oneSide(join(CAPTURES, 'refused.pcap'), false)]);
  assert.equal(res.findings.length, 1);
  const [f] = res.findings;
  assert.equal(f.rule, 'refused');
  assert.equal(f.severity, 'warning');
  assert.equal(f.actor, 'server');
  assert.match(f.summary, /answered a connection attempt from the client .* with RST\/ACK \(frame 1; sequence number 0 and ack \d+: the answer to a SYN with ISN \d+, which the capture does not have\)/);
  assert.equal(f.evidence.seen, 'orig-only');
  // the full capture: the usual refusal, with its SYN
  const full = await analyze([join(CAPTURES, 'refused.pcap')]);
  assert.deepEqual(full.findings.map((x) => [x.rule, x.evidence.seen]), [['refused', undefined]]);
});

test("the client's side of a write after the server closed: the RST is not blamed on anyone's bug, the capture cannot show it", async () => {
  const res = await analyze([oneSide(join(CAPTURES, 'write-after-peer-close-bug.pcap'), false)]);
  assert.deepEqual(res.findings.map((f) => [f.rule, f.severity, f.evidence.seen]), [['abortive-close', 'info', 'resp-only']]);
  const full = await analyze([join(CAPTURES, 'write-after-peer-close-bug.pcap')]);
  assert.deepEqual(full.findings.map((f) => [f.rule, f.severity]), [['write-after-peer-close', 'error']]);
});

test('a record a timer split off that only one side continued is not a one-sided capture (avast.pcap: the server\'s probes after 372 s idle)', async () => {
  const res = await analyze([join(FIXTURES, 'public/nDPI/avast.pcap')]);
  const probes = res.findings.filter((f) => f.rule === 'keepalive-reset');
  assert.ok(probes.length >= 2);
  for (const f of probes) assert.equal(f.evidence.seen, undefined);
});
