/**
 * The `cap` live backend: in-process libpcap through the optional npm package
 * `cap` (0.2.x, built by node-gyp against libpcap-dev). Loaded only when
 * --backend cap is asked for.
 *
 * Known hazards of cap 0.2.1, measured here, and what this backend does:
 * - It segfaults if the Buffer given to open() is garbage-collected while
 *   capturing: the source keeps a reference for its whole life.
 * - It hard-codes snaplen 65535 and always sets promiscuous mode; with a small
 *   kernel buffer a burst is mostly dropped. We always pass a large buffer
 *   (--buffer-kib, default 64 MiB) and say so in --help and docs/live.md.
 * - It exposes no drop counters (pcap_stats): drops are reported as unknown,
 *   never as zero.
 * - Reopening a closed instance hangs: each source opens one new instance
 *   once and never reuses it.
 * - Its packet event carries no timestamp: frames are stamped with the wall
 *   clock when libpcap hands them to JavaScript (sub-microsecond resolution,
 *   but dispatch time, not kernel time), and the wire length is unknown
 *   (origLen = captured length).
 * The tcpdump backend has none of these; prefer it unless a child process is
 * impossible.
 *
 * --write saves a nanosecond pcap with the same frames and timestamps the
 * analysis saw, so `analyze` of it gives the same findings.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { newFrame, type Frame } from './frame.js';
import { newInputInfo, type InputInfo } from './parser.js';
import { drainQuiet, LiveError, PERMISSION_HINT, type LiveOptions, type LiveSource } from './live-source.js';

interface CapInstance {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): boolean;
  on(ev: 'packet', fn: (nbytes: number, truncated: boolean) => void): void;
}
interface CapModule {
  Cap: { new(): CapInstance; deviceList(): { name: string }[] };
}

/** cap's link type names (binding.cc) to LINKTYPE_* values. */
const LINK_TYPES: Record<string, number> = {
  NULL: 0, ETHERNET: 1, IEEE802_11_RADIO: 127, LINKTYPE_LINUX_SLL: 113, RAW: 101,
};

export const CAP_INSTALL_HINT = 'the cap backend needs the optional npm package "cap", which is not installed or did not build. '
  + 'Install the libpcap headers and a compiler, then the package: Debian/Ubuntu `sudo apt-get install libpcap-dev build-essential python3`, '
  + 'Fedora `sudo dnf install libpcap-devel gcc-c++ make python3`; then `npm install cap` in the rstscope directory. Or use --backend tcpdump (the default)';

function loadCap(): CapModule {
  try {
    return createRequire(import.meta.url)('cap') as CapModule;
  } catch (e) {
    throw new LiveError(`${CAP_INSTALL_HINT} (${(e as Error).message.split('\n')[0]})`);
  }
}

const CAP_BUFFER_BYTES = 65536;

/**
 * Every instance and packet Buffer handed to cap stays referenced until the
 * process exits: cap keeps a raw pointer to the Buffer, and when open() fails
 * after activating the handle (a bad filter), the half-open instance segfaults
 * the process at exit if its Buffer was collected (measured; closing it
 * instead aborts in uv_poll_stop). One entry per source, so this is bounded.
 */
const KEEP_ALIVE: unknown[] = [];
const WRITE_CHUNK = 1 << 20;

export class CapSource implements LiveSource {
  readonly backend = 'cap' as const;
  readonly info: InputInfo;
  /** cap has no drop counters */
  readonly drops = null;
  readonly ended: Promise<void>;
  private cap: CapInstance | null = null;
  /** kept referenced for the instance's whole life: cap segfaults if it is collected */
  private readonly packetBuf = Buffer.alloc(CAP_BUFFER_BYTES);
  private readonly frame: Frame = newFrame();
  private file: WriteStream | null = null;
  private pending = Buffer.allocUnsafe(WRITE_CHUNK);
  private pendingLen = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private stopping = false;
  private lastDataAt = 0;
  private resolveEnded!: () => void;

  private constructor(private readonly mod: CapModule, private readonly opts: LiveOptions) {
    this.info = newInputInfo(`live:${opts.interface}`);
    this.ended = new Promise((r) => { this.resolveEnded = r; });
  }

  static create(opts: LiveOptions): CapSource {
    return new CapSource(loadCap(), opts);
  }

