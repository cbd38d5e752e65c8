import { describe, expect, it } from 'vitest';
import { IDEMPOTENCY_TTL_SECONDS } from '../../functions/alert/handler';
import { STEP_RECORD_TTL_SECONDS } from '../../shared/adapters/idempotent-steps';
import { DLQ_RETENTION_SECONDS, EVENT_IDEMPOTENCY_TTL_SECONDS } from '../../shared/config/retention';

describe('idempotency windows and DLQ retention', () => {
  it('remember a handled event longer than a dead-letter queue keeps it, so a redrive repeats nothing', () => {
    for (const ttl of [EVENT_IDEMPOTENCY_TTL_SECONDS, IDEMPOTENCY_TTL_SECONDS, STEP_RECORD_TTL_SECONDS]) {
      expect(ttl).toBeGreaterThan(DLQ_RETENTION_SECONDS);
    }
  });

  it('keeps DLQ messages for the SQS maximum of 14 days', () => {
    expect(DLQ_RETENTION_SECONDS).toBe(14 * 86_400);
  });
});
