import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
});

import { createHandler } from '../../../functions/follow-up/handler';
import { SchedulerSlaClock } from '../../../shared/adapters/sla-ladder';
import { InvalidInputError } from '../../../shared/domain/errors';
import { followUpTaskId, stageActionTaskId } from '../../../shared/domain/follow-up';
import type { Lead } from '../../../shared/domain/lead';
import { callerFromClaims } from '../../../shared/http/auth';
import { listLeads } from '../../../shared/services/lead-queries';
import { claimsFor, config, LeadsHarness, makeLead, SLA_SCHEDULE_GROUP } from './leads-kit';

// Monday 24 November 2025, 14:50 UTC: Liam (Dublin, 09:00-17:30) is on shift; the SLA is 5 minutes.
const ASSIGNED_AT = '2025-11-24T14:50:00.000Z';
const REASSIGNED_AT = '2025-11-24T15:10:00.000Z';

const envelope = (detailType: string, detail: Record<string, unknown>) => ({
  version: '0',
  id: `evt-${detailType}-${String(detail.occurredAt)}`,
  'detail-type': detailType,
  source: 'lead-pipeline',
  account: '123456789012',
  time: String(detail.occurredAt),
  region: 'eu-west-1',
  resources: [],
  detail,
});

const assigned = (repId: string, at: string, extra: Record<string, unknown> = {}) =>
  envelope('Lead Assigned', {
    leadId: 'lead-1',
    occurredAt: at,
    isTest: false,
    repId,
    teamId: 'emea',
    ruleId: 'sales-ready',
    via: 'round-robin',
    priority: 'high',
    assignedAt: at,
    ladderStep: 0,
    ...extra,
  });
const contacted = (repId: string, at: string) =>
  envelope('Lead Contacted', {
    leadId: 'lead-1',
    occurredAt: at,
    isTest: false,
    repId,
    secondsToFirstTouch: 60,
  });
const stageChanged = (to: string, at: string, from?: string) =>
  envelope('Lead Stage Changed', {
    leadId: 'lead-1',
    occurredAt: at,
    isTest: false,
    to,
    by: 'liam',
    ...(from ? { from } : {}),
  });

let h: LeadsHarness;
const handler = () => createHandler({ store: h.repository, config });
const tasks = () => h.repository.listTasks('lead-1');

async function seed(overrides: Partial<Lead>): Promise<void> {
  await h.seed(makeLead({ id: 'lead-1', status: 'assigned', owner: 'liam', team: 'emea', ...overrides }));
}

/** Moves the stored lead on (owner, contact, stage) as the services that own those writes would. */
async function update(change: Partial<Lead>): Promise<void> {
  const lead = await h.repository.requireLead('lead-1');
  await h.repository.saveLead(lead, { ...lead, ...change });
}

beforeEach(() => {
  h = new LeadsHarness();
});
afterEach(() => h.restore());

