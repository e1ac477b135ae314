/**
 * Hostile input (issue 14): a gzip-compressed capture cut short (`head -c` of
 * a .pcap.gz). Every bundled capture, gzipped and cut at 40 % and 85 % of
 * its compressed length, through the built CLI: exit 3, the
 * cut named, and everything before it reported: the records and findings are
 * exactly those of a plain capture holding the whole packets that the
 * compressed bytes before the cut decompress to (zlib's sync flush).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { CAPTURES, runCli } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'rstscope-gzcut-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** The whole pcap records in the bytes `cut` decompresses to: file header and records up to the last complete one. */
function wholePrefix(cut: Buffer): { bytes: Buffer; packets: number } {
  const b = gunzipSync(cut, { finishFlush: constants.Z_SYNC_FLUSH });
  let o = 24;
  let n = 0;
  while (o + 16 <= b.length && o + 16 + b.readUInt32LE(o + 8) <= b.length) {
    o += 16 + b.readUInt32LE(o + 8);
    n++;
  }
  return { bytes: b.subarray(0, Math.max(o, 24)), packets: n };
}

test('a .pcap.gz cut short (head -c) of every bundled capture: exit 3, and what came before the cut is reported as a plain capture of it would be', async () => {
  let runs = 0;
  for (const name of readdirSync(CAPTURES).filter((f) => f.endsWith('.pcap'))) {
    const gz = gzipSync(readFileSync(join(CAPTURES, name)));
    for (const part of [0.4, 0.85]) {
      const at = Math.floor(gz.length * part);
      const cutFile = join(tmp, `${basename(name, '.pcap')}-${at}.pcap.gz`);
      writeFileSync(cutFile, gz.subarray(0, at));
      const prefix = wholePrefix(gz.subarray(0, at));
      if (prefix.bytes.length < 24) continue; // not even the file header: nothing to report
      const plainFile = join(tmp, `${basename(name, '.pcap')}-${at}.pcap`);
      writeFileSync(plainFile, prefix.bytes);
      const [cut, plain] = await Promise.all([runCli(['analyze', '-f', 'json', cutFile]), runCli(['analyze', '-f', 'json', plainFile])]);
      const what = `${name} cut at ${at} of ${gz.length} bytes`;
      assert.equal(cut.code, 3, `${what}: ${cut.stderr}`);
      assert.match(cut.stderr, /gzip stream is cut short/, what);
      const [a, b] = [JSON.parse(cut.stdout), JSON.parse(plain.stdout)];
      assert.equal(a.inputs[0].packets, prefix.packets, what);
      assert.deepEqual(a.connections, b.connections, what);
      assert.deepEqual(a.findings, b.findings, what);
      runs++;
    }
  }
  assert.ok(runs >= 30, `${runs} cuts checked`);
});
