import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LocalAwsEndpoints } from '../../../local/aws-endpoints';
import type { LocalEventBus } from '../../../local/event-bus';
import { FUNCTION_DOWN_MAX_EXTENSION_MS, runtimeFaults } from '../../../local/faults';
import type { FunctionPool } from '../../../local/lambda-runner';

/** Just what `functionDown` touches of the bus and a function pool. */
function fakes() {
  const bus = { deadLetters: [] as unknown[], exhaustRetriesUntil: 0 };
  const pool = { failureShare: 0.2, spec: { name: 'lead-pipeline-score', logicalId: 'ScoreFunction1A2B' } };
  const faults = runtimeFaults({
    bus: () => bus as unknown as LocalEventBus,
    aws: () => ({}) as LocalAwsEndpoints,
    functions: new Map([['score', pool as unknown as FunctionPool]]),
    restartDynamoDb: async () => {},
    dynamoDbRestarts: () => 0,
  });
  return { bus, pool, faults };
}

describe('functionDown (local fault injection)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('fails every invocation for the window, then restores the share once an event was dead-lettered', () => {
    const { bus, pool, faults } = fakes();
    faults.functionDown('Score', 5);
    expect(pool.failureShare).toBe(1);
    expect(bus.exhaustRetriesUntil).toBeGreaterThan(Date.now());

    bus.deadLetters.push({ id: 'evt-1' });
    vi.advanceTimersByTime(5_000);
    expect(pool.failureShare).toBe(0.2);
  });

  it('stays down past the window until the outage has dead-lettered an event', () => {
    const { bus, pool, faults } = fakes();
    faults.functionDown('Score', 5);
    vi.advanceTimersByTime(10_000);
    // Nothing invoked the function in the window: the outage goes on, retries still exhausted.
    expect(pool.failureShare).toBe(1);
    expect(bus.exhaustRetriesUntil).toBeGreaterThan(Date.now());

    bus.deadLetters.push({ id: 'evt-late' });
    vi.advanceTimersByTime(300);
    expect(pool.failureShare).toBe(0.2);
  });

  it('gives up after the bounded extension when nothing is ever dead-lettered', () => {
    const { pool, faults } = fakes();
    faults.functionDown('Score', 5);
    vi.advanceTimersByTime(5_000 + FUNCTION_DOWN_MAX_EXTENSION_MS + 500);
    expect(pool.failureShare).toBe(0.2);
  });
});
