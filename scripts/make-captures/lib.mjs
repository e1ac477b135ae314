// Shared machinery for the capture scripts: tcpdump start/stop, a tiny pcap
// reader used to await on-the-wire events (never sleeps as synchronisation),
// tshark look-ups for the expected frame numbers, and the expectation writer.
//
// Guarantees: startCapture resolves only after tcpdump printed its
// "listening on" line; stopCapture sends SIGINT and resolves when tcpdump has
// exited. waitForWire re-reads the capture file whenever it changes (tcpdump
// runs with -U --immediate-mode, so each packet is written as it arrives) and
// resolves when the predicate holds over the decoded packets.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const CAPDIR = path.join(ROOT, 'captures');

/** Run a command (optionally inside a netns) and return stdout. */
export function sh(cmd, args, netns) {
  const full = netns ? ['ip', ['netns', 'exec', netns, cmd, ...args]] : [cmd, args];
  return execFileSync(full[0], full[1], { encoding: 'utf8' });
}

export function startCapture({ file, iface = 'lo', filter, netns }) {
  fs.rmSync(file, { force: true });
  const args = ['-i', iface, '-s', '256', '-U', '--immediate-mode', '-n', '-w', file, filter];
  const [cmd, argv] = netns ? ['ip', ['netns', 'exec', netns, 'tcpdump', ...args]] : ['tcpdump', args];
  const proc = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise((res) => proc.on('exit', (code, sig) => res({ code, sig, stderr })));
  return new Promise((resolve, reject) => {
    proc.stderr.on('data', (d) => {
      stderr += d.toString();
      if (stderr.includes('listening on')) resolve({ proc, file, exited });
    });
    proc.on('exit', () => reject(new Error('tcpdump exited early: ' + stderr)));
  });
}

export async function stopCapture(cap) {
  cap.proc.kill('SIGINT');
  const r = await cap.exited;
  const m = /(\d+) packets? captured/.exec(r.stderr);
  return { captured: m ? Number(m[1]) : null, dropped: /(\d+) packets? dropped by kernel/.exec(r.stderr)?.[1] };
}

/** Decode a pcap file (linktype EN10MB=1 or RAW=101/12) into simple TCP records. */
export function readPackets(file) {
  let buf;
  try { buf = fs.readFileSync(file); } catch { return []; }
  if (buf.length < 24) return [];
  const le = buf.readUInt32LE(0) === 0xa1b2c3d4 || buf.readUInt32LE(0) === 0xa1b23c4d;
  const u32 = (o) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linktype = u32(20);
  const out = [];
  let off = 24;
  let frame = 0;
  while (off + 16 <= buf.length) {
    const incl = u32(off + 8);
    if (off + 16 + incl > buf.length) break;
    frame++;
    let p = off + 16;
    const end = p + incl;
    if (linktype === 1) p += 14;
    off = end;
    if ((buf[p] >> 4) !== 4) continue;
    const ihl = (buf[p] & 15) * 4;
    const totLen = buf.readUInt16BE(p + 2);
    if (buf[p + 9] !== 6) continue;
    const ipId = buf.readUInt16BE(p + 4);
    const ttl = buf[p + 8];
    const src = `${buf[p + 12]}.${buf[p + 13]}.${buf[p + 14]}.${buf[p + 15]}`;
    const dst = `${buf[p + 16]}.${buf[p + 17]}.${buf[p + 18]}.${buf[p + 19]}`;
    const t = p + ihl;
    const doff = (buf[t + 12] >> 4) * 4;
    const fl = buf[t + 13];
    out.push({
      frame, src, dst, ttl, ipId,
      sport: buf.readUInt16BE(t), dport: buf.readUInt16BE(t + 2),
      seq: buf.readUInt32BE(t + 4), ack: buf.readUInt32BE(t + 8),
      fin: !!(fl & 1), syn: !!(fl & 2), rst: !!(fl & 4), psh: !!(fl & 8), ackf: !!(fl & 16),
      win: buf.readUInt16BE(t + 14),
      len: totLen - ihl - doff,
    });
  }
  return out;
}

