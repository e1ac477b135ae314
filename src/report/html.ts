/**
 * The HTML incident report: one self-contained file (inline CSS and SVG; no
 * script, no font or image from the network), readable offline and in print.
 * Every string that comes from a capture (addresses, ports, payload previews,
 * file names, rule stories that quote them) is escaped with `esc`.
 */
import { basename } from 'node:path';
import type { Severity } from '../rules/types.js';
import { vantageSentence } from './vantage.js';
import { HEAD_SEGMENTS, TAIL_SEGMENTS } from '../tcp/connection.js';
import { notTcpSentence, nothingRead, unreadableSentence } from './coverage.js';
import { evictionWarning } from './eviction.js';
import { fixAdvice, ruleTitle } from './docs.js';
import { esc } from './escape.js';
import { duration, flagNames, groupEndpoints, hostPort, num, rel, utc, wiresharkFilters } from './format.js';
import { ladderSvg, SEV_COLOR, timelineSvg } from './ladder.js';
import type { Example, Group, ReportModel } from './model.js';

const CSS = `
:root{--fg:#101828;--muted:#475467;--line:#eaecf0;--bg:#fff;--soft:#f9fafb;--err:${SEV_COLOR.error};--warn:${SEV_COLOR.warning};--info:${SEV_COLOR.info}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif}
main{max-width:960px;margin:0 auto;padding:32px 24px 64px}
h1{font-size:28px;line-height:1.2;margin:0 0 4px;letter-spacing:-.01em}
h2{font-size:20px;margin:40px 0 12px;padding-bottom:6px;border-bottom:2px solid var(--line)}
h3{font-size:17px;margin:0 0 8px}
h4{font-size:13px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:20px 0 6px}
p{margin:6px 0}
.sub{color:var(--muted);margin:0 0 20px}
code,.mono,td.num,svg text{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
code{font-size:.92em;background:#f2f4f7;border-radius:4px;padding:1px 5px;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;margin:8px 0 12px;font-size:13.5px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted);background:var(--soft);font-size:12.5px}
td.num,th.num{text-align:right;white-space:nowrap}
tr.key td{background:#fef3f2;font-weight:600}
table.evidence td{padding:3px 8px;white-space:nowrap}
.pv{display:inline-block;max-width:190px;overflow:hidden;text-overflow:ellipsis;vertical-align:bottom;white-space:nowrap}
td.nw{white-space:nowrap}
.tablewrap{overflow-x:auto}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.card{flex:1 1 120px;border:1px solid var(--line);border-radius:8px;padding:10px 14px;background:var(--soft)}
.card b{display:block;font-size:24px;line-height:1.2}
.card span{color:var(--muted);font-size:13px}
.sev{display:inline-block;font-size:11.5px;font-weight:700;text-transform:uppercase;letter-spacing:.04em;border-radius:999px;padding:1px 9px;color:#fff;white-space:nowrap}
.sev.error{background:var(--err)}.sev.warning{background:var(--warn)}.sev.info{background:var(--info)}
.warnbox{border-left:4px solid var(--warn);background:#fffaeb;padding:8px 12px;margin:8px 0;border-radius:4px}
.finding{border:1px solid var(--line);border-radius:10px;padding:18px 20px;margin:22px 0;page-break-inside:avoid;break-inside:avoid-page}
.finding.error{border-top:4px solid var(--err)}.finding.warning{border-top:4px solid var(--warn)}.finding.info{border-top:4px solid var(--info)}
.story{font-size:15.5px;background:var(--soft);border-radius:6px;padding:10px 14px;margin:10px 0}
.meta{color:var(--muted);font-size:13.5px}
.figure{overflow-x:auto;border:1px solid var(--line);border-radius:8px;padding:8px;margin:8px 0;background:#fff}
svg{max-width:100%;height:auto;display:block}
svg text{font-size:12px;fill:#344054}
svg .lane-role{font-family:system-ui,sans-serif;font-weight:700;font-size:13px;text-transform:capitalize}
svg .lane-ep,svg .col-head{font-size:12px;fill:#475467}
svg .col-head{font-family:system-ui,sans-serif;font-size:11px;text-transform:uppercase;letter-spacing:.05em}
svg .frame-no{font-weight:700}
svg .pkt-label{font-size:12.5px;paint-order:stroke;stroke:#fff;stroke-width:4px;stroke-linejoin:round}
svg .key-label,svg .key-note{font-weight:700}
svg .key-label{stroke:#fbeeed}
svg .note{font-size:11.5px;fill:#475467}
svg .gap-text{font-style:italic;fill:#667085;font-family:system-ui,sans-serif}
svg .axis{font-size:11px;fill:#475467}
svg .axis-title{font-size:11.5px;fill:#667085;font-family:system-ui,sans-serif}
.legend{font-size:12.5px;color:var(--muted);margin:4px 0}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 12px;vertical-align:-1px}
dl.app{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:6px 0}
dl.app dt{font-weight:600}dl.app dd{margin:0}
.fix ul{margin:4px 0;padding-left:22px}.fix li{margin:3px 0}
.filters td:first-child{white-space:nowrap;color:var(--muted);width:150px}
a{color:#175cd3;text-decoration:none}a:hover{text-decoration:underline}
footer{margin-top:48px;color:var(--muted);font-size:12.5px;border-top:1px solid var(--line);padding-top:12px}
@media print{
 body{font-size:11pt}main{max-width:none;padding:0}
 h2{break-after:avoid-page}.figure,.tablewrap{overflow:visible;border:none;padding:0}
 a{color:inherit}.finding{border-color:#ccc}
 tr,svg{break-inside:avoid}
}
`;

