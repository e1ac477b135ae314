/**
 * A set of files is one capture (src/capture/capture-set.ts): several files
 * are merged by timestamp, connections, timers and findings continue across
 * files, and every frame reference names its file and that file's frame.
 * Checked in-process over every bundled capture split at every packet
 * boundary (and interleaved frame by frame, as two interfaces would be), and
 * end to end with the built CLI on a ring made by editcap
 * (test/fixtures/ring: captures/write-after-peer-close-sigpipe.pcap split by
 * `editcap -F pcap -c 2`), standard input and gzip.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, test } from 'node:test';
import { FrameMap, readCaptureSet } from '../src/capture/capture-set.js';
import { analyze } from '../src/analysis/analyze.js';
import { localizeFinding, localizeFindingGeneric, localizeRecord, localizeRecordGeneric, localizeText, localizeTextRegex } from '../src/analysis/frame-refs.js';
import { CAPTURES, FIXTURES, runCli, ZEEK_TRACES } from './helpers.js';
import { pcapRecords } from './pcap-records.js';

const dir = mkdtempSync(join(tmpdir(), 'rstscope-set-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const RING = join(FIXTURES, 'ring');
const RING_FILES = readdirSync(RING).filter((f) => f.endsWith('.pcap')).sort().map((f) => join('test/fixtures/ring', f));
const SIGPIPE = join(CAPTURES, 'write-after-peer-close-sigpipe.pcap');

const records = pcapRecords;

/** microseconds of a record */
const usOf = (r: Buffer): number => r.readUInt32LE(0) * 1e6 + r.readUInt32LE(4);

/** The expected FrameMap of a split: which file and local frame each original frame lands in. */
function expectedMap(paths: string[], fileOf: number[]): FrameMap {
  const m = new FrameMap(paths);
  const seen = paths.map(() => 0);
  let last = -1;
  fileOf.forEach((file, i) => {
    seen[file]++;
    if (file !== last) m.add(i + 1, file, seen[file]);
    last = file;
  });
  return m;
}

/**
 * Writes the records of `file` into several files (record i to file fileOf[i])
 * and checks that the set gives the unsplit file's records and findings, with
 * every frame named by its file and that file's frame.
 */
async function checkSplit(file: string, fileOf: number[], tag: string): Promise<void> {
  const { header, recs } = records(file);
  const n = Math.max(...fileOf) + 1;
  const paths = Array.from({ length: n }, (_, k) => join(dir, `${basename(file, '.pcap')}-${tag}-${k}.pcap`));
  paths.forEach((p, k) => writeFileSync(p, Buffer.concat([header, ...recs.filter((_, i) => fileOf[i] === k)])));
  const whole = await analyze([file]);
  const set = await analyze(paths);
  const map = expectedMap(paths, fileOf);
  const what = `${basename(file)} ${tag}`;
  assert.equal(set.inputs.length, 1, what);
  assert.equal(set.inputs[0].packets, recs.length, what);
  assert.deepEqual(set.connections, whole.connections.map((r) => localizeRecord(r, map)), what);
  assert.deepEqual(set.findings, whole.findings.map((f) => localizeFinding(f, map)), what);
  assert.deepEqual(set.stats, whole.stats, what);
}

const bundled = readdirSync(CAPTURES).filter((f) => f.endsWith('.pcap')).sort().map((f) => join(CAPTURES, f));

test('every bundled capture split at every packet boundary gives the unsplit findings, frames named by file', async () => {
  let splits = 0;
  for (const file of bundled) {
    const { recs } = records(file);
    // a split keeps the order only when no frame is earlier than the one before it
    if (recs.some((r, i) => i > 0 && usOf(r) < usOf(recs[i - 1]))) continue;
    for (let k = 1; k < recs.length; k++) {
      await checkSplit(file, recs.map((_, i) => (i < k ? 0 : 1)), `at${k}`);
      splits++;
    }
  }
  assert.ok(splits > 50, `${splits} splits checked`);
});

test('frames interleaved over two files (two interfaces) merge back into one capture by timestamp', async () => {
  let checked = 0;
  for (const file of bundled) {
    const { recs } = records(file);
    // strictly increasing times: the merge order is the original order
    if (recs.some((r, i) => i > 0 && usOf(r) <= usOf(recs[i - 1]))) continue;
    await checkSplit(file, recs.map((_, i) => i % 2), 'odd-even');
    await checkSplit(file, recs.map((_, i) => (i % 3 === 0 ? 0 : i % 3 === 1 ? 1 : 2)), 'three-way');
    checked++;
  }
  assert.ok(checked >= 10, `${checked} captures interleaved`);
});

