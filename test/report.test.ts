/**
 * `rstscope report`: golden files on bundled captures, escaping of
 * capture-derived text, format choice, size bound on a reset flood, exit codes.
 *
 * The goldens are change detectors, not proofs of correctness (test/golden/README.md):
 * they say the report changed, and the evidence tables in them are checked
 * against tshark below (a test that needs tshark, test/requires.ts).
 * UPDATE_GOLDEN=1 rewrites them (each rewritten test is reported as skipped,
 * "golden rewritten", never as a pass); under CI=true the update path fails.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { ReportCollector } from '../src/report/collector.js';
import { esc, md } from '../src/report/escape.js';
import { previewText } from '../src/report/format.js';
import { miniMarkdown } from '../src/report/html.js';
import { CAPTURES, ROOT, runCli } from './helpers.js';
import { requires } from './requires.js';
import { writeRefusalFlood } from './report-util.js';

const GOLDEN = resolve(ROOT, 'test/golden/report');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const CI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

/** Inputs of the golden tests, relative to the repository root (the CLI runs there). */
const GOLDEN_CASES = [
  'captures/refused.pcap',
  'captures/write-after-peer-close-bug.pcap',
  'captures/rst-with-unread-data.pcap',
  'captures/normal-close.pcap',
  'test/fixtures/report/payload-html.pcap',
];

/** The tool version changes on release; everything else must match byte for byte. */
function normalize(text: string): string {
  return text.replace(/rstscope \d+\.\d+\.\d+[^\s<·]*/g, 'rstscope VERSION');
}

for (const input of GOLDEN_CASES) {
  for (const format of ['html', 'md'] as const) {
    const name = `${input.split('/').pop()!.replace(/\.pcap(ng)?$/, '')}.${format}`;
    test(`golden report ${name}`, async (t) => {
      assert.ok(!(UPDATE && CI), 'UPDATE_GOLDEN=1 under CI: goldens are updated by a person who reviews the diff, never by CI');
      assert.ok(existsSync(resolve(ROOT, input)), `bundled capture ${input} is missing`);
      const r = await runCli(['report', input, '--format', format]);
      assert.equal(r.code, 0, r.stderr);
      const got = normalize(r.stdout);
      const file = join(GOLDEN, name);
      if (UPDATE && (!existsSync(file) || readFileSync(file, 'utf8') !== got)) {
        mkdirSync(GOLDEN, { recursive: true });
        writeFileSync(file, got);
        process.stderr.write(`golden rewritten: ${file} (review git diff before committing)\n`);
        t.skip(`golden rewritten: ${file}; nothing was checked, review git diff`);
        return;
      }
      assert.ok(existsSync(file), `no golden file ${file}: run UPDATE_GOLDEN=1 npm test and review the diff`);
      assert.equal(got, readFileSync(file, 'utf8'), `report differs from ${file}; if the change is intended, run UPDATE_GOLDEN=1 npm test and review the diff`);
    });
  }
}