describe('follow-up on assignment', () => {
  it('creates one task for the owner, due at the SLA deadline, "immediate" for a high-priority lead', async () => {
    await seed({ assignedAt: ASSIGNED_AT });
    const result = await handler()(assigned('liam', ASSIGNED_AT));
    expect(result.created).toEqual([followUpTaskId('lead-1', ASSIGNED_AT)]);
    expect(await tasks()).toEqual([
      expect.objectContaining({
        id: followUpTaskId('lead-1', ASSIGNED_AT),
        title: 'Immediate follow-up: make first contact',
        dueAt: '2025-11-24T14:55:00.000Z',
        done: false,
        origin: 'follow-up',
        assignee: 'liam',
        by: 'system',
      }),
    ]);
  });

  it('creates exactly one task when the event is delivered twice, even concurrently', async () => {
    await seed({ assignedAt: ASSIGNED_AT });
    const event = assigned('liam', ASSIGNED_AT, { priority: 'normal' });
    const results = await Promise.all([handler()(event), handler()(event), handler()(event)]);
    expect(results.flatMap((r) => r.created)).toHaveLength(1);
    const again = await handler()(event);
    expect(again.created).toEqual([]);
    const stored = await tasks();
    expect(stored).toHaveLength(1);
    expect(stored[0]?.title).toBe('Follow up: make first contact');
  });

  it('moves the follow-up on reassignment: the old one closes as reassigned, the new rep gets theirs', async () => {
    await seed({ assignedAt: ASSIGNED_AT });
    await handler()(assigned('liam', ASSIGNED_AT));
    await update({ owner: 'noah', assignedAt: REASSIGNED_AT });
    const result = await handler()(
      assigned('noah', REASSIGNED_AT, { via: 'manual', previousOwner: 'liam', ruleId: 'manual' }),
    );
    expect(result.closed).toEqual([followUpTaskId('lead-1', ASSIGNED_AT)]);
    const byId = new Map((await tasks()).map((t) => [t.id, t]));
    expect(byId.get(followUpTaskId('lead-1', ASSIGNED_AT))).toMatchObject({
      done: true,
      closedBecause: 'reassigned',
      assignee: 'liam',
    });
    expect(byId.get(followUpTaskId('lead-1', REASSIGNED_AT))).toMatchObject({
      done: false,
      assignee: 'noah',
    });
  });

  it('ignores an assignment a later one superseded (out of order): no task for the old owner', async () => {
    await seed({ owner: 'noah', assignedAt: REASSIGNED_AT });
    await handler()(assigned('noah', REASSIGNED_AT, { via: 'manual', previousOwner: 'liam' }));
    const late = await handler()(assigned('liam', ASSIGNED_AT));
    expect(late).toMatchObject({ created: [], skipped: 'a later assignment superseded this one' });
    expect((await tasks()).map((t) => t.assignee)).toEqual(['noah']);
  });
});

describe('contact', () => {
  it('completes the open follow-up, crediting the rep; a redelivery changes nothing', async () => {
    await seed({ assignedAt: ASSIGNED_AT });
    await handler()(assigned('liam', ASSIGNED_AT));
    await update({ firstTouchAt: '2025-11-24T14:52:00.000Z', status: 'contacted' });
    const first = await handler()(contacted('liam', '2025-11-24T14:52:00.000Z'));
    expect(first.closed).toHaveLength(1);
    expect((await tasks())[0]).toMatchObject({
      done: true,
      doneBy: 'liam',
      doneAt: '2025-11-24T14:52:00.000Z',
      closedBecause: 'contacted',
    });
    const again = await handler()(contacted('liam', '2025-11-24T14:52:00.000Z'));
    expect(again.closed).toEqual([]);
  });

  it('creates no follow-up when the contact overtook the assignment', async () => {
    await seed({ assignedAt: ASSIGNED_AT, firstTouchAt: '2025-11-24T14:51:00.000Z', status: 'contacted' });
    await handler()(contacted('liam', '2025-11-24T14:51:00.000Z'));
    const late = await handler()(assigned('liam', ASSIGNED_AT));
    expect(late.created).toEqual([]);
    expect(await tasks()).toEqual([]);
  });
});

describe('follow-up races', () => {
  it('creates nothing when the contact is recorded between the read and the write (one read, one write each)', async () => {
    await seed({ assignedAt: ASSIGNED_AT });
    h.table.calls.length = 0;
    h.queries.length = 0;
    // The rep records contact after the handler read the lead, before its transaction.
    h.table.beforeNext('TransactWriteCommand', () =>
      h.table.putLead({
        ...h.table.lead('lead-1'),
        firstTouchAt: '2025-11-24T14:51:00.000Z',
        status: 'contacted',
      }),
    );
    const result = await handler()(assigned('liam', ASSIGNED_AT));
    // Read, refused write, read again: the plan now says the lead was already contacted.
    expect(h.table.calls).toEqual(['TransactWriteCommand']);
    expect(h.queries).toHaveLength(2);
    expect(result).toMatchObject({ created: [], skipped: 'the lead was already contacted' });
    expect(await tasks()).toEqual([]);
  });
});

