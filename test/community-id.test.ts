/**
 * Join keys (issue 17): the Community ID against the spec's published
 * baseline vectors (test/fixtures/community-id/, from
 * github.com/corelight/community-id-spec @ b1fe530, BSD licence in COPYING
 * there) and against tshark's communityid dissector on real captures; the
 * uid in Zeek's format and unique within a run; both on every connection
 * line, finding line and conn.log row.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { dirname, join } from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { analyze } from '../src/analysis/analyze.js';
import { communityId, lastDigestHex } from '../src/tcp/community-id.js';
import { requires, toolPath } from './requires.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const VECTORS = join(ROOT, 'test', 'fixtures', 'community-id');
const CAPTURES = join(ROOT, 'captures');
const CORPUS = join(ROOT, 'test', 'corpus', 'zeek', 'traces');

/** Address words as the tracker keeps them (one for IPv4, four for IPv6, big-endian). */
function words(ip: string): number[] {
  if (isIPv4(ip)) return [ip.split('.').reduce((a, b) => ((a * 256) + Number(b)) >>> 0, 0)];
  const [head, tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = [...h, ...Array(tail === undefined ? 0 : 8 - h.length - t.length).fill('0'), ...t].map((g) => parseInt(g, 16));
  return [0, 1, 2, 3].map((i) => ((groups[2 * i] << 16) | groups[2 * i + 1]) >>> 0);
}

interface Vector { proto: number; saddr: string; daddr: string; sport: number | null; dport: number | null; communityid: string }

for (const [file, seed, hex] of [['baseline_deflt.json', 0, false], ['baseline_seed1.json', 1, false], ['baseline_nob64.json', 0, true]] as const) {
  test(`community ID: the spec's baseline ${file} (protocols with ports: TCP, UDP, SCTP; IPv4 and IPv6)`, () => {
    const vectors = JSON.parse(readFileSync(join(VECTORS, file), 'utf8')) as Vector[];
    // ICMP (type/code as ports) and portless protocols are outside what rstscope hashes (TCP flows)
    const withPorts = vectors.filter((v) => v.sport !== null && v.dport !== null && v.proto !== 1 && v.proto !== 58);
    assert.ok(withPorts.length >= 6, `${file}: ${withPorts.length} vectors with ports`);
    for (const v of withPorts) {
      const s = words(v.saddr), d = words(v.daddr);
      let got = communityId(s.length === 1 ? 4 : 6, s, v.sport!, d, v.dport!, v.proto, seed);
      if (hex) got = `1:${lastDigestHex()}`;
      assert.equal(got, v.communityid, `${v.proto} ${v.saddr}:${v.sport} > ${v.daddr}:${v.dport}`);
    }
  });
}

test('community ID: direction does not matter; equal addresses are ordered by port', () => {
  const a = words('10.0.0.1'), b = words('127.0.0.1');
  assert.equal(communityId(4, a, 1234, b, 80), communityId(4, b, 80, a, 1234));
  assert.equal(communityId(4, a, 1234, a, 80), communityId(4, a, 80, a, 1234));
  assert.notEqual(communityId(4, a, 1234, b, 80), communityId(4, a, 1235, b, 80));
});

function pcaps(dir: string): string[] {
  return readdirSync(dir).filter((f) => /\.pcap(ng)?$/.test(f)).sort().map((f) => join(dir, f));
}

test('uid and community ID on every connection and finding: Zeek uid format, unique in a run, findings carry their connection\'s', async () => {
  const files = [...pcaps(CAPTURES), ...pcaps(CORPUS)];
  const res = await analyze(files, { keepRecords: true });
  assert.ok(res.connections.length > 1000);
  const uids = new Set<string>();
  const byId = new Map(res.connections.map((r) => [r.id, r]));
  for (const r of res.connections) {
    assert.match(r.uid, /^C[0-9A-Za-z]{2,17}$/, `uid of ${r.id}`);
    assert.match(r.communityId, /^1:[A-Za-z0-9+/]{27}=$/, `communityId of ${r.id}`);
    assert.ok(!uids.has(r.uid), `uid ${r.uid} twice`);
    uids.add(r.uid);
  }
  assert.ok(res.findings.length > 0);
  for (const f of res.findings) {
    const r = byId.get(f.connection)!;
    assert.equal(f.uid, r.uid);
    assert.equal(f.communityId, r.communityId);
  }
});

test('community ID equals tshark\'s (communityid dissector) for the first frame of every connection', { ...requires('tshark') }, async () => {
  // the bundled captures, and corpus traces with IPv6, VLAN/MPLS and many connections
  const files = [...pcaps(CAPTURES), ...['ipv6.pcap', 'mixed-vlan-mpls.pcap', 'wikipedia.pcap', 'django-cloud.pcapng'].map((f) => join(CORPUS, f))];
  let compared = 0;
  for (const file of files) {
    const out = execFileSync(toolPath('tshark')!, ['-r', file, '--enable-protocol', 'communityid', '-T', 'fields', '-e', 'frame.number', '-e', 'communityid'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 26 });
    const byFrame = new Map(out.trim().split('\n').map((l) => l.split('\t')).map(([n, id]) => [Number(n), id]));
    const res = await analyze([file], { keepRecords: true, rules: false });
    for (const r of res.connections) {
      assert.equal(r.communityId, byFrame.get(r.firstFrame), `${file} frame ${r.firstFrame}`);
      compared++;
    }
  }
  assert.ok(compared >= 30, `${compared} connections compared`);
});

test('conn.log: uid and community_id columns (the last, as Zeek\'s community-id package adds it)', async () => {
  const { zeekHeader, zeekLine } = await import('../src/report/zeek.js');
  const fields = zeekHeader().split('\n').find((l) => l.startsWith('#fields'))!.split('\t').slice(1);
  assert.equal(fields.at(-1), 'community_id');
  const types = zeekHeader().split('\n').find((l) => l.startsWith('#types'))!.split('\t').slice(1);
  assert.equal(types.length, fields.length);
  const res = await analyze([join(CAPTURES, 'refused.pcap')], { keepRecords: true, rules: false });
  const row = zeekLine(res.connections[0]).trimEnd().split('\t');
  assert.equal(row.length, fields.length);
  assert.equal(row[fields.indexOf('uid')], res.connections[0].uid);
  assert.equal(row.at(-1), res.connections[0].communityId);
});
