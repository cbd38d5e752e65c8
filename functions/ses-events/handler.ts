import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { requireEnv } from '../../shared/adapters/clients';
import { EventPublisher } from '../../shared/adapters/event-publisher';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { DynamoOutbox } from '../../shared/adapters/outbox-store';
import { clientConfig } from '../../shared/config/runtime';
import { InvalidInputError } from '../../shared/domain/errors';
import type { ActivityType } from '../../shared/domain/lead';
import { SesEventSchema } from '../../shared/domain/ses-events';
import type { EventSink } from '../../shared/ports/events';
import type { Outbox } from '../../shared/ports/outbox';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger, metrics } from '../../shared/runtime/observability';
import { announce } from '../../shared/services/announce';
import {
  announcedActivityTypes,
  recordSesEvent,
  type SesEventDecision,
  type SesEventStore,
} from '../../shared/services/ses-events';

/**
 * SES EVENTS: SES sending events of this client's configuration set, from the default
 * EventBridge bus (`source = aws.ses`; `Email Delivered`, `Email Opened`, `Email Clicked`,
 * `Email Bounced`, `Email Complaint Received`, plus `Email Sent` / `Email Rejected`, which are
 * not lead activities). The lead is the message's `lead_id` tag.
 *
 * Each event becomes an activity (id derived from the event id, so a redelivery records it
 * once) and, when the client's scoring counts its type and it was not a machine open or click,
 * an `Activity Recorded` for re-scoring. A permanent bounce or a complaint suppresses the
 * address, flags the lead unsubscribed and publishes `Lead Unsubscribed` (`via: bounce |
 * complaint`); a transient bounce is only recorded. Exactly once per event by the activity's
 * conditional write, with its events in an outbox entry of the same transaction: a redelivery
 * finds it and publishes nothing; a refused publish is the relay's (see `services/ses-events.ts`).
 * Transient failures are thrown, so Lambda and
 * EventBridge retry and then the rule's DLQ keeps the event; a malformed event is thrown as
 * {@link InvalidInputError} and ends in the DLQ too.
 */

export interface Deps {
  readonly repository: SesEventStore;
  readonly publisher: EventSink;
  readonly outbox: Pick<Outbox, 'clear'>;
  /** Activity types a rule consumes. @default - those of the client's engagement scoring rules */
  readonly announced?: ReadonlySet<ActivityType>;
}

export function createHandler(deps: Deps) {
  let announced = deps.announced;
  return async (event: unknown): Promise<SesEventDecision> => {
    announced ??= announcedActivityTypes(clientConfig().scoring);
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
    const decision = await recordSesEvent(ses, { store: deps.repository, announced });
    // Stored with the change: a bus that refuses now leaves the entry to the relay.
    const relayed = decision.outbox
      ? !(await announce(decision.outbox, { publisher: deps.publisher, outbox: deps.outbox })).published
      : false;
    const log = {
      eventId: ses.id,
      detailType: ses['detail-type'],
      messageId: ses.detail.mail.messageId,
      ...decision,
      events: decision.events.map((e) => e.detailType),
      outbox: decision.outbox?.id,
      relayed,
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
    outbox: new DynamoOutbox(tableName),
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => createHandler(defaultDeps()));
