/**
 * rstscope's evidence recorder: what the rules read beyond Zeek's accounting
 * (the segment log, teardown milestones, SYN times, full RST records). The
 * tracker calls one recorder on every packet: an EvidenceRecorder for
 * `analyze`/`report`, a NullRecorder for `flows` (no rules, so no evidence):
 * two classes with the same methods, one of them per run, so each call site
 * sees one class (V8 keeps it monomorphic) and `flows` pays for none of it.
 * Connection records are the same either way (test/tracker.test.ts).
 */
import type { Frame } from '../capture/frame.js';
import { TCP_ACK, TCP_RST, type Packet } from '../decode/packet.js';
import { previewText } from '../decode/bytes.js';
import { type Connection, NONE, RST_PAYLOAD_MAX, type RstAcceptance, type Segment } from './connection.js';
import type { Endpoint } from './endpoint.js';
import { firstDataPast, MAX_SYN_TIMES, PIN_DATA_AFTER_PEER_FIN, PIN_FIN, writeSegment } from './segment-log.js';
import type { Clock } from './timers.js';

export interface Recorder {
  /** connections get an evidence slot */
  readonly keepsLog: boolean;
  /** Logs a segment (and counts probes); returns its slot in the log, -1 when nothing is logged. */
  segment(c: Connection, fromOrig: boolean, p: Packet, f: Frame, seqRel: number, ackRel: number, retrans: boolean, probe: boolean): number;
  /**
   * The full record of a RST whose summary was just made; `lastAck` and
   * `flightAck` as RstRecord's; p and f the RST itself (its payload is copied).
   */
  rst(c: Connection, fromOrig: boolean, ep: Endpoint, peer: Endpoint, slot: number, logIdx: number, acceptance: RstAcceptance,
    lastAck: number | null, flightAck: number | null, p: Packet, f: Frame): void;
  /** A non-RST segment with payload after a RST of the connection. */
  afterRst(c: Connection, fromOrig: boolean): void;
  /** Payload (not a probe) from `fromOrig`; the peer as before this segment. */
  data(c: Connection, fromOrig: boolean, peer: Endpoint, slot: number, len: number, rst: boolean): void;
  /** A SYN (or SYN-ACK) from `fromOrig`. */
  syn(c: Connection, fromOrig: boolean, f: Frame, seqRel: number, ack: boolean): void;
  /** The sender's first FIN. */
  fin(c: Connection, fromOrig: boolean, peer: Endpoint, slot: number, ackRel: number): void;
}

/** No evidence (`flows`): the connection only counts its segments. */
export class NullRecorder implements Recorder {
  readonly keepsLog = false;
  segment(c: Connection): number {
    c.segments++;
    return -1;
  }

  rst(): void {}
  afterRst(): void {}
  data(): void {}
  syn(): void {}
  fin(): void {}
}

/** Evidence for the rules: the segment log, milestones, SYN times and full RST records. */
export class EvidenceRecorder implements Recorder {
  readonly keepsLog = true;
  constructor(private readonly clock: Clock) {}

  segment(c: Connection, fromOrig: boolean, p: Packet, f: Frame, seqRel: number, ackRel: number, retrans: boolean, probe: boolean): number {
    const m = c.milestones(fromOrig);
    const peer = fromOrig ? c.resp : c.orig;
    if (probe && peer.window !== 0) { // zero-window probes are not keep-alives
      m.keepaliveProbes++;
      m.lastProbeTime = this.clock.now;
    }
    const slot = c.nextSlot();
    writeSegment(c.logI32, c.logI, slot, p, f, fromOrig, retrans, seqRel, ackRel);
    const flags = p.flags;
    if ((flags & TCP_ACK) !== 0 && (flags & TCP_RST) === 0) m.sentAck = true;
    return slot;
  }

