import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { leadMailAdapters } from '../../shared/adapters/lead-mail';
import type { ClientConfig } from '../../shared/config/schema';
import { receivePipelineEvent } from '../../shared/events/receive';
import type { IntegrationsSecretReader } from '../../shared/ports/integrations-secret';
import type { Mailer } from '../../shared/ports/mailer';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger, metrics } from '../../shared/runtime/observability';
import {
  type AutoResponseResult,
  type AutoResponseStore,
  autoRespond,
} from '../../shared/services/auto-response';
import { readSigningKey } from '../../shared/services/lead-email';

/**
 * AUTO-RESPOND: on `Lead Captured` (rule: `isTest = false`, `pending = false`), send the
 * immediate acknowledgement email, the template chosen by the lead's provider or channel from
 * `autoResponse.templates` (else `default`). Skipped when `autoResponse.enabled` is false, for
 * test leads, leads without an address, unsubscribed or suppressed addresses. Consent mode does
 * not block it: it answers the person's own request.
 *
 * Exactly once per lead: the send is claimed before SES is called, so a redelivered event (or a
 * second `Lead Captured` for the same lead) finds the claim and sends nothing. Transient
 * failures (throttling, DynamoDB, Secrets Manager) are thrown with nothing sent, so Lambda and
 * EventBridge retry and then the rule's DLQ keeps the event.
 */

export interface Deps {
  readonly repository: AutoResponseStore;
  readonly mailer: Mailer;
  readonly secrets: IntegrationsSecretReader;
  readonly config: Pick<ClientConfig, 'autoResponse' | 'email'>;
  /** Public API base URL (`API_URL`), for the unsubscribe link. */
  readonly apiUrl: string;
  readonly now: () => Date;
}

export function createHandler(deps: Deps) {
  const serviceDeps = {
    store: deps.repository,
    mailer: deps.mailer,
    signingKey: () => readSigningKey(deps.secrets),
    config: deps.config,
    apiUrl: deps.apiUrl,
    now: deps.now,
  };
  return async (event: unknown, _context?: Context): Promise<AutoResponseResult> => {
    const { id, detail } = receivePipelineEvent(event, ['Lead Captured']);
    const result = await autoRespond(detail, serviceDeps);
    const log = { leadId: detail.leadId, eventId: id, provider: detail.provider, ...result };
    if (result.outcome === 'sent') {
      metrics.addMetric('AutoResponsesSent', MetricUnit.Count, 1);
      if (result.confirmed) logger.info('Auto-response sent', log);
      else logger.warn('Auto-response sent without confirmation from SES', log);
    } else if (result.reason === 'refused') {
      logger.error('SES refused the auto-response; it will not be retried', log);
    } else {
      logger.info('No auto-response', log);
    }
    return result;
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => createHandler(leadMailAdapters()));