/** Resolve when pred(packets) is true; re-evaluated on every change of the capture file. */
export function waitForWire(file, pred, { timeoutMs = 30000, what = 'wire condition' } = {}) {
  return new Promise((resolve, reject) => {
    let done = false;
    const check = () => {
      if (done) return;
      const pk = readPackets(file);
      const r = pred(pk);
      if (r) { done = true; watcher.close(); clearTimeout(timer); resolve(r === true ? pk : r); }
    };
    const watcher = fs.watch(file, check);
    const timer = setTimeout(() => { done = true; watcher.close(); reject(new Error('timeout waiting for ' + what)); }, timeoutMs);
    check();
  });
}

/** Promise for the next `ev` event of an emitter. */
export const once = (em, ev, timeoutMs = 30000) => new Promise((res, rej) => {
  const t = setTimeout(() => rej(new Error(`timeout waiting for '${ev}' event`)), timeoutMs);
  em.once(ev, (...a) => { clearTimeout(t); res(a[0]); });
});

export function tsharkFrames(file, display, field = 'frame.number') {
  const out = execFileSync('tshark', ['-r', file, '-o', 'tcp.relative_sequence_numbers:FALSE', '-Y', display, '-T', 'fields', '-e', field], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter(Boolean).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** client = sender of the first SYN without ACK (tshark), server = its destination. */
export function rolesFromCapture(file) {
  const line = execFileSync('tshark', ['-r', file, '-Y', 'tcp.flags.syn==1 && tcp.flags.ack==0', '-T', 'fields', '-e', 'ip.src', '-e', 'tcp.srcport', '-e', 'ip.dst', '-e', 'tcp.dstport', '-c', '1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  const [cs, cp, ss, sp] = line.split('\t');
  return { client: `${cs}:${cp}`, server: `${ss}:${sp}` };
}

export function frameCount(file) {
  return tsharkFrames(file, 'frame').length;
}

export function writeExpected(name, obj) {
  const file = path.join(CAPDIR, name + '.expected.json');
  const full = {
    capture: name + '.pcap',
    description: obj.description,
    script: obj.script,
    recorded: { kernel: os.release(), date: new Date().toISOString() },
    roles: obj.roles,
    expect: obj.expect ?? [],
    mustNotFire: obj.mustNotFire ?? [],
    noProblems: obj.noProblems ?? false,
    app: obj.app,
    ...(obj.notes ? { notes: obj.notes } : {}),
  };
  fs.writeFileSync(file, JSON.stringify(full, null, 2) + '\n');
  return full;
}

/** An event log for one application side. */
export class AppLog {
  constructor() { this.events = []; this.errno = undefined; }
  add(e) { this.events.push(e); }
  err(prefix, e) { this.events.push(`${prefix} error ${e.code ?? e.message}`); if (this.errno === undefined && e.code) this.errno = e.code; }
  toJSON() { return this.errno ? { events: this.events, errno: this.errno } : { events: this.events }; }
}

export const ALL_RULES = ['refused', 'syn-unanswered', 'write-after-peer-close', 'rst-with-unread-data', 'abortive-close',
  'half-open', 'synack-reset', 'simultaneous-open', 'self-connect', 'simultaneous-close', 'keepalive-reset', 'rst-suspicious', 'half-close', 'stale-connection'];
export const except = (...ids) => ALL_RULES.filter((r) => !ids.includes(r));

/** Keep-alive / zero-window probe test: a zero-length (or 1-byte) segment whose seq is one below what the sender already sent. */
export function markProbes(pk) {
  const next = new Map();
  for (const p of pk) {
    const k = `${p.src}:${p.sport}`;
    const n = next.get(k);
    const segEnd = (p.seq + p.len + (p.syn ? 1 : 0) + (p.fin ? 1 : 0)) >>> 0;
    p.probe = n !== undefined && !p.syn && !p.rst && p.len <= 1 && ((p.seq + 1) >>> 0) === n;
    if (n === undefined || ((segEnd - n) | 0) > 0) next.set(k, segEnd);
  }
  return pk;
}
