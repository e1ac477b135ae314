/**
 * The packed layouts (src/tcp/segment-log.ts, rst-summary.ts, history.ts,
 * milestones.ts): every field written reads back, at the ring boundary and at
 * extreme values.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Frame } from '../src/capture/frame.js';
import { newPacket, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../src/decode/packet.js';
import { Connection } from '../src/tcp/connection.js';
import {
  appendInline, decodeHistory, flippedHistory, flipSeen, H_FIN, H_MULTI, H_SYN, HIST_INLINE, seenMask, symbolOf, symbolOfLetter,
} from '../src/tcp/history.js';
import {
  flipRstSummary, packRstSummary, rstSummaryAcceptance, rstSummaryFrame, rstSummaryFromOrig, rstSummaryShape,
} from '../src/tcp/rst-summary.js';
import {
  copySegment, flipSegments, HEAD_SEGMENTS, LOG_SLOTS, MAX_SYN_TIMES, oldestInRing, PIN_BASE_ORIG, PIN_BASE_RESP, PIN_FIN,
  PIN_DATA_AFTER_PEER_FIN, readSegment, SEG_I32, segmentAckRel, segmentFromOrig, SegmentArena, slotOf, synFrames, synTimes,
  TAIL_SEGMENTS, writeSegment, writeSyn, type Segment,
} from '../src/tcp/segment-log.js';

function frame(frameNo: number, tsSec: number, tsNsec: number): Frame {
  return { frameNo, tsSec, tsNsec, linkType: 1, capLen: 0, origLen: 0, buf: Buffer.alloc(0), offset: 0, interfaceId: 0, fileOffset: 0 } as Frame;
}

/** A segment with every field set from `n` (distinct per field and per n), including extremes. */
function sample(n: number): Segment {
  const extremes = n % 4;
  return {
    frame: extremes === 0 ? 0xffffffff : n + 1,
    tsSec: extremes === 0 ? 0xffffffff : 1_700_000_000 + n,
    tsNsec: extremes === 1 ? 999_999_999 : n * 7,
    fromOrig: n % 2 === 0,
    flags: [TCP_SYN, TCP_SYN | TCP_ACK, TCP_ACK | TCP_PSH, TCP_FIN | TCP_ACK, TCP_RST, 0xff][n % 6],
    seq: extremes === 2 ? 0xffffffff : (n * 2654435761) >>> 0,
    ack: extremes === 3 ? 0x80000000 : (n * 40503) >>> 0,
    // relative offsets past 2^32 (sequence wrap) and negative ones
    seqRel: [0, 2 ** 32 + n, 5 * 2 ** 32 - 1, -(2 ** 33) - n][extremes],
    ackRel: [-1, 2 ** 52 - n, 2 ** 31, 2 ** 32][extremes],
    len: extremes === 0 ? 65535 : n,
    win: extremes === 1 ? 65535 : n * 3,
    ttl: extremes === 2 ? 255 : n % 200,
    ipId: extremes === 3 ? -1 : (n * 31) & 0xffff,
    optMask: n & 0x3f,
    retrans: n % 3 === 0,
  };
}

function write(l: Int32Array, base: number, slot: number, s: Segment): void {
  const p = newPacket();
  p.flags = s.flags; p.seq = s.seq | 0; p.ack = s.ack | 0; p.payloadLen = s.len; p.window = s.win;
  p.ttl = s.ttl; p.ipId = s.ipId; p.optMask = s.optMask;
  writeSegment(l, base, slot, p, frame(s.frame | 0, s.tsSec | 0, s.tsNsec), s.fromOrig, s.retrans, s.seqRel, s.ackRel);
}