test('a ring of many files opens them one or two at a time (memory follows live connections, not files)', async () => {
  const { header, recs } = records(join(CAPTURES, 'keepalive-normal.pcap'));
  // 300 one-packet files: the capture's records repeated with later times
  const paths: string[] = [];
  const base = recs[0].readUInt32LE(0);
  for (let i = 0; i < 300; i++) {
    const r = Buffer.from(recs[i % recs.length]);
    r.writeUInt32LE(base + i, 0);
    const p = join(dir, `many-${String(i).padStart(3, '0')}.pcap`);
    writeFileSync(p, Buffer.concat([header, r]));
    paths.push(p);
  }
  const fds = () => readdirSync('/proc/self/fd').length;
  const before = fds();
  let most = 0;
  let frames = 0;
  const map = new FrameMap(paths);
  const results = await readCaptureSet(paths, (f) => {
    frames++;
    assert.equal(f.frameNo, frames);
    most = Math.max(most, fds() - before);
  }, map);
  assert.equal(frames, 300);
  assert.ok(most <= 3, `${most} files open at once`);
  assert.deepEqual(results.map((r) => r.info.packets), paths.map(() => 1));
  const where = (merged: number) => (map.locate(merged) ? [map.file, map.frame] : null);
  assert.deepEqual(where(123), [122, 1]);
  map.pruneBefore(200);
  assert.equal(where(150), null);
  assert.deepEqual(where(250), [249, 1]);
});

test('CLI: the ring set reports the unsplit capture\'s finding, naming file#frame; --per-file keeps the old per-file answer', async () => {
  const whole = JSON.parse((await runCli(['analyze', '-f', 'json', SIGPIPE])).stdout);
  const r = await runCli(['analyze', '-f', 'json', ...RING_FILES]);
  assert.equal(r.code, 0, r.stderr);
  const set = JSON.parse(r.stdout);
  assert.deepEqual(set.findings.map((f: { rule: string; severity: string }) => [f.rule, f.severity]),
    whole.findings.map((f: { rule: string; severity: string }) => [f.rule, f.severity]));
  const f = set.findings[0];
  assert.equal(f.rule, 'write-after-peer-close');
  // the unsplit key frame 6 is the second frame of the third file; evidence 4, 5, 6 likewise
  assert.equal(f.frame, 2);
  assert.equal(f.file, RING_FILES[2]);
  assert.deepEqual(f.frames, [2, 1, 2]);
  assert.deepEqual(f.frameFiles, [RING_FILES[1], RING_FILES[2], RING_FILES[2]]);
  assert.equal(f.evidence.rstFrame, 2);
  assert.equal(f.evidence.rstFile, RING_FILES[2]);
  assert.match(f.summary, /FIN, frame ring_00001\.pcap#2\b.*\(frame ring_00002\.pcap#1\).*RST \(frame ring_00002\.pcap#2\)/);
  assert.equal(set.inputs.length, 1);
  assert.deepEqual(set.inputs[0].files.map((i: { file: string }) => i.file), RING_FILES);
  const c = set.connections[0];
  assert.deepEqual([c.firstFrame, c.firstFile, c.lastFrame, c.lastFile], [1, RING_FILES[0], 2, RING_FILES[2]]);
  // the table names the file of every frame
  const table = await runCli(['analyze', ...RING_FILES]);
  assert.match(table.stdout, /3 files as one capture: pcap, ETHERNET, 6 packets/);
  assert.match(table.stdout, /ring_00002\.pcap#2/);
  // each file on its own: what every earlier version said (a wrong half-open in the last file)
  const per = JSON.parse((await runCli(['analyze', '-f', 'json', '--per-file', ...RING_FILES])).stdout);
  assert.equal(per.inputs.length, 3);
  assert.deepEqual(per.findings.map((x: { rule: string; input: number }) => [x.rule, x.input]), [['half-open', 2]]);
});

test('CLI: a set gives the same bytes with --workers as in one thread (NDJSON and JSON)', async () => {
  for (const format of ['ndjson', 'json']) {
    const one = await runCli(['analyze', '-f', format, ...RING_FILES, ...bundled.slice(0, 4)]);
    assert.equal(one.code, 0, one.stderr);
    for (const w of format === 'ndjson' ? ['1', '3'] : ['2']) {
      const r = await runCli(['analyze', '-f', format, '--workers', w, ...RING_FILES, ...bundled.slice(0, 4)]);
      assert.equal(r.stdout, one.stdout, `${format} --workers ${w}`);
    }
  }
});

test('CLI: - reads standard input, plain or gzip; an empty one is exit 2, not a silent success', async () => {
  const bytes = readFileSync(SIGPIPE);
  const file = JSON.parse((await runCli(['analyze', '-f', 'json', SIGPIPE])).stdout);
  for (const input of [bytes, gzipSync(bytes)]) {
    const r = await runCli(['analyze', '-f', 'json', '-'], { input });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.inputs[0].file, '-');
    assert.deepEqual(doc.findings, file.findings);
    assert.deepEqual(doc.connections, file.connections);
  }
  const empty = await runCli(['analyze', '-'], { input: Buffer.alloc(0) });
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /-: the input is empty/);
  const twice = await runCli(['analyze', '-', '-']);
  assert.equal(twice.code, 2);
  assert.match(twice.stderr, /standard input\) can be given once/);
});

