#!/usr/bin/env node
// The twelve deliberate bugs of issue 19 (docs/testing.md, "The twelve deliberate bugs"), put in one at a
// time: each entry is an exact textual edit to one source file (`from` must occur exactly once, else the
// entry FAILS: the source changed and the entry must be updated), then `tsc` builds and only the named test
// files run, one `node --test` per file. A bug is caught when at least one of its test files fails.
// The file is always restored (finally, and on SIGINT/SIGTERM) and dist/ rebuilt from the clean source at
// the end. Exit code 0 only when every selected bug applied, built and was caught.
//
//   node scripts/bugs.mjs            all twelve
//   node scripts/bugs.mjs 3 9        a subset, by number
//   node scripts/bugs.mjs --list     the entries, nothing run
//   --no-baseline                    skip the first run of the named tests on the clean source
//
// Plain Node ESM, no dependencies, no build step. Run from anywhere; paths are relative to the repo root.
import { readFileSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** @type {{ name: string, file: string, from: string, to: string, tests: string[] }[]} */
const BUGS = [
  {
    name: 'write-after-peer-close race: `>` -> `>=` on the FIN comparison',
    file: 'src/rules/write-after-peer-close.ts',
    from: 'data.ackRel > closerEp.finRel',
    to: 'data.ackRel >= closerEp.finRel',
    tests: ['rules-captures', 'rst-causes'],
  },
  {
    name: "the race finding's byte count from one source only",
    file: 'src/rules/write-after-peer-close.ts',
    from: 'bytes: Math.max(writerM.dataAfterPeerFin, v.rst.receiverDataBeyondSenderFinAck),',
    to: 'bytes: writerM.dataAfterPeerFin,',
    tests: ['rules-captures', 'rst-causes'],
  },
  {
    name: "RST acceptance without the window's upper bound",
    file: 'src/tcp/accounting.ts',
    from: 'seqRel > rcvNxt &&\n        seqRel < rcvNxt + win) acc = 1;',
    to: 'seqRel > rcvNxt) acc = 1;',
    tests: ['rst-acceptance'],
  },
  {
    name: 'RST shape ignoring `acceptance === 0`',
    file: 'src/tcp/rst.ts',
    from: 'if (seqRel === senderMaxEndRel || acceptance === 0) return 2;',
    to: 'if (seqRel === senderMaxEndRel) return 2;',
    tests: ['rst-acceptance'],
  },
  {
    name: 'pcapng `if_tsresol` ignored',
    file: 'src/capture/pcapng.ts',
    from: 'if (code === 9 && olen >= 1) {',
    to: 'if (code === 9 && olen >= 1 && code < 0) {',
    tests: ['capture-formats'],
  },
  {
    name: 'pcapng fast path `<` -> `<=` at the one-second boundary',
    file: 'src/capture/pcapng.ts',
    from: 'inSec >= 0 && inSec < ups) {',
    to: 'inSec >= 0 && inSec <= ups) {',
    tests: ['capture-formats'],
  },
  {
    name: 'pcapng `if_tsoffset` dropped',
    file: 'src/capture/pcapng.ts',
    from: 'iface.tsOffsetSec = hi * 4294967296 + lo;',
    to: 'iface.tsOffsetSec = 0 * (hi * 4294967296 + lo);',
    tests: ['capture-formats'],
  },
  {
    name: 'conn_state S2 -> S3',
    file: 'src/tcp/state.ts',
    from: "if (os === EpState.Closed) return rInactive ? 'SH' : 'S2';",
    to: "if (os === EpState.Closed) return rInactive ? 'SH' : 'S3';",
    tests: ['conn-state-crafted'],
  },
  {
    name: 'conn_state RSTRH -> RSTR',
    file: 'src/tcp/state.ts',
    from: "if (oInactive) return 'RSTRH';",
    to: "if (oInactive) return 'RSTR';",
    tests: ['conn-state-crafted', 'conformance'],
  },
  {
    name: '--workers merge tie-break reversed',
    file: 'src/analysis/merge.ts',
    from: 'a.closeFrame - b.closeFrame || a.firstFrame - b.firstFrame;',
    to: 'a.closeFrame - b.closeFrame || b.firstFrame - a.firstFrame;',
    tests: ['merge', 'workers'],
  },
  {
    name: 'the fixed "time goes backwards" bug put back',
    file: 'src/tcp/accounting.ts',
    from: 'if (now > c.lastTime) c.lastTime = now;',
    to: 'c.lastTime = now;',
    tests: ['fuzz-regressions'],
  },
  {
    name: "the decoder keeping a previous segment's timestamp option",
    file: 'src/decode/decoder.ts',
    from: '  p.tsVal = 0;\n  p.tsEcr = 0;\n',
    to: '',
    tests: ['decode-tcp'],
  },
];

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log('usage: node scripts/bugs.mjs [--list] [--no-baseline] [number...]');
  process.exit(0);
}
if (args.includes('--list')) {
  BUGS.forEach((b, i) => console.log(`${String(i + 1).padStart(2)}  ${b.name}  [${b.file}; tests: ${b.tests.join(', ')}]`));
  process.exit(0);
}
const baseline = !args.includes('--no-baseline');
const nums = args.filter((a) => !a.startsWith('--')).map(Number);
for (const n of nums) {
  if (!Number.isInteger(n) || n < 1 || n > BUGS.length) {
    console.error(`bugs: no bug ${n} (1..${BUGS.length}; --list shows them)`);
    process.exit(2);
  }
}
const selected = nums.length ? [...new Set(nums)].sort((a, b) => a - b) : BUGS.map((_, i) => i + 1);

