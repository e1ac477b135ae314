/**
 * `rstscope live` on real loopback traffic, both backends: findings arrive
 * while the capture runs (within 2 s of the traffic that decides them), the
 * normal close raises none, --write then `analyze` gives the same findings,
 * and a 50,000-packet burst is counted in full with zero drops.
 * Needs root and tcpdump (and the optional package cap for the cap backend);
 * elsewhere the tests skip with the reason, under CI=true they fail (test/requires.ts).
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { NDJSON_SCHEMA } from '../src/report/ndjson.js';
import { runCli } from './helpers.js';
import { liveNeeds, runCliAs, startLive, type LiveRun } from './live-helpers.js';

const LOOP = '127.0.0.1';
const FINDING_DEADLINE_MS = 2000;

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOP, () => resolve((server.address() as net.AddressInfo).port));
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function connected(port: number, opts: net.NetConnectOpts = { port }): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ ...opts, port, host: LOOP }, () => resolve(c));
    c.once('error', reject);
  });
}

function once<T>(emitter: NodeJS.EventEmitter, ev: string): Promise<T> {
  return new Promise((resolve) => emitter.once(ev, resolve as (v: T) => void));
}

interface Scenario {
  name: string;
  /** the rule that must fire (null: none may) */
  rule: string | null;
  /** client's local port, to find the connection in the records */
  clientPort?: number;
  /** when the traffic that decides the finding was done */
  doneAtMs?: number;
}

/** A port nobody listens on: bind, note, close (the kernel will refuse connects to it). */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  const p = await listen(s);
  await closeServer(s);
  return p;
}

async function driveScenarios(run: LiveRun, servers: Record<string, net.Server>, ports: Record<string, number>): Promise<Scenario[]> {
  const out: Scenario[] = [];
  const expect = async (sc: Scenario, since: number) => {
    out.push(sc);
    if (sc.rule === null) return;
    const line = await run.waitFor((l) => l.obj.type === 'finding' && l.obj.rule === sc.rule && l.atMs >= since,
      FINDING_DEADLINE_MS + 3000, `${sc.rule} finding for ${sc.name}`);
    const delay = line.atMs - (sc.doneAtMs ?? since);
    process.stderr.write(`# ${sc.name}: ${sc.rule} printed ${delay} ms after the traffic\n`);
    assert.ok(delay <= FINDING_DEADLINE_MS, `${sc.name}: finding ${sc.rule} came ${delay} ms after the traffic (limit ${FINDING_DEADLINE_MS} ms)`);
  };

  // 1. refused: SYN to a closed port, RST/ACK back, connect() fails with ECONNREFUSED
  {
    const since = Date.now();
    const c = net.connect({ port: ports.dead, host: LOOP });
    const e = await once<NodeJS.ErrnoException>(c, 'error');
    assert.equal(e.code, 'ECONNREFUSED');
    await expect({ name: 'refused connect', rule: 'refused', doneAtMs: Date.now() }, since);
  }

  // 2. write after the peer closed: the server closes; the client writes anyway and gets a RST
  {
    const since = Date.now();
    const accepted = once<net.Socket>(servers.wapc, 'connection');
    const c = await connected(ports.wapc, { port: ports.wapc, allowHalfOpen: true });
    const s = await accepted;
    const clientPort = c.localPort!;
    c.on('error', () => {});
    const ended = once(c, 'end');
    c.resume();
    s.destroy(); // full close: FIN
    await ended; // the client saw the FIN
    const reset = once<NodeJS.ErrnoException>(c, 'error');
    c.write('data after the peer closed\n');
    c.write('more\n');
    const e = await reset;
    assert.match(String(e.code), /ECONNRESET|EPIPE/);
    c.destroy();
    await expect({ name: 'write after peer close', rule: 'write-after-peer-close', clientPort, doneAtMs: Date.now() }, since);
  }

  // 3. close with unread data: the server never reads what the client sent, then closes: RST
  {
    const since = Date.now();
    const accepted = once<net.Socket>(servers.unread, 'connection');
    const c = await connected(ports.unread);
    const clientPort = c.localPort!;
    c.on('error', () => {});
    const s = await accepted; // paused on connect: nothing is read
    await new Promise<void>((r) => c.write('request the server never reads\n', () => r()));
    const reset = once<NodeJS.ErrnoException>(c, 'error');
    c.resume();
    s.destroy();
    const e = await reset;
    assert.equal(e.code, 'ECONNRESET');
    await expect({ name: 'close with unread data', rule: 'rst-with-unread-data', clientPort, doneAtMs: Date.now() }, since);
  }

  // 4. abortive close: SO_LINGER 0 (resetAndDestroy) after a request and its answer
  {
    const since = Date.now();
    const accepted = once<net.Socket>(servers.abort, 'connection');
    const c = await connected(ports.abort);
    const clientPort = c.localPort!;
    const s = await accepted;
    const serverErr = once<NodeJS.ErrnoException>(s, 'error');
    s.on('data', (d: Buffer) => { if (d.includes('request')) s.write('answer\n'); });
    c.write('request\n');
    await once(c, 'data');
    // a last request acknowledges the answer, so no unread data is left when the client aborts
    const got = once(s, 'data');
    c.write('thanks\n');
    await got;
    c.resetAndDestroy();
    const e = await serverErr;
    assert.equal(e.code, 'ECONNRESET');
    await expect({ name: 'abortive close', rule: 'abortive-close', clientPort, doneAtMs: Date.now() }, since);
  }

  // 5. normal close: request, answer, FIN both ways; no finding may be raised
  {
    const accepted = once<net.Socket>(servers.normal, 'connection');
    const c = await connected(ports.normal);
    const clientPort = c.localPort!;
    const s = await accepted;
    const closed = Promise.all([once(s, 'close'), once(c, 'close')]);
    s.on('data', () => s.end('answer\n'));
    c.resume();
    c.write('request\n');
    await once(c, 'end');
    c.end();
    await closed;
    await expect({ name: 'normal close', rule: null, clientPort, doneAtMs: Date.now() }, Date.now());
  }
  return out;
}

