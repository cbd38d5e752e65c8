import { leadMailAdapters } from '../../shared/adapters/lead-mail';
import type { ClientConfig } from '../../shared/config/schema';
import { type ConsumerLogLine, eventConsumer } from '../../shared/runtime/consumer';
import { lazyHandler } from '../../shared/runtime/handler';
import {
  type AutoResponseResult,
  type AutoResponseStore,
  autoRespond,
} from '../../shared/services/auto-response';
import { type LeadMailAdapters, leadMailServiceDeps } from '../../shared/services/lead-email';

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

export type Deps = LeadMailAdapters<AutoResponseStore, Pick<ClientConfig, 'autoResponse' | 'email'>>;

export function createHandler(deps: Deps) {
  const serviceDeps = leadMailServiceDeps(deps);
  return eventConsumer({
    types: ['Lead Captured'],
    decide: ({ detail }): Promise<AutoResponseResult> => autoRespond(detail, serviceDeps),
    describe: (result, { detail }): ConsumerLogLine => {
      const keys = { provider: detail.provider, ...result };
      if (result.outcome === 'sent')
        return result.confirmed
          ? { message: 'Auto-response sent', keys, count: { AutoResponsesSent: 1 } }
          : {
              message: 'Auto-response sent without confirmation from SES',
              level: 'warn',
              keys,
              count: { AutoResponsesSent: 1 },
            };
      if (result.reason === 'refused')
        return { message: 'SES refused the auto-response; it will not be retried', level: 'error', keys };
      return { message: 'No auto-response', keys };
    },
  });
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => createHandler(leadMailAdapters()));
