/**
 * Progress line on stderr for long reads: bytes read of the file size,
 * packets/s, elapsed and estimated time left. Only on a terminal (stderr is a
 * TTY) and without --quiet; redrawn at most every 200 ms, cleared at the end.
 * Hand-written: one line and a carriage return need no library, and it costs
 * one comparison per 1 MiB read (measured in docs/performance.md).
 */
const REDRAW_MS = 200;

function clock(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '--:--';
  const s = Math.round(sec);
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m` : `${m}:${String(s % 60).padStart(2, '0')}`;
}

export interface Progress {
  update(file: string, bytesRead: number, fileBytes: number, frames: number): void;
  done(): void;
}

export function makeProgress(quiet: boolean): Progress | undefined {
  if (quiet || !process.stderr.isTTY) return undefined;
  const t0 = Date.now();
  let last = 0;
  let shown = false;
  return {
    update(file, bytesRead, fileBytes, frames) {
      const now = Date.now();
      if (now - last < REDRAW_MS) return;
      last = now;
      const elapsed = (now - t0) / 1000;
      const frac = fileBytes > 0 ? Math.min(1, bytesRead / fileBytes) : 0;
      const width = 24;
      const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
      const rate = elapsed > 0 ? Math.round(frames / elapsed) : 0;
      const left = frac > 0 ? elapsed * (1 - frac) / frac : NaN;
      const name = file.length > 30 ? `…${file.slice(-29)}` : file;
      const line = `${name} [${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${(bytesRead / 1e6).toFixed(0)}/${(fileBytes / 1e6).toFixed(0)} MB ${rate.toLocaleString('en-US')} pkt/s ${clock(elapsed)} elapsed, ${clock(left)} left`;
      process.stderr.write(`\r${line.slice(0, (process.stderr.columns || 120) - 1)}\x1b[K`);
      shown = true;
    },
    done() {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}
