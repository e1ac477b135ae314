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
 * section is missing. Advice follows the evidence (issue 15): when the
 * finding has a `variant` and the section has a `### <variant>` subsection,
 * only that subsection is returned, so a report never prescribes the fix for
 * another variant (a goodbye is not told to validate its connection pool).
 */
export function fixAdvice(ruleId: string, variant: string | null = null): { markdown: string; fromDocs: boolean } {
  const key = variant === null ? ruleId : `${ruleId}|${variant}`;
  const cached = fixCache.get(key);
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
        const advice = variantAdvice(m[1], variant) ?? m[1].trim();
        fixCache.set(key, advice);
        return { markdown: advice, fromDocs: true };
      }
    }
  }
  return { markdown: findRule(ruleId)?.explanation ?? '', fromDocs: false };
}

/** The body of the `### <variant>` subsection of a "How to fix" section (heading line dropped), or null when absent. */
export function variantAdvice(section: string, variant: string | null): string | null {
  if (variant === null || !/^[a-z0-9-]+$/.test(variant)) return null;
  const m = new RegExp(`^### ${variant}(?![a-z0-9-])[^\\n]*\\n([\\s\\S]*?)(?=^### |(?![\\s\\S]))`, 'm').exec(section);
  return m && m[1].trim() ? m[1].trim() : null;
}

export function ruleTitle(id: string): string {
  return findRule(id)?.title ?? id;
}
