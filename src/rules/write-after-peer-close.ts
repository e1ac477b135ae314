/**
 * write-after-peer-close: one side sent FIN (close()), the other side then
 * sent data, and the closer's kernel answered with RST. Key frame: the RST.
 *
 * Variants (evidence.variant; the report's "How to fix" is chosen by it):
 *  - "goodbye" (info): the writer sent its own FIN as well. A kernel sends no
 *    FIN for a socket a RST has already reset, so the writer's application
 *    had closed (or shut down writing) before the RST reached it: that data
 *    was its last, no write of it could fail, and no EPIPE/SIGPIPE followed.
 *    This is an ordinary goodbye that raced the peer's close (an SMTP 221
 *    after QUIT+FIN, a TLS close_notify, a reply to a request sent just
 *    before the requester's FIN). Issue 15: 234 of 279 findings on public
 *    captures were this. Likewise when the writer sent its own RST (an
 *    abort) before the closer's RST in the capture: at one capture point,
 *    that RST left before the closer's RST could have reached the writer,
 *    so the writer had ended the connection itself (its abort has a
 *    finding of its own) and no write of it failed because of the peer.
 *  - "bug" (error): the writer's data acknowledged the FIN (it had received
 *    it and wrote anyway) and it never closed before the RST.
 *  - "race" (error): the data was sent before the FIN arrived and the writer
 *    never closed before the RST.
 *  - "after-client-close" (warning): as "bug" or "race", but the writer is
 *    the server and the closer its client. A server's last bytes after its
 *    client's close are most often a reply to the client's last request or
 *    a parting message written on EOF (an SMTP 421 or 500, a TLS
 *    close_notify, an RPC fault, a WebSocket Pong) followed by the server's
 *    own close(), which the client's RST overtook: no FIN is sent by a socket
 *    a RST has reset, so the wire cannot show that close, nor a failed second
 *    write. Issue 15: the four known-wrong errors of this rule on public
 *    captures were all this (docs/accuracy.md). Told as what is known, both
 *    outcomes named; roles must be known (a handshake, this record's or the
 *    record it continues), else "bug"/"race" stand.
 *
 * One story per connection: when both sides' kernels reset data that arrived
 * after their own close, the two closes crossed (each side is the other's
 * late writer, and both sent FINs): that is one goodbye on both sides, told
 * as one finding, never as two stories with opposite "who closed first".
 * When the closes crossed (close-order.ts), the finding names the
 * simultaneous-close finding as its cause (evidence.causedBy).
 * Cost: per RST verdict, the pinned milestones plus at most one pass over the
 * kept evidence segments (as before); nothing per packet.
 */
import type { Segment } from '../tcp/connection.js';
import { crossedFins, type CrossedFins } from './close-order.js';
import type { RstVerdict } from './teardown.js';
import type { Rule, RuleContext, RuleHit } from './types.js';
import { actorOf, framesBetween, segTime, sideKey, who } from './teardown.js';

export const rule: Rule = {
  id: 'write-after-peer-close',
  title: 'Write after the peer closed: answered with RST',
  severity: 'error',
  explanation: 'One side called close() and sent FIN. The other side kept writing; the closed socket cannot take '
    + 'data, so its kernel answered with RST. The writer\'s next write() fails with EPIPE and raises SIGPIPE, which '
    + 'kills a process that does not ignore it (ECONNRESET if the RST arrives before the FIN was processed). '
    + 'Variant goodbye (info): the writer closed too, right after its last data (an SMTP 221, a TLS close_notify, '
    + 'a final reply), so no write failed; only that last message went unread.',
  evaluate({ c, rec, verdicts }: RuleContext): RuleHit[] {
    const lates: Late[] = [];
    for (const v of verdicts) {
      if (v.cause !== 'write-after-peer-close') continue;
      const l = lateWrite(c, v);
      if (l) lates.push(l);
    }
    // Stryker disable next-line ConditionalExpression: as `false` equivalent: with no lates the map below returns [] too (the `true`, killed, is hidden with it)
    if (lates.length === 0) return [];
    const crossed = crossedFins(c);
    // At most one verdict per side (teardown.ts). Two means each side's kernel reset data that arrived after its
    // own close: each late writer is the other closer, so both sent FINs, both are goodbyes, and the FINs crossed.
    if (lates.length === 2) return [bothSides(c, rec, lates[0], lates[1], crossed)];
    return lates.map((l) => (l.writerFin || l.writerRst ? goodbye(c, rec, l, crossed)
      : actorOf(c, !l.closer) === 'server' ? afterClientClose(c, rec, l) : lateWriteError(c, rec, l)));
  },
};

