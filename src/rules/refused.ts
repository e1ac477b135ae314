/**
 * refused: SYN answered by RST/ACK (no listener). Key frame: the RST. One
 * connect() is one finding: a SYN retried with the same ISN after the RST
 * (Windows tries three times, 0.5 s apart) starts a new record each time, so
 * the records before the last are told by the last (src/tcp/link.ts).
 */
import { sameConnectBefore, sameSynRetryNext } from './patience.js';
import { oneSidedRefusal } from './one-sided.js';
import type { Rule, RuleHit } from './types.js';
import { actorOf, endpointName, framesBetween, segTime, who } from './teardown.js';

export const rule: Rule = {
  id: 'refused',
  title: 'Connection refused',
  severity: 'warning',
  explanation: 'The SYN was answered by RST/ACK (seq 0, ack = ISN+1): nothing listened on that port, so the '
    + "responder's kernel refused the connection. The client's connect() fails with ECONNREFUSED.",
  evaluate({ c, rec, verdicts }): RuleHit[] {
    const hits: RuleHit[] = [];
    const lone = oneSidedRefusal(c, rec);
    if (lone !== null) {
      // only the server's answer was captured: the SYN took another path (src/rules/one-sided.ts)
      const rst = lone.seg;
      const server = `the server ${endpointName(rec, rst.fromOrig)}`;
      const client = endpointName(rec, !rst.fromOrig);
      const port = (rst.fromOrig ? rec.orig : rec.resp).port;
      const isn = ((rst.ack >>> 0) - 1) >>> 0;
      return [{
        frame: rst.frame,
        frames: [rst.frame],
        actor: 'server',
        summary: `${server} answered a connection attempt from the client ${client} with RST/ACK (frame ${rst.frame}; sequence number 0 and ack ${rst.ack >>> 0}: the answer to a SYN with ISN ${isn}, which the capture does not have): no process listened on port ${port}; connect() failed with ECONNREFUSED. Only the server's side of this attempt was captured.`,
        app: { [rst.fromOrig ? 'resp' : 'orig']: 'connect() failed with ECONNREFUSED', [rst.fromOrig ? 'orig' : 'resp']: 'no listening socket: the kernel answered' },
        evidence: { synFrame: null, rstFrame: rst.frame, synAttempts: null, answerMs: null, rstShape: 'refusal', port, server: endpointName(rec, rst.fromOrig), seen: rec.seen, synIsn: isn },
      }];
    }
    // the client's kernel tries the same connect() again (same ISN) in the next record: that record tells it
    if (sameSynRetryNext(c)) return hits;
    const before = sameConnectBefore(c);
    for (const v of verdicts) {
      if (v.cause !== 'refused') continue;
      const rst = v.rst.seg;
      const synFrames = c.origM.synFrames;
      const synTimes = c.origM.synTimes;
      const rttMs = synTimes.length > 0 ? Math.round((segTime(rst) - synTimes[synTimes.length - 1]) * 1e6) / 1e3 : null;
      const frames = framesBetween(c, synFrames[0] ?? c.firstFrame, rst.frame, synFrames);
      if (before === null || before.refusals === 0 || before.synFrame === 0) {
        const firstSyn = synFrames[0] ?? c.firstFrame;
        hits.push({
          frame: rst.frame,
          frames,
          actor: actorOf(c, rst.fromOrig),
          summary: `${who(c, rec, !rst.fromOrig)} tried to connect (SYN, frame ${firstSyn}) and ${who(c, rec, rst.fromOrig)} answered with RST/ACK (frame ${rst.frame}): no process listened on port ${rec.resp.port}; connect() failed with ECONNREFUSED.`,
          app: { [rst.fromOrig ? 'resp' : 'orig']: 'connect() failed with ECONNREFUSED', [rst.fromOrig ? 'orig' : 'resp']: 'no listening socket: the kernel answered' },
          evidence: {
            synFrame: firstSyn, rstFrame: rst.frame, synAttempts: synFrames.length, answerMs: rttMs,
            rstShape: v.shape, port: rec.resp.port, server: endpointName(rec, false),
          },
        });
        continue;
      }
      // one connect() across records: its kernel retried the SYN (same ISN) after each RST/ACK
      const attempts = before.syns + synFrames.length;
      const refusals = before.refusals + 1;
      const tookSec = Math.round((segTime(rst) - before.synTime) * 1000) / 1000;
      hits.push({
        frame: rst.frame,
        frames: [...new Set([...before.frames, ...frames])].sort((a, b) => a - b),
        actor: actorOf(c, rst.fromOrig),
        summary: `${who(c, rec, !rst.fromOrig)} tried to connect (SYN, frame ${before.synFrame}) and ${who(c, rec, rst.fromOrig)} answered with RST/ACK; its kernel sent the same SYN (same ISN) ${attempts} time(s) in all and each was refused, the last at frame ${rst.frame}: no process listened on port ${rec.resp.port}; one connect() failed with ECONNREFUSED after ${tookSec} s.`,
        app: {
          [rst.fromOrig ? 'resp' : 'orig']: `connect() failed with ECONNREFUSED after ${tookSec} s (the kernel retried the refused SYN ${attempts - 1} time(s))`,
          [rst.fromOrig ? 'orig' : 'resp']: 'no listening socket: the kernel answered',
        },
        evidence: {
          synFrame: before.synFrame, rstFrame: rst.frame, synAttempts: attempts, refusals, connectSec: tookSec, answerMs: rttMs,
          rstShape: v.shape, port: rec.resp.port, server: endpointName(rec, false),
        },
      });
    }
    return hits;
  },
};
