import { type EnrichmentProvider, enrichmentProviderFor } from '../../shared/adapters/enrichment-provider';
import { EventPublisher } from '../../shared/adapters/event-publisher';
import { DynamoDBStepRunner, type EventSink, type StepRunner } from '../../shared/adapters/idempotent-steps';
import { SecretsManagerIntegrations } from '../../shared/adapters/integrations-secret';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { clientConfig } from '../../shared/config/runtime';
import { env } from '../../shared/contracts/function-env';
import { eventConsumer } from '../../shared/runtime/consumer';
import { lazyHandler } from '../../shared/runtime/handler';
import { type EnrichLeadResult, enrichLead } from '../../shared/services/enrichment';

/**
 * Enrich: on `Lead Captured` (complete leads only; the rule filters `pending: false`), fill the
 * gaps in the lead's profile (built-in enrichment, plus the optional HTTP provider, whose
 * failures never block the pipeline), save it and publish `Lead Enriched`.
 *
 * Exactly once per event (decide, then publish: the consumer's `steps`, `shared/ports/steps.ts`).
 * Transient failures are thrown so EventBridge and Lambda retry, then the rule's DLQ keeps the event.
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
  return eventConsumer({
    types: ['Lead Captured'],
    // A pending lead waits for its fields (a later Lead Captured brings them): no step to record.
    steps: {
      runner: deps.steps,
      publisher: deps.publisher,
      key: ({ id, detail }) => (detail.pending ? undefined : id),
    },
    decide: async ({ detail }): Promise<EnrichOutcome> =>
      detail.pending
        ? { outcome: 'pending' }
        : enrichLead(detail.leadId, { store: deps.repository, provider: deps.provider, now: deps.now() }),
    describe: (result) => {
      if (result.outcome === 'pending')
        return { message: 'Lead is pending; enrichment waits for its fields' };
      if (result.outcome === 'missing')
        return { message: 'Lead not found (erased?); nothing to enrich', level: 'warn' };
      return {
        message: 'Lead enriched',
        keys: { outcome: result.outcome, fields: result.changed, providerUsed: result.providerUsed },
      };
    },
  });
}

function defaultDeps(): Deps {
  const tableName = env.tableName;
  return {
    repository: new LeadRepository(tableName),
    publisher: new EventPublisher(env.eventBusName),
    provider: enrichmentProviderFor(clientConfig().enrichment, () =>
      SecretsManagerIntegrations.fromEnvironment(),
    ),
    steps: new DynamoDBStepRunner({ tableName, functionName: 'enrich' }),
    now: () => new Date(),
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => createHandler(defaultDeps()));
