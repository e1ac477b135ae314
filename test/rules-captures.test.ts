/**
 * Every rule against the real loopback captures in captures/ (recorded by
 * scripts/make-captures with real sockets). NAME.expected.json lists every
 * finding the capture must give, exactly: the findings are the expected list
 * (no duplicate, no extra finding of a rule goes unseen), each with its key
 * frame, its frame list and its whole evidence (byte counts such as
 * bytesAfterFin/unreadBytes are the bytes the recorded applications wrote, see
 * app.*.events). Every frame the evidence names is checked against tshark's
 * reading of the capture (a finFrame carries FIN, a firstDataFrame payload...;
 * a subtest that needs tshark, test/requires.ts).
 * The findings' application view must name the errno an application really got,
 * and must not claim an error where the application saw none, except for the
 * listed, explained `knownWrong` entries (which fail once they are fixed).
 * Runs the built CLI.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RULES } from '../src/rules/registry.js';
import { CAPTURES, runCli } from './helpers.js';
import { requires } from './requires.js';

interface Expected {
  capture: string;
  roles?: { client: string; server: string };
  expect: {
    rule: string; actor: string; frame: number; frames: number[]; evidence: Record<string, unknown>;
    /** an evidence byte count that must equal the bytes of these recorded application events (their numbers summed) */
    bytesFromApp?: { evidence: string; role: string; events: string[] }[];
  }[];
  mustNotFire?: string[];
  noProblems?: boolean;
  app?: Record<string, { errno?: string; events?: string[] }>;
  /** a finding's application view known to contradict the recording, with why; the test fails once it is fixed */
  knownWrong?: { rule: string; role: string; claims: string; note: string }[];
}

interface FindingJson {
  rule: string; severity: string; frame: number; frames: number[]; actor: string; evidence: Record<string, unknown>;
  app: { orig?: string; resp?: string }; summary: string; connection: number;
}

/** an error an application could be told it got */
const ERROR_CLAIM = /\b(ECONNRESET|EPIPE|ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|SIGPIPE)\b/g;

interface WireFrame { flags: number; len: number }
const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;

/** tshark's reading of every frame: TCP flags and payload length */
function tsharkTcp(file: string): Map<number, WireFrame> {
  const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=|', '-e', 'frame.number', '-e', 'tcp.flags', '-e', 'tcp.len'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const m = new Map<number, WireFrame>();
  for (const l of out.split('\n')) {
    if (!l) continue;
    const [n, fl, len] = l.split('|');
    m.set(Number(n), { flags: Number(fl), len: Number(len) });
  }
  return m;
}

/** What the wire must show at a frame the evidence names (by the evidence key). */
const FRAME_KINDS: Record<string, [string, (w: WireFrame) => boolean]> = {
  finFrame: ['FIN', (w) => (w.flags & FIN) !== 0],
  firstFinFrame: ['FIN', (w) => (w.flags & FIN) !== 0],
  secondFinFrame: ['FIN', (w) => (w.flags & FIN) !== 0],
  rstFrame: ['RST', (w) => (w.flags & RST) !== 0],
  synFrame: ['SYN without ACK', (w) => (w.flags & (SYN | ACK)) === SYN],
  firstSynFrame: ['SYN without ACK', (w) => (w.flags & (SYN | ACK)) === SYN],
  secondSynFrame: ['SYN without ACK', (w) => (w.flags & (SYN | ACK)) === SYN],
  firstDataFrame: ['payload', (w) => w.len > 0],
  firstUnreadFrame: ['payload', (w) => w.len > 0],
  triggerFrame: ['a segment without RST', (w) => (w.flags & RST) === 0],
  challengeAckFrame: ['a bare ACK', (w) => (w.flags & (ACK | RST | SYN | FIN)) === ACK && w.len === 0],
};

const files = readdirSync(CAPTURES).filter((f) => f.endsWith('.expected.json')).sort();

test('every rule has a capture that fires it and one where it must not fire; negative controls exist', () => {
  const fired = new Set<string>();
  const forbidden = new Set<string>();
  let controls = 0;
  for (const f of files) {
    const e = JSON.parse(readFileSync(join(CAPTURES, f), 'utf8')) as Expected;
    for (const x of e.expect) fired.add(x.rule);
    for (const x of e.mustNotFire ?? []) forbidden.add(x);
    if (e.noProblems) controls++;
  }
  for (const r of RULES) {
    assert.ok(fired.has(r.id), `a capture fires ${r.id}`);
    assert.ok(forbidden.has(r.id), `a capture where ${r.id} must not fire`);
  }
  assert.ok(controls >= 4, `negative controls: ${controls}`);
});

