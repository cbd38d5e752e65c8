import type { DetailType, PipelineEvent } from '../events/catalogue';

/**
 * The transactional outbox: the events a change must publish, stored in the SAME transaction as
 * the change. The writer publishes them at once and clears the entry; a relay publishes whatever
 * is left (the bus refused, the function died in between). So an accepted change is always
 * announced, at least once; consumers make every effect exactly once.
 */
export interface OutboxEntry {
  /** Unique per change (the lead id for a capture, the activity id for a merge...). */
  readonly id: string;
  /** When the change was written (ISO); the relay leaves younger entries to their writer. */
  readonly at: string;
  readonly events: ReadonlyArray<PipelineEvent<DetailType>>;
}

/** Reading and clearing outbox entries (writing happens inside each change's transaction). */
export interface Outbox {
  /** Removes an entry whose events are on the bus. Removing a missing entry is no error. */
  clear(entry: Pick<OutboxEntry, 'id' | 'at'>): Promise<void>;
  /** Entries written at or before `before`, oldest first. */
  listDue(before: string, limit: number): Promise<OutboxEntry[]>;
}