type Ctx = RuleContext['c'];
type Rec = RuleContext['rec'];

/** One RST that answered data arriving after its sender's FIN. */
interface Late {
  v: RstVerdict;
  rst: Segment;
  /** the RST sender (the side that closed) is the originator */
  closer: boolean;
  /** the closer's FIN */
  fin: Segment;
  /** the first data the closer had not acknowledged when it sent FIN */
  data: Segment;
  dataAckedFin: boolean;
  bytes: number;
  /** the writer's own FIN, when it sent one (the goodbye variant) */
  writerFin: Segment | null;
  /** the writer's own RST sent before the closer's RST (capture order): it aborted the connection itself (goodbye too) */
  writerRst: Segment | null;
}

function lateWrite(c: Ctx, v: RstVerdict): Late | null {
  const rst = v.rst.seg;
  const closer = rst.fromOrig;
  const writerM = c.milestones(!closer);
  const fin = c.milestones(closer).fin;
  if (!fin) return null;
  // the first data the closer had not acknowledged when it sent FIN: after the FIN on the wire, or crossing it
  // (sent before the FIN arrived), pinned when the FIN came (evidence.ts fin: the log then holds every crossing
  // segment it will ever hold, so a search of the log here could find no other)
  const data = writerM.firstDataAfterPeerFin;
  if (!data) return null;
  const closerEp = c.ep(closer);
  return {
    v, rst, closer, fin, data,
    // Stryker disable next-line ConditionalExpression: `finRel >= 0` as `true` is equivalent: lateWrite returned null above without the closer's FIN, which set finRel (the line's `false`, killed, is hidden with it)
    dataAckedFin: closerEp.finRel >= 0 &&
      data.ackRel > closerEp.finRel,
    bytes: Math.max(writerM.dataAfterPeerFin, v.rst.receiverDataBeyondSenderFinAck),
    writerFin: writerM.fin,
    // Stryker disable next-line ConditionalExpression,EqualityOperator: the side test as `true` and `<` as `<=` are equivalent: the closer has no RST before this one (a verdict's RST without suspicion is its side's first, teardown.ts) and this one is the closer's (the line's other mutants of those kinds, killed, are hidden with them)
    writerRst: c.rsts.find((r) => r.seg.fromOrig !== closer && r.seg.frame < rst.frame)?.seg ?? null,
  };
}

