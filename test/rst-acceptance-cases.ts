/**
 * The crafted RST acceptance cases (RFC 5961 section 3.2, RFC 9293 sections
 * 3.10.7.3 and 3.10.7.4), shared by test/rst-acceptance.test.ts (through the
 * built CLI, with tshark reading each capture) and test/rst-record.test.ts (in
 * process: fast enough to run against every mutant of `npm run mutate -- rst`).
 * The why of each case and of the expected rules: test/rst-acceptance.test.ts.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { tcpOpt, type Seg } from './pcap-writer.js';

export const C: [string, number] = ['10.2.0.1', 42000];
export const S: [string, number] = ['10.2.0.2', 8080];
export const IC = 7_000_000; // client ISN
export const IS = 90_000; // server ISN

/**
 * Handshake (with window scale `ws` on both SYNs when given), 100 bytes from
 * the client, the server's ACK of them (RCV.NXT = IC+101) advertising `win`,
 * then a RST/ACK from the client at IC + 101 + `off`.
 */
export function established(off: number, win: number, ws?: number, opts: { unackedData?: number } = {}): Seg[] {
  const o = ws === undefined ? undefined : tcpOpt.wscale(ws);
  const extra = opts.unackedData ?? 0;
  const segs: Seg[] = [
    { tsSec: 200, src: C, dst: S, flags: 'S', seq: IC, opts: o },
    { tsSec: 200, tsUsec: 100, src: S, dst: C, flags: 'SA', seq: IS, ack: IC + 1, opts: o },
    { tsSec: 200, tsUsec: 200, src: C, dst: S, flags: 'A', seq: IC + 1, ack: IS + 1 },
    { tsSec: 200, tsUsec: 300, src: C, dst: S, flags: 'PA', seq: IC + 1, ack: IS + 1, len: 100 },
    { tsSec: 200, tsUsec: 400, src: S, dst: C, flags: 'A', seq: IS + 1, ack: IC + 101, win },
  ];
  // data the server has not acknowledged: the client's SND.NXT runs ahead of RCV.NXT
  if (extra > 0) segs.push({ tsSec: 200, tsUsec: 450, src: C, dst: S, flags: 'PA', seq: IC + 101, ack: IS + 1, len: extra });
  segs.push({ tsSec: 200, tsUsec: 500, src: C, dst: S, flags: 'RA', seq: IC + 101 + off, ack: IS + 1 });
  return segs;
}

interface Case { name: string; segs: Seg[]; acceptance: string; shape: string; rules: string[]; why: string }

const W = 1000;
const CASES: Case[] = [
  { name: 'exact', segs: established(0, W), acceptance: 'exact', shape: 'live-socket', rules: ['abortive-close'],
    why: 'seq = RCV.NXT: accepted, the connection is reset (the client aborted)' },
  { name: 'in-window', segs: established(500, W), acceptance: 'in-window', shape: 'other', rules: ['rst-suspicious'],
    why: 'RCV.NXT < seq < RCV.NXT+RCV.WND: challenge ACK, not accepted' },
  { name: 'lower-edge-below', segs: established(-1, W), acceptance: 'out-of-window', shape: 'other', rules: ['abortive-close'],
    why: 'seq = RCV.NXT-1, just below the window: dropped' },
  { name: 'upper-edge-inside', segs: established(W - 1, W), acceptance: 'in-window', shape: 'other', rules: ['rst-suspicious'],
    why: 'seq = RCV.NXT+RCV.WND-1, the last sequence number in the window: challenge ACK' },
  { name: 'upper-edge-outside', segs: established(W, W), acceptance: 'out-of-window', shape: 'other', rules: ['abortive-close'],
    why: 'seq = RCV.NXT+RCV.WND, the first one past the window: dropped' },
  { name: 'far-beyond', segs: established(1_000_000, W), acceptance: 'out-of-window', shape: 'other', rules: ['abortive-close'],
    why: 'seq 1,000,000 past a 1,000-byte window: dropped' },
  { name: 'scaled-inside', segs: established(5000, 100, 7), acceptance: 'in-window', shape: 'other', rules: ['rst-suspicious'],
    why: 'window field 100 with scale 7 on both SYNs is 12,800 bytes: seq RCV.NXT+5,000 is inside (unscaled it would be outside)' },
  { name: 'scaled-upper-edge', segs: established(12_800, 100, 7), acceptance: 'out-of-window', shape: 'other', rules: ['abortive-close'],
    why: 'seq = RCV.NXT + 100<<7: the first one past the scaled window' },
  { name: 'exact-with-data-in-flight', segs: established(0, W, undefined, { unackedData: 50 }), acceptance: 'exact', shape: 'live-socket', rules: ['abortive-close'],
    why: 'seq = RCV.NXT while 50 bytes the server has not acknowledged are in flight: still exact, so the shape is a live socket\'s RST' },
  { name: 'snd-nxt', segs: established(50, W, undefined, { unackedData: 50 }), acceptance: 'exact', shape: 'live-socket', rules: ['abortive-close'],
    why: 'seq = the client\'s SND.NXT (after 50 unacknowledged bytes), as Linux sends it: exact' },
];

