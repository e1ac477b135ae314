/**
 * `rstscope live` when things go away under it (issue 7, docs/robustness.md):
 * the capture child is killed, the interface is deleted, the output pipe is
 * closed by its reader. Traffic is loopback connections to a port that was
 * bound (port 0) and closed again, so each one is refused; each run filters on
 * that port. The interface test uses a veth pair inside a network namespace
 * this test creates and deletes. Needs Linux, root and tcpdump (and ip for the
 * namespace): elsewhere the tests skip with the reason, under CI=true they fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { BIN, ROOT } from './helpers.js';
import { liveNeeds } from './live-helpers.js';

/** A loopback port that nothing listens on (bound by the kernel's choice, then closed). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** One refused connection attempt; resolves when the RST arrived. */
function refusedConnect(port: number): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => resolve());
    s.on('connect', () => { s.destroy(); resolve(); });
  });
}

interface Run {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  waitStderr: (re: RegExp, ms: number) => Promise<void>;
  waitStdout: (re: RegExp, ms: number) => Promise<void>;
}

function start(cmd: string, args: string[]): Run {
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let errText = '';
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); for (const w of waiters.slice()) w(); });
  child.stderr.on('data', (d: Buffer) => { errText += d.toString(); for (const w of waiters.slice()) w(); });
  const exited = new Promise<number | null>((r) => child.on('close', (code) => { for (const w of waiters.slice()) w(); r(code); }));
  let done = false;
  void exited.then(() => { done = true; });
  const wait = (get: () => string, re: RegExp, ms: number, what: string) => new Promise<void>((resolve, reject) => {
    const check = () => {
      if (re.test(get())) { cleanup(); resolve(); } else if (done) { cleanup(); reject(new Error(`exited before ${what} ${re}: ${errText}`)); }
    };
    const t = setTimeout(() => { cleanup(); reject(new Error(`no ${what} ${re} within ${ms} ms: ${errText}`)); }, ms);
    const cleanup = () => { clearTimeout(t); const i = waiters.indexOf(check); if (i >= 0) waiters.splice(i, 1); };
    waiters.push(check);
    check();
  });
  return {
    child, exited, stdout: () => out, stderr: () => errText,
    waitStderr: (re, ms) => wait(() => errText, re, ms, 'stderr'),
    waitStdout: (re, ms) => wait(() => out, re, ms, 'stdout'),
  };
}

/** Process ids of the direct children of `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
    if (text) out.push(...text.split(/\s+/).map(Number));
  }
  return out;
}

test('live: the capture child killed mid-run is reported, results so far printed, exit 3', { timeout: 60_000, ...liveNeeds('tcpdump') }, async () => {
  const port = await closedPort();
  const run = start(process.execPath, [BIN, 'live', '-i', 'lo', '--filter', `tcp port ${port}`, '--format', 'ndjson']);
  try {
    await run.waitStderr(/listening on lo/, 20_000);
    await refusedConnect(port);
    await run.waitStdout(/"rule":"refused"/, 20_000);
    const kids = childrenOf(run.child.pid!);
    assert.ok(kids.length >= 1, 'the capture child exists');
    for (const k of kids) process.kill(k, 'SIGKILL');
    const code = await run.exited;
    assert.equal(code, 3, run.stderr());
    assert.match(run.stderr(), /the capture ended by itself/);
    assert.doesNotMatch(run.stderr(), /\n\s+at |internal error/);
    const totals = run.stdout().trim().split('\n').map((l) => JSON.parse(l) as { type: string; findings?: number }).find((o) => o.type === 'totals');
    assert.ok(totals && (totals.findings ?? 0) >= 1, 'the totals include what was captured');
  } finally {
    run.child.kill('SIGKILL');
  }
});

test('live: the interface going away is reported, exit 3', { timeout: 60_000, ...liveNeeds('tcpdump', 'ip') }, async () => {
  const ns = `rsrobust${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1']);
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'v0', 'up']);
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'v1', 'up']);
    const run = start('ip', ['netns', 'exec', ns, process.execPath, BIN, 'live', '-i', 'v0', '--format', 'ndjson']);
    try {
      await run.waitStderr(/listening on v0/, 20_000);
      execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'del', 'v0']);
      const code = await run.exited;
      assert.equal(code, 3, run.stderr());
      assert.match(run.stderr(), /the capture ended by itself/);
      assert.doesNotMatch(run.stderr(), /\n\s+at |internal error/);
      assert.match(run.stdout(), /"type":"totals"/);
    } finally {
      run.child.kill('SIGKILL');
    }
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
});

test('live: the output pipe closed by its reader (`rstscope live | head -1`) ends the run quietly', { timeout: 60_000, ...liveNeeds('tcpdump') }, async () => {
  const port = await closedPort();
  const run = start(process.execPath, [BIN, 'live', '-i', 'lo', '--filter', `tcp port ${port}`, '--format', 'ndjson']);
  try {
    await run.waitStderr(/listening on lo/, 20_000);
    // like head -1: read the first line, then close the pipe
    run.child.stdout.once('data', () => run.child.stdout.destroy());
    // keep making findings until a write hits the closed pipe and live stops (bounded: 200 attempts)
    let code: number | null | undefined;
    void run.exited.then((c) => { code = c; });
    for (let i = 0; i < 200 && code === undefined; i++) await refusedConnect(port);
    assert.equal(await run.exited, 0, run.stderr());
    assert.doesNotMatch(run.stderr(), /EPIPE|\n\s+at |internal error|cannot write/);
  } finally {
    run.child.kill('SIGKILL');
  }
});
