/**
 * The canonical per-connection record (docs/schema.md): what `flows` prints
 * and what JSON, NDJSON and Zeek outputs are made from. Built once, when the
 * connection is closed out.
 */
import { tsSeconds } from '../capture/frame.js';
import { formatAddress } from './address.js';
import { communityIdOf, uid } from './community-id.js';
import { MAX_RSTS, type Connection } from './connection.js';
import { RST_ACCEPTANCES, RST_SHAPES, type RstShape } from './rst.js';
import { rstSummaryAcceptance, rstSummaryFrame, rstSummaryFromOrig, rstSummaryShape } from './rst-summary.js';
import { connState, type ConnState } from './state.js';

export interface ConnRecord {
  /** run-wide id, in order of first packet within each input */
  id: number;
  /** index into `inputs` */
  input: number;
  /** 0-based connection index within its input, in order of first packet (compare tshark's tcp.stream) */
  stream: number;
  orig: { ip: string; port: number };
  resp: { ip: string; port: number };
  /** Zeek-format uid ("C" + base62), reproducible from the connection (src/tcp/community-id.ts) */
  uid: string;
  /** Community ID v1, seed 0 ("1:" + base64 SHA-1), as Zeek's community-id package, Suricata and Arkime write it */
  communityId: string;
  firstFrame: number;
  lastFrame: number;
  /** first packet time, seconds since the epoch (microsecond precision) */
  ts: number;
  /** seconds between first and last packet */
  duration: number;
  state: ConnState;
  history: string;
  origPkts: number;
  respPkts: number;
  /** payload bytes in sequence space (Zeek's orig_bytes) */
  origBytes: number;
  respBytes: number;
  /** payload bytes retransmitted */
  origRetransBytes: number;
  respRetransBytes: number;
  rsts: number;
  /** why the connection record was closed: closed, timeout, reused, evicted, end */
  endReason: string;
  /** every RST (up to 8), classified by shape and by whether its receiver would accept it */
  resets: { frame: number; from: 'orig' | 'resp'; shape: RstShape; acceptance: string }[];
}

export function toRecord(c: Connection): ConnRecord {
  const duration = (c.lastTsSec - c.firstTsSec) + (c.lastTsNsec - c.firstTsNsec) / 1e9;
  const community = communityIdOf(c.ipVersion === 4 ? 4 : 6, c.o0, c.o1, c.o2, c.o3, c.oPort, c.r0, c.r1, c.r2, c.r3, c.rPort);
  return {
    id: c.id,
    input: c.input,
    stream: c.stream,
    orig: { ip: formatAddress(c.ipVersion, c.o0, c.o1, c.o2, c.o3), port: c.oPort },
    resp: { ip: formatAddress(c.ipVersion, c.r0, c.r1, c.r2, c.r3), port: c.rPort },
    uid: uid(c.input, c.firstFrame, c.firstTsSec, c.firstTsNsec), // uses the digest communityId() just left
    communityId: community,
    firstFrame: c.firstFrame,
    lastFrame: c.lastFrame,
    ts: tsSeconds(c.firstTsSec, c.firstTsNsec),
    duration: Math.round(duration * 1e6) / 1e6,
    state: connState(c),
    history: c.history,
    origPkts: c.orig.pkts,
    respPkts: c.resp.pkts,
    origBytes: c.orig.size(c.resp),
    respBytes: c.resp.size(c.orig),
    origRetransBytes: c.orig.retransBytes,
    respRetransBytes: c.resp.retransBytes,
    rsts: c.rstCount,
    endReason: c.endReason,
    resets: resets(c),
  };
}

/** The connection's RST summaries (Connection.rstSum0) as the record lists them. */
function resets(c: Connection): ConnRecord['resets'] {
  const out: ConnRecord['resets'] = [];
  const n = Math.min(c.rstCount, MAX_RSTS);
  for (let i = 0; i < n; i++) {
    const v = c.rstSum(i);
    out.push({
      frame: rstSummaryFrame(v), from: rstSummaryFromOrig(v) ? 'orig' : 'resp', shape: RST_SHAPES[rstSummaryShape(v)],
      acceptance: RST_ACCEPTANCES[rstSummaryAcceptance(v)],
    });
  }
  return out;
}
