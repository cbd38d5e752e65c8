import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DependencyUnavailableError, InvalidInputError } from '../../shared/domain/errors';
import { type PipelineEvent, pipelineEvent } from '../../shared/events/catalogue';
import type { OutboxEntry } from '../../shared/ports/outbox';
import type { StepRunner } from '../../shared/ports/steps';
import { consumer, eventConsumer, retryableTaskError } from '../../shared/runtime/consumer';
import { eventBridgeEvent } from './functions/pipeline-kit';

const erasure = (erasureId = 'erasure-1') =>
  eventBridgeEvent('Erasure Requested', { erasureId, occurredAt: '2026-03-02T09:00:00.000Z' }, 'evt-1');
const contacted = pipelineEvent('Lead Contacted', {
  leadId: 'lead-1',
  occurredAt: '2026-03-02T09:00:00.000Z',
  repId: 'ana',
  secondsToFirstTouch: 60,
});

/** A bus that records what it accepted, and refuses while `refusing`. */
function bus() {
  const published: PipelineEvent[] = [];
  return {
    published,
    refusing: false,
    async publish(...events: ReadonlyArray<PipelineEvent>) {
      if (this.refusing) throw new DependencyUnavailableError('EventBridge', new Error('throttled'));
      published.push(...events);
    },
  };
}

describe('the event consumer middleware', () => {
  it('hands decide the event id, detail-type and parsed detail', async () => {
    const handler = eventConsumer({
      types: ['Erasure Requested'],
      decide: async (event) => event,
      describe: () => ({ message: 'seen' }),
    });
    expect(await handler(erasure())).toEqual({
      id: 'evt-1',
      detailType: 'Erasure Requested',
      detail: { erasureId: 'erasure-1', occurredAt: '2026-03-02T09:00:00.000Z' },
    });
  });

  it('refuses a bad event naming each field, before deciding anything', async () => {
    let decided = 0;
    const handler = eventConsumer({
      types: ['Erasure Requested'],
      decide: async () => ++decided,
      describe: () => ({ message: 'seen' }),
    });
    const wrongType = await handler({ ...erasure(), 'detail-type': 'Lead Captured' }).catch(
      (e: unknown) => e,
    );
    expect(wrongType).toBeInstanceOf(InvalidInputError);
    expect((wrongType as InvalidInputError).problems).toEqual([
      { field: 'detail-type', reason: 'expected one of Erasure Requested, got "Lead Captured"' },
    ]);
    const badDetail = await handler(erasure('')).catch((e: unknown) => e);
    expect((badDetail as InvalidInputError).problems.map((p) => p.field)).toEqual(['detail.erasureId']);
    const foreign = await handler({ ...erasure(), source: 'aws.events' }).catch((e: unknown) => e);
    expect((foreign as InvalidInputError).problems).toEqual([
      { field: 'source', reason: 'expected "lead-pipeline", got "aws.events"' },
    ]);
    expect(decided).toBe(0);
  });

  it("publishes a decision's outbox entry and clears it; a refusing bus leaves the entry to the relay", async () => {
    const events = bus();
    const cleared: string[] = [];
    const entry: OutboxEntry = { id: 'entry-1', at: '2026-03-02T09:00:00.000Z', events: [contacted] };
    const handler = eventConsumer({
      types: ['Erasure Requested'],
      decide: async () => ({ outcome: 'changed', events: [contacted], outbox: entry }),
      announce: { publisher: events, outbox: { clear: async (e) => void cleared.push(e.id) } },
      describe: () => ({ message: 'decided' }),
    });
    await handler(erasure());
    expect(events.published).toEqual([contacted]);
    expect(cleared).toEqual(['entry-1']);

    events.refusing = true;
    await expect(handler(erasure())).resolves.toMatchObject({ outcome: 'changed' });
    expect(cleared).toEqual(['entry-1']);
  });

  it('throws a refused publish of events stored nowhere, so the platform retries', async () => {
    const events = bus();
    events.refusing = true;
    const handler = eventConsumer({
      types: ['Erasure Requested'],
      decide: async () => ({ outcome: 'derived', events: [contacted] }),
      announce: { publisher: events, outbox: { clear: async () => {} } },
      describe: () => ({ message: 'decided' }),
    });
    await expect(handler(erasure())).rejects.toBeInstanceOf(DependencyUnavailableError);
  });

  it('runs the decision and its publish as steps keyed by the spec, and skips steps for an unkeyed event', async () => {
    const events = bus();
    const records = new Map<string, unknown>();
    const runner: StepRunner = {
      useLambdaContext: () => {},
      once: async <T>(step: string, key: string, work: () => Promise<T>) => {
        const id = `${step}#${key}`;
        if (!records.has(id)) records.set(id, await work());
        return records.get(id) as T;
      },
    };
    let decided = 0;
    const handler = eventConsumer({
      types: ['Erasure Requested'],
      steps: {
        runner,
        publisher: events,
        key: ({ detail }) => (detail.erasureId === 'skip' ? undefined : detail.erasureId),
      },
      decide: async () => ({ outcome: `decision ${++decided}`, events: [contacted] }),
      describe: () => ({ message: 'decided' }),
    });
    expect(await handler(erasure())).toMatchObject({ outcome: 'decision 1' });
    expect(await handler(erasure())).toMatchObject({ outcome: 'decision 1' });
    expect(events.published).toEqual([contacted]);
    expect([...records.keys()]).toEqual(['decide#erasure-1', 'publish#erasure-1']);

    await handler(erasure('skip'));
    expect(decided).toBe(2);
    expect(records.size).toBe(2);
  });
});

describe('a task consumer', () => {
  const RetryName = retryableTaskError('ExampleRetryableError');
  const task = (fail: Error) =>
    consumer({
      schema: z.object({ action: z.literal('run') }),
      decide: async () => {
        throw fail;
      },
      describe: () => ({ message: 'ran' }),
      retryAs: (error) => new RetryName(error),
    });

  it('re-throws a retryable failure under the workflow retry name, with its cause', async () => {
    const cause = new DependencyUnavailableError('DynamoDB', new Error('throttled'));
    const error = await task(cause)({ action: 'run' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryName);
    expect((error as Error).name).toBe('ExampleRetryableError');
    expect((error as Error).cause).toBe(cause);
  });

  it('leaves other failures and bad payloads as they are', async () => {
    const bug = new TypeError('a bug');
    await expect(task(bug)({ action: 'run' })).rejects.toBe(bug);
    const bad = await task(bug)({ action: 'plan' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidInputError);
    expect((bad as InvalidInputError).problems.map((p) => p.field)).toEqual(['action']);
  });
});
