/**
 * write-after-peer-close byte counts from a crafted capture where the two
 * sources of the count differ: the writer's payload after the peer's FIN
 * (counted over the whole connection) and the payload beyond the FIN's ACK
 * when the RST was sent. Here the writer, having read the FIN, writes 15
 * bytes, is reset, and writes 10 more before the RST reaches it (a long
 * path): it wrote 25 bytes after the FIN, of which 15 were on the wire when
 * the RST left. The finding must say 25. Runs the built CLI.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from './helpers.js';
import { pcap, type Seg } from './pcap-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'rstscope-wapc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const C: [string, number] = ['10.5.0.1', 43000];
const S: [string, number] = ['10.5.0.2', 7000];


/** Writes `segs` to `file`, runs `analyze -f json` on it and returns its one write-after-peer-close finding (asserted to be the only one). */
async function writeAfterPeerClose(file: string, segs: Seg[]): Promise<{ frame: number; evidence: Record<string, unknown> }[]> {
  writeFileSync(file, pcap(segs));
  const r = await runCli(['analyze', '-f', 'json', file]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { findings: { rule: string; frame: number; evidence: Record<string, unknown> }[] };
  const w = doc.findings.filter((f) => f.rule === 'write-after-peer-close');
  assert.equal(w.length, 1, JSON.stringify(doc.findings));
  return w;
}
test('write-after-peer-close (bug): bytes written after the FIN include those sent after the RST left', async () => {
  const segs: Seg[] = [
    { tsSec: 500, src: C, dst: S, flags: 'S', seq: 100 },
    { tsSec: 500, tsUsec: 1000, src: S, dst: C, flags: 'SA', seq: 9000, ack: 101 },
    { tsSec: 500, tsUsec: 2000, src: C, dst: S, flags: 'A', seq: 101, ack: 9001 },
    { tsSec: 500, tsUsec: 3000, src: S, dst: C, flags: 'FA', seq: 9001, ack: 101 }, // 4: the server closes
    { tsSec: 500, tsUsec: 4000, src: C, dst: S, flags: 'A', seq: 101, ack: 9002 },
    { tsSec: 500, tsUsec: 5000, src: C, dst: S, flags: 'PA', seq: 101, ack: 9002, len: 15 }, // 6: written after the FIN
    { tsSec: 500, tsUsec: 6000, src: S, dst: C, flags: 'R', seq: 9002 }, // 7: the closed socket resets
    { tsSec: 500, tsUsec: 6500, src: C, dst: S, flags: 'PA', seq: 116, ack: 9002, len: 10 }, // 8: written before the RST arrived
    { tsSec: 500, tsUsec: 7000, src: S, dst: C, flags: 'R', seq: 9002 }, // 9
  ];
  const file = join(dir, 'wapc-after-rst.pcap');
  const w = await writeAfterPeerClose(file, segs);
  assert.equal(w[0].frame, 7);
  assert.deepEqual(
    { variant: w[0].evidence.variant, finFrame: w[0].evidence.finFrame, firstDataFrame: w[0].evidence.firstDataFrame, bytesAfterFin: w[0].evidence.bytesAfterFin },
    { variant: 'bug', finFrame: 4, firstDataFrame: 6, bytesAfterFin: 25 });
});

test('write-after-peer-close (race): the first data is the first the FIN did not acknowledge, not data the FIN covered', async () => {
  const segs: Seg[] = [
    { tsSec: 600, src: C, dst: S, flags: 'S', seq: 100 },
    { tsSec: 600, tsUsec: 1000, src: S, dst: C, flags: 'SA', seq: 9000, ack: 101 },
    { tsSec: 600, tsUsec: 2000, src: C, dst: S, flags: 'A', seq: 101, ack: 9001 },
    { tsSec: 600, tsUsec: 3000, src: C, dst: S, flags: 'PA', seq: 101, ack: 9001, len: 50 }, // 4: read by the server
    { tsSec: 600, tsUsec: 4000, src: C, dst: S, flags: 'PA', seq: 151, ack: 9001, len: 100 }, // 5: crosses the FIN
    { tsSec: 600, tsUsec: 4100, src: S, dst: C, flags: 'FA', seq: 9001, ack: 151 }, // 6: FIN acknowledging frame 4 only
    { tsSec: 600, tsUsec: 5000, src: S, dst: C, flags: 'R', seq: 9002 }, // 7: frame 5's data reached a closed socket
    { tsSec: 600, tsUsec: 5100, src: C, dst: S, flags: 'A', seq: 251, ack: 9002 }, // 8: the client acknowledges the FIN
  ];
  const file = join(dir, 'wapc-race-edge.pcap');
  const w = await writeAfterPeerClose(file, segs);
  assert.deepEqual(
    { frame: w[0].frame, variant: w[0].evidence.variant, finFrame: w[0].evidence.finFrame, firstDataFrame: w[0].evidence.firstDataFrame, bytesAfterFin: w[0].evidence.bytesAfterFin },
    { frame: 7, variant: 'race', finFrame: 6, firstDataFrame: 5, bytesAfterFin: 100 });
});