// the file currently edited and its original text; restored by restore() from every exit path
/** @type {{ path: string, text: string } | null} */
let pending = null;
/** @type {import('node:child_process').ChildProcess | null} */
let child = null;

function restore() {
  if (!pending) return;
  writeFileSync(pending.path, pending.text);
  if (readFileSync(pending.path, 'utf8') !== pending.text) throw new Error(`bugs: could not restore ${pending.path}`);
  pending = null;
}

function buildSync() {
  return spawnSync(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: ROOT, encoding: 'utf8' });
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (child) child.kill('SIGKILL');
    const had = pending?.path;
    try { restore(); } catch (e) { console.error(String(e)); }
    if (had) console.error(`\nbugs: interrupted; ${had} restored, rebuilding dist/`);
    else console.error('\nbugs: interrupted, rebuilding dist/');
    buildSync();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

/** run a command, output captured; resolves with its exit code (or -1 when killed by a signal) */
function run(cmd, argv) {
  return new Promise((resolve) => {
    const c = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    let out = '';
    c.stdout.on('data', (d) => { out += d; });
    c.stderr.on('data', (d) => { out += d; });
    c.on('close', (code) => { child = null; resolve({ code: code ?? -1, out }); });
  });
}

const build = () => run(process.execPath, [TSC, '-p', 'tsconfig.json']);
const testFile = (t) => run(process.execPath, ['--test', `dist/test/${t}.test.js`]);

function tail(s, n = 15) {
  return s.trimEnd().split('\n').slice(-n).map((l) => `      ${l}`).join('\n');
}

const t0 = Date.now();
/** @type {string[]} */
const lines = [];
let bad = 0;

try {
  if (baseline) {
    const b = await build();
    if (b.code !== 0) {
      console.error(`bugs: the clean source does not build:\n${tail(b.out)}`);
      process.exit(1);
    }
    const files = [...new Set(selected.flatMap((n) => BUGS[n - 1].tests))];
    for (const t of files) {
      const r = await testFile(t);
      console.log(`baseline ${t}: ${r.code === 0 ? 'pass' : 'FAIL'}`);
      if (r.code !== 0) {
        console.error(`bugs: ${t} fails on the clean source; a failure under a bug would prove nothing\n${tail(r.out)}`);
        process.exitCode = 1;
        throw new Error('baseline failed');
      }
    }
  }
  for (const n of selected) {
    const bug = BUGS[n - 1];
    const label = `bug ${String(n).padStart(2)} (${bug.name})`;
    const started = Date.now();
    const path = join(ROOT, bug.file);
    const text = readFileSync(path, 'utf8');
    const count = text.split(bug.from).length - 1;
    if (count !== 1) {
      bad++;
      lines.push(`${label}: NOT APPLIED: \`${bug.from.replace(/\n/g, '\\n')}\` occurs ${count} times in ${bug.file} (expected once); update the entry`);
      console.log(lines.at(-1));
      continue;
    }
    let line;
    try {
      pending = { path, text };
      writeFileSync(path, text.replace(bug.from, () => bug.to));
      const b = await build();
      if (b.code !== 0) {
        line = `${label}: NOT APPLIED: the edited source does not build (tsc exit ${b.code}); update the entry\n${tail(b.out)}`;
        bad++;
      } else {
        const failed = [];
        for (const t of bug.tests) {
          const r = await testFile(t);
          if (r.code !== 0) failed.push(t);
        }
        const secs = ((Date.now() - started) / 1000).toFixed(0);
        if (failed.length) line = `${label}: caught by ${failed.join(', ')} (${secs}s)`;
        else {
          line = `${label}: NOT caught (ran ${bug.tests.join(', ')}; all passed) (${secs}s)`;
          bad++;
        }
      }
    } finally {
      restore();
    }
    lines.push(line);
    console.log(line);
  }
} catch (e) {
  if (!(e instanceof Error && e.message === 'baseline failed')) throw e;
} finally {
  restore();
  const b = await build();
  if (b.code !== 0) {
    console.error(`bugs: the restored source does not build:\n${tail(b.out)}`);
    process.exitCode = 1;
  }
}

if (lines.length) {
  console.log(`\n${selected.length - bad}/${selected.length} bugs caught in ${((Date.now() - t0) / 1000).toFixed(0)}s`);
  for (const l of lines) console.log(l.split('\n')[0]);
}
if (bad) process.exitCode = 1;
