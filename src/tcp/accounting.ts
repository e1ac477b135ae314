/**
 * Zeek's per-segment accounting of a connection (TCPSessionAdapter's
 * DeliverPacket side and update_history): sequence bases, history letters,
 * windows, retransmissions, content gaps, keep-alive probes, per-endpoint
 * counters, and the summary of each RST the connection record lists. What
 * rstscope records beyond that for its rules goes to the evidence recorder
 * (src/tcp/evidence.ts); the state machine runs after (src/tcp/state-machine.ts).
 */
import type { Frame } from '../capture/frame.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type Packet } from '../decode/packet.js';
import { type Connection, MAX_RSTS } from './connection.js';
import { type Endpoint, EpState } from './endpoint.js';
import type { Recorder } from './evidence.js';
import { H_ACK, H_DATA, H_FIN, H_FIN_RST, H_MULTI, H_RST, H_SYN } from './history.js';
import { RST_ACCEPTANCES, rstShapeCode } from './rst.js';
import { packRstSummary } from './rst-summary.js';
import { unwrapRel } from './seq.js';
import type { Clock } from './timers.js';

export class Accounting {
  /**
   * @param checksums ignore (and count) segments with a bad checksum, as Zeek does
   * @param stats where bad checksums are counted
   */
  constructor(private readonly clock: Clock, private readonly ev: Recorder, private readonly checksums: boolean,
    private readonly stats: { badChecksums: number }) {}

  /**
   * Accounts one segment of `c` sent by the originator (`fromOrig`) or the
   * responder; returns false when the segment is ignored (bad checksum), true
   * when the caller must run the state machine on it.
   */
  deliver(c: Connection, fromOrig: boolean, p: Packet, f: Frame): boolean {
    const now = this.clock.now;
    const ep = fromOrig ? c.orig : c.resp;
    const peer = fromOrig ? c.resp : c.orig;
    const flags = p.flags;
    const len = p.payloadLen;
    const syn = (flags & TCP_SYN) !== 0;
    const fin = (flags & TCP_FIN) !== 0;
    const rst = (flags & TCP_RST) !== 0;
    const ackFlag = (flags & TCP_ACK) !== 0;
    c.lastFrame = f.frameNo;
    c.lastTsSec = f.tsSec;
    c.lastTsNsec = f.tsNsec;
    // timers only move forward: one frame stamped in the past (a capture clock
    // step, merged files) must not make the next frame look idle for hours
    if (now > c.lastTime) c.lastTime = now;
    ep.pkts++;
    ep.ipBytes += p.ipLen;
    if (!ep.answeredPeer) answered(ep, p, syn, rst, ackFlag);

    if (this.checksums && p.badChecksum) {
      // Zeek notes the bad packet ('C', log scale) and otherwise ignores it.
      this.stats.badChecksums++;
      ep.badChecksums++;
      if (ep.badChecksums === ep.checksumThreshold) {
        c.addHistory('C', fromOrig);
        ep.checksumThreshold *= 10;
      }
      return false;
    }

    // Sequence base (Zeek's init_endpoint)
    if (ep.state === EpState.Inactive && !ep.seqInit) {
      ep.seqInit = true;
      if (syn) {
        ep.isn = p.seq;
        ep.sawSyn = true;
        ep.maxEndRel = 0;
      } else {
        ep.isn = (p.seq - 1) | 0;
        ep.maxEndRel = 1;
      }
    } else if (syn && (ep.state === EpState.SynSent || ep.state === EpState.SynAckSent) && p.seq !== ep.isn) {
      ep.isn = p.seq; // SYN_seq_jump
      ep.sawSyn = true;
      ep.maxEndRel = 0;
    } else if (syn && !ep.sawSyn && ep.state === EpState.Inactive) {
      ep.isn = p.seq;
      ep.sawSyn = true;
      ep.maxEndRel = 0;
    }
    // The peer's sequence base from our ACK when we have not seen it send yet (mid-stream start)
    if (ackFlag && !peer.seqInit && !rst) {
      peer.seqInit = true;
      peer.isn = (p.ack - 1) | 0;
      peer.maxEndRel = 1;
    }
    const seqRel = unwrapRel(p.seq, ep.isn, ep.maxEndRel);
    const ackRel = ackFlag && peer.seqInit ? unwrapRel(p.ack, peer.isn, peer.maxEndRel) : -1;
    const segLen = len + (syn ? 1 : 0) + (fin ? 1 : 0);

    // Zeek's update_history
    const bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0);
    if (bits > 1) {
      if (fin && rst) c.checkHistory(H_FIN_RST, 'I', fromOrig);
      else c.checkHistory(H_MULTI, 'Q', fromOrig);
    } else if (bits === 1) {
      if (syn) {
        const code = ackFlag ? 'H' : 'S';
        if (c.checkHistory(H_SYN, code, fromOrig) && seqRel !== ep.histLastSyn) c.addHistory(code, fromOrig);
        ep.histLastSyn = seqRel;
      }
      if (fin) {
        if (c.checkHistory(H_FIN, 'F', fromOrig) && seqRel + len !== ep.histLastFin) c.addHistory('F', fromOrig);
        ep.histLastFin = seqRel + len;
      }
      if (rst) {
        if (c.checkHistory(H_RST, 'R', fromOrig) && seqRel !== ep.histLastRst) c.addHistory('R', fromOrig);
        ep.histLastRst = seqRel;
      }
    } else if (len > 0) {
      c.checkHistory(H_DATA, 'D', fromOrig);
    } else if (ackFlag) {
      c.checkHistory(H_ACK, 'A', fromOrig);
    }

