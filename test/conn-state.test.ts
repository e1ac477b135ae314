/**
 * conn_state (src/tcp/state.ts) from the two endpoint states, in-process: every
 * pair of states, then the two rules that read more than the states (REJ for
 * two resets without bytes, RSTOS0 by the history). The expected values are
 * Zeek's conn_state() in scripts/base/protocols/conn/main.zeek worked out by
 * hand for each pair: a responder in RESET gives REJ when the originator is in
 * SYN_SENT or SYN_ACK_SENT (or RESET too, neither side with bytes), RSTRH when
 * the originator is INACTIVE or PARTIAL, else RSTR; an originator in RESET gives
 * RSTO unless the responder is INACTIVE or PARTIAL, then RSTOS0 when the history
 * matches /\^?S[^HAFGIQ]*R.* / (whole string), else OTH; both CLOSED is SF; the
 * originator CLOSED is SH (responder inactive or partial) or S2; the responder
 * CLOSED is SHR (originator inactive or partial) or S3; SYN_SENT against INACTIVE
 * is S0; both ESTABLISHED is S1; anything else OTH. The crafted captures of
 * test/conn-state-crafted.test.ts show the same values end to end.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Connection } from '../src/tcp/connection.js';
import { EpState } from '../src/tcp/endpoint.js';
import { CONN_STATE_MEANING, connState, type ConnState } from '../src/tcp/state.js';

const STATES: [string, EpState][] = [
  ['INACTIVE', EpState.Inactive], ['SYN_SENT', EpState.SynSent], ['SYN_ACK_SENT', EpState.SynAckSent],
  ['PARTIAL', EpState.Partial], ['ESTABLISHED', EpState.Established], ['CLOSED', EpState.Closed], ['RESET', EpState.Reset],
];

/**
 * A connection with the given endpoint states and history (Zeek's letters: upper
 * case from the originator, a leading '^' for a flip) and `origBytes` /
 * `respBytes` of data in sequence space (Zeek's Size()).
 */
function conn(os: EpState, rs: EpState, history = '', origBytes = 0, respBytes = 0): Connection {
  const c = new Connection(null);
  let h = history;
  if (h.startsWith('^')) { c.flip(); h = h.slice(1); }
  for (const ch of h) c.addHistory(ch.toUpperCase(), ch === ch.toUpperCase());
  assert.equal(c.history, history, 'the history as built');
  c.orig.state = os;
  c.resp.state = rs;
  for (const [ep, bytes] of [[c.orig, origBytes], [c.resp, respBytes]] as const) {
    ep.seqInit = true;
    ep.maxEndRel = bytes + 1; // the SYN's octet, then the data
  }
  return c;
}

// rows: the originator's state; columns: the responder's, in STATES order.
// RESET x INACTIVE/PARTIAL with the history 'SR' (SYN then RST): RSTOS0.
// RESET x RESET without bytes: REJ.
const GRID: ConnState[][] = [
  /* INACTIVE     */ ['OTH', 'OTH', 'OTH', 'OTH', 'OTH', 'SHR', 'RSTRH'],
  /* SYN_SENT     */ ['S0', 'OTH', 'OTH', 'OTH', 'OTH', 'S3', 'REJ'],
  /* SYN_ACK_SENT */ ['OTH', 'OTH', 'OTH', 'OTH', 'OTH', 'S3', 'REJ'],
  /* PARTIAL      */ ['OTH', 'OTH', 'OTH', 'OTH', 'OTH', 'SHR', 'RSTRH'],
  /* ESTABLISHED  */ ['OTH', 'OTH', 'OTH', 'OTH', 'S1', 'S3', 'RSTR'],
  /* CLOSED       */ ['SH', 'S2', 'S2', 'SH', 'S2', 'SF', 'RSTR'],
  /* RESET        */ ['RSTOS0', 'RSTO', 'RSTO', 'RSTOS0', 'RSTO', 'RSTO', 'REJ'],
];

test("conn_state of every pair of endpoint states is Zeek's", () => {
  const wrong: string[] = [];
  STATES.forEach(([oName, os], i) => STATES.forEach(([rName, rs], j) => {
    const got = connState(conn(os, rs, 'SR'));
    if (got !== GRID[i][j]) wrong.push(`${oName} x ${rName}: ${got}, Zeek ${GRID[i][j]}`);
  }));
  assert.deepEqual(wrong, []);
});

test('both sides reset: REJ only when neither side sent bytes, else RSTR', () => {
  assert.equal(connState(conn(EpState.Reset, EpState.Reset, 'Sr', 0, 0)), 'REJ');
  assert.equal(connState(conn(EpState.Reset, EpState.Reset, 'ShADr', 10, 0)), 'RSTR', 'the originator sent 10 bytes');
  assert.equal(connState(conn(EpState.Reset, EpState.Reset, 'ShAdr', 0, 10)), 'RSTR', 'the responder sent 10 bytes');
  assert.equal(connState(conn(EpState.Reset, EpState.Reset, 'ShADdr', 10, 10)), 'RSTR', 'both sent');
});

test('originator reset, responder inactive or partial: RSTOS0 only for a SYN then a RST with nothing of H A F G I Q between', () => {
  const cases: [string, ConnState, string][] = [
    ['SR', 'RSTOS0', 'SYN, RST'],
    ['^SR', 'RSTOS0', 'after a flip'],
    ['SSR', 'RSTOS0', 'SYN retransmitted'],
    ['SDR', 'RSTOS0', 'data between'],
    ['SdhR', 'RSTOS0', 'responder letters are lower case: not H or A'],
    ['SRA', 'RSTOS0', 'anything after the RST'],
    ['SRAF', 'RSTOS0', 'anything after the RST'],
    ['SHR', 'OTH', "the originator's SYN-ACK"],
    ['SAR', 'OTH', 'an ACK'],
    ['SDAR', 'OTH', 'an ACK after data'],
    ['SFR', 'OTH', 'a FIN'],
    ['SGR', 'OTH', 'a content gap'],
    ['SIR', 'OTH', 'an inconsistency'],
    ['SQR', 'OTH', 'a multi-flag packet'],
    ['S', 'OTH', 'no RST in the history'],
    ['SD', 'OTH', 'no RST in the history'],
    ['R', 'OTH', 'no SYN'],
    ['DSR', 'OTH', 'the SYN is not first'],
    ['^DSR', 'OTH', 'after a flip, the SYN is not first'],
    ['', 'OTH', 'no history'],
  ];
  for (const rs of [EpState.Inactive, EpState.Partial]) {
    for (const [history, want, why] of cases) {
      assert.equal(connState(conn(EpState.Reset, rs, history)), want, `${history} (${why}), responder ${rs}`);
    }
  }
  // the responder answered: RSTO whatever the history
  assert.equal(connState(conn(EpState.Reset, EpState.Established, 'SAR')), 'RSTO');
});

test('every conn_state value has its own meaning', () => {
  const all: ConnState[] = ['S0', 'S1', 'SF', 'REJ', 'S2', 'S3', 'RSTO', 'RSTR', 'RSTOS0', 'RSTRH', 'SH', 'SHR', 'OTH'];
  assert.deepEqual(Object.keys(CONN_STATE_MEANING).sort(), [...all].sort());
  const meanings = all.map((s) => CONN_STATE_MEANING[s]);
  assert.ok(meanings.every((m) => m.length > 10), 'each meaning is a phrase');
  assert.equal(new Set(meanings).size, all.length, 'no two the same');
});