test('segment log: every field of every slot reads back (extreme values, neighbours untouched)', () => {
  const arena = new SegmentArena();
  const ids = [arena.alloc(), arena.alloc()];
  const l = arena.i32[0];
  for (const id of ids) {
    const base = SegmentArena.i32Base(id);
    for (let slot = 0; slot < LOG_SLOTS; slot++) write(l, base, slot, sample(id * 100 + slot));
  }
  for (const id of ids) {
    const base = SegmentArena.i32Base(id);
    for (let slot = 0; slot < LOG_SLOTS; slot++) {
      const want = sample(id * 100 + slot);
      assert.deepEqual(readSegment(l, base, slot), want, `slot ${id}/${slot}`);
      assert.equal(segmentFromOrig(l, base, slot), want.fromOrig);
      assert.equal(segmentAckRel(l, base, slot), want.ackRel);
    }
  }
  assert.equal(SegmentArena.SLOT_I32, LOG_SLOTS * SEG_I32);
});

test('segment log: head then ring positions, at the wrap', () => {
  for (let n = 0; n < HEAD_SEGMENTS; n++) assert.equal(slotOf(n), n);
  assert.equal(slotOf(HEAD_SEGMENTS), HEAD_SEGMENTS);
  assert.equal(slotOf(HEAD_SEGMENTS + TAIL_SEGMENTS - 1), HEAD_SEGMENTS + TAIL_SEGMENTS - 1);
  assert.equal(slotOf(HEAD_SEGMENTS + TAIL_SEGMENTS), HEAD_SEGMENTS); // wraps onto the ring's first slot
  assert.equal(slotOf(2 ** 40 + HEAD_SEGMENTS), HEAD_SEGMENTS + (2 ** 40 % TAIL_SEGMENTS));
  assert.equal(oldestInRing(3), HEAD_SEGMENTS);
  assert.equal(oldestInRing(HEAD_SEGMENTS + TAIL_SEGMENTS + 5), HEAD_SEGMENTS + 5);
  // a connection's evidence through the wrap: head, then the last TAIL_SEGMENTS in order
  const c = new Connection(new SegmentArena());
  const total = HEAD_SEGMENTS + TAIL_SEGMENTS + 3;
  for (let n = 0; n < total; n++) write(c.logI32, c.logI, c.nextSlot(), sample(n));
  const frames = c.evidence().map((s) => s.frame);
  const want: number[] = [];
  for (let n = 0; n < HEAD_SEGMENTS; n++) want.push(sample(n).frame);
  for (let n = total - TAIL_SEGMENTS; n < total; n++) want.push(sample(n).frame);
  assert.deepEqual(frames, want);
  // lastFrom skips positions the ring overwrote and falls back to the head
  const lastOrig = c.lastFrom(true, total);
  assert.equal(lastOrig?.frame, sample(total - 1).fromOrig ? sample(total - 1).frame : sample(total - 2).frame);
});

test('segment log: pins copy a slot; a flip swaps the side of every slot', () => {
  const arena = new SegmentArena();
  const id = arena.alloc();
  const l = arena.i32[0];
  const base = SegmentArena.i32Base(id);
  for (let slot = 0; slot < LOG_SLOTS; slot++) write(l, base, slot, sample(slot));
  copySegment(l, base, HEAD_SEGMENTS + TAIL_SEGMENTS - 1, PIN_BASE_RESP + PIN_DATA_AFTER_PEER_FIN);
  assert.deepEqual(readSegment(l, base, PIN_BASE_RESP + PIN_DATA_AFTER_PEER_FIN), sample(HEAD_SEGMENTS + TAIL_SEGMENTS - 1));
  flipSegments(l, base);
  for (let slot = 0; slot < LOG_SLOTS; slot++) {
    const s = readSegment(l, base, slot);
    const want = slot === PIN_BASE_RESP + PIN_DATA_AFTER_PEER_FIN ? sample(HEAD_SEGMENTS + TAIL_SEGMENTS - 1) : sample(slot);
    assert.deepEqual(s, { ...want, fromOrig: !want.fromOrig }, `slot ${slot}`);
  }
  assert.ok(PIN_BASE_ORIG + PIN_FIN < PIN_BASE_RESP);
});

