/** Every rule, in the order they are listed by `rstscope rules`. */
import type { Rule } from './types.js';

export const RULES: Rule[] = [];

export function findRule(id: string): Rule | undefined {
  return RULES.find((r) => r.id === id);
}
