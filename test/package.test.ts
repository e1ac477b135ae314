/**
 * Issue 17 "Packaging": the tarball `npm pack` makes ships what runs and
 * nothing that does not (no compiled tests or scripts, no source maps
 * pointing at absent sources, no `prepare` hook), with the licence and the
 * sample captures; installed globally into a temporary prefix, the command
 * runs from another directory: --version, analyze on a bundled capture,
 * explain.
 *
 * The install is `--prefer-offline`: the dependencies come from npm's cache,
 * which `npm install`/`npm ci` of this checkout filled, so the test needs no
 * network there (the registry only when the cache was cleared since). The
 * optional dependency cap (a native build) is left out.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };

interface PackResult { filename: string; files: { path: string }[] }

test('npm pack ships what runs, and the installed command works from another directory', { timeout: 180_000 }, (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'rstscope-pack-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  // dist/ is built by `npm test` before the tests run; prepack (a clean build) is skipped here
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: ROOT, encoding: 'utf8' });
  const [packed] = JSON.parse(out) as PackResult[];
  const files = packed.files.map((f) => f.path);

  for (const must of ['LICENSE', 'README.md', 'package.json', 'bin/rstscope.js', 'dist/src/cli/main.js',
    'dist/src/analysis/worker.js', 'docs/rules/refused.md', 'captures/refused.pcap', 'schema/defs.schema.json',
    'schema/analyze.schema.json', 'schema/flows.schema.json', 'schema/ndjson.schema.json', 'man/rstscope.1']) {
    assert.ok(files.includes(must), `the tarball lacks ${must}`);
  }
  const stray = files.filter((f) => f.startsWith('dist/test/') || f.startsWith('dist/scripts/') || f.endsWith('.map') || f.endsWith('.ts')
    || f.startsWith('src/') || f.startsWith('test/'));
  assert.deepEqual(stray, [], 'the tarball ships files that do not run');

  const tarball = join(tmp, packed.filename);
  const prefix = join(tmp, 'prefix');
  const install = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--omit=optional', '--no-audit', '--no-fund', tarball],
    { cwd: tmp, encoding: 'utf8' });
  assert.equal(install.status, 0, `npm install -g of the tarball failed:\n${install.stderr}`);

  const bin = join(prefix, 'bin', 'rstscope');
  const run = (...args: string[]) => spawnSync(bin, args, { cwd: tmp, encoding: 'utf8' });

  const version = run('--version');
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout.trim(), pkg.version);

  const installed = join(prefix, 'lib', 'node_modules', pkg.name);
  // the installed manifest is the published one
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  assert.equal(manifest.scripts?.prepare, undefined, 'the published manifest has a prepare hook');
  const analyzed = run('analyze', join(installed, 'captures', 'refused.pcap'));
  assert.equal(analyzed.status, 0, analyzed.stderr);
  assert.match(analyzed.stdout, /refused/);
  assert.match(analyzed.stdout, /ECONNREFUSED/);

  const explained = run('explain', 'refused');
  assert.equal(explained.status, 0, explained.stderr);
  assert.match(explained.stdout, /ECONNREFUSED/);

  // the man page is installed with the package (the manifest's "man" names it: `man -l` reads it there,
  // and npm links it into the man path where its configuration does)
  assert.ok(existsSync(join(installed, 'man', 'rstscope.1')), 'man page installed');
  const completion = run('completion');
  assert.equal(completion.status, 0, completion.stderr);
  assert.match(completion.stdout, /complete .* rstscope/);
});

test('the man page: the package version, every command, the -t formats', () => {
  const page = readFileSync(join(ROOT, 'man', 'rstscope.1'), 'utf8');
  assert.match(page, new RegExp(`^\\.TH RSTSCOPE 1 "[^"]+" "rstscope ${pkg.version.replace(/\./g, '\\.')}"`, 'm'));
  for (const cmd of ['analyze', 'flows', 'report', 'show', 'live', 'rules', 'explain', 'completion']) assert.match(page, new RegExp(`^\\.B ${cmd}$`, 'm'), cmd);
  for (const t of ['r', 'a', 'ad', 'u', 'ud', 'e']) assert.match(page, new RegExp(`^\\.B ${t}$`, 'm'), `-t ${t}`);
  assert.equal((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { man: string }).man, './man/rstscope.1');
});
