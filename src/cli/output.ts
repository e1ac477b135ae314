/**
 * Writing results to stdout. Never process.exit() after writing: large output
 * to a pipe would be cut. A closed pipe (`rstscope ... | head`) ends the run
 * quietly.
 */
let pipeClosed = false;
const closeListeners = new Set<() => void>();

process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') {
    const first = !pipeClosed;
    pipeClosed = true;
    if (first) for (const cb of [...closeListeners]) cb();
    return;
  }
  process.stderr.write(`rstscope: cannot write output: ${err.message}\n`);
  process.exitCode = 2;
});

export function stdoutClosed(): boolean {
  return pipeClosed;
}

/**
 * Calls `cb` once when the reader of stdout goes away (EPIPE on a write), so a
 * long-running command (`rstscope live | head -1`) can stop instead of
 * capturing for nobody. Returns a function that removes the listener.
 */
export function onStdoutClosed(cb: () => void): () => void {
  closeListeners.add(cb);
  return () => closeListeners.delete(cb);
}

export function out(text: string): boolean {
  if (pipeClosed) return false;
  return process.stdout.write(text);
}

/** Resolves once stdout has drained (for streaming writers). */
export function drained(): Promise<void> {
  if (pipeClosed || !process.stdout.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => process.stdout.once('drain', () => resolve()));
}

export function err(text: string): void {
  process.stderr.write(text);
}
