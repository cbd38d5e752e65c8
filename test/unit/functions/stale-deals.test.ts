import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
});

import { createHandler, SweepIncompleteError } from '../../../functions/stale-deals/handler';
import { keys } from '../../../shared/contracts/table-design';
import type { Lead } from '../../../shared/domain/lead';
import { config, LeadsHarness, makeLead, throttling } from './leads-kit';

/** The scheduled run: 07:00 UTC; `staleAfterDays` is 14, so the cutoff is 2026-03-06T07:00Z. */
const RUN = '2026-03-20T07:00:00Z';
const scheduled = (time = RUN) => ({
  version: '0',
  id: `sched-${time}`,
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  time,
  resources: [],
  detail: {},
});

let h: LeadsHarness;

function deal(
  id: string,
  pipelineStage: string,
  pipelineStageAt: string,
  overrides: Partial<Lead> = {},
): Lead {
  return makeLead({
    id,
    status: 'working',
    stage: 'opportunity',
    owner: 'liam',
    team: 'emea',
    firstTouchAt: '2026-01-05T10:00:00.000Z',
    pipelineStage,
    pipelineStageAt,
    amount: 1000,
    profile: { ...makeLead().profile, dedupeKey: `${id}@x.example` },
    ...overrides,
  });
}

function handler() {
  return createHandler({ store: h.repository, publisher: h.publisher, config });
}

beforeEach(async () => {
  h = new LeadsHarness();
  await h.seed(
    deal('d-demo', 'demo', '2026-03-01T09:00:00.000Z'),
    deal('d-fresh', 'proposal', '2026-03-10T09:00:00.000Z'),
    deal('d-won', 'won', '2026-01-10T09:00:00.000Z', { status: 'converted', stage: 'customer' }),
    deal('d-orphan', 'decision', '2026-02-01T09:00:00.000Z', { owner: undefined, team: 'na' }),
    deal('d-test', 'demo', '2026-02-01T09:00:00.000Z', { isTest: true }),
    makeLead({
      id: 'not-a-deal',
      status: 'assigned',
      owner: 'liam',
      profile: { ...makeLead().profile, dedupeKey: 'nd@x.example' },
    }),
  );
});

afterEach(() => h.restore());

