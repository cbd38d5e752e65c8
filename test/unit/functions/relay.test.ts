import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandler, MIN_AGE_SECONDS } from '../../../functions/relay/handler';
import { createHandler as createScoreHandler } from '../../../functions/score/handler';
import { DynamoOutbox } from '../../../shared/adapters/outbox-store';
import { loadClientConfig } from '../../../shared/config/load';
import { DependencyUnavailableError } from '../../../shared/domain/errors';
import type { EventDetailInput } from '../../../shared/events/catalogue';
import { intakeLead } from '../../../shared/services/intake';
import { eventBridgeEvent, Harness, TABLE, throttling } from './pipeline-kit';

const config = loadClientConfig('example', 'clients');
const CAPTURED_AT = new Date('2026-03-02T10:00:00.000Z');
const later = (seconds: number) => new Date(CAPTURED_AT.getTime() + seconds * 1000);

let h: Harness;
let ids: number;
beforeEach(() => {
  h = new Harness();
  ids = 0;
});
afterEach(() => h.restore());

const elena = { first_name: 'Elena', email: 'elena.vogel@kontor-software.de', job_title: 'VP Engineering' };

function capture() {
  return intakeLead(
    { fields: elena, provider: 'form' },
    {
      store: h.repository,
      publisher: h.publisher,
      config,
      now: () => CAPTURED_AT,
      newId: () => `id-${++ids}`,
    },
  );
}

function relay(now: Date) {
  return createHandler({
    outbox: new DynamoOutbox(TABLE, h.docClient),
    publisher: h.publisher,
    now: () => now,
  })();
}

describe('relay', () => {
  it('publishes a capture whose publish failed after its transaction, once, and clears the entry', async () => {
    h.failNextPublish(throttling());
    const taken = await capture();
    expect(taken).toMatchObject({ outcome: 'created', announced: false });
    expect(h.ofType('Lead Captured')).toEqual([]);

    // Too young: its writer may still be publishing it.
    expect(await relay(later(MIN_AGE_SECONDS - 1))).toEqual({ due: 0, published: 0, failed: 0 });
    expect(await relay(later(MIN_AGE_SECONDS + 1))).toEqual({ due: 1, published: 1, failed: 0 });
    expect(h.ofType('Lead Captured').map((e) => e.detail.leadId)).toEqual(['id-1']);
    expect(h.table.byPk('OUTBOX')).toEqual([]);

    // Nothing is published twice.
    expect(await relay(later(MIN_AGE_SECONDS * 2))).toEqual({ due: 0, published: 0, failed: 0 });
    expect(h.ofType('Lead Captured')).toHaveLength(1);
  });

  it('leaves nothing to relay when the writer published', async () => {
    await capture();
    expect(h.table.byPk('OUTBOX')).toEqual([]);
    expect(await relay(later(MIN_AGE_SECONDS + 60))).toEqual({ due: 0, published: 0, failed: 0 });
    expect(h.ofType('Lead Captured')).toHaveLength(1);
  });

  it('keeps the entry and throws while the bus still refuses; the next run publishes it', async () => {
    h.failNextPublish(throttling());
    await capture();
    h.failNextPublish(throttling());
    await expect(relay(later(MIN_AGE_SECONDS + 30))).rejects.toThrow(
      /1 of 1 outbox entries could not be published/,
    );
    expect(h.table.byPk('OUTBOX')).toHaveLength(1);
    expect(await relay(later(MIN_AGE_SECONDS + 90))).toMatchObject({ published: 1 });
    expect(h.ofType('Lead Captured')).toHaveLength(1);
  });

  it('a crash after the publish but before the clear is published again, and scored once', async () => {
    // The entry's delete fails: the event is on the bus but the entry stays.
    h.table.failNext('DeleteCommand', throttling());
    await capture();
    expect(h.ofType('Lead Captured')).toHaveLength(1);
    expect(h.table.byPk('OUTBOX')).toHaveLength(1);
    await relay(later(MIN_AGE_SECONDS + 30));
    const captured = h.ofType('Lead Captured');
    expect(captured).toHaveLength(2);

    const score = createScoreHandler({
      repository: h.repository,
      publisher: h.publisher,
      model: config.scoring,
      now: () => later(MIN_AGE_SECONDS + 31),
    });
    // Each copy reaches scoring under its own EventBridge id: one score, one history entry.
    for (const [i, event] of captured.entries())
      await score(
        eventBridgeEvent('Lead Captured', event.detail as EventDetailInput<'Lead Captured'>, `evt-${i}`),
      );
    expect(h.table.scoreHistory('id-1')).toHaveLength(1);
    expect(h.table.lead('id-1').version).toBe(1);
  });

  it('reports storage trouble as retryable', async () => {
    h.table.failNext('QueryCommand', throttling());
    await expect(relay(later(MIN_AGE_SECONDS + 30))).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});
