/**
 * Problems found while reading input, collected as data. Only the CLI boundary
 * turns them into messages and exit codes (see src/cli/exit.ts).
 */
export type ProblemKind =
  /** the file ended inside a record header or body */
  | 'truncated'
  /** a record header is impossible (length beyond limits, bad block length, ...) */
  | 'corrupt'
  /** the file is not a capture at all (unknown magic) or cannot be opened */
  | 'unreadable';

export interface Problem {
  kind: ProblemKind;
  file: string;
  /** byte offset in the file where the bad record starts */
  offset: number;
  /** 1-based index of the record (packet record or pcapng block) */
  record: number;
  message: string;
}

export function describeProblem(p: Problem): string {
  if (p.kind === 'unreadable') return `${p.file}: ${p.message}`;
  return `${p.file}: ${p.kind} at byte offset ${p.offset} (record ${p.record}): ${p.message}`;
}
