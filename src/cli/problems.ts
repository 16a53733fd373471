import { formatConfigIssue } from '../lib/errors.js';
import type { ConfigIssue } from '../lib/errors.js';

/** At most this many configuration problems are listed (printed or logged); the rest are counted. */
const MAX_LISTED_PROBLEMS = 100;

/** The first 100 problems, one line each, and a line counting the rest. */
export function problemLines(issues: readonly ConfigIssue[]): string[] {
  const lines = issues.slice(0, MAX_LISTED_PROBLEMS).map(formatConfigIssue);
  const rest = issues.length - lines.length;
  if (rest > 0) lines.push(`… and ${rest} more problem(s)`);
  return lines;
}
