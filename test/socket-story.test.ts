/**
 * Issue 15, items 3 and 4: stories never rest on a record split, and time
 * must have passed. Records keep Zeek's splits (the links between them,
 * src/tcp/link.ts, change no record); the findings join what one socket did
 * and claim "never answered" or "gave up" only with the time that takes or
 * the sender's own give-up on the wire. Also --idle-timeout.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { analyze } from '../src/analysis/analyze.js';
import { runCli } from './helpers.js';
import { pcap, type Seg } from './pcap-writer.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const PUBLIC = join(HERE, '..', '..', 'test', 'fixtures', 'public');
const AVAST = join(PUBLIC, 'nDPI', 'avast.pcap');
const dir = mkdtempSync(join(tmpdir(), 'rstscope-story-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const C: [string, number] = ['10.6.0.1', 41000];
const S: [string, number] = ['10.6.0.2', 8080];
const OTHER: [string, number] = ['10.6.0.3', 42000];

async function findingsOf(name: string, segs: Seg[]) {
  const file = join(dir, name);
  writeFileSync(file, pcap(segs));
  return (await analyze([file], { keepRecords: true })).findings;
}

test('linked records: the records are the same with and without rules (links change no record)', async () => {
  for (const f of ['nDPI/syslog.pcap', 'ppa/nowebaccess2.pcapng', 'nDPI/avast.pcap', 'nDPI/tls_alert.pcap', 'arkime/CVE-2018-6794.pcap']) {
    const withRules = await analyze([join(PUBLIC, f)], { keepRecords: true });
    const without = await analyze([join(PUBLIC, f)], { keepRecords: true, rules: false });
    assert.deepEqual(withRules.connections, without.connections, f);
  }
});

test('syn-unanswered: a warning once the sender fell silent longer than any SYN retry gap while the capture went on', async () => {
  const segs: Seg[] = [0, 1, 3, 7, 15, 31, 63].map((t) => ({ tsSec: 1000 + t, src: C, dst: S, flags: 'S', seq: 500 }));
  // other traffic 140 s after the last retry: the capture went on, the client stopped trying
  segs.push({ tsSec: 1203, src: OTHER, dst: S, flags: 'S', seq: 1 });
  const fs = (await findingsOf('syn-gave-up.pcap', segs)).filter((f) => f.rule === 'syn-unanswered' && f.frame === 1);
  assert.equal(fs.length, 1);
  assert.equal(fs[0].severity, 'warning');
  assert.match(fs[0].summary, /never answered/);
});

test('syn-unanswered: SYN retries cut short by the capture\'s end are info, "no answer in the N s before the capture ended"', async () => {
  const segs: Seg[] = [0, 1, 3].map((t) => ({ tsSec: 2000 + t, src: C, dst: S, flags: 'S', seq: 700 }));
  segs.push({ tsSec: 2005, src: OTHER, dst: S, flags: 'S', seq: 1 });
  const fs = (await findingsOf('syn-short.pcap', segs)).filter((f) => f.rule === 'syn-unanswered' && f.frame === 1);
  assert.equal(fs.length, 1);
  assert.equal(fs[0].severity, 'info');
  assert.match(fs[0].summary, /no answer in the 5 s before the capture ended/);
  assert.doesNotMatch(fs[0].summary, /never answered/);
});

test('syn-unanswered: a SYN-ACK in the next record answers the SYN while its retries run, not after they ran out', async () => {
  // Windows (TTL 128): SYNs at 0, 3 and 9 s, gives up at 21 s
  const win = (t0: number, answerAt: number, port: number): Seg[] => [
    ...[0, 3, 9].map((t) => ({ tsSec: t0 + t, src: [C[0], port], dst: S, flags: 'S', seq: 300, ttl: 128 } as Seg)),
    { tsSec: t0 + answerAt, src: S, dst: [C[0], port], flags: 'SA', seq: 800, ack: 301, ttl: 64 },
  ];
  const fs = await findingsOf('syn-late.pcap', [...win(9000, 15, 41001), ...win(9100, 31, 41002)]);
  const su = fs.filter((f) => f.rule === 'syn-unanswered');
  assert.equal(su.length, 1, JSON.stringify(su.map((f) => f.summary)));
  assert.equal(su[0].severity, 'warning');
  assert.match(su[0].summary, /answered only at frame 8, 31 s after the first SYN/);
});

test('half-open: retransmissions over the sender\'s give-up time are an error; the same cut short by the capture is info', async () => {
  const hs = (t0: number): Seg[] => [
    { tsSec: t0, src: C, dst: S, flags: 'S', seq: 100, ttl: 64 },
    { tsSec: t0, tsUsec: 1000, src: S, dst: C, flags: 'SA', seq: 900, ack: 101, ttl: 64 },
    { tsSec: t0, tsUsec: 2000, src: C, dst: S, flags: 'A', seq: 101, ack: 901, ttl: 64 },
    { tsSec: t0, tsUsec: 3000, src: C, dst: S, flags: 'PA', seq: 101, ack: 901, len: 10, ttl: 64 },
  ];
  // Linux-like backoff, 200 ms doubling: 12 retransmissions reach past 15 minutes only with RTO_MAX; these stop at 409.6 s
  const backoff = [0.2, 0.6, 1.4, 3, 6.2, 12.6, 25.4, 51, 102.2, 204.6, 409.4];
  const rexmit = (t0: number, upTo: number): Seg[] => backoff.filter((d) => d <= upTo).map((d) => ({
    tsSec: t0 + Math.floor(d), tsUsec: Math.round((d % 1) * 1e6) + 3000, src: C, dst: S, flags: 'PA', seq: 101, ack: 901, len: 10, ttl: 64,
  }));
  // short: 4 retransmissions in 3 s, then the capture ends
  const short = await findingsOf('rexmit-short.pcap', [...hs(3000), ...rexmit(3000, 3)]);
  const h = short.filter((f) => f.rule === 'half-open');
  assert.equal(h.length, 1, JSON.stringify(short.map((f) => f.summary)));
  assert.equal(h[0].severity, 'info');
  assert.doesNotMatch(h[0].summary, /ETIMEDOUT/);
  // long: the retransmissions stop at 409 s and the capture goes on 200 s more (longer than any RTO): the kernel gave up
  const long = await findingsOf('rexmit-long.pcap', [...hs(5000), ...rexmit(5000, 410), { tsSec: 5000 + 610, src: OTHER, dst: S, flags: 'S', seq: 1 }]);
  const e = long.filter((f) => f.rule === 'half-open');
  assert.equal(e.length, 1);
  assert.equal(e[0].severity, 'error');
  assert.match(e[0].summary, /ETIMEDOUT/);
});

test('half-open: out-of-order segments at one timestamp are not retransmissions', async () => {
  const segs: Seg[] = [
    { tsSec: 7000, src: C, dst: S, flags: 'S', seq: 100 },
    { tsSec: 7000, tsUsec: 100, src: S, dst: C, flags: 'SA', seq: 900, ack: 101 },
    { tsSec: 7000, tsUsec: 200, src: C, dst: S, flags: 'A', seq: 101, ack: 901 },
    // a burst of 5 x 100 bytes from the server, reaching the capture point out of order, all at one time
    ...[4, 0, 1, 2, 3].map((i) => ({ tsSec: 7001, src: S, dst: C, flags: 'A', seq: 901 + 100 * i, ack: 101, len: 100 } as Seg)),
  ];
  const fs = await findingsOf('reorder.pcap', segs);
  assert.equal(fs.filter((f) => f.rule === 'half-open').length, 0, JSON.stringify(fs.map((f) => f.summary)));
});

test('--idle-timeout: a bad value is a usage error naming the option (exit 2)', async () => {
  for (const v of ['0', '-5', 'soon', 'Infinity', '40000000']) {
    const r = await runCli(['analyze', '--idle-timeout', v, AVAST]);
    assert.equal(r.code, 2, `--idle-timeout ${v}: ${r.stderr}`);
    assert.match(r.stderr, /--idle-timeout takes a number of seconds > 0/, v);
  }
});

test('--idle-timeout: in --help of flows, analyze and report', async () => {
  for (const cmd of ['flows', 'analyze', 'report']) {
    const r = await runCli([cmd, '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--idle-timeout/, cmd);
  }
});

test('--idle-timeout 1000 keeps a connection idle for 372 s in one record; the keep-alive reset is told either way', async () => {
  const split = await analyze([AVAST], { keepRecords: true });
  const whole = await analyze([AVAST], { keepRecords: true, inactivityTimeoutSec: 1000 });
  const onPort = (r: typeof split) => r.connections.filter((c) => c.orig.port === 58412 || c.resp.port === 58412);
  assert.equal(onPort(split).length, 2);
  assert.equal(onPort(whole).length, 1);
  for (const r of [split, whole]) {
    assert.ok(r.findings.some((f) => f.rule === 'keepalive-reset' && f.frame === 102), JSON.stringify(r.findings.map((f) => `${f.rule}@${f.frame}`)));
    assert.ok(!r.findings.some((f) => f.rule === 'abortive-close' && f.frame === 102));
  }
  const cli = await runCli(['flows', '-f', 'ndjson', '--idle-timeout', '1000', AVAST]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal(cli.stdout.split('\n').filter((l) => l.includes('"port":58412')).length, 1);
});

/**
 * A connection whose data goes unanswered: handshake, the client's 100 bytes
 * and FIN retransmitted at +1, +3, +7 s; then its close timer closes the
 * record during other traffic, the client retransmits once more at `lateAt`
 * and resets at `rstAt` (both after the split), the server silent throughout
 * unless `answerAt` is given.
 */