  rst(c: Connection, fromOrig: boolean, ep: Endpoint, peer: Endpoint, slot: number, logIdx: number, acceptance: RstAcceptance,
    lastAck: number | null, flightAck: number | null, p: Packet, f: Frame): void {
    const now = this.clock.now;
    const rcvNxt = peer.maxAckRel;
    const seg = c.segmentAt(slot);
    const mOther = c.milestones(!fromOrig);
    // the last segment (not a RST) from the receiver before this RST
    const trigger: Segment | null = c.lastFrom(!fromOrig, logIdx);
    if (c.rsts === NONE) c.rsts = [];
    c.rsts.push({
      seg, // segmentAt made a copy
      senderPrevState: ep.state,
      receiverState: peer.state,
      receiverAckRel: rcvNxt,
      senderMaxEndRel: ep.maxEndRel,
      // unknown (0) when the receiver never acknowledged anything we saw
      senderUnacked: rcvNxt < 0 ? 0 : Math.max(0, ep.maxEndRel - rcvNxt - (ep.finRel >= 0 && rcvNxt <= ep.finRel ? 1 : 0)),
      senderFinBefore: ep.finRel >= 0,
      receiverFinBefore: peer.finRel >= 0,
      receiverDataAfterSenderFin: mOther.dataAfterPeerFin,
      receiverDataBeyondSenderFinAck: dataBeyondFinAck(c, fromOrig, peer),
      trigger,
      flightAck,
      lastAck,
      payload: rstPayload(p, f),
      acceptance,
      senderDataAfter: false,
      senderTtlMin: ep.ttlNonRstMin,
      senderTtlMax: ep.ttlNonRstMax,
      senderLastIpId: ep.lastIpId,
      senderOptAlways: ep.optAlways,
      idleBeforeSec: c.lastDataTime < 0 ? now - c.startTime : now - c.lastDataTime,
    });
  }

  afterRst(c: Connection, fromOrig: boolean): void {
    for (const r of c.rsts) if (r.seg.fromOrig === fromOrig) r.senderDataAfter = true;
  }

  data(c: Connection, fromOrig: boolean, peer: Endpoint, slot: number, len: number, rst: boolean): void {
    if (rst || peer.finRel < 0) return;
    const m = c.milestones(fromOrig);
    if (m.dataAfterPeerFin === 0) m.pin(PIN_DATA_AFTER_PEER_FIN, slot);
    m.dataAfterPeerFin += len;
  }

  syn(c: Connection, fromOrig: boolean, f: Frame, seqRel: number, ack: boolean): void {
    const now = this.clock.now;
    const m = c.milestones(fromOrig);
    // SYN retries (same ISN); a copy within 200 ms is a duplicate capture, not a retry
    const nSyn = m.synCount;
    if (nSyn < MAX_SYN_TIMES && (nSyn === 0 || (seqRel === 0 && now - m.lastSynTime() > 0.2))) {
      if (!ack && m.bareSynFrame === 0) m.bareSynFrame = f.frameNo;
      m.addSyn(now, f.frameNo);
    }
  }

  fin(c: Connection, fromOrig: boolean, peer: Endpoint, slot: number, ackRel: number): void {
    const m = c.milestones(fromOrig);
    m.pin(PIN_FIN, slot);
    m.finAcksPeerFin = peer.finRel >= 0 && ackRel > peer.finRel;
    // The peer's data crossing this FIN (sent before the FIN reached it: payload past the FIN's ack) is all in the
    // log now, before any RST that answers it: pin the first of it as the peer's first data after this FIN, so a
    // later write-after-peer-close can name it even when the ring has moved past it by the RST (issue 19: 17
    // segments between left the rule without a frame to cite). Data sent after the FIN on the wire replaces the pin
    // (data(): it counts the bytes; this pin counts none, so half-close, which needs bytes, does not read it).
    const pm = c.milestones(!fromOrig);
    if (pm.dataAfterPeerFin === 0 && ackRel >= 0) {
      const first = firstDataPast(c.logI32, c.logI, c.segments, !fromOrig, ackRel);
      if (first >= 0) pm.pin(PIN_DATA_AFTER_PEER_FIN, first);
    }
  }
}

/** A RST's payload as text (RstRecord.payload): the captured bytes, at most RST_PAYLOAD_MAX; null when none. */
function rstPayload(p: Packet, f: Frame): string | null {
  const n = Math.min(p.payloadCaptured, RST_PAYLOAD_MAX);
  if (p.payloadLen <= 0 || n <= 0) return null;
  const start = p.tcpOffset + p.tcpHeaderLen;
  return previewText(f.buf.subarray(start, start + n));
}

/**
 * Payload the peer sent that the closer's FIN did not acknowledge: data that
 * reached (or was on its way to) a socket already closed. Catches the race
 * where data and FIN cross on the wire.
 */
function dataBeyondFinAck(c: Connection, closerIsOrig: boolean, peer: Endpoint): number {
  const finAckRel = c.milestones(closerIsOrig).pinnedAckRel(PIN_FIN);
  if (finAckRel < 0) return 0;
  const peerDataEnd = peer.maxEndRel - (peer.finRel >= 0 ? 1 : 0);
  return Math.max(0, peerDataEnd - finAckRel);
}
