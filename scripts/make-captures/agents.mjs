// Child-process helpers: the Node socket agent (agent.mjs, JSON events),
// the blocking python agent (pyagent.py, one reply per command) and the
// userspace wire between two network namespaces (wire.py).
import { spawn, execFileSync } from 'node:child_process';
import readline from 'node:readline';
import path from 'node:path';

const HERE = path.dirname(new URL(import.meta.url).pathname);

class LineProc {
  constructor(cmd, args) {
    this.proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    this.lines = [];
    this.waiters = [];
    this.exited = new Promise((res) => this.proc.on('exit', res));
    readline.createInterface({ input: this.proc.stdout }).on('line', (l) => {
      this.lines.push(l);
      this.waiters = this.waiters.filter((w) => !w());
    });
  }
  /** resolve with the first line at index >= from that satisfies pred */
  waitLine(pred, from = 0, timeoutMs = 30000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timeout waiting for line from ' + this.proc.spawnargs.join(' '))), timeoutMs);
      const w = () => {
        for (let i = from; i < this.lines.length; i++) if (pred(this.lines[i], i)) { clearTimeout(timer); resolve(this.lines[i]); return true; }
        return false;
      };
      if (!w()) this.waiters.push(w);
    });
  }
  send(line) { this.proc.stdin.write(line + '\n'); }
}

/** Node agent inside a netns; events are parsed JSON objects. */
export class NodeAgent extends LineProc {
  constructor(netns) { super('ip', ['netns', 'exec', netns, process.execPath, path.join(HERE, 'agent.mjs')]); }
  get events() { return this.lines.map((l) => JSON.parse(l)); }
  cmd(o) { this.send(JSON.stringify(o)); }
  /** await an event named ev (optionally matching pred) that arrives after index `from` */
  async wait(ev, pred = () => true, from = 0, timeoutMs) {
    return JSON.parse(await this.waitLine((l) => { const o = JSON.parse(l); return o.ev === ev && pred(o); }, from, timeoutMs));
  }
  async quit() { this.cmd({ op: 'quit' }); this.proc.stdin.end(); await this.exited; }
}

/** python agent: one reply per command */
export class PyAgent extends LineProc {
  constructor() { super('python3', [path.join(HERE, 'pyagent.py')]); this.n = 0; }
  async cmd(line, timeoutMs) {
    const idx = this.n++;
    this.send(line);
    return JSON.parse(await this.waitLine((_, i) => i === idx, idx, timeoutMs));
  }
  async quit() { await this.cmd('quit'); this.proc.stdin.end(); await this.exited; }
}

export const NS_ADDR = { client: '10.77.0.1', server: '10.77.0.2' };

/** Two namespaces joined by wire.py (TUN tw0 in each); capture on tw0 in the client namespace. */
export async function makeWire(tag) {
  const A = `rsc-${tag}-c`, B = `rsc-${tag}-s`;
  for (const ns of [A, B]) {
    try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* absent */ }
    execFileSync('ip', ['netns', 'add', ns]);
  }
  const wire = new LineProc('python3', [path.join(HERE, 'wire.py'), A, B, 'tw0']);
  await wire.waitLine((l) => l === 'ready');
  const cfg = [[A, NS_ADDR.client, NS_ADDR.server], [B, NS_ADDR.server, NS_ADDR.client]];
  for (const [ns, me, peer] of cfg) {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    execFileSync('ip', ['-n', ns, 'addr', 'add', `${me}/32`, 'peer', `${peer}/32`, 'dev', 'tw0']);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'tw0', 'up']);
  }
  let n = 1; // line 0 was "ready"
  return {
    A, B,
    async ctl(line) { const idx = n++; wire.send(line); return wire.waitLine((_, i) => i === idx, idx); },
    async close() {
      wire.proc.stdin.end();
      await wire.exited;
      for (const ns of [A, B]) execFileSync('ip', ['netns', 'del', ns]);
    },
  };
}
