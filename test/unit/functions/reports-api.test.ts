import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
});

import { createHandler } from '../../../functions/reports-api/handler';
import type { Lead } from '../../../shared/domain/lead';
import { activity, apiEvent, body, claimsFor, config, LeadsHarness, makeLead, throttling } from './leads-kit';

const NOW = new Date('2026-03-10T12:00:00.000Z');

const liam = claimsFor('liam', ['rep']);
const ana = claimsFor('ana', ['manager']);
const admin = claimsFor(undefined, ['admin']);

let h: LeadsHarness;

function handler() {
  return createHandler({ store: h.repository, config, now: () => NOW, concurrency: 3 });
}

function report(
  name: string,
  claims: Record<string, unknown> | undefined,
  query: Record<string, string> = {},
) {
  return handler()(apiEvent('GET /reports/{report}', { claims, pathParameters: { report: name }, query }));
}

function lead(id: string, createdAt: string, fields: Partial<Lead>): Lead {
  return makeLead({
    id,
    createdAt,
    updatedAt: createdAt,
    profile: { ...makeLead().profile, dedupeKey: `${id}@x.example` },
    ...fields,
  });
}

beforeEach(async () => {
  h = new LeadsHarness();
  await h.seed(
    // Liam (emea): contacted after 2 and 20 minutes.
    lead('e1', '2026-03-02T09:00:00.000Z', {
      owner: 'liam',
      team: 'emea',
      status: 'contacted',
      assignedAt: '2026-03-02T09:00:00.000Z',
      firstTouchAt: '2026-03-02T09:02:00.000Z',
      source: { channel: 'paid_search', provider: 'google_ads', utm: {} },
    }),
    lead('e2', '2026-03-03T10:00:00.000Z', {
      owner: 'liam',
      team: 'emea',
      status: 'working',
      stage: 'opportunity',
      assignedAt: '2026-03-03T10:00:00.000Z',
      firstTouchAt: '2026-03-03T10:20:00.000Z',
      pipelineStage: 'proposal',
      amount: 4000,
    }),
    // Jordan (na): contacted after 1 minute.
    lead('n1', '2026-03-03T15:00:00.000Z', {
      owner: 'jordan',
      team: 'na',
      status: 'working',
      stage: 'opportunity',
      assignedAt: '2026-03-03T15:00:00.000Z',
      firstTouchAt: '2026-03-03T15:01:00.000Z',
      pipelineStage: 'demo',
      amount: 2000,
    }),
    // Outside the range, and a test lead: never counted.
    lead('old', '2026-02-01T09:00:00.000Z', {
      owner: 'liam',
      team: 'emea',
      firstTouchAt: '2026-02-01T09:00:30.000Z',
    }),
    lead('test', '2026-03-02T11:00:00.000Z', {
      owner: 'liam',
      team: 'emea',
      isTest: true,
      firstTouchAt: '2026-03-02T11:00:01.000Z',
    }),
  );
});

afterEach(() => h.restore());

