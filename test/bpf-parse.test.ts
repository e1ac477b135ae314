/**
 * The --filter parser's reading of tcpdump's grammar, without tcpdump (the
 * oracle test, filter-oracle.test.ts, checks the selections against tcpdump
 * where it is installed): keyword inheritance, equal and/or precedence,
 * arithmetic precedence with libpcap's ^, vlan shifting what follows, libpcap's
 * short addresses, IPv6 text.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compileFilter } from '../src/analysis/bpf-compile.js';
import { ipv6Words, parseFilter, type FilterNode } from '../src/analysis/bpf-parse.js';
import { newFrame } from '../src/capture/frame.js';
import { newPacket } from '../src/decode/packet.js';

/** A compact text of a tree: and/or/not, primitives by kind, arithmetic in prefix form. */
function show(n: FilterNode): string {
  switch (n.k) {
    case 'and': case 'or': return `(${show(n.a)} ${n.k} ${show(n.b)})`;
    case 'not': return `!${show(n.a)}`;
    case 'proto': return `${n.proto}@${n.depth}`;
    case 'addr': return `${n.dir}:${n.words.map((w) => (w >>> 0).toString(16)).join(':')}/${n.mask.map((m) => (m >>> 0).toString(16)).join(':')}@${n.depth}`;
    case 'port': return `${n.proto ?? ''}${n.dir}:${n.lo}-${n.hi}@${n.depth}`;
    case 'vlan': return `vlan${n.id ?? ''}@${n.depth}`;
    case 'rel': return `${arith(n.a)}${n.op}${arith(n.b)}`;
  }
}

function arith(a: Extract<FilterNode, { k: 'rel' }>['a']): string {
  switch (a.k) {
    case 'num': return String(a.v);
    case 'len': return 'len';
    case 'neg': return `-${arith(a.a)}`;
    case 'load': return `${a.proto}[${arith(a.off)}:${a.size}]@${a.depth}`;
    case 'op': return `(${arith(a.a)}${a.op}${arith(a.b)})`;
  }
}

function tree(expr: string): string {
  const r = parseFilter(expr);
  if (!r.ok) throw new Error(`${expr}: ${r.error}`);
  return show(r.node);
}

test('keywords carry over to a bare address or number after and/or, as in tcpdump', () => {
  assert.equal(tree('host 10.0.0.1 or 10.0.0.2'), '(either:a000001/ffffffff@0 or either:a000002/ffffffff@0)');
  assert.equal(tree('src host 10.0.0.1 or 10.0.0.2'), '(src:a000001/ffffffff@0 or src:a000002/ffffffff@0)');
  assert.equal(tree('tcp dst port 80 or 443'), '(tcpdst:80-80@0 or tcpdst:443-443@0)');
  assert.equal(tree('host 10.0.0.1 and not 10.0.0.2'), '(either:a000001/ffffffff@0 and !either:a000002/ffffffff@0)');
  assert.equal(tree('not host 10.0.0.1 or 10.0.0.2'), '(!either:a000001/ffffffff@0 or either:a000002/ffffffff@0)');
  assert.equal(tree('port 22 and (80 or 443)'), '(either:22-22@0 and (either:80-80@0 or either:443-443@0))');
  assert.equal(tree('src or dst port 53'), 'either:53-53@0');
  assert.equal(tree('src and dst net 10'), 'both:a000000/ff000000@0');
});

test('and and or have the same precedence, left to right; not binds tightest', () => {
  assert.equal(tree('tcp or udp and ip6'), '((tcp@0 or udp@0) and ip6@0)');
  assert.equal(tree('tcp and udp or ip6'), '((tcp@0 and udp@0) or ip6@0)');
  assert.equal(tree('! tcp && ! udp || ip'), '((!tcp@0 and !udp@0) or ip@0)');
});

test('arithmetic: | < & < shifts < + - < * / %, ^ takes everything after it (libpcap gives it no precedence)', () => {
  assert.equal(tree('tcp[13] & 2 != 0'), '(tcp[13:1]@0&2)!=0');
  assert.equal(tree('tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn'), '(tcp[13:1]@0&(2|16))=2');
  assert.equal(tree('tcp[1] << 1 + 1 = 0'), '(tcp[1:1]@0<<(1+1))=0');
  assert.equal(tree('tcp[13] | 1 & 2 = 0'), '(tcp[13:1]@0|(1&2))=0');
  assert.equal(tree('tcp[13] & 1 ^ 2 = 0'), '(tcp[13:1]@0&(1^2))=0');
  assert.equal(tree('tcp[13] ^ 1 & 2 = 0'), '(tcp[13:1]@0^(1&2))=0');
  assert.equal(tree('ip[2:2] - 20 > 1 * 2 + 3'), '(ip[2:2]@0-20)>((1*2)+3)');
  assert.equal(tree('(tcp[12] & 0xf0) >> 2 > 20'), '((tcp[12:1]@0&240)>>2)>20');
  assert.equal(tree('less 0100'), 'len<=64');
});

