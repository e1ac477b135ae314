/**
 * Every rule against the real loopback captures in captures/ (recorded by
 * scripts/make-captures with real sockets): each NAME.expected.json says which
 * findings must be reported (rule, key frame as tshark numbers it, actor, a
 * few evidence facts), which rules must not fire, and what the applications
 * observed while recording; the findings' application view must name the
 * errno the application really got. Runs the built CLI.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RULES } from '../src/rules/registry.js';
import { CAPTURES, runCli } from './helpers.js';

interface Expected {
  capture: string;
  roles?: { client: string; server: string };
  expect: { rule: string; actor: string; frame: number; evidence?: Record<string, unknown> }[];
  mustNotFire?: string[];
  noProblems?: boolean;
  app?: Record<string, { errno?: string }>;
}

interface FindingJson {
  rule: string; severity: string; frame: number; actor: string; evidence: Record<string, unknown>;
  app: { orig?: string; resp?: string }; summary: string; connection: number;
}

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
  test(`captures/${exp.capture}`, async () => {
    const res = await runCli(['analyze', '--format', 'json', join(CAPTURES, exp.capture)]);
    assert.equal(res.code, 0, res.stderr);
    const doc = JSON.parse(res.stdout) as { findings: FindingJson[]; connections: { id: number; orig: { ip: string; port: number } }[] };
    const findings = doc.findings;
    for (const want of exp.expect) {
      const f = findings.find((x) => x.rule === want.rule && x.frame === want.frame);
      assert.ok(f, `${want.rule} at frame ${want.frame}; got ${findings.map((x) => `${x.rule}@${x.frame}`).join(', ') || 'no findings'}`);
      assert.equal(f.actor, want.actor, `${want.rule} actor`);
      for (const [k, v] of Object.entries(want.evidence ?? {})) {
        assert.deepEqual(f.evidence[k], v, `${want.rule} evidence.${k}`);
      }
    }
    // the application view of the expected findings names the errno each application really saw
    if (exp.app && exp.roles) {
      for (const [role, seen] of Object.entries(exp.app)) {
        if (!seen.errno) continue;
        const addr = (exp.roles as Record<string, string>)[role];
        const views = exp.expect.map((want) => {
          const f = findings.find((x) => x.rule === want.rule && x.frame === want.frame)!;
          const conn = doc.connections.find((c) => c.id === f.connection)!;
          const side = addr === `${conn.orig.ip}:${conn.orig.port}` ? 'orig' : 'resp';
          return f.app[side] ?? '';
        });
        assert.ok(views.some((v) => v.includes(seen.errno!)), `${role} saw ${seen.errno}; findings say: ${views.join(' | ')}`);
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
