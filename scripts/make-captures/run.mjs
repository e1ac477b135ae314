#!/usr/bin/env node
// Regenerates the real teardown captures in captures/ and their
// captures/NAME.expected.json files. Needs root, tcpdump, tshark, python3, ip.
//   node scripts/make-captures/run.mjs            # all scenarios
//   node scripts/make-captures/run.mjs refused half-open
// Loopback scenarios drive Node sockets in this process (python3 where Node
// cannot set the socket option). Scenarios that need crossing packets or a
// silently vanishing peer run in two network namespaces joined by wire.py, a
// userspace delay/drop wire (this kernel has no sch_netem, no act_gact and no
// nft/iptables binaries; see docs/captures.md).
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import {
  CAPDIR, startCapture, stopCapture, waitForWire, once, tsharkFrames, rolesFromCapture, writeExpected,
  AppLog, except, markProbes, frameCount, readPackets,
} from './lib.mjs';
import { NodeAgent, PyAgent, makeWire, NS_ADDR } from './agents.mjs';

const SCRIPT = 'scripts/make-captures/run.mjs';
const LO = '127.0.0.1';
const capFile = (name) => path.join(CAPDIR, name + '.pcap');

// ---------- small helpers ----------
function listen(server, port = 0, host = LO) {
  return new Promise((res) => server.listen(port, host, () => res(server.address().port)));
}
function freePort() {
  const s = net.createServer();
  return listen(s).then((p) => new Promise((res) => s.close(() => res(p))));
}
function write(sock, buf) {
  return new Promise((res) => sock.write(buf, (e) => res(e ? { ok: false, code: e.code } : { ok: true })));
}
/** first packet from src:port matching pred */
const from = (pk, ep, pred = () => true) => pk.filter((p) => `${p.src}:${p.sport}` === ep && pred(p));
const nextSeq = (pk, ep) => {
  let n;
  for (const p of from(pk, ep)) {
    const e = (p.seq + p.len + (p.syn ? 1 : 0) + (p.fin ? 1 : 0)) >>> 0;
    if (n === undefined || ((e - n) | 0) > 0) n = e;
  }
  return n;
};
/** both FINs sent and each acknowledged by the other side */
function closedBothWays(pk) {
  const fins = pk.filter((p) => p.fin);
  if (fins.length < 2) return false;
  return fins.every((f) => pk.some((q) => q.frame > f.frame && q.src === f.dst && q.sport === f.dport && q.ackf &&
    ((q.ack - ((f.seq + f.len + 1) >>> 0)) | 0) >= 0));
}
const hasRst = (pk) => pk.some((p) => p.rst);
/** bug variant: the client's data segment acknowledges the server FIN */
function checkBug(file) {
  const pk = readPackets(file);
  const fin = pk.find((p) => p.fin);
  const data = pk.find((p) => p.len > 0 && p.sport !== fin?.sport);
  check(fin && data && data.frame > fin.frame && covers(data.ack, fin), 'client data does not acknowledge the FIN');
}
/** the recording did not show the intended kernel behaviour: fail loudly instead of writing a wrong expectation */
function check(cond, msg) { if (!cond) throw new Error('scenario check failed: ' + msg); }
const covers = (ack, seg) => ((ack - ((seg.seq + seg.len + (seg.fin ? 1 : 0) + (seg.syn ? 1 : 0)) >>> 0)) | 0) >= 0;
/** a client-side event log fed by a Node socket */
function track(sock, log, name = 'read') {
  let bytes = 0;
  sock.on('data', (d) => { bytes += d.length; });
  sock.on('end', () => log.add(`${name} end (FIN) after ${bytes} bytes`));
  sock.on('error', (e) => log.err('socket', e));
  sock.on('close', () => log.add('close'));
  return () => bytes;
}
function agentLog(agent, log) {
  for (const e of agent.events) {
    if (e.ev === 'data' || e.ev === 'listening' || e.ev === 'bye') continue;
    if (e.ev === 'error') log.err('socket', { code: e.code });
    else if (e.ev === 'write') log.add(e.ok ? `write ${e.n} ok` : `write error ${e.code}`);
    else if (e.ev === 'end') log.add(`read end (FIN) after ${agent.events.filter((x) => x.ev === 'data').reduce((a, x) => a + x.n, 0)} bytes`);
    else log.add({ connect: 'connect ok', ended: 'shutdown(SHUT_WR) via end()', destroyed: 'close() via destroy()',
      'reset-sent': 'resetAndDestroy (SO_LINGER 0 close)' }[e.ev] ?? e.ev);
    if (e.ev === 'write' && !e.ok && log.errno === undefined) log.errno = e.code;
  }
  return log;
}

/** Capture on loopback filtered on the given ports; run body(cap) then stop cleanly. */
async function onLoopback(name, ports, body) {
  const file = capFile(name);
  const filter = ports.map((p) => `tcp port ${p}`).join(' or ');
  const cap = await startCapture({ file, filter });
  try { await body(file); } finally { var st = await stopCapture(cap); }
  return { file, st };
}

// ---------- scenarios ----------
const S = {};

S['refused'] = async () => {
  const port = await freePort();
  const client = new AppLog();
  const { file } = await onLoopback('refused', [port], async (file) => {
    const c = net.connect(port, LO);
    c.on('connect', () => client.add('connect ok'));
    c.on('error', (e) => client.err('connect', e));
    await once(c, 'close');
    await waitForWire(file, hasRst);
  });
  return {
    description: 'connect() to a loopback port with no listener; the kernel answers the SYN with RST/ACK and connect fails with ECONNREFUSED.',
    roles: rolesFromCapture(file),
    expect: [{ rule: 'refused', actor: 'server', frame: tsharkFrames(file, 'tcp.flags.reset==1')[0], evidence: {} }],
    mustNotFire: except('refused'),
    app: { client: client.toJSON(), server: { events: ['no listener on the port (free port found by binding port 0 and closing it)'] } },
  };
};

