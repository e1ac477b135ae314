/**
 * conn_state values the Zeek corpus lacks or barely has (S2 and S3: none counted;
 * RSTRH only mid-stream `Dr`/`^r`; RSTOS0 2 rows; REJ in one trace; SH/SHR only
 * mid-stream), each from a tiny crafted capture through the built CLI
 * (`flows -f json`). The expected value follows Zeek's conn_state() in
 * scripts/base/protocols/conn/main.zeek (the order of its tests: a responder in
 * RESET gives REJ when the originator is still in SYN_SENT/SYN_ACK_SENT (or both
 * reset with no bytes), RSTRH when the originator is inactive or partial, else
 * RSTR; an originator in RESET gives RSTOS0 when the responder is inactive and
 * the history starts with a SYN, else RSTO; both CLOSED is SF; only the
 * originator CLOSED is SH (responder inactive) or S2; only the responder CLOSED
 * is SHR (originator inactive) or S3) and its documentation of each value; the
 * endpoint states come from the TCP analyzer's state machine
 * (src/analyzer/protocol/tcp/TCP.cc: a SYN moves an inactive endpoint to
 * SYN_SENT, a SYN-ACK to SYN_ACK_SENT, a FIN to CLOSED, a RST to RESET; an
 * endpoint seen without SYN is PARTIAL). History letters are Zeek's: upper
 * case from the originator, `^` when the first packet was a SYN-ACK and the
 * roles were flipped. Each crafted file is also read by tshark, which must see
 * the same flags in the same frames (a subtest that needs tshark, test/requires.ts).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { runCli } from './helpers.js';
import { pcap, type Seg } from './pcap-writer.js';
import { requires } from './requires.js';

const dir = mkdtempSync(join(tmpdir(), 'rstscope-connstate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const C: [string, number] = ['10.1.0.1', 41000];
const S: [string, number] = ['10.1.0.2', 80];
const IC = 1000; // client ISN
const IS = 50000; // server ISN

interface FlowJson { orig: { ip: string; port: number }; state: string; history: string; firstFrame: number; lastFrame: number }

/**
 * writes the capture, checks in a subtest (skipped without tshark) that tshark
 * reads the same flags, returns `flows -f json`'s connections
 */
async function flows(t: TestContext, name: string, segs: Seg[]): Promise<FlowJson[]> {
  const file = join(dir, `${name}.pcap`);
  writeFileSync(file, pcap(segs));
  await t.test(`${name}: tshark sees the crafted flags in the same frames`, requires('tshark'), () => {
    const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'tcp.flags.str'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const shown = out.split('\n').filter((l) => l !== '').map((l) => l.replace(/[^A-Z]/g, '').split('').sort().join(''));
    const crafted = segs.map((s) => s.flags.split('').sort().join(''));
    assert.deepEqual(shown, crafted, `${name}: tshark sees the crafted flags`);
  });
  const r = await runCli(['flows', '-f', 'json', file]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { connections: FlowJson[] }).connections;
}

const syn = (t: number): Seg => ({ tsSec: 100, tsUsec: t, src: C, dst: S, flags: 'S', seq: IC });
const synAck = (t: number): Seg => ({ tsSec: 100, tsUsec: t, src: S, dst: C, flags: 'SA', seq: IS, ack: IC + 1 });
const ack = (t: number): Seg => ({ tsSec: 100, tsUsec: t, src: C, dst: S, flags: 'A', seq: IC + 1, ack: IS + 1 });
const handshake = (): Seg[] => [syn(0), synAck(100), ack(200)];

interface Case { name: string; state: string; history: string; segs: Seg[]; why: string }

