/**
 * Issue 17, "wrong or silent answers": the built CLI never gives an answer it
 * cannot back. Numeric options are checked at the boundary; a directory or a
 * file cut inside its header is one line and exit 2; when no input could be
 * read the table and the reports say so; undecoded traffic is counted where
 * people look; verdicts that rest on a record the connection cap cut short
 * are not given.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CAPTURES, FIXTURES, runCli } from './helpers.js';
import { pcap, type Seg } from './pcap-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'rstscope-honest-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const CAP = join(CAPTURES, 'refused.pcap');

test('every numeric option of every command: a bad value is exit 2 naming the option and what was typed', async () => {
  const cases: [string[], string, string][] = [];
  const bad = (cmd: string[], option: string, values: string[], pre: string[] = []) => {
    for (const v of values) cases.push([[...cmd, ...pre, `--${option}`, v, ...(cmd[0] === 'live' ? [] : [CAP])], option, v]);
  };
  const common = ['0', '-5', 'abc', '1.5', ''];
  for (const cmd of [['analyze'], ['flows'], ['report', '--format', 'md']]) bad(cmd, 'max-connections', common);
  for (const cmd of [['analyze'], ['flows']]) bad(cmd, 'workers', ['0', '-5', 'abc', '1.5', '65']);
  for (const option of ['max-details', 'max-groups', 'payload-bytes']) bad(['report', '--format', 'md'], option, ['-1', 'abc', '1.5']);
  // live checks its options before it opens any capture
  bad(['live'], 'max-connections', common);
  bad(['live'], 'count', common);
  bad(['live'], 'snaplen', ['0', '67', 'abc', '262145']);
  bad(['live'], 'buffer-kib', common);
  bad(['live'], 'duration', ['0', '-5', 'abc', 'Infinity']);
  for (const [args, option, typed] of cases) {
    const r = await runCli(args);
    const what = args.join(' ');
    assert.equal(r.code, 2, `${what}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^rstscope: --${option} takes a (whole )?number [^\\n]*, not "${typed.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\n`), what);
    assert.equal(r.stdout, '', `${what}: nothing analyzed`);
  }
});

test('a numeric option without its value, or given twice, is a usage error too (not the default, not an internal error)', async () => {
  for (const args of [
    ['analyze', CAP, '--max-connections'], ['analyze', '--max-connections', '--quiet', CAP], ['flows', CAP, '--workers'],
    ['report', '--format', 'md', CAP, '--payload-bytes'], ['live', '--count'], ['live', '-c'], ['live', '--duration'],
  ]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^rstscope: (--[a-z-]+|-c) needs a value\n/, args.join(' '));
    assert.doesNotMatch(r.stderr, /internal error/);
  }
  const twice = await runCli(['analyze', '--max-connections', '5', '--max-connections', '6', CAP]);
  assert.equal(twice.code, 2);
  assert.match(twice.stderr, /^rstscope: --max-connections is given more than once\n/);
});

test('a directory and a file cut inside its header: one line each, exit 2', async () => {
  const short = join(dir, 'short.pcap');
  writeFileSync(short, readFileSync(CAP).subarray(0, 10));
  const tiny = join(dir, 'tiny.pcapng');
  writeFileSync(tiny, Buffer.from([0x0a, 0x0d]));
  const ngShort = join(dir, 'short.pcapng');
  writeFileSync(ngShort, readFileSync(join(FIXTURES, 'formats', 'crafted.pcapng')).subarray(0, 20));
  for (const [file, line] of [
    [dir, `rstscope: ${dir}: is a directory\n`],
    [short, `rstscope: ${short}: not a capture (file header incomplete): the file ends after 10 byte(s)\n`],
    [tiny, `rstscope: ${tiny}: not a capture (file header incomplete): the file ends after 2 byte(s)\n`],
    [ngShort, `rstscope: ${ngShort}: not a capture (file header incomplete): the file ends after 20 byte(s)\n`],
  ]) {
    for (const cmd of [['analyze'], ['flows', '-f', 'json'], ['report', '--format', 'md']]) {
      const r = await runCli([...cmd, file]);
      assert.equal(r.code, 2, `${cmd.join(' ')} ${file}`);
      assert.equal(r.stderr, line, `${cmd.join(' ')} ${file}`);
    }
  }
});

test('when no input could be read, the table and the reports say so instead of "No teardown findings"', async () => {
  const text = join(dir, 'notes.txt');
  writeFileSync(text, 'not a capture\n');
  const t = await runCli(['analyze', dir, text]);
  assert.equal(t.code, 2);
  assert.doesNotMatch(t.stdout, /No teardown findings/);
  assert.match(t.stdout, /No input could be read \(2 of 2 inputs unreadable\): nothing was analyzed\./);
  for (const format of ['md', 'html']) {
    const r = await runCli(['report', '--format', format, text]);
    assert.equal(r.code, 2);
    assert.doesNotMatch(r.stdout, /ended in a way the rules consider normal|No teardown findings/, format);
    const banner = r.stdout.search(/No input could be read \(1 of 1 inputs? unreadable\): nothing was analyzed/);
    assert.ok(banner >= 0, `${format}: says so`);
    assert.ok(banner < r.stdout.search(format === 'md' ? /## Inputs/ : /<h2[^>]*>Inputs/), `${format}: at the top, before the inputs`);
  }
  // one unreadable input among readable ones: the results are partial, and say so
  const some = await runCli(['analyze', CAP, text]);
  assert.equal(some.code, 3);
  assert.match(some.stdout, /1 of 2 inputs could not be read/);
});

/** Ethernet frames of lo-us.pcap, IPv4 ones wrapped in GRE (outer IPv4, protocol 47, GRE protocol 0x0800), as a tunnel carries them. */
/** lo-us.pcap with its IPv4 packets carried in IPsec ESP (protocol 50, what no passive tool can open) */
function espCapture(file: string): { frames: number; wrapped: number } {
  const b = readFileSync(join(FIXTURES, 'formats', 'lo-us.pcap'));
  const parts: Buffer[] = [b.subarray(0, 24)];
  let o = 24;
  let frames = 0;
  let wrapped = 0;
  while (o + 16 <= b.length) {
    const cap = b.readUInt32LE(o + 8);
    let data = b.subarray(o + 16, o + 16 + cap);
    if (data.readUInt16BE(12) === 0x0800) {
      const outer = Buffer.alloc(28);
      outer[0] = 0x45;
      outer.writeUInt16BE(28 + cap - 14, 2);
      outer[8] = 64;
      outer[9] = 50;
      outer.set([192, 0, 2, 1, 192, 0, 2, 2], 12);
      outer.writeUInt32BE(0x1000, 20); // ESP: SPI, then the sequence number
      outer.writeUInt32BE(wrapped + 1, 24);
      data = Buffer.concat([data.subarray(0, 14), outer, data.subarray(14)]);
      wrapped++;
    }
    const rec = Buffer.from(b.subarray(o, o + 16));
    rec.writeUInt32LE(data.length, 8);
    rec.writeUInt32LE(data.length, 12);
    parts.push(rec, data);
    frames++;
    o += 16 + cap;
  }
  writeFileSync(file, Buffer.concat(parts));
  return { frames, wrapped };
}

