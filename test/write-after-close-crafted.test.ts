/**
 * write-after-peer-close's goodbye variant (issue 15) on crafted captures: a
 * writer that sent its own FIN, even one the capture shows after the RST,
 * had closed before the RST reached it, so the finding is info, and the
 * report's advice is the goodbye advice. (The bug and race variants' byte
 * counts, where the writer's payload after the FIN and the payload beyond
 * the FIN's ACK differ, are in test/rst-causes.test.ts.) Runs the built CLI.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from './helpers.js';
import { pcap, type Seg } from './pcap-writer.js';
import { GOODBYE_FIN_AFTER_RST, GOODBYE_WRITER_ABORT } from './write-after-close-cases.js';

const dir = mkdtempSync(join(tmpdir(), 'rstscope-wapc-'));
after(() => rmSync(dir, { recursive: true, force: true }));


/** Writes `segs` to `file`, runs `analyze -f json` on it and returns its one write-after-peer-close finding (asserted to be the only one). */
async function writeAfterPeerClose(file: string, segs: Seg[]): Promise<{ frame: number; severity: string; evidence: Record<string, unknown>; app: Record<string, string> }[]> {
  writeFileSync(file, pcap(segs));
  const r = await runCli(['analyze', '-f', 'json', file]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { findings: { rule: string; frame: number; severity: string; evidence: Record<string, unknown>; app: Record<string, string> }[] };
  const w = doc.findings.filter((f) => f.rule === 'write-after-peer-close');
  assert.equal(w.length, 1, JSON.stringify(doc.findings));
  return w;
}
// The bug and race variants' crafted cases are in test/rst-causes.test.ts (with exact texts).

test('write-after-peer-close (goodbye): a writer FIN after the RST in the capture (capture near the closer) still makes it a goodbye at info', async () => {
  const segs = GOODBYE_FIN_AFTER_RST;
  const file = join(dir, 'wapc-goodbye.pcap');
  const w = await writeAfterPeerClose(file, segs);
  assert.deepEqual(
    { frame: w[0].frame, severity: w[0].severity, variant: w[0].evidence.variant, dataAckedFin: w[0].evidence.dataAckedFin, writerFinFrame: w[0].evidence.writerFinFrame, causedBy: w[0].evidence.causedBy },
    { frame: 7, severity: 'info', variant: 'goodbye', dataAckedFin: true, writerFinFrame: 8, causedBy: undefined });
  for (const text of Object.values(w[0].app)) assert.doesNotMatch(text, /EPIPE|SIGPIPE|ECONNRESET/, 'no error told to either application');
});

test('write-after-peer-close (goodbye): a writer that aborted with its own RST before the closer\'s RST is not told EPIPE', async () => {
  const segs = GOODBYE_WRITER_ABORT;
  const file = join(dir, 'wapc-writer-abort.pcap');
  const w = await writeAfterPeerClose(file, segs);
  assert.deepEqual(
    { frame: w[0].frame, severity: w[0].severity, variant: w[0].evidence.variant, writerFinFrame: w[0].evidence.writerFinFrame, writerRstFrame: w[0].evidence.writerRstFrame },
    { frame: 7, severity: 'info', variant: 'goodbye', writerFinFrame: null, writerRstFrame: 6 });
  for (const text of Object.values(w[0].app)) assert.doesNotMatch(text, /EPIPE|SIGPIPE|ECONNRESET/, 'no error told to either application');
});

test('report: the advice follows the variant (a goodbye is not told to fix its pool; a bug is)', async () => {
  const advice = async (capture: string): Promise<string> => {
    const r = await runCli(['report', '--format', 'md', join('captures', capture)]);
    assert.equal(r.code, 0, r.stderr);
    const m = /\*\*How to fix\.\*\*\n\n([\s\S]*?)\n\n\*\*Wireshark/.exec(r.stdout);
    assert.ok(m, 'the report has a How to fix section');
    return m[1];
  };
  const goodbye = await advice('write-after-peer-close-goodbye.pcap');
  assert.match(goodbye, /Usually nothing/);
  assert.doesNotMatch(goodbye, /pool|idle timeout|validate|SIGPIPE/i);
  const bug = await advice('write-after-peer-close-bug.pcap');
  assert.match(bug, /SIGPIPE/);
  assert.doesNotMatch(bug, /Usually nothing/);
  const race = await advice('write-after-peer-close-race.pcap');
  assert.match(race, /pooled connection/);
});
