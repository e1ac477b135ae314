/**
 * The eviction warning: connections the tracker closed out early because more
 * than --max-connections were live at once (TrackerStats.evicted). One wording
 * for stderr (every command that reads captures) and for the reports'
 * warnings.
 */

/**
 * "N connection(s) were closed out early because more than --max-connections
 * were live at once", then "(their state may be incomplete; <the verdicts
 * withheld>)" on stderr or "; their state may be incomplete; <...>" in a
 * report's list of warnings.
 */
export function evictionWarning(evicted: number, form: 'stderr' | 'report'): string {
  const what = `${evicted} connection(s) were closed out early because more than --max-connections were live at once`;
  // src/rules/engine.ts restsOnCut: the verdicts not given on such records
  const withheld = 'syn-unanswered and half-open verdicts that rest on such a cut are not given; raise --max-connections to see them';
  return form === 'stderr' ? `${what} (their state may be incomplete; ${withheld})` : `${what}; their state may be incomplete; ${withheld}`;
}