function sevBadge(s: Severity): string {
  return `<span class="sev ${s}">${s}</span>`;
}

/** Minimal Markdown (our own docs pages: paragraphs, "- " lists, `code`, **bold**) to HTML, escaping first. */
export function miniMarkdown(md: string): string {
  const inline = (t: string) => esc(t)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
  const blocks: string[] = [];
  let list: string[] | null = null;
  let para: string[] = [];
  let code: string[] | null = null;
  const flushPara = () => { if (para.length) blocks.push(`<p>${inline(para.join(' '))}</p>`); para = []; };
  const flushList = () => { if (list) blocks.push(`<ul>${list.map((i) => `<li>${inline(i)}</li>`).join('')}</ul>`); list = null; };
  for (const line of md.split('\n')) {
    if (code) {
      if (line.startsWith('```')) { blocks.push(`<pre><code>${esc(code.join('\n'))}</code></pre>`); code = null; } else code.push(line);
      continue;
    }
    if (line.startsWith('```')) { flushPara(); flushList(); code = []; continue; }
    const item = /^\s*[-*] (.*)$/.exec(line);
    if (item) { flushPara(); (list ??= []).push(item[1]); continue; }
    if (!line.trim()) { flushPara(); flushList(); continue; }
    if (list && /^\s+/.test(line)) { list[list.length - 1] += ' ' + line.trim(); continue; }
    flushList();
    para.push(line.trim());
  }
  flushPara();
  flushList();
  return blocks.join('\n');
}

function inputsSection(m: ReportModel): string {
  let h = '<table><thead><tr><th>file</th><th>format</th><th class="num">packets</th><th class="num">bytes</th><th>first packet (UTC)</th><th class="num">span</th></tr></thead><tbody>';
  for (const i of m.inputs) {
    const span = i.firstTs !== null && i.lastTs !== null ? duration(i.lastTs - i.firstTs) : '–';
    h += `<tr><td class="mono">${esc(i.file)}</td><td>${esc(i.format)}${i.linkTypes.length ? `, ${esc(i.linkTypes.join(' + '))}` : ''}</td>`
      + `<td class="num">${num(i.packets)}</td><td class="num">${num(i.bytes)}</td>`
      + `<td class="mono nw">${i.firstTs !== null ? esc(utc(i.firstTs)) : '–'}</td><td class="num">${esc(span)}</td></tr>`;
  }
  h += '</tbody></table>';
  const warns: string[] = [];
  for (const i of m.inputs) for (const w of i.warnings) warns.push(`${i.file}: ${w}`);
  for (const p of m.problems) warns.push(p);
  if (m.evicted > 0) warns.push(evictionWarning(m.evicted, 'report'));
  if (warns.length) h += `<div class="warnbox"><strong>Warnings.</strong><ul>${warns.map((w) => `<li>${esc(w)}</li>`).join('')}</ul></div>`;
  const seen = m.inputs.filter((i) => i.vantage !== undefined).map((i) => `${i.file}: ${vantageSentence(i.vantage!)}`);
  if (seen.length) h += `<p><strong>Vantage.</strong></p><ul>${seen.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`;
  return h;
}