function unansweredThenRst(t0: number, lateAt: number, rstAt: number, answerAt?: number): Seg[] {
  const segs: Seg[] = [
    { tsSec: t0, src: C, dst: S, flags: 'S', seq: 100, ttl: 128 },
    { tsSec: t0, tsUsec: 1000, src: S, dst: C, flags: 'SA', seq: 900, ack: 101 },
    { tsSec: t0, tsUsec: 2000, src: C, dst: S, flags: 'A', seq: 101, ack: 901, ttl: 128 },
    { tsSec: t0, tsUsec: 3000, src: S, dst: C, flags: 'FA', seq: 901, ack: 101 },
    { tsSec: t0, tsUsec: 4000, src: C, dst: S, flags: 'A', seq: 101, ack: 902, ttl: 128 },
    { tsSec: t0, tsUsec: 5000, src: C, dst: S, flags: 'FPA', seq: 101, ack: 902, len: 100, ttl: 128 },
  ];
  for (const d of [1, 3, 7]) segs.push({ tsSec: t0 + d, src: C, dst: S, flags: 'FPA', seq: 101, ack: 902, len: 100, ttl: 128 });
  // other connections keep the capture going: the sweep for their packets closes the record out
  for (let t = t0 + 8; t < t0 + rstAt; t += 2) segs.push({ tsSec: t, src: OTHER, dst: S, flags: 'S', seq: t });
  segs.push({ tsSec: t0 + lateAt, src: C, dst: S, flags: 'FPA', seq: 101, ack: 902, len: 100, ttl: 128 });
  if (answerAt !== undefined) segs.push({ tsSec: t0 + answerAt, src: S, dst: C, flags: 'A', seq: 902, ack: 202 });
  segs.push({ tsSec: t0 + rstAt, src: C, dst: S, flags: 'RA', seq: 202, ack: 902, ttl: 128 });
  return segs.sort((a, b) => a.tsSec - b.tsSec || (a.tsUsec ?? 0) - (b.tsUsec ?? 0));
}

