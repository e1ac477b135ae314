/**
 * write-after-peer-close's goodbye cases (issue 15), shared by the CLI test
 * (write-after-close-crafted.test.ts: the finding and the report's advice)
 * and the in-process one (rst-causes.test.ts: exact texts, the `rst-causes`
 * mutation group's killing test).
 */
import type { Seg } from './pcap-writer.js';

const C: [string, number] = ['10.5.0.1', 43000];
const S: [string, number] = ['10.5.0.2', 7000];

/** A writer FIN after the RST in the capture (capture near the closer): still a goodbye. RST frame 7, the writer's FIN frame 8. */
export const GOODBYE_FIN_AFTER_RST: Seg[] = [
  { tsSec: 700, src: C, dst: S, flags: 'S', seq: 100 },
  { tsSec: 700, tsUsec: 1000, src: S, dst: C, flags: 'SA', seq: 9000, ack: 101 },
  { tsSec: 700, tsUsec: 2000, src: C, dst: S, flags: 'A', seq: 101, ack: 9001 },
  { tsSec: 700, tsUsec: 3000, src: C, dst: S, flags: 'PA', seq: 101, ack: 9001, len: 6 }, // 4: QUIT
  { tsSec: 700, tsUsec: 3100, src: C, dst: S, flags: 'FA', seq: 107, ack: 9001 }, // 5: the client closes at once
  { tsSec: 700, tsUsec: 50000, src: S, dst: C, flags: 'PA', seq: 9001, ack: 108, len: 9 }, // 6: "221 bye" after reading the FIN
  { tsSec: 700, tsUsec: 50050, src: C, dst: S, flags: 'R', seq: 108 }, // 7: the closed client socket resets
  { tsSec: 700, tsUsec: 50100, src: S, dst: C, flags: 'FA', seq: 9010, ack: 108 }, // 8: the server's FIN, sent before the RST reached it
];

/** A writer that aborted with its own RST (frame 6) before the closer's RST (frame 7). */
export const GOODBYE_WRITER_ABORT: Seg[] = [
  { tsSec: 800, src: C, dst: S, flags: 'S', seq: 100 },
  { tsSec: 800, tsUsec: 1000, src: S, dst: C, flags: 'SA', seq: 9000, ack: 101 },
  { tsSec: 800, tsUsec: 2000, src: C, dst: S, flags: 'A', seq: 101, ack: 9001 },
  { tsSec: 800, tsUsec: 3000, src: C, dst: S, flags: 'FA', seq: 101, ack: 9001 }, // 4: the client closes
  { tsSec: 800, tsUsec: 4000, src: S, dst: C, flags: 'PA', seq: 9001, ack: 102, len: 7 }, // 5: the server's last data
  { tsSec: 800, tsUsec: 4030, src: S, dst: C, flags: 'RA', seq: 9008, ack: 102 }, // 6: the server aborts itself
  { tsSec: 800, tsUsec: 8000, src: C, dst: S, flags: 'R', seq: 102 }, // 7: the client's closed socket answers frame 5
];