function summarySection(m: ReportModel): string {
  let h = '<div class="cards">'
    + `<div class="card"><b>${num(m.connections)}</b><span>TCP connections</span></div>`
    + `<div class="card"><b>${num(m.findings)}</b><span>findings</span></div>`
    + `<div class="card"><b style="color:var(--err)">${num(m.bySeverity.error)}</b><span>errors</span></div>`
    + `<div class="card"><b style="color:var(--warn)">${num(m.bySeverity.warning)}</b><span>warnings</span></div>`
    + `<div class="card"><b style="color:var(--info)">${num(m.bySeverity.info)}</b><span>info</span></div>`
    + `<div class="card"><b>${num(m.rstPackets)}</b><span>RST packets</span></div></div>`;
  const notTcp = notTcpSentence(m.stats);
  if (notTcp !== null) h += `<p class="warnbox">${esc(notTcp)}</p>`;
  if (nothingRead(m.rawProblems, m.inputs.length)) {
    h += `<p>${esc(unreadableSentence(m.rawProblems, m.inputs.length)!)}</p>`;
  } else if (m.findings === 0) {
    h += `<p>No teardown findings in ${num(m.connections)} connection(s): every connection ${m.rawProblems.length > 0 ? 'in what could be read ' : ''}ended in a way the rules consider normal.</p>`;
  } else {
    h += '<h4>Findings by rule</h4><table><thead><tr><th>severity</th><th>rule</th><th>what it means</th><th class="num">findings</th><th class="num">groups</th></tr></thead><tbody>';
    for (const r of m.byRule) {
      h += `<tr><td>${sevBadge(r.severity)}</td><td class="mono">${esc(r.rule)}</td><td>${esc(r.title)}</td><td class="num">${num(r.count)}</td><td class="num">${num(r.groups)}</td></tr>`;
    }
    h += '</tbody></table>';
  }
  if (m.rstSenders.length) {
    h += `<h4>Endpoints that sent RSTs${m.rstSendersTotal > m.rstSenders.length ? ` (top ${m.rstSenders.length} of ${num(m.rstSendersTotal)})` : ''}</h4>`;
    h += '<table><thead><tr><th>endpoint</th><th>role</th><th class="num">RSTs</th><th>cause (rule of the finding the RST belongs to)</th></tr></thead><tbody>';
    for (const s of m.rstSenders) {
      const causes = Object.entries(s.causes).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${esc(c)} ${num(n)}`).join(', ');
      h += `<tr><td class="mono">${esc(s.endpoint)}</td><td>${esc(s.role)}</td><td class="num">${num(s.rsts)}</td><td>${causes}</td></tr>`;
    }
    h += '</tbody></table>';
  }
  if (m.timeline) {
    h += '<h4>Timeline of findings</h4>';
    h += `<p class="legend">From ${esc(utc(m.timeline.start))} UTC to ${esc(utc(m.timeline.end))} UTC (${esc(duration(m.timeline.end - m.timeline.start))}).`
      + `<i style="background:var(--err)"></i>error<i style="background:var(--warn)"></i>warning<i style="background:var(--info)"></i>info</p>`;
    h += `<div class="figure">${timelineSvg(m)}</div>`;
  }
  return h;
}

function indexSection(m: ReportModel): string {
  if (m.groups.length === 0) return '';
  const multi = m.inputs.length > 1;
  let h = '<p class="meta">Findings with the same rule and endpoints (originator IP, responder IP and port) are grouped. Each group with a worked example links to it below.</p>';
  h += `<table><thead><tr><th>severity</th><th>rule</th><th>endpoints</th><th class="num">count</th><th>first (UTC)</th><th class="num">span</th><th class="num">${multi ? 'file: frame' : 'first frame'}</th></tr></thead><tbody>`;
  const shown = m.groups.slice(0, m.options.maxGroups);
  for (const g of shown) {
    const frame = `${multi ? `${g.input + 1}: ` : ''}${g.firstFrame}`;
    const link = g.example ? `<a href="#g${g.id}">${esc(g.rule)}</a>` : esc(g.rule);
    h += `<tr><td>${sevBadge(g.severity)}</td><td class="mono nw">${link}</td><td class="mono">${esc(groupEndpoints(g))}</td>`
      + `<td class="num">${num(g.count)}</td><td class="mono nw">${esc(utc(g.firstTs))}</td><td class="num">${g.count > 1 ? esc(duration(g.lastTs - g.firstTs)) : '–'}</td><td class="num">${esc(frame)}</td></tr>`;
  }
  h += '</tbody></table>';
  if (m.groups.length > shown.length) {
    const rest = m.groups.slice(shown.length);
    const n = rest.reduce((a, g) => a + g.count, 0);
    h += `<p class="meta">${num(rest.length)} more group(s) with ${num(n)} finding(s) are not listed (cap --max-groups ${m.options.maxGroups}); <code>rstscope analyze --format json</code> lists every finding.</p>`;
  }
  return h;
}

function evidenceTable(ex: Example): string {
  const t0 = ex.segments.length ? ex.segments[0].ts : ex.rec.ts;
  const ttlHead = ex.ipVersion === 6 ? 'hop limit' : 'TTL';
  let h = `<table class="evidence"><thead><tr><th class="num">frame</th><th class="num">time (s)</th><th>direction</th><th>flags</th><th class="num">seq</th><th class="num">ack</th><th class="num">len</th><th class="num">window</th><th class="num">${ttlHead}</th><th class="num">IP ID</th><th>payload / note</th></tr></thead><tbody>`;
  let prev = -1;
  for (let i = 0; i < ex.segments.length; i++) {
    const s = ex.segments[i];
    if (i === Math.min(HEAD_SEGMENTS, ex.segments.length) && ex.notStored > 0 && i > 0) {
      h += `<tr><td colspan="11" class="meta" style="text-align:center">⋯ ${num(ex.notStored)} segment(s) between frames ${prev} and ${s.frame} not kept ⋯</td></tr>`;
    }
    prev = s.frame;
    const isKey = s.frame === ex.finding.frame;
    const dir = s.fromOrig ? `${ex.origRole} → ${ex.respRole}` : `${ex.respRole} → ${ex.origRole}`;
    const notes: string[] = [];
    if (isKey) notes.push('<strong>key packet</strong>');
    if (s.retrans) notes.push('retransmission');
    if (s.payload !== undefined) notes.push(`<code class="pv" title="${esc(s.payload)}">${esc(s.payload)}${s.payloadMore ? '…' : ''}</code>`);
    h += `<tr${isKey ? ' class="key"' : ''}><td class="num">${s.frame}</td><td class="num">${esc(rel(s.ts - t0))}</td><td>${esc(dir)}</td><td class="mono">${esc(flagNames(s.flags))}</td>`
      + `<td class="num">${s.seqRel}</td><td class="num">${s.ackRel >= 0 ? s.ackRel : '–'}</td><td class="num">${s.len}</td><td class="num">${s.win}</td>`
      + `<td class="num">${s.ttl}</td><td class="num">${s.ipId >= 0 ? s.ipId : '–'}</td><td>${notes.join(' ')}</td></tr>`;
  }
  h += '</tbody></table>';
  return h;
}

function evidenceFacts(ev: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(ev)) {
    if (v === null || v === undefined || typeof v === 'object') continue;
    parts.push(`<code>${esc(k)}=${esc(v)}</code>`);
  }
  return parts.length ? `<p class="meta">Rule evidence: ${parts.join(' ')}</p>` : '';
}

function detail(m: ReportModel, g: Group): string {
  const ex = g.example!;
  const f = ex.finding;
  const multi = m.inputs.length > 1;
  const file = m.inputs[g.input]?.file ?? '';
  let h = `<section class="finding ${g.severity}" id="g${g.id}">`;
  h += `<h3>${sevBadge(g.severity)} ${esc(ruleTitle(g.rule))} <span class="meta mono">${esc(g.rule)}</span>${g.variant !== null ? ` <span class="meta">variant <span class="mono">${esc(g.variant)}</span></span>` : ''}</h3>`;
  h += `<p class="meta mono">${esc(hostPort(ex.rec.orig.ip, ex.rec.orig.port))} → ${esc(hostPort(ex.rec.resp.ip, ex.rec.resp.port))} · ${multi ? `${esc(file)} · ` : ''}stream ${f.stream} · key frame ${f.frame} · ${esc(utc(f.ts))} UTC · ${esc(ex.rec.state)} · history <code>${esc(ex.rec.history)}</code></p>`;
  if (g.count > 1) {
    h += `<p class="meta">This group holds <strong>${num(g.count)}</strong> findings with the same rule and endpoints${g.origPorts.size > 1 ? ` (${g.origPorts.size >= 1000 ? '1000+' : num(g.origPorts.size)} originator ports)` : ''}, from ${esc(utc(g.firstTs))} to ${esc(utc(g.lastTs))} UTC (frames ${g.firstFrame} to ${g.lastFrame}); the first one is worked through below.</p>`;
  }
  h += `<p class="story">${esc(f.summary)}</p>`;
  h += '<h4>Ladder</h4>';
  h += `<div class="figure">${ladderSvg(ex, g.severity)}</div>`;
  h += '<h4>Evidence</h4>';
  h += `<p class="meta">Sequence and acknowledgement numbers are relative to each side's initial sequence number; times are seconds since the connection's first kept packet; the window is the raw header field (unscaled).${ex.notStored > 0 ? ` The connection had ${num(ex.totalSegments)} segments; the first ${HEAD_SEGMENTS} and the last ${TAIL_SEGMENTS} are kept.` : ''}</p>`;
  h += `<div class="tablewrap">${evidenceTable(ex)}</div>`;
  h += evidenceFacts(f.evidence);
  h += '<h4>What the applications saw</h4><dl class="app">';
  if (f.app.orig) h += `<dt>${esc(ex.origRole)} <span class="mono meta">${esc(hostPort(ex.rec.orig.ip, ex.rec.orig.port))}</span></dt><dd>${esc(f.app.orig)}</dd>`;
  if (f.app.resp) h += `<dt>${esc(ex.respRole)} <span class="mono meta">${esc(hostPort(ex.rec.resp.ip, ex.rec.resp.port))}</span></dt><dd>${esc(f.app.resp)}</dd>`;
  if (!f.app.orig && !f.app.resp) h += '<dt>–</dt><dd>nothing the rule can tell</dd>';
  h += '</dl>';
  const fix = fixAdvice(g.rule, g.variant);
  h += `<h4>How to fix</h4><div class="fix">${miniMarkdown(fix.markdown)}</div>`;
  const wf = wiresharkFilters(g);
  h += `<h4>Wireshark</h4><table class="filters"><tbody>`;
  h += `<tr><td>this connection</td><td><code>${esc(wf.stream)}</code></td></tr>`;
  h += `<tr><td>key packet</td><td><code>${esc(wf.key)}</code></td></tr>`;
  if (wf.frames) h += `<tr><td>evidence packets</td><td><code>${esc(wf.frames)}</code></td></tr>`;
  if (wf.group) h += `<tr><td>group (first ${g.streams.length})</td><td><code>${esc(wf.group)}</code></td></tr>`;
  h += '</tbody></table>';
  if (multi) h += `<p class="meta">Frame and stream numbers refer to <span class="mono">${esc(file)}</span>.</p>`;
  h += '</section>';
  return h;
}

export function renderHtml(m: ReportModel): string {
  const files = m.inputs.map((i) => i.file).join(', ');
  const detailed = m.groups.filter((g) => g.example);
  let body = `<header><h1>TCP teardown report</h1><p class="sub">${esc(files)} · ${num(m.findings)} finding(s) in ${num(m.connections)} connection(s) · ${esc(m.tool.name)} ${esc(m.tool.version)}</p></header>`;
  const unread = unreadableSentence(m.rawProblems, m.inputs.length);
  if (unread !== null) body += `<div class="warnbox"><strong>${esc(unread)}</strong></div>`;
  body += `<h2>Inputs</h2>${inputsSection(m)}`;
  body += `<h2>Summary</h2>${summarySection(m)}`;
  if (m.groups.length) {
    body += `<h2>Findings</h2>${indexSection(m)}`;
    body += `<h2>Worked examples</h2><p class="meta">${num(detailed.length)} of ${num(m.groups.length)} group(s) are worked through (cap --max-details ${m.options.maxDetails}, plus one per rule), most severe first.</p>`;
    for (const g of detailed) body += detail(m, g);
  }
  body += '<footer><p>How to read this report: frames are numbered from 1 per file, as Wireshark and tshark number them. '
    + '<code>tcp.stream eq N</code> uses rstscope\'s connection index within the file (in order of first packet), which matches Wireshark\'s numbering '
    + 'when no port reuse splits a stream and every TCP packet of the file was decodable. Times are UTC. '
    + 'Payload previews show the first bytes of a segment as text (\\r, \\n, \\xHH for other bytes); <code>--payload-bytes 0</code> leaves them out.</p>'
    + `<p>Generated by ${esc(m.tool.name)} ${esc(m.tool.version)} from the capture files above; the report contains no script and loads nothing from the network.</p></footer>`;
  return '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
    + '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
    + `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">\n`
    + `<title>TCP teardown report: ${esc(titleFiles(m.inputs.map((i) => i.file)))}</title>\n<style>${CSS}</style>\n</head>\n<body>\n<main>\n${body}\n</main>\n</body>\n</html>\n`;
}

/** The inputs as the page title names them: the one path, or the first file's name and how many more (a tab's title stays short). */
function titleFiles(paths: string[]): string {
  return paths.length <= 1 ? paths.join('') : `${basename(paths[0])} and ${paths.length - 1} more input(s)`;
}
