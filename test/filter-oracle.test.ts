/**
 * --filter against tcpdump as the oracle: for each expression, the
 * connections (and their findings) of `rstscope analyze --filter EXPR FILE`
 * equal those of `tcpdump -r FILE -w - EXPR | rstscope analyze -`, over the
 * bundled captures and the Zeek corpus (Ethernet with VLAN and MPLS, FabricPath,
 * FDDI, BSD loopback, IPv6, pcapng). Frame numbers, ids and uids differ by
 * construction (tcpdump renumbers) and are left out of the comparison. The
 * sweep writes tcpdump's output to files and reads them in one run per
 * expression (--per-file); one case goes through the pipe itself. Needs tcpdump
 * (skipped with the reason without it; CI=true fails instead).
 *
 * Left out: the tunnelled traces (Teredo.pcap, gtp2_different_udp_port.pcap).
 * tcpdump tests a tunnelled packet's outer headers; rstscope's filter does not
 * evaluate them and matches no primitive on a segment found inside a tunnel
 * (docs/filter.md, known differences), so those files select nothing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { CAPTURES, runCli, ZEEK_TRACES } from './helpers.js';
import { requires } from './requires.js';

/** Traces whose TCP is inside tunnels (see above). */
const TUNNELLED = new Set(['Teredo.pcap', 'gtp2_different_udp_port.pcap']);

const FILES = [
  ...readdirSync(CAPTURES).filter((f) => f.endsWith('.pcap')).map((f) => join(CAPTURES, f)),
  ...readdirSync(ZEEK_TRACES).filter((f) => /\.pcap(ng)?$/.test(f) && !TUNNELLED.has(f)).map((f) => join(ZEEK_TRACES, f)),
];

/** Expressions over values the corpus holds (addresses, ports, a VLAN id), each kind of primitive and combination. */
const EXPRESSIONS = [
  'host 192.168.2.158',
  'src host 192.168.1.32 or 192.168.2.1',
  'dst host 127.0.0.1',
  'host 10.34.0.1',
  'host 192.168',
  'net 192.168.0.0/16',
  'net 10.77.0.0 mask 255.255.0.0',
  'not net 192.168',
  'src or dst net 141.142',
  'host 2001:470:4867:99::21',
  'net 2001:470::/32',
  'port 22',
  'tcp dst port 80 or 110',
  'src port 80',
  'portrange 20-25',
  'portrange 65535-1024 and not port 48879',
  'tcp[tcpflags] & (tcp-syn|tcp-rst) != 0',
  'tcp[13] = 0x12',
  'tcp[tcpflags] & tcp-fin != 0 or tcp[13] & 4 = 4',
  '!(tcp[13] & 2 != 0) && len > 100',
  'ip[8] < 64',
  'greater 200 or less 60',
  'vlan',
  'vlan 4093 and port 80',
  'not vlan and tcp',
  'ip6',
  'tcp and not ip',
  'ip and (port 22 or port 80) and not host 128.3.140.132',
  'host 192.168.2.158 and (192.168.2.1 or 10.0.0.7)',
  'host 127.0.0.1 and not tcp[12] & 0xf0 > 0x50',
  // and/or of equal precedence, left to right; ^ without a precedence; vlan shifting what follows it
  'port 22 or port 80 and host 192.168.1.32',
  'tcp[13] & 0x17 ^ 0x01 != 0x10',
  'host 10.34.0.1 or vlan and port 80',
];

interface Doc {
  inputs: { file: string }[];
  connections: Record<string, unknown>[];
  findings: Record<string, unknown>[];
}

/** Per input: its connections and findings without what names frames or depends on numbering. */
function comparable(doc: Doc): string[][] {
  const byInput: string[][] = doc.inputs.map(() => []);
  const keyOf = new Map<number, string>();
  for (const c of doc.connections) {
    const { id, stream, uid, firstFrame, lastFrame, resets, input, ...rest } = c;
    void id; void stream; void uid; void firstFrame; void lastFrame;
    const r = (resets as { frame: number }[]).map(({ frame, ...x }) => { void frame; return x; });
    const key = JSON.stringify({ ...rest, resets: r });
    keyOf.set(c.id as number, key);
    byInput[input as number].push(key);
  }
  for (const f of doc.findings) {
    byInput[f.input as number].push(`${keyOf.get(f.connection as number)} ${f.rule} ${f.severity}`);
  }
  return byInput.map((l) => l.sort());
}

