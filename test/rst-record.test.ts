/**
 * What a connection record says of its RSTs, in process (the modules of
 * `npm run mutate -- rst`: src/tcp/rst.ts, src/tcp/rst-summary.ts and the
 * acceptance in src/tcp/accounting.ts recordRst): the acceptance cases of
 * test/rst-acceptance.test.ts through analyze() instead of the CLI, the RST
 * shapes from their numbers (Linux's three ways of sending a RST, see
 * src/tcp/rst.ts), and the acceptance where the receiver's RCV.NXT or window
 * is unknown or odd. Every crafted capture also goes through `bothWays`: the
 * record built with evidence and the one built from the packed summaries alone
 * (`flows`) must agree.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { analyze } from '../src/analysis/analyze.js';
import { TCP_ACK, TCP_RST, TCP_SYN } from '../src/decode/packet.js';
import { MAX_RSTS, type RstRecord } from '../src/tcp/connection.js';
import { EpState } from '../src/tcp/endpoint.js';
import type { ConnRecord } from '../src/tcp/record.js';
import { RST_SHAPES, rstShape, rstShapeCode, type RstShape } from '../src/tcp/rst.js';
import { pcap, type Seg } from './pcap-writer.js';
import { acceptanceTests, C, established, IC, IS, S, type Analyzed } from './rst-acceptance-cases.js';
import { bothWays } from './rst-check.js';

const dir = mkdtempSync(join(tmpdir(), 'rstscope-rstrec-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, segs: Seg[]): string {
  const p = join(dir, `${name}.pcap`);
  writeFileSync(p, pcap(segs));
  return p;
}

acceptanceTests(async (_t, name, segs): Promise<Analyzed> => {
  const f = file(name, segs);
  await bothWays([f]);
  return analyze([f]);
});

/** the one connection of a crafted capture, its record with and without evidence agreeing */
async function record(name: string, segs: Seg[]): Promise<ConnRecord> {
  const recs = await bothWays([file(name, segs)]);
  assert.equal(recs.length, 1, `${name}: one connection`);
  return recs[0];
}

const RA = TCP_RST | TCP_ACK;
const R = TCP_RST;

interface ShapeCase {
  why: string; shape: RstShape;
  flags: number; seq: number; seqRel: number; ackRel: number; receiver: EpState;
  trigFlags: number; trigAck: number; senderMaxEndRel: number; acceptance: number;
  /** the in-flight mark (Endpoint.flightAck); the trigger when absent */
  flightFlags?: number; flightAck?: number;
}

