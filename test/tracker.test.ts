/**
 * Tracker behaviour that needs an exact packet sequence: port reuse, timers on
 * capture time, the connection cap, sequence wraparound, mid-stream starts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { analyze } from '../src/analysis/analyze.js';
import { CAPTURES } from './helpers.js';
import { pcap, type Seg } from './pcap-writer.js';
import { bothWays } from './rst-check.js';

const dir = mkdtempSync(join(tmpdir(), 'rstscope-tracker-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(segs: Seg[]): string {
  const p = join(dir, `t${n++}.pcap`);
  writeFileSync(p, pcap(segs));
  return p;
}

const C: [string, number] = ['10.0.0.1', 40000];
const S: [string, number] = ['10.0.0.2', 80];

function normal(t: number, isnC: number, isnS: number, cli: [string, number] = C): Seg[] {
  return [
    { tsSec: t, src: cli, dst: S, flags: 'S', seq: isnC },
    { tsSec: t, tsUsec: 100, src: S, dst: cli, flags: 'SA', seq: isnS, ack: isnC + 1 },
    { tsSec: t, tsUsec: 200, src: cli, dst: S, flags: 'A', seq: isnC + 1, ack: isnS + 1 },
    { tsSec: t, tsUsec: 300, src: cli, dst: S, flags: 'PA', seq: isnC + 1, ack: isnS + 1, len: 10 },
    { tsSec: t, tsUsec: 400, src: S, dst: cli, flags: 'PA', seq: isnS + 1, ack: isnC + 11, len: 20 },
    { tsSec: t, tsUsec: 500, src: cli, dst: S, flags: 'FA', seq: isnC + 11, ack: isnS + 21 },
    { tsSec: t, tsUsec: 600, src: S, dst: cli, flags: 'FA', seq: isnS + 21, ack: isnC + 12 },
    { tsSec: t, tsUsec: 700, src: cli, dst: S, flags: 'A', seq: isnC + 12, ack: isnS + 22 },
  ];
}

test('an orderly close is SF with the full history and exact byte counts', async () => {
  const r = await analyze([file(normal(1000, 100, 5000))]);
  assert.equal(r.connections.length, 1);
  const c = r.connections[0];
  assert.equal(c.state, 'SF');
  assert.equal(c.history, 'ShADdFf'); // the server never sent a pure ACK
  assert.equal(c.origBytes, 10);
  assert.equal(c.respBytes, 20);
  assert.equal(c.firstFrame, 1);
  assert.equal(c.lastFrame, 8);
  assert.equal(r.findings.length, 0);
});

test('port reuse: a new SYN with a new ISN after the close starts a new connection', async () => {
  const r = await analyze([file([...normal(1000, 100, 5000), ...normal(1001, 900000, 7000)])]);
  assert.equal(r.connections.length, 2);
  assert.deepEqual(r.connections.map((c) => [c.state, c.firstFrame, c.endReason]), [['SF', 1, 'reused'], ['SF', 9, 'end']]);
  assert.equal(r.stats.reused, 1);
  assert.equal(r.findings.filter((f) => f.severity !== 'info').length, 0);
});

test('the real port-reuse capture gives two SF connections on one 4-tuple', async () => {
  const r = await analyze([join(CAPTURES, 'port-reuse.pcap')]);
  const tuples = new Set(r.connections.map((c) => `${c.orig.port}-${c.resp.port}`));
  assert.equal(r.connections.length, 2);
  assert.equal(tuples.size, 1);
  assert.ok(r.connections.every((c) => c.state === 'SF'));
});

test('timers run on capture time: a packet 10 s after a complete close starts a new row', async () => {
  const segs = normal(1000, 100, 5000);
  // a late ACK 10 s after the close: Zeek has dropped the connection by then (5 s close delay)
  segs.push({ tsSec: 1010, src: C, dst: S, flags: 'A', seq: 112, ack: 5022 });
  const r = await analyze([file(segs)]);
  assert.equal(r.connections.length, 2);
  assert.equal(r.connections[1].history, 'A');
  assert.equal(r.connections[1].state, 'OTH');
});

test('an unanswered SYN times out after 5 s of capture time (S0), later packets start a new row', async () => {
  const r = await analyze([file([
    { tsSec: 1000, src: C, dst: S, flags: 'S', seq: 1 },
    { tsSec: 1001, src: C, dst: S, flags: 'S', seq: 1 },
    { tsSec: 1003, src: C, dst: S, flags: 'S', seq: 1 },
    { tsSec: 1100, src: C, dst: S, flags: 'PA', seq: 2, ack: 77, len: 5 },
  ])]);
  assert.deepEqual(r.connections.map((c) => c.state), ['S0', 'OTH']);
  const f = r.findings.find((x) => x.rule === 'syn-unanswered');
  assert.ok(f);
  assert.equal(f.frame, 1);
  assert.equal(f.evidence.retries, 2);
  assert.deepEqual(f.evidence.spacingSec, [1, 2]);
});

test('--max-connections evicts the longest-idle connection and counts it', async () => {
  const segs: Seg[] = [];
  for (let i = 0; i < 50; i++) segs.push({ tsSec: 1000 + i, src: ['10.0.1.1', 20000 + i], dst: S, flags: 'S', seq: i });
  const r = await analyze([file(segs)], { maxConnections: 10 });
  assert.equal(r.connections.length, 50);
  assert.equal(r.stats.evicted, 40);
  assert.ok(r.stats.maxLive <= 10);
  assert.equal(r.connections.filter((c) => c.endReason === 'evicted').length, 40);
});

test('sequence numbers wrapping past 2^32 cause no false retransmissions', async () => {
  const isnC = 0xffffff00;
  const segs: Seg[] = [
    { tsSec: 1000, src: C, dst: S, flags: 'S', seq: isnC },
    { tsSec: 1000, src: S, dst: C, flags: 'SA', seq: 1, ack: isnC + 1 },
    { tsSec: 1000, src: C, dst: S, flags: 'A', seq: isnC + 1, ack: 2 },
  ];
  let seq = isnC + 1;
  for (let i = 0; i < 40; i++) {
    segs.push({ tsSec: 1001, tsUsec: i, src: C, dst: S, flags: 'PA', seq: seq >>> 0, ack: 2, len: 100 });
    seq += 100;
    segs.push({ tsSec: 1001, tsUsec: i + 1, src: S, dst: C, flags: 'A', seq: 2, ack: seq >>> 0 });
  }
  const r = await analyze([file(segs)]);
  assert.equal(r.connections.length, 1);
  assert.equal(r.connections[0].origRetransBytes, 0);
  assert.equal(r.connections[0].origBytes, 4000);
  assert.equal(r.connections[0].history, 'ShADa');
});

test('a mid-stream start is partial and keeps exact relative numbering', async () => {
  const r = await analyze([file([
    { tsSec: 1000, src: C, dst: S, flags: 'PA', seq: 5000, ack: 9000, len: 10 },
    { tsSec: 1000, tsUsec: 5, src: S, dst: C, flags: 'PA', seq: 9000, ack: 5010, len: 30 },
    { tsSec: 1000, tsUsec: 9, src: C, dst: S, flags: 'A', seq: 5010, ack: 9030 },
  ])]);
  const c = r.connections[0];
  assert.equal(c.state, 'OTH');
  assert.equal(c.history, 'DdA');
  assert.equal(c.origBytes, 10);
  assert.equal(c.respBytes, 30);
});

test('history: letters past the tenth, flips and reuse keep the exact string (packed history)', async () => {
  const { Connection, SegmentArena } = await import('../src/tcp/connection.js');
  const arena = new SegmentArena();
  const letters = ['S', 'H', 'A', 'D', 'F', 'R', 'C', 'W', 'T', 'G', 'I', 'Q'];
  let seed = 7;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  for (let round = 0; round < 200; round++) {
    const c = new Connection(arena);
    let model = '';
    const n = rand(30);
    const flipAt = rand(3) === 0 ? rand(n + 1) : -1;
    for (let i = 0; i < n; i++) {
      if (i === flipAt) {
        c.flip();
        model = '^' + [...model].map((ch) => (ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase())).join('');
      }
      const code = letters[rand(letters.length)];
      const fromOrig = rand(2) === 0;
      c.addHistory(code, fromOrig);
      model += fromOrig ? code : code.toLowerCase();
    }
    assert.equal(c.history, model, `round ${round}`);
    c.releaseLog();
    assert.equal(c.reuse().history, '', `round ${round}: reused`);
  }
});

test('without evidence (flows) connection records are the same: RST summaries match the full RST records', async () => {
  const { readdirSync } = await import('node:fs');
  const files = readdirSync(CAPTURES).filter((f) => f.endsWith('.pcap')).map((f) => join(CAPTURES, f));
  const recs = await bothWays(files);
  assert.ok(recs.some((r) => r.resets.length > 0));
});

test("a RST's shape does not depend on what the segment log still holds of the segment it answers", async () => {
  // Client segments at log positions 2 (ack 5001) and 6 (ack 5031); then k server
  // segments and a bare RST from the server at position 7 + k. The ring keeps
  // the last 16 positions, the RST's included: position 6 is still there for
  // k = 14 and gone for k = 15. The shape comes from the endpoint's own record
  // of the client's acks (Endpoint.lastAck, flightAck), in both modes.
  for (const k of [14, 15]) {
    for (const rstSeq of [5001, 5031]) {
      const segs: Seg[] = [
        { tsSec: 1000, src: C, dst: S, flags: 'S', seq: 100 },
        { tsSec: 1000, tsUsec: 1, src: S, dst: C, flags: 'SA', seq: 5000, ack: 101 },
        { tsSec: 1000, tsUsec: 2, src: C, dst: S, flags: 'A', seq: 101, ack: 5001 },
        { tsSec: 1000, tsUsec: 3, src: S, dst: C, flags: 'PA', seq: 5001, ack: 101, len: 10 },
        { tsSec: 1000, tsUsec: 4, src: S, dst: C, flags: 'PA', seq: 5011, ack: 101, len: 10 },
        { tsSec: 1000, tsUsec: 5, src: S, dst: C, flags: 'PA', seq: 5021, ack: 101, len: 10 },
        { tsSec: 1000, tsUsec: 6, src: C, dst: S, flags: 'A', seq: 101, ack: 5031 },
      ];
      for (let i = 0; i < k; i++) segs.push({ tsSec: 1000, tsUsec: 10 + i, src: S, dst: C, flags: 'PA', seq: 5031 + 10 * i, ack: 101, len: 10 });
      segs.push({ tsSec: 1000, tsUsec: 100, src: S, dst: C, flags: 'R', seq: rstSeq });
      const [rec] = await bothWays([file(segs)]);
      assert.equal(rec.resets.length, 1);
      // Both are socketless: 5031 is the client's latest ack, and its segments from position 2 on (ack 5001)
      // may still be in flight, since the server never acknowledged new client data after them
      assert.equal(rec.resets[0].shape, 'socketless', `k ${k}, RST seq ${rstSeq}`);
      // one more below the client's acks: answers none of its segments
      const [low] = await bothWays([file([...segs.slice(0, -1), { tsSec: 1000, tsUsec: 100, src: S, dst: C, flags: 'R', seq: 4000 }])]);
      assert.equal(low.resets[0].shape, 'other', `k ${k}, RST seq 4000`);
    }
  }
});

test('the SYN retry horizon closes an attempt 70 s after its last SYN, whatever other attempts were armed after it (same with --workers)', async () => {
  const A: [string, number] = ['10.0.9.1', 41000];
  const B: [string, number] = ['10.0.9.2', 41001];
  const X: [string, number] = ['10.0.9.3', 41002];
  const Y: [string, number] = ['10.0.9.4', 41003];
  const segs: Seg[] = [
    { tsSec: 1000, src: A, dst: S, flags: 'S', seq: 1 },
    { tsSec: 1005, src: A, dst: S, flags: 'S', seq: 1 }, // A's retry: its horizon now ends at 1075
    { tsSec: 1010, src: B, dst: S, flags: 'S', seq: 7 }, // B's horizon ends at 1080, armed after A's first
    { tsSec: 1071, src: X, dst: S, flags: 'S', seq: 9 }, // A's first deadline (1070) comes up: re-armed for 1075
    { tsSec: 1076, src: Y, dst: S, flags: 'S', seq: 11 }, // A's re-armed deadline passed: A's attempt closes here
    { tsSec: 1077, src: A, dst: S, flags: 'S', seq: 1 }, // so this SYN starts a new record
  ];
  const f = file(segs);
  const one = await analyze([f], { keepRecords: true });
  const ofA = one.connections.filter((c) => c.orig.port === 41000);
  // a FIFO of deadlines kept A's entry (1075) behind B's (1080): A stayed open and took the SYN at 1077
  assert.equal(ofA.length, 2, JSON.stringify(ofA.map((c) => [c.firstFrame, c.lastFrame, c.endReason])));
  assert.deepEqual(ofA.map((c) => [c.firstFrame, c.lastFrame, c.endReason]), [[1, 2, 'timeout'], [6, 6, 'end']]);
  const lanes = await analyze([f], { keepRecords: true, workers: 2 });
  assert.deepEqual(lanes.connections, one.connections);
});