S['syn-unanswered'] = async () => {
  const py = new PyAgent();
  const client = new AppLog();
  const server = new AppLog();
  const lst = await py.cmd('listen 0');
  server.add('listen backlog 0, never accept()');
  const fill = await py.cmd('filler');
  server.add(`accept queue filled by one completed connection from port ${fill.port}`);
  const b = await py.cmd('bind');
  await py.cmd('syncnt 3');
  client.add('setsockopt TCP_SYNCNT 3');
  let res;
  const { file } = await onLoopback('syn-unanswered', [b.port], async (file) => {
    const t0 = Date.now();
    res = await py.cmd(`connect ${LO} ${lst.port}`, 60000);
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    if (res.errno) client.errno = res.errno;
    client.add(res.errno ? `connect error ${res.errno} after ${secs} s` : 'connect ok');
    await waitForWire(file, (pk) => pk.filter((p) => p.syn).length >= 4);
  });
  await py.quit();
  const syns = tsharkFrames(file, 'tcp.flags.syn==1 && tcp.flags.ack==0');
  return {
    description: 'SYN to a listener whose accept queue is full (backlog 0, one connection never accepted): Linux drops the SYNs, the client retransmits 3 times (TCP_SYNCNT 3) and connect fails with ETIMEDOUT.',
    roles: rolesFromCapture(file),
    expect: [{ rule: 'syn-unanswered', actor: 'client', frame: syns[0], evidence: { retries: syns.length - 1 } }],
    mustNotFire: except('syn-unanswered'),
    app: { client: client.toJSON(), server: server.toJSON() },
  };
};

/** A server whose application close()s every connection right after accept (the bug variants' peer). */
function closingServer(server) {
  return net.createServer({ allowHalfOpen: true }, (s) => {
    server.add('accept');
    s.on('error', (e) => server.err('socket', e));
    s.destroy();
    server.add('close');
  });
}

S['write-after-peer-close-bug'] = async () => {
  const client = new AppLog();
  const server = new AppLog();
  const srv = closingServer(server);
  const port = await listen(srv);
  const { file } = await onLoopback('write-after-peer-close-bug', [port], async (file) => {
    const c = net.connect({ port, host: LO, allowHalfOpen: true });
    c.on('connect', () => client.add('connect ok'));
    track(c, client);
    await once(c, 'end');
    // the client's ACK of the server FIN must be on the wire before it writes
    await waitForWire(file, (pk) => {
      const fin = pk.find((p) => p.fin);
      return fin && pk.some((q) => q.frame > fin.frame && q.dport === fin.sport && q.ack === ((fin.seq + 1) >>> 0));
    }, { what: 'ACK of FIN' });
    let r = await write(c, Buffer.from('hello after FIN'));
    client.add(r.ok ? 'write ok' : `write error ${r.code}`);
    await waitForWire(file, hasRst, { what: 'RST' });
    if (!c.destroyed) {
      r = await write(c, Buffer.from('second write'));
      client.add(r.ok ? 'write ok' : `write error ${r.code}`);
      if (!r.ok && !client.errno) client.errno = r.code;
    } else client.add('socket already destroyed before second write');
    c.destroy();
  });
  srv.close();
  checkBug(file);
  return {
    description: 'Server closes right after accept; the client reads EOF, ACKs the FIN, writes anyway; the closed server answers with RST and the next client write fails.',
    roles: rolesFromCapture(file),
    expect: [{ rule: 'write-after-peer-close', actor: 'server', frame: tsharkFrames(file, 'tcp.flags.reset==1')[0], evidence: { variant: 'bug' } }],
    mustNotFire: except('write-after-peer-close'),
    app: { client: client.toJSON(), server: server.toJSON() },
  };
};

S['write-after-peer-close-sigpipe'] = async () => {
  // Same wire shape as the bug variant, but the client is python3 with the
  // default SIGPIPE disposition, so its second send() kills the process.
  const client = new AppLog();
  const server = new AppLog();
  const srv = closingServer(server);
  const port = await listen(srv);
  const py = new PyAgent();
  let killedBy = null;
  const { file } = await onLoopback('write-after-peer-close-sigpipe', [port], async (file) => {
    client.add((await py.cmd('sigpipe-default')).ev);
    await py.cmd('bind');
    client.add((await py.cmd(`connect ${LO} ${port}`)).ev);
    const r0 = await py.cmd('recv');
    client.add(r0.errno ? `recv error ${r0.errno}` : `recv returned ${r0.n} (EOF)`);
    const s1 = await py.cmd('send 5');
    client.add(s1.errno ? `send error ${s1.errno}` : `send ${s1.n} ok`);
    await waitForWire(file, hasRst, { what: 'RST' });
    py.send('send 5');
    await py.exited;
    const [code, sig] = [py.proc.exitCode, py.proc.signalCode];
    killedBy = sig;
    client.add(sig ? `second send: process killed by ${sig}` : `second send: process exited ${code}`);
    if (sig) client.errno = 'EPIPE';
  });
  srv.close();
  checkBug(file);
  return {
    description: 'Bug variant with a python3 client using the default SIGPIPE action: EOF read, write accepted, server RST, and the next send() kills the client with SIGPIPE.',
    roles: rolesFromCapture(file),
    expect: [{ rule: 'write-after-peer-close', actor: 'server', frame: tsharkFrames(file, 'tcp.flags.reset==1')[0], evidence: { variant: 'bug' } }],
    mustNotFire: except('write-after-peer-close'),
    app: { client: { ...client.toJSON(), ...(killedBy ? { signal: killedBy } : {}) }, server: server.toJSON() },
  };
};

S['rst-with-unread-data'] = async () => {
  const client = new AppLog();
  const server = new AppLog();
  const N = 5000;
  let ssock;
  const srv = net.createServer({ pauseOnConnect: true }, (s) => { server.add('accept (never reads)'); ssock = s; srv.emit('acc'); });
  const accepted = once(srv, 'acc');
  const port = await listen(srv);
  const { file } = await onLoopback('rst-with-unread-data', [port], async (file) => {
    const c = net.connect(port, LO);
    c.on('connect', () => client.add('connect ok'));
    track(c, client);
    await accepted;
    const r = await write(c, Buffer.alloc(N, 0x62));
    client.add(r.ok ? `write ${N} ok` : `write error ${r.code}`);
    await waitForWire(file, (pk) => {
      const syn = pk.find((p) => p.syn && !p.ackf);
      return syn && pk.some((p) => p.sport === port && p.ack === ((syn.seq + 1 + N) >>> 0));
    }, { what: 'server ACK of all data' });
    ssock.on('error', (e) => server.err('socket', e));
    ssock.destroy();
    server.add(`close with ${N} bytes unread`);
    await once(c, 'close');
    await waitForWire(file, hasRst);
  });
  srv.close();
  return {
    description: 'Server receives 5000 bytes it never reads and closes: Linux sends RST/ACK instead of FIN and the client gets ECONNRESET.',
    roles: rolesFromCapture(file),
    expect: [{ rule: 'rst-with-unread-data', actor: 'server', frame: tsharkFrames(file, 'tcp.flags.reset==1')[0], evidence: { unreadBytes: N } }],
    mustNotFire: except('rst-with-unread-data'),
    app: { client: client.toJSON(), server: server.toJSON() },
  };
};

