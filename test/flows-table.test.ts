/**
 * The `flows` terminal table: drawn like cli-table3's default style, linear in
 * the rows (cli-table3's own layout is quadratic and overflows the stack on
 * long tables), and bounded in width.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Table from 'cli-table3';
import { flowsTable } from '../src/report/flows-table.js';
import type { InputSummary } from '../src/report/input-summary.js';
import type { ConnRecord } from '../src/tcp/record.js';

function rec(i: number, history = 'ShADadFf'): ConnRecord {
  return {
    id: i + 1, input: 0, stream: i,
    orig: { ip: i % 3 === 0 ? 'fd00::1' : `10.0.${(i >> 8) & 255}.${i & 255}`, port: 1024 + (i % 60000) },
    resp: { ip: '192.0.2.1', port: 443 }, uid: `C${i}`, communityId: `1:${i}`,
    firstFrame: 3 * i + 1, lastFrame: 3 * i + 3, ts: 1764460800 + i / 1000, duration: (i % 7) / 3,
    state: 'SF', history, origPkts: 4 + (i % 5), respPkts: 3, origIpBytes: 40 * (4 + (i % 5)) + i * 17, respIpBytes: 120, origBytes: i * 17, respBytes: 0,
    origRetransBytes: 0, respRetransBytes: 0, rsts: 0, endReason: 'end', resets: [],
  };
}

function input(): InputSummary {
  return { file: 'x.pcap', format: 'pcap', linkTypes: ['ETHERNET'], packets: 1, bytes: 1, firstTs: null, lastTs: null, warnings: [] };
}

test('the flows table is what cli-table3 draws for the same rows (no rule between rows)', () => {
  const records = Array.from({ length: 40 }, (_, i) => rec(i * 97));
  const ours = [...flowsTable([input()], records)].join('');
  const t = new Table({
    head: ['#', 'originator', 'responder', 'frames', 'start', 'dur s', 'state', 'history', 'pkts o/r', 'bytes o/r'],
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const r of records) {
    t.push([
      r.stream, `${r.orig.ip.includes(':') ? `[${r.orig.ip}]` : r.orig.ip}:${r.orig.port}`, `${r.resp.ip}:${r.resp.port}`, `${r.firstFrame}-${r.lastFrame}`,
      new Date(r.ts * 1000).toISOString().replace('T', ' ').replace('Z', ''), r.duration.toFixed(3), r.state, r.history,
      `${r.origPkts}/${r.respPkts}`, `${r.origBytes}/${r.respBytes}`,
    ]);
  }
  assert.equal(ours, `x.pcap: pcap, ETHERNET, 1 packets, 40 TCP connections\n${t.toString()}\n`);
});

test('a table of 200,000 connections is drawn in pieces, every line as wide as the first', () => {
  const n = 200_000;
  const records = Array.from({ length: n }, (_, i) => rec(i));
  let lines = 0;
  let width = -1;
  let pieces = 0;
  for (const piece of flowsTable([input()], records)) {
    pieces++;
    for (const l of piece.split('\n')) {
      if (l === '' || l.startsWith('x.pcap')) continue;
      lines++;
      if (width < 0) width = l.length;
      else assert.equal(l.length, width);
    }
  }
  assert.ok(pieces > 10, `${pieces} pieces`);
  assert.equal(lines, n + 3); // top border, header, a row per connection, bottom border
});

test("a history of a RST storm's length is shown by its start and its length", () => {
  const long = 'ShADa' + 'r'.repeat(500_000);
  const text = [...flowsTable([input()], [rec(0), rec(1, long)])].join('');
  assert.ok(text.includes(`ShADarrrrrrrrrrrrrrrrrrr... (${long.length} letters)`));
  assert.ok(text.length < 5000, `${text.length} characters`);
});

test('the flows table fits the width it is given: columns left out in order, and said so', () => {
  const records = Array.from({ length: 40 }, (_, i) => rec(i * 97));
  const full = [...flowsTable([input()], records)].join('');
  const widest = (t: string): number => Math.max(...t.split('\n').map((l) => l.length));
  assert.doesNotMatch(full, /left out/);
  for (const width of [80, 100, 120]) {
    const text = [...flowsTable([input()], records, width)].join('');
    assert.ok(widest(text) <= width, `${width}: ${widest(text)}`);
    assert.match(text, /left out to fit \d+ characters: bytes o\/r/);
    assert.match(text, /│ originator +│ responder/);
  }
  assert.equal([...flowsTable([input()], records, widest(full))].join(''), full);
});
