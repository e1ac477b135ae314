/**
 * Escaping of capture-derived text for the reports. Every string taken from a
 * capture (addresses, payload previews, file names, stories that quote them)
 * goes through `esc` in HTML and SVG and through `md` in Markdown.
 */

/** Escapes text for HTML/XML content and attribute values. */
export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));
}

/**
 * Escapes text for Markdown prose and table cells, readable as plain text
 * too: Markdown punctuation is backslash-escaped, `<` and `&` as well (a
 * backslash-escaped `<` never opens an HTML tag, an escaped `&` never starts an
 * entity: CommonMark 2.4), so a payload holding HTML or script text renders as
 * text in any Markdown viewer that allows inline HTML; `>` is left as it is
 * ("a > b" stays readable) except at the start, where it would begin a quote;
 * line breaks become spaces (a table cell is one line).
 */
export function md(s: unknown): string {
  return String(s)
    .replace(/[\\`*_[\]|~<&]/g, (c) => `\\${c}`)
    .replace(/^>/, '\\>')
    .replace(/\r?\n/g, ' ');
}
