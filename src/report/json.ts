/**
 * Writes a JSON document exactly as JSON.stringify(doc, null, 2) would, but in
 * pieces: top-level arrays are written element by element, so a result with
 * millions of connections never becomes one string (V8 caps strings near
 * 512 MB: "Invalid string length").
 */
export async function writeJsonDocument(
  doc: Record<string, unknown>,
  write: (text: string) => void,
  /** awaited every 1000 array elements: lets a slow reader of the output catch up */
  pace: () => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  const keys = Object.keys(doc).filter((k) => doc[k] !== undefined);
  write('{\n');
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const v = doc[k];
    write(`  ${JSON.stringify(k)}: `);
    if (Array.isArray(v) && v.length > 0) {
      write('[\n');
      for (let j = 0; j < v.length; j++) {
        write(`    ${JSON.stringify(v[j], null, 2).replace(/\n/g, '\n    ')}${j < v.length - 1 ? ',' : ''}\n`);
        if (j % 1000 === 999) await pace();
      }
      write('  ]');
    } else {
      write(JSON.stringify(v, null, 2).replace(/\n/g, '\n  '));
    }
    write(i < keys.length - 1 ? ',\n' : '\n');
  }
  write('}\n');
}
