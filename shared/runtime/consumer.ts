import type { Context } from 'aws-lambda';
import type { DetailType } from '../events/catalogue';
import { type ReceivedEvent, receivePipelineEvent } from '../events/receive';
import type { Decision, EventSink } from '../ports/events';
import type { Outbox } from '../ports/outbox';
import { announce } from '../services/announce';
import { logger } from './observability';

/** The one log line a consumer writes per event. */
export interface ConsumerLogLine {
  readonly message: string;
  readonly level?: 'info' | 'warn';
  readonly keys?: Record<string, unknown>;
}

/** What {@link eventConsumer} needs to know about one consumer. */
export interface EventConsumerSpec<T extends DetailType, D extends Decision> {
  /** Detail-types the consumer's rules forward; anything else is rejected as bad input. */
  readonly types: readonly T[];
  /** Changes state (exactly once, by conditional writes) and returns what to publish. */
  readonly decide: (event: ReceivedEvent<T>) => Promise<D>;
  readonly publisher: EventSink;
  /** Clears an outbox entry once its events are on the bus. */
  readonly outbox: Pick<Outbox, 'clear'>;
  /** The log line for a decision (the lead, event id and test flag are added). */
  readonly describe: (decision: D, event: ReceivedEvent<T>) => ConsumerLogLine;
}

/**
 * The skeleton every pipeline event consumer shares: parse the EventBridge envelope and detail
 * against the catalogue, decide, publish what the decision re-derived, write one log line.
 *
 * There is no idempotency record per step: the decision itself is exactly once (a conditional
 * write that records its cause), and a redelivery re-derives the same events from stored state.
 * A failed publish is thrown, so EventBridge and Lambda retry and the retry publishes again; the
 * rule's DLQ keeps the event after that.
 */
export function eventConsumer<const T extends DetailType, D extends Decision>(spec: EventConsumerSpec<T, D>) {
  return async (event: unknown, _context?: Context): Promise<D> => {
    const received = receivePipelineEvent(event, spec.types);
    const decision = await spec.decide(received);
    let relayed = false;
    if (decision.outbox) {
      // Stored with the change: a refusal now is the relay's to publish, not a retry's.
      const announced = await announce(decision.outbox, { publisher: spec.publisher, outbox: spec.outbox });
      relayed = !announced.published;
    } else if (decision.events.length > 0) {
      await spec.publisher.publish(...decision.events);
    }
    const line = spec.describe(decision, received);
    const detail = received.detail as { leadId?: string; isTest?: boolean };
    const keys = { leadId: detail.leadId, eventId: received.id, isTest: detail.isTest, ...line.keys };
    if (line.level === 'warn') logger.warn(line.message, keys);
    else logger.info(line.message, { ...keys, published: relayed ? 0 : decision.events.length, relayed });
    return decision;
  };
}