S['abortive-close'] = async () => {
  const client = new AppLog();
  const server = new AppLog();
  let ssock;
  let got = 0;
  const srv = net.createServer({ pauseOnConnect: true }, (s) => { server.add('accept (paused)'); ssock = s; srv.emit('acc'); });
  const port = await listen(srv);
  let pending = 0;
  const { file } = await onLoopback('abortive-close', [port], async (file) => {
    const c = net.connect(port, LO);
    c.on('connect', () => client.add('connect ok'));
    track(c, client);
    await once(srv, 'acc');
    c.write(Buffer.alloc(2 * 1024 * 1024, 0x63));
    client.add('write 2097152 bytes (queued)');
    await waitForWire(file, (pk) => pk.some((p) => p.sport === port && p.win === 0 && !p.syn), { what: 'zero window' });
    pending = c.writableLength;
    c.resetAndDestroy();
    client.add(`resetAndDestroy (SO_LINGER 0 close) while the peer window is 0 and unsent data sits in the kernel send buffer (writableLength ${pending})`);
    await waitForWire(file, hasRst);
    ssock.on('data', (d) => { got += d.length; });
    // observed: Node reports 'end', not ECONNRESET: libuv turns POLLHUP after a partial read into EOF
    // (uv__stream_io); a python3 recv() loop on the same kernel gets the data, then ECONNRESET.
    ssock.on('end', () => server.add(`read ${got} bytes, then read end (EOF, no error)`));
    ssock.on('error', (e) => { server.add(`read ${got} bytes`); server.err('socket', e); });
    ssock.resume();
    await once(ssock, 'close');
    server.add('close');
  });
  srv.close();
  return {
    description: 'Client fills the window of a server that is not reading, then closes with SO_LINGER 0 (resetAndDestroy): RST with unsent data pending, no FIN.',
    roles: rolesFromCapture(file),
    expect: [{ rule: 'abortive-close', actor: 'client', frame: tsharkFrames(file, 'tcp.flags.reset==1')[0], evidence: { finSent: false } }],
    mustNotFire: except('abortive-close'),
    app: { client: client.toJSON(), server: server.toJSON() },
  };
};

/** python client with keep-alive 1s/1s, Node server; `end` decides reset or normal close after 3 answered probes */
async function keepalive(name, reset) {
  const py = new PyAgent();
  const client = new AppLog();
  const server = new AppLog();
  let ssock;
  const srv = net.createServer({ allowHalfOpen: true }, (s) => { server.add('accept'); ssock = s; srv.emit('acc'); });
  const port = await listen(srv);
  const { file } = await onLoopback(name, [port], async (file) => {
    await py.cmd('bind');
    client.add('setsockopt SO_KEEPALIVE, TCP_KEEPIDLE 1, TCP_KEEPINTVL 1, TCP_KEEPCNT 5');
    await py.cmd('keepalive 1 1 5');
    const acc = once(srv, 'acc');
    client.add((await py.cmd(`connect ${LO} ${port}`)).ev);
    await acc;
    const got = once(ssock, 'data');
    client.add(`send ${(await py.cmd('send 64')).n}`);
    await got;
    server.add('read 64 bytes');
    const probesAnswered = (pk) => {
      markProbes(pk);
      const probes = pk.filter((p) => p.probe && p.dport === port);
      return probes.length >= 3 && pk.some((q) => q.frame > probes[2].frame && q.sport === port);
    };
    await waitForWire(file, probesAnswered, { what: '3 answered keep-alive probes', timeoutMs: 15000 });
    client.add('idle; 3 keep-alive probes answered');
    if (reset) {
      ssock.on('error', (e) => server.err('socket', e));
      ssock.resetAndDestroy();
      server.add('idle timeout: resetAndDestroy (SO_LINGER 0)');
      const r = await py.cmd('recv');
      if (r.errno) { client.errno = r.errno; client.add(`recv error ${r.errno}`); } else client.add(`recv ${r.n}`);
      await py.cmd('close');
      client.add('close');
    } else {
      const ended = once(ssock, 'end');
      client.add((await py.cmd('close')).ev);
      await ended;
      server.add('read end (FIN)');
      ssock.end();
      server.add('close');
      await once(ssock, 'close');
      await waitForWire(file, closedBothWays);
    }
    await py.quit();
  });
  srv.close();
  const probes = tsharkFrames(file, 'tcp.analysis.keep_alive');
  return { file, client, server, probes };
}

S['keepalive-reset'] = async () => {
  const { file, client, server, probes } = await keepalive('keepalive-reset', true);
  const rst = tsharkFrames(file, 'tcp.flags.reset==1')[0];
  return {
    description: 'Idle connection with client keep-alive probes answered three times, then the server aborts it (idle-timeout style SO_LINGER 0 close): RST, client recv gets ECONNRESET.',
    roles: rolesFromCapture(file),
    expect: [{ rule: 'keepalive-reset', actor: 'server', frame: rst, evidence: { probes: probes.filter((f) => f < rst).length } }],
    mustNotFire: except('keepalive-reset', 'abortive-close'),
    app: { client: client.toJSON(), server: server.toJSON() },
    notes: 'abortive-close is left out of mustNotFire: an idle-timeout RST is also an abortive close; whether both rules report it is the lead\'s choice.',
  };
};

S['keepalive-normal'] = async () => {
  const { file, client, server } = await keepalive('keepalive-normal', false);
  return {
    description: 'Negative control: keep-alive probes answered on an idle connection that then closes normally with FINs.',
    roles: rolesFromCapture(file),
    expect: [],
    mustNotFire: [...except()],
    noProblems: true,
    app: { client: client.toJSON(), server: server.toJSON() },
  };
};