// acceptance codes: 0 exact, 1 in-window, 2 out-of-window, 3 unknown (RST_ACCEPTANCES)
const SHAPES: ShapeCase[] = [
  { why: 'RST/ACK acknowledging the SYN (ack = ISN+1) while the receiver is in SYN_SENT: a refusal', shape: 'refusal',
    flags: RA, seq: 0, seqRel: 0, ackRel: 1, receiver: EpState.SynSent, trigFlags: TCP_SYN, trigAck: 0, senderMaxEndRel: 0, acceptance: 0 },
  { why: 'the same answering a SYN-ACK sent first (receiver in SYN_ACK_SENT): a refusal', shape: 'refusal',
    flags: RA, seq: 0, seqRel: 0, ackRel: 1, receiver: EpState.SynAckSent, trigFlags: TCP_SYN | TCP_ACK, trigAck: 0, senderMaxEndRel: 0, acceptance: 0 },
  { why: 'ack = ISN+1 after the handshake (receiver established): no refusal; not at SND.NXT and not exact: other', shape: 'other',
    flags: RA, seq: 500, seqRel: 5, ackRel: 1, receiver: EpState.Established, trigFlags: TCP_ACK, trigAck: 0, senderMaxEndRel: 9, acceptance: 2 },
  { why: 'in SYN_SENT but acknowledging something else than the SYN: no refusal', shape: 'other',
    flags: RA, seq: 500, seqRel: 3, ackRel: 5000, receiver: EpState.SynSent, trigFlags: TCP_SYN, trigAck: 0, senderMaxEndRel: 0, acceptance: 2 },
  { why: 'a bare RST in SYN_SENT (its ack field not valid): no refusal; the SYN it answers has no ACK: other', shape: 'other',
    flags: R, seq: 0, seqRel: 0, ackRel: 1, receiver: EpState.SynSent, trigFlags: TCP_SYN, trigAck: 0, senderMaxEndRel: 0, acceptance: 2 },
  { why: "a bare RST whose seq is the trigger's ack: socketless", shape: 'socketless',
    flags: R, seq: 123456, seqRel: 40, ackRel: -1, receiver: EpState.Established, trigFlags: TCP_ACK, trigAck: 123456, senderMaxEndRel: 99, acceptance: 1 },
  { why: "the same with the seq past 2^31 (raw unsigned) and the ack signed: socketless", shape: 'socketless',
    flags: R, seq: 0xfffffff0, seqRel: 40, ackRel: -1, receiver: EpState.Established, trigFlags: TCP_ACK, trigAck: -16, senderMaxEndRel: 99, acceptance: 1 },
  { why: "a bare RST one past the trigger's ack: other", shape: 'other',
    flags: R, seq: 123457, seqRel: 41, ackRel: -1, receiver: EpState.Established, trigFlags: TCP_ACK, trigAck: 123456, senderMaxEndRel: 99, acceptance: 1 },
  { why: 'a bare RST at SND.NXT: no ACK, so not a live socket; no trigger ack to match: other', shape: 'other',
    flags: R, seq: 123457, seqRel: 99, ackRel: -1, receiver: EpState.Established, trigFlags: TCP_ACK, trigAck: 123456, senderMaxEndRel: 99, acceptance: 0 },
  { why: 'a bare RST matching the ack field of a trigger without ACK (not a valid ack): other', shape: 'other',
    flags: R, seq: 77, seqRel: 40, ackRel: -1, receiver: EpState.Established, trigFlags: TCP_SYN, trigAck: 77, senderMaxEndRel: 99, acceptance: 1 },
  { why: 'a bare RST with seq 0 and no trigger at all: other', shape: 'other',
    flags: R, seq: 0, seqRel: 0, ackRel: -1, receiver: EpState.Inactive, trigFlags: -1, trigAck: 0, senderMaxEndRel: 0, acceptance: 3 },
  { why: 'RST/ACK at the sender\'s SND.NXT, though out of the window: live socket', shape: 'live-socket',
    flags: RA, seq: 9000, seqRel: 101, ackRel: 7, receiver: EpState.Established, trigFlags: TCP_ACK, trigAck: 9000, senderMaxEndRel: 101, acceptance: 2 },
  { why: 'RST/ACK exactly at RCV.NXT, below SND.NXT: live socket', shape: 'live-socket',
    flags: RA, seq: 8950, seqRel: 51, ackRel: 7, receiver: EpState.Established, trigFlags: TCP_ACK, trigAck: 1, senderMaxEndRel: 101, acceptance: 0 },
  { why: 'RST/ACK in the window, neither at SND.NXT nor exact: other', shape: 'other',
    flags: RA, seq: 8950, seqRel: 51, ackRel: 7, receiver: EpState.Established, trigFlags: TCP_ACK, trigAck: 1, senderMaxEndRel: 101, acceptance: 1 },
  { why: 'RST/ACK with the acceptance unknown, not at SND.NXT: other', shape: 'other',
    flags: RA, seq: 8950, seqRel: 51, ackRel: 7, receiver: EpState.Partial, trigFlags: -1, trigAck: 0, senderMaxEndRel: 101, acceptance: 3 },
  { why: 'a bare RST at the ack of a segment in flight, between the in-flight mark and the latest ack: socketless (one of a burst)', shape: 'socketless',
    flags: R, seq: 123500, seqRel: 40, ackRel: -1, receiver: EpState.Established, trigFlags: TCP_ACK, trigAck: 123600, senderMaxEndRel: 99, acceptance: 1,
    flightFlags: TCP_ACK, flightAck: 123400 },
  { why: 'a bare RST at the in-flight mark itself: socketless', shape: 'socketless',
    flags: R, seq: 123400, seqRel: 40, ackRel: -1, receiver: EpState.Established, trigFlags: TCP_ACK, trigAck: 123600, senderMaxEndRel: 99, acceptance: 1,
    flightFlags: TCP_ACK, flightAck: 123400 },
  { why: 'a bare RST below the in-flight mark: other', shape: 'other',
    flags: R, seq: 123399, seqRel: 40, ackRel: -1, receiver: EpState.Established, trigFlags: TCP_ACK, trigAck: 123600, senderMaxEndRel: 99, acceptance: 1,
    flightFlags: TCP_ACK, flightAck: 123400 },
  { why: 'a bare RST past the latest ack: other', shape: 'other',
    flags: R, seq: 123601, seqRel: 40, ackRel: -1, receiver: EpState.Established, trigFlags: TCP_ACK, trigAck: 123600, senderMaxEndRel: 99, acceptance: 1,
    flightFlags: TCP_ACK, flightAck: 123400 },
  // the in-flight range's edges: it needs the latest segment with ACK, and acks in order (the latest at most 2^31 - 1
  // past the mark); the mark itself counts whatever the latest segment is
  { why: 'a bare RST at the in-flight mark when the latest segment has no ACK: socketless (the mark is a segment in flight)', shape: 'socketless',
    flags: R, seq: 123400, seqRel: 40, ackRel: -1, receiver: EpState.Established, acceptance: 1,
    trigFlags: TCP_SYN, trigAck: 123600, senderMaxEndRel: 99, flightFlags: TCP_ACK, flightAck: 123400 },
  { why: 'a bare RST inside the range when the latest segment has no ACK: other (no range without the latest ack)', shape: 'other',
    flags: R, seq: 123500, seqRel: 40, ackRel: -1, receiver: EpState.Established, acceptance: 1,
    trigFlags: TCP_SYN, trigAck: 123600, senderMaxEndRel: 99, flightFlags: TCP_ACK, flightAck: 123400 },
  { why: 'a bare RST at the in-flight mark when the latest ack went back below it: socketless', shape: 'socketless',
    flags: R, seq: 123400, seqRel: 40, ackRel: -1, receiver: EpState.Established, acceptance: 1,
    trigFlags: TCP_ACK, trigAck: 123300, senderMaxEndRel: 99, flightFlags: TCP_ACK, flightAck: 123400 },
  { why: 'a bare RST past the in-flight mark when the latest ack went back below it: other (acks out of order, no range)', shape: 'other',
    flags: R, seq: 123450, seqRel: 40, ackRel: -1, receiver: EpState.Established, acceptance: 1,
    trigFlags: TCP_ACK, trigAck: 123300, senderMaxEndRel: 99, flightFlags: TCP_ACK, flightAck: 123400 },
  { why: 'the latest ack 2^31 - 1 past the mark: still in order, a bare RST one past the mark is socketless', shape: 'socketless',
    flags: R, seq: 0x1001, seqRel: 40, ackRel: -1, receiver: EpState.Established, acceptance: 1,
    trigFlags: TCP_ACK, trigAck: 0x80000fff, senderMaxEndRel: 99, flightFlags: TCP_ACK, flightAck: 0x1000 },
  { why: 'the latest ack 2^31 past the mark: not in order, a bare RST one past the mark is other', shape: 'other',
    flags: R, seq: 0x1001, seqRel: 40, ackRel: -1, receiver: EpState.Established, acceptance: 1,
    trigFlags: TCP_ACK, trigAck: 0x80001000, senderMaxEndRel: 99, flightFlags: TCP_ACK, flightAck: 0x1000 },
  { why: 'the range across the 2^32 wrap (mark 2^32 - 16, latest ack 16): a bare RST at 0 is socketless', shape: 'socketless',
    flags: R, seq: 0, seqRel: 40, ackRel: -1, receiver: EpState.Established, acceptance: 1,
    trigFlags: TCP_ACK, trigAck: 16, senderMaxEndRel: 99, flightFlags: TCP_ACK, flightAck: 0xfffffff0 },
];

