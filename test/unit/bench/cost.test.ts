import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expressGbSeconds, loadPricing, priceUsage, slaLadderUsage } from '../../../bench/cost';

const pricing = loadPricing('bench/pricing.json');

describe('the SLA ladder cost model (EventBridge Scheduler + Express rungs)', () => {
  it('bills Express duration in 100 ms increments at 64 MB', () => {
    expect(expressGbSeconds(1)).toBeCloseTo(0.1 * 0.0625, 10);
    expect(expressGbSeconds(100)).toBeCloseTo(0.1 * 0.0625, 10);
    expect(expressGbSeconds(101)).toBeCloseTo(0.2 * 0.0625, 10);
  });

  it('prices a ladder nobody answers: rung 0, one rung per step, the unworked check; no Standard transition', () => {
    const usage = slaLadderUsage({ ladderSteps: 2, slaTaskMs: 450, schedulerTaskMs: 40 });
    expect(usage).toMatchObject({ transitions: 0, expressRequests: 4, schedulerInvocations: 3 });
    // 100 ms (start) + 2 × 500 ms (escalate + schedule next) + 500 ms (unworked), at 64 MB.
    expect(usage.expressGbSeconds).toBeCloseTo(1.6 * 0.0625, 10);
    const lines = priceUsage(usage, pricing);
    expect(lines.map((l) => l.label)).toEqual([
      'Step Functions Express executions',
      'Step Functions Express duration (GB-s)',
      'EventBridge Scheduler invocations',
    ]);
    const usd = lines.reduce((n, l) => n + l.usd, 0);
    // About a twentieth of the 6 Standard transitions it replaces ($25 per million each).
    expect(usd).toBeLessThan((6 * 25) / 1e6 / 15);
  });

  it('names a dated source for every new price', () => {
    const raw = JSON.parse(readFileSync('bench/pricing.json', 'utf8')) as {
      prices: Record<string, { source: string }>;
    };
    for (const key of ['stepFunctionsExpressRequest', 'stepFunctionsExpressGbSecond', 'schedulerInvocation'])
      expect(raw.prices[key]?.source).toMatch(/^Amazon EventBridge pricing|^AWS Step Functions pricing/);
  });
});
