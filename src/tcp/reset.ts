/**
 * Fast field reset for pooled objects. `Object.assign(target, defaults)` is
 * generic and slow (measured: 8 µs for a connection's ~60 fields, 15% of a
 * run); a function with one plain store per field, generated once from the
 * defaults' own keys, keeps every store monomorphic. Keys come from our own
 * classes, never from input.
 */

/**
 * A resetter derived from two freshly constructed instances `a` and `b` (made
 * the same way), so that no hand-kept list decides what is deep-reset. Per own
 * field of `a`:
 * - a scalar (number, string, boolean, null, undefined) or a frozen object
 *   (a shared immutable sentinel such as an empty list): copied from `a`;
 * - the same object in `a` and `b` (shared by construction, e.g. an arena
 *   passed to the constructor): left as it is;
 * - an object with a reset() method: kept, and reset;
 * - an array: kept, and emptied; a typed array: kept, and refilled from `a`'s;
 * - any other object: an error when the resetter is made (give the class a
 *   reset() or freeze the value), never a reference shared between pooled
 *   instances.
 * Guarantee: after reset, no field of one instance holds a mutable object
 * that another instance holds, unless fresh instances share it too.
 */
export function derivePoolResetter<T extends object>(a: T, b: T, what: string): (target: T) => void {
  const fa = a as unknown as Record<string, unknown>;
  const fb = b as unknown as Record<string, unknown>;
  const lines: string[] = [];
  for (const k of Object.keys(fa)) {
    const v = fa[k];
    if (v === null || (typeof v !== 'object' && typeof v !== 'function') || Object.isFrozen(v)) lines.push(`t.${k} = d.${k};`);
    else if (v === fb[k]) continue;
    else if (typeof (v as { reset?: unknown }).reset === 'function') lines.push(`t.${k}.reset();`);
    else if (Array.isArray(v)) lines.push(`t.${k}.length = 0;`);
    else if (ArrayBuffer.isView(v)) lines.push(`t.${k}.set(d.${k});`);
    else throw new Error(`${what}.${k} holds an object without reset(): pooled instances would share it`);
  }
  return generate<T>(fa, lines);
}

function generate<T>(defaults: Readonly<Record<string, unknown>>, lines: string[]): (target: T) => void {
  for (const k of Object.keys(defaults)) if (!/^[A-Za-z_$][\w$]*$/.test(k)) throw new Error(`makeResetter: unexpected field name ${k}`);
  const fn = new Function('d', `return function reset(t) {\n${lines.join('\n')}\n};`) as (d: unknown) => (t: T) => void;
  return fn(defaults);
}
