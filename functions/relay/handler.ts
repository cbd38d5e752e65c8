import { z } from 'zod';
import { EventPublisher } from '../../shared/adapters/event-publisher';
import { DynamoOutbox } from '../../shared/adapters/outbox-store';
import { env } from '../../shared/contracts/function-env';
import type { EventSink } from '../../shared/ports/events';
import type { Outbox } from '../../shared/ports/outbox';
import { consumer } from '../../shared/runtime/consumer';
import { lazyHandler } from '../../shared/runtime/handler';
import { type RelaySummary, relayOutbox } from '../../shared/services/announce';

/**
 * Relay: on a schedule, publishes the outbox entries their writers left behind (the bus refused
 * them, or the function died between its transaction and its publish) and clears them. Capture,
 * the webhooks, the leads API's commands and unsubscribe store what they must publish in the
 * same transaction as their change (see `shared/ports/outbox.ts`), so a 2xx answer means the
 * change will be announced even while the bus is refusing events.
 *
 * A scheduled sweeper was chosen over DynamoDB Streams: the offline runtime runs the same
 * schedule from the synthesized template, a sweep costs one Query when there is nothing to do,
 * and leftovers are rare (the writer publishes and clears its entry at once). Entries younger
 * than {@link MIN_AGE_SECONDS} are left to their writer. If the bus still refuses, the run
 * throws, so the function's error alarm fires; the entries stay for the next run.
 */

/**
 * Entries younger than this belong to a writer that may still be publishing them (a capture
 * answers within the API's 10 s timeout; a consumer publishes right after its transaction). A
 * shorter age makes the relay publish what a slow writer is about to publish (a harmless
 * duplicate, but an extra event); measured: at 10 s, a bench on an overloaded machine relayed
 * 1.6 entries per lead that their writers also published.
 */
export const MIN_AGE_SECONDS = 60;

/** What the relay needs; injectable in tests. */
export interface Deps {
  readonly outbox: Outbox;
  readonly publisher: EventSink;
  readonly now: () => Date;
}

/** The bus refused some leftover events again; they stay in the outbox for the next run. */
export class OutboxNotDrainedError extends Error {
  constructor(readonly summary: RelaySummary) {
    super(
      `${summary.failed} of ${summary.due} outbox entries could not be published; they stay for the next run`,
    );
    this.name = 'OutboxNotDrainedError';
  }
}

/** Builds the relay handler: the schedule's event only starts a sweep, whatever it carries. */
export function createHandler(deps: Deps) {
  return consumer({
    schema: z.unknown(),
    decide: async (): Promise<RelaySummary> => {
      const summary = await relayOutbox(deps.now(), deps, { minAgeSeconds: MIN_AGE_SECONDS });
      if (summary.failed > 0) throw new OutboxNotDrainedError(summary);
      return summary;
    },
    // Most runs find nothing: those are not worth a line at the default level.
    describe: (summary) => ({
      message: 'Outbox relayed',
      level: summary.due > 0 ? 'info' : 'debug',
      keys: { ...summary },
    }),
  });
}

function defaultDeps(): Deps {
  return {
    outbox: new DynamoOutbox(env.tableName),
    publisher: new EventPublisher(env.eventBusName),
    now: () => new Date(),
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => createHandler(defaultDeps()));