describe('stale-deals sweep', () => {
  it('announces each open deal stuck past staleAfterDays, to its owner or the team manager', async () => {
    const result = await handler()(scheduled());
    expect(result).toEqual({
      day: '2026-03-20',
      stale: 2,
      withOverdueTasks: 0,
      announced: 2,
      alreadyAnnounced: 0,
    });
    expect(h.ofType('Stale Deal Found').map((e) => e.detail)).toEqual([
      {
        leadId: 'd-demo',
        occurredAt: '2026-03-20T07:00:00.000Z',
        isTest: false,
        repId: 'liam',
        pipelineStage: 'demo',
        daysInStage: 18,
        overdueTasks: [],
      },
      {
        leadId: 'd-orphan',
        occurredAt: '2026-03-20T07:00:00.000Z',
        isTest: false,
        repId: 'maya',
        pipelineStage: 'decision',
        daysInStage: 46,
        overdueTasks: [],
      },
    ]);
    // One byStage query per open stage (every open deal: any may be late on a task)...
    expect(
      h.queries
        .filter((q) => q.IndexName)
        .map((q) => [q.IndexName, (q.ExpressionAttributeValues as Record<string, string>)[':pk']]),
    ).toEqual([
      ['byStage', 'STAGE#discovery'],
      ['byStage', 'STAGE#demo'],
      ['byStage', 'STAGE#proposal'],
      ['byStage', 'STAGE#decision'],
    ]);
    // ...then one task query per real open deal (d-fresh, d-demo, d-orphan; not the test lead).
    expect(h.queries.filter((q) => !q.IndexName)).toHaveLength(3);
    expect(h.table.get(keys.staleDealAlert('d-demo', '2026-03-20'))).toMatchObject({
      expiresAt: Date.parse('2026-03-20T00:00:00Z') / 1000 + 8 * 86_400,
    });
  });

  it('announces a deal once per day, however often it runs', async () => {
    await handler()(scheduled());
    const again = await handler()(scheduled('2026-03-20T07:05:00Z'));
    expect(again).toEqual({
      day: '2026-03-20',
      stale: 2,
      withOverdueTasks: 0,
      announced: 0,
      alreadyAnnounced: 2,
    });
    expect(h.ofType('Stale Deal Found')).toHaveLength(2);
    const tomorrow = await handler()(scheduled('2026-03-21T07:00:00Z'));
    expect(tomorrow.announced).toBe(2);
    expect(h.ofType('Stale Deal Found')).toHaveLength(4);
  });

  it('releases its claims when the bus fails, so the retry announces the deals', async () => {
    h.failNextPublish(throttling());
    await expect(handler()(scheduled())).rejects.toBeInstanceOf(SweepIncompleteError);
    expect(h.table.get(keys.staleDealAlert('d-demo', '2026-03-20'))).toBeUndefined();
    expect(h.published).toEqual([]);
    const retry = await handler()(scheduled());
    expect(retry.announced).toBe(2);
    expect(h.ofType('Stale Deal Found')).toHaveLength(2);
  });

  it('throws on a throttled read so the platform retries', async () => {
    h.failNextQuery(throttling());
    await expect(handler()(scheduled())).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    expect(h.published).toEqual([]);
  });

  it('stops before the time runs out and leaves the rest to the retry', async () => {
    await expect(handler()(scheduled(), { getRemainingTimeInMillis: () => 5_000 })).rejects.toThrow(
      /2 deal\(s\) \(stale or late on tasks\) were not announced/,
    );
    expect(h.published).toEqual([]);
  });

  it('lists overdue tasks: in the stale alert, and on their own for a deal that is not stale', async () => {
    const task = (leadId: string, id: string, title: string, dueAt: string, done = false) =>
      h.repository.putTask({
        id,
        leadId,
        createdAt: '2026-03-01T00:00:00.000Z',
        by: 'system',
        title,
        dueAt,
        done,
      });
    await task('d-fresh', 't1', 'Send the proposal', '2026-03-11T09:00:00.000Z');
    await task('d-fresh', 't2', 'Book the proposal review call', '2026-03-25T09:00:00.000Z'); // not due yet
    await task('d-demo', 't3', 'Send the demo recap and next steps', '2026-03-02T09:00:00.000Z');
    await task('d-demo', 't4', 'Done already', '2026-03-02T09:00:00.000Z', true);
    await task('d-test', 't5', 'Never alerted', '2026-03-02T09:00:00.000Z');

    const result = await handler()(scheduled());
    expect(result).toMatchObject({ stale: 2, withOverdueTasks: 2, announced: 3 });
    expect(h.ofType('Tasks Overdue').map((e) => e.detail)).toEqual([
      {
        leadId: 'd-fresh',
        occurredAt: '2026-03-20T07:00:00.000Z',
        isTest: false,
        repId: 'liam',
        pipelineStage: 'proposal',
        tasks: [{ id: 't1', title: 'Send the proposal', dueAt: '2026-03-11T09:00:00.000Z' }],
      },
    ]);
    const demo = h.ofType('Stale Deal Found').find((e) => e.detail.leadId === 'd-demo');
    expect(demo?.detail.overdueTasks).toEqual([
      { id: 't3', title: 'Send the demo recap and next steps', dueAt: '2026-03-02T09:00:00.000Z' },
    ]);
    // Still one message per deal per day.
    const again = await handler()(scheduled('2026-03-20T08:00:00Z'));
    expect(again).toMatchObject({ announced: 0, alreadyAnnounced: 3 });
  });
});