describe('GET /reports/{report}', () => {
  it('gives admins the speed to lead of every team over the range, reading leads per day', async () => {
    const result = await report('speed-to-lead', admin, { from: '2026-03-01', to: '2026-03-05' });
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['cache-control']).toBe('no-store');
    const data = body<Record<string, any>>(result);
    expect(data).toMatchObject({
      report: 'speed-to-lead',
      from: '2026-03-01',
      to: '2026-03-05',
      scope: { kind: 'all' },
      leads: 3,
    });
    expect(data.data).toMatchObject({
      contacted: 3,
      medianSeconds: 120,
      p90Seconds: 1200,
      within5MinutesShare: 0.6667,
    });
    const days = h.queries
      .filter((q) => q.IndexName === 'byDay')
      .map((q) => (q.ExpressionAttributeValues as Record<string, string>)[':pk']);
    expect(days.sort()).toEqual([
      'DAY#2026-03-01',
      'DAY#2026-03-02',
      'DAY#2026-03-03',
      'DAY#2026-03-04',
      'DAY#2026-03-05',
    ]);
  });

  it('scopes managers to their teams and reps to their own numbers', async () => {
    const manager = body<Record<string, any>>(
      await report('pipeline', ana, { from: '2026-03-01', to: '2026-03-05' }),
    );
    expect(manager.scope).toEqual({ kind: 'teams', teamIds: ['emea'] });
    expect(manager.data.open).toEqual({ deals: 1, amount: 4000, weightedAmount: 2000 });
    const rep = body<Record<string, any>>(
      await report('sources', liam, { from: '2026-03-01', to: '2026-03-05' }),
    );
    expect(rep.scope).toEqual({ kind: 'owner', repId: 'liam' });
    expect(rep.data.total).toBe(2);
    const forbidden = await report('sources', liam, { team: 'emea' });
    expect(forbidden.statusCode).toBe(403);
    const otherTeam = await report('sources', ana, { team: 'na' });
    expect(otherTeam.statusCode).toBe(403);
  });

  it("reads only the caller's scope before computing: a rep's year-long report never reads the day index", async () => {
    const rep = await report('sources', liam, { from: '2025-03-11', to: '2026-03-10' });
    expect(rep.statusCode).toBe(200);
    expect(body<Record<string, any>>(rep).data.total).toBe(3);
    expect(h.queries.map((q) => q.IndexName)).toEqual(['byOwner']);
    expect(h.queries[0]?.ExpressionAttributeValues).toMatchObject({ ':ipk': 'OWNER#liam' });

    h.queries.length = 0;
    const manager = await report('sources', ana, { from: '2025-03-11', to: '2026-03-10' });
    expect(body<Record<string, any>>(manager).data.total).toBe(3);
    expect(h.queries.map((q) => q.IndexName)).toEqual(['byTeam']);
    expect(h.queries[0]?.ExpressionAttributeValues).toMatchObject({ ':ipk': 'TEAM#emea' });
  });

  it('computes email stats from activities and send records for the nurture report', async () => {
    await h.repository.claimSend('e1', 'education', 'step-1', '2026-03-04T09:00:00.000Z');
    h.table.putActivities([
      activity('e1', 'email_delivered', '2026-03-04T09:00:05.000Z', {
        messageId: 'm1',
        sequence: 'education',
      }),
      activity('e1', 'email_opened', '2026-03-04T10:00:00.000Z', { messageId: 'm1', sequence: 'education' }),
    ]);
    const result = body<Record<string, any>>(
      await report('nurture', admin, { from: '2026-03-01', to: '2026-03-05' }),
    );
    expect(result.data).toMatchObject({
      sent: 1,
      delivered: 1,
      opened: 1,
      clicked: 0,
      openRate: 1,
      emailedLeads: 1,
    });
  });

  it('defaults to the last 30 days and answers 400 naming the parameter', async () => {
    const defaults = body<Record<string, any>>(await report('funnel', admin));
    expect([defaults.from, defaults.to]).toEqual(['2026-02-09', '2026-03-10']);
    const unknown = await report('churn', admin);
    expect(unknown.statusCode).toBe(400);
    expect(body<{ fields: Array<{ field: string }> }>(unknown).fields[0]?.field).toBe('report');
    const tooLong = await report('summary', admin, { from: '2024-01-01', to: '2026-03-01' });
    expect(body<{ fields: Array<{ field: string }> }>(tooLong).fields[0]?.field).toBe('from');
    const badDate = await report('summary', admin, { from: '01/03/2026' });
    expect(body<{ fields: Array<{ field: string }> }>(badDate).fields[0]?.field).toBe('from');
    const extra = await report('summary', admin, { format: 'csv' });
    expect(body<{ fields: Array<{ field: string }> }>(extra).fields[0]?.field).toBe('format');
  });

  it('answers 401 without claims and 503 when DynamoDB throttles', async () => {
    expect((await report('sources', undefined)).statusCode).toBe(401);
    h.failNextQuery(throttling());
    const throttled = await report('sources', admin, { from: '2026-03-01', to: '2026-03-02' });
    expect(throttled.statusCode).toBe(503);
    expect(throttled.headers?.['retry-after']).toBe('2');
  });

  it('returns every report in the summary', async () => {
    const summary = body<Record<string, any>>(
      await report('summary', admin, { from: '2026-03-01', to: '2026-03-05' }),
    );
    expect(Object.keys(summary.data)).toEqual([
      'sources',
      'funnel',
      'speedToLead',
      'sla',
      'pipeline',
      'nurture',
      'bookings',
    ]);
    expect(summary.data.pipeline.open).toEqual({ deals: 2, amount: 6000, weightedAmount: 2500 });
  });
});