test('SYN times: every time and frame reads back, per side', () => {
  const d = new Float64Array(SegmentArena.SLOT_F64);
  for (let i = 0; i < MAX_SYN_TIMES; i++) {
    writeSyn(d, 0, i, 1_700_000_000.123456789 + i, 0xffffffff - i);
    writeSyn(d, 2 * MAX_SYN_TIMES, i, i / 3, i);
  }
  assert.deepEqual(synTimes(d, 0, MAX_SYN_TIMES), Array.from({ length: MAX_SYN_TIMES }, (_, i) => 1_700_000_000.123456789 + i));
  assert.deepEqual(synFrames(d, 0, 3), [0xffffffff, 0xfffffffe, 0xfffffffd]);
  assert.deepEqual(synTimes(d, 2 * MAX_SYN_TIMES, 2), [0, 1 / 3]);
  assert.deepEqual(synFrames(d, 2 * MAX_SYN_TIMES, MAX_SYN_TIMES), Array.from({ length: MAX_SYN_TIMES }, (_, i) => i));
});

test('milestones: pins and SYN times through a connection, after a flip and a reuse', () => {
  const c = new Connection(new SegmentArena());
  const slot = c.nextSlot();
  write(c.logI32, c.logI, slot, sample(5));
  c.origM.pin(PIN_FIN, slot);
  c.origM.addSyn(12.5, 3);
  c.respM.addSyn(13.25, 4);
  assert.deepEqual(c.origM.fin, sample(5));
  assert.equal(c.origM.pinnedAckRel(PIN_FIN), sample(5).ackRel);
  assert.equal(c.respM.fin, null);
  assert.equal(c.respM.pinnedAckRel(PIN_FIN), -1);
  c.flip();
  assert.deepEqual(c.respM.fin, { ...sample(5), fromOrig: !sample(5).fromOrig });
  assert.deepEqual(c.respM.synTimes, [12.5]);
  assert.deepEqual(c.origM.synFrames, [4]);
  assert.equal(c.origM.lastSynTime(), 13.25);
  c.releaseLog();
  c.reuse();
  assert.equal(c.origM.fin, null);
  assert.deepEqual(c.origM.synTimes, []);
});

test('RST summary: every field reads back; a flip swaps only the side', () => {
  for (const frame of [0, 1, 2 ** 31 - 1, 2 ** 31, 0xffffffff]) {
    for (const fromOrig of [false, true]) {
      for (let shape = 0; shape < 4; shape++) {
        for (let acc = 0; acc < 4; acc++) {
          const v = packRstSummary(frame, fromOrig, shape, acc);
          assert.ok(Number.isSafeInteger(v));
          assert.equal(rstSummaryFrame(v), frame);
          assert.equal(rstSummaryFromOrig(v), fromOrig);
          assert.equal(rstSummaryShape(v), shape);
          assert.equal(rstSummaryAcceptance(v), acc);
          const f = flipRstSummary(v);
          assert.equal(f, packRstSummary(frame, !fromOrig, shape, acc));
          assert.equal(flipRstSummary(f), v);
        }
      }
    }
  }
});

test('history: inline letters and the overflow string decode; flips swap sides and seen bits', () => {
  const letters = '^SHADFRCWTGIQshadfrcwtgiq';
  let code = 0;
  let more = '';
  let model = '';
  for (let i = 0; i < 3 * letters.length; i++) {
    const ch = letters[(i * 7) % letters.length];
    const sym = symbolOfLetter(ch);
    if (i < HIST_INLINE) code = appendInline(code, sym);
    else more += ch;
    model += ch;
    assert.equal(decodeHistory(code, i + 1, more), model);
  }
  assert.ok(Number.isSafeInteger(code));
  assert.equal(decodeHistory(0, 0, ''), '');
  assert.equal(symbolOf('S', true), symbolOfLetter('S'));
  assert.equal(symbolOf('S', false), symbolOfLetter('s'));
  assert.equal(symbolOf('Q', false), symbolOfLetter('q'));
  assert.equal(flippedHistory('ShAd'), '^sHaD');
  const seen = seenMask(H_SYN, true) | seenMask(H_FIN, false) | seenMask(H_MULTI, false);
  assert.equal(flipSeen(seen), seenMask(H_SYN, false) | seenMask(H_FIN, true) | seenMask(H_MULTI, true));
  assert.equal(flipSeen(flipSeen(seen)), seen);
});
