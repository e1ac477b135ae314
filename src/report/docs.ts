/**
 * What the reports read from the package at run time: its version
 * (package.json) and each rule's "How to fix" advice (docs/rules/<id>.md),
 * with the rule registry's title and explanation as fallbacks. Paths are
 * tried for both layouts (src/report/ run by a loader, dist/src/report/).
 */
import { readFileSync } from 'node:fs';
import { findRule } from '../rules/registry.js';

let cachedVersion: string | undefined;
export function packageVersion(): string {
  if (cachedVersion) return cachedVersion;
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      cachedVersion = String(JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')).version);
      return cachedVersion;
    } catch { /* try the next layout */ }
  }
  return (cachedVersion = 'unknown');
}

const fixCache = new Map<string, string>();
/**
 * The "## How to fix" section of docs/rules/<id>.md (Markdown), read from the
 * package's docs/ at run time; the rule's explanation when the page or the
 * section is missing.
 */
export function fixAdvice(ruleId: string): { markdown: string; fromDocs: boolean } {
  const cached = fixCache.get(ruleId);
  if (cached !== undefined) return { markdown: cached, fromDocs: true };
  if (/^[a-z0-9-]+$/.test(ruleId)) {
    for (const rel of ['../../../docs/rules/', '../../docs/rules/']) {
      let text: string;
      try {
        text = readFileSync(new URL(`${rel}${ruleId}.md`, import.meta.url), 'utf8');
      } catch {
        continue;
      }
      const m = /^## How to fix[^\n]*\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(text);
      if (m && m[1].trim()) {
        fixCache.set(ruleId, m[1].trim());
        return { markdown: m[1].trim(), fromDocs: true };
      }
    }
  }
  return { markdown: findRule(ruleId)?.explanation ?? '', fromDocs: false };
}

export function ruleTitle(id: string): string {
  return findRule(id)?.title ?? id;
}
