/**
 * One oriented half of a TCP connection, as observed on the wire (after Zeek's
 * TCP_Endpoint: per-endpoint state, a `partial` state for mid-stream starts).
 * The tracker writes these fields; rules and reports only read them.
 */
import { derivePoolResetter } from './reset.js';

export const enum EpState {
  Inactive = 0,
  SynSent = 1,
  SynAckSent = 2,
  Partial = 3,
  Established = 4,
  Closed = 5,
  Reset = 6,
}

export class Endpoint {
  // Field order is memory order: what every packet touches comes first.
  state: EpState = EpState.Inactive;
  prevState: EpState = EpState.Inactive;
  /** a sequence base was established (SYN seen, or first segment minus one for partial starts) */
  seqInit = false;
  /** initial sequence number (for partial starts: first seq - 1, as Zeek does) */
  isn = 0;
  /** highest sequence end sent, relative to isn (64-bit offset: SYN counts 1) */
  maxEndRel = 0;
  /** highest ack sent by this endpoint, as the peer's relative offset (-1: none) */
  maxAckRel = -1;
  /** relative position of this endpoint's FIN (its sequence number), -1 when none */
  finRel = -1;
  /** last advertised window, scaled */
  window = 0;
  /** the scale in effect (both sides offered it) */
  windowShift = 0;
  pkts = 0;
  /** IP bytes of this side's packets, headers included (Zeek's orig_ip_bytes/resp_ip_bytes: counted with pkts) */
  ipBytes = 0;
  /** payload bytes carried, retransmissions included */
  payloadBytes = 0;
  /**
   * What recordRst needs to tell which of this side's segments a bare RST from
   * the peer answers, without the segment log: this side's last segment other
   * than a RST (1 with ACK, 0 without, -1 none) and its raw ack; and the same
   * for the segment from which on this side's segments may still have been in
   * flight: its last one when the peer last acknowledged new data of this side
   * (what came before had reached the peer; what came after may still have
   * been on its way), or, while that one had no ACK, when the peer last sent
   * anything but a RST. A bare RST from the peer whose seq lies between the
   * two acks answers a segment in flight (src/tcp/rst.ts): a kernel burst
   * answers each with that segment's ack, not all with the latest. Four
   * fields: every live and pooled endpoint carries them (measured: six fields
   * and a typed array per connection pushed `analyze` past 300 MB on the 10 M-packet capture).
   */
  lastSeg = -1;
  lastAck = 0;
  flightSeg = -1;
  flightAck = 0;
  // fingerprint of what this endpoint normally sends (for rst-suspicious)
  /** TTLs of non-RST packets only */
  ttlNonRstMin = 256;
  ttlNonRstMax = -1;
  nonRstPkts = 0;
  lastIpId = -1;
  /**
   * The handshake's times, in microseconds after the connection's first packet
   * (small integers; -1 none, or later than 2^30 us): this endpoint's last bare
   * SYN before the peer's SYN-ACK, its first SYN-ACK, and its first ACK after
   * the peer's SYN-ACK when it had sent a SYN. The record's handshakeMs and the
   * input's vantage (src/report/vantage.ts) are made from them.
   */
  synUs = -1;
  synAckUs = -1;
  hsAckUs = -1;
  /** option kinds present on every non-SYN, non-RST segment (bitmask; -1 = none seen yet) */
  optAlways = -1;
  /** ConnectionClosed ran for this endpoint (Zeek's did_close) */
  didClose = false;
  /** true when the ISN comes from a SYN this endpoint sent */
  sawSyn = false;
  /**
   * This endpoint answered something the peer sent during the capture
   * (src/tcp/accounting.ts answered(); src/rules/one-sided.ts reads it).
   */
  answeredPeer = false;
  /** an ACK of this endpoint's was seen (firstAck holds its value): answeredPeer's "the ack moved" */
  ackSeen = false;
  firstAck = 0;
  // less often: flags, thresholds, counters read when the connection is closed out
  finCount = 0;
  /** window scale option from the SYN (-1: not offered) */
  wscale = -1;
  retransPkts = 0;
  retransBytes = 0;
  /** content gaps in this endpoint's stream: data acked or skipped past but never seen (history 'G') */
  contentGaps = 0;
  /**
   * Capture loss in this endpoint's stream (Zeek's missed_bytes, summed over
   * both endpoints by ConnRecord.missedBytes): bytes the peer acknowledged
   * that the capture never showed, and holes this endpoint's later data
   * skipped over that were acknowledged or never filled (src/tcp/accounting.ts).
   */
  missedBytes = 0;
  /** highest relative ack of the peer's already counted as missed past maxEndRel (0 none) */
  missedAckTo = 0;
  /** the pending hole in this endpoint's stream [holeStart, holeEnd), relative; holeEnd 0 = none */
  holeStart = 0;
  holeEnd = 0;
  zeroWindows = 0;
  badChecksums = 0;
  // Zeek history bookkeeping
  histLastSyn = -1;
  histLastFin = -1;
  histLastRst = -1;
  rexmitThreshold = 1;
  gapThreshold = 1;
  zeroWinThreshold = 1;
  checksumThreshold = 1;

  /** Bytes in sequence space, Zeek's Size(): SYN and FIN octets excluded. */
  size(peer: Endpoint): number {
    if (!this.seqInit) return 0;
    if (this.prevState === EpState.SynSent && this.state === EpState.Reset && peer.state === EpState.Inactive) return 0;
    let s = this.maxEndRel;
    const acked = peer.maxAckRel;
    if (acked > s) s = acked;
    if (s > 0) s--; // SYN octet (or the virtual one of a partial start)
    if (this.finCount > 0 && s > 0) s--;
    return s;
  }

  /** Back to the state of a new endpoint (the tracker reuses closed-out connections). */
  reset(): void {
    resetEndpoint(this);
  }

  setState(s: EpState): void {
    this.prevState = this.state;
    this.state = s;
  }

  /** active in Zeek's sense: not inactive and not closed by us */
  isActive(): boolean {
    return this.state !== EpState.Inactive && !this.didClose;
  }
}

/** Field values of a new endpoint, copied by reset() (derived: see src/tcp/reset.ts). */
const resetEndpoint = derivePoolResetter(new Endpoint(), new Endpoint(), 'Endpoint');
