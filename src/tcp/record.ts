/**
 * The canonical per-connection record (docs/schema.md): what `flows` prints
 * and what JSON, NDJSON and Zeek outputs are made from. Built once, when the
 * connection is closed out.
 */
import { tsSeconds } from '../capture/frame.js';
import { TUNNEL_KEY_NAMES, TUNNEL_NAMES, TUNNELS } from '../decode/tunnel.js';
import { formatAddress } from './address.js';
import { missedBytesOf } from './accounting.js';
import { communityIdOf, uid } from './community-id.js';
import { MAX_RSTS, type Connection } from './connection.js';
import { RST_ACCEPTANCES, RST_SHAPES, type RstShape } from './rst.js';
import { rstSummaryAcceptance, rstSummaryFrame, rstSummaryFromOrig, rstSummaryShape } from './rst-summary.js';
import { rolesOf, type InferredRoles } from './roles.js';
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
  /** IP bytes of each side's packets, headers included (Zeek's orig_ip_bytes/resp_ip_bytes) */
  origIpBytes: number;
  respIpBytes: number;
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
  /**
   * The record holds one direction's packets only (absent when it holds
   * both): `orig-only` or `resp-only`. A SYN nobody answered is orig-only;
   * so is a record a timer split off that only one side continued. Whether the
   * capture missed the other direction is told by the findings (evidence
   * `seen`, src/rules/one-sided.ts) and the input's vantage. Never set on a
   * self-connect (one socket: its packets all read as the originator's).
   */
  seen?: 'orig-only' | 'resp-only';
  /**
   * Bytes the endpoints exchanged that the capture missed (Zeek's
   * missed_bytes): acknowledged but never captured, or skipped over and never
   * filled. Absent when 0.
   */
  missedBytes?: number;
  /** the tunnels the connection was carried in, outermost first; absent when none (src/decode/tunnel.ts) */
  tunnel?: TunnelRecord[];
  /**
   * The IPv4 TTL or IPv6 hop limit of each side's packets other than RSTs,
   * as [lowest, highest] (a side without such packets is absent; the whole
   * field when neither has any). 64, 128 or 255 throughout: no router
   * between that host and the capture (src/report/vantage.ts).
   */
  ttl?: { orig?: [number, number]; resp?: [number, number] };
  /**
   * The handshake's two halves as captured, in milliseconds (microsecond
   * precision): `resp` from the originator's SYN (its last before the
   * SYN-ACK) to the responder's SYN-ACK, the round trip from the capture
   * point to the responder; `orig` from the SYN-ACK to the originator's ACK,
   * the round trip to the originator. Near zero on one side: the capture was
   * taken at that host. Absent unless all three segments were seen in order.
   */
  handshakeMs?: { resp: number; orig: number };
  /**
   * How originator and responder were told apart when no handshake named the
   * client (absent: the originator's SYN was seen in this record). The
   * capture began inside the connection, or a timer split the record
   * (src/tcp/roles.ts):
   * - `inferred-syn-ack`: it began with the responder's SYN-ACK;
   * - `inferred-port`: one port is a likely server port, whose side is the
   *   responder (Zeek's TCPAnalyzer::WantConnection flips roles so);
   * - `inferred-first-packet`: no port tells: the sender of the first packet
   *   captured is the originator, which the client need not be.
   */
  roles?: InferredRoles;
}

/**
 * One tunnel layer: its kind, its identifying number under the kind's name
 * (`vni` for VXLAN and GENEVE, `key` for GRE when present, `session` for ERSPAN
 * types II and III, `teid` for GTP-U: the first packet's, which is the
 * uplink's or the downlink's),
 * and the tunnel's two endpoints (`outer`, lower address first: the order of
 * the endpoints says nothing about the connection's client).
 */
export interface TunnelRecord {
  type: string;
  vni?: number;
  key?: number;
  session?: number;
  teid?: number;
  outer: [string, string];
}

/** The tunnel layers of path `id` as records show them. */
export function tunnelRecords(id: number): TunnelRecord[] {
  return TUNNELS.layers(id).map((l) => {
    const t = { type: (l.kind as number) === 0 ? 'many' : TUNNEL_NAMES[l.kind] } as TunnelRecord;
    const name = TUNNEL_KEY_NAMES[l.kind] as 'vni' | 'key' | 'session' | 'teid' | '';
    if (name !== '' && l.key !== -1) t[name] = l.key >>> 0; // before the addresses: JSON shows it next to the type
    t.outer = [formatAddress(l.ipVersion, l.a0, l.a1, l.a2, l.a3), formatAddress(l.ipVersion, l.z0, l.z1, l.z2, l.z3)];
    return t;
  });
}

/** "vxlan vni 42 192.0.2.1-192.0.2.2", layers joined by " in " (innermost first, as one reads a route back) */
export function tunnelLabel(t: TunnelRecord[]): string {
  return t.slice().reverse().map((l) => {
    const id = l.vni !== undefined ? ` vni ${l.vni}` : l.key !== undefined ? ` key ${l.key}` : l.session !== undefined
      ? ` session ${l.session}` : l.teid !== undefined ? ` teid 0x${l.teid.toString(16)}` : '';
    return `${l.type}${id} ${l.outer[0]}-${l.outer[1]}`;
  }).join(' in ');
}

export function toRecord(c: Connection): ConnRecord {
  const duration = (c.lastTsSec - c.firstTsSec) + (c.lastTsNsec - c.firstTsNsec) / 1e9;
  const community = communityIdOf(c.ipVersion === 4 ? 4 : 6, c.o0, c.o1, c.o2, c.o3, c.oPort, c.r0, c.r1, c.r2, c.r3, c.rPort);
  const rec: ConnRecord = {
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
    origIpBytes: c.orig.ipBytes,
    respIpBytes: c.resp.ipBytes,
    origBytes: c.orig.size(c.resp),
    respBytes: c.resp.size(c.orig),
    origRetransBytes: c.orig.retransBytes,
    respRetransBytes: c.resp.retransBytes,
    rsts: c.rstCount,
    endReason: c.endReason,
    resets: resets(c),
  };
  // a self-connect's packets all read as the originator's: both directions are on the wire (Connection.selfConnected)
  if ((c.orig.pkts === 0 || c.resp.pkts === 0) && !c.selfConnected) rec.seen = c.orig.pkts > 0 ? 'orig-only' : 'resp-only';
  const missed = missedBytesOf(c);
  if (missed > 0) rec.missedBytes = missed;
  if (c.tunnel !== 0) rec.tunnel = tunnelRecords(c.tunnel);
  const o = c.orig;
  const r = c.resp;
  if (o.ttlNonRstMax >= 0 || r.ttlNonRstMax >= 0) {
    const ttl: NonNullable<ConnRecord['ttl']> = {};
    if (o.ttlNonRstMax >= 0) ttl.orig = [o.ttlNonRstMin, o.ttlNonRstMax];
    if (r.ttlNonRstMax >= 0) ttl.resp = [r.ttlNonRstMin, r.ttlNonRstMax];
    rec.ttl = ttl;
  }
  if (o.synUs >= 0 && r.synAckUs >= o.synUs && o.hsAckUs >= r.synAckUs) {
    rec.handshakeMs = { resp: (r.synAckUs - o.synUs) / 1e3, orig: (o.hsAckUs - r.synAckUs) / 1e3 };
  }
  const roles = rolesOf(c);
  if (roles !== null) rec.roles = roles;
  return rec;
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