async function analyzeJson(args: string[], input?: Buffer): Promise<Doc> {
  const r = await runCli(['analyze', '-f', 'json', '-q', ...args], { input, timeoutMs: 120_000 });
  assert.ok(r.code === 0 || r.code === 3, `exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Doc;
}

test('--filter selects the connections tcpdump -r FILE -w - EXPR does, over the bundled captures and the Zeek corpus', { ...requires('tcpdump'), timeout: 600_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rstscope-filter-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const all = comparable(await analyzeJson(['--per-file', ...FILES]));
  let narrowed = 0;
  for (const expr of EXPRESSIONS) {
    await t.test(expr, async () => {
      // tcpdump's side: each file filtered into a file of its own (tcpdump refuses vlan on raw IP, FDDI, loopback)
      const kept: number[] = [];
      const filtered: string[] = [];
      FILES.forEach((file, i) => {
        const outFile = join(dir, `${i}-${basename(file)}.pcap`);
        const r = spawnSync('tcpdump', ['-r', file, '-w', outFile, expr], { encoding: 'utf8' });
        if (r.status === 0) {
          kept.push(i);
          filtered.push(outFile);
        } else {
          assert.match(r.stderr, /no VLAN support for/, `tcpdump -r ${basename(file)} '${expr}'`);
        }
      });
      const ours = comparable(await analyzeJson(['--per-file', '--filter', expr, ...kept.map((i) => FILES[i])]));
      const theirs = comparable(await analyzeJson(['--per-file', ...filtered]));
      kept.forEach((fileIndex, j) => {
        assert.deepEqual(ours[j], theirs[j], `${basename(FILES[fileIndex])}: connections and findings with --filter '${expr}'`);
      });
      const selected = ours.reduce((n, l) => n + l.length, 0);
      const before = kept.reduce((n, i) => n + all[i].length, 0);
      if (selected > 0 && selected < before) narrowed++;
    });
  }
  // the expressions select something and leave something out (a filter that passes everything would not fail above)
  assert.ok(narrowed >= EXPRESSIONS.length - 2, `${narrowed} of ${EXPRESSIONS.length} expressions narrowed the selection`);
});

test('--filter equals tcpdump piped into analyze - (standard input)', requires('tcpdump'), async () => {
  const file = join(ZEEK_TRACES, 'wikipedia.pcap');
  const expr = 'tcp[tcpflags] & tcp-rst != 0 or host 208.80.152.3 and port 80';
  const dump = spawnSync('tcpdump', ['-r', file, '-w', '-', expr], { maxBuffer: 1 << 26 });
  assert.equal(dump.status, 0, dump.stderr?.toString());
  const theirs = comparable(await analyzeJson(['-'], dump.stdout));
  const ours = comparable(await analyzeJson(['--filter', expr, file]));
  assert.deepEqual(ours, theirs);
  assert.ok(ours[0].length > 0);
});

test('a filter outside the supported subset is a usage error naming the part (exit 2)', async () => {
  const cases: [string, RegExp][] = [
    ['ether host 00:11:22:33:44:55', /'ether' is a tcpdump keyword/],
    ['host example.com', /host names are not supported \('example\.com'\)/],
    ['port http', /port names are not supported \('http'\)/],
    ['host 10.0.0.1 port 80', /expected and\/or .* at 'port'/],
    ['tcp host 10.0.0.1', /'tcp' modifier applied to host/],
    ['net 10.1.2.3/8', /non-network bits set in "10.1.2.3\/8"/],
    ['(host 10.0.0.1 or 10.0.0.2) and 10.0.0.3', /'10.0.0.3' has no keyword/],
    ['tcp[13:3] = 0', /data size must be 1, 2, or 4/],
    ['port 70000', /illegal port number 70000 > 65535/],
    ['host 10.0.0.1 and', /expected a primitive at the end/],
    ['icmp', /'icmp' is a tcpdump keyword/],
  ];
  for (const [expr, want] of cases) {
    const r = await runCli(['analyze', '--filter', expr, join(CAPTURES, 'refused.pcap')]);
    assert.equal(r.code, 2, `${expr}: ${r.stderr}`);
    assert.match(r.stderr, /^rstscope: --filter "/, expr);
    assert.match(r.stderr, want, expr);
  }
});

test('--filter with --workers gives the output of one thread', async () => {
  const file = join(ZEEK_TRACES, 'ssh.pcap');
  const args = ['flows', '-f', 'ndjson', '--filter', 'tcp[tcpflags] & tcp-fin != 0 or port 22 and net 192.168.1.0/24', file];
  const one = await runCli(args);
  const two = await runCli([...args, '--workers', '2']);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(two.stdout, one.stdout);
  assert.ok(one.stdout.split('\n').filter((l) => l.startsWith('{"type":"connection"')).length > 0);
});
