/**
 * The wait before a write refused by a concurrent writer (a moved round-robin cursor, a changed
 * lead, a rep who just reached capacity) is tried again from a fresh read.
 *
 * Why wait at all: routes that read the same team cursor at once collide, and if every loser
 * retries at once they collide again, so N simultaneous contenders cost about N(N+1)/2
 * transactions instead of N. Every refused transaction is billed as attempted (2 write units per
 * KB per item, the lead item included), which made conflicts the largest single share of the
 * pipeline's DynamoDB writes under load. A random wait ("full jitter") spreads the losers out so
 * that most retries read the winner's write. An idle pipeline never conflicts and never waits.
 */

/** Ceiling of the first wait (ms); it doubles with every further conflict. */
const FIRST_CEILING_MS = 30;
/** Largest ceiling (ms), so a handler's retries stay well inside its timeout. */
const MAX_CEILING_MS = 300;

/** Milliseconds to wait after the `attempt`-th conflict (1-based): uniform in [0, ceiling). */
export function conflictBackoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_CEILING_MS, FIRST_CEILING_MS * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/** Waits {@link conflictBackoffMs} after the `attempt`-th conflict. */
export function waitAfterConflict(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, conflictBackoffMs(attempt)));
}
