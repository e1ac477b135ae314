/**
 * src/ imports point only down the layers (capture < decode < tcp < rules <
 * report < analysis < cli) and form no cycle (scripts/layers.ts); the checker
 * itself finds both kinds of problem in a made-up tree.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkImports } from '../scripts/layers.js';
import { ROOT } from './helpers.js';

test('src/: no upward import, no import cycle', () => {
  assert.deepEqual(checkImports(join(ROOT, 'src')), { upward: [], cycles: [] });
});

test('the checker finds an upward import and a cycle (type-only and multi-line imports too)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rstscope-layers-'));
  try {
    for (const d of ['tcp', 'report', 'cli']) mkdirSync(join(dir, d));
    writeFileSync(join(dir, 'tcp/a.ts'), "import type { B } from './b.js';\nexport type A = B;\n");
    writeFileSync(join(dir, 'tcp/b.ts'), "import {\n  type A,\n} from './a.js';\nexport type B = A | number;\n");
    writeFileSync(join(dir, 'report/r.ts'), "import { x } from '../cli/c.js';\nexport const r = x;\n");
    writeFileSync(join(dir, 'cli/c.ts'), "import type { A } from '../tcp/a.js';\nexport const x: A = 1;\n");
    const { upward, cycles } = checkImports(dir);
    assert.deepEqual(upward, ['report/r.ts -> cli/c.ts']);
    assert.deepEqual(cycles, [['tcp/a.ts', 'tcp/b.ts', 'tcp/a.ts']]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
