import { LeadRepository } from '../../shared/adapters/lead-repository';
import { clientConfig } from '../../shared/config/runtime';
import { env } from '../../shared/contracts/function-env';
import { eventConsumer } from '../../shared/runtime/consumer';
import { lazyHandler } from '../../shared/runtime/handler';
import {
  FOLLOW_UP_EVENT_TYPES,
  type FollowUpDeps,
  type FollowUpEvent,
  type FollowUpResult,
  handleFollowUpEvent,
} from '../../shared/services/follow-up';

/**
 * Creates and closes the follow-up work the system gives reps (EventBridge rule `follow-up`):
 * a first-contact task due at the SLA deadline for every assignment, closed by the contact and
 * moved on reassignment, and the required actions of each pipeline stage a deal enters. See
 * `shared/services/follow-up.ts`; every write is idempotent, so redeliveries are harmless.
 * Failures are thrown: Lambda's async retries, then the dead-letter queue.
 */

export function createHandler(deps: FollowUpDeps) {
  return eventConsumer({
    types: FOLLOW_UP_EVENT_TYPES,
    decide: ({ detailType, detail }): Promise<FollowUpResult> =>
      handleFollowUpEvent({ type: detailType, detail } as FollowUpEvent, deps),
    describe: (result, { detailType }) => ({
      message: 'Follow-up tasks',
      keys: { eventType: detailType, ...result },
    }),
  });
}

/** Adapters are built on the first invocation (they need the function's environment). */
export const handler = lazyHandler(() =>
  createHandler({ store: new LeadRepository(env.tableName), config: clientConfig() }),
);
