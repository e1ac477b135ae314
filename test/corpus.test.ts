/** The precision harness (scripts/corpus.ts): per-file attribution across batches, statuses, the audit list. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { CAPTURES, ROOT, runCli } from './helpers.js';

const HARNESS = resolve(ROOT, 'dist/scripts/corpus.js');
const dir = mkdtempSync(join(tmpdir(), 'rstscope-corpus-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Summary {
  files: Record<string, number>;
  packets: number;
  connections: number;
  findings: { total: number; byRule: Record<string, Record<string, number>> };
  perFile: { file: string; status: string; findings: number; problem?: string }[];
  audit: { file: string; rule: string; severity: string; frame: number; stream: number }[];
}

function harness(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [HARNESS, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.on('error', rej);
    child.on('close', (code) => res({ code, stdout: Buffer.concat(out).toString('utf8') }));
  });
}

const GOOD = ['refused.pcap', 'abortive-close.pcap', 'half-open.pcap', 'normal-close.pcap', 'write-after-peer-close-bug.pcap'];
mkdirSync(join(dir, 'sub'));
for (const f of GOOD) copyFileSync(join(CAPTURES, f), join(dir, 'sub', f));
writeFileSync(join(dir, 'junk.pcap'), 'not a capture at all\n');
writeFileSync(join(dir, 'cut.pcap'), readFileSync(join(CAPTURES, 'abortive-close.pcap')).subarray(0, 1000));
writeFileSync(join(dir, 'notes.txt'), 'ignored: neither a capture name nor a capture magic number\n');

test('batches of 2: every file attributed, statuses by file, findings equal analyze run on each file', async () => {
  const r = await harness([dir, '--json', '--batch', '2']);
  assert.equal(r.code, 0);
  const s = JSON.parse(r.stdout) as Summary;
  assert.deepEqual(s.files, { found: 7, read: 5, partial: 1, unreadable: 1, timeout: 0, crashed: 0 });
  const status = Object.fromEntries(s.perFile.map((f) => [f.file, f.status]));
  assert.equal(status['junk.pcap'], 'unreadable');
  assert.equal(status['cut.pcap'], 'partial');
  for (const f of GOOD) assert.equal(status[`sub/${f}`], 'read', f);

  // the same numbers, file by file, straight from the CLI
  let total = 0;
  for (const f of GOOD) {
    const a = await runCli(['analyze', '-q', '-f', 'json', join(dir, 'sub', f)]);
    const doc = JSON.parse(a.stdout) as { findings: { rule: string; severity: string; frame: number }[] };
    total += doc.findings.length;
    const mine = s.perFile.find((p) => p.file === `sub/${f}`);
    assert.equal(mine?.findings, doc.findings.length, f);
    for (const fd of doc.findings.filter((x) => x.severity !== 'info')) {
      assert.ok(s.audit.some((x) => x.file === `sub/${f}` && x.rule === fd.rule && x.frame === fd.frame), `${f} ${fd.rule} ${fd.frame} in the audit list`);
    }
  }
  const cut = s.perFile.find((p) => p.file === 'cut.pcap');
  assert.ok(cut && /truncated/.test(cut.problem ?? ''), 'the truncation is named');
  assert.equal(s.findings.total, total + (cut?.findings ?? 0));
  assert.equal(s.audit.filter((x) => x.file === 'sub/refused.pcap' && x.rule === 'refused').length, 1);
});

test('Markdown: the summary table, rule table and each audited finding with a tshark command', async () => {
  const j = await harness([dir, '--json', '--out', join(dir, 'run.json')]);
  assert.equal(j.code, 0);
  const m = await harness(['--from', join(dir, 'run.json')]);
  assert.equal(m.code, 0);
  assert.match(m.stdout, /\| 7 \| 5 \| 1 \| 1 \| 0 \| 0 \|/);
  assert.match(m.stdout, /### refused\n\n- \*\*warning\*\* `sub\/refused\.pcap` stream 0, key frame 2/);
  assert.match(m.stdout, /tshark -r 'sub\/refused\.pcap' -Y 'tcp\.stream==0'/);
  assert.match(m.stdout, /\| junk\.pcap \| unreadable \|/);
});

test('no directory: usage error, exit 2', async () => {
  const r = await harness([]);
  assert.equal(r.code, 2);
});