async function scenarioTest(backend: 'tcpdump' | 'cap', t: import('node:test').TestContext): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'rstscope-live-'));
  const servers: Record<string, net.Server> = {
    wapc: net.createServer({ allowHalfOpen: false }, (s) => s.on('error', () => {})),
    unread: net.createServer({ pauseOnConnect: true }, (s) => s.on('error', () => {})),
    abort: net.createServer((s) => s.on('error', () => {})),
    normal: net.createServer((s) => s.on('error', () => {})),
  };
  const ports: Record<string, number> = { dead: await deadPort() };
  for (const [k, s] of Object.entries(servers)) ports[k] = await listen(s);
  const filter = Object.values(ports).map((p) => `tcp port ${p}`).join(' or ');
  const pcap = join(dir, 'live.pcap');
  let run: LiveRun | null = null;
  t.after(() => run?.kill());
  try {
    run = await startLive(['--interface', 'lo', '--backend', backend, '--format', 'ndjson', '--filter', filter, '--write', pcap]);
    const scenarios = await driveScenarios(run, servers, ports);
    await run.stop();
    assert.equal(run.code, 0, `live exit status; stderr:\n${run.stderr}`);

    const conns = run.lines.filter((l) => l.obj.type === 'connection').map((l) => l.obj as { id: number; orig: { port: number } });
    const findings = run.lines.filter((l) => l.obj.type === 'finding').map((l) => l.obj as { rule: string; connection: number; frame: number; actor: string });
    for (const sc of scenarios) {
      if (sc.clientPort === undefined) continue;
      const conn = conns.find((c) => c.orig.port === sc.clientPort);
      assert.ok(conn, `${sc.name}: connection from port ${sc.clientPort} reported`);
      const rules = findings.filter((f) => f.connection === conn.id).map((f) => f.rule);
      if (sc.rule === null) assert.deepEqual(rules, [], `${sc.name} raised findings`);
      else assert.ok(rules.includes(sc.rule), `${sc.name}: ${sc.rule} among ${rules.join(',')}`);
    }
    const totalsLine = run.lines.find((l) => l.obj.type === 'totals');
    assert.ok(totalsLine, 'totals line');
    assert.equal((totalsLine.obj as { findings: number }).findings, findings.length);

    // --write then analyze: the same findings
    const an = await runCli(['analyze', '--format', 'json', pcap]);
    assert.equal(an.code, 0, an.stderr);
    const doc = JSON.parse(an.stdout) as { findings: { rule: string; connection: number; frame: number; actor: string; summary: string }[] };
    const key = (f: { rule: string; connection: number; frame: number; actor: string }) => `${f.connection}|${f.rule}|${f.frame}|${f.actor}`;
    assert.deepEqual(findings.map(key).sort(), doc.findings.map(key).sort(), 'live and analyze of the written capture agree');
    const liveByKey = new Map(run.lines.filter((l) => l.obj.type === 'finding').map((l) => [key(l.obj as never), l.obj]));
    // an NDJSON line carries its type and schema version first (report/ndjson.ts); the rest is the JSON finding
    for (const f of doc.findings) assert.deepEqual(liveByKey.get(key(f)), { type: 'finding', schema: NDJSON_SCHEMA, ...f }, `finding ${key(f)} identical`);
  } finally {
    run?.kill();
    for (const s of Object.values(servers)) await closeServer(s);
    await rm(dir, { recursive: true, force: true });
  }
}