for (const file of files) {
  const exp = JSON.parse(readFileSync(join(CAPTURES, file), 'utf8')) as Expected;
  test(`captures/${exp.capture}`, async (t) => {
    const path = join(CAPTURES, exp.capture);
    // checked on the expected findings, which the CLI's findings must equal (below)
    await t.test('tshark has every frame the expected findings name, and at each evidence frame what its key says (FIN, RST, payload...)', requires('tshark'), () => {
      const wire = tsharkTcp(path);
      for (const want of exp.expect) {
        const what = `${want.rule}@${want.frame}`;
        for (const [k, v] of Object.entries(want.evidence)) {
          const kind = FRAME_KINDS[k];
          if (v === null || !kind) continue;
          assert.ok(kind[1](wire.get(v as number)!), `${what} evidence.${k} = ${v}: tshark shows ${JSON.stringify(wire.get(v as number))}, not ${kind[0]}`);
        }
        assert.ok(wire.has(want.frame) && want.frames.every((n) => wire.has(n)), `${what}: frames exist`);
      }
    });
    const res = await runCli(['analyze', '--format', 'json', path]);
    assert.equal(res.code, 0, res.stderr);
    const doc = JSON.parse(res.stdout) as { findings: FindingJson[]; connections: { id: number; orig: { ip: string; port: number } }[] };
    const findings = doc.findings;
    const list = (fs: { rule: string; frame: number }[]) => fs.map((x) => `${x.rule}@${x.frame}`).sort().join(', ') || 'none';
    // exactly the expected findings: as many of each rule, at the same key frames
    assert.equal(list(findings), list(exp.expect), 'findings (rule@frame) are exactly the expected ones');
    const matched: FindingJson[] = [];
    for (const want of exp.expect) {
      const f = findings.find((x) => x.rule === want.rule && x.frame === want.frame && !matched.includes(x))!;
      matched.push(f);
      const what = `${want.rule}@${want.frame}`;
      assert.equal(f.actor, want.actor, `${what} actor`);
      assert.deepEqual(f.frames, want.frames, `${what} frames`);
      assert.deepEqual(f.evidence, want.evidence, `${what} evidence`);
      // the bytes the recorded applications wrote, as the recording says (not as the CLI said when pinned)
      for (const b of want.bytesFromApp ?? []) {
        const events = exp.app?.[b.role]?.events ?? [];
        const left = [...events];
        for (const ev of b.events) {
          const i = left.indexOf(ev);
          assert.ok(i >= 0, `${what}: the ${b.role} recorded "${ev}" (events: ${events.join('; ')})`);
          left.splice(i, 1);
        }
        const bytes = b.events.reduce((n, ev) => n + Number(/\d+/.exec(ev)![0]), 0);
        assert.equal(f.evidence[b.evidence], bytes, `${what} evidence.${b.evidence}: the ${b.role} wrote ${bytes} byte(s)`);
      }
      assert.ok(want.frames.includes(f.frame), `${what}: the key frame is among its frames`);
    }
    // the application view of the findings: the errno each application really saw is named;
    // an application that saw no error is not told it got one (except the known, explained cases)
    if (exp.app && exp.roles) {
      const known = new Set((exp.knownWrong ?? []).map((k) => `${k.rule}|${k.role}|${k.claims}`));
      const seenKnown = new Set<string>();
      for (const [role, seen] of Object.entries(exp.app)) {
        const addr: string = (exp.roles as Record<string, string>)[role];
        const views: { rule: string; text: string }[] = matched.map((f) => {
          const conn = doc.connections.find((c) => c.id === f.connection)!;
          const side: 'orig' | 'resp' = addr === `${conn.orig.ip}:${conn.orig.port}` ? 'orig' : 'resp';
          return { rule: f.rule, text: f.app[side] ?? '' };
        });
        if (seen.errno) {
          if (views.length > 0) assert.ok(views.some((v) => v.text.includes(seen.errno!)), `${role} saw ${seen.errno}; findings say: ${views.map((v) => v.text).join(' | ')}`);
          continue;
        }
        for (const v of views) {
          for (const m of v.text.matchAll(ERROR_CLAIM)) {
            const k: string = `${v.rule}|${role}|${m[1]}`;
            if (known.has(k)) { seenKnown.add(k); continue; }
            assert.fail(`${v.rule} tells the ${role} it got ${m[1]} ("${v.text}"), but the recorded ${role} saw no error`);
          }
        }
      }
      for (const k of known) {
        assert.ok(seenKnown.has(k), `knownWrong ${k} no longer happens: remove it from ${file}`);
      }
    }
    for (const id of exp.mustNotFire ?? []) {
      const bad = findings.filter((x) => x.rule === id);
      assert.equal(bad.length, 0, `${id} must not fire: ${bad.map((b) => b.summary).join(' | ')}`);
    }
    if (exp.noProblems) {
      const bad = findings.filter((x) => x.severity !== 'info');
      assert.equal(bad.length, 0, `no warning or error: ${bad.map((b) => `${b.rule}: ${b.summary}`).join(' | ')}`);
    }
  });
}
