import type { EventSink } from '../ports/events';
import type { Outbox, OutboxEntry } from '../ports/outbox';

/**
 * Announcing a stored change through its outbox entry (see `ports/outbox.ts`): publish the
 * entry's events, then clear the entry. The change is already stored with its entry, so a bus
 * that refuses now is no reason to fail the caller: the relay publishes the entry later. A
 * failed clear only means the relay publishes the events once more, which consumers absorb
 * (their effects are keyed by what happened, not by event id).
 */

/** What {@link announce} did. */
export type Announcement =
  | { readonly published: true }
  | { readonly published: false; readonly error: unknown };

/** Publishes an entry's events and clears it; never throws (the entry stays for the relay). */
export async function announce(
  entry: OutboxEntry,
  deps: { readonly publisher: EventSink; readonly outbox: Pick<Outbox, 'clear'> },
): Promise<Announcement> {
  try {
    await deps.publisher.publish(...entry.events);
  } catch (error) {
    return { published: false, error };
  }
  try {
    await deps.outbox.clear(entry);
  } catch {
    // Published; the relay will publish the leftover entry again, which consumers absorb.
  }
  return { published: true };
}

/** What one {@link relayOutbox} run did. */
export interface RelaySummary {
  /** Entries old enough to be leftovers. */
  readonly due: number;
  readonly published: number;
  /** Entries whose events the bus refused again; they stay for the next run. */
  readonly failed: number;
}

/** Options of {@link relayOutbox}. */
export interface RelayOptions {
  /**
   * Entries younger than this are left to their writer, which publishes and clears them within
   * its own request; the relay only takes what a writer left behind. @default 60
   */
  readonly minAgeSeconds?: number;
  /** Entries read per query. @default 100 */
  readonly batchSize?: number;
  /** Most queries per run; the next run continues. @default 10 */
  readonly maxBatches?: number;
}

/**
 * Publishes every outbox entry left over (the bus refused, the writer died between its write
 * and its publish) and clears it. Stops at the first batch in which the bus refused everything,
 * as the next run will do better than hammering a bus that is down.
 */
export async function relayOutbox(
  now: Date,
  deps: { readonly publisher: EventSink; readonly outbox: Outbox },
  options: RelayOptions = {},
): Promise<RelaySummary> {
  const before = new Date(now.getTime() - (options.minAgeSeconds ?? 60) * 1000).toISOString();
  const batchSize = options.batchSize ?? 100;
  let due = 0;
  let published = 0;
  let failed = 0;
  const skipped = new Set<string>();
  for (let batch = 0; batch < (options.maxBatches ?? 10); batch++) {
    // Entries refused earlier in this run are still listed; read past them.
    const limit = batchSize + skipped.size;
    const listed = await deps.outbox.listDue(before, limit);
    const entries = listed.filter((e) => !skipped.has(`${e.at}#${e.id}`));
    if (entries.length === 0) break;
    let refused = 0;
    for (const entry of entries) {
      due++;
      const result = await announce(entry, deps);
      if (result.published) published++;
      else {
        failed++;
        refused++;
        skipped.add(`${entry.at}#${entry.id}`);
      }
    }
    if (refused === entries.length || listed.length < limit) break;
  }
  return { due, published, failed };
}