/** The race and bug variants: the writer was still open when the RST reached it. */
function lateWriteError(c: Ctx, rec: Rec, l: Late): RuleHit {
  const { rst, closer, fin, data, bytes, dataAckedFin } = l;
  const variant = dataAckedFin ? 'bug' : 'race';
  const writer = who(c, rec, !closer);
  const closerName = who(c, rec, closer);
  const summary = `${closerName} closed first (FIN, frame ${fin.frame}); ${writer} ${variant === 'bug' ? 'then' : 'meanwhile'} wrote ${bytes} byte(s) (frame ${data.frame})`
    + (variant === 'bug' ? ' after it had received that FIN' : ' before that FIN reached it (a race)')
    + `; ${closerName}'s kernel answered with RST (frame ${rst.frame}). `
    + (variant === 'bug'
      ? 'The writer\'s kernel had that FIN before the data left (its application may not have read the EOF yet); the data was lost, and the writer\'s next write fails with EPIPE and SIGPIPE.'
      : 'The FIN still arrived before the RST, so the writer\'s next write fails with EPIPE and SIGPIPE (ECONNRESET only if the FIN was lost).')
    + captureEndsAfter(c, rst);
  return {
    frame: rst.frame,
    frames: framesBetween(c, fin.frame, rst.frame),
    actor: actorOf(c, closer),
    summary,
    app: {
      [sideKey(closer)]: 'had called close(); its kernel reset the connection when data arrived',
      [sideKey(!closer)]: variant === 'bug'
        ? 'the write() succeeded locally (its kernel already had the FIN: read() would return 0, EOF), then the next write() failed with EPIPE (SIGPIPE unless ignored or MSG_NOSIGNAL)'
        : 'write() succeeded locally (it was sent before the FIN arrived); read() then returned 0 (EOF), and the next write() failed with EPIPE (SIGPIPE unless ignored); ECONNRESET only if the FIN was lost',
    },
    evidence: {
      variant, finFrame: fin.frame, firstDataFrame: data.frame, bytesAfterFin: bytes,
      rstFrame: rst.frame, rstShape: l.v.shape, dataAckedFin,
    },
  };
}

/**
 * The server wrote after its client's close and no close of its own is on the wire: a last reply or parting
 * message whose close() the RST overtook (nothing failed), or a write with more to come (the next one failed
 * with EPIPE). The capture cannot tell them apart: warning, both named.
 */
function afterClientClose(c: Ctx, rec: Rec, l: Late): RuleHit {
  const { rst, closer, fin, data, bytes, dataAckedFin } = l;
  const client = who(c, rec, closer);
  const server = who(c, rec, !closer);
  const summary = (dataAckedFin
    ? `${client} closed (FIN, frame ${fin.frame}); ${server} then sent ${bytes} byte(s) (frame ${data.frame}) after it had received that FIN`
    : `${client} closed (FIN, frame ${fin.frame}) while ${server}'s ${bytes} byte(s) (from frame ${data.frame}) were on their way (they crossed the FIN)`)
    + `, and ${client}'s kernel answered with RST (frame ${rst.frame}): the client's application never reads them. `
    + 'A server\'s last bytes after its client\'s close are most often a reply to the last request or a parting message '
    + '(an SMTP 421 or 500, a TLS close_notify, an RPC fault) followed by its own close(), which the RST overtook: then nothing failed. '
    + 'If the server wrote again, that write failed with EPIPE (SIGPIPE unless ignored). The capture cannot show which: '
    + 'a socket sends nothing after a RST, neither its FIN nor a failed write.';
  return {
    frame: rst.frame,
    frames: framesBetween(c, fin.frame, rst.frame),
    actor: actorOf(c, closer),
    summary,
    app: {
      [sideKey(closer)]: `had called close(); its kernel discarded the server's last ${bytes} byte(s) unread and answered with RST; no error reached it`,
      [sideKey(!closer)]: 'the write succeeded locally; after a last message and close() nothing failed; a later write, if any, failed with EPIPE (SIGPIPE unless ignored)',
    },
    evidence: {
      variant: 'after-client-close', finFrame: fin.frame, firstDataFrame: data.frame, bytesAfterFin: bytes,
      rstFrame: rst.frame, rstShape: l.v.shape, dataAckedFin,
    },
    severity: 'warning',
  };
}

/** A capture that ends this soon after the RST may lack a FIN the writer sent before the RST reached it. */
const CAPTURE_END_MARGIN_SEC = 1;

/**
 * When the capture ends within CAPTURE_END_MARGIN_SEC of the RST: what that leaves open (a goodbye whose FIN the
 * capture did not get), else ''. The verdict stands (the writer's FIN is missing as far as the capture goes).
 */
function captureEndsAfter(c: Ctx, rst: Segment): string {
  if (c.endReason !== 'end') return '';
  const left = c.closedAt - segTime(rst);
  if (left >= CAPTURE_END_MARGIN_SEC) return '';
  const ms = Math.round(left * 1e6) / 1e3;
  const when = ms <= 0 ? 'with this RST' : `${ms} ms after this RST`;
  return ` The capture ends ${when}, so it could lack a FIN the writer sent before the RST reached it: if that data was its last message before close(), nothing failed.`;
}

