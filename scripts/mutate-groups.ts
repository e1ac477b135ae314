/**
 * The mutation-testing groups (scripts/mutate.ts runs them): which source each group mutates and which tests
 * must kill its mutants. Kept apart from the runner so that a test can check the specs still point at the code
 * they name (test/mutate-groups.test.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Group {
  name: string;
  what: string;
  /**
   * files to mutate, relative to the repository: a whole file, `file:line-line` (Stryker's range), or
   * `file#name`, the lines of the function or method `name` (resolveSpec), which follows the code as it moves
   */
  mutate: string[];
  /** compiled test files (dist/test/*.test.js) that must kill them, run by one `node --test` per mutant */
  tests: string[];
}

export const GROUPS: Group[] = [
  {
    name: 'state',
    what: "Zeek's endpoint state machine and conn_state",
    mutate: ['src/tcp/state.ts'],
    tests: ['dist/test/conn-state.test.js'],
  },
  {
    name: 'rst',
    what: 'RST acceptance and shape',
    mutate: ['src/tcp/rst.ts', 'src/tcp/rst-summary.ts', 'src/tcp/accounting.ts#recordRst'],
    tests: ['dist/test/rst-record.test.js', 'dist/test/layouts.test.js', 'dist/test/tracker.test.js'],
  },
  {
    name: 'rst-causes',
    what: 'the RST-cause chain of the rules',
    mutate: ['src/rules/teardown.ts', 'src/rules/rst-suspicious.ts', 'src/rules/abortive-close.ts',
      'src/rules/rst-with-unread-data.ts', 'src/rules/write-after-peer-close.ts', 'src/rules/stale-connection.ts',
      'src/rules/synack-reset.ts'],
    // in-process (analyze(), no CLI): rules-captures checks the captures' findings through the CLI and tshark,
    // write-after-close-crafted the goodbye cases (also in rst-causes, in process) through the CLI and the
    // report's advice (5.8 s a run against 1.6 s for rst-causes: too slow to run once per mutant)
    tests: ['dist/test/rst-causes.test.js'],
  },
  {
    name: 'timestamps',
    what: 'pcap and pcapng timestamp paths',
    // pcap: the record's time; pcapng: the fast path's time (runFast: its nsPerUnit, 109-112, and the
    // second window, 124-134), if_tsresol and if_tsoffset (readIdb, from the interface defaults `dec: 6`
    // on: columns are 0-based), setTime, and the EPB and PB timestamp reads; frame.ts: tsSeconds.
    // Not the fast path's block checks between (113-123: type, length, trailer, interface): a mutant
    // there only hands a block to step(), which validates it again and gives the same frame and time,
    // so for times they are all equivalent (31 survivors on 2026-12-07); the validation is the robustness
    // tests' job (fuzz, robust-hostile, capture-fastpath). Ranges to re-check when these files change.
    mutate: ['src/capture/pcap.ts:96-103', 'src/capture/pcap.ts:118-119', 'src/capture/pcapng.ts:109-112',
      'src/capture/pcapng.ts:124-134', 'src/capture/pcapng.ts:240:66-324',
      'src/capture/pcapng.ts:356-356', 'src/capture/pcapng.ts:395-395', 'src/capture/frame.ts:43-46'],
    // in-process, built in memory: capture-formats, capture-fastpath and fuzz-regressions (29 s a run) cover
    // the same paths through files, tshark and the CLI, too slow to run once per mutant
    tests: ['dist/test/timestamps.test.js'],
  },
  {
    name: 'flow-hash',
    what: 'the symmetric flow hash (shards and worker lanes)',
    mutate: ['src/tcp/flow-hash.ts'],
    tests: ['dist/test/tracker.test.js'],
  },
  {
    name: 'merge',
    what: 'the --workers merge (order and renumbering)',
    mutate: ['src/analysis/merge.ts'],
    tests: ['dist/test/merge.test.js'],
  },
];


/**
 * A group's mutate spec as Stryker takes it: `file#name` becomes `file:first-last`, the lines from the declaration
 * of the function or method `name` (a line that starts, after indentation and modifiers, with `name(` or
 * `function name(`) to the first later line that is that indentation and `}`. Other specs are returned as they
 * are. Throws when the name is not declared in the file or its end is not found (a renamed or moved function
 * must fail the run, not mutate the wrong lines).
 */
export function resolveSpec(root: string, spec: string): string {
  const hash = spec.indexOf('#');
  if (hash < 0) return spec;
  const file = spec.slice(0, hash);
  const name = spec.slice(hash + 1);
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const decl = new RegExp(`^(\\s*)(?:(?:export|private|public|protected|static|async)\\s+)*(?:function\\s+)?${name}\\(`);
  for (let i = 0; i < lines.length; i++) {
    const m = decl.exec(lines[i]!);
    if (!m) continue;
    const close = `${m[1]}}`;
    for (let j = i + 1; j < lines.length; j++) if (lines[j] === close) return `${file}:${i + 1}-${j + 1}`;
    throw new Error(`${spec}: no closing line for ${name} (declared at line ${i + 1})`);
  }
  throw new Error(`${spec}: ${name} is not declared in ${file}`);
}