    // Window and options
    if (syn) {
      ep.wscale = p.optWscale;
      if (ackFlag && peer.wscale >= 0 && ep.wscale >= 0) {
        ep.windowShift = Math.min(ep.wscale, 14); // RFC 7323 2.3: larger values are treated as 14
        peer.windowShift = Math.min(peer.wscale, 14);
      }
      ep.window = p.window;
      if (ackFlag) {
        if (ep.synAckUs < 0) ep.synAckUs = usSince(c, now);
      } else if (peer.synAckUs < 0) ep.synUs = usSince(c, now);
    } else {
      ep.window = p.window << ep.windowShift; // at most 65535 << 14: below 2^31
      // the handshake's third segment (two field reads on every other segment)
      if (ep.hsAckUs < 0 && peer.synAckUs >= 0 && ep.synUs >= 0 && ackFlag && !rst) ep.hsAckUs = usSince(c, now);
    }
    if (p.window === 0 && !syn && !fin && !rst) {
      ep.zeroWindows++;
      if (ep.zeroWindows === ep.zeroWinThreshold) {
        c.addHistory('W', fromOrig);
        ep.zeroWinThreshold *= 10;
      }
    }

    // Keep-alive and zero-window probes: seq one below what was sent, at most one byte. Mid-stream (no SYN of
    // this side) the capture may not show what was sent: an empty segment one below what the peer acknowledged
    // is a probe too (RFC 9293 3.8.4: SEG.SEQ = SND.NXT-1); with len 0 it counts as no retransmission either way.
    const probe = !syn && !fin && !rst && ackFlag && len <= 1 && ep.finRel < 0 && ((ep.maxEndRel > 1 && seqRel === ep.maxEndRel - 1)
      || (len === 0 && !ep.sawSyn && seqRel === peer.maxAckRel - 1 && seqRel >= 0));
    // Retransmission: payload that starts below the highest sequence already sent
    const retrans = len > 0 && !probe && seqRel < ep.maxEndRel && ep.pkts > 1;
    if (retrans) {
      ep.retransPkts++;
      ep.retransBytes += Math.min(len, ep.maxEndRel - seqRel);
      if (ep.retransPkts === ep.rexmitThreshold) {
        c.addHistory('T', fromOrig);
        ep.rexmitThreshold *= 10;
      }
    }
    // Content gap in our own stream: a FIN beyond everything we were seen to send (data before it missed;
    // data segments beyond a hole are usually reordering, which fills in, so only a FIN counts)
    if (seqRel > ep.maxEndRel && ep.maxEndRel > 0 && fin && !rst && !syn) {
      const from = seenTo(ep);
      if (seqRel > from) {
        ep.missedBytes += seqRel - from; // the data before the FIN was sent and not captured
        ep.missedAckTo = seqRel;
      }
      ep.contentGaps++;
      if (ep.contentGaps === ep.gapThreshold) {
        c.addHistory('G', fromOrig);
        ep.gapThreshold *= 10;
      }
    }
    // Content gap: the ack covers peer data never seen on the wire
    if (ackRel > peer.maxEndRel && peer.seqInit && peer.state !== EpState.Inactive && !rst) {
      const from = seenTo(peer);
      // not an ACK for a SYN-SENT peer's stream: that is a stale connection's ACK (another sequence space), not loss
      if (ackRel > from && peer.state !== EpState.SynSent) {
        peer.missedBytes += ackRel - from;
        peer.missedAckTo = ackRel;
      }
      peer.contentGaps++;
      if (peer.contentGaps === peer.gapThreshold) {
        c.addHistory('G', !fromOrig);
        peer.gapThreshold *= 10;
      }
    }