/** live loopback connection, forged RST from the server's address into the client */
async function forged(name, exact) {
  const client = new AppLog();
  const server = new AppLog();
  let ssock;
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    server.add('accept'); ssock = s;
    s.on('data', (d) => { server.add(`read ${d.length}`); s.write(d); });
    s.on('error', (e) => server.err('socket', e));
    s.on('end', () => { server.add('read end (FIN)'); s.end(); server.add('close'); });
    srv.emit('acc');
  });
  const port = await listen(srv);
  let injFrame;
  const { file } = await onLoopback(name, [port], async (file) => {
    const c = net.connect({ port, host: LO, allowHalfOpen: true });
    c.on('connect', () => client.add('connect ok'));
    c.on('data', () => {});
    c.on('error', (e) => client.err('socket', e));
    c.on('end', () => client.add('read end (FIN)'));
    c.on('close', () => client.add('close'));
    await once(srv, 'acc');
    c.write('hello');
    await once(c, 'data');
    client.add('write 5, read echo 5');
    const pk = await waitForWire(file, (pk) => pk.filter((p) => p.len > 0).length >= 2 && pk.at(-1).len === 0 && pk.at(-1).dport === port);
    const sEp = `${LO}:${port}`, cEp = `${LO}:${c.localPort}`;
    const sNext = nextSeq(pk, sEp), cNext = nextSeq(pk, cEp);
    const lastId = from(pk, sEp).at(-1).ipId;
    const seq = exact ? sNext : (sNext + 1000) >>> 0;
    const ipid = (lastId + 0x7919) & 0xffff;
    const before = pk.length;
    const cClosed = once(c, 'close');
    const inj = spawn('python3', [path.join(path.dirname(new URL(import.meta.url).pathname), 'inject.py'),
      LO, String(port), LO, String(c.localPort), String(seq), String(cNext), '128', String(ipid), 'RA'], { stdio: ['ignore', 'ignore', 'inherit'] });
    await once(inj, 'exit');
    const after = await waitForWire(file, (p) => p.length > before && p.some((q) => q.rst));
    injFrame = after.find((q) => q.rst).frame;
    if (!exact) {
      await waitForWire(file, (p) => p.some((q) => q.frame > injFrame && q.sport === c.localPort && q.len === 0 && !q.rst), { what: 'challenge ACK' });
      client.add('forged in-window RST ignored (challenge ACK sent)');
      c.write('still alive');
      await once(c, 'data');
      client.add('write 11, read echo 11');
      const closed = once(c, 'close');
      c.end();
      client.add('shutdown (end)');
      await closed;
      await waitForWire(file, closedBothWays);
    } else {
      await cClosed;
      const sClosed = once(ssock, 'close');
      ssock.write('ping');
      server.add('write 4 ok (peer state already gone)');
      await waitForWire(file, (p) => p.filter((q) => q.rst).length >= 2, { what: 'second RST' });
      await sClosed;
    }
  });
  srv.close();
  return { file, client, server, injFrame };
}

S['rst-suspicious'] = async () => {
  const { file, client, server, injFrame } = await forged('rst-suspicious', false);
  return {
    description: 'A forged RST (TTL 128 vs 64, IP ID out of series, no timestamp option, seq in window but 1000 past rcv_nxt) is injected into a live loopback connection; Linux answers with a challenge ACK (RFC 5961 3.2) and the connection later closes normally.',
    roles: rolesFromCapture(file),
    expect: [{ rule: 'rst-suspicious', actor: 'server', frame: injFrame, evidence: { survived: true, challengeAck: true } }],
    mustNotFire: except('rst-suspicious'),
    app: { client: client.toJSON(), server: server.toJSON() },
  };
};

S['rst-suspicious-exact'] = async () => {
  const { file, client, server, injFrame } = await forged('rst-suspicious-exact', true);
  const rsts = tsharkFrames(file, 'tcp.flags.reset==1');
  return {
    description: 'A forged RST with the exact expected sequence number (TTL 128, IP ID out of series, no timestamp) kills the client side; the server, still established, writes and the client kernel answers with a stateless RST.',
    roles: rolesFromCapture(file),
    expect: [
      { rule: 'rst-suspicious', actor: 'server', frame: injFrame, evidence: { survived: false } },
      { rule: 'half-open', actor: 'client', frame: rsts.find((f) => f > injFrame), evidence: {} },
    ],
    mustNotFire: except('rst-suspicious', 'half-open', 'write-after-peer-close'),
    app: { client: client.toJSON(), server: server.toJSON() },
    notes: 'The second RST answers server data sent to a socket the forged RST destroyed: half-open is expected; write-after-peer-close is not listed either way (no FIN was involved, it should not fire, but that is a judgement for the rule).',
  };
};

S['half-close'] = async () => {
  const client = new AppLog();
  const server = new AppLog();
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    server.add('accept');
    let n = 0;
    s.on('data', (d) => { n += d.length; });
    s.on('end', async () => {
      server.add(`read ${n} then end (FIN)`);
      for (let i = 0; i < 3; i++) { const r = await write(s, Buffer.alloc(3000, 0x64)); server.add(r.ok ? 'write 3000 ok' : `write error ${r.code}`); }
      s.end();
      server.add('close');
    });
  });
  const port = await listen(srv);
  const { file } = await onLoopback('half-close', [port], async (file) => {
    const c = net.connect({ port, host: LO, allowHalfOpen: true });
    c.on('connect', () => client.add('connect ok'));
    track(c, client);
    await once(c, 'connect');
    c.write(Buffer.alloc(100, 0x71));
    c.end();
    client.add('write 100, shutdown(SHUT_WR) via end()');
    await once(c, 'close');
    await waitForWire(file, closedBothWays);
  });
  srv.close();
  return {
    description: 'Legitimate half-close: the client sends a request and shutdown(SHUT_WR); the server keeps sending 9000 bytes that the client reads and acknowledges, then closes; normal teardown.',
    roles: rolesFromCapture(file),
    expect: [{ rule: 'half-close', actor: 'client', frame: tsharkFrames(file, 'tcp.flags.fin==1')[0], evidence: {} }],
    mustNotFire: except('half-close'),
    noProblems: true,
    app: { client: client.toJSON(), server: server.toJSON() },
  };
};

