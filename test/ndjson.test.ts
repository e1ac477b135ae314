/**
 * The NDJSON writer (src/report/ndjson.ts): the exact line of every record
 * type, the worker template filled in equals the line written directly,
 * the totals sentence of `analyze` and `live`, and the eviction warning.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyze } from '../src/analysis/analyze.js';
import {
  NDJSON_SCHEMA, ndjsonConnection, ndjsonConnectionWithFindings, ndjsonFillIds, ndjsonFinding, ndjsonInput, ndjsonTemplate, ndjsonTotals,
} from '../src/report/ndjson.js';
import { evictionWarning } from '../src/report/eviction.js';
import { totals, totalsSentence } from '../src/report/findings.js';
import type { Finding } from '../src/rules/types.js';
import type { ConnRecord } from '../src/tcp/record.js';
import type { TrackerStats } from '../src/tcp/tracker.js';
import { CAPTURES, FIXTURES } from './helpers.js';

function record(): ConnRecord {
  return {
    id: 7, input: 1, stream: 3, orig: { ip: '192.0.2.1', port: 40000 }, resp: { ip: '2001:db8::2', port: 443 },
    uid: 'CAbc', communityId: '1:xyz', firstFrame: 10, lastFrame: 14, ts: 1700000000.25, duration: 0.5, state: 'RSTR', history: 'ShADr',
    origPkts: 3, respPkts: 2, origIpBytes: 169, respIpBytes: 80, origBytes: 5, respBytes: 0, origRetransBytes: 0, respRetransBytes: 0, rsts: 1,
    endReason: 'closed', resets: [{ frame: 14, from: 'resp', shape: 'live-socket', acceptance: 'accepted' }],
  };
}

function finding(rule = 'abortive-close'): Finding {
  return {
    rule, severity: 'warning', connection: 7, input: 1, stream: 3, uid: 'CAbc', communityId: '1:xyz', frame: 14, frames: [13, 14], ts: 1700000000.75,
    actor: 'server', summary: 'the server reset "it"\n', app: { orig: 'ECONNRESET' }, evidence: { unread: 5 },
  };
}

const REC_LINE = '{"type":"connection","schema":"rstscope/ndjson@1","id":7,"input":1,"stream":3,"orig":{"ip":"192.0.2.1","port":40000},'
  + '"resp":{"ip":"2001:db8::2","port":443},"uid":"CAbc","communityId":"1:xyz","firstFrame":10,"lastFrame":14,"ts":1700000000.25,"duration":0.5,'
  + '"state":"RSTR","history":"ShADr","origPkts":3,"respPkts":2,"origIpBytes":169,"respIpBytes":80,"origBytes":5,"respBytes":0,"origRetransBytes":0,'
  + '"respRetransBytes":0,"rsts":1,"endReason":"closed","resets":[{"frame":14,"from":"resp","shape":"live-socket",'
  + '"acceptance":"accepted"}]}\n';

const FINDING_LINE = '{"type":"finding","schema":"rstscope/ndjson@1","rule":"abortive-close","severity":"warning","connection":7,"input":1,"stream":3,'
  + '"uid":"CAbc","communityId":"1:xyz","frame":14,"frames":[13,14],"ts":1700000000.75,"actor":"server","summary":"the server reset \\"it\\"\\n",'
  + '"app":{"orig":"ECONNRESET"},"evidence":{"unread":5}}\n';

test('ndjson: the connection line', () => {
  assert.equal(ndjsonConnection(record()), REC_LINE);
});

test('ndjson: the finding line', () => {
  assert.equal(ndjsonFinding(finding()), FINDING_LINE);
});

test('ndjson: a connection with its findings', () => {
  assert.equal(ndjsonConnectionWithFindings(record(), [finding(), finding()]), REC_LINE + FINDING_LINE + FINDING_LINE);
  assert.equal(ndjsonConnectionWithFindings(record(), []), REC_LINE);
});

test('ndjson: the input line', () => {
  const inp = { file: 'a "b".pcap', format: 'pcap', linkTypes: ['ETHERNET'], packets: 9, bytes: 900, firstTs: null, lastTs: 2.5, warnings: [] };
  assert.equal(ndjsonInput(inp),
    '{"type":"input","schema":"rstscope/ndjson@1","file":"a \\"b\\".pcap","format":"pcap","linkTypes":["ETHERNET"],"packets":9,"bytes":900,"firstTs":null,"lastTs":2.5,"warnings":[]}\n');
});

test('ndjson: the totals line (live)', () => {
  const tot = { connections: 4, findings: 2, byRule: { 'refused': 2 }, bySeverity: { error: 0, warning: 0, info: 2 } };
  const stats = { frames: 12, evicted: 0 } as unknown as TrackerStats;
  assert.equal(ndjsonTotals(tot, { live: { backend: 'tcpdump', drops: null }, stats }),
    '{"type":"totals","schema":"rstscope/ndjson@1","connections":4,"findings":2,"byRule":{"refused":2},"bySeverity":{"error":0,"warning":0,"info":2},'
    + '"live":{"backend":"tcpdump","drops":null},"stats":{"frames":12,"evicted":0}}\n');
});

test('ndjson: every line is JSON.stringify of the object with its type first', () => {
  const rec = record();
  const f = finding();
  assert.equal(ndjsonConnection(rec), JSON.stringify({ type: 'connection', schema: NDJSON_SCHEMA, ...rec }) + '\n');
  assert.equal(ndjsonFinding(f), JSON.stringify({ type: 'finding', schema: NDJSON_SCHEMA, ...f }) + '\n');
  assert.equal(ndjsonInput({}), '{"type":"input","schema":"rstscope/ndjson@1"}\n');
  for (const l of (REC_LINE + FINDING_LINE).split('\n').filter(Boolean)) JSON.parse(l);
});

test('ndjson: the connection and finding lines spelled field by field are JSON.stringify of every record and finding of the bundled captures', async () => {
  // the bundled captures and the public ones (test/fixtures/public: other stacks, IPv6, odd histories)
  const files = readdirSync(CAPTURES).filter((n) => /\.pcap(ng)?$/.test(n)).map((n) => join(CAPTURES, n));
  const pub = join(FIXTURES, 'public');
  for (const d of readdirSync(pub, { withFileTypes: true })) {
    if (d.isDirectory()) files.push(...readdirSync(join(pub, d.name)).filter((n) => /\.pcap(ng)?$/.test(n)).map((n) => join(pub, d.name, n)));
  }
  assert.ok(files.length >= 30);
  let n = 0;
  let nf = 0;
  for (const name of files) {
    const r = await analyze([name]);
    for (const rec of r.connections) {
      assert.equal(ndjsonConnection(rec), JSON.stringify({ type: 'connection', schema: NDJSON_SCHEMA, ...rec }) + '\n', `${name} connection ${rec.id}`);
      n++;
    }
    for (const f of r.findings) {
      assert.equal(ndjsonFinding(f), JSON.stringify({ type: 'finding', schema: NDJSON_SCHEMA, ...f }) + '\n', `${name} finding at ${f.frame}`);
      nf++;
    }
  }
  // a capture set (file names next to frame numbers: analysis/frame-refs.ts), paths that need escaping included
  const ring = join(FIXTURES, 'ring');
  const ringRes = await analyze(readdirSync(ring).filter((x) => /\.pcap/.test(x)).sort().map((x) => join(ring, x)));
  let ns = 0;
  for (const rec of ringRes.connections) {
    assert.equal(ndjsonConnection(rec), JSON.stringify({ type: 'connection', schema: NDJSON_SCHEMA, ...rec }) + '\n', `ring connection ${rec.id}`);
    const odd = { ...rec, firstFile: 'a "quoted"\\path.pcap' } as typeof rec;
    assert.equal(ndjsonConnection(odd), JSON.stringify({ type: 'connection', schema: NDJSON_SCHEMA, ...odd }) + '\n');
    ns++;
  }
  assert.ok(ns > 0 && (ringRes.connections[0] as { firstFile?: string }).firstFile !== undefined, 'a set\'s records name files');
  // a set's findings, spelled (setFindingLine), then with a path that needs escaping, a frame in no file, and a key
  // order it does not know (the generic way)
  let nsf = 0;
  for (const f of ringRes.findings) {
    assert.equal(ndjsonFinding(f), JSON.stringify({ type: 'finding', schema: NDJSON_SCHEMA, ...f }) + '\n', `ring finding ${f.frame}`);
    const g = f as Finding & { file: string | null; frameFiles: (string | null)[] };
    const odd = { ...g, file: 'a "quoted"\\path.pcap', frameFiles: g.frameFiles.map((x, i) => (i === 0 ? null : x)) };
    assert.equal(ndjsonFinding(odd), JSON.stringify({ type: 'finding', schema: NDJSON_SCHEMA, ...odd }) + '\n');
    const { file, ...rest } = g;
    const moved = { ...rest, file };
    assert.equal(ndjsonFinding(moved), JSON.stringify({ type: 'finding', schema: NDJSON_SCHEMA, ...moved }) + '\n');
    nsf++;
  }
  assert.ok(nsf > 0, 'the ring set has findings');
  assert.ok(n >= 60, `${n} records`);
  assert.ok(nf >= 35, `${nf} findings`);
  const setFinding = { ...finding(), file: 'a.pcap' } as Finding;
  assert.equal(ndjsonFinding(setFinding), JSON.stringify({ type: 'finding', schema: NDJSON_SCHEMA, ...setFinding }) + '\n');
  const holes = { ...finding(), frames: [1, Number.NaN] };
  assert.equal(ndjsonFinding(holes), JSON.stringify({ type: 'finding', schema: NDJSON_SCHEMA, ...holes }) + '\n');
  // the generic way for a record it does not know (a capture set's file keys) and for a non-finite number
  const set = { ...record(), firstFile: 'a.pcap' } as ConnRecord;
  assert.equal(ndjsonConnection(set), JSON.stringify({ type: 'connection', schema: NDJSON_SCHEMA, ...set }) + '\n');
  const odd = { ...record(), duration: Number.NaN };
  assert.equal(ndjsonConnection(odd), JSON.stringify({ type: 'connection', schema: NDJSON_SCHEMA, ...odd }) + '\n');
});

test('ndjson: the worker template, filled in, is the line written directly', () => {
  const rec = record();
  const found = [finding(), finding('refused')];
  const text = ndjsonTemplate(rec, found);
  assert.ok(text !== null);
  assert.equal(text.split('\0').length - 1, 3, 'one id slot per line');
  assert.equal(ndjsonFillIds(text, 7, 1, 3), ndjsonConnectionWithFindings(record(), [finding(), finding('refused')]));
  // other ids go where the slots are
  const other = { ...record(), id: 70, stream: 30 };
  assert.equal(ndjsonFillIds(text, 70, 1, 30), ndjsonConnectionWithFindings(other,
    [{ ...finding(), connection: 70, stream: 30 }, { ...finding('refused'), connection: 70, stream: 30 }]));
});

test('ndjson: the worker template gives up on a record whose fields are not in the expected order', () => {
  const { id, ...rest } = record();
  const reordered = { ...rest, id } as ConnRecord;
  assert.equal(ndjsonTemplate(reordered, []), null);
});

test('totals sentence: findings by severity, worst first, and by rule, most first', () => {
  const tot = { connections: 12, findings: 5, byRule: { 'refused': 1, 'abortive-close': 3, 'half-open': 1 }, bySeverity: { error: 1, warning: 3, info: 1 } };
  assert.equal(totalsSentence(tot),
    '5 finding(s) in 12 connection(s): 1 error, 3 warning, 1 info (abortive-close 3, refused 1, half-open 1)');
});

test('totals sentence: no findings', () => {
  assert.equal(totalsSentence(totals(4, [])), 'No teardown findings in 4 connection(s).');
  assert.equal(totalsSentence(totals(0, [finding(), finding('refused')])),
    '2 finding(s) in 0 connection(s): 0 error, 2 warning, 0 info (abortive-close 1, refused 1)');
});

test('eviction warning: stderr and report forms', () => {
  assert.equal(evictionWarning(3, 'stderr'),
    '3 connection(s) were closed out early because more than --max-connections were live at once (their state may be incomplete; '
    + 'syn-unanswered and half-open verdicts that rest on such a cut are not given; raise --max-connections to see them)');
  assert.equal(evictionWarning(1, 'report'),
    '1 connection(s) were closed out early because more than --max-connections were live at once; their state may be incomplete; '
    + 'syn-unanswered and half-open verdicts that rest on such a cut are not given; raise --max-connections to see them');
});
