import { EventPublisher } from '../../shared/adapters/event-publisher';
import { DynamoDBStepRunner, type EventSink, type StepRunner } from '../../shared/adapters/idempotent-steps';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { SchedulerSlaClock } from '../../shared/adapters/sla-ladder';
import { clientConfig } from '../../shared/config/runtime';
import type { ClientConfig } from '../../shared/config/schema';
import { env } from '../../shared/contracts/function-env';
import { eventConsumer } from '../../shared/runtime/consumer';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger } from '../../shared/runtime/observability';
import type { LeadsPublisher, LeadsStore, SlaClock } from '../../shared/services/leads';
import { followUpMeeting, type MeetingDecision, meetingStepKey } from '../../shared/services/meetings';

/**
 * MEETINGS: `Activity Recorded` for a `meeting_booked` activity (or a `note`, which is how a
 * cancellation is stored), from the Calendly and Cal.com webhooks. Marks the lead contacted
 * (stopping the SLA ladder, as the console's "Contacted" does) and publishes `Meeting Booked` /
 * `Meeting Canceled` with the meeting time. Exactly once per booking activity: decide, then
 * publish (the consumer's `steps`, `shared/ports/steps.ts`), keyed by the activity rather than
 * the event, because the webhook republishes `Activity Recorded` on each redelivery of the same
 * booking.
 */

export interface Deps {
  readonly config: ClientConfig;
  readonly store: LeadsStore;
  /** Publishes `Lead Contacted` (inside the contact command). */
  readonly publisher: LeadsPublisher & EventSink;
  readonly sla: SlaClock;
  readonly steps: StepRunner;
}

export function createHandler(deps: Deps) {
  return eventConsumer({
    types: ['Activity Recorded'],
    steps: { runner: deps.steps, publisher: deps.publisher, key: ({ detail }) => meetingStepKey(detail) },
    decide: ({ detail }): Promise<MeetingDecision> =>
      followUpMeeting(detail, {
        store: deps.store,
        publisher: deps.publisher,
        sla: deps.sla,
        config: deps.config,
        warn: (message, details) => logger.warn(message, details),
      }),
    describe: (decision, { detail }) => ({
      message: 'Meeting followed up',
      keys: {
        activityId: detail.activityId,
        outcome: decision.outcome,
        contacted: decision.contacted,
        via: decision.via,
      },
    }),
  });
}

function defaultDeps(): Deps {
  const tableName = env.tableName;
  return {
    config: clientConfig(),
    store: new LeadRepository(tableName),
    publisher: new EventPublisher(env.eventBusName),
    sla: new SchedulerSlaClock(env.slaScheduleGroup, clientConfig().sla.ladder.length),
    steps: new DynamoDBStepRunner({ tableName, functionName: 'meetings' }),
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => createHandler(defaultDeps()));