test('CLI: gzip files are read by their magic bytes, whatever their name; zstd says what to do', async () => {
  const plain = JSON.parse((await runCli(['analyze', '-f', 'json', SIGPIPE])).stdout);
  const gz = join(dir, 'capture-no-suffix');
  writeFileSync(gz, gzipSync(readFileSync(SIGPIPE)));
  const r = await runCli(['analyze', '-f', 'json', gz]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).findings, plain.findings);
  // a ring of gzip files (tcpdump -C -z gzip) is one capture too
  const ringGz = RING_FILES.map((f, i) => {
    const p = join(dir, `ring${i}.pcap.gz`);
    writeFileSync(p, gzipSync(readFileSync(f)));
    return p;
  });
  const rg = JSON.parse((await runCli(['analyze', '-f', 'json', ...ringGz])).stdout);
  assert.deepEqual(rg.findings.map((f: { rule: string; frame: number; file: string }) => [f.rule, f.frame, f.file]),
    [['write-after-peer-close', 2, ringGz[2]]]);
  const zst = join(dir, 'x.pcap.zst');
  writeFileSync(zst, Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]));
  const z = await runCli(['flows', zst]);
  assert.equal(z.code, 2);
  assert.match(z.stderr, /zstd-compressed.*zstd -d/);
});

test('CLI: a gzip stream cut short is exit 3, with everything before the cut analyzed', async () => {
  // a ~1 MB capture: the sigpipe connection's records repeated on new ports with later times
  const { header, recs } = records(SIGPIPE);
  const out: Buffer[] = [header];
  const t0 = recs[0].readUInt32LE(0);
  for (let k = 0; k < 2000; k++) {
    for (const rec of recs) {
      const r = Buffer.from(rec);
      r.writeUInt32LE(t0 + k, 0);
      // the client port (Ethernet 14 + IPv4 20: TCP source or destination port, whichever is the client's 58555)
      const tcp = 16 + 14 + 20;
      if (r.readUInt16BE(tcp) === 58555) r.writeUInt16BE(10000 + k, tcp);
      else r.writeUInt16BE(10000 + k, tcp + 2);
      out.push(r);
    }
  }
  const whole = gzipSync(Buffer.concat(out));
  const cut = join(dir, 'cut.pcap.gz');
  writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
  const r = await runCli(['analyze', '-f', 'json', cut]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /cut\.pcap\.gz: truncated at byte offset \d+ .*gzip stream is cut short/);
  const doc = JSON.parse(r.stdout);
  assert.ok(doc.inputs[0].packets > 1000 && doc.inputs[0].packets < 12000, `${doc.inputs[0].packets} packets before the cut`);
  assert.ok(doc.findings.length > 100);
});