test('traffic rstscope cannot open (IPsec ESP) is not reported as all clear: the table and the reports count the packets that were not TCP, and why', async () => {
  const file = join(dir, 'esp.pcap');
  const { frames, wrapped } = espCapture(file);
  assert.ok(wrapped >= frames / 2);
  const pct = Math.round((100 * wrapped) / frames);
  const line = new RegExp(`${wrapped} of ${frames} packets \\(${pct}%\\) were not analyzed as TCP: ${wrapped} IP but not TCP \\(UDP, ICMP, IPsec, or a tunnel rstscope does not open`);
  const t = await runCli(['analyze', file]);
  assert.equal(t.code, 0);
  assert.match(t.stdout, line);
  for (const format of ['md', 'html']) {
    const r = await runCli(['report', '--format', format, file]);
    assert.match(r.stdout, line, format);
  }
  // a capture that is all TCP says nothing of the kind
  const clean = await runCli(['analyze', CAP]);
  assert.doesNotMatch(clean.stdout, /not analyzed as TCP/);
});

test('--max-connections: verdicts that rest on a record the cap cut short are not given', async () => {
  const S: [string, number] = ['10.9.9.9', 80];
  const segs: Seg[] = [];
  let us = 0;
  const at = (s: Omit<Seg, 'tsSec' | 'tsUsec'>) => segs.push({ tsSec: 1000, tsUsec: (us += 100), ...s });
  // 20 refused attempts: enough new connections to evict everything older past a cap of 10
  let filler = 0;
  const fillers = () => {
    for (let i = 0; i < 20; i++, filler++) {
      const c: [string, number] = [`10.0.1.${filler % 250}`, 50000 + filler];
      at({ src: c, dst: S, flags: 'S', seq: 7000 + filler });
      at({ src: S, dst: c, flags: 'RA', seq: 0, ack: 7001 + filler });
    }
  };
  // A: a SYN answered only after the cap evicted its record (a full run: answered, closed normally)
  const A: [string, number] = ['10.0.0.1', 40001];
  at({ src: A, dst: S, flags: 'S', seq: 100 });
  fillers();
  at({ src: S, dst: A, flags: 'SA', seq: 500, ack: 101 });
  at({ src: A, dst: S, flags: 'A', seq: 101, ack: 501 });
  at({ src: A, dst: S, flags: 'FA', seq: 101, ack: 501 });
  at({ src: S, dst: A, flags: 'FA', seq: 501, ack: 102 });
  at({ src: A, dst: S, flags: 'A', seq: 102, ack: 502 });
  // B: the server closes, the cap evicts the record, the client writes, the server's socketless RST answers it
  const B: [string, number] = ['10.0.0.2', 40002];
  at({ src: B, dst: S, flags: 'S', seq: 1000 });
  at({ src: S, dst: B, flags: 'SA', seq: 9000, ack: 1001 });
  at({ src: B, dst: S, flags: 'A', seq: 1001, ack: 9001 });
  at({ src: B, dst: S, flags: 'PA', seq: 1001, ack: 9001, len: 100 });
  at({ src: S, dst: B, flags: 'A', seq: 9001, ack: 1101 });
  at({ src: S, dst: B, flags: 'FA', seq: 9001, ack: 1101 });
  at({ src: B, dst: S, flags: 'A', seq: 1101, ack: 9002 });
  fillers();
  at({ src: B, dst: S, flags: 'PA', seq: 1101, ack: 9002, len: 50 });
  at({ src: S, dst: B, flags: 'R', seq: 9002 });
  const file = join(dir, 'evict.pcap');
  writeFileSync(file, pcap(segs));

  const findings = async (extra: string[]) => {
    const r = await runCli(['analyze', '-f', 'json', ...extra, file]);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { findings: { rule: string; connection: number }[]; connections: { id: number; orig: { port: number }; endReason: string }[]; stats: { evicted: number } };
    const port = (f: { connection: number }) => doc.connections.find((c) => c.id === f.connection)!.orig.port;
    return { doc, stderr: r.stderr, mine: doc.findings.filter((f) => port(f) === 40001 || port(f) === 40002).map((f) => `${f.rule}@${port(f)}`).sort() };
  };
  const full = await findings([]);
  assert.equal(full.doc.stats.evicted, 0);
  assert.deepEqual(full.mine, ['write-after-peer-close@40002']);
  const capped = await findings(['--max-connections', '10']);
  assert.ok(capped.doc.stats.evicted > 20, `evicted ${capped.doc.stats.evicted}`);
  // A's SYN record and B's records were cut: no syn-unanswered, no half-open ("no socket any more")
  assert.ok(capped.doc.connections.some((c) => c.orig.port === 40001 && c.endReason === 'evicted'));
  assert.deepEqual(capped.mine.filter((f) => /^(syn-unanswered|half-open)@/.test(f)), []);
  assert.equal(capped.doc.findings.filter((f) => f.rule === 'refused').length, 40, 'what the cut records show happening is still told');
  assert.match(capped.stderr, /closed out early because more than --max-connections were live at once .*syn-unanswered and half-open verdicts that rest on such a cut are not given/);
});

test('a finding that follows from another is told as such and ranked with its cause (the forged RST and the half-open it leaves)', async () => {
  const file = join(CAPTURES, 'rst-suspicious-exact.pcap');
  const r = await runCli(['analyze', '-f', 'json', file]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { findings: { rule: string; severity: string; frame: number; summary: string; app: Record<string, string>; evidence: Record<string, unknown> }[] };
  const forged = doc.findings.find((f) => f.rule === 'rst-suspicious')!;
  const after = doc.findings.find((f) => f.rule === 'half-open')!;
  assert.deepEqual(after.evidence.causedBy, { rule: 'rst-suspicious', frame: forged.frame });
  assert.equal(after.severity, forged.severity, 'not ranked above its cause');
  assert.match(after.summary, /follows from the RST at frame 8, which looks forged/);
  assert.doesNotMatch(Object.values(after.app).join(' '), /restart, crash/);
  // the table: the cause first, its consequence right after it
  const table = await runCli(['analyze', file]);
  assert.ok(table.stdout.indexOf('rst-suspicious') < table.stdout.indexOf('half-open'), table.stdout);
  assert.match(table.stdout, /0 error, 2 warning/);
});