async function burstTest(backend: 'tcpdump' | 'cap', t: import('node:test').TestContext): Promise<void> {
  const PACKETS = 50_000;
  const rx = dgram.createSocket('udp4');
  rx.on('message', () => {});
  await new Promise<void>((r) => rx.bind(0, LOOP, () => r()));
  const port = rx.address().port;
  const tx = dgram.createSocket('udp4');
  await new Promise<void>((r) => tx.bind(0, LOOP, () => r()));
  let run: LiveRun | null = null;
  t.after(() => run?.kill());
  try {
    run = await startLive(['--interface', 'lo', '--backend', backend, '--format', 'ndjson', '--filter', `udp port ${port}`]);
    const payload = Buffer.alloc(64, 0x61);
    let sent = 0;
    const t0 = Date.now();
    // in batches of 1000 awaited sends, so the send queue stays bounded; every datagram is one packet on lo
    for (let i = 0; i < PACKETS; i += 1000) {
      await Promise.all(Array.from({ length: 1000 }, () => new Promise<void>((resolve, reject) => {
        tx.send(payload, port, LOOP, (e) => (e ? reject(e) : (sent++, resolve())));
      })));
    }
    const sendMs = Date.now() - t0;
    await run.stop();
    assert.equal(run.code, 0, run.stderr);
    const totalsLine = run.lines.find((l) => l.obj.type === 'totals');
    assert.ok(totalsLine, `totals line; stderr: ${run.stderr}`);
    const live = (totalsLine.obj as { live: { packets: number; drops: number | null } }).live;
    process.stderr.write(`# ${backend} burst: ${sent} datagrams sent in ${sendMs} ms, live counted ${live.packets}, drops ${live.drops}\n`);
    assert.equal(sent, PACKETS);
    if (backend === 'tcpdump') {
      assert.equal(live.packets, PACKETS, 'every packet sent was captured and analyzed');
      assert.equal(live.drops, 0, 'tcpdump reports zero kernel drops');
    } else {
      // cap (65535-byte ring slots, no drop counters) is not lossless under load:
      // measured here with 256 MiB and 1 GiB buffers, a loaded machine lost up to
      // 18% of this burst. What it must do is never claim a count it cannot know.
      assert.ok(live.packets > 0 && live.packets <= PACKETS, `cap counted ${live.packets} of ${PACKETS}`);
      assert.equal(live.drops, null, 'cap cannot count drops and reports them as unknown, not 0');
      const input = run.lines.find((l) => l.obj.type === 'input');
      assert.match(JSON.stringify(input?.obj), /kernel drops cannot be counted/);
    }
  } finally {
    run?.kill();
    rx.close();
    tx.close();
  }
}

for (const backend of ['tcpdump', 'cap'] as const) {
  describe(`live (${backend} backend)`, { concurrency: false }, () => {
    test('refused, write after close, unread data, abortive and normal close: findings while capturing; --write then analyze agrees', { timeout: 60_000, ...liveNeeds(backend) }, (t) => scenarioTest(backend, t));
    test(backend === 'tcpdump' ? 'a 50,000-packet loopback burst is counted in full with zero drops'
      : 'a 50,000-packet loopback burst: counted packets never exceed those sent, drops reported as unknown', { timeout: 60_000, ...liveNeeds(backend) }, (t) => burstTest(backend, t));
  });
}