describe('required actions of a stage', () => {
  const ENTERED = '2025-12-01T10:00:00.000Z';

  it('creates each configured action once, due dueInHours after the entry, for the owner', async () => {
    await seed({
      status: 'working',
      firstTouchAt: ASSIGNED_AT,
      pipelineStage: 'proposal',
      pipelineStageAt: ENTERED,
    });
    const event = stageChanged('proposal', ENTERED, 'demo');
    const [a, b] = await Promise.all([handler()(event), handler()(event)]);
    expect([...a.created, ...b.created].sort()).toEqual(
      [stageActionTaskId('lead-1', ENTERED, 0), stageActionTaskId('lead-1', ENTERED, 1)].sort(),
    );
    const stored = await tasks();
    expect(stored.map((t) => [t.title, t.dueAt, t.assignee, t.pipelineStage])).toEqual([
      ['Send the proposal', '2025-12-02T10:00:00.000Z', 'liam', 'proposal'],
      ['Book the proposal review call', '2025-12-04T10:00:00.000Z', 'liam', 'proposal'],
    ]);
  });

  it('creates nothing for a stage without required actions, or when the deal moved on since', async () => {
    await seed({
      status: 'working',
      firstTouchAt: ASSIGNED_AT,
      pipelineStage: 'decision',
      pipelineStageAt: ENTERED,
    });
    expect((await handler()(stageChanged('decision', ENTERED))).created).toEqual([]);
    const stale = await handler()(stageChanged('proposal', '2025-11-30T10:00:00.000Z'));
    expect(stale).toMatchObject({ created: [], skipped: 'the deal has changed stage since' });
    expect(await tasks()).toEqual([]);
  });

  it('closes open required actions when the deal is won or lost', async () => {
    await seed({
      status: 'working',
      firstTouchAt: ASSIGNED_AT,
      pipelineStage: 'demo',
      pipelineStageAt: ENTERED,
    });
    await handler()(stageChanged('demo', ENTERED));
    const wonAt = '2025-12-03T10:00:00.000Z';
    await update({ pipelineStage: 'won', pipelineStageAt: wonAt, status: 'converted' });
    const result = await handler()(stageChanged('won', wonAt, 'demo'));
    expect(result.closed).toEqual([stageActionTaskId('lead-1', ENTERED, 0)]);
    expect((await tasks())[0]).toMatchObject({ done: true, closedBecause: 'deal-closed' });
  });
});

describe('input', () => {
  it('rejects an event whose detail is malformed, naming the field', async () => {
    await expect(handler()(envelope('Lead Assigned', { leadId: 'lead-1' }))).rejects.toSatisfy(
      (e) => e instanceof InvalidInputError && JSON.stringify(e.problems).includes('detail.repId'),
    );
  });

  it('does nothing for a lead that was erased', async () => {
    const result = await handler()(assigned('liam', ASSIGNED_AT));
    expect(result.skipped).toMatch(/no longer exists/);
  });
});

describe('the lists reps and managers work from (GET /leads)', () => {
  it("carries each lead's open and overdue tasks and flags stale deals, for the queue and the board", async () => {
    await seed({ assignedAt: ASSIGNED_AT });
    await h.seed(
      makeLead({
        id: 'deal-2',
        status: 'working',
        stage: 'opportunity',
        owner: 'liam',
        team: 'emea',
        firstTouchAt: ASSIGNED_AT,
        pipelineStage: 'demo',
        pipelineStageAt: '2025-11-01T10:00:00.000Z',
        profile: { dedupeKey: 'deal-2@x.example', email: 'deal-2@x.example' },
      }),
    );
    await handler()(assigned('liam', ASSIGNED_AT));
    const now = new Date('2025-11-24T15:00:00.000Z'); // the follow-up was due at 14:55
    const { items } = await listLeads(
      callerFromClaims(claimsFor('liam', ['rep']), config),
      {},
      {
        store: h.repository,
        publisher: h.publisher,
        sla: new SchedulerSlaClock(SLA_SCHEDULE_GROUP, config.sla.ladder.length, h.schedulerClient),
        config,
        now: () => now,
      },
    );
    const byId = new Map(items.map((l) => [l.id, l]));
    expect(byId.get('lead-1')).toMatchObject({
      openTasks: 1,
      overdueTasks: 1,
      nextTaskDueAt: '2025-11-24T14:55:00.000Z',
    });
    expect(byId.get('lead-1')?.stale).toBeUndefined();
    // 23 days in Demo, past the example's 14.
    expect(byId.get('deal-2')).toMatchObject({ stale: true });
    expect(byId.get('deal-2')?.overdueTasks).toBeUndefined();
  });
});
