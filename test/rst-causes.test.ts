/**
 * The RST-cause chain (src/rules/teardown.ts and the RST rules) through the
 * engine, in process: every capture of captures/ analyzed by `analyze()`
 * (no CLI), its findings exactly the expected ones of NAME.expected.json
 * (rule, key frame, frames, actor, evidence), what each application is told
 * (the errno it really got), and crafted captures for the branches the
 * recordings do not reach. This is the `rst-causes` mutation group's killing
 * test, run once per mutant; rules-captures.test.ts checks the same
 * expectations through the CLI and against tshark.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { analyze } from '../src/analysis/analyze.js';
import { rule as abortiveClose } from '../src/rules/abortive-close.js';
import { rule as rstSuspicious } from '../src/rules/rst-suspicious.js';
import { rule as rstWithUnreadData } from '../src/rules/rst-with-unread-data.js';
import { rule as staleConnection } from '../src/rules/stale-connection.js';
import { rule as synackReset } from '../src/rules/synack-reset.js';
import type { Finding } from '../src/rules/types.js';
import { rule as writeAfterPeerCloseRule } from '../src/rules/write-after-peer-close.js';
import { CAPTURES } from './helpers.js';
import { pcap, tcpOpt, type Seg } from './pcap-writer.js';
import { GOODBYE_FIN_AFTER_RST, GOODBYE_WRITER_ABORT } from './write-after-close-cases.js';

interface Expected {
  capture: string;
  roles?: { client: string; server: string };
  expect: { rule: string; actor: string; frame: number; frames: number[]; evidence: Record<string, unknown> }[];
  mustNotFire?: string[];
  app?: Record<string, { errno?: string }>;
}

const RST_RULES = new Set(['rst-suspicious', 'refused', 'write-after-peer-close', 'keepalive-reset', 'half-open', 'rst-with-unread-data', 'abortive-close']);

const dir = mkdtempSync(join(tmpdir(), 'rstscope-causes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function findingsOf(path: string): Promise<{ findings: Finding[]; side: (f: Finding, addr: string) => 'orig' | 'resp' }> {
  const res = await analyze([path]);
  return {
    findings: res.findings,
    side: (f, addr) => {
      const c = res.connections.find((x) => x.id === f.connection)!;
      return `${c.orig.ip}:${c.orig.port}` === addr ? 'orig' : 'resp';
    },
  };
}

const key = (f: { rule: string; frame: number }): string => `${f.rule}@${f.frame}`;

for (const file of readdirSync(CAPTURES).filter((f) => f.endsWith('.expected.json')).sort()) {
  const exp = JSON.parse(readFileSync(join(CAPTURES, file), 'utf8')) as Expected;
  test(`captures/${exp.capture}: exactly the expected findings, and each application told the errno it got`, async () => {
    const { findings, side } = await findingsOf(join(CAPTURES, exp.capture));
    assert.deepEqual(findings.map(key).sort(), exp.expect.map(key).sort());
    const used: Finding[] = [];
    for (const want of exp.expect) {
      const f = findings.find((x) => x.rule === want.rule && x.frame === want.frame && !used.includes(x))!;
      used.push(f);
      const what = key(want);
      assert.equal(f.actor, want.actor, `${what} actor`);
      assert.deepEqual(f.frames, want.frames, `${what} frames`);
      assert.deepEqual(f.evidence, want.evidence, `${what} evidence`);
      if (!RST_RULES.has(f.rule)) continue;
      // the summary names the RST's frame; each side's view is said
      assert.match(f.summary, new RegExp(`\\(frame ${f.frame}\\)|frame ${f.frame}\\b|frames (\\d+, )*${f.frame}\\b`), `${what} summary names its RST: ${f.summary}`);
      assert.ok(f.app.orig && f.app.resp, `${what}: both applications' views (${JSON.stringify(f.app)})`);
    }
    for (const id of exp.mustNotFire ?? []) assert.deepEqual(findings.filter((x) => x.rule === id).map(key), [], `${id} must not fire`);
    // an application that got an errno is told it by the RST finding about its connection
    if (exp.app && exp.roles) {
      for (const [role, seen] of Object.entries(exp.app)) {
        const rst = findings.filter((f) => RST_RULES.has(f.rule));
        if (!seen.errno || rst.length === 0) continue;
        const addr = (exp.roles as Record<string, string>)[role];
        assert.ok(rst.some((f) => (f.app[side(f, addr)] ?? '').includes(seen.errno!)), `${role} saw ${seen.errno}: ${rst.map((f) => f.app[side(f, addr)]).join(' | ')}`);
      }
    }
  });
}

/**
 * The group's findings on the captures of captures/ and test/fixtures/public/, whole: `${path} ${rule}@${frame}`
 * -> severity, actor, frames, summary, application views and evidence (the expected.json files pin the
 * evidence; these pin the texts, which the reports and `rstscope explain` show). Regenerate on purpose only.
 */
