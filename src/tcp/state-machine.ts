/**
 * Zeek's per-endpoint TCP state machine (TCPSessionAdapter::UpdateStateMachine
 * and ConnectionClosed), as a function of the two endpoints and one segment.
 * It changes endpoint state only (state, prevState, didClose) and RETURNS what
 * the caller must do to the connection and its timers, with the reason for
 * the transition taken: one integer, no allocation per packet.
 *
 * Result layout: the ACT_* bits below, plus a Reason code times REASON_UNIT.
 * When a segment takes several arms (a SYN that also carries FIN or RST) the
 * reason is the last arm's; the actions are the union.
 */
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../decode/packet.js';
import { type Endpoint, EpState } from './endpoint.js';

/** swap originator and responder (Zeek's FlipRoles), and the connection is no longer partial */
export const ACT_FLIP = 0x1;
/** the connection is no longer partial (both sides seen opening) */
export const ACT_NOT_PARTIAL = 0x2;
/** arm the SYN attempt timer (tcp_attempt_delay) and the SYN retry horizon */
export const ACT_ARM_ATTEMPT = 0x4;
/** the close is complete: drop the connection tcp_close_delay later */
export const ACT_ARM_CLOSE = 0x8;
/** the close of a half connection is complete: drop it tcp_partial_close_delay later */
export const ACT_ARM_PARTIAL_CLOSE = 0x10;
/** a RST: drop the connection tcp_reset_delay later (Zeek's ResetTimer, also after our own FIN) */
export const ACT_ARM_RESET = 0x20;
export const ACT_MASK = 0xff;
export const REASON_UNIT = 0x100;

/** Why the state machine did what it did (the arm taken). */
export const enum Reason {
  /** no arm matched: the state stays */
  None = 0,
  OrigSyn,
  SynReversal,
  RespSynAck,
  FinBeforeOpen,
  RstBeforeOpen,
  AckOfSynBeforeSynAck,
  JoinsEstablishedPeer,
  Midstream,
  AttemptFin,
  AttemptRst,
  PartialSyn,
  Fin,
  FinAfterPeerAbort,
  Rst,
  RstAfterFin,
  ClosedIgnores,
  ResetIgnores,
}

/** Reason codes as text (index = Reason), for tests and debugging. */
export const REASONS: readonly string[] = [
  'no transition: the segment does not change the state',
  'originator SYN (or SYN-ACK): an attempt, attempt timer armed',
  'responder bare SYN with the ISN of the originator\'s SYN-ACK: roles were reversed, flip, both established',
  'responder SYN-ACK: established (and the SYN sender too)',
  'FIN before any open: closed',
  'RST before any open: reset',
  'ACK of the initial SYN before the SYN-ACK: stays inactive (not a partial connection)',
  'ACK while the peer is established: established, no longer partial',
  'first segment mid-stream: partial',
  'FIN during the attempt: closed',
  'RST during the attempt: reset',
  'bare SYN from a partial endpoint whose peer is silent: a new attempt',
  'FIN: closed',
  'FIN after the peer reset a closed connection: closed, close already counted',
  'RST: reset',
  'RST after our FIN while the peer is open: reset',
  'closed: only a RST while the peer is open changes it',
  'reset: final',
];

export function actionsOf(result: number): number {
  return result & ACT_MASK;
}

export function reasonOf(result: number): Reason {
  return (result / REASON_UNIT) | 0;
}

/**
 * One segment's transition. `isOrig`: sent by the originator; `seq`: its raw
 * sequence number; `len`: payload length. Changes ep/peer state; returns
 * actions | reason * REASON_UNIT.
 */
export function step(ep: Endpoint, peer: Endpoint, isOrig: boolean, flags: number, seq: number, len: number): number {
  const syn = (flags & TCP_SYN) !== 0;
  const fin = (flags & TCP_FIN) !== 0;
  const rst = (flags & TCP_RST) !== 0;
  const ack = (flags & TCP_ACK) !== 0;
  let act = 0;
  let why = Reason.None;
  let doClose = false;
  switch (ep.state) {
    case EpState.Inactive: {
      if (syn) {
        if (isOrig) {
          ep.setState(ack ? EpState.SynAckSent : EpState.SynSent);
          act |= ACT_ARM_ATTEMPT;
          why = Reason.OrigSyn;
        } else {
          why = Reason.RespSynAck;
          if (!ack && peer.state === EpState.SynAckSent && seq === ep.isn) {
            act |= ACT_FLIP;
            peer.setState(EpState.Established);
            why = Reason.SynReversal;
          }
          if (peer.state === EpState.SynSent) peer.setState(EpState.Established);
          ep.setState(EpState.Established);
        }
      }
      if (fin) {
        ep.setState(EpState.Closed);
        doClose = true;
        why = Reason.FinBeforeOpen;
      }
      if (rst) {
        ep.setState(EpState.Reset);
        doClose = true;
        why = Reason.RstBeforeOpen;
      }
      if (ep.state === EpState.Inactive) {
        // the responder's pure ACK while the originator's SYN waits: peer is the originator here
        if (!isOrig && len === 0 && peer.state === EpState.SynSent) {
          why = Reason.AckOfSynBeforeSynAck;
        } else if (ack && peer.state === EpState.Established) {
          ep.setState(EpState.Established);
          act |= ACT_NOT_PARTIAL;
          why = Reason.JoinsEstablishedPeer;
        } else {
          ep.setState(EpState.Partial);
          why = Reason.Midstream;
        }
      }
      break;
    }
    case EpState.SynSent:
    case EpState.SynAckSent:
      if (fin) {
        ep.setState(EpState.Closed);
        doClose = true;
        why = Reason.AttemptFin;
      }
      if (rst) {
        ep.setState(EpState.Reset);
        doClose = true;
        why = Reason.AttemptRst;
      }
      break;
    case EpState.Established:
    case EpState.Partial:
      if (syn && ep.state === EpState.Partial && peer.state === EpState.Inactive && !ack) {
        ep.setState(EpState.SynSent);
        why = Reason.PartialSyn;
      }
      if (fin && !rst) {
        ep.setState(EpState.Closed);
        if (!(peer.state === EpState.Reset && peer.prevState === EpState.Closed)) {
          doClose = true;
          why = Reason.Fin;
        } else why = Reason.FinAfterPeerAbort;
      }
      if (rst) {
        ep.setState(EpState.Reset);
        doClose = true;
        why = Reason.Rst;
      }
      break;
    case EpState.Closed:
      if (rst && peer.state !== EpState.Closed) {
        ep.setState(EpState.Reset);
        if (!ep.didClose) doClose = true;
        why = Reason.RstAfterFin;
      } else why = Reason.ClosedIgnores;
      break;
    case EpState.Reset:
      why = Reason.ResetIgnores;
      break;
  }
  if (doClose) act |= connectionClosed(ep, peer);
  if (rst) act |= ACT_ARM_RESET;
  return act + why * REASON_UNIT;
}

/** Zeek's ConnectionClosed: marks the endpoint closed; the delete timer to arm when the close is complete. */
function connectionClosed(ep: Endpoint, peer: Endpoint): number {
  if (ep.didClose) return 0;
  ep.didClose = true;
  const complete = ep.state === EpState.Reset || peer.didClose || peer.state === EpState.Inactive;
  if (!complete) return 0;
  const half = peer.state === EpState.Inactive || ep.prevState === EpState.Inactive;
  return half ? ACT_ARM_PARTIAL_CLOSE : ACT_ARM_CLOSE;
}
