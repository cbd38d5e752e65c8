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
import type { ScoringModel } from '../../shared/config/schema';
import { receivePipelineEvent } from '../../shared/events/receive';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger } from '../../shared/runtime/observability';
import { type RescoreLeadResult, rescoreLead } from '../../shared/services/scoring';

/**
 * Score: on `Lead Enriched` or `Activity Recorded`, recompute the lead's score from its profile
 * and every activity, store score, stage and explanation (stage never moves backwards) plus a
 * score-history entry, and publish `Lead Scored` (with `routable`) and, when a threshold was
 * newly crossed, `Lead Qualified`.
 *
 * Exactly once per event (decide, then publish; see `idempotent-steps.ts`), and across events:
 * the crossing is measured against the stored stage, so it is announced once. Transient
 * failures are thrown so EventBridge and Lambda retry, then the rule's DLQ keeps the event.
 */

/** What the score function needs; every adapter is injectable for tests. */
export interface Deps {
  readonly repository: LeadRepository;
  readonly publisher: EventSink;
  readonly steps: StepRunner;
  /** The client's `scoring` section. */
  readonly model: ScoringModel;
  readonly now: () => Date;
}

/** Builds the score handler: parses the event, re-scores once per event, publishes the score events. */
export function createHandler(deps: Deps) {
  return async (event: unknown, context?: Context): Promise<RescoreLeadResult> => {
    deps.steps.useLambdaContext(context);
    const received = receivePipelineEvent(event, ['Lead Enriched', 'Activity Recorded']);
    const { id, detail } = received;
    const trigger = received.detailType === 'Lead Enriched' ? 'enriched' : 'activity';
    const now = deps.now();
    const result = await decideThenPublish(deps.steps, deps.publisher, id, () =>
      rescoreLead(detail.leadId, trigger, { store: deps.repository, model: deps.model, now }, id),
    );
    const log = { leadId: detail.leadId, eventId: id, isTest: detail.isTest, trigger };
    if (result.outcome === 'missing') logger.warn('Lead not found (erased?); nothing to score', log);
    else
      logger.info('Lead scored', {
        ...log,
        outcome: result.outcome,
        total: result.score.total,
        stage: result.score.stage,
        previousStage: result.previousStage,
        qualified: result.qualified,
        routable: result.routable,
      });
    return result;
  };
}

function defaultDeps(): Deps {
  const tableName = requireEnv('TABLE_NAME');
  return {
    repository: new LeadRepository(tableName),
    publisher: new EventPublisher(requireEnv('EVENT_BUS_NAME')),
    steps: new DynamoDBStepRunner({ tableName, functionName: 'score' }),
    model: clientConfig().scoring,
    now: () => new Date(),
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => createHandler(defaultDeps()));