test('localizeRecord (spelled out for the record) gives exactly what the generic walk gives, on every record of the bundled captures, the tunnels and a lossy one', async () => {
  const files = readdirSync(CAPTURES).filter((f) => f.endsWith('.pcap')).map((f) => join(CAPTURES, f));
  files.push(join(FIXTURES, 'tunnels/vxlan-two-vnis.pcap'), join(FIXTURES, 'tunnels/wrap-nested.pcap'),
    join(ZEEK_TRACES, 'miss_end_data.pcap'), join(ZEEK_TRACES, 'cwd-navigation.pcap'));
  const res = await analyze(files, { perFile: true });
  // frames 1-3 in a.pcap, 4 on in b.pcap (as its 1, 2, ...)
  const map = new FrameMap(['/x/a.pcap', '/x/b.pcap']);
  map.add(1, 0, 1);
  map.add(4, 1, 1);
  let n = 0;
  const kinds = { seen: 0, missedBytes: 0, tunnel: 0 };
  for (const rec of res.connections) {
    assert.equal(JSON.stringify(localizeRecord(rec, map)), JSON.stringify(localizeRecordGeneric(rec, map)));
    n++;
    for (const k of Object.keys(kinds) as (keyof typeof kinds)[]) if (rec[k] !== undefined) kinds[k]++;
  }
  assert.ok(n > 20, `${n} records`);
  assert.ok(kinds.seen > 0 && kinds.missedBytes > 0 && kinds.tunnel > 0, JSON.stringify(kinds));
  // a key the spelled version does not know goes the generic way
  const odd = { ...res.connections[0], extraFrame: 5 } as unknown as typeof res.connections[0];
  assert.equal(JSON.stringify(localizeRecord(odd, map)), JSON.stringify(localizeRecordGeneric(odd, map)));
});

test('localizeFinding (its own keys walked, app shared) gives exactly what the generic walk gives, on every finding of the bundled captures and the tunnels, with frames in no file', async () => {
  const files = readdirSync(CAPTURES).filter((f) => f.endsWith('.pcap')).map((f) => join(CAPTURES, f));
  files.push(join(FIXTURES, 'tunnels/vxlan-two-vnis.pcap'), join(FIXTURES, 'tunnels/wrap-nested.pcap'));
  const res = await analyze(files, { perFile: true });
  // frame 1 in no file (before the first run), 2-3 in a.pcap, 4 on in b.pcap
  const map = new FrameMap(['/x/a.pcap', '/x/b "q".pcap']);
  map.add(2, 0, 1);
  map.add(4, 1, 1);
  let n = 0;
  for (const f of res.findings) {
    assert.equal(JSON.stringify(localizeFinding(f, map)), JSON.stringify(localizeFindingGeneric(f, map)), `${f.rule} ${f.frame}`);
    n++;
  }
  assert.ok(n > 15, `${n} findings`);
  // an app whose value is not text, a frame of null, nested frame keys: as the generic walk
  const f0 = res.findings[0];
  const odd = { ...f0, frame: null, app: { orig: 'x', resp: { atFrame: 3 } }, evidence: { ...f0.evidence, inner: { seenFrame: 4, summary: 'frame 4' } } } as unknown as typeof f0;
  assert.equal(JSON.stringify(localizeFinding(odd, map)), JSON.stringify(localizeFindingGeneric(odd, map)));
});

test('localizeText (one scan) gives exactly what its regular expression gives, on every summary of the bundled captures and on edge texts', async () => {
  const res = await analyze(readdirSync(CAPTURES).filter((f) => f.endsWith('.pcap')).map((f) => join(CAPTURES, f)), { perFile: true });
  const map = new FrameMap(['/x/a.pcap', '/x/b.pcap']);
  map.add(2, 0, 1);
  map.add(4, 1, 1);
  const texts = res.findings.map((f) => f.summary);
  texts.push('frame 1', 'frames 2 and 3', 'frames 2, 3 and 40', 'frames 2, 3, and 4', 'reframe 3', '_frame 3', 'frameworks 3',
    'frame  3', 'frame 3,4', 'frame 12 and', 'frames', 'frame', 'frame 0', 'frame 007', 'frames 5 and frame 6', '(frame 2)',
    'frame 2, ', 'frame 2 and x', 'frame 2, 3.362 ms later', 'frames 2 and 3.5', 'frames 2, 3 and 4.0 s', 'frame 2.5', 'frames 3 and 4 and 5', 'Frame 3', 'frame 99999999999999999999', 'xframe 2 frame 3', '');
  let named = 0;
  for (const t of texts) {
    assert.equal(localizeText(t, map), localizeTextRegex(t, map), JSON.stringify(t));
    if (localizeText(t, map) !== t) named++;
  }
  assert.ok(named > 20, `${named} texts changed`);
});