test('RST shapes from their numbers (rstShapeCode)', () => {
  for (const k of SHAPES) {
    // without an in-flight mark of its own, a case's segments in flight start at its trigger
    const code = rstShapeCode(k.flags, k.seq, k.seqRel, k.ackRel, k.receiver, k.trigFlags, k.trigAck, k.senderMaxEndRel, k.acceptance,
      k.flightFlags ?? k.trigFlags, k.flightAck ?? k.trigAck);
    assert.equal(RST_SHAPES[code], k.shape, k.why);
  }
});

test("RST shapes from a full record (rstShape): no trigger, a trigger, the acceptance's name", () => {
  const rec = (flags: number, seq: number, seqRel: number, trigger: { flags: number; ack: number } | null, acceptance: RstRecord['acceptance']): RstRecord =>
    ({
      seg: { flags, seq, seqRel, ackRel: 7 }, receiverState: EpState.Established, trigger, senderMaxEndRel: 101, acceptance,
      // the receiver's last ack is the trigger's (no separate in-flight mark)
      lastAck: trigger !== null && (trigger.flags & TCP_ACK) !== 0 ? trigger.ack : null, flightAck: null,
    }) as unknown as RstRecord;
  assert.equal(rstShape(rec(R, 0, 0, null, 'unknown')), 'other', 'bare RST seq 0, no trigger');
  assert.equal(rstShape(rec(R, 0, 0, { flags: TCP_ACK, ack: 0 }, 'unknown')), 'socketless', 'bare RST at the trigger ack 0');
  assert.equal(rstShape(rec(R, 5, 0, { flags: TCP_ACK, ack: 5 }, 'unknown')), 'socketless', 'bare RST at the trigger ack 5');
  assert.equal(rstShape(rec(RA, 8950, 51, { flags: TCP_ACK, ack: 1 }, 'exact')), 'live-socket', 'exact');
  assert.equal(rstShape(rec(RA, 8950, 51, { flags: TCP_ACK, ack: 1 }, 'in-window')), 'other', 'in window');
  assert.equal(rstShape(rec(RA, 8950, 101, { flags: TCP_ACK, ack: 1 }, 'out-of-window')), 'live-socket', 'at SND.NXT');
});