test('vlan shifts every primitive parsed after it, whatever the parentheses', () => {
  assert.equal(tree('vlan and host 10.0.0.1'), '(vlan@0 and either:a000001/ffffffff@1)');
  assert.equal(tree('host 10.0.0.1 or (vlan 5 and port 80)'), '(either:a000001/ffffffff@0 or (vlan5@0 and either:80-80@1))');
  assert.equal(tree('vlan and vlan 7 and tcp[13] = 2'), '((vlan@0 and vlan7@1) and tcp[13:1]@2=2)');
});

test('libpcap\'s short addresses and masks', () => {
  assert.equal(tree('net 10'), 'either:a000000/ff000000@0');
  assert.equal(tree('net 192.168.1'), 'either:c0a80100/ffffff00@0');
  assert.equal(tree('host 10.1'), 'either:a010000/ffff0000@0');
  assert.equal(tree('net 10.0.0.0 mask 255.255.0.0'), 'either:a000000/ffff0000@0');
  assert.equal(tree('dst net 0.0.0.0/0'), 'dst:0/0@0');
  assert.equal(tree('portrange 30-20'), 'either:20-30@0');
  assert.equal(tree('net 2001:db8::/33'), 'either:20010db8:0:0:0/ffffffff:80000000:0:0@0');
});

test('IPv6 text, with an embedded IPv4 tail', () => {
  assert.deepEqual(ipv6Words('::1')?.map((w) => w >>> 0), [0, 0, 0, 1]);
  assert.deepEqual(ipv6Words('::ffff:1.2.3.4')?.map((w) => w >>> 0), [0, 0, 0xffff, 0x01020304]);
  assert.deepEqual(ipv6Words('2001:db8:0:0:1:0:0:1')?.map((w) => w >>> 0), [0x20010db8, 0, 0x10000, 1]);
  assert.equal(ipv6Words('1::2::3'), null);
  assert.equal(ipv6Words('1:2:3:4:5:6:7'), null);
  assert.equal(ipv6Words('12345::'), null);
});

test('outside the subset, or not tcpdump syntax: a problem as data, naming the part', () => {
  const err = (e: string) => { const r = parseFilter(e); return r.ok ? 'ok' : r.error; };
  assert.match(err(''), /empty/);
  assert.match(err('host 10.0.0.1 port 80'), /at 'port'/);
  assert.match(err('10.0.0.1'), /needs a keyword before it/);
  assert.match(err('tcp and 80'), /'80' has no keyword .* to inherit/);
  assert.match(err('ip6 host 10.0.0.1'), /'ip6' modifier applied to ip host/);
  assert.match(err('ip port 80'), /illegal qualifier of 'port'/);
  assert.match(err('net fe80::1'), /needs a prefix length/);
  assert.match(err('tcp[13] / 0 = 1'), /division by zero/);
  assert.match(err('vlan 5000'), /over 4095/);
  assert.match(err('(tcp'), /expected '\)'/);
  assert.match(err('tcp)'), /unbalanced parenthesis/);
  assert.match(err('gateway 10.0.0.1'), /'gateway' is a tcpdump keyword/);
  assert.match(err('host 10.0.0.1 @'), /unexpected character '@'/);
});

test('any text: a tree or a problem, never an exception; every tree compiles and runs on a packet', () => {
  const words = ['host', 'net', 'port', 'portrange', 'src', 'dst', 'and', 'or', 'not', '!', '&&', '||', '(', ')', 'tcp', 'udp',
    'ip', 'ip6', 'vlan', 'len', 'less', 'greater', 'mask', '[', ']', ':', '=', '!=', '<', '>=', '&', '|', '^', '+', '-', '*',
    '/', '%', '<<', '>>', '10.0.0.1', '10.1', '::1', 'fe80::', '80', '0x12', '1-10', '4', 'tcpflags', 'tcp-syn', 'ether', 'x'];
  const frame = { ...newFrame(), linkType: 1, capLen: 54, origLen: 54, buf: Buffer.alloc(54) };
  frame.buf.writeUInt16BE(0x0800, 12);
  const packet = { ...newPacket(), ipVersion: 4, tcpOffset: 34 };
  fc.assert(fc.property(fc.array(fc.constantFrom(...words), { maxLength: 14 }), (toks) => {
    const r = parseFilter(toks.join(' '));
    if (r.ok) assert.equal(typeof compileFilter(r.node)(packet, frame), 'boolean');
  }), { numRuns: 20000 });
});