test('kernel drops are reported while they happen and in the totals, never silently', { timeout: 60_000, ...liveNeeds('tcpdump') }, async (t) => {
  const PACKETS = 50_000;
  const rx = dgram.createSocket('udp4');
  rx.on('message', () => {});
  await new Promise<void>((r) => rx.bind(0, LOOP, () => r()));
  const port = rx.address().port;
  const tx = dgram.createSocket('udp4');
  let run: LiveRun | null = null;
  t.after(() => { run?.kill(); rx.close(); tx.close(); });
  // a 1 KiB kernel buffer (the kernel rounds it up to its minimum) and full-size
  // packets: most of a burst of 1000-byte datagrams cannot be kept
  run = await startLive(['--interface', 'lo', '--format', 'ndjson', '--buffer-kib', '1', '--snaplen', '65535', '--filter', `udp port ${port}`]);
  const payload = Buffer.alloc(1000, 0x62);
  for (let i = 0; i < PACKETS; i += 1000) {
    await Promise.all(Array.from({ length: 1000 }, () => new Promise<void>((resolve) => tx.send(payload, port, LOOP, () => resolve()))));
  }
  await run.waitStderr(/warning: the kernel has dropped \d+ packet/, 10_000);
  await run.stop();
  assert.equal(run.code, 0, run.stderr);
  const totalsLine = run.lines.find((l) => l.obj.type === 'totals');
  assert.ok(totalsLine);
  const live = (totalsLine.obj as { live: { packets: number; drops: number } }).live;
  assert.ok(live.drops > 0, `drops reported: ${live.drops}`);
  // on lo the kernel also counts the outgoing copy libpcap discards, so drops may exceed what was lost
  assert.ok(live.packets + live.drops >= PACKETS, `captured ${live.packets} + dropped ${live.drops} account for ${PACKETS} sent`);
  const input = run.lines.find((l) => l.obj.type === 'input');
  assert.match(JSON.stringify(input?.obj), /dropped by the kernel/);
});

describe('live errors (exit 2, clear messages)', () => {
  test('unknown interface lists the ones that exist', { timeout: 30_000, ...liveNeeds('tcpdump') }, async () => {
    const r = await runCli(['live', '--interface', 'rstscope-nosuch0', '--duration', '1']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /no interface named "rstscope-nosuch0"; interfaces here: .*\blo\b/);
  });
  test('an invalid BPF filter shows tcpdump\'s message', { timeout: 30_000, ...liveNeeds('tcpdump') }, async () => {
    const r = await runCli(['live', '--interface', 'lo', '--filter', 'tcp prot 80', '--duration', '1']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /invalid BPF filter "tcp prot 80": .*syntax error/);
  });
  test('capture without privilege says what is needed', { timeout: 30_000, ...liveNeeds('tcpdump', 'setpriv') }, async () => {
    // drop root for the CLI only: setpriv as user nobody, with no capabilities
    const r = await runCliAs(['live', '--interface', 'lo', '--duration', '1'], { nobody: true });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot capture on lo: .*permission/i);
    assert.match(r.stderr, /root or CAP_NET_RAW/);
  });
  test('cap backend: an invalid filter or unknown interface is a clear error, not a crash', { timeout: 30_000, ...liveNeeds('cap') }, async () => {
    const bad = await runCliAs(['live', '--backend', 'cap', '--interface', 'lo', '--filter', 'tcp prot 80', '--duration', '1']);
    assert.equal(bad.code, 2, bad.stderr); // cap 0.2.1 segfaulted here (139) before its Buffer was kept alive
    assert.match(bad.stderr, /invalid BPF filter "tcp prot 80": .*syntax error/);
    const nodev = await runCliAs(['live', '--backend', 'cap', '--interface', 'rstscope-nosuch0', '--duration', '1']);
    assert.equal(nodev.code, 2, nodev.stderr);
    assert.match(nodev.stderr, /no interface named "rstscope-nosuch0"; interfaces here: .*\blo\b/);
  });
  test('missing tcpdump says how to install it', { timeout: 30_000, ...liveNeeds('tcpdump') }, async () => {
    const r = await runCliAs(['live', '--interface', 'lo', '--duration', '1'], { env: { ...process.env, PATH: '/nonexistent' } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /tcpdump is not installed.*apt-get install tcpdump/);
  });
});