test('half-open: a sender\'s RST after its unanswered retransmissions, in records a timer split, is told as its give-up', async () => {
  const fs = await findingsOf('gave-up-split.pcap', unansweredThenRst(5000, 13, 19));
  const rstFrame = fs.find((f) => f.rule === 'half-open' && f.severity === 'error');
  assert.ok(rstFrame, JSON.stringify(fs.map((f) => [f.rule, f.severity, f.frame])));
  assert.equal(rstFrame.evidence.kind, 'gave-up-after-split');
  assert.equal(rstFrame.actor, 'client'); // the RST's record has no handshake: its sides come from the record it continues
  assert.equal(rstFrame.evidence.retransmissions, 4); // +1, +3, +7 and the one after the split
  assert.equal(rstFrame.evidence.senderClosed, true);
  assert.match(rstFrame.summary, /the client 10\.6\.0\.1:41000 sent its last data and FIN \(frame 6\)/);
  assert.match(rstFrame.summary, /19 s after frame 6 the sender gave up/);
  for (const f of [6, 7, 8, 9]) assert.ok(rstFrame.frames.includes(f), `frame ${f} in ${rstFrame.frames}`);
});

test('half-open: no give-up story when the peer answered after the split, or when the RST came past the horizon', async () => {
  const answered = await findingsOf('gave-up-answered.pcap', unansweredThenRst(6000, 13, 19, 15));
  assert.equal(answered.filter((f) => f.evidence.kind === 'gave-up-after-split').length, 0);
  const late = await findingsOf('gave-up-late.pcap', unansweredThenRst(7000, 13, 1300));
  assert.equal(late.filter((f) => f.evidence.kind === 'gave-up-after-split').length, 0);
});