const CASES: Case[] = [
  {
    name: 'S2', state: 'S2', history: 'ShADF',
    why: 'established; the originator sent FIN (CLOSED), the responder never answered it (still ESTABLISHED)',
    segs: [...handshake(),
      { tsSec: 100, tsUsec: 300, src: C, dst: S, flags: 'PA', seq: IC + 1, ack: IS + 1, len: 10 },
      { tsSec: 100, tsUsec: 400, src: C, dst: S, flags: 'FA', seq: IC + 11, ack: IS + 1 }],
  },
  {
    name: 'S3', state: 'S3', history: 'ShAdf',
    why: 'established; the responder sent FIN (CLOSED), the originator never answered it (still ESTABLISHED)',
    segs: [...handshake(),
      { tsSec: 100, tsUsec: 300, src: S, dst: C, flags: 'PA', seq: IS + 1, ack: IC + 1, len: 10 },
      { tsSec: 100, tsUsec: 400, src: S, dst: C, flags: 'FA', seq: IS + 11, ack: IC + 1 }],
  },
  {
    name: 'RSTRH', state: 'RSTRH', history: '^hr',
    why: 'no SYN seen: the first packet is a SYN-ACK (roles flipped, its sender is the responder), then the responder resets; the originator stays inactive',
    segs: [synAck(0), { tsSec: 100, tsUsec: 100, src: S, dst: C, flags: 'R', seq: IS + 1 }],
  },
  {
    name: 'RSTOS0', state: 'RSTOS0', history: 'SR',
    why: 'the originator sent a SYN then a RST; nothing came back (responder inactive, history starts with S)',
    segs: [syn(0), { tsSec: 100, tsUsec: 100, src: C, dst: S, flags: 'R', seq: IC + 1 }],
  },
  {
    name: 'SH', state: 'SH', history: 'SF',
    why: 'the originator sent a SYN then a FIN (CLOSED); the responder never answered (inactive)',
    segs: [syn(0), { tsSec: 100, tsUsec: 100, src: C, dst: S, flags: 'F', seq: IC + 1 }],
  },
  {
    name: 'SHR', state: 'SHR', history: '^hf',
    why: 'no SYN seen: a SYN-ACK then a FIN from the responder (CLOSED); the originator inactive',
    segs: [synAck(0), { tsSec: 100, tsUsec: 100, src: S, dst: C, flags: 'FA', seq: IS + 1, ack: IC + 1 }],
  },
  {
    name: 'REJ', state: 'REJ', history: 'Sr',
    why: 'a SYN answered by RST/ACK: the responder RESET while the originator is still in SYN_SENT',
    segs: [syn(0), { tsSec: 100, tsUsec: 100, src: S, dst: C, flags: 'RA', seq: 0, ack: IC + 1 }],
  },
  {
    name: 'RSTR', state: 'RSTR', history: 'ShADr',
    why: 'control for RSTRH: the same reset after a full handshake (originator ESTABLISHED, not inactive)',
    segs: [...handshake(),
      { tsSec: 100, tsUsec: 300, src: C, dst: S, flags: 'PA', seq: IC + 1, ack: IS + 1, len: 10 },
      { tsSec: 100, tsUsec: 400, src: S, dst: C, flags: 'R', seq: IS + 1 }],
  },
  {
    name: 'SF', state: 'SF', history: 'ShADFf',
    why: 'control for S2/S3: both sides CLOSED',
    segs: [...handshake(),
      { tsSec: 100, tsUsec: 300, src: C, dst: S, flags: 'PA', seq: IC + 1, ack: IS + 1, len: 10 },
      { tsSec: 100, tsUsec: 400, src: C, dst: S, flags: 'FA', seq: IC + 11, ack: IS + 1 },
      { tsSec: 100, tsUsec: 500, src: S, dst: C, flags: 'FA', seq: IS + 1, ack: IC + 12 },
      { tsSec: 100, tsUsec: 600, src: C, dst: S, flags: 'A', seq: IC + 12, ack: IS + 2 }],
  },
];

for (const k of CASES) {
  test(`conn_state ${k.state}: ${k.why}`, async (t) => {
    const conns = await flows(t, k.name, k.segs);
    assert.equal(conns.length, 1, `${k.name}: one connection`);
    const c = conns[0];
    assert.equal(c.state, k.state, `${k.name}: conn_state`);
    assert.equal(c.history, k.history, `${k.name}: history`);
    // the originator is the client in every case (a SYN-ACK-first connection is flipped to it)
    assert.deepEqual([c.orig.ip, c.orig.port], C, `${k.name}: originator`);
    assert.deepEqual([c.firstFrame, c.lastFrame], [1, k.segs.length]);
  });
}
