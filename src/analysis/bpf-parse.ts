/**
 * `--filter EXPR`: the common subset of tcpdump's filter language (pcap-filter(7),
 * libpcap 1.10), parsed into a tree that bpf-compile.ts turns into one closure.
 * Anything outside the subset is a problem returned as data, naming the part
 * that is not supported; nothing here throws.
 *
 * Supported (docs/filter.md lists it with examples):
 *   [ip|ip6] [src|dst|src or dst|src and dst] host ADDR   (full IPv4/IPv6; partial IPv4 as libpcap: host 10.1 = 10.1.0.0/16)
 *   [ip|ip6] [DIR] net NET | NET/LEN | NET mask MASK      (net 10 = 10.0.0.0/8; non-network bits set is an error)
 *   [tcp|udp] [DIR] port N | portrange LO-HI              (numbers only: no service names)
 *   [DIR] ADDR                                            (host)
 *   ip, ip6, tcp, udp, vlan [ID], less N, greater N
 *   ARITH RELOP ARITH  with tcp[OFF], tcp[OFF:SIZE], ip[...], ip6[...], udp[...], len, numbers
 *     (decimal, 0x hex, 0 octal), tcpflags, tcp-fin, tcp-syn, tcp-rst, tcp-push, tcp-ack, tcp-urg, tcp-ece, tcp-cwr;
 *     operators + - * / % & | ^ << >> and unary -, with yacc's precedences as libpcap builds them
 *     (| < & < shifts < + - < * / %; ^ binds what follows it, as libpcap's grammar leaves it without a precedence)
 *   not/!, and/&&, or/||, parentheses. `and` and `or` have the same precedence and group left to right.
 * Qualifier inheritance as tcpdump: after `and`/`or`, an address or number
 * without keywords takes those of the primitive before (`host a or b`,
 * `tcp port 80 or 443`, `host a and not b`, `host a and (b or c)`).
 * Juxtaposition is not an `and` (tcpdump rejects `host a port 80`, and so does this).
 * `vlan` shifts every primitive parsed after it by one tag, as in libpcap.
 */

export type Dir = 'src' | 'dst' | 'either' | 'both';
export type LoadProto = 'ip' | 'ip6' | 'tcp' | 'udp';
export type RelOp = '>' | '<' | '>=' | '<=' | '=' | '!=';
export type ArithOp = '+' | '-' | '*' | '/' | '%' | '&' | '|' | '^' | '<<' | '>>';

export type Arith =
  | { k: 'num'; v: number }
  | { k: 'len' }
  | { k: 'load'; proto: LoadProto; off: Arith; size: 1 | 2 | 4; depth: number }
  | { k: 'op'; op: ArithOp; a: Arith; b: Arith }
  | { k: 'neg'; a: Arith };

export type FilterNode =
  | { k: 'and' | 'or'; a: FilterNode; b: FilterNode }
  | { k: 'not'; a: FilterNode }
  | { k: 'proto'; proto: 'ip' | 'ip6' | 'tcp' | 'udp'; depth: number }
  /** an address under a mask: host (full mask) and net; IPv4 uses word 0 only */
  | { k: 'addr'; v6: boolean; words: number[]; mask: number[]; dir: Dir; depth: number }
  | { k: 'port'; lo: number; hi: number; dir: Dir; proto: 'tcp' | 'udp' | null; depth: number }
  | { k: 'vlan'; id: number | null; depth: number }
  | { k: 'rel'; op: RelOp; a: Arith; b: Arith };

export type FilterParse = { ok: true; node: FilterNode } | { ok: false; error: string };

type TokKind = 'word' | 'num' | 'addr4' | 'addr6' | 'range' | 'op' | 'end';
interface Tok { kind: TokKind; text: string; pos: number }

