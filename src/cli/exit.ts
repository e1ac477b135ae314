/**
 * Exit codes, decided here and nowhere else (docs/exit-codes.md).
 *   0  success: every input read in full
 *   1  --fail-on threshold reached (findings at or above the given severity)
 *   2  usage error, or nothing readable (no such file, not a capture)
 *   3  partial input: some input was cut short or corrupt; everything before
 *      the problem was analyzed and reported
 */
import type { Problem } from '../capture/problems.js';

export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;
export const EXIT_PARTIAL = 3;

/** An error that ends the run with a one-line message (never a stack trace). */
export class UsageError extends Error {}

export function exitCodeFor(problems: Problem[], inputs: number, failOnHit: boolean): number {
  const unreadable = problems.filter((p) => p.kind === 'unreadable').length;
  if (inputs > 0 && unreadable === inputs) return EXIT_USAGE;
  if (problems.length > 0) return EXIT_PARTIAL;
  if (failOnHit) return EXIT_FINDINGS;
  return EXIT_OK;
}
