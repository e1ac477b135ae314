/**
 * Mid-stream starts (issue 14, item 5): a capture that begins inside a
 * connection. Measured on every bundled capture cut at every packet boundary
 * (the first k frames dropped, as a capture started late):
 * - must not fire: nothing at error severity that the whole capture does not
 *   report at the same frame, no syn-unanswered / refused /
 *   simultaneous-open without a SYN in the cut, no half-open above info
 *   that the whole capture does not report;
 * - every finding on a connection whose handshake was cut away says how its
 *   roles were inferred (evidence `roles`, the summary), and the record has `roles`;
 * - must fire: rst-with-unread-data, write-after-peer-close and
 *   keepalive-reset with the handshake cut away, naming the right endpoints;
 *   with the server on a well-known port the roles come from the port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { analyze } from '../src/analysis/analyze.js';
import { TCP_ACK, TCP_SYN } from '../src/decode/packet.js';
import { CAPTURES, runCli } from './helpers.js';
import { fixChecksums, pcapRecords, srcPortOf, tcpOf, writePcap } from './pcap-records.js';

const tmp = mkdtempSync(join(tmpdir(), 'rstscope-midstream-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** The capture without its first `k` frames (as if started late), optionally with one port renumbered. */
function cut(file: string, k: number, port?: { from: number; to: number }): string {
  const { header, recs, ip } = pcapRecords(file);
  const kept = recs.slice(k).map((r) => {
    if (port === undefined) return r;
    const c = Buffer.from(r);
    const t = tcpOf(c, ip);
    for (const o of [t, t + 2]) if (c.readUInt16BE(o) === port.from) c.writeUInt16BE(port.to, o);
    fixChecksums(c, ip);
    return c;
  });
  return writePcap(join(tmp, `${basename(file, '.pcap')}-from-${k + 1}${port ? `-port${port.to}` : ''}.pcap`), header, kept);
}

test('every bundled capture cut at every packet boundary: nothing invented from the missing start, the inference said', async () => {
  let cuts = 0;
  let inferred = 0;
  for (const name of readdirSync(CAPTURES).filter((f) => f.endsWith('.pcap'))) {
    const file = join(CAPTURES, name);
    const full = await analyze([file]);
    const known = new Set(full.findings.map((f) => `${f.rule}@${f.frame}`));
    const { recs, ip } = pcapRecords(file);
    const files: string[] = [];
    for (let k = 1; k < recs.length; k++) files.push(cut(file, k));
    const res = await analyze(files, { perFile: true });
    cuts += files.length;
    for (const f of res.findings) {
      const k = f.input + 1;
      const at = `${name} from frame ${k + 1}: ${f.rule} at ${f.frame + k} (${f.severity})`;
      const seen = known.has(`${f.rule}@${f.frame + k}`);
      if (f.severity === 'error') assert.ok(seen, `${at}: an error the whole capture does not report`);
      if (f.rule === 'half-open' && f.severity !== 'info') assert.ok(seen, `${at}: half-open above info, not in the whole capture`);
      // a lone RST/ACK with seq 0 is itself the proof of a refusal (the one-sided case, test/one-sided.test.ts)
      if (['syn-unanswered', 'refused', 'simultaneous-open'].includes(f.rule) && f.evidence.seen === undefined) {
        const syns = recs.slice(k).filter((r) => (r[tcpOf(r, ip) + 13] & (TCP_SYN | TCP_ACK)) === TCP_SYN);
        assert.ok(syns.length > 0, `${at}: needs a SYN, and the cut has none`);
      }
      const rec = res.connections.find((c) => c.id === f.connection)!;
      if (rec.roles !== undefined && f.evidence.seen === undefined) { // one-sided: test/one-sided.test.ts
        inferred++;
        assert.equal(f.evidence.roles, rec.roles, at);
        assert.match(f.summary, /The capture began inside this connection \(no handshake\): its roles are inferred from/, at);
        assert.ok(f.actor === 'orig' || f.actor === 'resp', `${at}: ${f.actor} named without a handshake`);
      } else if (rec.roles === undefined) assert.equal(f.evidence.roles, undefined, at);
    }
    for (const r of res.connections) {
      const { recs: kept } = pcapRecords(files[r.input]);
      const synFromOrig = kept.slice(r.firstFrame - 1, r.lastFrame).some((x) => (x[tcpOf(x, ip) + 13] & (TCP_SYN | TCP_ACK)) === TCP_SYN && srcPortOf(x, ip) === r.orig.port);
      if (synFromOrig) assert.equal(r.roles, undefined, `${name} cut ${r.input + 1}: the originator's SYN is in the cut`);
    }
  }
  assert.ok(cuts > 150, `${cuts} cuts`);
  assert.ok(inferred > 50, `${inferred} findings on connections whose roles were inferred`);
});

