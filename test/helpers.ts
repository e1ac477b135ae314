/** Shared test helpers: repository paths and running the built CLI. */
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** repository root (tests run from dist/test/) */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CAPTURES = resolve(ROOT, 'captures');
export const FIXTURES = resolve(ROOT, 'test/fixtures');
export const BIN = resolve(ROOT, 'bin/rstscope.js');
/** The Zeek conformance corpus bundled in test/corpus/zeek ($RSTSCOPE_ZEEK_CORPUS overrides, as in scripts/conformance.ts). */
export const ZEEK_CORPUS = process.env.RSTSCOPE_ZEEK_CORPUS || resolve(ROOT, 'test/corpus/zeek');
export const ZEEK_TRACES = resolve(ZEEK_CORPUS, 'traces');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/rstscope.js ...args` and collects its output. */
export function runCli(args: string[], opts: { input?: Buffer | string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const errb: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => errb.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errb).toString('utf8') });
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}
