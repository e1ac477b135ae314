/**
 * The two ways a connection record gets its RSTs (src/tcp/accounting.ts
 * recordRst): with evidence, from the full RST records the rules read; without
 * (`flows`), from the packed summaries alone. Shared by test/tracker.test.ts
 * and test/rst-record.test.ts.
 */
import assert from 'node:assert/strict';
import { analyze } from '../src/analysis/analyze.js';
import type { ConnRecord } from '../src/tcp/record.js';
import { rstShape } from '../src/tcp/rst.js';

/** Runs one capture with evidence (analyze) and without (flows); checks the records agree and each RST summary matches its full record. */
export async function bothWays(files: string[]): Promise<ConnRecord[]> {
  const full = await analyze(files, {
    perFile: true,
    onCloseOut: (rec, _found, c) => {
      assert.equal(rec.resets.length, c.rsts.length, `connection ${rec.id}`);
      rec.resets.forEach((r, i) => {
        const x = c.rsts[i];
        assert.deepEqual(r, { frame: x.seg.frame, from: x.seg.fromOrig ? 'orig' : 'resp', shape: rstShape(x), acceptance: x.acceptance }, `connection ${rec.id} RST ${i}`);
      });
    },
  });
  const lean = await analyze(files, { perFile: true, rules: false });
  assert.deepEqual(lean.connections, full.connections);
  return full.connections;
}