/** What both tests read of an analysis: the JSON report's connections and findings (the same fields in process). */
export interface Analyzed {
  connections: { state: string; resets: { frame: number; from: string; shape: string; acceptance: string }[] }[];
  findings: { rule: string; frame: number }[];
}

/** Writes `segs` as the capture `name`, analyzes it, returns the report (the test context for subtests). */
export type Analyze = (t: TestContext, name: string, segs: Seg[]) => Promise<Analyzed>;

/** Registers the acceptance tests, each capture analyzed by `analyze`. */
export function acceptanceTests(analyze: Analyze): void {
  for (const k of CASES) {
    test(`RST ${k.name}: ${k.acceptance} (${k.why})`, async (t) => {
      const doc = await analyze(t, k.name, k.segs);
      assert.equal(doc.connections.length, 1);
      const rstFrame = k.segs.length;
      assert.deepEqual(doc.connections[0].resets, [{ frame: rstFrame, from: 'orig', shape: k.shape, acceptance: k.acceptance }], `${k.name}: resets`);
      assert.deepEqual(doc.findings.map((f) => `${f.rule}@${f.frame}`), k.rules.map((r) => `${r}@${rstFrame}`), `${k.name}: findings`);
    });
  }

  test('RST in SYN-SENT: acceptable only when it acknowledges the SYN (RFC 9293 3.10.7.3)', async (t) => {
    const synSent = (rst: Seg): Seg[] => [{ tsSec: 300, src: C, dst: S, flags: 'S', seq: IC }, rst];
    const ok = await analyze(t, 'synsent-ack', synSent({ tsSec: 300, tsUsec: 100, src: S, dst: C, flags: 'RA', seq: 0, ack: IC + 1 }));
    assert.deepEqual(ok.connections[0].resets, [{ frame: 2, from: 'resp', shape: 'refusal', acceptance: 'exact' }]);
    assert.equal(ok.connections[0].state, 'REJ');
    assert.deepEqual(ok.findings.map((f) => `${f.rule}@${f.frame}`), ['refused@2']);
    // acknowledging something else than the SYN: dropped by the client
    const bad = await analyze(t, 'synsent-badack', synSent({ tsSec: 300, tsUsec: 100, src: S, dst: C, flags: 'RA', seq: 0, ack: IC + 5000 }));
    assert.equal(bad.connections[0].resets[0].acceptance, 'out-of-window');
    // no ACK at all: not acceptable in SYN-SENT either; its trigger, the SYN, carries no ACK, so not a socketless
    // RST (those answer a segment's ACK number) although its seq 0 equals the SYN's (zero) ack field
    const noAck = await analyze(t, 'synsent-noack', synSent({ tsSec: 300, tsUsec: 100, src: S, dst: C, flags: 'R', seq: 0 }));
    assert.deepEqual(noAck.connections[0].resets, [{ frame: 2, from: 'resp', shape: 'other', acceptance: 'out-of-window' }]);
  });
}
