/**
 * Live capture sources. A live source yields the same Frame records as the
 * file readers (src/capture/reader.ts), so decoding, tracking and rules are
 * shared with `analyze`. Two backends sit behind `LiveSource`:
 *
 * - `tcpdump` (default, src/capture/live-tcpdump.ts): a child process writing
 *   pcap to a pipe, parsed by the streaming pcap reader. Capture privilege
 *   stays with tcpdump (as dumpcap does for Wireshark); kernel drop counts
 *   come from tcpdump's statistics.
 * - `cap` (src/capture/live-cap.ts): in-process libpcap through the optional
 *   npm package `cap`. No drop counters, no kernel timestamps; see its header.
 *
 * Guarantees: a source never throws for capture content (problems land in
 * `info`); start-up failures reject `start()` with a LiveError whose message
 * says what to do; `stop()` resolves after every captured frame has been
 * delivered to the sink and `info` is final.
 */
// Static imports (a pending dynamic import holds no event-loop handle, so the
// process could exit before an error message is printed). live-cap.js does not
// load the cap package until CapSource.create is called.
import { CapSource } from './live-cap.js';
import { TcpdumpSource } from './live-tcpdump.js';
import type { LiveBackend, LiveOptions, LiveSource } from './live-source.js';

export {
  DEFAULT_BUFFER_KIB, DEFAULT_CAP_BUFFER_KIB, DEFAULT_SNAPLEN_BYTES, DRAIN_MAX_MS, DRAIN_QUIET_MS, drainQuiet, listInterfaces, LiveError,
  PERMISSION_HINT, type LiveBackend, type LiveOptions, type LiveSource,
} from './live-source.js';

/** Opens a source; the cap package itself is loaded only here, when asked for. */
export function openLiveSource(backend: LiveBackend, opts: LiveOptions): LiveSource {
  return backend === 'cap' ? CapSource.create(opts) : new TcpdumpSource(opts);
}