/** tcpdump keywords outside the subset: named so that the message says the part is unsupported, not unknown. */
const UNSUPPORTED = new Set([
  'ether', 'arp', 'rarp', 'decnet', 'atalk', 'aarp', 'ipx', 'iso', 'stp', 'netbeui', 'lat', 'sca', 'mopdl', 'moprc',
  'sctp', 'icmp', 'icmp6', 'igmp', 'igrp', 'pim', 'vrrp', 'carp', 'ah', 'esp', 'proto', 'protochain', 'gateway',
  'broadcast', 'multicast', 'inbound', 'outbound', 'ifname', 'on', 'rnr', 'rulenum', 'reason', 'rset', 'srnr',
  'subrule', 'action', 'mpls', 'pppoed', 'pppoes', 'geneve', 'vxlan', 'llc', 'wlan', 'type', 'subtype', 'dir',
  'addr1', 'addr2', 'addr3', 'addr4', 'ra', 'ta', 'fddi', 'tr', 'link', 'ppp', 'slip', 'radio', 'icmptype', 'icmpcode',
  'icmp6type', 'icmp6code', 'clnp', 'esis', 'isis', 'l1', 'l2', 'iih', 'lsp', 'snp', 'csnp', 'psnp',
  'atm', 'lane', 'metac', 'bcc', 'oam', 'oamf4', 'oamf4ec', 'oamf4sc', 'sc', 'ilmic', 'connectmsg', 'metaconnect',
  'vpi', 'vci', 'fisu', 'lssu', 'msu', 'sio', 'opc', 'dpc', 'sls', 'hfisu', 'hlssu', 'hmsu', 'hsio', 'hopc', 'hdpc', 'hsls',
  'index',
]);

const FLAG_CONSTANTS: Record<string, number> = {
  tcpflags: 13, 'tcp-fin': 0x01, 'tcp-syn': 0x02, 'tcp-rst': 0x04, 'tcp-push': 0x08, 'tcp-ack': 0x10,
  'tcp-urg': 0x20, 'tcp-ece': 0x40, 'tcp-cwr': 0x80,
};

/** binary arithmetic operators and their yacc precedence (higher binds tighter); ^ is handled apart */
const PREC: Record<string, number> = { '|': 1, '&': 2, '<<': 3, '>>': 3, '+': 4, '-': 4, '*': 5, '/': 5, '%': 5 };
const RELOPS: Record<string, RelOp> = { '>': '>', '<': '<', '>=': '>=', '<=': '<=', '=': '=', '==': '=', '!=': '!=' };

class FilterError extends Error {}

function lex(s: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    const rest = s.slice(i);
    // IPv6: hex groups with "::" or 7 colons (so tcp[13:1] stays a number, a colon and a number)
    const v6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*/.exec(rest);
    if (v6 && (v6[0].includes('::') || v6[0].split(':').length === 8)) {
      toks.push({ kind: 'addr6', text: v6[0], pos: i });
      i += v6[0].length;
      continue;
    }
    const a4 = /^\d+(?:\.\d+)+/.exec(rest);
    if (a4) {
      toks.push({ kind: 'addr4', text: a4[0], pos: i });
      i += a4[0].length;
      continue;
    }
    const num = /^(?:0[xX][0-9A-Fa-f]+|\d+)(?:-\d+)?/.exec(rest);
    if (num && !/^[A-Za-z_]/.test(s.slice(i + num[0].length))) {
      toks.push({ kind: num[0].includes('-') ? 'range' : 'num', text: num[0], pos: i });
      i += num[0].length;
      continue;
    }
    const word = /^[A-Za-z0-9_][A-Za-z0-9_.-]*/.exec(rest);
    if (word) {
      toks.push({ kind: 'word', text: word[0], pos: i });
      i += word[0].length;
      continue;
    }
    const op = /^(?:&&|\|\||!=|==|>=|<=|<<|>>|[-+*/%&|^<>=!()[\]:])/.exec(rest);
    if (op) {
      toks.push({ kind: 'op', text: op[0], pos: i });
      i += op[0].length;
      continue;
    }
    throw new FilterError(`unexpected character '${c}' at offset ${i}`);
  }
  toks.push({ kind: 'end', text: '', pos: s.length });
  return toks;
}

/** A libpcap number: 0x hex, leading-0 octal, else decimal. */
function numberValue(text: string): number {
  if (/^0[xX]/.test(text)) return parseInt(text.slice(2), 16);
  if (/^0[0-7]+$/.test(text)) return parseInt(text, 8);
  if (/^\d+$/.test(text)) return parseInt(text, 10);
  throw new FilterError(`'${text}' is not a number`);
}

/** Dotted IPv4, possibly partial (10, 10.1, 10.1.2): value as libpcap's __pcap_atoin and its length in bits. */
function dotted(text: string): { v: number; bits: number } {
  const parts = text.split('.');
  if (parts.length > 4) throw new FilterError(`'${text}' is not an IPv4 address`);
  let v = 0;
  for (const p of parts) {
    const n = Number(p);
    if (!/^\d+$/.test(p) || n > 255) throw new FilterError(`'${text}' is not an IPv4 address`);
    v = (v * 256 + n) >>> 0;
  }
  return { v, bits: 8 * parts.length };
}