    // where this segment goes in the log, and what recordRst needs of it without
    // one (kept with evidence too: the RST summaries then come from one code
    // path, which test/tracker.test.ts checks against the full RST records).
    const logIdx = c.segments;
    if (!rst) { // no RST answers a RST: a RST is never a trigger
      ep.lastSeg = ackFlag ? 1 : 0;
      ep.lastAck = p.ack;
    }
    // Evidence for the rules (src/tcp/evidence.ts; nothing without evidence):
    // the segment log and the teardown milestones.
    const ev = this.ev;
    const slot = ev.segment(c, fromOrig, p, f, seqRel, ackRel, retrans, probe);

    if (rst) this.recordRst(c, fromOrig, ep, peer, p, f, slot, seqRel, ackRel, logIdx);
    else {
      ep.nonRstPkts++;
      // The peer's segments after its last one we are known to have received may still be in flight when
      // our socket goes (a RST from us answers each at its ack, rst.ts): mark where they start when this
      // segment acknowledges new peer data, or when the mark has no ACK to start from.
      if (ackRel > ep.maxAckRel || peer.flightSeg !== 1) {
        peer.flightSeg = peer.lastSeg;
        peer.flightAck = peer.lastAck;
      }
      if (len > 0 && c.rsts.length > 0) ev.afterRst(c, fromOrig);
      if (p.ttl < ep.ttlNonRstMin) ep.ttlNonRstMin = p.ttl;
      if (p.ttl > ep.ttlNonRstMax) ep.ttlNonRstMax = p.ttl;
      ep.lastIpId = p.ipId;
      if (!syn) ep.optAlways = ep.optAlways < 0 ? p.optMask : ep.optAlways & p.optMask;
    }

    if (len > 0 && !probe) {
      ep.payloadBytes += len;
      c.lastDataTime = now;
      ev.data(c, fromOrig, peer, slot, len, rst);
    }
    if (syn) ev.syn(c, fromOrig, f, seqRel, ackFlag);

    const end = seqRel + segLen;
    if (len > 0 && !rst) this.holes(ep, seqRel, end);
    if (ackRel > peer.holeStart && peer.holeEnd !== 0 && !rst) declareHole(peer, ackRel);
    if (end > ep.maxEndRel && !rst) ep.maxEndRel = end;
    if (ackRel > ep.maxAckRel) ep.maxAckRel = ackRel;
    if (fin) {
      ep.finCount++;
      if (ep.finRel < 0) {
        ep.finRel = seqRel + len;
        ev.fin(c, fromOrig, peer, slot, ackRel);
      }
    }
    return true;
  }

  /**
   * Records a RST: always its summary for the connection record (frame, side,
   * shape, acceptance); with evidence, also the full RstRecord the rules read.
   * `logIdx` is the RST's position in the connection's segment log, `slot` its
   * slot there (-1 without evidence).
   */
  /**
   * Holes in `ep`'s stream (capture loss, or reordering the capture shows): a
   * data segment that starts past everything seen (and past what the peer
   * already acknowledged unseen, counted then) opens one; data landing at its
   * start fills it (a retransmission, a late packet). One hole is tracked at a
   * time: a new one while one is pending counts the pending one as missed.
   */
  private holes(ep: Endpoint, seqRel: number, end: number): void {
    const seen = seenTo(ep);
    if (seqRel > seen && ep.maxEndRel > 0) {
      if (ep.holeEnd !== 0) ep.missedBytes += ep.holeEnd - ep.holeStart;
      ep.holeStart = seen;
      ep.holeEnd = seqRel;
    } else if (ep.holeEnd !== 0 && seqRel <= ep.holeStart && end > ep.holeStart) {
      if (end >= ep.holeEnd) ep.holeStart = ep.holeEnd = 0;
      else ep.holeStart = end;
    }
  }

  private recordRst(c: Connection, fromOrig: boolean, ep: Endpoint, peer: Endpoint, p: Packet, f: Frame,
    slot: number, seqRel: number, ackRel: number, logIdx: number): void {
    const n = ++c.rstCount;
    if (n > MAX_RSTS) return;
    // the receiver's RCV.NXT as the wire shows it: its highest ack of our data
    const rcvNxt = peer.maxAckRel;
    // acceptance, as an index in RST_ACCEPTANCES: exact, in-window, out-of-window, unknown
    let acc = 3;
    if (peer.state === EpState.SynSent) {
      acc = ackRel === 1 &&
        // Stryker disable next-line ConditionalExpression: `true` is equivalent: without the ACK flag ackRel is -1 (deliver), so `ackRel === 1` already implies it
        (p.flags & TCP_ACK) !== 0 ? 0 : 2;
    } else if (rcvNxt >= 0) {
      const win = peer.window > 0 ? peer.window : 65535;
      if (seqRel === rcvNxt || seqRel === ep.maxEndRel) acc = 0;
      else if (
        // (inside the condition: before `else` the directive would trail the statement above, unseen by Stryker)
        // Stryker disable next-line EqualityOperator: `>=` is equivalent (seqRel === rcvNxt was exact above); the line's `<=` is killed
        seqRel > rcvNxt &&
        seqRel < rcvNxt + win) acc = 1;
      else acc = 2;
    }
    // The receiver's last segment (not a RST), whatever the log still holds of it, and where its segments
    // that may have been in flight start (Endpoint.lastSeg, flightSeg): a bare RST answering one of them
    // has its ack for seq (rst.ts)
    // Stryker disable next-line EqualityOperator: `<= 0` is equivalent (a segment without ACK, 0, then reads as none, -1: rstShapeCode and the `> 0` tests below treat both alike); the line's `>= 0` is killed
    const lastFlags = peer.lastSeg < 0 ? -1
      : peer.lastSeg !== 0 ? TCP_ACK : 0;
    // Stryker disable next-line EqualityOperator: `<= 0` is equivalent, as for lastFlags
    const flightFlags = peer.flightSeg < 0 ? -1
      : peer.flightSeg !== 0 ? TCP_ACK : 0;
    const shape = rstShapeCode(p.flags, p.seq, seqRel, ackRel, peer.state, lastFlags, peer.lastAck, ep.maxEndRel, acc,
      flightFlags, peer.flightAck);
    c.setRstSum(n - 1, packRstSummary(f.frameNo, fromOrig, shape, acc));
    // Stryker disable next-line ConditionalExpression: `true` is equivalent: slot is -1 only without evidence, whose NullRecorder.rst does nothing; the line's `false` is killed
    if (slot >= 0) {
      this.ev.rst(c, fromOrig, ep, peer, slot, logIdx, RST_ACCEPTANCES[acc], lastFlags > 0 ? peer.lastAck >>> 0 : null,
        flightFlags > 0 ? peer.flightAck >>> 0 : null, p, f);
    }
  }
}