type Snap = { severity: string; actor: string; frames: number[]; summary: string; app: Record<string, string>; evidence: Record<string, unknown> };
const TEXTS = JSON.parse(readFileSync(new URL('../../test/rst-causes-texts.json', import.meta.url), 'utf8')) as Record<string, Snap>;
const TEXT_RULES = new Set(['rst-suspicious', 'abortive-close', 'rst-with-unread-data', 'write-after-peer-close', 'stale-connection']);

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The capture files below `d` (relative to the repository), sorted by name. */
function captureFiles(d: string): string[] {
  return readdirSync(join(ROOT, d), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((e) => (e.isDirectory() ? captureFiles(join(d, e.name)) : /\.(pcap|pcapng)$/.test(e.name) ? [join(d, e.name)] : []));
}

/**
 * What every finding on a crafted mid-stream connection (no port among Zeek's likely server ports) ends
 * with (src/rules/mid-stream.ts): how the roles were inferred.
 */
const MID = (first = 1): string => ' The capture began inside this connection (no handshake): its roles are inferred from the first packet '
  + `captured (no port tells: its sender is taken as the originator, which the client need not be), and what happened before frame ${first} was not captured.`;

test('captures/ and test/fixtures/public/: every rst-suspicious, abortive-close, rst-with-unread-data, write-after-peer-close and stale-connection finding, texts included', async () => {
  const got: Record<string, Snap> = {};
  for (const file of [...captureFiles('captures'), ...captureFiles('test/fixtures/public')]) {
    for (const f of (await findingsOf(join(ROOT, file))).findings) {
      if (TEXT_RULES.has(f.rule)) got[`${file} ${key(f)}`] = { severity: f.severity, actor: f.actor, frames: f.frames, summary: f.summary, app: f.app as Record<string, string>, evidence: f.evidence };
    }
  }
  // regenerate on purpose: UPDATE_TEXTS=1 node --test dist/test/rst-causes.test.js (refused under CI=true), then read the diff
  if (process.env.UPDATE_TEXTS === '1') {
    assert.notEqual(process.env.CI, 'true', 'UPDATE_TEXTS under CI: the snapshot is an expectation, not an output');
    writeFileSync(new URL('../../test/rst-causes-texts.json', import.meta.url), `${JSON.stringify(got, null, 1)}\n`);
  }
  assert.deepEqual(got, TEXTS);
});

// ---- crafted captures: the branches the recordings do not reach ----

const C: [string, number] = ['10.6.0.1', 43000];
const S: [string, number] = ['10.6.0.2', 7000];

interface SegOpts { ttl?: number; ipId?: number; noTs?: boolean; seq?: number; ack?: number; dt?: number; keep?: boolean }

/**
 * A conversation written as each side's segments, with the sequence numbers a
 * kernel would use (ISN 1000 for the client, 5000 for the server), TTL 64, IP
 * IDs counting up per side, a timestamp option on every segment, 1 ms apart.
 * `keep` leaves the side's sequence where it was (a retransmission).
 */
class Conv {
  readonly segs: Seg[] = [];
  private t = 0;
  private readonly seq = { c: 1000, s: 5000 };
  private readonly ipId = { c: 100, s: 30000 };
  private synSeen = { c: false, s: false };

  constructor(private readonly start = 700) {}

  c(flags: string, len = 0, o: SegOpts = {}): this { return this.seg('c', flags, len, o); }
  s(flags: string, len = 0, o: SegOpts = {}): this { return this.seg('s', flags, len, o); }

  /** the handshake */
  open(): this { return this.c('S').s('SA').c('A'); }

  /** mid-stream: both sides' sequence numbers as if a handshake had happened, none on the wire */
  midStream(): this {
    this.seq.c++; this.seq.s++;
    this.synSeen = { c: true, s: true };
    return this;
  }

  private seg(side: 'c' | 's', flags: string, len: number, o: SegOpts): this {
    const other = side === 'c' ? 's' : 'c';
    this.t += o.dt ?? 0.001;
    const ts = Math.round(this.t * 1000) + 1;
    const seq = o.seq ?? this.seq[side];
    this.segs.push({
      tsSec: this.start + Math.floor(this.t), tsUsec: Math.round((this.t % 1) * 1e6),
      src: side === 'c' ? C : S, dst: side === 'c' ? S : C, flags, seq,
      ack: flags.includes('A') ? o.ack ?? this.seq[other] : 0, len,
      ttl: o.ttl ?? 64, ipId: o.ipId ?? this.ipId[side]++,
      opts: o.noTs ? undefined : tcpOpt.ts(ts, ts),
    });
    if (!o.keep && o.seq === undefined) this.seq[side] += len + (flags.includes('S') || flags.includes('F') ? 1 : 0);
    if (flags.includes('S')) this.synSeen[side] = true;
    return this;
  }

  /** the next sequence number of a side */
  nxt(side: 'c' | 's'): number { return this.seq[side]; }
}

let craftedNo = 0;
async function crafted(conv: Conv): Promise<{ findings: Finding[]; all: string[] }> {
  const file = join(dir, `crafted-${++craftedNo}.pcap`);
  writeFileSync(file, pcap(conv.segs));
  const { findings } = await findingsOf(file);
  return { findings, all: findings.map(key) };
}

/** the one finding of a rule (asserted to be its only one) */
function one(findings: Finding[], rule: string): Finding {
  const f = findings.filter((x) => x.rule === rule);
  assert.equal(f.length, 1, `one ${rule}: ${findings.map(key).join(', ')}`);
  return f[0];
}

const SERVER = 'the server 10.6.0.2:7000';
const CLIENT = 'the client 10.6.0.1:43000';

test('rst-suspicious: a TTL below the sender\'s range suffices alone; the range is shown; a RST that ended the connection', async () => {
  // the server's packets came with TTL 64 and 60; its RST with 50
  const { findings, all } = await crafted(new Conv().open().c('PA', 10).s('A').s('PA', 10, { ttl: 60 }).c('A').s('RA', 0, { ttl: 50 }));
  assert.deepEqual(all, ['rst-suspicious@8']);
  const f = one(findings, 'rst-suspicious');
  assert.equal(f.actor, 'server');
  assert.deepEqual(f.frames, [8]);
  assert.deepEqual(f.evidence, {
    reasons: ["TTL 50 unlike the sender's other packets (60-64)"], ttl: 50, ipId: 30003, acceptance: 'exact', survived: false,
    challengeAck: false, challengeAckFrame: null, senderTtl: [60, 64], rstShape: 'live-socket',
  });
  assert.equal(f.summary, `a RST claiming to come from ${SERVER} (frame 8) looks forged: TTL 50 unlike the sender's other packets (60-64). The connection ended with it.`);
  assert.deepEqual(f.app, { resp: 'did not send this RST (as far as the wire shows)', orig: 'ECONNRESET on its next read() or write()' });
});

test('rst-suspicious: a forged RST the connection survived; no challenge ACK claimed for an exact RST even when a pure ACK follows', async () => {
  const { findings, all } = await crafted(new Conv().open().c('PA', 10).s('A').s('RA', 0, { ttl: 128 }).c('A').c('PA', 5).s('A'));
  assert.deepEqual(all, ['rst-suspicious@6']);
  const f = one(findings, 'rst-suspicious');
  assert.deepEqual(f.frames, [6]);
  assert.deepEqual({ survived: f.evidence.survived, challengeAck: f.evidence.challengeAck, challengeAckFrame: f.evidence.challengeAckFrame, senderTtl: f.evidence.senderTtl },
    { survived: true, challengeAck: false, challengeAckFrame: null, senderTtl: 64 });
  assert.equal(f.summary, `a RST claiming to come from ${SERVER} (frame 6) looks forged: TTL 128 unlike the sender's other packets (64). The connection survived it.`);
  assert.deepEqual(f.app, { resp: 'did not send this RST (as far as the wire shows)', orig: 'nothing: the RST was not accepted' });
});

test('rst-suspicious: weak signals (IP ID out of series, missing timestamp option) count in pairs, not alone', async () => {
  const base = () => new Conv().open().c('PA', 10).s('A');
  const pair = await crafted(base().s('RA', 0, { ipId: 40000, noTs: true }));
  assert.deepEqual(pair.all, ['rst-suspicious@6']);
  assert.deepEqual(one(pair.findings, 'rst-suspicious').evidence.reasons,
    ["IP ID 40000 out of the sender's series (last 30001)", 'no timestamp option, which the sender put on every other segment']);
  // one weak signal: an ordinary RST (the client's 10 bytes went unanswered)
  assert.deepEqual((await crafted(base().s('RA', 0, { ipId: 40000 }))).all, ['rst-with-unread-data@6']);
  assert.deepEqual((await crafted(base().s('RA', 0, { noTs: true }))).all, ['rst-with-unread-data@6']);
});

test('rst-suspicious: a missing timestamp option counts only against a sender that put one on all its other (non-SYN) segments', async () => {
  // the server sent only its SYN-ACK before the RST (no non-SYN segment: nothing it always does); with the IP ID
  // jump that is one weak signal, an ordinary RST
  assert.deepEqual((await crafted(new Conv().open().c('PA', 10).s('RA', 0, { ipId: 40000, noTs: true }))).all, ['rst-with-unread-data@5']);
  // the server's segments all carry an option (MSS), never the timestamp: its RST without one is no signal
  const file = join(dir, `crafted-${++craftedNo}.pcap`);
  const mss = tcpOpt.mss(1460);
  writeFileSync(file, pcap([
    { tsSec: 900, src: C, dst: S, flags: 'S', seq: 1000, ipId: 100, opts: tcpOpt.ts(1, 0) },
    { tsSec: 900, tsUsec: 1000, src: S, dst: C, flags: 'SA', seq: 5000, ack: 1001, ipId: 30000, opts: mss },
    { tsSec: 900, tsUsec: 2000, src: C, dst: S, flags: 'A', seq: 1001, ack: 5001, ipId: 101, opts: tcpOpt.ts(2, 1) },
    { tsSec: 900, tsUsec: 3000, src: C, dst: S, flags: 'PA', seq: 1001, ack: 5001, len: 10, ipId: 102, opts: tcpOpt.ts(3, 1) },
    { tsSec: 900, tsUsec: 4000, src: S, dst: C, flags: 'A', seq: 5001, ack: 1011, ipId: 30001, opts: mss },
    { tsSec: 900, tsUsec: 5000, src: S, dst: C, flags: 'RA', seq: 5001, ack: 1011, ipId: 40000 },
  ]));
  assert.deepEqual((await findingsOf(file)).findings.map(key), ['rst-with-unread-data@6']);
});

test('rst-suspicious: an IP ID counts as out of series beyond 1024 after the last, modulo 2^16', async () => {
  const after = (last: number, id: number) => crafted(new Conv().open().c('PA', 10).s('A', 0, { ipId: last }).s('RA', 0, { ipId: id, noTs: true }));
  assert.deepEqual((await after(30000, 31024)).all, ['rst-with-unread-data@6'], '1024 on: in series');
  const out = await after(30000, 31025);
  assert.deepEqual(out.all, ['rst-suspicious@6'], '1025 on: out of series');
  assert.equal((one(out.findings, 'rst-suspicious').evidence.reasons as string[])[0], "IP ID 31025 out of the sender's series (last 30000)");
  assert.deepEqual((await after(65000, 500)).all, ['rst-suspicious@6'], 'wrapping: 1036 on');
  assert.deepEqual((await after(65500, 200)).all, ['rst-with-unread-data@6'], 'wrapping: 236 on');
  assert.deepEqual((await after(30000, 29990)).all, ['rst-suspicious@6'], 'behind the last: far out of series');
});

test('later RSTs from the same side: a retransmitted one adds nothing, a forged one is reported', async () => {
  const { findings, all } = await crafted(new Conv().open().c('PA', 10).s('A').s('RA').s('RA').s('RA', 0, { ttl: 128 }));
  assert.deepEqual(all.sort(), ['rst-suspicious@8', 'rst-with-unread-data@6']);
  assert.deepEqual(one(findings, 'rst-suspicious').evidence.reasons, ["TTL 128 unlike the sender's other packets (64)"]);
});

test('rst-with-unread-data: the bytes after the closer\'s last data, retransmissions not counted twice; exact texts', async () => {
  const { findings, all } = await crafted(new Conv().open().s('PA', 5).c('A').c('PA', 10, { keep: true }).c('PA', 10).c('PA', 7).s('RA'));
  assert.deepEqual(all, ['rst-with-unread-data@9']);
  const f = one(findings, 'rst-with-unread-data');
  assert.equal(f.actor, 'server');
  assert.deepEqual(f.frames, [6, 7, 8, 9]);
  assert.deepEqual(f.evidence, { unreadBytes: 17, firstUnreadFrame: 6, rstFrame: 9, rstShape: 'live-socket', acceptance: 'exact' });
  assert.equal(f.summary, `${CLIENT} sent 17 byte(s) (from frame 6) that ${SERVER} never answered; it closed with that data unread, so its kernel sent RST/ACK (frame 9) instead of FIN: the peer gets ECONNRESET.`);
  assert.deepEqual(f.app, { resp: 'close() returned 0; the unread data was discarded', orig: 'the next read() or write() failed with ECONNRESET ("connection reset by peer")' });
  // the closer answered (data of its own): only what came after counts
  const r = await crafted(new Conv().open().c('PA', 10).s('PA', 5).c('A').c('PA', 3).s('RA'));
  assert.deepEqual(r.all, ['rst-with-unread-data@8']);
  assert.deepEqual(one(r.findings, 'rst-with-unread-data').evidence, { unreadBytes: 3, firstUnreadFrame: 7, rstFrame: 8, rstShape: 'live-socket', acceptance: 'exact' });
  assert.deepEqual(one(r.findings, 'rst-with-unread-data').frames, [7, 8]);
});

test('rst-with-unread-data: where the unread bytes start, with a RST carrying data, data crossing the RST, the closer\'s ACK before it, and the first segment of the capture', async () => {
  const unread = async (conv: Conv, at: string) => {
    const r = await crafted(conv);
    assert.deepEqual(r.all, [at]);
    const f = one(r.findings, 'rst-with-unread-data');
    return [f.evidence.unreadBytes, f.evidence.firstUnreadFrame, f.frames];
  };
  // the server's RST/ACK carries 4 bytes of its own (RFC 9293 3.5.3 allows data in a RST): the RST is not the
  // closer's last payload, the client's 10 bytes before it are still unread
  assert.deepEqual(await unread(new Conv().open().c('PA', 10).s('RA', 4), 'rst-with-unread-data@5'), [10, 4, [4, 5]]);
  // the client's next 5 bytes cross the RST: they come after it, not among the unread ones
  assert.deepEqual(await unread(new Conv().open().c('PA', 10).s('RA').c('PA', 5), 'rst-with-unread-data@5'), [10, 4, [4, 5]]);
  // mid-stream: the client's 10 bytes are the capture's first segment; the server acknowledged them (a pure
  // ACK, no answer) and then reset
  assert.deepEqual(await unread(new Conv().midStream().c('PA', 10).s('A').s('RA'), 'rst-with-unread-data@3'), [10, 1, [1, 2, 3]]);
});

test('without a handshake the sides are the originator and the responder', async () => {
  const { findings, all } = await crafted(new Conv().midStream().c('PA', 10).s('PA', 20).c('A').c('RA'));
  assert.deepEqual(all, ['rst-with-unread-data@4']);
  const f = one(findings, 'rst-with-unread-data');
  assert.equal(f.actor, 'orig');
  assert.equal(f.summary, `the responder 10.6.0.2:7000 sent 20 byte(s) (from frame 2) that the originator 10.6.0.1:43000 never answered; it closed with that data unread, so its kernel sent RST/ACK (frame 4) instead of FIN: the peer gets ECONNRESET.${MID()}`);
  assert.equal(f.evidence.roles, 'inferred-first-packet');
  assert.deepEqual(f.app, { orig: 'close() returned 0; the unread data was discarded', resp: 'the next read() or write() failed with ECONNRESET ("connection reset by peer")' });
  // a bare RST answering data from a side that sent nothing else: half-open, told from the responder
  const h = await crafted(new Conv().midStream().c('PA', 10).s('R', 0, { seq: 5001 }));
  assert.deepEqual(h.all, ['half-open@2']);
  assert.equal(one(h.findings, 'half-open').actor, 'resp');
  // a lone RST (nothing else from its sender, nothing it answers): no story
  assert.deepEqual((await crafted(new Conv().midStream().s('RA'))).all, []);
});

test('abortive-close: a client resetting after the reply; a server discarding unacknowledged data; after its own FIN; exact texts', async () => {
  const client = await crafted(new Conv().open().c('PA', 10).s('PA', 20).c('RA'));
  assert.deepEqual(client.all, ['abortive-close@6']);
  const c = one(client.findings, 'abortive-close');
  assert.equal(c.actor, 'client');
  assert.deepEqual(c.frames, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(c.evidence, { pendingBytes: 0, finSent: false, rstFrame: 6, rstShape: 'live-socket', acceptance: 'exact' });
  assert.equal(c.summary, `${CLIENT} aborted the connection with RST (frame 6) without a FIN: ${SERVER} sees ECONNRESET.`);
  assert.deepEqual(c.app, { orig: 'closed abortively (SO_LINGER 0 or abort): close() returned at once, unsent data discarded', resp: 'the next read() or write() failed with ECONNRESET' });

  const pending = await crafted(new Conv().open().c('PA', 10).s('A').s('PA', 30).s('RA'));
  assert.deepEqual(pending.all, ['abortive-close@7']);
  const p = one(pending.findings, 'abortive-close');
  assert.deepEqual(p.frames, [2, 3, 4, 5, 6, 7]);
  assert.deepEqual(p.evidence, { pendingBytes: 30, finSent: false, rstFrame: 7, rstShape: 'live-socket', acceptance: 'exact' });
  assert.equal(p.summary, `${SERVER} aborted the connection with RST (frame 7) without a FIN, discarding 30 byte(s) it had sent that were never acknowledged: ${CLIENT} sees ECONNRESET.`);
  assert.deepEqual(p.app, { resp: 'closed abortively (SO_LINGER 0 or abort): close() returned at once, unsent data discarded', orig: 'the next read() or write() failed with ECONNRESET' });

  const fin = await crafted(new Conv().open().c('PA', 10).s('PA', 10).c('A').s('FA').c('A').s('RA'));
  assert.deepEqual(fin.all, ['abortive-close@9']);
  const f = one(fin.findings, 'abortive-close');
  assert.deepEqual(f.evidence, { pendingBytes: 0, finSent: true, rstFrame: 9, rstShape: 'live-socket', acceptance: 'exact' });
  assert.equal(f.summary, `${SERVER} aborted the connection with RST (frame 9) after its FIN: ${CLIENT} sees ECONNRESET.`);
});

/**
 * write-after-peer-close byte counts where the two sources of the count differ: the writer's
 * payload after the peer's FIN (counted over the whole connection) and the payload beyond the
 * FIN's ACK when the RST was sent (formerly write-after-close-crafted.test.ts, through the CLI).
 */
async function writeAfterPeerClose(segs: Seg[]): Promise<Finding> {
  const file = join(dir, `crafted-${++craftedNo}.pcap`);
  writeFileSync(file, pcap(segs));
  return one((await findingsOf(file)).findings, 'write-after-peer-close');
}
const WC: [string, number] = ['10.5.0.1', 43000];
const WS: [string, number] = ['10.5.0.2', 7000];

/** A write-after-peer-close race up to the server's FIN: the client's data crosses it (frames 4-6). */
const RACE_TO_FIN: Seg[] = [
  { tsSec: 600, src: WC, dst: WS, flags: 'S', seq: 100 },
  { tsSec: 600, tsUsec: 1000, src: WS, dst: WC, flags: 'SA', seq: 9000, ack: 101 },
  { tsSec: 600, tsUsec: 2000, src: WC, dst: WS, flags: 'A', seq: 101, ack: 9001 },
  { tsSec: 600, tsUsec: 3000, src: WC, dst: WS, flags: 'PA', seq: 101, ack: 9001, len: 50 },
  { tsSec: 600, tsUsec: 4000, src: WC, dst: WS, flags: 'PA', seq: 151, ack: 9001, len: 100 },
  { tsSec: 600, tsUsec: 4100, src: WS, dst: WC, flags: 'FA', seq: 9001, ack: 151 },
];

test('write-after-peer-close (bug): bytes written after the FIN include those sent after the RST left; exact texts', async () => {
  // the writer, having read the FIN, writes 15 bytes, is reset, and writes 10 more before the RST reaches it
  // (a long path): it wrote 25 bytes after the FIN, of which 15 were on the wire when the RST left
  const f = await writeAfterPeerClose([
    { tsSec: 500, src: WC, dst: WS, flags: 'S', seq: 100 },
    { tsSec: 500, tsUsec: 1000, src: WS, dst: WC, flags: 'SA', seq: 9000, ack: 101 },
    { tsSec: 500, tsUsec: 2000, src: WC, dst: WS, flags: 'A', seq: 101, ack: 9001 },
    { tsSec: 500, tsUsec: 3000, src: WS, dst: WC, flags: 'FA', seq: 9001, ack: 101 }, // 4: the server closes
    { tsSec: 500, tsUsec: 4000, src: WC, dst: WS, flags: 'A', seq: 101, ack: 9002 },
    { tsSec: 500, tsUsec: 5000, src: WC, dst: WS, flags: 'PA', seq: 101, ack: 9002, len: 15 }, // 6: written after the FIN
    { tsSec: 500, tsUsec: 6000, src: WS, dst: WC, flags: 'R', seq: 9002 }, // 7: the closed socket resets
    { tsSec: 500, tsUsec: 6500, src: WC, dst: WS, flags: 'PA', seq: 116, ack: 9002, len: 10 }, // 8: written before the RST arrived
    { tsSec: 500, tsUsec: 7000, src: WS, dst: WC, flags: 'R', seq: 9002 }, // 9
  ]);
  assert.equal(f.frame, 7);
  assert.equal(f.actor, 'server');
  assert.deepEqual(f.frames, [4, 5, 6, 7]);
  assert.deepEqual(f.evidence, { variant: 'bug', finFrame: 4, firstDataFrame: 6, bytesAfterFin: 25, rstFrame: 7, rstShape: 'socketless', dataAckedFin: true });
  assert.equal(f.summary, 'the server 10.5.0.2:7000 closed first (FIN, frame 4); the client 10.5.0.1:43000 then wrote 25 byte(s) (frame 6) after it had received that FIN; '
    + 'the server 10.5.0.2:7000\'s kernel answered with RST (frame 7). The writer\'s kernel had that FIN before the data left (its application may not have read the EOF yet); '
    + 'the data was lost, and the writer\'s next write fails with EPIPE and SIGPIPE. '
    + 'The capture ends 1 ms after this RST, so it could lack a FIN the writer sent before the RST reached it: if that data was its last message before close(), nothing failed.');
  assert.deepEqual(f.app, {
    resp: 'had called close(); its kernel reset the connection when data arrived',
    orig: 'the write() succeeded locally (its kernel already had the FIN: read() would return 0, EOF), then the next write() failed with EPIPE (SIGPIPE unless ignored or MSG_NOSIGNAL)',
  });
});

test('write-after-peer-close (race): the first data is the first the FIN did not acknowledge, not data the FIN covered; exact texts', async () => {
  const f = await writeAfterPeerClose([
    { tsSec: 600, src: WC, dst: WS, flags: 'S', seq: 100 },
    { tsSec: 600, tsUsec: 1000, src: WS, dst: WC, flags: 'SA', seq: 9000, ack: 101 },
    { tsSec: 600, tsUsec: 2000, src: WC, dst: WS, flags: 'A', seq: 101, ack: 9001 },
    { tsSec: 600, tsUsec: 3000, src: WC, dst: WS, flags: 'PA', seq: 101, ack: 9001, len: 50 }, // 4: read by the server
    { tsSec: 600, tsUsec: 4000, src: WC, dst: WS, flags: 'PA', seq: 151, ack: 9001, len: 100 }, // 5: crosses the FIN
    { tsSec: 600, tsUsec: 4100, src: WS, dst: WC, flags: 'FA', seq: 9001, ack: 151 }, // 6: FIN acknowledging frame 4 only
    { tsSec: 600, tsUsec: 5000, src: WS, dst: WC, flags: 'R', seq: 9002 }, // 7: frame 5's data reached a closed socket
    { tsSec: 600, tsUsec: 5100, src: WC, dst: WS, flags: 'A', seq: 251, ack: 9002 }, // 8: the client acknowledges the FIN
  ]);
  assert.equal(f.frame, 7);
  assert.deepEqual(f.frames, [6, 7]);
  assert.deepEqual(f.evidence, { variant: 'race', finFrame: 6, firstDataFrame: 5, bytesAfterFin: 100, rstFrame: 7, rstShape: 'other', dataAckedFin: false });
  assert.equal(f.summary, 'the server 10.5.0.2:7000 closed first (FIN, frame 6); the client 10.5.0.1:43000 meanwhile wrote 100 byte(s) (frame 5) before that FIN reached it (a race); '
    + 'the server 10.5.0.2:7000\'s kernel answered with RST (frame 7). The FIN still arrived before the RST, so the writer\'s next write fails with EPIPE and SIGPIPE (ECONNRESET only if the FIN was lost). '
    + 'The capture ends 0.1 ms after this RST, so it could lack a FIN the writer sent before the RST reached it: if that data was its last message before close(), nothing failed.');
  assert.deepEqual(f.app, {
    resp: 'had called close(); its kernel reset the connection when data arrived',
    orig: 'write() succeeded locally (it was sent before the FIN arrived); read() then returned 0 (EOF), and the next write() failed with EPIPE (SIGPIPE unless ignored); ECONNRESET only if the FIN was lost',
  });
});

test('rst-suspicious: an in-window RST claiming to come from the client; the challenge ACK is the server\'s first pure ACK after it', async () => {
  const conv = new Conv().open().c('PA', 10).s('PA', 10).c('A');
  // in the window, 1000 past what the server expects; the server then sends data, then a pure ACK
  conv.c('RA', 0, { seq: conv.nxt('c') + 1000 }).s('PA', 5).s('A').c('A');
  const { findings, all } = await crafted(conv);
  assert.deepEqual(all, ['rst-suspicious@7']);
  const f = one(findings, 'rst-suspicious');
  assert.equal(f.actor, 'client');
  assert.deepEqual(f.frames, [7, 9]);
  assert.deepEqual({ acceptance: f.evidence.acceptance, survived: f.evidence.survived, challengeAck: f.evidence.challengeAck, challengeAckFrame: f.evidence.challengeAckFrame },
    { acceptance: 'in-window', survived: true, challengeAck: true, challengeAckFrame: 9 });
  assert.equal(f.summary, `a RST claiming to come from ${CLIENT} (frame 7) looks forged: sequence in window but not exact (RFC 5961: the receiver answers with a challenge ACK and keeps the connection). The connection survived it (challenge ACK, frame 9).`);
  assert.deepEqual(f.app, { orig: 'did not send this RST (as far as the wire shows)', resp: 'nothing: the RST was not accepted' });
});

test('write-after-peer-close: the client closes first, the server writes after reading its FIN (after-client-close, warning)', async () => {
  // a bare RST at the sequence the server's data acknowledged: the closed socket's kernel answering. A server's
  // bytes after its client's close are most often its last reply whose close() the RST overtook: no FIN can follow
  // a RST, so the wire cannot tell that from a failing second write (issue 15: the known-wrong errors on public captures)
  const { findings, all } = await crafted(new Conv().open().c('PA', 10).s('A').c('FA').s('A').s('PA', 40).c('R'));
  assert.deepEqual(all, ['write-after-peer-close@9']);
  const f = one(findings, 'write-after-peer-close');
  assert.equal(f.actor, 'client');
  assert.equal(f.severity, 'warning');
  assert.deepEqual(f.frames, [6, 7, 8, 9]);
  assert.deepEqual(f.evidence, { variant: 'after-client-close', finFrame: 6, firstDataFrame: 8, bytesAfterFin: 40, rstFrame: 9, rstShape: 'socketless', dataAckedFin: true });
  const both = ' A server\'s last bytes after its client\'s close are most often a reply to the last request or a parting message (an SMTP 421 or 500, a TLS close_notify, an RPC fault) followed by its own close(), which the RST overtook: then nothing failed. '
    + 'If the server wrote again, that write failed with EPIPE (SIGPIPE unless ignored). The capture cannot show which: a socket sends nothing after a RST, neither its FIN nor a failed write.';
  assert.equal(f.summary, `${CLIENT} closed (FIN, frame 6); ${SERVER} then sent 40 byte(s) (frame 8) after it had received that FIN, and ${CLIENT}'s kernel answered with RST (frame 9): the client's application never reads them.${both}`);
  assert.deepEqual(f.app, {
    orig: "had called close(); its kernel discarded the server's last 40 byte(s) unread and answered with RST; no error reached it",
    resp: 'the write succeeded locally; after a last message and close() nothing failed; a later write, if any, failed with EPIPE (SIGPIPE unless ignored)',
  });
  // the server's 40 bytes crossed the client's FIN (they do not acknowledge it)
  const crossing = new Conv().open().c('PA', 10).s('A').c('FA').s('PA', 40, { ack: 1011 });
  const x = one((await crafted(crossing.c('R', 0, { seq: crossing.nxt('c') }))).findings, 'write-after-peer-close');
  assert.deepEqual([x.frame, x.frames, x.evidence], [8, [6, 7, 8], { variant: 'after-client-close', finFrame: 6, firstDataFrame: 7, bytesAfterFin: 40, rstFrame: 8, rstShape: 'other', dataAckedFin: false }]);
  assert.equal(x.summary, `${CLIENT} closed (FIN, frame 6) while ${SERVER}'s 40 byte(s) (from frame 7) were on their way (they crossed the FIN), and ${CLIENT}'s kernel answered with RST (frame 8): the client's application never reads them.${both}`);
  assert.deepEqual(x.app, f.app);
  // the same with the roles unknown (no handshake): the bug variant stands
  const mid = await crafted(new Conv().midStream().c('PA', 10).s('A').c('FA').s('A').s('PA', 40).c('R'));
  const g = one(mid.findings, 'write-after-peer-close');
  assert.equal(g.evidence.variant, 'bug');
  assert.equal(g.severity, 'error');
});

test('suspicion details: IP ID 0 is no series; a socketless RST is judged by its TTL only', async () => {
  const base = () => new Conv().open().c('PA', 10).s('A');
  // IP ID 0 on the RST (Linux sends 0 with DF), or a sender whose last IP ID was 0: no IP ID signal, one weak signal only
  assert.deepEqual((await crafted(base().s('RA', 0, { ipId: 0, noTs: true }))).all, ['rst-with-unread-data@6']);
  assert.deepEqual((await crafted(new Conv().open().c('PA', 10).s('A', 0, { ipId: 0 }).s('RA', 0, { ipId: 5000, noTs: true }))).all, ['rst-with-unread-data@6']);
  // a bare RST at the trigger's ack (socketless shape) never carries options and its IP ID is not the socket's:
  // only the TTL counts
  const conv = new Conv().midStream().s('PA', 5).c('A').c('PA', 10);
  const { findings, all } = await crafted(conv.s('R', 0, { seq: conv.nxt('s'), ttl: 128, ipId: 40000, noTs: true }));
  assert.deepEqual(all, ['rst-suspicious@4']);
  const f = one(findings, 'rst-suspicious');
  assert.deepEqual({ reasons: f.evidence.reasons, rstShape: f.evidence.rstShape },
    { reasons: ["TTL 128 unlike the sender's other packets (64)"], rstShape: 'socketless' });
});

test('unread data counts only up to the RST; a RST from a side whose peer sent nothing is still told', async () => {
  // the RST itself carries a payload (RFC 1122 diagnostic data): it does not answer the client's bytes
  const r = await crafted(new Conv().open().c('PA', 10).s('A').s('RA', 4));
  assert.deepEqual(r.all, ['rst-with-unread-data@6']);
  assert.deepEqual(one(r.findings, 'rst-with-unread-data').evidence, {
    unreadBytes: 10, firstUnreadFrame: 4, rstFrame: 6, rstShape: 'live-socket', acceptance: 'exact', rstPayload: '\\x00\\x00\\x00\\x00', rstPayloadBytes: 4, rstPayloadFrame: 6,
  });
  assert.deepEqual(one(r.findings, 'rst-with-unread-data').frames, [4, 5, 6]);
  // one direction only (no trigger), but the RST's sender sent data before: an abort, not a lone RST
  assert.deepEqual((await crafted(new Conv().midStream().c('PA', 10).c('RA'))).all, ['abortive-close@2']);
});

test('after its own FIN, or with its own data unacknowledged, a RST is an abort, not half-open nor unread data', async () => {
  // a bare RST at the ack of the client's last segment, after the server's FIN: socketless shape, but the server closed
  const conv = new Conv().open().c('PA', 10).s('PA', 10).c('A').s('FA').c('A');
  const fin = await crafted(conv.s('R', 0, { seq: conv.nxt('s') }));
  assert.deepEqual(fin.all, ['abortive-close@9']);
  assert.deepEqual(one(fin.findings, 'abortive-close').evidence, { pendingBytes: 0, finSent: true, rstFrame: 9, rstShape: 'socketless', acceptance: 'exact' });
  // the client's bytes came after the server's last data, but the server had closed (FIN) before its RST
  assert.deepEqual((await crafted(new Conv().open().c('PA', 10).s('FA').c('A').s('RA'))).all, ['abortive-close@7']);
  // the client's bytes unanswered, but the server's own 30 bytes were never acknowledged: the abort discarded them
  const pending = await crafted(new Conv().open().s('PA', 30).c('PA', 10, { ack: 5001 }).s('RA'));
  assert.deepEqual(pending.all, ['abortive-close@6']);
  assert.equal(one(pending.findings, 'abortive-close').evidence.pendingBytes, 30);
});

test('keepalive-reset needs 1 s without payload before the RST, and counts probes from either side', async () => {
  /** a request and its reply (the last payload at x.5 s), a keep-alive probe (one below the next sequence, no payload) and its answer, the RST `idle` s after the payload */
  const run = (prober: 'c' | 's', idle: number) => {
    const conv = new Conv().open().c('PA', 10, { dt: 0.397 }).s('PA', 5, { dt: 0.1 });
    const peer = prober === 'c' ? 's' : 'c';
    conv[prober]('A', 0, { seq: conv.nxt(prober) - 1, dt: idle / 4 })[peer]('A', 0, { dt: idle / 4 });
    return crafted(conv.s('RA', 0, { dt: idle / 2 }));
  };
  assert.deepEqual((await run('c', 1)).all, ['keepalive-reset@8'], 'exactly 1 s idle');
  assert.deepEqual((await run('s', 1.5)).all, ['keepalive-reset@8'], 'probes from the RST\'s sender');
  assert.deepEqual((await run('c', 0.6)).all, ['abortive-close@8'], 'less than 1 s idle');
});

test('issue 15 stories on public captures, crafted: no ECONNRESET for a side that had closed; probes before later data are no keep-alive', async () => {
  // both closed, then a RST instead of the last ACK (nDPI cloudflare-warp): info, nobody sees an error
  const both = await crafted(new Conv().open().c('PA', 10).s('A').c('FA').s('A').s('FA').c('R', 0, { noTs: true }));
  const ab = one(both.findings, 'abortive-close');
  assert.equal(ab.severity, 'info');
  assert.equal(ab.evidence.peerFinSent, true);
  assert.doesNotMatch(ab.summary, /ECONNRESET/);
  // a bare RST answering the server's retransmitted FIN (nDPI googledns_android10): half-open at info, no ECONNRESET claim
  const fin = new Conv().open().c('PA', 10).s('A').s('FA').s('FA', 0, { seq: 5001, dt: 0.2 }).s('FA', 0, { seq: 5001, dt: 0.4 });
  const fr = await crafted(fin.c('R', 0, { seq: 1011, noTs: true }));
  const h = one(fr.findings, 'half-open');
  assert.equal(h.evidence.kind, 'stateless-rst-after-close');
  assert.equal(h.severity, 'info');
  assert.doesNotMatch(h.summary, /sender gets ECONNRESET/);
  // with the closer's last data in the segment answered: warning (those bytes reached no socket)
  const data = new Conv().open().c('PA', 10).s('A').s('FPA', 31).s('FPA', 31, { seq: 5001, dt: 0.4 });
  const dr = await crafted(data.c('R', 0, { seq: 1011, noTs: true }));
  const hd = one(dr.findings, 'half-open');
  assert.equal(hd.evidence.kind, 'stateless-rst-after-close');
  assert.equal(hd.severity, 'warning');
  // a keep-alive probe long before later payload does not make the RST after that payload a keep-alive reset
  // (suricata-verify tcp-empty-sack: one probe, then 30 s later a request and a reply, then the RST 1 s after it)
  const ka = new Conv().open().c('PA', 10).s('A').c('A', 0, { seq: 1010, dt: 2 }).s('A').c('PA', 20, { dt: 30 }).s('A').s('PA', 30)
    .c('RA', 0, { dt: 1.5 });
  const kr = await crafted(ka);
  assert.equal(kr.findings.filter((f) => f.rule === 'keepalive-reset').length, 0, kr.all.join(' '));
});

// The goodbye variant, in process (write-after-close-crafted.test.ts checks the same through the CLI and the
// report's advice): exact texts, frames and evidence.
test('write-after-peer-close (goodbye): a writer FIN after the RST in the capture still makes it a goodbye at info; exact texts', async () => {
  const f = await writeAfterPeerClose(GOODBYE_FIN_AFTER_RST);
  assert.equal(f.frame, 7);
  assert.equal(f.severity, 'info');
  assert.equal(f.actor, 'client');
  assert.deepEqual(f.frames, [5, 6, 7, 8]);
  assert.deepEqual(f.evidence, { variant: 'goodbye', finFrame: 5, firstDataFrame: 6, bytesAfterFin: 9, rstFrame: 7, rstShape: 'socketless', dataAckedFin: true, writerFinFrame: 8 });
  assert.equal(f.summary, 'the client 10.5.0.1:43000 closed first (FIN, frame 5); the server 10.5.0.2:7000 received that FIN and sent its last 9 byte(s) (frame 6) '
    + 'followed by its own FIN (frame 8, 0.1 ms after frame 6); the client 10.5.0.1:43000\'s kernel answered that data, which its application would no longer read, '
    + 'with RST (frame 7). An ordinary goodbye (a last reply or close_notify the closer did not wait for): the writer had closed before the RST reached it, '
    + 'so no write failed (no EPIPE, no SIGPIPE).');
  assert.deepEqual(f.app, {
    orig: 'close() returned 0 without reading the peer\'s last 9 byte(s); its kernel discarded them and answered with RST; no error reached the application',
    resp: 'read() returned 0 (EOF); it wrote its last 9 byte(s) and closed (FIN) before the RST arrived: write() and close() succeeded and no later write failed',
  });
});

test('write-after-peer-close (goodbye): a writer that aborted with its own RST before the closer\'s RST; exact texts', async () => {
  const file = join(dir, `crafted-${++craftedNo}.pcap`);
  writeFileSync(file, pcap(GOODBYE_WRITER_ABORT));
  const { findings } = await findingsOf(file);
  assert.deepEqual(findings.map(key), ['abortive-close@6', 'write-after-peer-close@7']);
  const f = one(findings, 'write-after-peer-close');
  assert.deepEqual({ severity: f.severity, actor: f.actor, frames: f.frames }, { severity: 'info', actor: 'client', frames: [4, 5, 6, 7] });
  assert.deepEqual(f.evidence, {
    variant: 'goodbye', finFrame: 4, firstDataFrame: 5, bytesAfterFin: 7, rstFrame: 7, rstShape: 'socketless', dataAckedFin: true, writerFinFrame: null, writerRstFrame: 6,
  });
  assert.equal(f.summary, 'the client 10.5.0.1:43000 closed first (FIN, frame 4); the server 10.5.0.2:7000 received that FIN and sent its last 7 byte(s) (frame 5) '
    + 'followed by its own RST (frame 6, 0.03 ms after frame 5: it aborted the connection itself); the client 10.5.0.1:43000\'s kernel answered that data, '
    + 'which its application would no longer read, with RST (frame 7). The writer had ended the connection itself before that RST reached it, so no write '
    + 'of it failed because of it (no EPIPE, no SIGPIPE).');
  assert.deepEqual(f.app, {
    orig: 'close() returned 0 without reading the peer\'s last 7 byte(s); its kernel discarded them and answered with RST; no error reached the application',
    resp: 'wrote its last 7 byte(s) and aborted the connection itself (its own RST) before the peer\'s RST arrived: no later write failed because of the peer\'s RST',
  });
  const a = one(findings, 'abortive-close');
  assert.deepEqual(a.evidence, { pendingBytes: 7, finSent: false, rstFrame: 6, rstShape: 'live-socket', acceptance: 'exact' });
});

// ---- the earlier hand-run survivors (docs/testing.md, "rst-causes by hand") ----

test('rst-suspicious: a sender whose packets carried TTL 0 still has a TTL range (0 is a TTL, -1 is none)', async () => {
  const { findings, all } = await crafted(new Conv().c('S').s('SA', 0, { ttl: 0 }).c('A').c('PA', 10).s('A', 0, { ttl: 0 }).s('RA'));
  assert.deepEqual(all, ['rst-suspicious@6']);
  const f = one(findings, 'rst-suspicious');
  assert.deepEqual(f.evidence, {
    reasons: ["TTL 64 unlike the sender's other packets (0)"], ttl: 64, ipId: 30002, acceptance: 'exact', survived: false,
    challengeAck: false, challengeAckFrame: null, senderTtl: 0, rstShape: 'live-socket',
  });
  assert.equal(f.summary, `a RST claiming to come from ${SERVER} (frame 6) looks forged: TTL 64 unlike the sender's other packets (0). The connection ended with it.`);
});

test('a RST/ACK from the originator in the refusal shape is neither refused nor an abort', async () => {
  // the first packet is the responder's (port 80) without ACK, so the record is flipped and the responder is
  // partial; its bare SYN (line with ISN 5000) puts it in SYN-SENT, and the originator answers with RST/ACK at
  // ISN+1: the refusal shape, from the originator
  const A: [string, number] = ['10.6.0.1', 43000];
  const B: [string, number] = ['10.6.0.2', 80];
  const file = join(dir, `crafted-${++craftedNo}.pcap`);
  writeFileSync(file, pcap([
    { tsSec: 900, src: B, dst: A, flags: 'P', seq: 5001, ipId: 1 },
    { tsSec: 900, tsUsec: 1000, src: B, dst: A, flags: 'S', seq: 5000, ipId: 2 },
    { tsSec: 900, tsUsec: 2000, src: A, dst: B, flags: 'RA', seq: 0, ack: 5001, ipId: 3 },
  ]));
  const res = await analyze([file]);
  assert.deepEqual(res.connections.map((c) => `${c.orig.ip}:${c.orig.port} ${c.history}`), ['10.6.0.1:43000 ^sR']);
  assert.deepEqual(res.findings.map(key), []);
});

test('a capture whose SYN-ACK comes before the SYN: the roles are the originator and the responder', async () => {
  // flipped on its first packet (the SYN-ACK), then the client's SYN: the originator saw a SYN, but the flip
  // leaves the handshake's roles untold
  const { findings, all } = await crafted(new Conv().s('SA', 0, { ack: 1001 }).c('S', 0, { seq: 1000 }).c('A', 0, { seq: 1001 })
    .c('PA', 10, { seq: 1001 }).s('PA', 20, { seq: 5001 }).c('RA', 0, { seq: 1011 }));
  assert.deepEqual(all, ['abortive-close@6']);
  const f = one(findings, 'abortive-close');
  assert.equal(f.actor, 'orig');
  assert.equal(f.summary, 'the originator 10.6.0.1:43000 aborted the connection with RST (frame 6) without a FIN, discarding 10 byte(s) it had sent that were never acknowledged: the responder 10.6.0.2:7000 sees ECONNRESET.');
});

test('abortive-close: the RST is among its frames when the evidence ring no longer holds it', async () => {
  // the RST is frame 7, past the log's head (6 segments); 18 more segments push it out of the ring (16)
  const conv = new Conv().open().c('PA', 10).s('A').s('PA', 20).c('RA');
  for (let i = 0; i < 18; i++) conv.s('PA', 5);
  const { findings, all } = await crafted(conv);
  assert.deepEqual(all, ['abortive-close@7']);
  const f = one(findings, 'abortive-close');
  assert.deepEqual(f.frames, [1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(f.evidence, { pendingBytes: 0, finSent: false, rstFrame: 7, rstShape: 'live-socket', acceptance: 'exact' });
});

test('write-after-peer-close: data after the FIN that the FIN had acknowledged (a retransmission) still counts', async () => {
  // the client's 10 bytes, acknowledged by the server's FIN, retransmitted after it (not beyond the FIN's ack);
  // the server's kernel, its socket gone, answers with a bare RST at that segment's ack. Pins what the rule does
  // today (the race variant, "wrote 10 byte(s)"), though the bytes are a retransmission
  const conv = new Conv().open().c('PA', 10).s('FA', 0, { ack: 1011 }).c('PA', 10, { seq: 1001, ack: 5001 });
  const { findings, all } = await crafted(conv.s('R', 0, { seq: 5001 }));
  assert.deepEqual(all, ['write-after-peer-close@7']);
  const f = one(findings, 'write-after-peer-close');
  assert.deepEqual(f.frames, [5, 6, 7]);
  assert.deepEqual(f.evidence, { variant: 'race', finFrame: 5, firstDataFrame: 6, bytesAfterFin: 10, rstFrame: 7, rstShape: 'socketless', dataAckedFin: false });
});

test('the RST rules\' titles, default severities and explanations (reports and `rstscope rules` show them)', () => {
  const rules = [rstSuspicious, abortiveClose, rstWithUnreadData, writeAfterPeerCloseRule, staleConnection, synackReset];
  assert.deepEqual(rules.map((r) => [r.id, r.severity, r.title]), [
    ['rst-suspicious', 'warning', 'Suspicious RST (forged or injected)'],
    ['abortive-close', 'warning', 'Abortive close (RST from a live socket)'],
    ['rst-with-unread-data', 'warning', 'Closed with unread data: RST instead of FIN'],
    ['write-after-peer-close', 'error', 'Write after the peer closed: answered with RST'],
    ['stale-connection', 'warning', 'SYN met a stale connection on the same ports'],
    ['synack-reset', 'warning', 'SYN-ACK answered with RST (the connect was abandoned)'],
  ]);
  // one phrase of each line of each explanation
  const phrases: [string, RegExp[]][] = [
    [rstSuspicious.explanation, [/rest of its claimed sender's traffic: another TTL, an IP ID/, /series, missing options, an inexact sequence number/,
      /afterwards\. Middleboxes \(firewalls, IPS, censorship\)/, /answer inexact ones with a challenge ACK instead of dropping the connection\.$/]],
    [abortiveClose.explanation, [/^A socket was closed abortively: SO_LINGER/, /abort\. Instead of FIN it sent RST\/ACK at its current sequence number/,
      /acknowledged\. The peer gets ECONNRESET on its next read\(\) or write\(\)\.$/]],
    [rstWithUnreadData.explanation, [/^The application closed its socket while received data was still unread/, /queue\. The kernel then discards that data and sends RST/,
      /RFC 2525 2\.17\)\. The peer gets ECONNRESET, and may lose a response it was about to read\.$/]],
    [writeAfterPeerCloseRule.explanation, [/^One side called close\(\) and sent FIN\. The other side kept writing/, /take data, so its kernel answered with RST\. The writer's next write\(\)/,
      /SIGPIPE, which kills a process that does not ignore it \(ECONNRESET/, /processed\)\. Variant goodbye \(info\): the writer closed too/,
      /a final reply\), so no write failed; only that last message went unread\.$/]],
    [staleConnection.explanation, [/^The peer still held an older connection on the same addresses and ports/, /never saw that connection end: a lost FIN or RST, a restarted client, a NAT/,
      /new SYN with an ACK for the old connection instead of a SYN-ACK/, /answered that ACK with a RST at its acknowledgment number, which resets/,
      /SYN: Linux at once \(a few milliseconds: it expects this case\), Windows/, /\(3 s\), so connect\(\) is delayed by that long\.$/]],
    [synackReset.explanation, [/^The server answered a SYN with SYN-ACK, and the connecting side answered that with a bare RST: no /,
      /socket waited for the answer any more\. The client had closed the socket or given up on its own connect /,
      /timeout before the SYN-ACK came; a socket still in SYN-SENT would have completed the handshake\. Without the /,
      /client's SYN in the capture, the SYN-ACK may be backscatter of SYNs sent in its name\.$/]],
  ];
  for (const [text, res] of phrases) for (const re of res) assert.match(text, re);
});

test('refused: a refusal carries no options, so their absence is no signal even after the responder\'s timestamped ACK', async () => {
  // the responder first answers the SYN with a bare ACK of it (timestamps on), then refuses with RST/ACK at
  // ISN+1, no options, its IP ID far out of series: one weak signal only (the refusal shape has no options)
  const file = join(dir, `crafted-${++craftedNo}.pcap`);
  writeFileSync(file, pcap([
    { tsSec: 900, src: C, dst: S, flags: 'S', seq: 1000, ipId: 100, opts: tcpOpt.ts(1, 0) },
    { tsSec: 900, tsUsec: 1000, src: S, dst: C, flags: 'A', seq: 5001, ack: 1001, ipId: 30000, opts: tcpOpt.ts(2, 1) },
    { tsSec: 900, tsUsec: 2000, src: S, dst: C, flags: 'RA', seq: 0, ack: 1001, ipId: 40000 },
  ]));
  const { findings } = await findingsOf(file);
  assert.deepEqual(findings.map(key), ['refused@3']);
  assert.equal(findings[0].evidence.rstShape, 'refusal');
});

test('stale-connection: no retry in the capture, a retry with another ISN, a record its timer closed before the retry; exact texts', async () => {
  const stale: Seg[] = [
    { tsSec: 900, src: C, dst: S, flags: 'S', seq: 1000 },
    { tsSec: 900, tsUsec: 1000, src: S, dst: C, flags: 'A', seq: 7000, ack: 99999 }, // an ACK for another connection's sequence
    { tsSec: 900, tsUsec: 1200, src: C, dst: S, flags: 'R', seq: 99999 }, // the SYN-SENT socket's RST at that ack
  ];
  const head = `${CLIENT}'s SYN (frame 1) met a stale connection: ${SERVER} answered with an ACK for another sequence (frame 2, ack 99999 instead of 1001), `
    + 'as it does for a connection it still holds on these ports; the SYN-SENT socket answered with RST (frame 3, seq = that ack), which clears the stale connection, and ';
  const waits = 'connect() waits for the SYN\'s retransmission (Linux sends it at once, Windows after 3 s)';
  const delayed = { orig: 'connect() is delayed until its SYN is retransmitted; no error', resp: 'the old connection is reset: an application still holding it gets ECONNRESET on its next read() or write(); one in TIME_WAIT just ends' };
  const cases: [Seg[], string, Record<string, unknown>][] = [
    [stale, `${waits}; the capture ends before it.`, { retrySynFrame: null, retrySameIsn: null, delaySec: null }],
    // a new connect() with another ISN 1.5 s later: the next record on these ports
    [[...stale, { tsSec: 901, tsUsec: 500000, src: C, dst: S, flags: 'S', seq: 3000 }, { tsSec: 901, tsUsec: 501000, src: S, dst: C, flags: 'SA', seq: 8000, ack: 3001 }],
      'a new SYN (another ISN) followed 1.5 s after the first (frame 4).', { retrySynFrame: 4, retrySameIsn: false, delaySec: 1.5 }],
    // the same SYN 3.5 s later, after the record's timer closed it: the record does not know the retry
    [[...stale, { tsSec: 903, tsUsec: 500000, src: C, dst: S, flags: 'S', seq: 1000 }, { tsSec: 903, tsUsec: 501000, src: S, dst: C, flags: 'SA', seq: 8000, ack: 1001 }],
      `${waits}.`, { retrySynFrame: null, retrySameIsn: null, delaySec: null }],
  ];
  for (const [segs, retry, ev] of cases) {
    const file = join(dir, `crafted-${++craftedNo}.pcap`);
    writeFileSync(file, pcap(segs));
    const f = one((await findingsOf(file)).findings, 'stale-connection');
    assert.deepEqual([f.frame, f.actor, f.frames], [3, 'server', [1, 2, 3]]);
    assert.deepEqual(f.evidence, { synFrame: 1, staleAckFrame: 2, rstFrame: 3, staleAck: 99999, expectedAck: 1001, ...ev });
    assert.equal(f.summary, head + retry);
    assert.deepEqual(f.app, delayed);
  }
});

test('stale-connection: the same SYN again after 4 ms and after exactly 0.1 s (the unit\'s edge), a SYN-ACK from the socket is no retry, and a SYN-SENT socket the tracker took for the responder', async () => {
  const stale: Seg[] = [
    { tsSec: 900, src: C, dst: S, flags: 'S', seq: 1000 },
    { tsSec: 900, tsUsec: 1000, src: S, dst: C, flags: 'A', seq: 7000, ack: 99999 },
    { tsSec: 900, tsUsec: 1200, src: C, dst: S, flags: 'R', seq: 99999 },
  ];
  const head = `${CLIENT}'s SYN (frame 1) met a stale connection: ${SERVER} answered with an ACK for another sequence (frame 2, ack 99999 instead of 1001), `
    + 'as it does for a connection it still holds on these ports; the SYN-SENT socket answered with RST (frame 3, seq = that ack), which clears the stale connection, and ';
  const reset = 'the old connection is reset: an application still holding it gets ECONNRESET on its next read() or write(); one in TIME_WAIT just ends';
  const cases: [Seg[], string, string, Record<string, unknown>][] = [
    // Linux retries at once: the same ISN 4 ms after the first SYN (the next record on these ports), told in ms
    [[...stale, { tsSec: 900, tsUsec: 4000, src: C, dst: S, flags: 'S', seq: 1000 }],
      'the same SYN (same ISN) went out again 4 ms after the first (frame 4): connect() was delayed by ~4 ms.', 'connect() took ~4 ms longer (its first SYN met the stale connection); no error',
      { retrySynFrame: 4, retrySameIsn: true, delaySec: 0.004 }],
    // 0.1 s is told in seconds
    [[...stale, { tsSec: 900, tsUsec: 100000, src: C, dst: S, flags: 'S', seq: 1000 }],
      'the same SYN (same ISN) went out again 0.1 s after the first (frame 4): connect() was delayed by ~0.1 s.', 'connect() took ~0.1 s longer (its first SYN met the stale connection); no error',
      { retrySynFrame: 4, retrySameIsn: true, delaySec: 0.1 }],
    // a SYN-ACK with the socket's ISN stays in the record (no new connection): not a retry of its SYN
    [[...stale, { tsSec: 900, tsUsec: 600000, src: C, dst: S, flags: 'SA', seq: 1000, ack: 7001 }],
      'connect() waits for the SYN\'s retransmission (Linux sends it at once, Windows after 3 s); the capture ends before it.', 'connect() is delayed until its SYN is retransmitted; no error',
      { retrySynFrame: null, retrySameIsn: null, delaySec: null }],
  ];
  for (const [segs, retry, view, ev] of cases) {
    const file = join(dir, `crafted-${++craftedNo}.pcap`);
    writeFileSync(file, pcap(segs));
    const f = one((await findingsOf(file)).findings, 'stale-connection');
    assert.deepEqual([f.frame, f.actor, f.frames], [3, 'server', [1, 2, 3]]);
    assert.deepEqual(f.evidence, { synFrame: 1, staleAckFrame: 2, rstFrame: 3, staleAck: 99999, expectedAck: 1001, ...ev });
    assert.equal(f.summary, head + retry);
    assert.deepEqual(f.app, { orig: view, resp: reset });
  }
  // The connecting side's port is a likely server port (443) and its first segment in the capture a stray ACK
  // (seq 1001) half a second before its SYN: the tracker takes it for the responder, and the SYN puts that
  // responder in SYN-SENT. Its view goes to 'resp'; the delay counts from the SYN, not from the record's start.
  const A: [string, number] = ['10.6.0.1', 443];
  const B: [string, number] = ['10.6.0.2', 50000];
  const file = join(dir, `crafted-${++craftedNo}.pcap`);
  writeFileSync(file, pcap([
    { tsSec: 899, tsUsec: 500000, src: A, dst: B, flags: 'A', seq: 1001, ack: 1001 },
    { tsSec: 900, src: A, dst: B, flags: 'S', seq: 1000 },
    { tsSec: 900, tsUsec: 1000, src: B, dst: A, flags: 'A', seq: 7000, ack: 99999 },
    { tsSec: 900, tsUsec: 1200, src: A, dst: B, flags: 'R', seq: 99999 },
    { tsSec: 900, tsUsec: 300000, src: A, dst: B, flags: 'S', seq: 1000 },
  ]));
  const f = one((await findingsOf(file)).findings, 'stale-connection');
  assert.deepEqual([f.frame, f.actor, f.frames], [4, 'orig', [2, 3, 4]]);
  assert.deepEqual(f.evidence, { synFrame: 2, staleAckFrame: 3, rstFrame: 4, staleAck: 99999, expectedAck: 1001, retrySynFrame: 5, retrySameIsn: true, delaySec: 0.3, roles: 'inferred-port' });
  assert.equal(f.summary, 'the responder 10.6.0.1:443\'s SYN (frame 2) met a stale connection: the originator 10.6.0.2:50000 answered with an ACK for another sequence (frame 3, ack 99999 instead of 1001), '
    + 'as it does for a connection it still holds on these ports; the SYN-SENT socket answered with RST (frame 4, seq = that ack), which clears the stale connection, and '
    + 'the same SYN (same ISN) went out again 0.3 s after the first (frame 5): connect() was delayed by ~0.3 s.'
    + ' The capture began inside this connection (no handshake): its roles are inferred from the ports (443 is a well-known server port), and what happened before frame 1 was not captured.');
  assert.deepEqual(f.app, { resp: 'connect() took ~0.3 s longer (its first SYN met the stale connection); no error', orig: reset });
});

test('write-after-peer-close: a writer RST after the closer\'s RST does not make it a goodbye; data the capture lost is not invented', async () => {
  // the client closes, the server writes 40 bytes after reading the FIN, the client's kernel resets, and only
  // then the server's own RST/ACK (its abort): not a goodbye; the server wrote after its client's close, so the
  // after-client-close variant (warning: a last reply or a failing later write, the wire cannot tell), and an
  // abortive close of its own
  const conv = new Conv().open().c('FA').s('PA', 40);
  const { findings, all } = await crafted(conv.c('R', 0, { seq: conv.nxt('c') }).s('RA'));
  assert.deepEqual(all, ['write-after-peer-close@6', 'abortive-close@7']);
  const f = one(findings, 'write-after-peer-close');
  assert.equal(f.severity, 'warning');
  assert.deepEqual(f.evidence, { variant: 'after-client-close', finFrame: 4, firstDataFrame: 5, bytesAfterFin: 40, rstFrame: 6, rstShape: 'socketless', dataAckedFin: true });
  // the client's 10 bytes crossing the server's FIN are missing from the capture (its next ACK's seq is past
  // them): no segment to name as the late data, so no write-after-peer-close finding (not its pure ACK)
  const lost = new Conv().open().s('FA').c('A', 0, { seq: 1011 });
  assert.deepEqual((await crafted(lost.s('R', 0, { seq: lost.nxt('s') }))).all, []);
});

test('a burst of RSTs answering the segments in flight is told once, by its first RST; a forged one or one after other traffic is not in it', async () => {
  // three segments in flight when the server's socket was gone: its kernel answers each with a bare RST at its ack
  const inFlight = () => new Conv().midStream().s('A').c('PA', 10).c('PA', 10).c('PA', 10);
  const burst = (f: Finding) => [f.rule, f.frame, f.frames, f.evidence.burstRstFrames, f.evidence.answeredFrames];
  const all3 = await crafted(inFlight().s('R', 0, { seq: 5001 }).s('R', 0, { seq: 5001 }).s('R', 0, { seq: 5001 }));
  assert.deepEqual(all3.findings.map(burst), [['half-open', 5, [1, 2, 3, 4, 5, 6, 7], [5, 6, 7], [2, 3, 4]]]);
  assert.match(all3.findings[0].summary, /It is one of 3 RSTs \(frames 5, 6, 7\), one for each segment in flight \(frames 2, 3, 4\), each at that segment's ack/);
  // the third with another TTL: reported on its own, not in the burst
  const forged = await crafted(inFlight().s('R', 0, { seq: 5001 }).s('R', 0, { seq: 5001 }).s('R', 0, { seq: 5001, ttl: 128 }));
  assert.deepEqual(forged.findings.map(burst), [['half-open', 5, [1, 2, 3, 4, 5, 6], [5, 6], [2, 3]], ['rst-suspicious', 7, [7], undefined, undefined]]);
  // the server sends a pure ACK after its second RST: the burst ends there. That ACK acknowledges all three
  // segments, so the RST after it answers none of them (its socket had taken them), and the two RSTs of the
  // burst answer the latest two in flight
  const ended = await crafted(inFlight().s('R', 0, { seq: 5001 }).s('R', 0, { seq: 5001 }).s('A', 0, { seq: 5001 }).s('R', 0, { seq: 5001 }));
  assert.deepEqual(ended.findings.map(burst), [['half-open', 5, [1, 2, 3, 4, 5, 6], [5, 6], [3, 4]]]);
  // a RST/ACK among them answers no segment of its own (only bare RSTs pair): not in the burst
  const withAck = await crafted(inFlight().s('R', 0, { seq: 5001 }).s('RA', 0, { seq: 5001 }).s('R', 0, { seq: 5001 }));
  assert.deepEqual(withAck.findings.map(burst), [['half-open', 5, [1, 2, 3, 4, 5, 7], [5, 7], [3, 4]]]);
});

test('a record that continues an earlier one on the same 4-tuple (an idle split) names client and server from that record\'s handshake', async () => {
  const actors = (r: { findings: Finding[] }) => r.findings.map((f) => [key(f), f.actor]);
  // after 400 s of silence (the idle timer is 300 s) the client writes again and the server's kernel, its
  // socket gone, answers with a bare RST: the new record's originator is the client, as in the first
  const same = new Conv().open().c('PA', 10).s('A').c('PA', 10, { dt: 400 });
  assert.deepEqual(actors(await crafted(same.s('R', 0, { seq: same.nxt('s') }))), [['half-open@7', 'server']]);
  // the server writes first after the silence: the new record's originator is the server; the client resets
  const other = new Conv().open().c('PA', 10).s('A').s('PA', 10, { dt: 400 });
  assert.deepEqual(actors(await crafted(other.c('R', 0, { seq: other.nxt('c') }))), [['half-open@7', 'client']]);
  // the first record had no handshake in the capture: orig and resp only
  const mid = new Conv().midStream().c('PA', 10).s('A').c('PA', 10, { dt: 400 });
  assert.deepEqual(actors(await crafted(mid.s('R', 0, { seq: mid.nxt('s') }))), [['half-open@4', 'resp']]);
});

test('rstPairs: the segment a bare RST answers is the latest earlier one from the other side carrying ACK (not RST) with that ack, the capture\'s first included', async () => {
  const pairing = (f: Finding) => [f.rule, f.frame, f.frames, f.evidence.burstRstFrames, f.evidence.answeredFrames, f.evidence.triggerFrame];
  const of = async (conv: Conv) => (await crafted(conv)).findings.map(pairing);
  // a burst of two answering the capture's first two segments
  assert.deepEqual(await of(new Conv().midStream().c('PA', 10).c('PA', 10).s('R', 0, { seq: 5001 }).s('R', 0, { seq: 5001 })),
    [['half-open', 3, [1, 2, 3, 4], [3, 4], [1, 2], 1]]);
  // the client's next 10 bytes cross the RST (same ack): not what it answers
  assert.deepEqual(await of(new Conv().midStream().s('A').c('PA', 10).c('PA', 10).s('R', 0, { seq: 5001 }).c('PA', 10)),
    [['half-open', 4, [1, 2, 3, 4], undefined, undefined, 3]]);
  // the client's RST/ACK with that ack comes last before the server's RST: a RST is answered by nothing
  assert.deepEqual(await of(new Conv().midStream().s('A').c('PA', 10).c('RA', 0, { ack: 5001 }).s('R', 0, { seq: 5001 })),
    [['abortive-close', 3, [1, 2, 3], undefined, undefined, undefined], ['half-open', 4, [1, 2, 3, 4], undefined, undefined, 2]]);
  // the server's own ACK, whose ack number happens to equal its RST's seq, acknowledges the client's three
  // segments: they reached a socket, and a RST answers only the other side, so no pair (the trigger is the client's
  // last segment)
  assert.deepEqual(await of(new Conv().midStream().s('A').c('PA', 10).c('PA', 10).c('PA', 10).s('A', 0, { ack: 5001 }).s('R', 0, { seq: 5001 })),
    [['half-open', 6, [1, 2, 3, 4, 5, 6], undefined, undefined, 4]]);
});

test('bursts: a forged first RST tells no burst; a segment of the RST\'s sender ends the burst even when it acknowledges nothing; the other side\'s RST is not in it', async () => {
  const burst = (f: Finding) => [f.rule, f.frame, f.frames, f.evidence.burstRstFrames, f.evidence.answeredFrames];
  const inFlight = () => new Conv().midStream().s('A').c('PA', 10).c('PA', 10).c('PA', 10);
  // the first of three with another TTL: reported alone; the two ordinary ones after it are later RSTs of a side
  // already told, and are not made its burst
  assert.deepEqual((await crafted(inFlight().s('R', 0, { seq: 5001, ttl: 128 }).s('R', 0, { seq: 5001 }).s('R', 0, { seq: 5001 }))).findings.map(burst),
    [['rst-suspicious', 5, [5], undefined, undefined]]);
  // the server's pure ACK with an old ack (acknowledging none of the three) between two RSTs: the burst is over,
  // though the RST after it still answers a segment in flight before the first
  const ended = await crafted(inFlight().s('R', 0, { seq: 5001 }).s('A', 0, { seq: 5001, ack: 1001 }).s('R', 0, { seq: 5001 }));
  assert.deepEqual(ended.findings.map(burst), [['half-open', 5, [1, 2, 3, 4, 5], undefined, undefined]]);
  // (the last RST answers the latest segment in flight, frame 4: the first answers frame 3)
  assert.equal(ended.findings[0].evidence.triggerFrame, 3);
  // the client's pure ACK (an old ack, answered by none) between the server's RSTs does not end the server's burst
  assert.deepEqual((await crafted(inFlight().s('R', 0, { seq: 5001 }).c('A', 0, { ack: 5000 }).s('R', 0, { seq: 5001 }))).findings.map(burst),
    [['half-open', 5, [1, 2, 3, 4, 5, 7], [5, 7], [3, 4]]]);
  // the client's bare RST among the server's (answering the server's first ACK): the server's burst is 5 and 7
  assert.deepEqual((await crafted(inFlight().s('R', 0, { seq: 5001 }).c('R', 0, { seq: 1001 }).s('R', 0, { seq: 5001 }))).findings.map(burst),
    [['half-open', 5, [1, 2, 3, 4, 5, 7], [5, 7], [3, 4]], ['half-open', 6, [1, 2, 3, 4, 5, 6], undefined, undefined]]);
});

test('stale-connection needs the answered segment: its first stale ACK, an ACK flag, no SYN flag, a pair at all', async () => {
  const run = async (segs: Seg[]) => {
    const file = join(dir, `crafted-${++craftedNo}.pcap`);
    writeFileSync(file, pcap(segs));
    return (await findingsOf(file)).findings.map((f) => [key(f), f.evidence]);
  };
  const syn: Seg = { tsSec: 900, src: C, dst: S, flags: 'S', seq: 1000 };
  const rst = (seq: number): Seg => ({ tsSec: 900, tsUsec: 1200, src: C, dst: S, flags: 'R', seq });
  // two stale ACKs: the RST's seq is the first one's ack
  assert.deepEqual(await run([syn, { tsSec: 900, tsUsec: 1000, src: S, dst: C, flags: 'A', seq: 7000, ack: 99999 },
    { tsSec: 900, tsUsec: 1100, src: S, dst: C, flags: 'A', seq: 7000, ack: 88888 }, rst(99999)]),
  [['stale-connection@4', { synFrame: 1, staleAckFrame: 2, rstFrame: 4, staleAck: 99999, expectedAck: 1001, retrySynFrame: null, retrySameIsn: null, delaySec: null }]]);
  // the number in the ack field of a segment without the ACK flag acknowledges nothing: no pair, an abort
  assert.deepEqual(await run([syn, { tsSec: 900, tsUsec: 1000, src: S, dst: C, flags: 'P', seq: 7000, ack: 99999 }, rst(99999)]),
    [['abortive-close@3', { pendingBytes: 0, finSent: false, rstFrame: 3, rstShape: 'other', acceptance: 'unknown' }]]);
  // a bare RST from SYN-SENT that answers nothing (no segment of the peer): the connecting side gave up
  assert.deepEqual((await run([syn, rst(1001)])).map((x) => x[0]), ['syn-unanswered@1', 'abortive-close@2']);
  // the server's data (acknowledging the SYN) leaves the client in SYN-SENT; the SYN-ACK for another SYN after it,
  // answered with a RST at its ack: the socket rejected one segment and goes on connecting, no story
  assert.deepEqual((await run([syn, { tsSec: 900, tsUsec: 1000, src: S, dst: C, flags: 'PA', seq: 7001, ack: 1001, len: 10 },
    { tsSec: 900, tsUsec: 1100, src: S, dst: C, flags: 'SA', seq: 7000, ack: 88888 }, rst(88888)])).map((x) => x[0] as string).filter((k) => k.startsWith('stale')), []);
});

test('rstPairs: a segment its RST\'s sender acknowledged (data and FIN), or one more than 1 s before a RST from a side that spoke since, is not what the RST answers', async () => {
  const pairing = (f: Finding) => [f.rule, f.frame, f.evidence.triggerFrame];
  // the client's FIN with 10 bytes; the server acknowledges the bytes, not the FIN, so the FIN segment is still
  // in flight and is what the RST answers (the client's later ACK carries another ack)
  const fin = await crafted(new Conv().midStream().s('A').c('PA', 10).c('FA', 10).s('A', 0, { ack: 1021 }).c('A', 0, { ack: 4000 }).s('R', 0, { seq: 5001 }));
  assert.deepEqual(fin.findings.map(pairing), [['half-open', 6, 3]]);
  // 2 s after the client's bytes, the server having sent an ACK since (an old one, acknowledging nothing): the RST
  // answers a segment the capture lacks; the summary says so
  const late = await crafted(new Conv().midStream().s('A').c('PA', 10).s('A', 0, { ack: 1001 }).s('R', 0, { seq: 5001, dt: 2 }));
  assert.deepEqual(late.findings.map((f) => [f.rule, f.frame, f.evidence.triggerFrame, f.summary]), [['half-open', 4, 2,
    'the originator 10.6.0.2:7000 sent a bare RST (frame 4) 2 s after the last exchange, with the seq the responder 10.6.0.1:43000 last acknowledged (frame 2): the answer of a kernel with no socket for a segment the capture does not show. the responder 10.6.0.1:43000 still believed the connection open: it gets ECONNRESET.'
    + ' The originator 10.6.0.2:7000 sent no data in the capture, so whether it had closed (a FIN before the capture began: then this RST answers a write after close) or had lost the connection (a restart, a crash) cannot be told.'
    + MID()]]);
  // exactly 1 s is not late: the RST answers the client's bytes, not its later ACK (another ack)
  const file = join(dir, `crafted-${++craftedNo}.pcap`);
  writeFileSync(file, pcap([
    { tsSec: 900, src: C, dst: S, flags: 'PA', seq: 1001, ack: 5001, len: 10 },
    { tsSec: 900, tsUsec: 500000, src: S, dst: C, flags: 'A', seq: 5001, ack: 1001 },
    { tsSec: 900, tsUsec: 600000, src: C, dst: S, flags: 'A', seq: 1011, ack: 4000 },
    { tsSec: 901, src: S, dst: C, flags: 'R', seq: 5001 },
  ]));
  assert.deepEqual((await findingsOf(file)).findings.map(pairing), [['half-open', 4, 1]]);
});

test('the cause chain: a sender\'s RST after its retransmissions went unanswered across a timer split is its give-up (half-open), before any other cause', async () => {
  // the client's 100 bytes and FIN, retransmitted at +1, +3 and +7 s, never answered; other traffic lets the close
  // timer end the record; after the split one more retransmission and the client's RST/ACK (an abort by its shape)
  const O: [string, number] = ['10.6.0.3', 42000];
  const segs: Seg[] = [
    { tsSec: 5000, src: C, dst: S, flags: 'S', seq: 100 },
    { tsSec: 5000, tsUsec: 1000, src: S, dst: C, flags: 'SA', seq: 900, ack: 101 },
    { tsSec: 5000, tsUsec: 2000, src: C, dst: S, flags: 'A', seq: 101, ack: 901 },
    { tsSec: 5000, tsUsec: 3000, src: S, dst: C, flags: 'FA', seq: 901, ack: 101 },
    { tsSec: 5000, tsUsec: 4000, src: C, dst: S, flags: 'A', seq: 101, ack: 902 },
    { tsSec: 5000, tsUsec: 5000, src: C, dst: S, flags: 'FPA', seq: 101, ack: 902, len: 100 },
  ];
  for (const d of [1, 3, 7]) segs.push({ tsSec: 5000 + d, src: C, dst: S, flags: 'FPA', seq: 101, ack: 902, len: 100 });
  for (let t = 5008; t < 5019; t += 2) segs.push({ tsSec: t, src: O, dst: S, flags: 'S', seq: t });
  segs.push({ tsSec: 5013, src: C, dst: S, flags: 'FPA', seq: 101, ack: 902, len: 100 });
  segs.push({ tsSec: 5019, src: C, dst: S, flags: 'RA', seq: 202, ack: 902 });
  segs.sort((a, b) => a.tsSec - b.tsSec || (a.tsUsec ?? 0) - (b.tsUsec ?? 0));
  const file = join(dir, `crafted-${++craftedNo}.pcap`);
  writeFileSync(file, pcap(segs));
  const rstFrame = segs.length;
  const onRst = (await findingsOf(file)).findings.filter((f) => f.frame === rstFrame).map((f) => [f.rule, f.evidence.kind, f.actor]);
  assert.deepEqual(onRst, [['half-open', 'gave-up-after-split', 'client']]);
});

test('rstPairs: a pure ACK in flight is never "acknowledged" (nothing in it to acknowledge): a RST can answer it', async () => {
  // the client's pure ACK (ack 5001), the server's ACK after it, the client's ACK with another ack, the server's RST
  const { findings } = await crafted(new Conv().midStream().s('A').c('A').s('A').c('A', 0, { ack: 4000 }).s('R', 0, { seq: 5001 }));
  assert.deepEqual(findings.map((f) => [f.rule, f.frame, f.evidence.triggerFrame]), [['half-open', 5, 2]]);
});

test('abortive-close: a handshake given up, both sides closed, the peer\'s FIN before the abort (either side), unacknowledged data after both FINs, a mid-stream abort; exact texts', async () => {
  const get = async (segs: Seg[], at: string) => {
    const file = join(dir, `crafted-${++craftedNo}.pcap`);
    writeFileSync(file, pcap(segs));
    const { findings } = await findingsOf(file);
    assert.deepEqual(findings.map(key), [at]);
    const f = findings[0];
    return [f.actor, f.severity, f.frames, f.summary, f.app, f.evidence];
  };
  const abort = { resp: 'closed abortively (SO_LINGER 0 or abort): close() returned at once, unsent data discarded', orig: 'the next read() or write() failed with ECONNRESET' };
  // the server's SYN-ACK three times, never acknowledged, then its RST/ACK (nDPI gnutella.pcap's story)
  const hs: Seg[] = [{ tsSec: 9500, src: C, dst: S, flags: 'S', seq: 10 }];
  for (const t of [0, 1, 3]) hs.push({ tsSec: 9500 + t, tsUsec: 500, src: S, dst: C, flags: 'SA', seq: 900, ack: 11 });
  hs.push({ tsSec: 9505, src: S, dst: C, flags: 'RA', seq: 901, ack: 11 });
  assert.deepEqual(await get(hs, 'abortive-close@5'), ['server', 'warning', [1, 2, 3, 4, 5],
    `${SERVER} sent its SYN-ACK 3 time(s) and ${CLIENT} never acknowledged it; then it gave up on the handshake with RST (frame 5). The connection never completed: the listener's application never saw it, and the connecting side's connect() did not complete on it.`,
    { resp: 'the half-open connection (SYN-RECV) was dropped; the application never saw it (no accept())', orig: 'no ACK of the SYN-ACK seen: its connect() did not complete on this connection (gone, or its ACKs were lost)' },
    { kind: 'handshake-abandoned', synAcks: 3, rstFrame: 5, rstShape: 'live-socket', acceptance: 'unknown' }]);
  // mid-stream, the client never acknowledged the server's bytes: no SYN-ACK of the server's, an ordinary abort
  assert.deepEqual(await get(new Conv().midStream().s('PA', 10).s('RA').segs, 'abortive-close@2'), ['orig', 'warning', [1, 2],
    `the originator 10.6.0.2:7000 aborted the connection with RST (frame 2) without a FIN: the responder 10.6.0.1:43000 sees ECONNRESET.${MID()}`,
    { orig: abort.resp, resp: abort.orig }, { pendingBytes: 0, finSent: false, rstFrame: 2, rstShape: 'live-socket', acceptance: 'unknown', roles: 'inferred-first-packet' }]);
  // both FINs, the server's acknowledged: its RST instead of the last ACK (info)
  assert.deepEqual(await get(new Conv().open().c('PA', 10).s('A').c('FA').s('FA').c('A').s('RA').segs, 'abortive-close@9'), ['server', 'info', [4, 5, 6, 7, 8, 9],
    `${SERVER} and ${CLIENT} had both closed (FINs); ${SERVER} then sent RST (frame 9) instead of a last ACK. That only ends the peer's closed socket early (no TIME_WAIT on this side): both applications had closed, so none sees an error.`,
    { resp: 'had closed (FIN); its stack ended the connection with RST instead of a last ACK (SO_LINGER 0 after shutdown, or a stack that skips TIME_WAIT)', orig: 'had closed (FIN): no error reaches it' },
    { pendingBytes: 0, finSent: true, peerFinSent: true, rstFrame: 9, rstShape: 'live-socket', acceptance: 'exact' }]);
  // both FINs, but the server's 30 bytes were never acknowledged: an abort that discards them (warning)
  assert.deepEqual(await get(new Conv().open().c('PA', 10).s('PA', 30).c('FA', 0, { ack: 5001 }).s('FA').s('RA').segs, 'abortive-close@8'), ['server', 'warning', [3, 4, 5, 6, 7, 8],
    `${SERVER} aborted the connection with RST (frame 8) after its FIN, discarding 30 byte(s) it had sent that were never acknowledged: ${CLIENT} sees ECONNRESET.`,
    abort, { pendingBytes: 30, finSent: true, rstFrame: 8, rstShape: 'live-socket', acceptance: 'exact' }]);
  // the peer's FIN, then the abort: ECONNRESET only for a peer that shut down writing and still reads; from the
  // server, and from the client
  const peerFin = (closer: string, aborter: string) => `${aborter} aborted the connection with RST (frame 7) without a FIN, after ${closer}'s FIN: if that side had closed its socket, no error reaches it; if it had only shut down writing and still reads, that read fails with ECONNRESET (the wire cannot tell close() from shutdown()).`;
  const finView = 'had sent its FIN: no error after close(); a read after shutdown(SHUT_WR) fails with ECONNRESET';
  const ev = { pendingBytes: 0, finSent: false, rstFrame: 7, rstShape: 'live-socket', acceptance: 'exact' };
  assert.deepEqual(await get(new Conv().open().s('PA', 100).c('A').c('FA').s('RA').segs, 'abortive-close@7'),
    ['server', 'warning', [2, 3, 4, 5, 6, 7], peerFin(CLIENT, SERVER), { resp: abort.resp, orig: finView }, ev]);
  assert.deepEqual(await get(new Conv().open().c('PA', 100).s('A').s('FA').c('RA').segs, 'abortive-close@7'),
    ['client', 'warning', [2, 3, 4, 5, 6, 7], peerFin(SERVER, CLIENT), { orig: abort.resp, resp: finView }, ev]);
});

test('abortive-close: a connecting side gives up on its handshake (a simultaneous open, and a SYN never acknowledged): told as a connecting side, not as a listener; simultaneous-open tells whose connect() completed', async () => {
  const run = async (segs: Seg[]) => {
    const file = join(dir, `crafted-${++craftedNo}.pcap`);
    writeFileSync(file, pcap(segs));
    return (await findingsOf(file)).findings.map((f) => [f.rule, f.frame, f.actor, f.severity, f.summary, f.app, f.evidence]);
  };
  // both SYNs cross; the client's SYN-ACK twice more (three segments counted: the SYN-ACK 0.5 ms after its SYN is
  // a copy, not a retry), the server never acknowledges; the client's RST/ACK
  const sim: Seg[] = [{ tsSec: 9600, src: C, dst: S, flags: 'S', seq: 10 }, { tsSec: 9600, tsUsec: 100, src: S, dst: C, flags: 'S', seq: 900 }];
  for (const t of [0, 1, 3]) sim.push({ tsSec: 9600 + t, tsUsec: 500, src: C, dst: S, flags: 'SA', seq: 10, ack: 901 });
  sim.push({ tsSec: 9605, src: C, dst: S, flags: 'RA', seq: 11, ack: 901 });
  assert.deepEqual(await run(sim), [
    ['simultaneous-open', 2, 'server', 'info', `${CLIENT} and ${SERVER} both sent SYN (frames 1 and 2) before seeing the other's: a simultaneous open.`,
      { orig: 'connect() did not complete on this connection (no acknowledgment of its SYN seen)', resp: 'connect() succeeded' },
      { firstSynFrame: 1, secondSynFrame: 2 }],
    ['abortive-close', 6, 'client', 'warning',
      `${CLIENT} and ${SERVER} both sent SYN (a simultaneous open) and ${SERVER} never acknowledged ${CLIENT}'s (3 handshake segment(s) from ${CLIENT}, retries included); then ${CLIENT} gave up on the handshake with RST (frame 6). The connect() of ${CLIENT} never completed on this connection.`,
      { orig: 'its connect() did not complete: it gave up on the handshake with RST',
        resp: 'never acknowledged the peer\'s SYN (gone, or its ACKs were not captured): if its connect() had completed, its next read() or write() failed with ECONNRESET' },
      { kind: 'handshake-abandoned', syns: 3, simultaneousOpen: true, rstFrame: 6, rstShape: 'live-socket', acceptance: 'unknown' }]]);
  // the same from the responder's side: the server's SYN second, its SYN-ACKs unanswered, its RST/ACK
  const simR: Seg[] = [{ tsSec: 9700, src: C, dst: S, flags: 'S', seq: 10 }, { tsSec: 9700, tsUsec: 100, src: S, dst: C, flags: 'S', seq: 900 }];
  for (const t of [1, 3]) simR.push({ tsSec: 9700 + t, src: S, dst: C, flags: 'SA', seq: 900, ack: 11 });
  simR.push({ tsSec: 9705, src: S, dst: C, flags: 'RA', seq: 901, ack: 11 });
  const r = await run(simR);
  assert.deepEqual(r.map((x) => x.slice(0, 4)), [['simultaneous-open', 2, 'server', 'info'], ['abortive-close', 5, 'server', 'warning']]);
  assert.deepEqual(r[0][5], { orig: 'connect() succeeded', resp: 'connect() did not complete on this connection (no acknowledgment of its SYN seen)' });
  assert.deepEqual(r[1][5], { resp: 'its connect() did not complete: it gave up on the handshake with RST',
    orig: 'never acknowledged the peer\'s SYN (gone, or its ACKs were not captured): if its connect() had completed, its next read() or write() failed with ECONNRESET' });
  assert.deepEqual(r[1][6], { kind: 'handshake-abandoned', syns: 3, simultaneousOpen: true, rstFrame: 5, rstShape: 'live-socket', acceptance: 'unknown' });
  // the client's SYN twice, nothing back, its RST/ACK: seen from the client's side only (its ack names a server
  // sequence the capture lacks), so information
  assert.deepEqual(await run([{ tsSec: 9800, src: C, dst: S, flags: 'S', seq: 10 }, { tsSec: 9801, src: C, dst: S, flags: 'S', seq: 10 },
    { tsSec: 9803, src: C, dst: S, flags: 'RA', seq: 11, ack: 1 }]), [
    ['abortive-close', 3, 'client', 'info',
      `${CLIENT} sent SYN 2 time(s) and ${SERVER} never acknowledged it; then ${CLIENT} ended its attempt with RST/ACK (frame 3). The connection never completed. The capture shows only the packets of ${CLIENT}, and they acknowledge packets from ${SERVER} that the capture does not have: that direction took another path (asymmetric routing, a one-sided tap), so what it sent (the segment a RST answers, its data, its FIN) is unknown, and this is told from one side only.`,
      { orig: 'its connect() did not complete: the attempt ended with its own RST (an application abort, or a stack or middlebox that ends attempts so)',
        resp: 'no acknowledgment of the SYN seen: no connection was made on its side' },
      { kind: 'handshake-abandoned', syns: 2, simultaneousOpen: false, rstFrame: 3, rstShape: 'live-socket', acceptance: 'unknown', seen: 'orig-only' }]]);
});

test('synack-reset: the client\'s bare RST at the SYN-ACK\'s ack, with its SYN in the capture and without it (backscatter or a late start); exact texts', async () => {
  const run = async (segs: Seg[]) => {
    const file = join(dir, `crafted-${++craftedNo}.pcap`);
    writeFileSync(file, pcap(segs));
    return (await findingsOf(file)).findings.map((f) => [f.rule, f.frame, f.actor, f.severity, f.frames, f.summary, f.app, f.evidence]);
  };
  const server = 'its half-open connection (SYN-RECV) was dropped; the application never saw it (no accept())';
  assert.deepEqual(await run([
    { tsSec: 700, src: C, dst: S, flags: 'S', seq: 1000 },
    { tsSec: 700, tsUsec: 300000, src: S, dst: C, flags: 'SA', seq: 5000, ack: 1001 },
    { tsSec: 700, tsUsec: 450000, src: C, dst: S, flags: 'R', seq: 1001 }]), [['synack-reset', 3, 'client', 'warning', [1, 2, 3],
    `${SERVER} answered the SYN (SYN-ACK, frame 2); ${CLIENT} answered that with a bare RST 0.2 s later (frame 3, seq = the SYN-ACK's ack): no socket waited for the answer any more. The connect() (SYN, frame 1) had been abandoned before the SYN-ACK reached it (the application closed the socket, or gave up on its own timeout): a socket still in SYN-SENT would have completed the handshake.`,
    { orig: 'had abandoned the connect() (closed the socket, or its own timeout fired) before the answer came: no connection', resp: server },
    { synFrame: 1, synAckFrame: 2, rstFrame: 3, afterSec: 0.2, rstShape: 'socketless' }]]);
  // no SYN of the client's: the SYN-ACK's sender is the responder, the client the originator (Zeek's flip)
  const [one] = await run([
    { tsSec: 700, src: S, dst: C, flags: 'SA', seq: 5000, ack: 1001 },
    { tsSec: 701, src: C, dst: S, flags: 'R', seq: 1001 }]);
  assert.deepEqual(one.slice(0, 5), ['synack-reset', 2, 'orig', 'warning', [1, 2]]);
  assert.equal(one[5], 'the responder 10.6.0.2:7000 answered the SYN (SYN-ACK, frame 1); the originator 10.6.0.1:43000 answered that with a bare RST 1 s later (frame 2, seq = the SYN-ACK\'s ack): no socket waited for the answer any more. '
    + 'No SYN from the originator 10.6.0.1:43000 is in the capture: either the capture began after it, or it never sent one and the SYN-ACK is backscatter (SYNs sent in its name, as a spoofed SYN flood sends them). '
    + 'The capture began inside this connection (no handshake): its roles are inferred from the responder\'s SYN-ACK (the originator\'s SYN was not captured), and what happened before frame 1 was not captured.');
  assert.deepEqual(one[6], { orig: 'had no socket for this connection: no connection (its connect() was gone, or it never made one)', resp: server });
  assert.deepEqual((one[7] as Record<string, unknown>).synFrame, null);
  assert.deepEqual((one[7] as Record<string, unknown>).synAckFrame, 1);
  // once the client has acknowledged anything, a bare RST is no answer to a SYN-ACK: half-open
  const later = await run([
    { tsSec: 700, src: C, dst: S, flags: 'S', seq: 1000 },
    { tsSec: 700, tsUsec: 1000, src: S, dst: C, flags: 'SA', seq: 5000, ack: 1001 },
    { tsSec: 700, tsUsec: 2000, src: C, dst: S, flags: 'A', seq: 1001, ack: 5001 },
    { tsSec: 700, tsUsec: 3000, src: S, dst: C, flags: 'SA', seq: 5000, ack: 1001 },
    { tsSec: 700, tsUsec: 4000, src: C, dst: S, flags: 'R', seq: 1001 }]);
  assert.ok(!later.some((x) => x[0] === 'synack-reset'), JSON.stringify(later.map((x) => x[0])));
  // from the responder: a simultaneous open whose second SYN's sender abandoned its connect and reset the
  // originator's SYN-ACK
  const resp = await run([
    { tsSec: 700, src: C, dst: S, flags: 'S', seq: 1000 },
    { tsSec: 700, tsUsec: 100, src: S, dst: C, flags: 'S', seq: 5000 },
    { tsSec: 700, tsUsec: 300000, src: C, dst: S, flags: 'SA', seq: 1000, ack: 5001 },
    { tsSec: 700, tsUsec: 450000, src: S, dst: C, flags: 'R', seq: 5001 }]);
  assert.deepEqual(resp.filter((x) => x[0] === 'synack-reset').map((x) => [x[1], x[2], x[6], x[7]]), [[4, 'server',
    { resp: 'had abandoned the connect() (closed the socket, or its own timeout fired) before the answer came: no connection', orig: server },
    { synFrame: 2, synAckFrame: 3, rstFrame: 4, afterSec: 0.2, rstShape: 'socketless' }]]);
  // not synack-reset: the client's FIN (without ACK) before the RST; a RST pairing an older SYN-ACK while a later
  // one acknowledges more (not the socketless shape)
  for (const segs of [
    [{ tsSec: 700, src: C, dst: S, flags: 'S', seq: 1000 }, { tsSec: 700, tsUsec: 1000, src: C, dst: S, flags: 'F', seq: 1001 },
      { tsSec: 700, tsUsec: 300000, src: S, dst: C, flags: 'SA', seq: 5000, ack: 1001 }, { tsSec: 700, tsUsec: 450000, src: C, dst: S, flags: 'R', seq: 1001 }],
    [{ tsSec: 700, src: C, dst: S, flags: 'S', seq: 1000 }, { tsSec: 700, tsUsec: 300000, src: S, dst: C, flags: 'SA', seq: 5000, ack: 1001 },
      { tsSec: 700, tsUsec: 300100, src: S, dst: C, flags: 'SA', seq: 5000, ack: 1002 }, { tsSec: 700, tsUsec: 450000, src: C, dst: S, flags: 'R', seq: 1001 }],
  ] as Seg[][]) {
    const got = await run(segs);
    assert.deepEqual(got.map((x) => x[0]), ['abortive-close']);
  }
});

test('boundaries of the RST stories: an old retransmission below the sequence base, a keep-alive probe stamped with the last payload, a FIN at relative sequence 0, a capture ending exactly 1 s after the RST, two goodbyes whose FINs did not cross, a crossing write the evidence ring lost', async () => {
  const run = async (segs: Seg[]) => {
    const file = join(dir, `crafted-${++craftedNo}.pcap`);
    writeFileSync(file, pcap(segs));
    return (await findingsOf(file)).findings;
  };
  let ms = 0;
  const t = (): { tsSec: number; tsUsec: number } => { ms++; return { tsSec: 600 + Math.floor(ms / 1000), tsUsec: (ms % 1000) * 1000 }; };
  // mid-stream: the client's data, then an old retransmission of its (relative sequence -100, ending at -90), the
  // server's segment without the ACK flag (no acknowledgment: its ack reads -1, which is not >= -90), the bare
  // RST at the data's ack: it answers the retransmission, the latest segment with that ack
  const old = await run([
    { tsSec: 800, src: C, dst: S, flags: 'PA', seq: 2000, ack: 5000, len: 10 },
    { tsSec: 800, tsUsec: 1000, src: C, dst: S, flags: 'PA', seq: 1900, ack: 5000, len: 10 },
    { tsSec: 800, tsUsec: 2000, src: S, dst: C, flags: 'P', seq: 5000, len: 5 },
    { tsSec: 800, tsUsec: 3000, src: S, dst: C, flags: 'R', seq: 5000 }]);
  assert.deepEqual(old.map((f) => [f.rule, f.frame, f.evidence.triggerFrame]), [['half-open', 4, 2]]);
  // a keep-alive probe (seq one below SND.NXT) at the very time of the client's last payload, 702.000000 s; the
  // server's RST 5 s later: the probe is within the idle time (its start included), so keepalive-reset
  const probe = await run([
    { tsSec: 700, src: C, dst: S, flags: 'S', seq: 1000 },
    { tsSec: 700, tsUsec: 1000, src: S, dst: C, flags: 'SA', seq: 5000, ack: 1001 },
    { tsSec: 700, tsUsec: 2000, src: C, dst: S, flags: 'A', seq: 1001, ack: 5001 },
    { tsSec: 702, src: C, dst: S, flags: 'PA', seq: 1001, ack: 5001, len: 10 },
    { tsSec: 702, src: C, dst: S, flags: 'A', seq: 1010, ack: 5001 },
    { tsSec: 707, src: S, dst: C, flags: 'RA', seq: 5001, ack: 1011 }]);
  assert.deepEqual(probe.map((f) => [f.rule, f.frame, f.evidence]), [['keepalive-reset', 6, { idleSec: 5, probes: 1, rstFrame: 6, rstShape: 'live-socket' }]]);
  // mid-stream: the client's ACK sets the server's base at 9000, so the server's FIN (seq 9000) is at relative
  // sequence 0; the client's data acknowledging it, the RST: the writer had the FIN (the bug variant)
  const fin0 = await run([
    { tsSec: 600, src: WC, dst: WS, flags: 'A', seq: 101, ack: 9001 },
    { tsSec: 600, tsUsec: 500, src: WS, dst: WC, flags: 'FA', seq: 9000, ack: 101 },
    { tsSec: 600, tsUsec: 1000, src: WC, dst: WS, flags: 'PA', seq: 101, ack: 9001, len: 100 },
    { tsSec: 600, tsUsec: 2000, src: WS, dst: WC, flags: 'R', seq: 9001 }]);
  assert.deepEqual(fin0.map((f) => [f.rule, f.frame, f.evidence.variant, f.evidence.dataAckedFin]), [['write-after-peer-close', 4, 'bug', true]]);
  // the race with its RST at 601.000000 s and the capture's last packet at 602.000000 s: exactly the 1 s margin,
  // nothing left open (no capture-end caveat)
  const race = await run([
    ...RACE_TO_FIN,
    { tsSec: 601, src: WS, dst: WC, flags: 'R', seq: 9002 },
    { tsSec: 602, src: ['10.5.0.3', 44000], dst: WS, flags: 'S', seq: 1 }]);
  assert.equal(race[0].summary, 'the server 10.5.0.2:7000 closed first (FIN, frame 6); the client 10.5.0.1:43000 meanwhile wrote 100 byte(s) (frame 5) before that FIN reached it (a race); '
    + 'the server 10.5.0.2:7000\'s kernel answered with RST (frame 7). The FIN still arrived before the RST, so the writer\'s next write fails with EPIPE and SIGPIPE (ECONNRESET only if the FIN was lost).');
  // both sides' last data reset, the FINs not crossed (the client's FIN acknowledges the server's): the server's
  // data, FIN (5); the client's data (6), FIN acknowledging the server's (7); the server's data again (8); both RSTs
  ms = 0;
  const goodbye = await run([
    { ...t(), src: WC, dst: WS, flags: 'S', seq: 100 }, { ...t(), src: WS, dst: WC, flags: 'SA', seq: 9000, ack: 101 },
    { ...t(), src: WC, dst: WS, flags: 'A', seq: 101, ack: 9001 }, { ...t(), src: WS, dst: WC, flags: 'PA', seq: 9001, ack: 101, len: 20 },
    { ...t(), src: WS, dst: WC, flags: 'FA', seq: 9021, ack: 101 }, { ...t(), src: WC, dst: WS, flags: 'PA', seq: 101, ack: 9001, len: 30 },
    { ...t(), src: WC, dst: WS, flags: 'FA', seq: 131, ack: 9022 }, { ...t(), src: WS, dst: WC, flags: 'PA', seq: 9001, ack: 101, len: 20 },
    { ...t(), src: WC, dst: WS, flags: 'R', seq: 132 }, { ...t(), src: WS, dst: WC, flags: 'R', seq: 9022 }]);
  assert.deepEqual(goodbye.map((f) => [f.rule, f.frame, f.evidence.causedBy]), [['write-after-peer-close', 9, undefined]]);
  assert.equal(goodbye[0].summary, 'the server 10.5.0.2:7000 (data from frame 8, FIN frame 5) and the client 10.5.0.1:43000 (data from frame 6, FIN frame 7) each sent their last data and closed at the same time. '
    + 'Each kernel then received the other\'s last data after its own close and answered it with RST (frames 9, 10). A goodbye on both sides: each application had closed, so no write failed (no EPIPE, no SIGPIPE); only the last bytes each sent went unread.');
  // the client's 100 bytes (frame 7) cross the server's FIN (8), then 17 pure ACKs push them out of the evidence
  // ring (6 head + 16 latest segments), the server's RST (26), the client's 1-byte keep-alive probe after it (27):
  // the finding names frame 7, never the probe after the RST
  ms = 0;
  const lost: Seg[] = [
    { ...t(), src: WC, dst: WS, flags: 'S', seq: 100 }, { ...t(), src: WS, dst: WC, flags: 'SA', seq: 9000, ack: 101 },
    { ...t(), src: WC, dst: WS, flags: 'A', seq: 101, ack: 9001 }, { ...t(), src: WC, dst: WS, flags: 'PA', seq: 101, ack: 9001, len: 10 },
    { ...t(), src: WS, dst: WC, flags: 'A', seq: 9001, ack: 111 }, { ...t(), src: WS, dst: WC, flags: 'PA', seq: 9001, ack: 111, len: 10 },
    { ...t(), src: WC, dst: WS, flags: 'PA', seq: 111, ack: 9011, len: 100 }, { ...t(), src: WS, dst: WC, flags: 'FA', seq: 9011, ack: 111 }];
  for (let i = 0; i < 17; i++) lost.push({ ...t(), src: WC, dst: WS, flags: 'A', seq: 211, ack: 9012 });
  lost.push({ ...t(), src: WS, dst: WC, flags: 'R', seq: 9012 }, { ...t(), src: WC, dst: WS, flags: 'A', seq: 210, ack: 9012, len: 1 });
  // the first crossing data is pinned when the FIN comes (the ring still holds it then): the race is told with it
  const told = await run(lost);
  assert.deepEqual(told.map((f) => [f.rule, f.frame, f.evidence.variant, f.evidence.firstDataFrame, f.evidence.finFrame]), [['write-after-peer-close', 26, 'race', 7, 8]]);
});

test('rst-suspicious: the challenge ACK comes from the side the RST was aimed at, not from its claimed sender; an IP ID of 0 is shown as 0', async () => {
  // the in-window RST claiming to come from the client, then the client's own pure ACK, then the server's: the
  // server's is the challenge ACK
  const conv = new Conv().open().c('PA', 10).s('PA', 10).c('A');
  conv.c('RA', 0, { seq: conv.nxt('c') + 1000 }).c('A').s('A');
  const f = one((await crafted(conv)).findings, 'rst-suspicious');
  assert.deepEqual([f.frame, f.frames, f.evidence.challengeAckFrame, f.evidence.survived], [7, [7, 9], 9, true]);
  // a forged RST (another TTL) whose IP ID is 0 (no IP ID signal, but the evidence shows the field as it is)
  const g = one((await crafted(new Conv().open().c('PA', 10).s('A').s('RA', 0, { ttl: 50, ipId: 0 }))).findings, 'rst-suspicious');
  assert.deepEqual([g.evidence.reasons, g.evidence.ipId], [["TTL 50 unlike the sender's other packets (64)"], 0]);
  // the same over IPv6, which has no IP ID: the evidence says null, not the decoder's -1
  const v6 = new Conv().open().c('PA', 10).s('A').s('RA', 0, { ttl: 50 });
  const six = (a: [string, number]): [string, number] => [a[0] === C[0] ? 'fd00:6::1' : 'fd00:6::2', a[1]];
  for (const x of v6.segs) { x.src = six(x.src); x.dst = six(x.dst); }
  const h = one((await crafted(v6)).findings, 'rst-suspicious');
  assert.deepEqual([h.evidence.reasons, h.evidence.ipId, h.evidence.ttl], [["TTL 50 unlike the sender's other packets (64)"], null, 50]);
});

test('write-after-peer-close: the capture-end caveat only when the capture ends within 1 s of the RST, not when it goes on or the record ends otherwise', async () => {
  const race: Seg[] = [...RACE_TO_FIN, { tsSec: 600, tsUsec: 5000, src: WS, dst: WC, flags: 'R', seq: 9002 }];
  const told = 'the server 10.5.0.2:7000 closed first (FIN, frame 6); the client 10.5.0.1:43000 meanwhile wrote 100 byte(s) (frame 5) before that FIN reached it (a race); '
    + 'the server 10.5.0.2:7000\'s kernel answered with RST (frame 7). The FIN still arrived before the RST, so the writer\'s next write fails with EPIPE and SIGPIPE (ECONNRESET only if the FIN was lost).';
  // the capture goes on 2 s (another connection's SYN): nothing left open
  const O: [string, number] = ['10.5.0.3', 44000];
  assert.equal((await writeAfterPeerClose([...race, { tsSec: 602, tsUsec: 5000, src: O, dst: WS, flags: 'S', seq: 1 }])).summary, told);
  // the client's next connection on the same ports 0.5 s after the RST ends this record (reused), not the capture
  assert.equal((await writeAfterPeerClose([...race, { tsSec: 600, tsUsec: 505000, src: WC, dst: WS, flags: 'S', seq: 7777 }])).summary, told);
});
