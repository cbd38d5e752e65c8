import type { DetailType, PipelineEvent } from '../events/catalogue';

/** Publishes catalogue events on the pipeline's bus (implemented by `EventPublisher`). */
export interface EventSink {
  /** Resolves once the bus accepted every event; throws (retryable) otherwise. */
  publish(...events: ReadonlyArray<PipelineEvent<DetailType>>): Promise<void>;
}

/**
 * What a consumer step decided: an outcome for its log line and the events to publish.
 *
 * A step that changes state records what it did in the same conditional write as the change
 * (the score's trigger key, the routing activity keyed by the trigger...), so a redelivery of the
 * same event finds its own write and returns the same events again, re-derived from stored
 * state. Publishing is therefore at least once and every effect exactly once.
 */
export interface Decision {
  readonly outcome: string;
  readonly events: ReadonlyArray<PipelineEvent<DetailType>>;
}
