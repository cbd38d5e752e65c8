import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { DependencyUnavailableError } from '../domain/errors';
import { type DetailType, EVENT_SOURCE, type PipelineEvent } from '../events/catalogue';
import { rethrowAsDomain } from './aws-errors';

/** Most entries EventBridge accepts in one PutEvents call. */
const MAX_BATCH = 10;
const MAX_ATTEMPTS = 4;

/**
 * Publishes catalogue events on the pipeline's bus. PutEvents can accept a call yet reject some
 * entries (throttling, internal errors), so rejected entries are retried with backoff and the
 * call fails loudly if any entry is still rejected: an event is never dropped silently.
 */
export class EventPublisher {
  private readonly client: EventBridgeClient;

  constructor(
    private readonly busName: string,
    client?: EventBridgeClient,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.client = client ?? new EventBridgeClient({ maxAttempts: 4 });
  }

  /** Publishes the events; resolves when every one was accepted by the bus. */
  async publish(...events: ReadonlyArray<PipelineEvent<DetailType>>): Promise<void> {
    for (let i = 0; i < events.length; i += MAX_BATCH) {
      await this.publishBatch(events.slice(i, i + MAX_BATCH));
    }
  }

  private async publishBatch(events: ReadonlyArray<PipelineEvent<DetailType>>): Promise<void> {
    let pending: PutEventsRequestEntry[] = events.map((e) => ({
      EventBusName: this.busName,
      Source: EVENT_SOURCE,
      DetailType: e.detailType,
      Detail: JSON.stringify(e.detail),
      Time: new Date(e.detail.occurredAt),
    }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      let failedEntries: PutEventsRequestEntry[] = [];
      try {
        const out = await this.client.send(new PutEventsCommand({ Entries: pending }));
        if (!out.FailedEntryCount) return;
        failedEntries = pending.filter((_, index) => out.Entries?.[index]?.ErrorCode);
        const reasons = (out.Entries ?? [])
          .filter((e) => e.ErrorCode)
          .map((e) => `${e.ErrorCode}: ${e.ErrorMessage}`);
        if (attempt >= MAX_ATTEMPTS) {
          throw new DependencyUnavailableError(
            'EventBridge',
            new Error(`${failedEntries.length} event(s) rejected: ${reasons.join('; ')}`),
          );
        }
      } catch (error) {
        if (error instanceof DependencyUnavailableError) throw error;
        rethrowAsDomain('EventBridge', error);
      }
      pending = failedEntries;
      await this.sleep(50 * 2 ** attempt);
    }
  }
}
