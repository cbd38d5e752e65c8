import { EventPublisher } from '../../shared/adapters/event-publisher';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { DynamoOutbox } from '../../shared/adapters/outbox-store';
import { clientConfig } from '../../shared/config/runtime';
import { env } from '../../shared/contracts/function-env';
import type { ActivityType } from '../../shared/domain/lead';
import { SesEventSchema } from '../../shared/domain/ses-events';
import type { EventSink } from '../../shared/ports/events';
import type { Outbox } from '../../shared/ports/outbox';
import { type ConsumerLogLine, consumer } from '../../shared/runtime/consumer';
import { lazyHandler } from '../../shared/runtime/handler';
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
  return consumer({
    schema: SesEventSchema,
    keys: (ses) => ({
      eventId: ses.id,
      detailType: ses['detail-type'],
      messageId: ses.detail.mail.messageId,
    }),
    decide: (ses): Promise<SesEventDecision> => {
      announced ??= announcedActivityTypes(clientConfig().scoring);
      return recordSesEvent(ses, { store: deps.repository, announced });
    },
    announce: { publisher: deps.publisher, outbox: deps.outbox },
    describe: (decision): ConsumerLogLine => {
      const keys = {
        ...decision,
        events: decision.events.map((e) => e.detailType),
        outbox: decision.outbox?.id,
      };
      const count = {
        MachineEmailEngagement: decision.machine ? 1 : 0,
        EmailAddressesSuppressed: decision.suppressed ? 1 : 0,
      };
      return decision.outcome === 'untagged' || decision.outcome === 'lead-missing'
        ? { message: 'SES event for no known lead', level: 'warn', keys, count }
        : { message: 'SES event handled', keys, count };
    },
  });
}

function defaultDeps(): Deps {
  const tableName = env.tableName;
  return {
    repository: new LeadRepository(tableName),
    publisher: new EventPublisher(env.eventBusName),
    outbox: new DynamoOutbox(tableName),
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => createHandler(defaultDeps()));
