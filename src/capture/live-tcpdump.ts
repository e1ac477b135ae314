/**
 * The tcpdump live backend: `tcpdump -i IF -U -w - --immediate-mode -s SNAPLEN
 * -B KIB --time-stamp-precision=nano [FILTER]` as a child process, its stdout
 * parsed by the streaming pcap reader (CaptureStream).
 *
 * - Delivery: -U flushes each packet to the pipe and --immediate-mode hands
 *   each packet to tcpdump at once (measured here: ~4 ms from wire to sink,
 *   lossless on a 50,000-packet loopback burst with a 64 MiB buffer).
 * - Drops: tcpdump prints "N packets dropped by kernel" on SIGUSR1 (Linux has
 *   no SIGINFO; tcpdump(8), "On platforms that do not support the SIGINFO
 *   signal...") and on exit. We ask once a second and report growth.
 * - Lifetime: the child never outlives us. On Linux it is started through
 *   `setpriv --pdeathsig SIGKILL` when setpriv is present, so even a SIGKILL
 *   of rstscope takes tcpdump down; otherwise (and in addition) it is killed
 *   on process exit, which Node runs for normal exit, signals we handle and
 *   uncaught errors.
 * - --write: the bytes tcpdump wrote are saved as they are, so `analyze` of
 *   the file sees exactly the frames live saw.
 */
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { CaptureStream } from './reader.js';
import type { InputInfo } from './parser.js';
import { DRAIN_MAX_MS, drainQuiet, listInterfaces, LiveError, PERMISSION_HINT, type LiveOptions, type LiveSource } from './live-source.js';

const STATS_INTERVAL_MS = 1000;
const STOP_GRACE_MS = 5000;

let pdeathsigOk: boolean | undefined;
/** util-linux setpriv with --pdeathsig (2.33+), checked once. */
function hasPdeathsig(): boolean {
  if (pdeathsigOk === undefined) {
    if (process.platform !== 'linux') pdeathsigOk = false;
    else {
      const r = spawnSync('setpriv', ['--help'], { encoding: 'utf8' });
      pdeathsigOk = r.status === 0 && /--pdeathsig/.test(r.stdout ?? '');
    }
  }
  return pdeathsigOk;
}

const INSTALL_HINT = 'tcpdump is not installed (or not on PATH). Install it: Debian/Ubuntu `sudo apt-get install tcpdump`, Fedora/RHEL `sudo dnf install tcpdump`, Alpine `apk add tcpdump`, macOS ships it; or use --backend cap';

export class TcpdumpSource implements LiveSource {
  readonly backend = 'tcpdump' as const;
  readonly stream: CaptureStream;
  drops: number | null = null;
  readonly ended: Promise<void>;
  private child: ChildProcessByStdio<null, Readable, Readable> | null = null;
  private file: WriteStream | null = null;
  private ready = false;
  private exited = false;
  private stderrLines: string[] = [];
  private stderrTail = '';
  private lastDataAt = 0;
  private stopping = false;
  private statsTimer: NodeJS.Timeout | null = null;
  private resolveEnded!: () => void;
  private readonly killOnExit = () => this.kill();

  constructor(private readonly opts: LiveOptions) {
    this.stream = new CaptureStream(`live:${opts.interface}`, opts.sink);
    this.ended = new Promise((r) => { this.resolveEnded = r; });
  }

  get info(): InputInfo {
    return this.stream.info;
  }

