/** Every rule, in the order `rstscope rules` lists them. One rule per file. */
import { rule as abortiveClose } from './abortive-close.js';
import { rule as halfClose } from './half-close.js';
import { rule as halfOpen } from './half-open.js';
import { rule as keepaliveReset } from './keepalive-reset.js';
import { rule as refused } from './refused.js';
import { rule as rstSuspicious } from './rst-suspicious.js';
import { rule as rstWithUnreadData } from './rst-with-unread-data.js';
import { rule as selfConnect } from './self-connect.js';
import { rule as simultaneousClose } from './simultaneous-close.js';
import { rule as simultaneousOpen } from './simultaneous-open.js';
import { rule as staleConnection } from './stale-connection.js';
import { rule as synUnanswered } from './syn-unanswered.js';
import { rule as synackReset } from './synack-reset.js';
import type { Rule } from './types.js';
import { rule as writeAfterPeerClose } from './write-after-peer-close.js';

export const RULES: readonly Rule[] = [
  refused, synUnanswered, synackReset, staleConnection, writeAfterPeerClose, rstWithUnreadData, abortiveClose, halfOpen,
  simultaneousOpen, selfConnect, simultaneousClose, keepaliveReset, rstSuspicious, halfClose,
];

export function findRule(id: string): Rule | undefined {
  return RULES.find((r) => r.id === id);
}