S['normal-close'] = async () => {
  const client = new AppLog();
  const server = new AppLog();
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    server.add('accept');
    s.on('data', (d) => { server.add(`read ${d.length}, write ${d.length}`); s.write(d); });
    s.on('end', () => { server.add('read end (FIN)'); s.end(); server.add('close'); });
  });
  const port = await listen(srv);
  const { file } = await onLoopback('normal-close', [port], async (file) => {
    const c = net.connect({ port, host: LO, allowHalfOpen: true });
    c.on('connect', () => client.add('connect ok'));
    track(c, client);
    c.write('ping');
    await once(c, 'data');
    client.add('write 4, read 4');
    c.end();
    client.add('close (end)');
    await once(c, 'close');
    await waitForWire(file, closedBothWays);
  });
  srv.close();
  return {
    description: 'Negative control: request, response, client FIN, server FIN, both acknowledged.',
    roles: rolesFromCapture(file), expect: [], mustNotFire: except(), noProblems: true,
    app: { client: client.toJSON(), server: server.toJSON() },
  };
};

S['port-reuse'] = async () => {
  const client = new AppLog();
  const server = new AppLog();
  const srv = net.createServer({ allowHalfOpen: true }, (s) => {
    server.add('accept');
    s.on('data', (d) => { server.add(`read ${d.length}, close first`); s.end(); });
    s.on('end', () => server.add('read end (FIN)'));
    s.on('close', () => { server.add('closed (TIME_WAIT on server side)'); });
  });
  const port = await listen(srv);
  const localPort = await freePort();
  const { file } = await onLoopback('port-reuse', [port], async (file) => {
    for (let round = 1; round <= 2; round++) {
      const c = net.connect({ port, host: LO, localAddress: LO, localPort, allowHalfOpen: true });
      c.on('connect', () => client.add(`connect ok from port ${c.localPort}`));
      c.on('error', (e) => client.err('socket', e));
      c.on('end', () => { client.add('read end (FIN)'); c.end(); client.add('close'); });
      await once(c, 'connect');
      c.write('q' + round);
      await once(c, 'close');
      await waitForWire(file, (pk) => closedBothWays(pk.filter((p) => p.frame > 0)) && pk.filter((p) => p.fin).length >= 2 * round);
    }
  });
  srv.close();
  return {
    description: 'Negative control: the same client port connects twice to the same server; the server closed first each time, so the second SYN hits the server TIME_WAIT, which Linux accepts (new ISN); both close normally.',
    roles: rolesFromCapture(file), expect: [], mustNotFire: except(), noProblems: true,
    app: { client: client.toJSON(), server: server.toJSON() },
  };
};

S['zero-window'] = async () => {
  const client = new AppLog();
  const server = new AppLog();
  let ssock;
  const srv = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (s) => { server.add('accept (not reading)'); ssock = s; srv.emit('acc'); });
  const port = await listen(srv);
  const N = 1024 * 1024;
  const { file } = await onLoopback('zero-window', [port], async (file) => {
    const c = net.connect({ port, host: LO, allowHalfOpen: true });
    c.on('connect', () => client.add('connect ok'));
    track(c, client);
    await once(srv, 'acc');
    const wrote = write(c, Buffer.alloc(N, 0x7a));
    await waitForWire(file, (pk) => {
      markProbes(pk);
      const z = pk.find((p) => p.sport === port && p.win === 0 && !p.syn);
      return z && pk.filter((p) => p.frame > z.frame && p.probe && p.dport === port).length >= 2;
    }, { what: 'two zero-window probes' });
    server.add('window 0, two zero-window probes seen; resume reading');
    let got = 0;
    ssock.on('data', (d) => { got += d.length; });
    ssock.on('end', () => { server.add(`read ${got} bytes, then end (FIN)`); ssock.end(); server.add('close'); });
    ssock.resume();
    const r = await wrote;
    client.add(r.ok ? `write ${N} ok` : `write error ${r.code}`);
    c.end();
    client.add('close (end)');
    await once(c, 'close');
    await waitForWire(file, closedBothWays);
  });
  srv.close();
  return {
    description: 'Negative control: receiver stops reading until its window is 0, the sender sends zero-window probes (seq = snd_una - 1, like keep-alives), the receiver resumes and the connection closes normally.',
    roles: rolesFromCapture(file), expect: [], mustNotFire: except(), noProblems: true,
    app: { client: client.toJSON(), server: server.toJSON() },
  };
};

// ---------- namespace scenarios (wire.py delay/drop) ----------
async function inNetns(name, tag, delayMs, body, { captureOn = 'client' } = {}) {
  const w = await makeWire(tag);
  await w.ctl(`delay a2b ${delayMs}`);
  await w.ctl(`delay b2a ${delayMs}`);
  const A = new NodeAgent(w.A), B = new NodeAgent(w.B);
  const file = capFile(name);
  let cap;
  try {
    cap = await startCapture({ file, iface: 'tw0', netns: captureOn === 'server' ? w.B : w.A, filter: 'tcp' });
    await body({ A, B, w, file });
  } finally {
    if (cap) await stopCapture(cap);
    await A.quit(); await B.quit();
    await w.close();
  }
  return { file, client: agentLog(A, new AppLog()), server: agentLog(B, new AppLog()) };
}
/** connect A -> B:port and wait for both ends */
async function establish(A, B) {
  B.cmd({ op: 'listen', host: NS_ADDR.server, port: 0 });
  const { port } = await B.wait('listening');
  A.cmd({ op: 'connect', host: NS_ADDR.server, port });
  await A.wait('connect');
  await B.wait('accept');
  return port;
}
const NS_NOTE = 'Recorded in two network namespaces joined by scripts/make-captures/wire.py (userspace delay/drop over TUN, since sch_netem is missing); tcpdump ran on tw0 in the client namespace, so server packets appear after the one-way delay.';

