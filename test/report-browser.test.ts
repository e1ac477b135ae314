/**
 * The HTML report in a real browser: headless Chromium (Debian's `chromium`
 * package, found on PATH, driven by playwright-core) opens reports made
 * from bundled captures and checks that the ladder and the timeline render,
 * that capture-derived markup stays text, that the page makes no network
 * request and logs no console error. Screenshots go to test-artifacts/
 * (git-ignored) for a person to look at.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT, runCli } from './helpers.js';
import { requires, toolPath } from './requires.js';
import { writeRefusalFlood } from './report-util.js';

/** without chromium every test here skips (under CI=true the file fails): test/requires.ts */
const NEEDS = requires('chromium');
const CHROMIUM = toolPath('chromium');
const ARTIFACTS = resolve(ROOT, 'test-artifacts');
let browser: Browser;
let work: string;

before(async () => {
  if (CHROMIUM === null) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  work = mkdtempSync(join(tmpdir(), 'rstscope-browser-'));
  // playwright gives every launch a fresh temporary --user-data-dir of its own
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  requests: string[];
  errors: string[];
  loadMs: number;
}

/** Opens a report file; records every request other than the report itself, and console errors. */
async function open(file: string): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const url = pathToFileURL(file).href;
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => { if (r.url() !== url) requests.push(r.url()); });
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  const t0 = Date.now();
  await page.goto(url, { waitUntil: 'load' });
  return { page, requests, errors, loadMs: Date.now() - t0 };
}

async function report(input: string, name: string, extra: string[] = []): Promise<string> {
  const out = join(work, `${name}.html`);
  const r = await runCli(['report', input, '-o', out, ...extra], { timeoutMs: 240_000 });
  assert.equal(r.code, 0, r.stderr);
  return out;
}

test('ladder and timeline render; no network request, no console error', NEEDS, async () => {
  const file = await report('captures/write-after-peer-close-bug.pcap', 'write-after-peer-close-bug');
  const { page, requests, errors } = await open(file);
  try {
    const ladder = page.locator('svg.ladder').first();
    const box = await ladder.boundingBox();
    assert.ok(box && box.width > 400 && box.height > 200, `ladder box ${JSON.stringify(box)}`);
    // one arrow (line + head) per packet of the 7-packet connection, in frame order, the RST highlighted
    const frames = await page.$$eval('svg.ladder g.pkt', (gs) => gs.map((g) => Number(g.getAttribute('data-frame'))));
    assert.deepEqual(frames, [1, 2, 3, 4, 5, 6, 7]);
    const arrows = await page.$$eval('svg.ladder g.pkt', (gs) => gs.map((g) => {
      const line = g.querySelector('line')!.getBoundingClientRect();
      const head = g.querySelector('polygon')!.getBoundingClientRect();
      return { w: line.width, headW: head.width, label: g.querySelector('text.pkt-label')?.textContent ?? '' };
    }));
    for (const a of arrows) {
      assert.ok(a.w > 200 && a.headW > 3, `arrow not drawn: ${JSON.stringify(a)}`);
    }
    assert.match(arrows[0].label, /^SYN\s+seq=0/);
    assert.match(arrows[6].label, /^RST/);
    assert.equal(await page.locator('svg.ladder g.pkt.key').getAttribute('data-frame'), '7');
    // the timeline has its bar
    const bars = await page.$$eval('svg.timeline g.bar rect', (rs) => rs.map((r) => r.getBoundingClientRect().height));
    assert.ok(bars.length >= 1 && bars.every((h) => h > 0), `timeline bars ${JSON.stringify(bars)}`);
    assert.deepEqual(requests, []);
    assert.deepEqual(errors, []);
    await page.screenshot({ path: join(ARTIFACTS, 'report-write-after-peer-close.png'), fullPage: true });
    await page.emulateMedia({ media: 'print' });
    await page.screenshot({ path: join(ARTIFACTS, 'report-write-after-peer-close-print.png'), fullPage: true });
  } finally {
    await page.close();
  }
});

test('payload with HTML and script text shows as text in the browser', NEEDS, async () => {
  const file = await report('test/fixtures/report/payload-html.pcap', 'payload-html', ['--payload-bytes', '256']);
  const { page, requests, errors } = await open(file);
  try {
    const counts = await page.evaluate(() => ({
      scripts: document.querySelectorAll('script').length,
      imgs: document.querySelectorAll('img').length,
      injectedBold: [...document.querySelectorAll('b')].filter((b) => b.textContent === '&').length,
      handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length,
    }));
    assert.deepEqual(counts, { scripts: 0, imgs: 0, injectedBold: 0, handlers: 0 });
    const text = await page.locator('table.evidence').first().innerText();
    assert.ok(text.includes('GET /<script>alert("rstscope")</script>'), text);
    assert.deepEqual(requests, []);
    assert.deepEqual(errors, []);
    await page.screenshot({ path: join(ARTIFACTS, 'report-payload-html.png'), fullPage: true });
  } finally {
    await page.close();
  }
});

test('a report of 100,000 resets opens quickly', NEEDS, async () => {
  const cap = join(work, 'flood.pcap');
  writeRefusalFlood(cap, 100_000, 2000);
  const file = await report(cap, 'flood');
  const { page, requests, errors, loadMs } = await open(file);
  try {
    assert.ok(loadMs < 10_000, `load took ${loadMs} ms`);
    assert.equal(await page.locator('svg.ladder').count(), 50);
    assert.deepEqual(requests, []);
    assert.deepEqual(errors, []);
    await page.screenshot({ path: join(ARTIFACTS, 'report-flood.png') });
  } finally {
    await page.close();
  }
});
