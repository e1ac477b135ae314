/**
 * Zeek's conn_state, a pure function of the two endpoint states (and, for
 * RSTOS0, the history). Order of the tests and their meaning follow
 * `conn_state()` in Zeek's scripts/base/protocols/conn/main.zeek.
 */
import type { Connection } from './connection.js';
import { EpState } from './endpoint.js';

export type ConnState =
  | 'S0' | 'S1' | 'SF' | 'REJ' | 'S2' | 'S3' | 'RSTO' | 'RSTR' | 'RSTOS0' | 'RSTRH' | 'SH' | 'SHR' | 'OTH';

export const CONN_STATE_MEANING: Record<ConnState, string> = {
  S0: 'connection attempt seen, no reply',
  S1: 'established, not terminated',
  SF: 'normal establishment and termination',
  REJ: 'connection attempt rejected',
  S2: 'established, originator closed, no reply from responder',
  S3: 'established, responder closed, no reply from originator',
  RSTO: 'established, originator aborted (RST)',
  RSTR: 'responder sent a RST',
  RSTOS0: 'originator sent a SYN then a RST, no SYN-ACK seen',
  RSTRH: 'responder sent a SYN-ACK then a RST, no SYN seen from the originator',
  SH: 'originator sent a SYN then a FIN, no SYN-ACK seen ("half" open)',
  SHR: 'responder sent a SYN-ACK then a FIN, no SYN seen from the originator',
  OTH: 'no SYN seen, midstream traffic',
};

// Zeek's `pattern == string` matches the whole string, hence both anchors.
// Stryker disable next-line Regex: without the final `$` the trailing `.*` still takes the rest of any history (letters and '^', no line breaks): no history tells the two apart
const RSTOS0_HISTORY = /^\^?S[^HAFGIQ]*R.*$/;

export function connState(c: Connection): ConnState {
  const os = c.orig.state;
  const rs = c.resp.state;
  const oInactive = os === EpState.Inactive || os === EpState.Partial;
  const rInactive = rs === EpState.Inactive || rs === EpState.Partial;
  if (rs === EpState.Reset) {
    if (os === EpState.SynSent || os === EpState.SynAckSent
      || (os === EpState.Reset && c.orig.size(c.resp) === 0 && c.resp.size(c.orig) === 0)) return 'REJ';
    if (oInactive) return 'RSTRH';
    return 'RSTR';
  }
  if (os === EpState.Reset) {
    if (rInactive) return RSTOS0_HISTORY.test(c.history) ? 'RSTOS0' : 'OTH';
    return 'RSTO';
  }
  if (rs === EpState.Closed && os === EpState.Closed) return 'SF';
  if (os === EpState.Closed) return rInactive ? 'SH' : 'S2';
  if (rs === EpState.Closed) return oInactive ? 'SHR' : 'S3';
  if (os === EpState.SynSent && rs === EpState.Inactive) return 'S0';
  if (os === EpState.Established && rs === EpState.Established) return 'S1';
  return 'OTH';
}
