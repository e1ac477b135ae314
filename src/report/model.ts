/**
 * The incident-review report model (`rstscope report`): everything the HTML
 * and Markdown writers lay out, built while the capture streams by (the
 * collector, collector.ts, bounds its memory).
 *
 * Payload previews are read in a second pass over the inputs that have worked
 * examples, for the data-carrying frames of those examples only (the tracker
 * keeps no payload bytes): src/analysis/report-run.ts, which runs both passes.
 */
import type { Problem } from '../capture/problems.js';
import type { InputSummary } from './input-summary.js';
import type { Actor, Finding, Severity } from '../rules/types.js';
import type { ConnRecord } from '../tcp/record.js';
import type { TrackerStats } from '../tcp/tracker.js';

/** payload frames previewed per worked example */
export const MAX_PREVIEWS_PER_EXAMPLE = 8;

export interface ReportOptions {
  /** worked examples (detailed entries) at most, besides one per rule */
  maxDetails: number;
  /** rows of the finding-group index at most */
  maxGroups: number;
  /** payload bytes shown per data segment (0: none) */
  payloadBytes: number;
}

export const DEFAULT_REPORT_OPTIONS: ReportOptions = { maxDetails: 50, maxGroups: 500, payloadBytes: 48 };

/** One packet of a worked example, copied out of the connection's evidence. */
export interface LadderSeg {
  frame: number;
  /** seconds since the epoch (microsecond precision) */
  ts: number;
  fromOrig: boolean;
  flags: number;
  seqRel: number;
  /** -1 when the ACK flag is not set or unknown */
  ackRel: number;
  len: number;
  win: number;
  ttl: number;
  /** -1 for IPv6 */
  ipId: number;
  retrans: boolean;
  /** printable preview of the payload (escaped as JS-like text), when read */
  payload?: string;
  /** payload bytes beyond the preview, or not captured */
  payloadMore?: boolean;
}

export interface Example {
  finding: Finding;
  rec: ConnRecord;
  ipVersion: number;
  /** role names of the two lanes */
  origRole: Actor;
  respRole: Actor;
  segments: LadderSeg[];
  /** segments of the connection the tracker did not keep (between its first and last stored ones) */
  notStored: number;
  /** total segments of the connection */
  totalSegments: number;
}

export interface Group {
  id: number;
  input: number;
  rule: string;
  severity: Severity;
  /** the findings' evidence.variant (write-after-peer-close), part of the group key: the advice is chosen by it */
  variant: string | null;
  origIp: string;
  respIp: string;
  respPort: number;
  count: number;
  firstTs: number;
  lastTs: number;
  firstFrame: number;
  lastFrame: number;
  /** distinct originator ports seen (stops counting exactly at 1000) */
  origPorts: Set<number>;
  streams: number[];
  example: Example | null;
}

export interface RstSender {
  /** "ip" for an originator, "ip:port" for a responder */
  endpoint: string;
  role: 'originator' | 'responder';
  rsts: number;
  /** rule id (or "no finding") -> RSTs */
  causes: Record<string, number>;
}

export interface TimelineBin {
  start: number;
  end: number;
  error: number;
  warning: number;
  info: number;
}

export interface ReportModel {
  tool: { name: string; version: string };
  inputs: InputSummary[];
  problems: string[];
  /** the input problems as data (for the exit code) */
  rawProblems: Problem[];
  connections: number;
  findings: number;
  rstPackets: number;
  byRule: { rule: string; title: string; severity: Severity; count: number; groups: number }[];
  bySeverity: Record<Severity, number>;
  rstSenders: RstSender[];
  rstSendersTotal: number;
  timeline: { start: number; end: number; bins: TimelineBin[]; max: number } | null;
  /** sorted: severity (error first), count, first time */
  groups: Group[];
  options: ReportOptions;
  stats: TrackerStats;
  evicted: number;
}