/** How far `ep`'s stream is accounted for: seen on the wire, or already counted missed through the peer's ack. */
function seenTo(ep: Endpoint): number {
  return ep.missedAckTo > ep.maxEndRel ? ep.missedAckTo : ep.maxEndRel;
}

/**
 * The peer acknowledged past the start of `ep`'s pending hole: the bytes of the
 * hole up to that ack are missed (the receiver had them; the capture did not).
 */
function declareHole(ep: Endpoint, ackRel: number): void {
  const to = ackRel < ep.holeEnd ? ackRel : ep.holeEnd;
  ep.missedBytes += to - ep.holeStart;
  if (to >= ep.holeEnd) ep.holeStart = ep.holeEnd = 0;
  else ep.holeStart = to;
}

/** Bytes of `ep`'s pending hole that no ack declared and no data filled by the end. */
function pendingHole(ep: Endpoint): number {
  return ep.holeEnd !== 0 ? ep.holeEnd - ep.holeStart : 0;
}

/** The bytes the capture missed of connection `c` (ConnRecord.missedBytes, Zeek's missed_bytes). */
export function missedBytesOf(c: Connection): number {
  return c.orig.missedBytes + c.resp.missedBytes + pendingHole(c.orig) + pendingHole(c.resp);
}

/**
 * Whether `ep` answered something its peer sent during the capture
 * (Endpoint.answeredPeer: with no packet of the peer captured, the other
 * direction took another path). An ACK proves it when this side's own SYN is
 * in the record (the peer's SYN or SYN-ACK came right before it) or when the
 * acknowledgment moved (the peer sent new data meanwhile); an ACK that only
 * repeats one value may acknowledge bytes sent before the capture began. A
 * RST from SYN-SENT at another sequence number than ISN+1 answers an ACK of
 * the peer's (RFC 9293 3.10.7.3: seq = SEG.ACK); at ISN+1 it may be the
 * connecting side's own abort.
 */
function answered(ep: Endpoint, p: Packet, syn: boolean, rst: boolean, ackFlag: boolean): void {
  if (ackFlag) {
    if (syn || ep.sawSyn) ep.answeredPeer = true;
    else if (!ep.ackSeen) {
      ep.ackSeen = true;
      ep.firstAck = p.ack;
    } else if (p.ack !== ep.firstAck) ep.answeredPeer = true;
  } else if (rst && ep.state === EpState.SynSent && p.seq !== ((ep.isn + 1) | 0)) ep.answeredPeer = true;
}

/**
 * Microseconds from the connection's first packet to `now`, for the handshake
 * times (Endpoint.synUs): -1 when negative (a frame stamped in the past) or
 * beyond 2^30 us (about 18 minutes), so the fields stay small integers.
 */
function usSince(c: Connection, now: number): number {
  const us = Math.round((now - c.startTime) * 1e6);
  return us >= 0 && us < 0x40000000 ? us : -1;
}
