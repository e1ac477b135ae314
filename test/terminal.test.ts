/**
 * Issue 17, "Terminal" and "Time": the analyze table fits the terminal (in a
 * real pseudo-terminal at 80, 100 and 200 columns, and at a forced --width),
 * switching to paragraphs below its least width; no rule between rows; files
 * of the same name in two directories are told apart; a time column in
 * tshark's -t formats; live lines start with the time.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { findingLine } from '../src/report/findings.js';
import { formatTime } from '../src/report/time-format.js';
import type { Finding } from '../src/rules/types.js';
import { BIN, CAPTURES, ROOT, runCli } from './helpers.js';
import { requires } from './requires.js';

const dir = mkdtempSync(join(tmpdir(), 'rstscope-term-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const ALL = readdirSync(CAPTURES).filter((f) => f.endsWith('.pcap')).map((f) => join(CAPTURES, f));

/** The longest line, in characters (box-drawing characters count one). */
const widest = (text: string): number => Math.max(...text.split('\n').map((l) => [...l.replace(/\r$/, '')].length));

test('in a pseudo-terminal of 80, 100 and 200 columns the analyze output never exceeds the width', requires('script'), () => {
  for (const cols of [80, 100, 200]) {
    const cmd = `stty cols ${cols} rows 50; ${process.execPath} ${BIN} analyze --quiet --per-file ${ALL.join(' ')}`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, COLUMNS: '' } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /write-after-peer-close/);
    assert.ok(widest(r.stdout) <= cols, `${cols} columns: a line of ${widest(r.stdout)}`);
    // a table when it fits, paragraphs below that
    assert.equal(r.stdout.includes('┌'), cols >= 200, `${cols} columns: table or list`);
  }
});

test('--width and $COLUMNS set the width when the output is not a terminal; no rule between rows', async () => {
  for (const width of [80, 100, 120, 140, 200, 300]) {
    const r = await runCli(['analyze', '--quiet', '--per-file', '--width', String(width), ...ALL]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(widest(r.stdout) <= width, `--width ${width}: a line of ${widest(r.stdout)}`);
    assert.doesNotMatch(r.stdout, /├/, 'no separator between rows');
  }
  const env = spawnSync(process.execPath, [BIN, 'analyze', '--quiet', ...ALL.slice(0, 3), '--per-file'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, COLUMNS: '90' } });
  assert.ok(widest(env.stdout) <= 90, `COLUMNS=90: ${widest(env.stdout)}`);
  const bad = await runCli(['analyze', '--width', '10', ALL[0]]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--width takes a whole number from 40/);
});

test('two files of the same name in two directories are named apart in the table', async () => {
  for (const d of ['east', 'west']) {
    mkdirSync(join(dir, d, 'caps'), { recursive: true });
    copyFileSync(join(CAPTURES, 'refused.pcap'), join(dir, d, 'caps', 'x.pcap'));
  }
  const r = await runCli(['analyze', '--quiet', '--per-file', '--width', '200', join(dir, 'east/caps/x.pcap'), join(dir, 'west/caps/x.pcap')]);
  assert.match(r.stdout, /east\/caps\/x\.pcap #2/);
  assert.match(r.stdout, /west\/caps\/x\.pcap #2/);
});

test("-t: the time column in tshark's formats (relative by default; UTC, local, epoch)", async () => {
  const cap = join(CAPTURES, 'refused.pcap'); // RST at 1795995011.900374, first packet 1795995011.900359
  const col = async (t: string[], env?: NodeJS.ProcessEnv): Promise<string> => {
    const r = spawnSync(process.execPath, [BIN, 'analyze', '--quiet', '--width', '200', ...t, cap], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').find((l) => l.includes('refused') && l.includes('│'))!.split('│')[4].trim();
  };
  assert.equal(await col([]), '0.000015');
  assert.equal(await col(['-t', 'e']), '1795995011.900374');
  assert.equal(await col(['-t', 'ud']), '2026-11-29 23:30:11.900374');
  assert.equal(await col(['-t', 'u']), '23:30:11.900374');
  assert.equal(await col(['-t', 'ad'], { TZ: 'Asia/Kolkata' }), '2026-11-30 05:00:11.900374');
  assert.equal(await col(['-t', 'a'], { TZ: 'America/New_York' }), '18:30:11.900374');
  const bad = await runCli(['analyze', '-t', 'x', cap]);
  assert.equal(bad.code, 2);
});

test('formatTime: microseconds carried, a time outside the calendar printed as seconds', () => {
  assert.equal(formatTime(1.9999996, 'ud'), '1970-01-01 00:00:02.000000');
  assert.equal(formatTime(10.5, 'r', 4), '6.500000');
  assert.equal(formatTime(1e300, 'u'), (1e300).toFixed(6));
});

test('live lines start with the key frame time', () => {
  const f = { rule: 'refused', severity: 'warning', frame: 2, ts: 1795995011.900374, summary: 'x' } as Finding;
  assert.match(findingLine(f, undefined, { format: 'u', origin: null }), /^23:30:11\.900374 warning refused/);
  assert.match(findingLine(f), /^warning /);
});

test('a capture set names frames FILE#N in the stories, and a time beside a frame stays a time', async () => {
  const files = ['write-after-peer-close-goodbye.pcap', 'syn-unanswered.pcap'].map((f) => join(CAPTURES, f));
  const r = await runCli(['analyze', '-f', 'json', ...files]);
  const doc = JSON.parse(r.stdout) as { findings: { rule: string; summary: string }[] };
  const goodbye = doc.findings.find((f) => f.rule === 'write-after-peer-close')!;
  assert.match(goodbye.summary, /FIN \(frame write-after-peer-close-goodbye\.pcap#9, \d+\.\d+ ms after frame write-after-peer-close-goodbye\.pcap#7\)/);
  assert.doesNotMatch(goodbye.summary, /#\d+\.\d+ ms/);
});

test('the flows table fits --width too (columns left out, said so) and has no rule between rows', async () => {
  for (const width of [80, 100, 200]) {
    const r = await runCli(['flows', '--quiet', '--per-file', '--width', String(width), ...ALL]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(widest(r.stdout) <= width, `flows --width ${width}: a line of ${widest(r.stdout)}`);
    assert.doesNotMatch(r.stdout, /├/);
  }
});