test('rst-with-unread-data after the handshake: still fires, as a warning, naming the server that reset', async () => {
  const f = cut(join(CAPTURES, 'rst-with-unread-data.pcap'), 3);
  const res = await analyze([f]);
  assert.equal(res.connections.length, 1);
  assert.equal(res.connections[0].roles, 'inferred-first-packet');
  assert.deepEqual(res.findings.map((x) => [x.rule, x.severity, x.frame, x.actor]), [['rst-with-unread-data', 'warning', 3, 'resp']]);
  assert.match(res.findings[0].summary, /127\.0\.0\.1:43677/);
  assert.equal(res.connections[0].resp.port, 43677, 'the server, which reset');
  // the flows table and show say how the roles were told
  assert.match((await runCli(['flows', f])).stdout, /127\.0\.0\.1:39006 \(roles: first packet\)/);
  const show = await runCli(['show', f, '0']);
  assert.match(show.stdout, /no handshake captured: roles inferred from the first packet captured/);
});

test('write-after-peer-close with the handshake cut away: still fires (the FIN is captured); on port 80 the roles come from the port', async () => {
  const file = join(CAPTURES, 'write-after-peer-close-bug.pcap');
  // frame 4 (the server's FIN) first: by the first packet the server would be the originator
  const first = await analyze([cut(file, 3)]);
  assert.equal(first.connections[0].roles, 'inferred-first-packet');
  assert.equal(first.connections[0].orig.port, 33031, 'the first packet\'s sender');
  assert.deepEqual(first.findings.map((x) => [x.rule, x.severity, x.frame]), [['write-after-peer-close', 'error', 4]]);
  // the server on port 80 (a likely server port): the client is the originator whoever spoke first
  const byPort = await analyze([cut(file, 3, { from: 33031, to: 80 })]);
  const rec = byPort.connections[0];
  assert.equal(rec.roles, 'inferred-port');
  assert.deepEqual([rec.orig.port, rec.resp.port], [35828, 80]);
  assert.deepEqual(byPort.findings.map((x) => [x.rule, x.severity, x.frame, x.actor]), [['write-after-peer-close', 'error', 4, 'resp']]);
  assert.match(byPort.findings[0].summary, /inferred from the ports \(80 is a well-known server port\)/);
});

test('after the peer\'s FIN was cut away: not a half-open error, and both readings are told', async () => {
  // from frame 5: the server's FIN is not in the capture; the client's data is answered by a RST
  const res = await analyze([cut(join(CAPTURES, 'write-after-peer-close-bug.pcap'), 4)]);
  assert.equal(res.findings.filter((f) => f.severity === 'error').length, 0);
  const h = res.findings.find((f) => f.rule === 'half-open')!;
  assert.equal(h.severity, 'info');
  assert.match(h.summary, /whether it had closed \(a FIN before the capture began: then this RST answers a write after close\) or had lost the connection/);
});

test('keep-alive probes mid-stream: keepalive-reset still fires when the capture begins after the handshake and the data', async () => {
  const res = await analyze([cut(join(CAPTURES, 'keepalive-reset.pcap'), 4)]);
  assert.deepEqual(res.findings.map((f) => [f.rule, f.severity, f.frame]), [['keepalive-reset', 'warning', 8]]);
  // Zeek's view of the record is unchanged by the probes (history and counts as before the fix)
  assert.equal(res.connections[0].history, 'AaR');
});