const reset = (frame: number, from: 'orig' | 'resp', shape: RstShape, acceptance: string) => ({ frame, from, shape, acceptance });

test("acceptance unknown: the receiver never acknowledged anything (mid-stream, the other side silent)", async () => {
  const c = await record('unknown', [
    { tsSec: 400, src: C, dst: S, flags: 'PA', seq: 5000, ack: 9000, len: 10 },
    { tsSec: 400, tsUsec: 100, src: C, dst: S, flags: 'RA', seq: 5010, ack: 9000 },
  ]);
  assert.deepEqual(c.resets, [reset(2, 'orig', 'live-socket', 'unknown')]);
});

test("RCV.NXT at the sender's first byte (the receiver acknowledges up to the mid-stream start: relative 0) is known", async () => {
  // the client's sequence base is its first seq minus one (Zeek's partial start), so the server's ack 4999 is RCV.NXT 0
  const c = await record('rcvnxt-zero', [
    { tsSec: 400, src: C, dst: S, flags: 'PA', seq: 5000, ack: 9000, len: 10 },
    { tsSec: 400, tsUsec: 100, src: S, dst: C, flags: 'A', seq: 9000, ack: 4999, win: 1000 },
    { tsSec: 400, tsUsec: 200, src: C, dst: S, flags: 'RA', seq: 5005, ack: 9000 },
  ]);
  assert.deepEqual(c.resets, [reset(3, 'orig', 'other', 'in-window')]);
});

test("a zero window: today's acceptance assumes a 65,535-byte window (doubtful, see docs/testing.md)", async () => {
  // RFC 9293 3.10.7.4 with RCV.WND = 0 would drop this RST (out-of-window); rstscope says in-window today
  const c = await record('zero-window', established(500, 0));
  assert.deepEqual(c.resets, [reset(6, 'orig', 'other', 'in-window')]);
  const far = await record('zero-window-far', established(65_535, 0));
  assert.deepEqual(far.resets, [reset(6, 'orig', 'other', 'out-of-window')]);
});

test(`a connection keeps its first ${MAX_RSTS} RSTs`, async () => {
  const segs = established(0, 1000);
  const rst = segs.pop()!;
  for (let i = 0; i <= MAX_RSTS; i++) segs.push({ ...rst, tsUsec: 500 + i });
  const c = await record('many-rsts', segs);
  assert.deepEqual(c.resets.map((r) => r.frame), Array.from({ length: MAX_RSTS }, (_, i) => 6 + i));
});

test('a RST as the first packet of a connection (the first slot of the log) has its full record; with no trigger it is no socketless RST', async () => {
  // seq 0 equals the (absent) trigger's ack field as the tracker starts it: still no trigger, so 'other'
  const c = await record('rst-first', [{ tsSec: 400, src: S, dst: C, flags: 'R', seq: 0 }]);
  // the server's port (8080) makes it the responder although it sent the first packet
  assert.deepEqual(c.resets, [reset(1, 'resp', 'other', 'unknown')]);
});

