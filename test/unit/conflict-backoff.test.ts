import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadClientConfig } from '../../shared/config/load';
import { conflictBackoffMs } from '../../shared/services/conflict-backoff';
import { routeLeadNow } from '../../shared/services/routing';
import { Harness, makeLead, transactionCanceled } from './functions/pipeline-kit';

const example = loadClientConfig('example', 'clients');
const MONDAY_10 = new Date('2026-03-02T10:00:00.000Z');

describe('the wait after a write conflict', () => {
  it('is drawn below a ceiling that doubles with each conflict, up to 300 ms', () => {
    const almostOne = () => 0.999_999;
    expect([1, 2, 3, 4, 5, 6].map((attempt) => conflictBackoffMs(attempt, almostOne))).toEqual([
      29, 59, 119, 239, 299, 299,
    ]);
    expect(conflictBackoffMs(3, () => 0)).toBe(0);
    expect(conflictBackoffMs(2, () => 0.5)).toBe(30);
  });

  describe('in routing', () => {
    let h: Harness;
    beforeEach(() => {
      h = new Harness();
    });
    afterEach(() => h.restore());

    it('comes before each retry of a refused transaction, never before the first attempt', async () => {
      h.table.putLead(
        makeLead({
          stage: 'MQL',
          profile: { jobTitle: 'Product Manager', industry: 'software', companySize: 500, country: 'DE' },
        }),
      );
      // Items: [lead, counter, cursor, activity]: another routing moved the team's cursor, twice.
      for (let i = 0; i < 2; i++)
        h.table.failNext(
          'TransactWriteCommand',
          transactionCanceled(['None', 'None', 'ConditionalCheckFailed', 'None']),
        );
      const waits: number[] = [];
      const result = await routeLeadNow('lead-1', 'evt-1', {
        store: h.repository,
        config: example,
        now: MONDAY_10,
        backoff: async (attempt) => {
          waits.push(attempt);
        },
      });
      expect(result.outcome).toBe('assigned');
      expect(waits).toEqual([1, 2]);
      expect(h.table.calls.filter((c) => c === 'TransactWriteCommand')).toHaveLength(3);
    });
  });
});
