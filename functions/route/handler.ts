import type { Context } from 'aws-lambda';
import { requireEnv } from '../../shared/adapters/clients';
import { EventPublisher } from '../../shared/adapters/event-publisher';
import {
  DynamoDBStepRunner,
  decideThenPublish,
  type EventSink,
  type StepRunner,
} from '../../shared/adapters/idempotent-steps';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { clientConfig } from '../../shared/config/runtime';
import type { RoutingConfig } from '../../shared/domain/routing';
import { isEventOf, receivePipelineEvent } from '../../shared/events/receive';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger } from '../../shared/runtime/observability';
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
 * Exactly once per event (decide, then publish; see `idempotent-steps.ts`). Transient failures
 * are thrown so EventBridge and Lambda retry, then the rule's DLQ keeps the event. Test leads
 * are routed like any other (alerts skip them).
 */

/** What the route function needs; every adapter is injectable for tests. */
export interface Deps {
  readonly repository: LeadRepository;
  readonly publisher: EventSink;
  readonly steps: StepRunner;
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
  return async (event: unknown, context?: Context): Promise<RouteHandlerResult> => {
    deps.steps.useLambdaContext(context);
    const now = deps.now();

    if (isEventOf(event, 'aws.events', 'Scheduled Event')) {
      const summary = await releaseHeldLeads(now, {
        store: deps.repository,
        config: deps.config,
        publisher: deps.publisher,
        steps: deps.steps,
      });
      logger.info('Held leads released', { due: summary.due, outcomes: summary.outcomes });
      return { outcome: 'released', ...summary };
    }

    const { id, detail } = receivePipelineEvent(event, ['Lead Scored']);
    const log = { leadId: detail.leadId, eventId: id, isTest: detail.isTest };
    if (!detail.routable) {
      // The rule only forwards routable scores; anything else is a misrouted event.
      logger.warn('Lead Scored is not routable; ignored', log);
      return { outcome: 'ignored', events: [] };
    }
    const result = await decideThenPublish(deps.steps, deps.publisher, id, () =>
      routeLeadNow(detail.leadId, id, { store: deps.repository, config: deps.config, now }),
    );
    if (result.outcome === 'missing') logger.warn('Lead not found (erased?); nothing to route', log);
    else
      logger.info('Lead routed', {
        ...log,
        outcome: result.outcome,
        repId: result.repId,
        teamId: result.teamId,
        ruleId: result.ruleId,
        until: result.until,
        sequenceId: result.sequenceId,
        explanation: result.steps,
      });
    return result;
  };
}

function defaultDeps(): Deps {
  const tableName = requireEnv('TABLE_NAME');
  return {
    repository: new LeadRepository(tableName),
    publisher: new EventPublisher(requireEnv('EVENT_BUS_NAME')),
    steps: new DynamoDBStepRunner({ tableName, functionName: 'route' }),
    config: clientConfig(),
    now: () => new Date(),
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => createHandler(defaultDeps()));
