import type { DetailType, PipelineEvent } from '../events/catalogue';
import type { OutboxEntry } from './outbox';

/** Publishes catalogue events on the pipeline's bus (implemented by `EventPublisher`). */
export interface EventSink {
  /** Resolves once the bus accepted every event; throws (retryable) otherwise. */
  publish(...events: ReadonlyArray<PipelineEvent<DetailType>>): Promise<void>;
}

/**
 * What a consumer step decided: an outcome for its log line and the events it caused.
 *
 * A step that changes state records what it did in the same conditional transaction as the
 * change (the score's trigger key, the routing activity keyed by the trigger...), together with
 * the events to publish (`outbox`). A redelivery of the same event finds its own write and does
 * nothing; the events are published right after the write, or by the relay if that failed.
 * A step that changed nothing returns events without an outbox entry: they are published
 * directly, and a retry derives them again.
 */
export interface Decision {
  readonly outcome: string;
  readonly events: ReadonlyArray<PipelineEvent<DetailType>>;
  /** The outbox entry written with the state change, holding `events`. */
  readonly outbox?: OutboxEntry;
}
