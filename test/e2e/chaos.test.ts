import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bootChaosRuntime } from '../../bench/chaos/boot';
import { faultsUnderLoad, hostileInput, redelivery } from '../../bench/chaos/scenarios';
import type { LocalRuntime } from '../../local/runtime';

/**
 * Short versions of `npm run chaos` (see bench/chaos/): a few hundred hostile requests, every
 * event redelivered, and every fault once under a light load. One runtime on disk (DynamoDB Local
 * must survive its restart), real time (retries back off as in AWS), no API throttling.
 */

let runtime: LocalRuntime;
let dir: string;

beforeAll(async () => {
  ({ runtime, dir } = await bootChaosRuntime('e2e', false));
});

afterAll(async () => {
  await runtime?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('chaos, short', () => {
  test('hostile input over every route: no 5xx, nothing invalid stored or rendered, nobody let in, a normal lead still alerts', async () => {
    const result = await hostileInput(runtime, 320, 8);
    // The failures say why a 5xx happened (a timeout on a busy machine, or a bug).
    expect({ serverErrors: result.serverErrors, functionFailures: result.functionFailures }).toEqual({
      serverErrors: [],
      functionFailures: {},
    });
    expect(result.invalidStored).toEqual([]);
    expect(result.unescapedSlack).toEqual([]);
    expect(result.unescapedHtml).toEqual([]);
    expect(result.authBypasses).toEqual([]);
    expect(result.deadLetters).toBe(0);
    expect(result.normalLeadReachedSlack).toBe(true);
    expect(Object.keys(result.byRoute).length).toBeGreaterThanOrEqual(15);
  }, 300_000);

  test('every event delivered twice more, concurrently and out of order, has each effect once', async () => {
    const result = await redelivery(runtime, 2);
    expect(result.leads).toBe(2);
    expect(result.eventsRedelivered).toBeGreaterThan(10);
    expect(result.doubleEffects).toEqual({ slackAlerts: 0, snsAlerts: 0, emails: 0, assignments: 0 });
    expect(result.newEventsFromReplay, JSON.stringify(result.newEvents)).toBe(0);
    expect(result.timelineEntriesAdded).toBe(0);
    expect(result.deadLetters).toBe(0);
  }, 300_000);

  test('faults under load: no accepted lead lost, nothing done twice, the dead-letter record redriven once', async () => {
    const result = await faultsUnderLoad(runtime, {
      seconds: 8,
      ratePerSecond: 2,
      busOutageSeconds: 3,
      dynamoDownSeconds: 1,
      functionDownSeconds: 2,
    });
    expect(result.accepted).toBeGreaterThan(0);
    expect(result.faultsInjected.dynamoDbRestarts).toBe(1);
    expect(result.faultsInjected.putEventsRefused).toBeGreaterThan(0);
    expect(result.lost).toEqual([]);
    expect(result.doubleEffects).toEqual({ slackAlerts: 0, snsAlerts: 0, emails: 0, assignments: 0 });
    // Score's outage sent its events to the dead-letter record; one redrive replayed them all.
    expect(result.faultsInjected.functionOutages).toBe(1);
    expect(result.deadLettersBeforeRedrive).toBeGreaterThan(0);
    expect(result.redriven).toBe(result.deadLettersBeforeRedrive);
    expect(result.redriveFailed).toBe(0);
    expect(result.deadLettersAfter).toBe(0);
    expect(result.secondRedrive).toBe(0);
  }, 600_000);
});
