import { z } from 'zod';
import { EventPublisher } from '../../shared/adapters/event-publisher';
import { SecretsManagerIntegrations } from '../../shared/adapters/integrations-secret';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { LinkedInApiClient } from '../../shared/adapters/linkedin-api';
import { MetaGraphClient } from '../../shared/adapters/meta-graph';
import { clientConfig } from '../../shared/config/runtime';
import type { ClientConfig } from '../../shared/config/schema';
import { env } from '../../shared/contracts/function-env';
import type { EventSink } from '../../shared/ports/events';
import type { IntegrationsSecretReader } from '../../shared/ports/integrations-secret';
import type { LinkedInLeadFetcher, MetaLeadFetcher } from '../../shared/ports/lead-sources';
import type { PendingLead } from '../../shared/ports/pending-leads';
import { consumer } from '../../shared/runtime/consumer';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger } from '../../shared/runtime/observability';
import { type PendingLeadDeps, refetchPendingLeads } from '../../shared/services/pending-leads';
import { type PlatformRead, readLinkedInLead, readMetaLead } from '../../shared/services/webhook-intake';
import type { MetaLeadChange } from '../../shared/webhooks/common';
import type { LinkedInLeadNotice } from '../../shared/webhooks/linkedin';

/**
 * Pending leads: on a schedule, reads the Meta and LinkedIn leads stored `pending` (no access
 * token yet, the platform refused the read) again with the current tokens, and completes them:
 * a completed lead is announced with `Lead Captured` through the outbox, like any new lead; a
 * known person's answers are merged into their lead. See `shared/services/pending-leads.ts`.
 *
 * The outbox relay's twin (a scheduled sweeper the offline runtime runs from the same template),
 * kept apart from it on purpose: this one needs intake's normaliser, the platforms' clients and
 * their secrets, and may write leads; the relay stays small and can touch only the outbox.
 */

/** What the function needs; injectable in tests. */
export interface Deps {
  readonly store: PendingLeadDeps['store'];
  readonly publisher: EventSink;
  readonly config: ClientConfig;
  readonly secrets: IntegrationsSecretReader;
  readonly metaFetcher: MetaLeadFetcher;
  readonly linkedinFetcher: LinkedInLeadFetcher;
  readonly now: () => Date;
}

/**
 * Builds the handler: one pass over the due pending leads per scheduled run (the schedule's
 * event only starts it, whatever it carries), one log line when any was due.
 */
export function createHandler(deps: Deps) {
  return consumer({
    schema: z.unknown(),
    decide: () =>
      refetchPendingLeads({
        store: deps.store,
        publisher: deps.publisher,
        config: deps.config,
        now: deps.now,
        read: platformReader(deps),
      }),
    describe: (summary) => {
      // A lead nobody can complete but a person is worth an error of its own (an alarm).
      for (const r of summary.results) {
        if (r.outcome === 'abandoned' || r.outcome === 'unusable')
          logger.error('Pending lead left for a person to complete', {
            code: 'PENDING_LEAD_UNREADABLE',
            ...r,
          });
      }
      // Most runs find nothing due: those are not worth a line at the default level.
      return {
        message: 'Pending leads read again',
        level: summary.due > 0 ? 'info' : 'debug',
        keys: { due: summary.due, ...summary.outcomes, results: summary.results },
      };
    },
  });
}

/**
 * Reads a pending lead from its platform with this run's credentials (the secret is read once
 * per run, and only when some lead is due).
 */
function platformReader(deps: Deps): (entry: PendingLead) => Promise<PlatformRead> {
  let secret: ReturnType<IntegrationsSecretReader['read']> | undefined;
  return async (entry) => {
    secret ??= deps.secrets.read();
    const values = await secret;
    if (entry.provider === 'meta') {
      return readMetaLead(entry.reference as unknown as MetaLeadChange, {
        fetcher: deps.metaFetcher,
        accessToken: values.metaAccessToken,
        appSecret: values.metaAppSecret,
      });
    }
    return readLinkedInLead(entry.reference as unknown as LinkedInLeadNotice, {
      fetcher: deps.linkedinFetcher,
      accessToken: values.linkedinAccessToken,
    });
  };
}

function defaultDeps(): Deps {
  const config = clientConfig();
  return {
    store: new LeadRepository(env.tableName),
    publisher: new EventPublisher(env.eventBusName),
    config,
    secrets: SecretsManagerIntegrations.fromEnvironment(),
    metaFetcher: new MetaGraphClient({ version: config.webhooks.meta.graphApiVersion }),
    linkedinFetcher: new LinkedInApiClient({ version: config.webhooks.linkedin.apiVersion }),
    now: () => new Date(),
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => createHandler(defaultDeps()));