test("a SYN's ack field is no ack: a bare RST at it is not socketless (SYN retransmitted; SYN found in the log's first segments)", async () => {
  const syn: Seg = { tsSec: 400, src: C, dst: S, flags: 'S', seq: IC };
  const rst0: Seg = { tsSec: 401, src: S, dst: C, flags: 'R', seq: 0 };
  // the trigger is the retransmitted SYN (the second segment), its ack field 0
  const again = await record('syn-again', [syn, { ...syn, tsUsec: 100 }, rst0]);
  assert.deepEqual(again.resets, [reset(3, 'resp', 'other', 'out-of-window')]);
  // the client's last segment (position 6) is gone from the ring when the RST comes: the trigger falls back to
  // the client's last one among the log's first six, its SYN
  const segs: Seg[] = [syn, { tsSec: 400, tsUsec: 1, src: S, dst: C, flags: 'SA', seq: IS, ack: IC + 1 }];
  for (let i = 0; i < 4; i++) segs.push({ tsSec: 400, tsUsec: 2 + i, src: S, dst: C, flags: 'PA', seq: IS + 1 + 10 * i, ack: IC + 1, len: 10 });
  segs.push({ tsSec: 400, tsUsec: 6, src: C, dst: S, flags: 'A', seq: IC + 1, ack: IS + 41 });
  for (let i = 0; i < 15; i++) segs.push({ tsSec: 400, tsUsec: 10 + i, src: S, dst: C, flags: 'PA', seq: IS + 41 + 10 * i, ack: IC + 1, len: 10 });
  const head = await record('syn-in-head', [...segs, { ...rst0, tsSec: 400, tsUsec: 100 }]);
  assert.equal(head.resets.length, 1);
  assert.equal(head.resets[0].shape, 'other');
});

test("a burst of bare RSTs answering the receiver's segments in flight: socketless from the in-flight mark to the latest ack, inclusive", async () => {
  // The server acknowledges the client's first data (the in-flight mark: the client's segment acking IS+11), then
  // sends more data without acknowledging the client's later segments (acking IS+21, IS+31: in flight). Its socket
  // gone, the server's kernel answers each client segment with a bare RST at that segment's ack.
  const segs: Seg[] = [
    { tsSec: 300, src: C, dst: S, flags: 'S', seq: IC },
    { tsSec: 300, tsUsec: 1, src: S, dst: C, flags: 'SA', seq: IS, ack: IC + 1 },
    { tsSec: 300, tsUsec: 2, src: C, dst: S, flags: 'A', seq: IC + 1, ack: IS + 1 },
    { tsSec: 300, tsUsec: 3, src: S, dst: C, flags: 'PA', seq: IS + 1, ack: IC + 1, len: 10 },
    { tsSec: 300, tsUsec: 4, src: C, dst: S, flags: 'PA', seq: IC + 1, ack: IS + 11, len: 10 },
    { tsSec: 300, tsUsec: 5, src: S, dst: C, flags: 'PA', seq: IS + 11, ack: IC + 11, len: 10 }, // acks new client data: the mark
    { tsSec: 300, tsUsec: 6, src: C, dst: S, flags: 'PA', seq: IC + 11, ack: IS + 21, len: 10 },
    { tsSec: 300, tsUsec: 7, src: S, dst: C, flags: 'PA', seq: IS + 21, ack: IC + 11, len: 10 }, // nothing new acked
    { tsSec: 300, tsUsec: 8, src: C, dst: S, flags: 'PA', seq: IC + 21, ack: IS + 31, len: 10 }, // the latest ack
  ];
  const rsts = [IS + 31, IS + 21, IS + 11, IS + 10, IS + 32, IS + 1];
  rsts.forEach((seq, i) => segs.push({ tsSec: 300, tsUsec: 100 + i, src: S, dst: C, flags: 'R', seq }));
  const c = await record('inflight-burst', segs);
  assert.deepEqual(c.resets.map((r) => [r.frame, r.from, r.shape]), [
    [10, 'resp', 'socketless'], [11, 'resp', 'socketless'], [12, 'resp', 'socketless'],
    [13, 'resp', 'other'], [14, 'resp', 'other'], [15, 'resp', 'other'],
  ]);
});

test("an in-flight mark on a SYN (no ACK): a bare RST at the SYN's ack field is no socketless RST", async () => {
  // the server's SYN-ACK acknowledges the client's SYN: the client's segments in flight start at that SYN, whose
  // ack field (here 0) is no ack; the bare RST at 0 answers nothing the client sent
  const c = await record('syn-mark', [
    { tsSec: 400, src: C, dst: S, flags: 'S', seq: IC },
    { tsSec: 400, tsUsec: 1, src: S, dst: C, flags: 'SA', seq: IS, ack: IC + 1 },
    { tsSec: 400, tsUsec: 2, src: S, dst: C, flags: 'R', seq: 0 },
  ]);
  assert.deepEqual(c.resets.map((r) => [r.frame, r.from, r.shape]), [[3, 'resp', 'other']]);
});
