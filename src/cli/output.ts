/**
 * Writing results to stdout. Never process.exit() after writing: large output
 * to a pipe would be cut. A closed pipe (`rstscope ... | head`) ends the run
 * quietly.
 */
let pipeClosed = false;

process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') {
    pipeClosed = true;
    return;
  }
  process.stderr.write(`rstscope: cannot write output: ${err.message}\n`);
  process.exitCode = 2;
});

export function stdoutClosed(): boolean {
  return pipeClosed;
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