/** IPv6 text -> four 32-bit words (signed, as Packet keeps them), or null. */
export function ipv6Words(text: string): number[] | null {
  let s = text;
  const v4 = /:(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const parts = v4[1].split('.').map(Number);
    if (parts.some((n) => n > 255)) return null;
    s = `${s.slice(0, -v4[1].length)}${((parts[0] << 8) | parts[1]).toString(16)}:${((parts[2] << 8) | parts[3]).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]);
  const back = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - back.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const g: number[] = [];
  for (const x of [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...back]) {
    if (!/^[0-9A-Fa-f]{1,4}$/.test(x)) return null;
    g.push(parseInt(x, 16));
  }
  return [0, 1, 2, 3].map((i) => ((g[2 * i] << 16) | g[2 * i + 1]) | 0);
}

interface Qual { proto: string | null; dir: Dir | null; type: 'host' | 'net' | 'port' | 'portrange' | null }

class Parser {
  private i = 0;
  /** vlan primitives parsed so far: each shifts what follows by one tag */
  private depth = 0;
  constructor(private readonly t: Tok[], private readonly src: string) {}

  private peek(k = 0): Tok {
    return this.t[Math.min(this.i + k, this.t.length - 1)];
  }

  private next(): Tok {
    return this.t[this.i++];
  }

  private isOp(tok: Tok, ...ops: string[]): boolean {
    return tok.kind === 'op' && ops.includes(tok.text);
  }

  private isWord(tok: Tok, ...w: string[]): boolean {
    return tok.kind === 'word' && w.includes(tok.text);
  }

  private fail(tok: Tok, why: string): never {
    throw new FilterError(tok.kind === 'end' ? `${why} at the end of the expression` : `${why} at '${this.src.slice(tok.pos, tok.pos + 24).split(/\s/)[0] || tok.text}' (offset ${tok.pos})`);
  }

  private expect(op: string): void {
    const tok = this.next();
    if (!this.isOp(tok, op)) this.fail(tok, `expected '${op}'`);
  }

  parse(): FilterNode {
    if (this.peek().kind === 'end') throw new FilterError('the expression is empty');
    const [node] = this.expr();
    const tok = this.peek();
    if (tok.kind !== 'end') {
      if (tok.kind === 'op' && tok.text === ')') this.fail(tok, 'unbalanced parenthesis');
      this.fail(tok, 'expected and/or (tcpdump does not read two primitives side by side as "and")');
    }
    return node;
  }

  private isAndOr(tok: Tok): 'and' | 'or' | null {
    if (this.isWord(tok, 'and') || this.isOp(tok, '&&')) return 'and';
    if (this.isWord(tok, 'or') || this.isOp(tok, '||')) return 'or';
    return null;
  }

  private isNot(tok: Tok): boolean {
    return this.isWord(tok, 'not') || this.isOp(tok, '!');
  }

  /** Does an `id` (an address or number that inherits qualifiers) start at peek(k)? */
  private startsId(k: number): boolean {
    const tok = this.peek(k);
    if (this.isNot(tok)) return this.startsId(k + 1);
    if (this.isOp(tok, '(')) return this.startsId(k + 1);
    if (tok.kind === 'addr4' || tok.kind === 'addr6' || tok.kind === 'range') return true;
    if (tok.kind === 'num') {
      const after = this.peek(k + 1);
      return !(after.kind === 'op' && (after.text in PREC || after.text in RELOPS || after.text === '^'));
    }
    return false;
  }

  private expr(): [FilterNode, Qual | null] {
    let [node, q] = this.term();
    for (let op = this.isAndOr(this.peek()); op !== null; op = this.isAndOr(this.peek())) {
      this.next();
      let rhs: FilterNode;
      if (this.startsId(0)) rhs = this.inherited(q);
      else [rhs, q] = this.term();
      node = { k: op, a: node, b: rhs };
    }
    return [node, q];
  }

  /** An id after and/or: `not id`, `( id and|or id ... )`, or an address/number with the qualifiers before. */
  private inherited(q: Qual | null): FilterNode {
    const tok = this.peek();
    if (this.isNot(tok)) {
      this.next();
      return { k: 'not', a: this.inherited(q) };
    }
    if (this.isOp(tok, '(')) {
      this.next();
      let node = this.inherited(q);
      for (let op = this.isAndOr(this.peek()); op !== null; op = this.isAndOr(this.peek())) {
        this.next();
        if (!this.startsId(0)) this.fail(this.peek(), 'expected an address or number inside these parentheses');
        node = { k: op, a: node, b: this.inherited(q) };
      }
      this.expect(')');
      return node;
    }
    if (q === null) this.fail(tok, `'${tok.text}' has no keyword (host, net, port, ...) before it to inherit; write it out`);
    this.next();
    return this.primitive(q, tok);
  }

  private term(): [FilterNode, Qual | null] {
    const tok = this.peek();
    if (this.isNot(tok)) {
      this.next();
      const [a, q] = this.term();
      return [{ k: 'not', a }, q];
    }
    if (this.isOp(tok, '(')) {
      const save = this.i;
      const depth = this.depth;
      try {
        return [this.relation(), null];
      } catch (e) {
        if (!(e instanceof FilterError)) throw e;
        this.i = save;
        this.depth = depth;
      }
      this.next();
      const [node] = this.expr();
      this.expect(')');
      return [node, null];
    }
    if (tok.kind === 'word') {
      const w = tok.text;
      if (w === 'ip' || w === 'ip6' || w === 'tcp' || w === 'udp') {
        if (this.isOp(this.peek(1), '[')) return [this.relation(), null];
        this.next();
        const q = this.qualifiers(w);
        if (q === null) return [{ k: 'proto', proto: w, depth: this.depth }, null];
        return [this.primitive(q, this.idToken()), q];
      }
      if (w === 'src' || w === 'dst' || w === 'host' || w === 'net' || w === 'port' || w === 'portrange') {
        const q = this.qualifiers(null)!;
        return [this.primitive(q, this.idToken()), q];
      }
      if (w === 'vlan') {
        this.next();
        let id: number | null = null;
        if (this.peek().kind === 'num' && !this.startsArithOp(this.peek(1))) {
          id = numberValue(this.next().text);
          if (id > 4095) this.fail(tok, `VLAN id ${id} is over 4095`);
        }
        const node: FilterNode = { k: 'vlan', id, depth: this.depth };
        this.depth++;
        return [node, null];
      }
      if (w === 'less' || w === 'greater') {
        this.next();
        const n = this.next();
        if (n.kind !== 'num') this.fail(n, `${w} takes a number`);
        return [{ k: 'rel', op: w === 'less' ? '<=' : '>=', a: { k: 'len' }, b: { k: 'num', v: numberValue(n.text) } }, null];
      }
      if (w === 'len' || w in FLAG_CONSTANTS) return [this.relation(), null];
      if (w === 'and' || w === 'or' || w === 'not') this.fail(tok, `'${w}' needs something before it`);
      if (UNSUPPORTED.has(w)) this.fail(tok, `'${w}' is a tcpdump keyword rstscope's filter does not support (supported: docs/filter.md)`);
      this.fail(tok, `'${w}' is not supported (no host names or service names: give addresses and port numbers; docs/filter.md)`);
    }
    if (tok.kind === 'num' && this.startsArithOp(this.peek(1))) return [this.relation(), null];
    if (this.isOp(tok, '-')) return [this.relation(), null];
    if (tok.kind === 'num' || tok.kind === 'addr4' || tok.kind === 'addr6' || tok.kind === 'range') {
      this.fail(tok, `'${tok.text}' needs a keyword before it (host, net, port or portrange)`);
    }
    if (tok.kind === 'end') this.fail(tok, 'expected a primitive');
    this.fail(tok, `unexpected '${tok.text}'`);
  }

  private startsArithOp(tok: Tok): boolean {
    return tok.kind === 'op' && (tok.text in PREC || tok.text in RELOPS || tok.text === '^');
  }

  private idToken(): Tok {
    const tok = this.next();
    if (tok.kind === 'end') this.fail(tok, 'expected an address or number');
    return tok;
  }

  /**
   * Qualifiers after an optional protocol `proto` already read: [src|dst|src or dst|src and dst] [host|net|port|portrange].
   * Null when there are none (the protocol stands alone).
   */
  private qualifiers(proto: string | null): Qual | null {
    let dir: Dir | null = null;
    const d = this.peek();
    if (this.isWord(d, 'src', 'dst')) {
      this.next();
      dir = d.text as Dir;
      const conj = this.isAndOr(this.peek());
      const other = this.peek(1);
      if (conj !== null && this.isWord(other, d.text === 'src' ? 'dst' : 'src')) {
        this.next();
        this.next();
        dir = conj === 'or' ? 'either' : 'both';
      }
    }
    let type: Qual['type'] = null;
    const t = this.peek();
    if (this.isWord(t, 'host', 'net', 'port', 'portrange')) {
      this.next();
      type = t.text as Qual['type'];
    } else if (this.isWord(t, 'gateway', 'proto', 'protochain', 'broadcast', 'multicast')) {
      this.fail(t, `'${t.text}' is a tcpdump keyword rstscope's filter does not support (supported: docs/filter.md)`);
    }
    if (dir === null && type === null) return null;
    return { proto, dir, type };
  }

  /** One primitive: `tok` under qualifiers `q`. */
  private primitive(q: Qual, tok: Tok): FilterNode {
    const dir: Dir = q.dir ?? 'either';
    let type = q.type;
    if (type === null) {
      if (tok.kind === 'addr4' || tok.kind === 'addr6') type = 'host';
      else this.fail(tok, `'${tok.text}' needs host, net, port or portrange before it`);
    }
    if (type === 'port' || type === 'portrange') {
      if (q.proto !== null && q.proto !== 'tcp' && q.proto !== 'udp') this.fail(tok, `illegal qualifier of '${type}': '${q.proto}' (tcp or udp)`);
      let lo: number;
      let hi: number;
      if (tok.kind === 'num' || (tok.kind === 'range' && type === 'portrange')) {
        const [a, b = a] = tok.text.split('-').map(numberValue);
        [lo, hi] = a <= b ? [a, b] : [b, a];
      } else if (tok.kind === 'word') {
        this.fail(tok, `port names are not supported ('${tok.text}'): give the number`);
      } else {
        this.fail(tok, `'${tok.text}' is not a ${type === 'port' ? 'port number' : 'port range LO-HI'}`);
      }
      for (const v of [lo!, hi!]) if (v > 65535) this.fail(tok, `illegal port number ${v} > 65535`);
      return { k: 'port', lo: lo!, hi: hi!, dir, proto: q.proto as 'tcp' | 'udp' | null, depth: this.depth };
    }
    // host or net
    if (q.proto === 'tcp' || q.proto === 'udp') this.fail(tok, `'${q.proto}' modifier applied to ${type}`);
    if (tok.kind === 'addr6') {
      if (q.proto === 'ip') this.fail(tok, `'ip' modifier applied to ip6 ${type}`);
      const words = ipv6Words(tok.text);
      if (words === null) this.fail(tok, `'${tok.text}' is not an IPv6 address`);
      let len = 128;
      if (this.isOp(this.peek(), '/')) {
        this.next();
        const n = this.next();
        if (n.kind !== 'num') this.fail(n, 'expected a prefix length after /');
        len = numberValue(n.text);
        if (len > 128) this.fail(n, `mask length must be <= 128`);
      } else if (this.isWord(this.peek(), 'mask')) {
        this.fail(this.peek(), `'mask' is for IPv4 networks; write ${tok.text}/LEN`);
      } else if (type === 'net') {
        this.fail(tok, `an IPv6 net needs a prefix length (${tok.text}/LEN)`);
      }
      const mask = [0, 1, 2, 3].map((i) => {
        const bits = Math.max(0, Math.min(32, len - 32 * i));
        return bits === 0 ? 0 : (0xffffffff << (32 - bits)) | 0;
      });
      if (words.some((w, i) => (w & ~mask[i]) !== 0)) this.fail(tok, `non-network bits set in "${tok.text}/${len}"`);
      return { k: 'addr', v6: true, words, mask, dir, depth: this.depth };
    }
    if (tok.kind !== 'addr4' && tok.kind !== 'num') {
      this.fail(tok, tok.kind === 'word'
        ? `host names are not supported ('${tok.text}'): give the address`
        : `'${tok.text}' is not an address`);
    }
    if (tok.kind === 'num' && type === 'host') this.fail(tok, `'${tok.text}' is not an address (write it dotted, for example 10.0.0.1)`);
    if (q.proto === 'ip6') this.fail(tok, `'ip6' modifier applied to ip ${type}`);
    const { v, bits } = tok.kind === 'num' ? { v: numberValue(tok.text) >>> 0, bits: 8 } : dotted(tok.text);
    let value: number;
    let mask: number;
    if (this.isOp(this.peek(), '/')) {
      this.next();
      const n = this.next();
      if (n.kind !== 'num') this.fail(n, 'expected a prefix length after /');
      const len = numberValue(n.text);
      if (len > 32) this.fail(n, 'mask length must be <= 32');
      mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
      value = v;
      if ((value & ~mask) >>> 0 !== 0) this.fail(tok, `non-network bits set in "${tok.text}/${len}"`);
    } else if (this.isWord(this.peek(), 'mask')) {
      this.next();
      const m = this.next();
      if (m.kind !== 'addr4') this.fail(m, 'expected a dotted mask after mask');
      mask = dotted(m.text).v;
      value = v;
      if ((value & ~mask) >>> 0 !== 0) this.fail(tok, `non-network bits set in "${tok.text} mask ${m.text}"`);
    } else if (type === 'net') {
      // libpcap promotes a short net number: net 10 = 10.0.0.0/8, net 10.1 = 10.1.0.0/16
      value = v;
      mask = 0xffffffff;
      while (value !== 0 && (value & 0xff000000) === 0) {
        value = (value << 8) >>> 0;
        mask = (mask << 8) >>> 0;
      }
    } else {
      // and a short host address the other way: host 10.1 = 10.1.0.0/16
      value = bits === 32 ? v : (v << (32 - bits)) >>> 0;
      mask = bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
    }
    return { k: 'addr', v6: false, words: [value | 0], mask: [mask | 0], dir, depth: this.depth };
  }

  /** ARITH RELOP ARITH */
  private relation(): FilterNode {
    const a = this.arith(0);
    const tok = this.next();
    const op = tok.kind === 'op' ? RELOPS[tok.text] : undefined;
    if (op === undefined) this.fail(tok, 'expected a comparison (=, ==, !=, <, <=, >, >=)');
    const b = this.arith(0);
    return { k: 'rel', op, a, b };
  }

  private arith(min: number): Arith {
    let left = this.unary();
    for (;;) {
      const tok = this.peek();
      if (tok.kind !== 'op') break;
      if (tok.text === '^') {
        // no precedence in libpcap's grammar: yacc shifts, so ^ takes everything after it
        this.next();
        left = { k: 'op', op: '^', a: left, b: this.arith(0) };
        continue;
      }
      const prec = PREC[tok.text];
      if (prec === undefined || prec < min) break;
      this.next();
      const right = this.arith(prec + 1);
      if (tok.text === '/' || tok.text === '%') {
        if (right.k === 'num' && right.v === 0) this.fail(tok, tok.text === '/' ? 'division by zero' : 'modulus by zero');
      }
      left = { k: 'op', op: tok.text as ArithOp, a: left, b: right };
    }
    return left;
  }

  private unary(): Arith {
    const tok = this.next();
    if (this.isOp(tok, '-')) return { k: 'neg', a: this.arith(6) };
    if (this.isOp(tok, '(')) {
      const a = this.arith(0);
      this.expect(')');
      return a;
    }
    if (tok.kind === 'num') return { k: 'num', v: numberValue(tok.text) >>> 0 };
    if (tok.kind === 'word') {
      if (tok.text === 'len') return { k: 'len' };
      if (tok.text in FLAG_CONSTANTS) return { k: 'num', v: FLAG_CONSTANTS[tok.text] };
      if (tok.text === 'ip' || tok.text === 'ip6' || tok.text === 'tcp' || tok.text === 'udp') {
        const proto = tok.text;
        this.expect('[');
        const off = this.arith(0);
        let size: 1 | 2 | 4 = 1;
        if (this.isOp(this.peek(), ':')) {
          this.next();
          const n = this.next();
          const v = n.kind === 'num' ? numberValue(n.text) : NaN;
          if (v !== 1 && v !== 2 && v !== 4) this.fail(n, 'data size must be 1, 2, or 4');
          size = v;
        }
        this.expect(']');
        return { k: 'load', proto, off, size, depth: this.depth };
      }
      if (UNSUPPORTED.has(tok.text)) this.fail(tok, `'${tok.text}' is a tcpdump keyword rstscope's filter does not support (supported: docs/filter.md)`);
    }
    this.fail(tok, 'expected a number, len, or tcp[...]/ip[...]/ip6[...]/udp[...]');
  }
}

/** Parses `text`; a problem (not supported, or not valid tcpdump syntax) comes back as data. */
export function parseFilter(text: string): FilterParse {
  try {
    const node = new Parser(lex(text), text).parse();
    return { ok: true, node };
  } catch (e) {
    if (e instanceof FilterError) return { ok: false, error: e.message };
    throw e;
  }
}
