/**
 * Import structure of src/: every relative import (static `import`/`export
 * ... from`, and dynamic `import('...')`) must point to the same layer or a
 * lower one, and no module may reach itself through its imports.
 *
 *   node dist/scripts/layers.js [SRC_DIR]   # prints the problems; exit 1 if any
 *
 * Layers, lowest first (a directory of src/ each):
 *   capture < decode < tcp < rules < report < analysis < cli
 * Type-only imports count like any other: a type names the layer that defines it.
 * Known gap: imports are found with a regular expression over the source text
 * (good for this code base: no imports inside strings or comments), and a
 * worker thread started by file URL (`new Worker(new URL(...))`) is not an import.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const LAYERS = ['capture', 'decode', 'tcp', 'rules', 'report', 'analysis', 'cli'] as const;

export interface ImportProblems {
  /** "from -> to" for imports that point up a layer (paths relative to src/) */
  upward: string[];
  /** each cycle as its modules in import order, the first repeated at the end */
  cycles: string[][];
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s*'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

/** Module -> the modules it imports (relative imports only), paths relative to srcDir. */
export function importGraph(srcDir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(srcDir)) {
    const text = readFileSync(file, 'utf8');
    const deps = new Set<string>();
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      if (!spec.startsWith('.')) continue;
      deps.add(relative(srcDir, resolve(dirname(file), spec.replace(/\.js$/, '.ts'))));
    }
    graph.set(relative(srcDir, file), [...deps].sort());
  }
  return graph;
}

function layerOf(path: string): number {
  return LAYERS.indexOf(path.split(/[\\/]/)[0] as (typeof LAYERS)[number]);
}

/** Strongly connected components of more than one module (or a module importing itself), as cycles. */
function findCycles(graph: Map<string, string[]>): string[][] {
  // Tarjan's algorithm
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(oneCycle(graph, new Set(scc), v));
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return cycles;
}

/** A shortest path from `start` back to itself inside one component (breadth first). */
function oneCycle(graph: Map<string, string[]>, scc: Set<string>, start: string): string[] {
  const prev = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i];
    for (const w of graph.get(v) ?? []) {
      if (!scc.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = prev.get(u)!) path.push(u);
        return [start, ...path.slice(1).reverse(), start];
      }
      if (!prev.has(w) && w !== start) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [...scc];
}

export function checkImports(srcDir: string): ImportProblems {
  const graph = importGraph(srcDir);
  const upward: string[] = [];
  for (const [from, deps] of graph) {
    const lf = layerOf(from);
    for (const to of deps) {
      const lt = layerOf(to);
      if (lf < 0 || lt < 0 || lt > lf) upward.push(`${from} -> ${to}`);
    }
  }
  return { upward, cycles: findCycles(graph) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // dist/scripts/layers.js -> the checkout's src/
  const src = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '../../src'));
  const { upward, cycles } = checkImports(src);
  for (const u of upward) console.log(`upward import: ${u}`);
  for (const c of cycles) console.log(`import cycle: ${c.join(' -> ')}`);
  if (upward.length === 0 && cycles.length === 0) console.log(`layers ok: ${LAYERS.join(' < ')}, no import cycles`);
  else process.exitCode = 1;
}
