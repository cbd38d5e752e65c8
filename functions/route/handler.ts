import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { EventPublisher } from '../../shared/adapters/event-publisher';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { clientConfig } from '../../shared/config/runtime';
import { env } from '../../shared/contracts/function-env';
import type { RoutingConfig } from '../../shared/domain/routing-decisions';
import { isEventOf } from '../../shared/events/receive';
import type { EventSink } from '../../shared/ports/events';
import { consumer, eventConsumer } from '../../shared/runtime/consumer';
import { lazyHandler } from '../../shared/runtime/handler';
import {
  type ReleaseSummary,
  type RouteLeadResult,
  releaseHeldLeads,
  routeLeadNow,
} from '../../shared/services/routing';

/**
 * Route: gives routable leads an owner, holds them until the next working hour, or enrols them
 * in a nurture sequence, and publishes `Lead Assigned` / `Lead Held` / `Lead Nurtured`.
 *
 * Two triggers:
 * - `Lead Scored` with `routable: true` (the pipeline rule): route that lead. The assignment,
 *   the rep's open-lead counter and the team's round-robin cursor are written in one
 *   conditional transaction, so concurrent or duplicate events never assign a lead twice or
 *   push a rep past capacity; conflicts reload and route again (`shared/services/routing.ts`).
 * - An EventBridge schedule (`source: aws.events`, `detail-type: Scheduled Event`, e.g.
 *   `Schedule.rate(Duration.minutes(5))` targeting this function): release the held leads whose
 *   hour has come (`releaseHeldLeads`). Without this schedule, held leads stay held.
 *
 * Exactly once by its own write: the routing activity is keyed by the triggering event and is
 * saved with the event it caused (an outbox entry), so a redelivery does nothing and the relay
 * publishes what a crash or a refusing bus left (see `shared/runtime/consumer.ts`). Transient failures are thrown so EventBridge and Lambda retry,
 * then the rule's DLQ keeps the event. Test leads are routed like any other (alerts skip them).
 */

/** What the route function needs; every adapter is injectable for tests. */
export interface Deps {
  readonly repository: LeadRepository;
  readonly publisher: EventSink;
  /** The client's teams, reps, territories and routing rules. */
  readonly config: RoutingConfig;
  readonly now: () => Date;
}

/** The route function's result: a routing decision, an ignored event, or a sweep summary. */
export type RouteHandlerResult =
  | RouteLeadResult
  | { readonly outcome: 'ignored'; readonly events: [] }
  | ({ readonly outcome: 'released' } & ReleaseSummary);

/** Builds the route handler: routes a routable `Lead Scored`, or releases due held leads on a schedule. */
export function createHandler(deps: Deps) {
  const consume = eventConsumer({
    types: ['Lead Scored'],
    announce: { publisher: deps.publisher, outbox: { clear: (entry) => deps.repository.clearOutbox(entry) } },
    decide: async ({ id, detail }): Promise<RouteLeadResult | { outcome: 'ignored'; events: [] }> => {
      // The rule only forwards routable scores; anything else is a misrouted event.
      if (!detail.routable) return { outcome: 'ignored', events: [] };
      return routeLeadNow(detail.leadId, id, {
        store: deps.repository,
        config: deps.config,
        now: deps.now(),
      });
    },
    describe: (result) => {
      if (result.outcome === 'ignored')
        return { message: 'Lead Scored is not routable; ignored', level: 'warn' };
      if (result.outcome === 'missing')
        return { message: 'Lead not found (erased?); nothing to route', level: 'warn' };
      return {
        message: 'Lead routed',
        keys: {
          outcome: result.outcome,
          repId: result.repId,
          teamId: result.teamId,
          ruleId: result.ruleId,
          until: result.until,
          sequenceId: result.sequenceId,
          explanation: result.steps,
        },
      };
    },
  });

  const release = consumer({
    schema: ScheduledEventSchema,
    decide: async (): Promise<RouteHandlerResult & { outcome: 'released' }> => ({
      outcome: 'released',
      ...(await releaseHeldLeads(deps.now(), {
        store: deps.repository,
        config: deps.config,
        publisher: deps.publisher,
        outbox: { clear: (entry) => deps.repository.clearOutbox(entry) },
      })),
    }),
    describe: ({ due, outcomes }) => ({ message: 'Held leads released', keys: { due, outcomes } }),
  });

  // One function, two triggers: the schedule releases held leads, a Lead Scored is routed.
  return (event: unknown, context?: Partial<Context>): Promise<RouteHandlerResult> =>
    isEventOf(event, 'aws.events', 'Scheduled Event') ? release(event, context) : consume(event, context);
}

/** The schedule's event (EventBridge Scheduler's rule target): only its arrival matters. */
const ScheduledEventSchema = EventBridgeSchema.extend({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
});

function defaultDeps(): Deps {
  return {
    repository: new LeadRepository(env.tableName),
    publisher: new EventPublisher(env.eventBusName),
    config: clientConfig(),
    now: () => new Date(),
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => createHandler(defaultDeps()));