S['simultaneous-open'] = async () => {
  const PA = 40001, PB = 40002;
  const r = await inNetns('simultaneous-open', 'so', 200, async ({ A, B, file }) => {
    A.cmd({ op: 'connect', host: NS_ADDR.server, port: PB, localAddress: NS_ADDR.client, localPort: PA });
    B.cmd({ op: 'connect', host: NS_ADDR.client, port: PA, localAddress: NS_ADDR.server, localPort: PB });
    await A.wait('connect');
    await B.wait('connect');
    A.cmd({ op: 'write', n: 10 });
    await B.wait('data');
    A.cmd({ op: 'end' });
    await B.wait('end');
    B.cmd({ op: 'end' });
    await A.wait('close');
    await B.wait('close');
    await waitForWire(file, closedBothWays);
  });
  const syns = tsharkFrames(r.file, 'tcp.flags.syn==1 && tcp.flags.ack==0');
  const pkO = readPackets(r.file);
  check(syns.length === 2 && pkO.findIndex((p) => p.syn && p.ackf) > pkO.findIndex((p) => p.frame === syns[1]), 'SYNs did not cross');
  return {
    description: 'Simultaneous open: both namespaces connect() from fixed ports to each other; with 200 ms one-way delay the SYNs cross, both answer SYN-ACK, one connection results and closes normally.',
    roles: rolesFromCapture(r.file),
    expect: [{ rule: 'simultaneous-open', actor: 'server', frame: syns[1], evidence: {} }],
    mustNotFire: except('simultaneous-open'),
    app: { client: r.client.toJSON(), server: r.server.toJSON() },
    notes: NS_NOTE,
  };
};

S['self-connect'] = async () => {
  const port = await freePort();
  const client = new AppLog();
  const { file } = await onLoopback('self-connect', [port], async (file) => {
    // bind the port it connects to (what the kernel does by chance when it picks the destination port as the
    // ephemeral source): the SYN comes back to the same socket, which answers it as a simultaneous open
    const c = net.connect({ port, host: LO, localAddress: LO, localPort: port });
    const got = track(c, client);
    await once(c, 'connect');
    client.add(`connect ok (getsockname ${c.localAddress}:${c.localPort} = getpeername ${c.remoteAddress}:${c.remotePort})`);
    await write(c, Buffer.alloc(10, 0x61));
    client.add('write 10 ok');
    while (got() < 10) await once(c, 'data');
    client.add(`read ${got()} bytes: its own`);
    c.end();
    client.add('shutdown(SHUT_WR) via end()');
    await once(c, 'close');
    // its FIN comes back to it too and it acknowledges it: the last packet
    await waitForWire(file, (pk) => { const f = pk.find((p) => p.fin); return f !== undefined && pk.some((p) => p.frame > f.frame && p.ackf && p.ack === ((f.seq + 1) >>> 0)); });
  });
  const pk = readPackets(file);
  const syn = pk.find((p) => p.syn && !p.ackf);
  const synAck = pk.find((p) => p.syn && p.ackf);
  check(syn && synAck && synAck.seq === syn.seq, 'no SYN answered by a SYN/ACK with the same ISN');
  check(pk.every((p) => p.sport === port && p.dport === port), 'not every packet from the port to itself');
  return {
    description: 'Self-connect: a Node socket binds 127.0.0.1:P and connects to 127.0.0.1:P, where nothing listens. Its SYN comes back to it; Linux answers it as a simultaneous open (SYN/ACK with the same ISN, then ACK), connect() succeeds, the socket reads back its own 10 bytes, and closes.',
    roles: rolesFromCapture(file),
    // what the recording knows on its own (its packets, read without rstscope): the SYN, the SYN/ACK answering it
    expect: [{
      rule: 'self-connect', actor: 'orig', frame: synAck.frame, frames: [syn.frame, synAck.frame],
      evidence: { address: `${LO}:${port}`, synFrame: syn.frame, synAckFrame: synAck.frame },
    }],
    mustNotFire: except('self-connect'),
    app: { client: client.toJSON(), server: { events: ['none: the client connected to itself (one socket)'] } },
  };
};

S['synack-reset'] = async () => {
  const r = await inNetns('synack-reset', 'sr', 200, async ({ A, B, file }) => {
    B.cmd({ op: 'listen', host: NS_ADDR.server, port: 0 });
    const { port } = await B.wait('listening');
    A.cmd({ op: 'connect', host: NS_ADDR.server, port });
    // the client gives up before the SYN-ACK can be back (400 ms round trip): its socket is closed in SYN-SENT,
    // which sends nothing; the SYN-ACK then meets no socket and its kernel answers with a bare RST
    await waitForWire(file, (pk) => pk.some((p) => p.syn && !p.ackf));
    A.cmd({ op: 'destroy' });
    await A.wait('destroyed');
    await waitForWire(file, (pk) => pk.some((p) => p.rst));
  });
  const pk = readPackets(r.file);
  const syn = pk.find((p) => p.syn && !p.ackf);
  const synAck = pk.find((p) => p.syn && p.ackf);
  const rst = pk.find((p) => p.rst);
  check(syn && synAck && rst && !rst.ackf && rst.seq === synAck.ack && rst.frame > synAck.frame, 'not SYN, SYN-ACK, then a bare RST at the SYN-ACK\'s ack');
  check(!pk.some((p) => p.ackf && !p.syn && p.src === syn.src), 'the client acknowledged something');
  // SYN-ACK to RST in tenths of a second (tshark's times: the client's kernel answers at once)
  const times = tsharkFrames(r.file, 'tcp', 'frame.time_epoch').map(Number);
  const afterSec = Math.round((times[rst.frame - 1] - times[synAck.frame - 1]) * 10) / 10;
  return {
    description: 'Abandoned connect: the client connect()s through a 200 ms one-way delay and destroys the socket (close in SYN-SENT, nothing sent) right after its SYN left; the server\'s SYN-ACK arrives 400 ms later, meets no socket, and the client\'s kernel answers it with a bare RST at its ack. The server never accepts the connection.',
    roles: rolesFromCapture(r.file),
    // what the recording knows on its own (its packets, read without rstscope)
    expect: [{
      rule: 'synack-reset', actor: 'client', frame: rst.frame, frames: pk.filter((p) => p.frame <= rst.frame).map((p) => p.frame),
      evidence: { synFrame: syn.frame, synAckFrame: synAck.frame, rstFrame: rst.frame, afterSec, rstShape: 'socketless' },
    }],
    mustNotFire: except('synack-reset'),
    app: { client: r.client.toJSON(), server: { events: [...r.server.toJSON().events, 'listening; accept() never returned this connection'] } },
    notes: NS_NOTE,
  };
};