/** tshark's view of a frame in the report's evidence-table terms: flags, relative seq/ack, len, raw window, TTL, IP ID */
function tsharkEvidence(file: string): Map<number, string> {
  const out = execFileSync('tshark', ['-r', file, '-o', 'tcp.relative_sequence_numbers:TRUE', '-o', 'tcp.calculate_timestamps:TRUE',
    '-T', 'fields', '-E', 'separator=|', '-e', 'frame.number', '-e', 'tcp.time_relative', '-e', 'tcp.flags', '-e', 'tcp.seq', '-e', 'tcp.ack',
    '-e', 'tcp.len', '-e', 'tcp.window_size_value', '-e', 'ip.ttl', '-e', 'ip.id'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const m = new Map<number, string>();
  const NAMES: [number, string][] = [[0x01, 'FIN'], [0x02, 'SYN'], [0x04, 'RST'], [0x08, 'PSH'], [0x10, 'ACK'], [0x20, 'URG'], [0x40, 'ECE'], [0x80, 'CWR']];
  for (const l of out.split('\n')) {
    if (!l) continue;
    const [n, time, fl, seq, ack, len, win, ttl, id] = l.split('|');
    const bits = Number(fl);
    const flags = NAMES.filter(([b]) => bits & b).map(([, x]) => x).sort().join('/');
    m.set(Number(n), [`+${Number(time).toFixed(6)}`, flags, seq, bits & 0x10 ? ack : '–', len, win, ttl, String(Number(id))].join(' | '));
  }
  return m;
}

test('every golden evidence table (frame, time, flags, seq/ack, len, window, TTL, IP ID) is what tshark reads in the capture', requires('tshark'), () => {
  let rows = 0;
  for (const input of GOLDEN_CASES) {
    const name = `${input.split('/').pop()!.replace(/\.pcap(ng)?$/, '')}.md`;
    const wire = tsharkEvidence(resolve(ROOT, input));
    const md = readFileSync(join(GOLDEN, name), 'utf8');
    // | frame | time (s) | direction | flags | seq | ack | len | window | TTL | IP ID | payload / note |
    for (const line of md.split('\n')) {
      const m = /^\| (\*\*)?(\d+)(\*\*)? \| (\+\d+\.\d{6}) \| [^|]+ \| ([^|]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \|/.exec(line);
      if (!m) continue;
      rows++;
      const frame = Number(m[2]);
      const flags = m[5].trim().replace(/\*\*/g, '').split('/').sort().join('/');
      const ours = [m[4], flags, ...m.slice(6, 12).map((x) => x.trim())].join(' | ');
      assert.equal(ours, wire.get(frame), `${name} frame ${frame}: report row vs tshark`);
    }
  }
  assert.ok(rows >= 20, `${rows} evidence rows checked`);
});

test('golden HTML reports have the parts the issue asks for', async () => {
  const r = await runCli(['report', 'captures/write-after-peer-close-bug.pcap', '--format', 'html']);
  assert.equal(r.code, 0, r.stderr);
  const h = r.stdout;
  for (const part of ['<h2>Inputs</h2>', '<h2>Summary</h2>', 'Endpoints that sent RSTs', '<svg class="timeline"', '<svg class="ladder"',
    'class="evidence"', 'What the applications saw', 'How to fix', 'tcp.stream eq 0', 'frame.number == 7']) {
    assert.ok(h.includes(part), `missing ${part}`);
  }
  // self-contained: no script, no external reference of any kind
  assert.doesNotMatch(h, /<script/i);
  assert.doesNotMatch(h, /\b(?:src|href)=["']?(?:https?:|\/\/)/i);
  assert.doesNotMatch(h, /@import|url\(/i);
  // one arrow per packet of the 7-packet capture, the RST (frame 7) highlighted
  assert.equal(h.match(/<g class="pkt[ "]/g)?.length, 7);
  assert.match(h, /<g class="pkt key" data-frame="7">/);
});

test('capture-derived HTML and script text is shown as text, never as markup', async () => {
  const input = 'test/fixtures/report/payload-html.pcap';
  const html = (await runCli(['report', input, '--format', 'html', '--payload-bytes', '256'])).stdout;
  assert.ok(html.includes('&lt;script&gt;alert(&quot;rstscope&quot;)&lt;/script&gt;'), 'payload preview missing or not escaped');
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /<img/i);
  // no tag carries an event handler (attribute values, escaped, may quote one)
  assert.doesNotMatch(html.replace(/"[^"]*"/g, '""'), /<[^>]*\sonerror/i);
  assert.doesNotMatch(html, /<\/svg><b>/);
  const mdText = (await runCli(['report', input, '--format', 'md', '--payload-bytes', '256'])).stdout;
  assert.ok(mdText.includes('\\<script>alert("rstscope")\\</script>'), 'payload preview missing or not escaped in Markdown');
  assert.doesNotMatch(mdText, /(?<!\\)&(gt|lt|amp);/, 'Markdown readable as plain text: no entities (an escaped one is the payload\'s own text)');
  assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
  // every '<' of the payload is backslash-escaped: no tag a Markdown viewer would render
  assert.doesNotMatch(mdText, /(?<!\\)<(script|img|\/svg>|b>)/i);
  // Markdown table syntax in the payload cannot break the evidence table
  assert.ok(mdText.includes('\\| \\`tick\\` \\*star\\* \\[link\\](x)'));
  // --payload-bytes 0 leaves payloads out
  const none = (await runCli(['report', input, '--format', 'html', '--payload-bytes', '0'])).stdout;
  assert.ok(!none.includes('alert'));
});

test('escapers', () => {
  assert.equal(esc(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  assert.equal(md('a|b <i> & `c` *d* _e_ [f] x > y'), 'a\\|b \\<i> \\& \\`c\\` \\*d\\* \\_e\\_ \\[f\\] x > y');
  assert.equal(md('> quoted'), '\\> quoted');
  assert.equal(previewText(Buffer.from('A<\r\n\t\\\x00\xff', 'latin1')), 'A<\\r\\n\\t\\\\\\x00\\xff');
  assert.equal(miniMarkdown('- use `ss -ltn`\n  and <b>\n\ntext **bold**'), '<ul><li>use <code>ss -ltn</code> and &lt;b&gt;</li></ul>\n<p>text <strong>bold</strong></p>');
});

test('report -o chooses the format from the extension and writes the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rstscope-report-'));
  try {
    const html = join(dir, 'r.html');
    const mdFile = join(dir, 'r.md');
    let r = await runCli(['report', 'captures/refused.pcap', '-o', html]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(html, 'utf8'), /^<!DOCTYPE html>/);
    r = await runCli(['report', 'captures/refused.pcap', '-o', mdFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(mdFile, 'utf8'), /^# TCP teardown report/);
    r = await runCli(['report', 'captures/refused.pcap', '-o', join(dir, 'r.txt')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--format html\|md/);
    r = await runCli(['report', 'captures/refused.pcap']);
    assert.equal(r.code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('two inputs: each keeps its frame numbers, filters name the file', async () => {
  const r = await runCli(['report', 'captures/refused.pcap', 'captures/rst-with-unread-data.pcap', '--format', 'md']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\| file: frame \|/);
  assert.match(r.stdout, /\*\*Wireshark filter\*\* \(in captures\/refused\.pcap\): `tcp\.stream eq 0` · key packet `frame\.number == 2`/);
});

test('a cut-short capture: report written, warning shown, exit 3', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rstscope-report-'));
  try {
    const cut = join(dir, 'cut.pcap');
    const full = readFileSync(resolve(ROOT, 'captures/write-after-peer-close-bug.pcap'));
    writeFileSync(cut, full.subarray(0, full.length - 20));
    const r = await runCli(['report', cut, '--format', 'html']);
    assert.equal(r.code, 3);
    assert.match(r.stdout, /class="warnbox"/);
    assert.match(r.stderr, /cut\.pcap/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('100,000 resets give bounded reports (HTML and Markdown under 5 MB)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rstscope-report-'));
  try {
    const cap = join(dir, 'flood.pcap');
    writeRefusalFlood(cap, 100_000, 2000);
    for (const format of ['html', 'md'] as const) {
      const out = join(dir, `flood.${format}`);
      const r = await runCli(['report', cap, '-o', out], { timeoutMs: 240_000 });
      assert.equal(r.code, 0, r.stderr);
      const size = statSync(out).size;
      assert.ok(size < 5 * 1024 * 1024, `${format} report is ${size} bytes`);
      const text = readFileSync(out, 'utf8');
      assert.match(text, /100,000/);
      // 2000 groups: the index stops at --max-groups (500) and says how many are left out
      assert.match(text, /1,500 more group\(s\) with 75,000 finding\(s\) are not listed/);
      if (format === 'html') {
        const details = text.match(/<section class="finding /g)?.length ?? 0;
        assert.equal(details, 50);
        // the burst (a fifth of the attempts in one second) stands out in the timeline
        // (one second may straddle two bins of ~13 s; a quiet bin holds ~1,300)
        const counts = [...text.matchAll(/<g class="bar" data-count="(\d+)"/g)].map((m) => Number(m[1]));
        let pair = 0;
        for (let i = 1; i < counts.length; i++) pair = Math.max(pair, counts[i - 1] + counts[i]);
        assert.ok(pair >= 20_000, `largest two adjacent bins ${pair}`);
        assert.ok(counts.filter((c) => c > 3000).length <= 2, 'the burst should fill at most two bins');
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--max-details 0 still works through one example per rule that fired', async () => {
  const r = await runCli(['report', 'captures/refused.pcap', 'captures/write-after-peer-close-bug.pcap', '--format', 'html', '--max-details', '0']);
  assert.equal(r.code, 0, r.stderr);
  const rules = [...r.stdout.matchAll(/<section class="finding \w+" id="g\d+">.*?<span class="meta mono">([a-z-]+)<\/span>/g)].map((m) => m[1]).sort();
  assert.deepEqual(rules, ['refused', 'write-after-peer-close']);
  const bad = await runCli(['report', 'captures/refused.pcap', '--format', 'md', '--max-details', '-1']);
  assert.equal(bad.code, 2);
});

/** Stand-ins for the collector tests: a connection with no evidence, record i, finding i. */
const stubConn = { evidence: () => [], rsts: [], segments: 0, ipVersion: 4, orig: { sawSyn: true }, flipped: false } as never;
const stubRec = (i: number) => ({ id: i, input: 0, stream: i, orig: { ip: `10.0.0.${i}`, port: 1000 + i }, resp: { ip: '10.0.1.1', port: 80 }, rsts: 0, resets: [] }) as never;
const stubFinding = (i: number, rule: string, severity: 'info' | 'warning' | 'error') => ({
  rule, severity, connection: i, input: 0, stream: i, frame: i + 1, frames: [i + 1], ts: 100 + i, actor: 'server', summary: '', app: {}, evidence: {},
}) as never;

test('collector: past --max-details, a more severe group takes the slot of a less severe one, one example per rule stays', () => {
  const col = new ReportCollector({ maxDetails: 2, maxGroups: 10, payloadBytes: 0 });
  col.onConnection(stubRec(1), [stubFinding(1, 'half-close', 'info')], stubConn);
  col.onConnection(stubRec(2), [stubFinding(2, 'half-close', 'info')], stubConn);
  col.onConnection(stubRec(3), [stubFinding(3, 'refused', 'warning')], stubConn); // first of its rule: kept beyond the cap
  col.onConnection(stubRec(4), [stubFinding(4, 'refused', 'warning')], stubConn); // replaces an info example of half-close
  col.onConnection(stubRec(5), [stubFinding(5, 'refused', 'warning')], stubConn); // nothing left to replace: half-close keeps one
  const m = col.build({ inputs: [], problems: [], stats: { evicted: 0 } as never }, 'test');
  const kept = m.groups.filter((g) => g.example).map((g) => `${g.rule}:${g.origIp}`).sort();
  assert.deepEqual(kept, ['half-close:10.0.0.1', 'refused:10.0.0.3', 'refused:10.0.0.4']);
  assert.equal(m.findings, 5);
  assert.deepEqual(m.bySeverity, { error: 0, warning: 3, info: 2 });
});

test('collector: a group whose example was taken is not taken from again', () => {
  const col = new ReportCollector({ maxDetails: 3, maxGroups: 10, payloadBytes: 0 });
  for (let i = 1; i <= 3; i++) col.onConnection(stubRec(i), [stubFinding(i, 'half-close', 'info')], stubConn);
  col.onConnection(stubRec(4), [stubFinding(4, 'refused', 'warning')], stubConn); // first of its rule: kept beyond the cap
  col.onConnection(stubRec(5), [stubFinding(5, 'refused', 'warning')], stubConn); // takes the latest info example (10.0.0.3)
  col.onConnection(stubRec(6), [stubFinding(6, 'refused', 'warning')], stubConn); // takes the next one (10.0.0.2), not 10.0.0.3 again
  const m = col.build({ inputs: [], problems: [], stats: { evicted: 0 } as never }, 'test');
  const kept = m.groups.filter((g) => g.example).map((g) => `${g.rule}:${g.origIp}`).sort();
  assert.deepEqual(kept, ['half-close:10.0.0.1', 'refused:10.0.0.4', 'refused:10.0.0.5', 'refused:10.0.0.6']);
});

test('the HTML title stays short with many inputs (one input: its path, as before)', async () => {
  const caps = readdirSync(CAPTURES).filter((f) => f.endsWith('.pcap')).map((f) => join(CAPTURES, f));
  const many = (await runCli(['report', '--format', 'html', '--per-file', ...caps])).stdout;
  const title = many.match(/<title>(.*)<\/title>/)![1];
  assert.ok(title.length < 90, title);
  assert.match(title, new RegExp(`and ${caps.length - 1} more input\\(s\\)$`));
  const one = (await runCli(['report', '--format', 'html', caps[0]])).stdout;
  assert.equal(one.match(/<title>(.*)<\/title>/)![1], `TCP teardown report: ${caps[0]}`);
});