/** "in the same segment" or "0.152 ms later": when the writer's FIN followed its data. */
function finTiming(data: Segment, writerFin: Segment): string {
  if (writerFin.frame === data.frame) return 'in the same segment';
  const ms = Math.round((segTime(writerFin) - segTime(data)) * 1e6) / 1e3;
  return `${ms} ms after frame ${data.frame}`;
}

/** The simultaneous-close finding this one follows from, as evidence.causedBy. */
function causedBy(crossed: CrossedFins | null): Record<string, unknown> {
  return crossed ? { causedBy: { rule: 'simultaneous-close', frame: crossed.second.frame } } : {};
}

/** The goodbye variant on one side: the writer closed right after its last data, before the RST reached it. */
function goodbye(c: Ctx, rec: Rec, l: Late, crossed: CrossedFins | null): RuleHit {
  const { rst, closer, fin, data, bytes, dataAckedFin } = l;
  // the writer's own end: its FIN, else its own RST (an abort) sent before the closer's RST
  const wfin = (l.writerFin ?? l.writerRst)!;
  const byRst = l.writerFin === null;
  const writer = who(c, rec, !closer);
  const closerName = who(c, rec, closer);
  const ownFin = byRst
    ? `followed by its own RST (frame ${wfin.frame}, ${finTiming(data, wfin)}: it aborted the connection itself)`
    : `followed by its own FIN (frame ${wfin.frame}, ${finTiming(data, wfin)})`;
  const how = dataAckedFin
    ? `${closerName} closed first (FIN, frame ${fin.frame}); ${writer} received that FIN and sent its last ${bytes} byte(s) (frame ${data.frame}) ${ownFin}`
    : crossed
      ? `${closerName} closed (FIN, frame ${fin.frame}) while ${writer} was sending its last ${bytes} byte(s) (frame ${data.frame}), ${ownFin}: the FINs crossed (simultaneous-close, frame ${crossed.second.frame})`
      : `${closerName} closed first (FIN, frame ${fin.frame}); ${writer} sent its last ${bytes} byte(s) (frame ${data.frame}) before that FIN reached it, ${ownFin}`;
  const summary = `${how}; ${closerName}'s kernel answered that data, which its application would no longer read, with RST (frame ${rst.frame}). `
    + (byRst
      ? 'The writer had ended the connection itself before that RST reached it, so no write of it failed because of it (no EPIPE, no SIGPIPE).'
      : 'An ordinary goodbye (a last reply or close_notify the closer did not wait for): the writer had closed before the RST reached it, so no write failed (no EPIPE, no SIGPIPE).');
  return {
    frame: rst.frame,
    frames: framesBetween(c, fin.frame, rst.frame, [data.frame, wfin.frame]),
    actor: actorOf(c, closer),
    summary,
    app: {
      [sideKey(closer)]: `close() returned 0 without reading the peer's last ${bytes} byte(s); its kernel discarded them and answered with RST; no error reached the application`,
      [sideKey(!closer)]: byRst
        ? `wrote its last ${bytes} byte(s) and aborted the connection itself (its own RST) before the peer's RST arrived: no later write failed because of the peer's RST`
        : `${dataAckedFin ? 'read() returned 0 (EOF); it ' : ''}wrote its last ${bytes} byte(s) and closed (FIN) before the RST arrived: write() and close() succeeded and no later write failed`,
    },
    evidence: {
      variant: 'goodbye', finFrame: fin.frame, firstDataFrame: data.frame, bytesAfterFin: bytes,
      rstFrame: rst.frame, rstShape: l.v.shape, dataAckedFin, writerFinFrame: l.writerFin?.frame ?? null,
      ...(byRst ? { writerRstFrame: wfin.frame } : {}), ...causedBy(crossed),
    },
    severity: 'info',
  };
}