S['simultaneous-close'] = async () => {
  const r = await inNetns('simultaneous-close', 'sc', 200, async ({ A, B, file }) => {
    await establish(A, B);
    A.cmd({ op: 'write', n: 10 });
    await B.wait('data');
    A.cmd({ op: 'end' });
    B.cmd({ op: 'end' });
    await A.wait('close');
    await B.wait('close');
    await waitForWire(file, closedBothWays);
  });
  const fins = tsharkFrames(r.file, 'tcp.flags.fin==1');
  const pkC = readPackets(r.file);
  const [f1, f2] = fins.map((f) => pkC.find((p) => p.frame === f));
  check(fins.length === 2 && !covers(f2.ack, f1), 'FINs did not cross (second FIN acknowledges the first)');
  return {
    description: 'Simultaneous close: both sides shutdown/close within the 200 ms one-way delay, so the FINs cross (FIN_WAIT1 -> CLOSING on both sides).',
    roles: rolesFromCapture(r.file),
    expect: [{ rule: 'simultaneous-close', actor: 'server', frame: fins[1], evidence: {} }],
    mustNotFire: except('simultaneous-close'),
    noProblems: true,
    app: { client: r.client.toJSON(), server: r.server.toJSON() },
    notes: NS_NOTE,
  };
};

S['write-after-peer-close-race'] = async () => {
  const r = await inNetns('write-after-peer-close-race', 'wr', 200, async ({ A, B, file }) => {
    await establish(A, B);
    B.cmd({ op: 'destroy' });
    await B.wait('destroyed');
    A.cmd({ op: 'write', n: 100 });
    await A.wait('write');
    await waitForWire(file, hasRst, { what: 'RST' });
    const n = A.lines.length;
    A.cmd({ op: 'write', n: 100 });
    await A.wait('write', () => true, n).catch(() => null);
    await A.wait('close', () => true, 0);
  });
  const rst = tsharkFrames(r.file, 'tcp.flags.reset==1')[0];
  const pkR = readPackets(r.file);
  const finR = pkR.find((p) => p.fin);
  const dataR = pkR.find((p) => p.len > 0 && p.src === NS_ADDR.client);
  check(finR && dataR && !covers(dataR.ack, finR), 'client data acknowledged the FIN: no race');
  return {
    description: 'Race: the client writes while the server FIN is in flight (200 ms one-way delay), so its data does not acknowledge the FIN; the closed server answers with RST.',
    roles: rolesFromCapture(r.file),
    expect: [{ rule: 'write-after-peer-close', actor: 'server', frame: rst, evidence: { variant: 'race' } }],
    mustNotFire: except('write-after-peer-close'),
    app: { client: r.client.toJSON(), server: r.server.toJSON() },
    notes: NS_NOTE,
  };
};

S['write-after-peer-close-goodbye'] = async () => {
  // Issue 15, the goodbye variant: the client sends its last request and close()s at once without reading
  // (like an SMTP client's QUIT+FIN); the server reads it, sends its reply and close()s (its 221 + FIN). The
  // reply reaches the client's closed socket, whose kernel answers with RST, but the server had closed
  // already: no write of either side fails.
  const r = await inNetns('write-after-peer-close-goodbye', 'wg', 200, async ({ A, B, file }) => {
    await establish(A, B);
    A.cmd({ op: 'write', n: 10 });
    await A.wait('write');
    A.cmd({ op: 'destroy' });
    await B.wait('data');
    B.cmd({ op: 'write', n: 20 });
    await B.wait('write');
    B.cmd({ op: 'destroy' });
    await B.wait('close');
    // the server's FIN may reach the capture (client side) after the client's RST left: wait for both
    await waitForWire(file, (pk) => hasRst(pk) && pk.some((p) => p.fin && p.src === NS_ADDR.server), { what: 'RST and server FIN' });
  });
  const pkG = readPackets(r.file);
  const reply = pkG.find((p) => p.len > 0 && p.src === NS_ADDR.server);
  const rstG = pkG.find((p) => p.rst);
  // a kernel sends no FIN for a socket a RST has reset: the server's FIN proves it closed before the RST arrived
  check(reply && rstG && rstG.src === NS_ADDR.client && pkG.some((p) => p.fin && p.src === NS_ADDR.server), 'no client RST, or the server never closed');
  return {
    description: 'Goodbye: the client writes its last request and closes without reading; the server reads it, replies and closes (its FIN follows the reply); the client\'s closed socket answers the reply with RST, which reaches a server socket already closed: no application sees an error.',
    roles: rolesFromCapture(r.file),
    expect: [{ rule: 'write-after-peer-close', actor: 'client', frame: rstG.frame, evidence: { variant: 'goodbye' } }],
    mustNotFire: except('write-after-peer-close'),
    noProblems: true,
    app: { client: r.client.toJSON(), server: r.server.toJSON() },
    notes: NS_NOTE,
  };
};

S['simultaneous-close-goodbye'] = async () => {
  // Issue 15, one story per connection: both sides write a last message and close() at the same moment; with
  // 200 ms one-way delay the data and FINs cross, and each kernel answers the other's data (arriving after its
  // own close) with RST. One simultaneous close, told once, with one goodbye for both RSTs.
  const r = await inNetns('simultaneous-close-goodbye', 'sg', 200, async ({ A, B, file }) => {
    await establish(A, B);
    A.cmd({ op: 'write', n: 10 });
    B.cmd({ op: 'write', n: 20 });
    await A.wait('write');
    await B.wait('write');
    A.cmd({ op: 'destroy' });
    B.cmd({ op: 'destroy' });
    await A.wait('close');
    await B.wait('close');
    await waitForWire(file, (pk) => new Set(pk.filter((p) => p.rst).map((p) => p.src)).size === 2, { what: 'RSTs from both sides' });
  });
  const fins = tsharkFrames(r.file, 'tcp.flags.fin==1');
  const pkS = readPackets(r.file);
  const [f1, f2] = fins.map((f) => pkS.find((p) => p.frame === f));
  check(fins.length === 2 && !covers(f2.ack, f1), 'FINs did not cross (second FIN acknowledges the first)');
  const rsts = pkS.filter((p) => p.rst);
  check(new Set(rsts.map((p) => p.src)).size === 2, 'not both sides reset');
  return {
    description: 'Simultaneous close with a last message each way: both sides write and close within the 200 ms one-way delay, so data and FINs cross; each kernel answers the other\'s data with RST. One close story: simultaneous-close plus one goodbye for both RSTs.',
    roles: rolesFromCapture(r.file),
    expect: [
      { rule: 'simultaneous-close', actor: 'server', frame: fins[1], evidence: {} },
      { rule: 'write-after-peer-close', actor: 'client', frame: rsts[0].frame, evidence: { variant: 'goodbye' } },
    ],
    mustNotFire: except('simultaneous-close', 'write-after-peer-close'),
    noProblems: true,
    app: { client: r.client.toJSON(), server: r.server.toJSON() },
    notes: NS_NOTE,
  };
};

