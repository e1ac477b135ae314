/**
 * Text wrapped to a width for the terminal: words kept whole where they fit,
 * a word longer than the width split across lines (an IPv6 endpoint, a long
 * path), so no line is longer than `width` and nothing is cut off.
 * Widths count UTF-16 code units (the tables' text is ASCII but for '…', '–'
 * and 'µ', one column each).
 */
export function wrapText(text: string, width: number): string[] {
  const w = Math.max(1, width);
  const lines: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(' ')) {
      if (word === '') continue;
      let rest = word;
      if (line !== '' && line.length + 1 + rest.length <= w) { line += ` ${rest}`; continue; }
      if (line !== '') { lines.push(line); line = ''; }
      while (rest.length > w) { lines.push(rest.slice(0, w)); rest = rest.slice(w); }
      line = rest;
    }
    lines.push(line);
  }
  return lines;
}

/**
 * Every line of `text` longer than `width` wrapped (wrapText), its
 * continuation lines indented two more than the line's own indentation.
 */
export function fitLines(text: string, width: number): string {
  return text.split('\n').map((line) => {
    if (line.length <= width) return line;
    const indent = line.length - line.trimStart().length;
    const pad = ' '.repeat(Math.min(indent + 2, Math.floor(width / 2)));
    const [first, ...rest] = wrapText(line.trimStart(), width - indent);
    const more = rest.join(' ');
    return [' '.repeat(indent) + first, ...(more === '' ? [] : wrapText(more, width - pad.length).map((l) => pad + l))].join('\n');
  }).join('\n');
}
