/**
 * Helpers for the `rstscope live` tests: run the CLI as a child, wait for its
 * readiness line, collect its NDJSON output as it arrives (with arrival
 * times), and stop it with SIGINT.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { BIN, ROOT } from './helpers.js';
import { requires, type Requirement } from './requires.js';

export interface Line {
  atMs: number;
  obj: Record<string, unknown>;
}

export class LiveRun {
  readonly lines: Line[] = [];
  stderr = '';
  code: number | null = null;
  private buf = '';
  private stderrWaiters: ((text: string) => boolean)[] = [];
  private waiters: { pred: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];
  private readonly closed: Promise<void>;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      const parts = (this.buf + text).split('\n');
      this.buf = parts.pop() ?? '';
      for (const p of parts) {
        if (!p.trim()) continue;
        const line = { atMs: Date.now(), obj: JSON.parse(p) as Record<string, unknown> };
        this.lines.push(line);
        this.waiters = this.waiters.filter((w) => {
          if (!w.pred(line)) return true;
          w.resolve(line);
          return false;
        });
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (t: string) => {
      this.stderr += t;
      this.stderrWaiters = this.stderrWaiters.filter((w) => !w(this.stderr));
    });
    this.closed = new Promise((r) => child.on('close', (code) => { this.code = code; r(); }));
  }

  /** Resolves with the first line (past or future) matching `pred`; rejects after `timeoutMs`. */
  waitFor(pred: (l: Line) => boolean, timeoutMs: number, what: string): Promise<Line> {
    const found = this.lines.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (l: Line) => { clearTimeout(t); resolve(l); } };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`no ${what} within ${timeoutMs} ms; stderr:\n${this.stderr}\nstdout:\n${this.lines.map((l) => JSON.stringify(l.obj)).join('\n')}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Resolves once stderr matches `re`; rejects after `timeoutMs`. */
  waitStderr(re: RegExp, timeoutMs: number): Promise<void> {
    if (re.test(this.stderr)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = (text: string): boolean => {
        if (!re.test(text)) return false;
        clearTimeout(t);
        resolve();
        return true;
      };
      const t = setTimeout(() => {
        this.stderrWaiters = this.stderrWaiters.filter((x) => x !== w);
        reject(new Error(`stderr did not match ${re} within ${timeoutMs} ms:\n${this.stderr}`));
      }, timeoutMs);
      this.stderrWaiters.push(w);
    });
  }

  /** SIGINT, then waits for the exit. */
  async stop(): Promise<void> {
    if (this.code === null) this.child.kill('SIGINT');
    await this.closed;
  }

  async done(): Promise<void> {
    await this.closed;
  }

  kill(): void {
    if (this.code === null) this.child.kill('SIGKILL');
  }
}

/** Starts `rstscope live ...args` and resolves once it says "listening on" (rejects if it exits first). */
export function startLive(args: string[], timeoutMs = 20_000): Promise<LiveRun> {
  const child = spawn(process.execPath, [BIN, 'live', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end();
  const run = new LiveRun(child);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { run.kill(); reject(new Error(`live did not start within ${timeoutMs} ms: ${run.stderr}`)); }, timeoutMs);
    const onErr = (): void => {
      if (/listening on /.test(run.stderr)) {
        clearTimeout(t);
        child.stderr.removeListener('data', onErr);
        resolve(run);
      }
    };
    child.stderr.on('data', onErr);
    child.on('close', (code) => {
      clearTimeout(t);
      reject(new Error(`live exited with ${code} before listening: ${run.stderr}`));
    });
  });
}

/**
 * node:test options for a live test (test/requires.ts): live capture needs
 * Linux, root (or CAP_NET_RAW; the tests ask for root) and tcpdump, the cap
 * backend also the optional npm package cap. Missing: the test is skipped with
 * the reason, or under CI=true the file fails.
 */
export function liveNeeds(backend: 'tcpdump' | 'cap', ...more: Requirement[]): { skip?: string } {
  return requires('linux', 'root', 'tcpdump', ...(backend === 'cap' ? ['cap' as const] : []), ...more);
}

/** Runs the CLI with a modified environment, optionally as user nobody without capabilities (setpriv). */
export function runCliAs(args: string[], opts: { nobody?: boolean; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const argv = [BIN, ...args];
  const cmd = opts.nobody ? 'setpriv' : process.execPath;
  const full = opts.nobody ? ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--', process.execPath, ...argv] : argv;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, full, { cwd: ROOT, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const t = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(t); resolve({ code, stdout, stderr }); });
  });
}