S['half-open'] = async () => {
  let dropped;
  const r = await inNetns('half-open', 'ho', 0, async ({ A, B, w, file }) => {
    await establish(A, B);
    A.cmd({ op: 'write', n: 10 });
    await B.wait('data');
    await w.ctl('drop b2a 1');
    B.cmd({ op: 'reset' });
    await B.wait('reset-sent');
    dropped = await w.ctl('drop b2a 0');
    check(/dropped=\d+\/[1-9]/.test(dropped), 'the server RST was not dropped: ' + dropped);
    A.cmd({ op: 'write', n: 20 });
    await A.wait('close');
    await waitForWire(file, hasRst);
  });
  return {
    description: 'Half-open: the server socket vanishes silently (its SO_LINGER 0 RST is dropped by the wire), then the client writes and the server kernel, with no socket, answers with a bare RST (seq = the data\'s ack).',
    roles: rolesFromCapture(r.file),
    expect: [{ rule: 'half-open', actor: 'server', frame: tsharkFrames(r.file, 'tcp.flags.reset==1')[0], evidence: {} }],
    mustNotFire: except('half-open'),
    app: { client: r.client.toJSON(), server: r.server.toJSON() },
    notes: NS_NOTE + ` Wire report after un-blocking: "${dropped}".`,
  };
};

S['stale-connection'] = async () => {
  const PA = 40021;
  let dropped;
  const r = await inNetns('stale-connection', 'st', 0, async ({ A, B, w, file }) => {
    B.cmd({ op: 'listen', host: NS_ADDR.server, port: 0 });
    const { port } = await B.wait('listening');
    const connectA = () => A.cmd({ op: 'connect', host: NS_ADDR.server, port, localAddress: NS_ADDR.client, localPort: PA });
    connectA();
    await A.wait('connect');
    await B.wait('accept');
    A.cmd({ op: 'write', n: 10 });
    await B.wait('data');
    // the client's socket goes away and the server never learns it: its SO_LINGER 0 RST is dropped
    await w.ctl('drop a2b 1');
    A.cmd({ op: 'reset' });
    await A.wait('close');
    await new Promise((res) => setTimeout(res, 300));
    dropped = await w.ctl('drop a2b 0');
    check(/dropped=[1-9]\d*\//.test(dropped), 'the client RST was not dropped: ' + dropped);
    // a new connection from the same port: the server's old connection answers the SYN
    const markA = A.lines.length, markB = B.lines.length;
    connectA();
    await A.wait('connect', () => true, markA, 10000);
    await B.wait('accept', () => true, markB, 10000);
    await B.wait('error', () => true, markB, 10000); // the old socket, reset by the client's SYN-SENT RST
    A.cmd({ op: 'write', n: 20 });
    await B.wait('data', () => true, markB);
    A.cmd({ op: 'end' });
    await B.wait('end', () => true, markB);
    B.cmd({ op: 'end' });
    await A.wait('close', () => true, markA);
    await waitForWire(file, closedBothWays);
  }, { captureOn: 'server' });
  const pk = readPackets(r.file);
  const synsFromA = pk.filter((p) => p.syn && !p.ackf);
  const rsts = pk.filter((p) => p.rst);
  check(rsts.length === 1 && synsFromA.length === 3 && synsFromA[1].seq === synsFromA[2].seq, 'not SYN, stale ACK, RST, the same SYN again');
  return {
    description: 'Stale connection on the server: the client\'s first connection ends with an SO_LINGER 0 RST that the wire drops, so the server keeps it ESTABLISHED. A new connect() from the same port: the server\'s old connection answers the SYN with an ACK (RFC 5961 4.2 challenge ACK, ack = the old connection\'s sequence), the client\'s SYN-SENT socket answers that ACK with a bare RST at its ack, which resets the old connection (the server application gets ECONNRESET), and the SYN retransmitted 1 s later (same ISN) connects.',
    roles: rolesFromCapture(r.file),
    expect: [{ rule: 'stale-connection', actor: 'server', frame: rsts[0].frame, evidence: {} }],
    mustNotFire: except('stale-connection'),
    app: { client: r.client.toJSON(), server: r.server.toJSON() },
    notes: NS_NOTE.replace('tcpdump ran on tw0 in the client namespace, so server packets appear after the one-way delay', 'tcpdump ran on tw0 in the server namespace (the client RST the wire dropped is not in the capture)') + ` Wire report after un-blocking: "${dropped}".`,
  };
};

// ---------- main ----------
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length ? wanted : Object.keys(S).filter((k) => !k.startsWith('_'));
let failed = 0;
for (const name of names) {
  if (!S[name]) { console.error(`unknown scenario ${name}; known: ${Object.keys(S).join(' ')}`); failed++; continue; }
  try {
    const exp = await S[name]();
    exp.script = SCRIPT;
    writeExpected(name, exp);
    console.log(`${name}: ${frameCount(capFile(name))} frames, expect ${exp.expect.map((e) => `${e.rule}@${e.frame}`).join(',') || '-'}; client ${JSON.stringify(exp.app.client.events)}`);
  } catch (e) {
    failed++;
    console.error(`${name}: FAILED ${e.stack}`);
  }
}
process.exitCode = failed ? 1 : 0;
