import type { Context } from 'aws-lambda';
import { requireEnv } from '../../shared/adapters/clients';
import { type EnrichmentProvider, enrichmentProviderFor } from '../../shared/adapters/enrichment-provider';
import { EventPublisher } from '../../shared/adapters/event-publisher';
import {
  DynamoDBStepRunner,
  decideThenPublish,
  type EventSink,
  type StepRunner,
} from '../../shared/adapters/idempotent-steps';
import { SecretsManagerIntegrations } from '../../shared/adapters/integrations-secret';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { clientConfig } from '../../shared/config/runtime';
import { receivePipelineEvent } from '../../shared/events/receive';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger } from '../../shared/runtime/observability';
import { type EnrichLeadResult, enrichLead } from '../../shared/services/enrichment';

/**
 * Enrich: on `Lead Captured` (complete leads only; the rule filters `pending: false`), fill the
 * gaps in the lead's profile (built-in enrichment, plus the optional HTTP provider, whose
 * failures never block the pipeline), save it and publish `Lead Enriched`.
 *
 * Exactly once per event (decide, then publish; see `idempotent-steps.ts`). Transient failures
 * are thrown so EventBridge and Lambda retry, then the rule's DLQ keeps the event.
 */

/** What the enrich function needs; every adapter is injectable for tests. */
export interface Deps {
  readonly repository: LeadRepository;
  readonly publisher: EventSink;
  readonly provider: EnrichmentProvider;
  readonly steps: StepRunner;
  readonly now: () => Date;
}

/** The enrich function's result: the enrichment decision, or `pending` when the lead waits for its fields. */
export type EnrichOutcome = EnrichLeadResult | { readonly outcome: 'pending' };

/** Builds the enrich handler: parses `Lead Captured`, enriches once per event, publishes `Lead Enriched`. */
export function createHandler(deps: Deps) {
  return async (event: unknown, context?: Context): Promise<EnrichOutcome> => {
    deps.steps.useLambdaContext(context);
    const { id, detail } = receivePipelineEvent(event, ['Lead Captured']);
    const log = { leadId: detail.leadId, eventId: id, isTest: detail.isTest };
    if (detail.pending) {
      // The provider's fields are still missing; a later Lead Captured brings the complete lead.
      logger.info('Lead is pending; enrichment waits for its fields', log);
      return { outcome: 'pending' };
    }
    const now = deps.now();
    const result = await decideThenPublish(deps.steps, deps.publisher, id, () =>
      enrichLead(detail.leadId, { store: deps.repository, provider: deps.provider, now }),
    );
    if (result.outcome === 'missing') logger.warn('Lead not found (erased?); nothing to enrich', log);
    else
      logger.info('Lead enriched', {
        ...log,
        outcome: result.outcome,
        fields: result.changed,
        providerUsed: result.providerUsed,
      });
    return result;
  };
}

function defaultDeps(): Deps {
  const tableName = requireEnv('TABLE_NAME');
  return {
    repository: new LeadRepository(tableName),
    publisher: new EventPublisher(requireEnv('EVENT_BUS_NAME')),
    provider: enrichmentProviderFor(clientConfig().enrichment, () =>
      SecretsManagerIntegrations.fromEnvironment(),
    ),
    steps: new DynamoDBStepRunner({ tableName, functionName: 'enrich' }),
    now: () => new Date(),
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => createHandler(defaultDeps()));