  start(): Promise<void> {
    const names = this.mod.Cap.deviceList().map((d) => d.name);
    if (!names.includes(this.opts.interface)) {
      return Promise.reject(new LiveError(`no interface named "${this.opts.interface}"; interfaces here: ${names.join(', ')}`));
    }
    const cap = new this.mod.Cap();
    KEEP_ALIVE.push(cap, this.packetBuf);
    let linkName: string;
    try {
      linkName = cap.open(this.opts.interface, this.opts.filter, this.opts.bufferKiB * 1024, this.packetBuf);
    } catch (e) {
      const msg = (e as Error).message;
      if (/permi|not permitted/i.test(msg)) return Promise.reject(new LiveError(`cannot capture on ${this.opts.interface}: ${msg}\n${PERMISSION_HINT.replace('tcpdump', 'node')}`));
      if (/syntax|filter|parse/i.test(msg) && this.opts.filter) return Promise.reject(new LiveError(`invalid BPF filter "${this.opts.filter}": ${msg}`));
      return Promise.reject(new LiveError(`cannot capture on ${this.opts.interface}: ${msg}`));
    }
    const linkType = LINK_TYPES[linkName];
    if (linkType === undefined) {
      cap.close();
      return Promise.reject(new LiveError(`the cap backend cannot decode link type ${linkName} on ${this.opts.interface}; use --backend tcpdump`));
    }
    this.cap = cap;
    this.info.format = 'pcap';
    this.info.linkTypes.push(linkType);
    this.frame.linkType = linkType;
    this.info.warnings.push('cap backend: timestamps are taken when libpcap hands the packet to rstscope, not by the kernel; kernel drops cannot be counted');
    if (this.opts.writePath) {
      this.file = createWriteStream(this.opts.writePath);
      this.file.on('error', (e) => {
        this.info.warnings.push(`cannot write ${this.opts.writePath}: ${e.message}`);
        this.file = null;
      });
      const h = Buffer.alloc(24);
      h.writeUInt32LE(0xa1b23c4d, 0); // nanosecond pcap
      h.writeUInt16LE(2, 4);
      h.writeUInt16LE(4, 6);
      h.writeUInt32LE(65535, 16);
      h.writeUInt32LE(linkType, 20);
      this.file.write(h);
      this.flushTimer = setInterval(() => this.flushWrite(), 200);
      this.flushTimer.unref();
    }
    cap.on('packet', (nbytes) => this.onPacket(nbytes));
    return Promise.resolve();
  }

  private onPacket(nbytes: number): void {
    if (this.closed) return;
    const count = this.opts.count;
    if (count !== undefined && this.info.packets >= count) return;
    const tsMs = performance.timeOrigin + performance.now();
    this.lastDataAt = tsMs;
    const f = this.frame;
    f.tsSec = Math.floor(tsMs / 1000);
    f.tsNsec = Math.min(999_999_999, Math.round((tsMs - f.tsSec * 1000) * 1e6));
    f.frameNo = ++this.info.packets;
    f.buf = this.packetBuf;
    f.offset = 0;
    f.capLen = nbytes;
    f.origLen = nbytes;
    f.fileOffset = 0;
    this.info.bytes += nbytes;
    if (this.file) this.appendRecord(f);
    this.opts.sink(f);
    if (count !== undefined && this.info.packets >= count) setImmediate(() => void this.stop());
  }

  private appendRecord(f: Frame): void {
    const need = 16 + f.capLen;
    if (this.pendingLen + need > this.pending.length) this.flushWrite();
    const b = this.pending;
    const o = this.pendingLen;
    b.writeUInt32LE(f.tsSec, o);
    b.writeUInt32LE(f.tsNsec, o + 4);
    b.writeUInt32LE(f.capLen, o + 8);
    b.writeUInt32LE(f.origLen, o + 12);
    f.buf.copy(b, o + 16, f.offset, f.offset + f.capLen);
    this.pendingLen += need;
  }

  private flushWrite(): void {
    if (!this.file || this.pendingLen === 0) return;
    this.file.write(Buffer.from(this.pending.subarray(0, this.pendingLen)));
    this.pendingLen = 0;
  }

  async stop(): Promise<void> {
    if (this.stopping) return this.ended;
    this.stopping = true;
    const countReached = this.opts.count !== undefined && this.info.packets >= this.opts.count;
    if (!this.closed && !countReached) await drainQuiet(() => this.lastDataAt);
    if (!this.closed) {
      this.closed = true;
      // never reopened: cap hangs when a closed instance is opened again
      this.cap?.close();
      if (this.flushTimer) clearInterval(this.flushTimer);
      this.flushWrite();
      const file = this.file;
      if (file) await new Promise<void>((r) => file.end(r));
      this.resolveEnded();
    }
    await this.ended;
  }

  kill(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.cap?.close();
    } catch { /* closing twice */ }
    this.resolveEnded();
  }
}