  args(): string[] {
    const o = this.opts;
    const a = ['-i', o.interface, '-U', '-w', '-', '--immediate-mode', '-n',
      '-s', String(o.snaplenBytes), '-B', String(o.bufferKiB), '--time-stamp-precision=nano'];
    // As root tcpdump would switch to its own user after opening the device, and
    // the kernel clears the parent-death signal on that change (prctl(2)): stay
    // root so a killed rstscope still takes tcpdump down.
    if (hasPdeathsig() && process.getuid?.() === 0) a.push('-Z', 'root');
    if (o.count !== undefined) a.push('-c', String(o.count));
    if (o.filter) a.push('--', o.filter);
    return a;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const useSetpriv = hasPdeathsig();
      const cmd = useSetpriv ? 'setpriv' : 'tcpdump';
      const argv = useSetpriv ? ['--pdeathsig', 'SIGKILL', '--', 'tcpdump', ...this.args()] : this.args();
      let settled = false;
      const fail = (e: LiveError) => {
        if (settled) return;
        settled = true;
        this.kill();
        reject(e);
      };
      const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      this.child = child;
      process.on('exit', this.killOnExit);
      if (this.opts.writePath) {
        this.file = createWriteStream(this.opts.writePath);
        this.file.on('error', (e) => fail(new LiveError(`cannot write ${this.opts.writePath}: ${e.message}`)));
      }
      child.on('error', (e: NodeJS.ErrnoException) => {
        fail(new LiveError(e.code === 'ENOENT' ? INSTALL_HINT : `cannot start tcpdump: ${e.message}`));
      });
      child.stdout.on('data', (chunk: Buffer) => {
        this.lastDataAt = Date.now();
        this.file?.write(chunk);
        this.stream.push(chunk);
      });
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (text: string) => {
        const lines = (this.stderrTail + text).split('\n');
        this.stderrTail = lines.pop() ?? '';
        for (const line of lines) this.onStderr(line);
        if (!this.ready && this.stderrLines.some((l) => /listening on /.test(l))) {
          this.ready = true;
          settled = true;
          this.statsTimer = setInterval(() => this.requestStats(), STATS_INTERVAL_MS);
          this.statsTimer.unref();
          resolve();
        }
      });
      child.on('close', (code, signal) => {
        this.exited = true;
        process.removeListener('exit', this.killOnExit);
        if (this.stderrTail) this.onStderr(this.stderrTail);
        if (this.statsTimer) clearInterval(this.statsTimer);
        this.stream.end();
        if (this.drops !== null) this.stream.info.drops = this.drops;
        const done = () => this.resolveEnded();
        if (this.file) this.file.end(done);
        else done();
        if (!settled) {
          void this.classify(code, signal).then(fail);
        }
      });
    });
  }

  /** tcpdump's last "N packets captured" statistic, and how many statistics lines came */
  private capturedReported = 0;
  private statsSeen = 0;

  private onStderr(line: string): void {
    // on SIGUSR1 the statistics may come on one line: "N packets captured, M packets received by filter, K packets dropped by kernel"
    const cap = /(\d+) packets? captured/.exec(line);
    if (cap) {
      this.capturedReported = Number(cap[1]);
      this.statsSeen++;
    }
    const m = /(\d+) packets? dropped by kernel/.exec(line);
    if (m) {
      const n = Number(m[1]);
      if (this.drops === null || n > this.drops) {
        const grew = n > (this.drops ?? 0);
        this.drops = n;
        if (grew) this.opts.onDrops?.(n);
      }
      return;
    }
    if (/packets? (captured|received by filter|dropped by interface)/.test(line)) return;
    if (this.stderrLines.length < 50) this.stderrLines.push(line);
  }

  private requestStats(): void {
    if (this.child && !this.exited && this.child.pid) {
      try {
        // SIGUSR1 goes to tcpdump itself: setpriv execs it, so the pid is tcpdump's
        this.child.kill('SIGUSR1');
      } catch { /* already gone */ }
    }
  }

  /** Turns tcpdump's start-up failure into a message that says what to do. */
  private async classify(code: number | null, signal: NodeJS.Signals | null): Promise<LiveError> {
    const text = this.stderrLines.map((l) => l.trim()).filter(Boolean);
    const all = text.join('\n');
    if (/failed to execute tcpdump/.test(all)) return new LiveError(INSTALL_HINT);
    if (/permission|Operation not permitted/i.test(all)) {
      return new LiveError(`cannot capture on ${this.opts.interface}: ${text[0] ?? 'permission denied'}\n${PERMISSION_HINT}`);
    }
    if (/No such device|doesn't exist|no suitable device/i.test(all)) {
      const names = await listInterfaces();
      return new LiveError(`no interface named "${this.opts.interface}"${names.length ? `; interfaces here: ${names.join(', ')}` : ''} (tcpdump -D lists what can be captured)`);
    }
    if (/filter expression|syntax error|parse filter/i.test(all)) {
      return new LiveError(`invalid BPF filter "${this.opts.filter}": ${all.replace(/^tcpdump: /gm, '')}`);
    }
    if (/setpriv/.test(all)) return new LiveError(`cannot start tcpdump through setpriv: ${all}`);
    const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
    return new LiveError(`tcpdump ${how} before capturing${all ? `: ${all}` : ''}`);
  }

  /**
   * Drains by tcpdump's own count: asks for its statistics (SIGUSR1) until the
   * number of packets it says it captured is stable across two asks and every
   * one of them was parsed here. Falls back to waiting for a quiet pipe when
   * tcpdump prints no statistics. Bounded by DRAIN_MAX_MS.
   */
  private async drain(): Promise<void> {
    const t0 = Date.now();
    const tick = () => new Promise<void>((r) => setTimeout(r, 20));
    let previous = -1;
    while (Date.now() - t0 < DRAIN_MAX_MS && this.child && !this.exited) {
      const seen = this.statsSeen;
      this.requestStats();
      const asked = Date.now();
      while (this.statsSeen === seen && Date.now() - asked < 500 && !this.exited) await tick();
      if (this.statsSeen === seen) break; // no statistics from this tcpdump
      while (this.stream.info.packets < this.capturedReported && Date.now() - t0 < DRAIN_MAX_MS && !this.exited) await tick();
      if (this.capturedReported === previous && this.stream.info.packets >= previous) return;
      previous = this.capturedReported;
      await new Promise<void>((r) => setTimeout(r, 100));
    }
    await drainQuiet(() => this.lastDataAt);
  }

  async stop(): Promise<void> {
    if (this.stopping) return this.ended;
    this.stopping = true;
    if (this.child && !this.exited) {
      await this.drain();
    }
    if (this.child && !this.exited) {
      // SIGINT: tcpdump flushes its output, prints final statistics and exits
      this.child.kill('SIGINT');
      const t = setTimeout(() => this.kill(), STOP_GRACE_MS);
      await this.ended;
      clearTimeout(t);
    } else {
      await this.ended;
    }
  }

  kill(): void {
    if (this.statsTimer) clearInterval(this.statsTimer);
    if (this.child && !this.exited) {
      try {
        this.child.kill('SIGKILL');
      } catch { /* gone */ }
    }
  }
}
