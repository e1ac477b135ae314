/**
 * Zeek's endpoint state machine (src/tcp/state-machine.ts), one group per
 * state: each segment's transition, the actions returned and the reason.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../src/decode/packet.js';
import { Endpoint, EpState } from '../src/tcp/endpoint.js';
import {
  ACT_ARM_ATTEMPT, ACT_ARM_CLOSE, ACT_ARM_PARTIAL_CLOSE, ACT_ARM_RESET, ACT_FLIP, ACT_NOT_PARTIAL, actionsOf, Reason, reasonOf,
  REASONS, step,
} from '../src/tcp/state-machine.js';

const S = TCP_SYN;
const SA = TCP_SYN | TCP_ACK;
const A = TCP_ACK;
const FA = TCP_FIN | TCP_ACK;
const R = TCP_RST;
const RA = TCP_RST | TCP_ACK;

function ep(state: EpState, prev: EpState = EpState.Inactive, didClose = false, isn = 0): Endpoint {
  const e = new Endpoint();
  e.state = state;
  e.prevState = prev;
  e.didClose = didClose;
  e.isn = isn;
  return e;
}

interface Case {
  name: string;
  me: Endpoint;
  peer: Endpoint;
  isOrig?: boolean;
  flags: number;
  seq?: number;
  len?: number;
  state: EpState;
  peerState?: EpState;
  actions: number;
  reason: Reason;
  didClose?: boolean;
}

function check(c: Case): void {
  test(c.name, () => {
    const r = step(c.me, c.peer, c.isOrig ?? true, c.flags, c.seq ?? 0, c.len ?? 0);
    assert.equal(c.me.state, c.state, 'state');
    if (c.peerState !== undefined) assert.equal(c.peer.state, c.peerState, 'peer state');
    assert.equal(actionsOf(r), c.actions, 'actions');
    assert.equal(reasonOf(r), c.reason, `reason: got "${REASONS[reasonOf(r)]}"`);
    if (c.didClose !== undefined) assert.equal(c.me.didClose, c.didClose, 'didClose');
  });
}

describe('INACTIVE', () => {
  check({ name: 'originator SYN: SYN_SENT, attempt timer', me: ep(EpState.Inactive), peer: ep(EpState.Inactive), flags: S,
    state: EpState.SynSent, actions: ACT_ARM_ATTEMPT, reason: Reason.OrigSyn });
  check({ name: 'originator SYN-ACK (first packet): SYN_ACK_SENT, attempt timer', me: ep(EpState.Inactive), peer: ep(EpState.Inactive), flags: SA,
    state: EpState.SynAckSent, actions: ACT_ARM_ATTEMPT, reason: Reason.OrigSyn });
  check({ name: 'responder SYN-ACK to a SYN: both established', me: ep(EpState.Inactive), peer: ep(EpState.SynSent), isOrig: false, flags: SA,
    state: EpState.Established, peerState: EpState.Established, actions: 0, reason: Reason.RespSynAck });
  check({ name: 'responder bare SYN with the ISN of the SYN-ACK: flip, both established', me: ep(EpState.Inactive, EpState.Inactive, false, 77),
    peer: ep(EpState.SynAckSent), isOrig: false, flags: S, seq: 77,
    state: EpState.Established, peerState: EpState.Established, actions: ACT_FLIP, reason: Reason.SynReversal });
  check({ name: 'FIN first: closed, half close complete (peer inactive)', me: ep(EpState.Inactive), peer: ep(EpState.Inactive), flags: FA,
    state: EpState.Closed, actions: ACT_ARM_PARTIAL_CLOSE, reason: Reason.FinBeforeOpen, didClose: true });
  check({ name: 'RST first: reset, partial close and reset timers', me: ep(EpState.Inactive), peer: ep(EpState.Inactive), flags: R,
    state: EpState.Reset, actions: ACT_ARM_PARTIAL_CLOSE | ACT_ARM_RESET, reason: Reason.RstBeforeOpen });
  check({ name: 'responder ACK of the SYN before the SYN-ACK: stays inactive', me: ep(EpState.Inactive), peer: ep(EpState.SynSent), isOrig: false, flags: A,
    state: EpState.Inactive, actions: 0, reason: Reason.AckOfSynBeforeSynAck });
  check({ name: 'ACK while the peer is established: established, not partial', me: ep(EpState.Inactive), peer: ep(EpState.Established), flags: A, len: 10,
    state: EpState.Established, actions: ACT_NOT_PARTIAL, reason: Reason.JoinsEstablishedPeer });
  check({ name: 'data mid-stream: partial', me: ep(EpState.Inactive), peer: ep(EpState.Inactive), flags: A, len: 10,
    state: EpState.Partial, actions: 0, reason: Reason.Midstream });
});

describe('SYN_SENT', () => {
  check({ name: 'retransmitted SYN: no change', me: ep(EpState.SynSent), peer: ep(EpState.Inactive), flags: S,
    state: EpState.SynSent, actions: 0, reason: Reason.None });
  check({ name: 'FIN during the attempt: closed, half close complete', me: ep(EpState.SynSent), peer: ep(EpState.Inactive), flags: FA,
    state: EpState.Closed, actions: ACT_ARM_PARTIAL_CLOSE, reason: Reason.AttemptFin });
  check({ name: 'RST during the attempt (peer answered): reset, close and reset timers', me: ep(EpState.SynSent), peer: ep(EpState.Established, EpState.Inactive), flags: R,
    state: EpState.Reset, actions: ACT_ARM_CLOSE | ACT_ARM_RESET, reason: Reason.AttemptRst });
  check({ name: 'RST during the attempt (peer silent): reset, half close and reset timers', me: ep(EpState.SynSent), peer: ep(EpState.Inactive), flags: R,
    state: EpState.Reset, actions: ACT_ARM_PARTIAL_CLOSE | ACT_ARM_RESET, reason: Reason.AttemptRst });
});

describe('SYN_ACK_SENT', () => {
  check({ name: 'RST: reset', me: ep(EpState.SynAckSent, EpState.Inactive), peer: ep(EpState.Inactive), flags: RA,
    state: EpState.Reset, actions: ACT_ARM_PARTIAL_CLOSE | ACT_ARM_RESET, reason: Reason.AttemptRst });
  check({ name: 'ACK: no change', me: ep(EpState.SynAckSent), peer: ep(EpState.Inactive), flags: A,
    state: EpState.SynAckSent, actions: 0, reason: Reason.None });
});

describe('ESTABLISHED', () => {
  check({ name: 'data: no change', me: ep(EpState.Established, EpState.SynSent), peer: ep(EpState.Established), flags: A, len: 100,
    state: EpState.Established, actions: 0, reason: Reason.None });
  check({ name: 'first FIN: closed, close not complete yet', me: ep(EpState.Established, EpState.SynSent), peer: ep(EpState.Established, EpState.Inactive), flags: FA,
    state: EpState.Closed, actions: 0, reason: Reason.Fin, didClose: true });
  check({ name: 'second FIN: closed, close complete (close timer)', me: ep(EpState.Established, EpState.SynSent),
    peer: ep(EpState.Closed, EpState.Established, true), flags: FA,
    state: EpState.Closed, actions: ACT_ARM_CLOSE, reason: Reason.Fin });
  check({ name: 'FIN after the peer reset its closed side: closed, no close', me: ep(EpState.Established, EpState.SynSent),
    peer: ep(EpState.Reset, EpState.Closed, true), flags: FA,
    state: EpState.Closed, actions: 0, reason: Reason.FinAfterPeerAbort, didClose: false });
  check({ name: 'RST: reset, close (complete: a reset) and reset timers', me: ep(EpState.Established, EpState.SynSent), peer: ep(EpState.Established, EpState.SynAckSent), flags: RA,
    state: EpState.Reset, actions: ACT_ARM_CLOSE | ACT_ARM_RESET, reason: Reason.Rst });
});

describe('PARTIAL', () => {
  check({ name: 'bare SYN while the peer is silent: a new attempt', me: ep(EpState.Partial), peer: ep(EpState.Inactive), flags: S,
    state: EpState.SynSent, actions: 0, reason: Reason.PartialSyn });
  check({ name: 'FIN: closed, half close complete (peer inactive)', me: ep(EpState.Partial), peer: ep(EpState.Inactive), flags: FA,
    state: EpState.Closed, actions: ACT_ARM_PARTIAL_CLOSE, reason: Reason.Fin });
  check({ name: 'RST while the peer is partial too: reset, close and reset timers', me: ep(EpState.Partial, EpState.Inactive), peer: ep(EpState.Partial, EpState.Inactive), flags: R,
    state: EpState.Reset, actions: ACT_ARM_CLOSE | ACT_ARM_RESET, reason: Reason.Rst });
});

describe('CLOSED', () => {
  check({ name: 'RST while the peer is open: reset, reset timer (close already counted)', me: ep(EpState.Closed, EpState.Established, true),
    peer: ep(EpState.Established), flags: RA, state: EpState.Reset, actions: ACT_ARM_RESET, reason: Reason.RstAfterFin });
  check({ name: 'RST while the peer is open, close not yet counted: close too', me: ep(EpState.Closed, EpState.Established, false),
    peer: ep(EpState.Established, EpState.SynAckSent), flags: RA, state: EpState.Reset, actions: ACT_ARM_CLOSE | ACT_ARM_RESET, reason: Reason.RstAfterFin });
  check({ name: 'RST after both FINs: stays closed, reset timer', me: ep(EpState.Closed, EpState.Established, true),
    peer: ep(EpState.Closed, EpState.Established, true), flags: R, state: EpState.Closed, actions: ACT_ARM_RESET, reason: Reason.ClosedIgnores });
  check({ name: 'ACK: stays closed', me: ep(EpState.Closed, EpState.Established, true), peer: ep(EpState.Established), flags: A,
    state: EpState.Closed, actions: 0, reason: Reason.ClosedIgnores });
});

describe('RESET', () => {
  check({ name: 'anything: stays reset (a RST re-arms the reset timer)', me: ep(EpState.Reset, EpState.Established, true), peer: ep(EpState.Established), flags: R,
    state: EpState.Reset, actions: ACT_ARM_RESET, reason: Reason.ResetIgnores });
  check({ name: 'data: stays reset', me: ep(EpState.Reset, EpState.Established, true), peer: ep(EpState.Established), flags: A, len: 5,
    state: EpState.Reset, actions: 0, reason: Reason.ResetIgnores });
});

test('every reason has a text', () => {
  assert.equal(REASONS.length, Reason.ResetIgnores + 1);
  assert.ok(REASONS.every((r) => r.length > 5));
});
