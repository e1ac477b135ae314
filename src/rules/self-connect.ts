/**
 * self-connect: a socket connected to itself, source and destination the same address and port (issue 16).
 * Linux answers its own SYN as a simultaneous open (tcp_rcv_synsent_state_process: a SYN without ACK in SYN_SENT
 * moves to SYN_RECV and sends SYN/ACK with the same ISN), so connect() succeeds with nobody on the other end. It
 * happens when a client connects to a local port inside net.ipv4.ip_local_port_range while nothing listens there
 * and the kernel picks that same port as the source (or a program binds the port it connects to). Key frame: the
 * socket's SYN/ACK to its own SYN (the proof the SYN came back to it), else its first SYN, else its first packet.
 */
import { TCP_ACK, TCP_SYN } from '../decode/packet.js';
import { endpointName } from './teardown.js';
import type { Rule, RuleHit } from './types.js';

export const rule: Rule = {
  id: 'self-connect',
  title: 'Self-connect (a socket connected to itself)',
  severity: 'warning',
  explanation: 'The connection\'s source and destination are the same address and port: one socket sent a SYN that '
    + 'came back to itself and answered it (a simultaneous open with itself). connect() succeeded although nothing '
    + 'listened on the port; the application reads back what it writes and waits for replies that never come.',
  evaluate({ c, rec }): RuleHit[] {
    if (!c.selfConnected) return [];
    let syn = 0;
    let synAck = 0;
    for (const s of c.evidence()) {
      if ((s.flags & TCP_SYN) === 0 || s.frame <= 0) continue;
      if ((s.flags & TCP_ACK) === 0) { if (syn === 0) syn = s.frame; } else if (synAck === 0) synAck = s.frame;
    }
    const frame = synAck || syn || rec.firstFrame;
    const frames = [syn, synAck].filter((x) => x > 0);
    const me = endpointName(rec, true);
    const how = syn > 0 && synAck > 0
      ? `its SYN (frame ${syn}) came back to it and it answered its own SYN with SYN/ACK (frame ${synAck})`
      : 'every packet goes from that address and port to the same address and port';
    return [{
      frame,
      frames: frames.length > 0 ? frames : [frame],
      actor: 'orig',
      summary: `${me} connected to itself: ${how}. Its connect() succeeded with nobody on the other end. The usual `
        + `cause: a program connecting to a local port inside the ephemeral range (net.ipv4.ip_local_port_range) while `
        + `its server was down got that same port, ${rec.orig.port}, as its source; binding the port it connects to does the same.`,
      app: {
        orig: 'connect() succeeded, to itself: its writes come back as its own reads, and replies it waits for never come (getsockname() equals getpeername())',
        resp: 'the same socket (a self-connect has one)',
      },
      evidence: { address: me, synFrame: syn || null, synAckFrame: synAck || null },
    }];
  },
};
