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

/**
 * Buffered output for bulk record streams (NDJSON, Zeek logs): lines are
 * encoded (UTF-8) straight into a 128 KiB Buffer and written in ~64 KiB
 * pieces, one write call each instead of one per line, with no intermediate
 * joined string. A written buffer goes back to a small pool once the stream
 * is done with it (its write callback), so steady output allocates nothing:
 * measured, a fresh buffer per piece cost its page faults and copy (about
 * 5 % of the main thread in `analyze -f ndjson --workers 2`), and
 * Buffer.from(buffer) copies byte by byte in Node 20.
 * flushOut() (and drained()) write what is pending.
 */
const CAPACITY = 128 * 1024;
const FLUSH_BYTES = 64 * 1024;
/** buffers kept for reuse at most (more are in flight only while a slow reader holds them) */
const MAX_SPARE = 8;
let pending: Buffer = Buffer.allocUnsafe(CAPACITY);
let pendingBytes = 0;
const spare: Buffer[] = [];

export function outBuffered(text: string): void {
  // a UTF-16 code unit takes at most 3 bytes of UTF-8
  if (pendingBytes + 3 * text.length > CAPACITY) {
    flushOut();
    if (3 * text.length > CAPACITY) {
      out(text);
      return;
    }
  }
  pendingBytes += pending.write(text, pendingBytes);
  if (pendingBytes >= FLUSH_BYTES) flushOut();
}

export function flushOut(): void {
  if (pendingBytes === 0) return;
  const full = pending;
  const n = pendingBytes;
  pending = spare.pop() ?? Buffer.allocUnsafe(CAPACITY);
  pendingBytes = 0;
  if (pipeClosed) {
    spare.push(full);
    return;
  }
  // The stream may hold the piece until the reader takes it: reused once the
  // stream has nothing queued (files and, on Linux, pipes are written
  // synchronously: at once), else after its write callback.
  let reused = false;
  process.stdout.write(full.subarray(0, n), () => {
    if (!reused && spare.length < MAX_SPARE) spare.push(full);
    reused = true;
  });
  if (!reused && process.stdout.writableLength === 0) {
    reused = true;
    spare.push(full);
  }
}

/** Writes what is pending, then resolves once stdout has drained (for streaming writers). */
export function drained(): Promise<void> {
  flushOut();
  if (pipeClosed || !process.stdout.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => process.stdout.once('drain', () => resolve()));
}

export function err(text: string): void {
  process.stderr.write(text);
}