/**
 * Both sides' kernels reset the other's last data: both wrote a last message and closed at once. One finding,
 * keyed on the first RST; `otherDirection` holds the second RST's facts.
 */
function bothSides(c: Ctx, rec: Rec, a0: Late, b0: Late, crossed: CrossedFins | null): RuleHit {
  // Stryker disable next-line ConditionalExpression,EqualityOperator,ArrayDeclaration: equivalent: the lates come in capture order (rstVerdicts walks c.rsts, which is in capture order), so a0's RST is the earlier one and the test is always true: as `true`, as `<` (two RSTs are two frames) or with the other branch's array emptied nothing changes (the test's `false`, which swaps the two, is killed by the both-sides captures and hidden with them)
  const [a, b] = a0.rst.frame <= b0.rst.frame ? [a0, b0] : [b0, a0];
  // each Late's writer is the other's closer: name each side by what it sent, in the order of their FINs
  // Stryker disable next-line StringLiteral: `'?'` as `""` is equivalent: each late's writer is the other late's closer, whose FIN made it a late, so writerFin is never null here (the line's template as an empty string, killed by the both-sides captures' summaries, is hidden with it)
  const side = (l: Late): string => `${who(c, rec, !l.closer)} (data from frame ${l.data.frame}, FIN frame ${l.writerFin?.frame ?? '?'})`;
  // Stryker disable next-line EqualityOperator: `<=` as `<` is equivalent: the two writer FINs are the two sides' own FINs, two frames, never equal (the `>` mutant, killed, is hidden with it)
  const [w1, w2] = (a.writerFin?.frame ?? 0) <= (b.writerFin?.frame ?? 0) ? [a, b] : [b, a];
  const summary = `${side(w1)} and ${side(w2)} each sent their last data and closed at the same time`
    + (crossed ? `: the FINs crossed (simultaneous-close, frame ${crossed.second.frame})` : '')
    + `. Each kernel then received the other's last data after its own close and answered it with RST (frames ${a.rst.frame}, ${b.rst.frame}). `
    + 'A goodbye on both sides: each application had closed, so no write failed (no EPIPE, no SIGPIPE); only the last bytes each sent went unread.';
  const seen = (l: Late): string => `wrote its last ${b === l ? a.bytes : b.bytes} byte(s) and closed; close() returned 0; the peer's last ${l.bytes} byte(s) arrived after that and its kernel answered them with RST; no error reached the application`;
  const extra = [a.data.frame, b.data.frame, a.rst.frame, b.rst.frame];
  // Stryker disable next-line ConditionalExpression: the test as `true` is equivalent: a's writer is b's closer, which sent a FIN, so writerFin is never null here (its `false`, killed by the both-sides captures, is hidden with it)
  if (a.writerFin) extra.push(a.writerFin.frame);
  // not disabled: the test as `true` is equivalent (b's writer is a's closer, so writerFin is never null here), but its
  // `false` is not (b's writer FIN is a's FIN, which only this adds once the evidence ring lost it): no capture yet
  if (b.writerFin) extra.push(b.writerFin.frame);
  return {
    frame: a.rst.frame,
    frames: framesBetween(c, Math.min(a.fin.frame, b.fin.frame), a.rst.frame, extra),
    actor: actorOf(c, a.closer),
    summary,
    app: { [sideKey(a.closer)]: seen(a), [sideKey(b.closer)]: seen(b) },
    evidence: {
      variant: 'goodbye', finFrame: a.fin.frame, firstDataFrame: a.data.frame, bytesAfterFin: a.bytes,
      rstFrame: a.rst.frame, rstShape: a.v.shape, dataAckedFin: a.dataAckedFin, writerFinFrame: a.writerFin?.frame ?? null,
      ...causedBy(crossed),
      otherDirection: {
        finFrame: b.fin.frame, firstDataFrame: b.data.frame, bytesAfterFin: b.bytes,
        rstFrame: b.rst.frame, rstShape: b.v.shape, dataAckedFin: b.dataAckedFin, writerFinFrame: b.writerFin?.frame ?? null,
      },
    },
    severity: 'info',
  };
}
