import { MetricUnit } from '@aws-lambda-powertools/metrics';
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
import { InvalidInputError } from '../../shared/domain/errors';
import { SesEventSchema } from '../../shared/domain/ses-events';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger, metrics } from '../../shared/runtime/observability';
import { recordSesEvent, type SesEventDecision, type SesEventStore } from '../../shared/services/ses-events';

/**
 * SES EVENTS: SES sending events of this client's configuration set, from the default
 * EventBridge bus (`source = aws.ses`; `Email Delivered`, `Email Opened`, `Email Clicked`,
 * `Email Bounced`, `Email Complaint Received`, plus `Email Sent` / `Email Rejected`, which are
 * not lead activities). The lead is the message's `lead_id` tag.
 *
 * Each event becomes an activity (id derived from the event id, so a redelivery records it
 * once) and, unless it was a machine open or click, an `Activity Recorded` for scoring. A
 * permanent bounce or a complaint suppresses the address, flags the lead unsubscribed and
 * publishes `Lead Unsubscribed` (`via: bounce | complaint`); a transient bounce is only
 * recorded. Exactly once per event: decide, then publish (`idempotent-steps.ts`). Transient
 * failures are thrown, so Lambda and EventBridge retry and then the rule's DLQ keeps the event;
 * a malformed event is thrown as {@link InvalidInputError} and ends in the DLQ too.
 */

export interface Deps {
  readonly repository: SesEventStore;
  readonly publisher: EventSink;
  readonly steps: StepRunner;
}

export function createHandler(deps: Deps) {
  return async (event: unknown, context?: Context): Promise<SesEventDecision> => {
    deps.steps.useLambdaContext(context);
    const parsed = SesEventSchema.safeParse(event);
    if (!parsed.success) {
      throw new InvalidInputError(
        parsed.error.issues.map((i) => ({
          field: i.path.map(String).join('.') || 'event',
          reason: i.message,
        })),
      );
    }
    const ses = parsed.data;
    const decision = await decideThenPublish(deps.steps, deps.publisher, ses.id, () =>
      recordSesEvent(ses, { store: deps.repository }),
    );
    const log = {
      eventId: ses.id,
      detailType: ses['detail-type'],
      messageId: ses.detail.mail.messageId,
      ...decision,
      events: decision.events.map((e) => e.detailType),
    };
    if (decision.machine) metrics.addMetric('MachineEmailEngagement', MetricUnit.Count, 1);
    if (decision.suppressed) metrics.addMetric('EmailAddressesSuppressed', MetricUnit.Count, 1);
    if (decision.outcome === 'untagged' || decision.outcome === 'lead-missing') {
      logger.warn('SES event for no known lead', log);
    } else {
      logger.info('SES event handled', log);
    }
    return decision;
  };
}

function defaultDeps(): Deps {
  const tableName = requireEnv('TABLE_NAME');
  return {
    repository: new LeadRepository(tableName),
    publisher: new EventPublisher(requireEnv('EVENT_BUS_NAME')),
    steps: new DynamoDBStepRunner({ tableName, functionName: 'ses-events' }),
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => createHandler(defaultDeps()));
