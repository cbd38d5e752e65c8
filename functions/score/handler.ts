import { EventPublisher } from '../../shared/adapters/event-publisher';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { clientConfig } from '../../shared/config/runtime';
import type { ScoringModel } from '../../shared/config/schema';
import { env } from '../../shared/contracts/function-env';
import type { EventSink } from '../../shared/ports/events';
import { eventConsumer } from '../../shared/runtime/consumer';
import { lazyHandler } from '../../shared/runtime/handler';
import { type RescoreLeadResult, rescoreLead, type ScoreTrigger } from '../../shared/services/scoring';

/**
 * Score: on `Lead Captured` (complete leads: the rule filters `pending: false`; capture has
 * already applied the built-in enrichment), `Lead Enriched` (a third-party provider answered) or
 * `Activity Recorded`, recompute the lead's score from its profile and every activity, store
 * score, stage and explanation (stage never moves backwards) plus a score-history entry in one
 * transaction, and publish `Lead Scored` (with `routable`; a newly crossed threshold is its
 * `stage` above `previousStage`).
 *
 * Exactly once by its own write: the saved lead records the triggering event (`scoredBy`) and
 * its events (an outbox entry) in one transaction, so a redelivery finds it and does nothing,
 * and the relay publishes what a crash or a refusing bus left; the crossing is measured against
 * the stored stage, so it is announced once across events. Transient failures are thrown so
 * EventBridge and Lambda retry, then the rule's DLQ keeps the event.
 */

/** What the score function needs; every adapter is injectable for tests. */
export interface Deps {
  readonly repository: LeadRepository;
  readonly publisher: EventSink;
  /** The client's `scoring` section. */
  readonly model: ScoringModel;
  readonly now: () => Date;
}

/** The score trigger each consumed detail-type carries into `Lead Scored`. */
const TRIGGERS = {
  'Lead Captured': 'captured',
  'Lead Enriched': 'enriched',
  'Activity Recorded': 'activity',
} as const satisfies Record<string, ScoreTrigger>;

/** Builds the score handler: parses the event, re-scores, publishes the score events. */
export function createHandler(deps: Deps) {
  return eventConsumer({
    types: ['Lead Captured', 'Lead Enriched', 'Activity Recorded'],
    announce: { publisher: deps.publisher, outbox: { clear: (entry) => deps.repository.clearOutbox(entry) } },
    decide: async (received): Promise<RescoreLeadResult> => {
      // The rule forwards complete leads only; a pending lead is scored once its fields arrive.
      if (received.detailType === 'Lead Captured' && received.detail.pending)
        return { outcome: 'missing', events: [] };
      const trigger = TRIGGERS[received.detailType];
      return rescoreLead(
        received.detail.leadId,
        trigger,
        { store: deps.repository, model: deps.model, now: deps.now() },
        received.id,
      );
    },
    describe: (result, received) => {
      if (!('score' in result))
        return result.outcome === 'already-scored'
          ? { message: 'Event already scored (a redelivery); nothing to redo' }
          : { message: 'Lead not found, erased or pending; nothing to score', level: 'warn' };
      return {
        message: 'Lead scored',
        keys: {
          trigger: TRIGGERS[received.detailType],
          outcome: result.outcome,
          total: result.score.total,
          stage: result.score.stage,
          previousStage: result.previousStage,
          qualified: result.qualified,
          routable: result.routable,
        },
      };
    },
  });
}

function defaultDeps(): Deps {
  return {
    repository: new LeadRepository(env.tableName),
    publisher: new EventPublisher(env.eventBusName),
    model: clientConfig().scoring,
    now: () => new Date(),
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => createHandler(defaultDeps()));
