/**
 * Offload artefacts change no finding (issue 14, item 6). Every bundled
 * capture (real kernel frames, Ethernet IPv4) rewritten byte by byte
 * (test/offload-variants.ts) as a capture taken where the NIC or the stack
 * segments, coalesces or checksums for the host:
 * - TSO/GSO/GRO super-segments: consecutive data segments merged up to 64 KB,
 *   and beyond with IPv4 total length 0; the reverse, data split into
 *   1448-byte pieces as on the wire;
 * - IPv4 total length 0 on every frame;
 * - TCP checksums zeroed or garbage.
 * The findings are the original's (rule, severity, actor, and a key frame
 * that carries the original key frame), and so are the records' Zeek fields
 * where the segments are the same; tshark decodes the total-length-0 frames
 * to the same TCP lengths as the originals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { analyze } from '../src/analysis/analyze.js';
import type { Finding } from '../src/rules/types.js';
import { CAPTURES, runCli } from './helpers.js';
import { edited, garbageChecksum, merged, split, zeroChecksum, zeroTotalLength, type Variant } from './offload-variants.js';
import { requires } from './requires.js';

const tmp = mkdtempSync(join(tmpdir(), 'rstscope-offload-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const FILES = readdirSync(CAPTURES).filter((f) => f.endsWith('.pcap')).map((f) => join(CAPTURES, f));

/** rule, severity and actor of each finding, and its key frame in original numbering (any it carries) */
function shape(findings: Finding[], origin?: number[][]): { what: string; frames: number[] }[] {
  return findings.map((f) => ({ what: `${f.rule}/${f.severity}/${f.actor}`, frames: origin ? origin[f.frame - 1] : [f.frame] }));
}

/** The variant's findings equal the original's: same stories, each keyed on a frame carrying the original key frame. */
async function sameFindings(name: string, make: (file: string, out: string) => Variant): Promise<number> {
  let changed = 0;
  for (const file of FILES) {
    const v = make(file, join(tmp, `${name}-${basename(file)}`));
    if (v.origin.some((o) => o.length > 1) || v.origin.length !== v.origin.filter((o) => o.length === 1).length) changed++;
    const [a, b] = [await analyze([file]), await analyze([v.file])];
    const want = shape(a.findings);
    const got = shape(b.findings, v.origin);
    assert.deepEqual(got.map((g) => g.what), want.map((w) => w.what), `${name} ${basename(file)}`);
    got.forEach((g, i) => assert.ok(g.frames.includes(want[i].frames[0]), `${name} ${basename(file)}: ${g.what} at frames ${g.frames}, not ${want[i].frames[0]}`));
    assert.equal(b.connections.length, a.connections.length, `${name} ${basename(file)}`);
    b.connections.forEach((r, i) => {
      const o = a.connections[i];
      assert.deepEqual([r.state, r.origBytes, r.respBytes, r.missedBytes], [o.state, o.origBytes, o.respBytes, o.missedBytes], `${name} ${basename(file)}`);
    });
  }
  return changed;
}

test('TSO/GSO/GRO super-segments up to 64 KB (consecutive data segments merged): the same findings and records', async () => {
  // loopback frames are up to 64 KB already: split them to 1448 bytes first, then merge the pieces back up to 64 KB
  let merges = 0;
  await sameFindings('gro', (file, out) => {
    const wire = split(file, `${out}.wire.pcap`, 1448);
    const m = merged(wire.file, out, 65535 - 52);
    merges += m.origin.filter((o) => o.length > 1).length;
    return { file: m.file, origin: m.origin.map((o) => [...new Set(o.flatMap((n) => wire.origin[n - 1]))]) };
  });
  assert.ok(merges >= 20, `${merges} super-segments made`);
});

test('super-segments beyond 64 KB (IPv4 total length 0, the length from the frame), and data split into 1448-byte pieces as on the wire: the same findings', async () => {
  let big = 0;
  await sameFindings('gso', (file, out) => {
    const m = merged(file, out, 1 << 20);
    big += m.origin.filter((o) => o.length > 1).length;
    return m;
  });
  assert.ok(big >= 5, `${big} super-segments beyond 64 KB`);
  await sameFindings('wire', (file, out) => split(file, out, 1448));
});

test('IPv4 total length 0 on every frame, TCP checksums zeroed or garbage: the same findings', async () => {
  await sameFindings('total0', (file, out) => edited(file, out, zeroTotalLength));
  await sameFindings('csum0', (file, out) => edited(file, out, zeroChecksum));
  await sameFindings('csumx', (file, out) => edited(file, out, garbageChecksum));
});

test('tshark decodes the total-length-0 frames to the same TCP lengths and flags as the originals', { ...requires('tshark') }, () => {
  const fields = (f: string): string => execFileSync('tshark', ['-r', f, '-T', 'fields', '-e', 'tcp.len', '-e', 'tcp.seq_raw', '-e', 'tcp.flags'], { encoding: 'utf8' });
  for (const file of FILES) {
    const v = edited(file, join(tmp, `tshark-${basename(file)}`), zeroTotalLength);
    assert.equal(fields(v.file), fields(file), basename(file));
  }
});

test('CLI: a super-segment beyond 64 KB with total length 0 is analyzed, not counted as a bad IP header', async () => {
  const v = merged(join(CAPTURES, 'abortive-close.pcap'), join(tmp, 'cli-big.pcap'), 1 << 20);
  assert.ok(v.origin.some((o) => o.length > 1));
  const doc = JSON.parse((await runCli(['analyze', '-f', 'json', v.file])).stdout);
  assert.equal(doc.stats.skipped['bad-ip-header'] ?? 0, 0);
  assert.equal(doc.stats.tcpSegments, doc.stats.frames);
  assert.deepEqual(doc.findings.map((f: Finding) => f.rule), ['abortive-close']);
});
