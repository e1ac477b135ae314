/**
 * The contract of a teardown rule (one rule per file in src/rules/):
 * `evaluate` is a pure function of a closed-out connection (its endpoint
 * states, evidence segments, RST records and milestones); it never mutates
 * tracker state and returns zero or more hits.
 */
import type { Connection } from '../tcp/connection.js';
import type { ConnRecord } from '../tcp/record.js';
import type { Actor } from './actor.js';
import type { RstVerdict } from './teardown.js';

export type Severity = 'info' | 'warning' | 'error';
/**
 * Every severity, least severe first: the one definition of their order. A
 * severity's index here is its rank (worker batches and the report's
 * timeline store severities as these indices).
 */
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'error'];
/** A severity's rank: its index in SEVERITIES (info 0 < warning 1 < error 2). */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> =
  Object.fromEntries(SEVERITIES.map((s, i) => [s, i])) as Record<Severity, number>;
/** The severities worst first: the order of tables, reports and per-severity counts. */
export const SEVERITIES_WORST_FIRST: readonly Severity[] = [...SEVERITIES].reverse();

/** A zero count per severity, keys worst first (the key order of `bySeverity` in JSON output). */
export function severityCounts(): Record<Severity, number> {
  const counts = {} as Record<Severity, number>;
  for (const s of SEVERITIES_WORST_FIRST) counts[s] = 0;
  return counts;
}

/** Which side did it: orig/resp, or client/server where the handshake made roles known. */
/** The most severe of the findings' severities, or null when there are none. */
export function worstSeverity(found: readonly { severity: Severity }[]): Severity | null {
  let worst = -1;
  for (const f of found) if (SEVERITY_RANK[f.severity] > worst) worst = SEVERITY_RANK[f.severity];
  return worst < 0 ? null : SEVERITIES[worst];
}

export type { Actor } from './actor.js';

export interface RuleHit {
  /** the frame a reviewer should look at first */
  frame: number;
  /** every frame of the evidence, ascending, including `frame` */
  frames: number[];
  /** the side whose action the finding is about */
  actor: Actor;
  /** one sentence a reviewer can paste into an incident */
  summary: string;
  /** what each application saw (errno, signal, return values), keyed by side */
  app: { orig?: string; resp?: string };
  evidence: Record<string, unknown>;
  /** overrides the rule's default severity */
  severity?: Severity;
}

export interface RuleContext {
  c: Connection;
  rec: ConnRecord;
  /** the cause of each RST that matters (teardown.ts rstVerdicts), computed once per connection */
  verdicts: readonly RstVerdict[];
}

export interface Rule {
  id: string;
  title: string;
  severity: Severity;
  /** plain explanation: what happened on the wire and why the kernel did it */
  explanation: string;
  evaluate(ctx: RuleContext): RuleHit[];
}

export interface Finding {
  rule: string;
  severity: Severity;
  /** id of the connection (ConnRecord.id) */
  connection: number;
  input: number;
  stream: number;
  /** the connection's join keys (ConnRecord.uid, ConnRecord.communityId), so a finding line pivots on its own */
  uid: string;
  communityId: string;
  /** key frame */
  frame: number;
  frames: number[];
  /** time of the key frame, seconds since the epoch */
  ts: number;
  actor: Actor;
  summary: string;
  app: { orig?: string; resp?: string };
  evidence: Record<string, unknown>;
}