test('synack-reset: a bare RST answering the SYN-ACK of the sender\'s own SYN is an abandoned connect(), warning, no ECONNRESET claim; once the client acknowledged, half-open', async () => {
  const segs: Seg[] = [
    { tsSec: 8000, src: C, dst: S, flags: 'S', seq: 300 },
    { tsSec: 8000, tsUsec: 6000, src: S, dst: C, flags: 'SA', seq: 7000, ack: 301 },
    { tsSec: 8001, src: C, dst: S, flags: 'R', seq: 301 },
  ];
  const fs = await findingsOf('abandoned-connect.pcap', segs);
  assert.equal(fs.length, 1, JSON.stringify(fs.map((f) => [f.rule, f.severity])));
  assert.equal(fs[0].rule, 'synack-reset');
  assert.equal(fs[0].severity, 'warning');
  assert.deepEqual(fs[0].evidence, { synFrame: 1, synAckFrame: 2, rstFrame: 3, afterSec: 1, rstShape: 'socketless' });
  assert.doesNotMatch(fs[0].summary, /ECONNRESET/);
  assert.match(fs[0].app.resp ?? '', /never saw it/);
  // once the client had acknowledged the SYN-ACK, a bare RST answering the server's data is the stateless case (error)
  const later = await findingsOf('stateless-after-ack.pcap', [
    ...segs.slice(0, 2),
    { tsSec: 8000, tsUsec: 7000, src: C, dst: S, flags: 'A', seq: 301, ack: 7001 },
    { tsSec: 8002, src: S, dst: C, flags: 'PA', seq: 7001, ack: 301, len: 20 },
    { tsSec: 8002, tsUsec: 100, src: C, dst: S, flags: 'R', seq: 301 },
  ]);
  const h = later.find((f) => f.rule === 'half-open');
  assert.ok(h);
  assert.equal(h.evidence.kind, 'stateless-rst');
  assert.equal(h.severity, 'error');
});

test('half-open: a bare RST long after the last exchange answers a segment the capture lacks, not one its sender had acknowledged', async () => {
  const segs: Seg[] = [
    { tsSec: 9000, src: C, dst: S, flags: 'S', seq: 400 },
    { tsSec: 9000, tsUsec: 1000, src: S, dst: C, flags: 'SA', seq: 8000, ack: 401 },
    { tsSec: 9000, tsUsec: 2000, src: C, dst: S, flags: 'A', seq: 401, ack: 8001 },
    { tsSec: 9000, tsUsec: 3000, src: S, dst: C, flags: 'PA', seq: 8001, ack: 401, len: 38 },
    { tsSec: 9000, tsUsec: 4000, src: C, dst: S, flags: 'A', seq: 401, ack: 8039 }, // the client's socket took it
    { tsSec: 9013, src: C, dst: S, flags: 'R', seq: 401 }, // 13 s later: a kernel's answer to something not captured
  ];
  const fs = await findingsOf('unseen-trigger.pcap', segs);
  const h = fs.find((f) => f.rule === 'half-open');
  assert.ok(h, JSON.stringify(fs.map((f) => [f.rule, f.frame])));
  assert.match(h.summary, /13 s after the last exchange/);
  assert.match(h.summary, /a segment the capture does not show/);
  assert.doesNotMatch(h.summary, /sent 38 byte\(s\) \(frame 4\)/);
});

test('abortive-close: a RST after SYN-ACKs nobody acknowledged is a handshake given up; after the peer\'s FIN the ECONNRESET is conditional', async () => {
  const synAcks: Seg[] = [{ tsSec: 9500, src: C, dst: S, flags: 'S', seq: 10 }];
  for (const t of [0, 1, 3, 7]) synAcks.push({ tsSec: 9500 + t, tsUsec: 500, src: S, dst: C, flags: 'SA', seq: 900, ack: 11 });
  synAcks.push({ tsSec: 9515, src: S, dst: C, flags: 'RA', seq: 901, ack: 11 });
  const hs = (await findingsOf('handshake-given-up.pcap', synAcks)).filter((f) => f.rule === 'abortive-close');
  assert.equal(hs.length, 1);
  assert.equal(hs[0].evidence.kind, 'handshake-abandoned');
  assert.doesNotMatch(hs[0].summary, /sees ECONNRESET/);
  const closed: Seg[] = [
    { tsSec: 9600, src: C, dst: S, flags: 'S', seq: 10 },
    { tsSec: 9600, tsUsec: 100, src: S, dst: C, flags: 'SA', seq: 900, ack: 11 },
    { tsSec: 9600, tsUsec: 200, src: C, dst: S, flags: 'A', seq: 11, ack: 901 },
    { tsSec: 9600, tsUsec: 300, src: S, dst: C, flags: 'PA', seq: 901, ack: 11, len: 100 },
    { tsSec: 9600, tsUsec: 400, src: C, dst: S, flags: 'A', seq: 11, ack: 1001 },
    { tsSec: 9600, tsUsec: 500, src: C, dst: S, flags: 'FA', seq: 11, ack: 1001 },
    { tsSec: 9600, tsUsec: 600, src: S, dst: C, flags: 'RA', seq: 1001, ack: 12 },
  ];
  const ab = (await findingsOf('abort-after-peer-fin.pcap', closed)).filter((f) => f.rule === 'abortive-close');
  assert.equal(ab.length, 1);
  assert.match(ab[0].summary, /if that side had closed its socket, no error reaches it/);
});
