/**
 * The Markdown incident report: the HTML report's content without the
 * pictures (the ladder becomes the evidence table), for tickets and incident
 * documents, with a Wireshark display filter per finding.
 *
 * Capture-derived text is escaped with `md`: Markdown punctuation is
 * backslash-escaped and < > & become entities, so a payload holding HTML or
 * script text renders as text in any Markdown viewer that allows inline HTML.
 */
import { vantageSentence } from './vantage.js';
import { HEAD_SEGMENTS, TAIL_SEGMENTS } from '../tcp/connection.js';
import { RULES } from '../rules/registry.js';
import { notTcpSentence, nothingRead, unreadableSentence } from './coverage.js';
import { evictionWarning } from './eviction.js';
import { fixAdvice, ruleTitle } from './docs.js';
import { md } from './escape.js';
import { duration, flagNames, groupEndpoints, hostPort, num, rel, utc, wiresharkFilters } from './format.js';
import type { Example, Group, ReportModel } from './model.js';

/** Inline code for text we produced ourselves (filters, rule ids): never contains a backtick. */
function code(s: string): string {
  return '`' + s.replace(/`/g, "'") + '`';
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |\n`;
}

function table(head: string[], align: ('l' | 'r')[], rows: string[][]): string {
  let t = row(head);
  t += `|${align.map((a) => (a === 'r' ? '---:' : ':---')).join('|')}|\n`;
  for (const r of rows) t += row(r);
  return t + '\n';
}

function evidenceTable(ex: Example): string {
  const t0 = ex.segments.length ? ex.segments[0].ts : ex.rec.ts;
  const rows: string[][] = [];
  let prev = -1;
  for (let i = 0; i < ex.segments.length; i++) {
    const s = ex.segments[i];
    if (i === Math.min(HEAD_SEGMENTS, ex.segments.length) && ex.notStored > 0 && i > 0) {
      rows.push(['⋯', '', `${num(ex.notStored)} segment(s) between frames ${prev} and ${s.frame} not kept`, '', '', '', '', '', '', '', '']);
    }
    prev = s.frame;
    const isKey = s.frame === ex.finding.frame;
    const notes: string[] = [];
    if (isKey) notes.push('**key packet**');
    if (s.retrans) notes.push('retransmission');
    if (s.payload !== undefined) notes.push(`"${md(s.payload)}${s.payloadMore ? '…' : ''}"`);
    const b = (x: string) => (isKey ? `**${x}**` : x);
    rows.push([
      b(String(s.frame)), rel(s.ts - t0), s.fromOrig ? `${ex.origRole} → ${ex.respRole}` : `${ex.respRole} → ${ex.origRole}`,
      b(flagNames(s.flags)), String(s.seqRel), s.ackRel >= 0 ? String(s.ackRel) : '–', String(s.len), String(s.win),
      String(s.ttl), s.ipId >= 0 ? String(s.ipId) : '–', notes.join(' '),
    ]);
  }
  return table(
    ['frame', 'time (s)', 'direction', 'flags', 'seq', 'ack', 'len', 'window', ex.ipVersion === 6 ? 'hop limit' : 'TTL', 'IP ID', 'payload / note'],
    ['r', 'r', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'], rows,
  );
}

function detail(m: ReportModel, g: Group): string {
  const ex = g.example!;
  const f = ex.finding;
  const multi = m.inputs.length > 1;
  const file = m.inputs[g.input]?.file ?? '';
  let t = `### ${g.severity.toUpperCase()}: ${md(ruleTitle(g.rule))} (${code(g.rule)}${g.variant !== null ? `, variant ${code(g.variant)}` : ''})\n\n`;
  t += `${md(hostPort(ex.rec.orig.ip, ex.rec.orig.port))} → ${md(hostPort(ex.rec.resp.ip, ex.rec.resp.port))} · ${multi ? `${md(file)} · ` : ''}stream ${f.stream} · key frame ${f.frame} · ${utc(f.ts)} UTC · ${md(ex.rec.state)} · history ${code(ex.rec.history)}\n\n`;
  if (g.count > 1) {
    t += `This group holds **${num(g.count)}** findings with the same rule and endpoints, from ${utc(g.firstTs)} to ${utc(g.lastTs)} UTC (frames ${g.firstFrame} to ${g.lastFrame}); the first one is worked through below.\n\n`;
  }
  t += `> ${md(f.summary)}\n\n`;
  t += `**Evidence.** Relative seq/ack; times in seconds since the connection's first kept packet; raw window field.${ex.notStored > 0 ? ` The connection had ${num(ex.totalSegments)} segments; the first ${HEAD_SEGMENTS} and the last ${TAIL_SEGMENTS} are kept.` : ''}\n\n`;
  t += evidenceTable(ex);
  const facts = Object.entries(f.evidence).filter(([, v]) => v !== null && v !== undefined && typeof v !== 'object').map(([k, v]) => `${md(k)}=${md(v)}`);
  if (facts.length) t += `Rule evidence: ${facts.join(', ')}\n\n`;
  t += '**What the applications saw.**\n\n';
  if (f.app.orig) t += `- ${md(ex.origRole)} ${md(hostPort(ex.rec.orig.ip, ex.rec.orig.port))}: ${md(f.app.orig)}\n`;
  if (f.app.resp) t += `- ${md(ex.respRole)} ${md(hostPort(ex.rec.resp.ip, ex.rec.resp.port))}: ${md(f.app.resp)}\n`;
  if (!f.app.orig && !f.app.resp) t += '- nothing the rule can tell\n';
  t += '\n**How to fix.**\n\n';
  t += fixAdvice(g.rule, g.variant).markdown + '\n\n';
  const wf = wiresharkFilters(g);
  t += `**Wireshark filter**${multi ? ` (in ${md(file)})` : ''}: ${code(wf.stream)} · key packet ${code(wf.key)}`;
  if (wf.frames) t += ` · evidence ${code(wf.frames)}`;
  if (wf.group) t += ` · group ${code(wf.group)}`;
  return t + '\n\n';
}

export function renderMarkdown(m: ReportModel): string {
  const files = m.inputs.map((i) => i.file);
  const multi = m.inputs.length > 1;
  let t = `# TCP teardown report\n\n${files.map(md).join(', ')} · ${num(m.findings)} finding(s) in ${num(m.connections)} connection(s) · ${m.tool.name} ${m.tool.version}\n\n`;
  const unread = unreadableSentence(m.rawProblems, m.inputs.length);
  if (unread !== null) t += `> **${md(unread)}**\n\n`;
  t += '## Inputs\n\n';
  t += table(['file', 'format', 'packets', 'bytes', 'first packet (UTC)', 'span'], ['l', 'l', 'r', 'r', 'l', 'r'], m.inputs.map((i) => [
    md(i.file), md(`${i.format}${i.linkTypes.length ? `, ${i.linkTypes.join(' + ')}` : ''}`), num(i.packets), num(i.bytes),
    i.firstTs !== null ? utc(i.firstTs) : '–', i.firstTs !== null && i.lastTs !== null ? duration(i.lastTs - i.firstTs) : '–',
  ]));
  const warns: string[] = [];
  for (const i of m.inputs) for (const w of i.warnings) warns.push(`${i.file}: ${w}`);
  for (const p of m.problems) warns.push(p);
  if (m.evicted > 0) warns.push(evictionWarning(m.evicted, 'report'));
  if (warns.length) t += `**Warnings:**\n\n${warns.map((w) => `- ${md(w)}`).join('\n')}\n\n`;
  const seen = m.inputs.filter((i) => i.vantage !== undefined).map((i) => `${i.file}: ${vantageSentence(i.vantage!)}`);
  if (seen.length) t += `**Vantage:**\n\n${seen.map((w) => `- ${md(w)}`).join('\n')}\n\n`;

  t += '## Summary\n\n';
  if (nothingRead(m.rawProblems, m.inputs.length)) t += `${md(unread!)}\n\n`;
  else t += `${num(m.connections)} TCP connection(s), ${num(m.findings)} finding(s): ${num(m.bySeverity.error)} error, ${num(m.bySeverity.warning)} warning, ${num(m.bySeverity.info)} info; ${num(m.rstPackets)} RST packet(s).\n\n`;
  const notTcp = notTcpSentence(m.stats);
  if (notTcp !== null) t += `**Not analyzed:** ${md(notTcp)}\n\n`;
  if (m.byRule.length) {
    t += table(['severity', 'rule', 'what it means', 'findings', 'groups'], ['l', 'l', 'l', 'r', 'r'],
      m.byRule.map((r) => [r.severity, code(r.rule), md(r.title), num(r.count), num(r.groups)]));
  }
  if (m.rstSenders.length) {
    t += `**Endpoints that sent RSTs**${m.rstSendersTotal > m.rstSenders.length ? ` (top ${m.rstSenders.length} of ${num(m.rstSendersTotal)})` : ''}:\n\n`;
    t += table(['endpoint', 'role', 'RSTs', 'cause'], ['l', 'l', 'r', 'l'], m.rstSenders.map((s) => [
      md(s.endpoint), s.role, num(s.rsts), Object.entries(s.causes).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${md(c)} ${num(n)}`).join(', '),
    ]));
  }
  if (m.timeline && m.findings > 0) {
    const busiest = m.timeline.bins.reduce((a, b) => (b.error + b.warning + b.info > a.error + a.warning + a.info ? b : a));
    const n = busiest.error + busiest.warning + busiest.info;
    t += `**Timeline:** findings from ${utc(m.timeline.start)} to ${utc(m.timeline.end)} UTC; the busiest ${duration(busiest.end - busiest.start)} (from ${rel(busiest.start - m.timeline.start)} s) held ${num(n)} finding(s).\n\n`;
  }
  if (m.groups.length) {
    t += '## Findings\n\nFindings with the same rule and endpoints (originator IP, responder IP and port) are grouped.\n\n';
    const shown = m.groups.slice(0, m.options.maxGroups);
    t += table(['severity', 'rule', 'endpoints', 'count', 'first (UTC)', 'span', multi ? 'file: frame' : 'first frame', 'filter'], ['l', 'l', 'l', 'r', 'l', 'r', 'r', 'l'], shown.map((g) => {
      const wf = g.streams.length > 1 ? `tcp.stream in {${g.streams.join(' ')}}` : `tcp.stream eq ${g.streams[0]}`;
      return [g.severity, code(g.rule), md(groupEndpoints(g)), num(g.count), utc(g.firstTs), g.count > 1 ? duration(g.lastTs - g.firstTs) : '–',
        `${multi ? `${g.input + 1}: ` : ''}${g.firstFrame}`, code(wf)];
    }));
    if (m.groups.length > shown.length) {
      const rest = m.groups.slice(shown.length);
      t += `${num(rest.length)} more group(s) with ${num(rest.reduce((a, g) => a + g.count, 0))} finding(s) are not listed (cap --max-groups ${m.options.maxGroups}); \`rstscope analyze --format json\` lists every finding.\n\n`;
    }
    const detailed = m.groups.filter((g) => g.example);
    t += `## Worked examples\n\n${num(detailed.length)} of ${num(m.groups.length)} group(s) are worked through (cap --max-details ${m.options.maxDetails}, plus one per rule), most severe first.\n\n`;
    for (const g of detailed) t += detail(m, g);
  }
  t += '---\n\nFrames are numbered from 1 per file, as Wireshark and tshark number them. `tcp.stream eq N` uses rstscope\'s connection index within the file (in order of first packet), '
    + 'which matches Wireshark\'s numbering when no port reuse splits a stream and every TCP packet of the file was decodable. Times are UTC. '
    + `Payload previews show the first bytes of a segment as text (\\r, \\n, \\xHH for other bytes); \`--payload-bytes 0\` leaves them out. Rules: ${RULES.length}; see \`rstscope explain RULE\`.\n`;
  return t;
}
