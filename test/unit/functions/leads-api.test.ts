import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
});

import { createHandler, expectedVersion, SchedulerSlaClock } from '../../../functions/leads-api/handler';
import { DynamoErasureStore } from '../../../shared/adapters/erasure-store';
import type { LeadRepository } from '../../../shared/adapters/lead-repository';
import { DynamoOutbox } from '../../../shared/adapters/outbox-store';
import { keys } from '../../../shared/contracts/table-design';
import { DependencyUnavailableError } from '../../../shared/domain/errors';
import type { Lead } from '../../../shared/domain/lead';
import { slaExecutionName } from '../../../shared/domain/sla';
import { emailHash } from '../../../shared/domain/tokens';
import { relayOutbox } from '../../../shared/services/announce';
import { runErasure } from '../../../shared/services/erasure';
import {
  activity,
  apiEvent,
  body,
  claimsFor,
  config,
  LeadsHarness,
  makeLead,
  SLA_SCHEDULE_GROUP,
  slaExecution,
  TABLE,
  throttling,
  transactionCanceled,
} from './leads-kit';

const NOW = new Date('2026-03-02T08:03:30.000Z');

const liam = claimsFor('liam', ['rep']);
const jordan = claimsFor('jordan', ['rep']);
const ana = claimsFor('ana', ['manager']);
const admin = claimsFor(undefined, ['admin']);

let h: LeadsHarness;
let ids: number;

function handler() {
  return createHandler({
    store: h.repository,
    publisher: h.publisher,
    sla: new SchedulerSlaClock(SLA_SCHEDULE_GROUP, config.sla.ladder.length, h.schedulerClient),
    config,
    erasures: new DynamoErasureStore(TABLE, h.docClient),
    now: () => NOW,
    newId: () => `id-${++ids}`,
  });
}

/** The erase function's job, on the same table. */
function eraseJob(erasureId: string, store: LeadRepository = h.repository) {
  return runErasure(erasureId, {
    erasures: new DynamoErasureStore(TABLE, h.docClient),
    store,
    now: () => NOW,
  });
}

/** A lead of liam's (team emea), assigned and waiting for its first touch; created 08:00. */
function liamsLead(overrides: Partial<Lead> = {}): Lead {
  return makeLead({
    status: 'assigned',
    stage: 'MQL',
    owner: 'liam',
    team: 'emea',
    assignedAt: '2026-03-02T08:00:05.000Z',
    ...overrides,
  });
}

function bumpVersion(leadId = 'lead-1'): void {
  const item = h.table.get(keys.lead(leadId));
  if (!item) throw new Error('no lead');
  h.table.put({ ...item, version: Number(item.version) + 1, updatedAt: '2026-03-02T08:03:00.000Z' });
}

beforeEach(() => {
  h = new LeadsHarness();
  ids = 0;
});

afterEach(() => h.restore());

describe('identity', () => {
  it('answers 401 without verified claims and 403 outside the groups', async () => {
    const none = await handler()(apiEvent('GET /leads'));
    expect(none.statusCode).toBe(401);
    const guest = await handler()(apiEvent('GET /leads', { claims: claimsFor('liam', ['guests']) }));
    expect(guest.statusCode).toBe(403);
    expect(body(guest).message).toMatch(/none of the groups rep, manager, admin/);
  });

  it('answers 404 for an unknown route', async () => {
    const result = await handler()(apiEvent('GET /nowhere', { claims: liam }));
    expect(result.statusCode).toBe(404);
  });
});

describe('GET /me', () => {
  it("names the caller and the client's pipeline, without the reps' emails", async () => {
    const answer = await handler()(apiEvent('GET /me', { claims: ana }));
    expect(answer.statusCode).toBe(200);
    const me = body<{
      me: { repId: string; roles: string[]; managedTeams: string[] };
      pipeline: { stages: Array<{ id: string }> };
      reps: Array<Record<string, unknown>>;
    }>(answer);
    expect(me.me).toMatchObject({ repId: 'ana', roles: ['manager'], managedTeams: ['emea'] });
    expect(me.pipeline.stages.map((s) => s.id)).toEqual(config.pipeline.stages.map((s) => s.id));
    expect(me.reps.map((r) => r.id)).toEqual(config.reps.map((r) => r.id));
    expect(JSON.stringify(me.reps)).not.toContain('@');
    expect((await handler()(apiEvent('GET /me'))).statusCode).toBe(401);
  });
});

describe('GET /leads', () => {
  beforeEach(async () => {
    await h.seed(
      liamsLead({
        id: 'l1',
        createdAt: '2026-03-01T10:00:00.000Z',
        profile: { ...makeLead().profile, dedupeKey: 'l1@x.example' },
      }),
      liamsLead({
        id: 'l2',
        createdAt: '2026-03-02T07:00:00.000Z',
        status: 'working',
        firstTouchAt: '2026-03-02T07:01:00.000Z',
        source: { channel: 'paid_search', provider: 'google_ads', utm: {} },
        score: {
          total: 55,
          fit: 30,
          engagement: 25,
          stage: 'MQL',
          reasons: [],
          asOf: '2026-03-02T07:00:00.000Z',
        },
        profile: { ...makeLead().profile, dedupeKey: 'l2@x.example' },
      }),
      liamsLead({
        id: 'l3',
        createdAt: '2026-03-02T07:30:00.000Z',
        profile: { ...makeLead().profile, dedupeKey: 'l3@x.example' },
      }),
      makeLead({
        id: 'j1',
        owner: 'jordan',
        team: 'na',
        status: 'assigned',
        profile: { ...makeLead().profile, dedupeKey: 'j1@x.example' },
      }),
      makeLead({
        id: 'u1',
        team: 'emea',
        status: 'held',
        profile: { ...makeLead().profile, dedupeKey: 'u1@x.example' },
      }),
    );
  });

  it("a rep who changed their email to a colleague's still gets only their own leads", async () => {
    const ids = (r: { body?: string }) => body<{ items: Array<{ id: string }> }>(r).items.map((i) => i.id);
    const liamsEmail = config.reps.find((r) => r.id === 'liam')?.email;
    const disguised = await handler()(apiEvent('GET /leads', { claims: { ...jordan, email: liamsEmail } }));
    expect(disguised.statusCode).toBe(200);
    expect(ids(disguised)).toEqual(['j1']);
    const read = await handler()(
      apiEvent('GET /leads/{id}', { claims: { ...jordan, email: liamsEmail }, pathParameters: { id: 'l1' } }),
    );
    // Another rep's lead is not there for this caller (404, as for any lead out of reach).
    expect(read.statusCode).toBe(404);
    // Without the admin-written rep id the colleague's email names nobody.
    const emailOnly: Record<string, unknown> = { ...jordan, email: liamsEmail };
    delete emailOnly['custom:repId'];
    const refused = await handler()(apiEvent('GET /leads', { claims: emailOnly }));
    expect(refused.statusCode).toBe(403);
  });

  it('does not show a lead to its old owner or team while the index still lists it there', async () => {
    // l3 was just reassigned to Jordan (team na); its byOwner and byTeam entries still say liam, emea.
    const stale = h.table.get(keys.lead('l3'));
    if (!stale) throw new Error('no lead l3');
    h.table.put({ ...stale, owner: 'jordan', team: 'na' });
    const ids = (r: { body?: string }) => body<{ items: Array<{ id: string }> }>(r).items.map((i) => i.id);
    expect(ids(await handler()(apiEvent('GET /leads', { claims: liam })))).toEqual(['l2', 'l1']);
    const team = await handler()(apiEvent('GET /leads', { claims: ana, query: { team: 'emea' } }));
    expect(ids(team)).not.toContain('l3');
    expect(ids(team).length).toBeGreaterThan(0);
  });

  it("gives leads waiting for first contact their SLA deadline, in the owner's working minutes", async () => {
    const mine = await handler()(apiEvent('GET /leads', { claims: liam }));
    const items = body<{ items: Array<{ id: string; slaDueAt?: string; assignedAt?: string }> }>(mine).items;
    const due = Object.fromEntries(items.map((i) => [i.id, i.slaDueAt]));
    // Assigned 08:00 UTC on a Monday; Liam (Dublin) starts at 09:00, and the SLA is 5 working minutes.
    expect(due.l1).toBe('2026-03-02T09:05:00.000Z');
    expect(due.l3).toBe('2026-03-02T09:05:00.000Z');
    // Contacted: the clock has stopped.
    expect(due.l2).toBeUndefined();
    expect(items.find((i) => i.id === 'l1')?.assignedAt).toBe('2026-03-02T08:00:05.000Z');
  });

  it("lists the rep's own leads by default, with filters", async () => {
    const mine = await handler()(apiEvent('GET /leads', { claims: liam }));
    expect(mine.statusCode).toBe(200);
    expect(mine.headers?.['cache-control']).toBe('no-store');
    const ids = (r: typeof mine) => body<{ items: Array<{ id: string }> }>(r).items.map((i) => i.id);
    // byOwner sorts by status, then creation time, newest first.
    expect(ids(mine)).toEqual(['l2', 'l3', 'l1']);
    const assigned = await handler()(apiEvent('GET /leads', { claims: liam, query: { status: 'assigned' } }));
    expect(ids(assigned)).toEqual(['l3', 'l1']);
    const bySource = await handler()(
      apiEvent('GET /leads', { claims: liam, query: { source: 'google_ads' } }),
    );
    expect(ids(bySource)).toEqual(['l2']);
    const byChannel = await handler()(
      apiEvent('GET /leads', { claims: liam, query: { source: 'paid_search', minScore: '50' } }),
    );
    expect(ids(byChannel)).toEqual(['l2']);
    const byDate = await handler()(
      apiEvent('GET /leads', { claims: liam, query: { from: '2026-03-02', to: '2026-03-02' } }),
    );
    expect(ids(byDate)).toEqual(['l2', 'l3']);
  });

  it('pages with an opaque token bound to the list', async () => {
    const first = await handler()(apiEvent('GET /leads', { claims: liam, query: { limit: '2' } }));
    const page1 = body<{ items: Array<{ id: string }>; nextToken: string }>(first);
    expect(page1.items.map((i) => i.id)).toEqual(['l2', 'l3']);
    expect(page1.nextToken).toEqual(expect.any(String));
    const second = await handler()(
      apiEvent('GET /leads', { claims: liam, query: { limit: '2', nextToken: page1.nextToken } }),
    );
    expect(body<{ items: Array<{ id: string }> }>(second).items.map((i) => i.id)).toEqual(['l1']);
    expect(body(second).nextToken).toBeUndefined();
    const stolen = await handler()(
      apiEvent('GET /leads', { claims: ana, query: { team: 'emea', nextToken: page1.nextToken } }),
    );
    expect(stolen.statusCode).toBe(400);
    expect(body(stolen).fields).toEqual([
      { field: 'nextToken', reason: expect.stringMatching(/another list/) },
    ]);
  });

  it("lists a manager's team, and only the unassigned leads of a rep's own team", async () => {
    const team = await handler()(apiEvent('GET /leads', { claims: ana, query: { team: 'emea' } }));
    expect(
      body<{ items: Array<{ id: string }> }>(team)
        .items.map((i) => i.id)
        .sort(),
    ).toEqual(['l1', 'l2', 'l3', 'u1']);
    const pool = await handler()(apiEvent('GET /leads', { claims: liam, query: { team: 'emea' } }));
    expect(body<{ items: Array<{ id: string }> }>(pool).items.map((i) => i.id)).toEqual(['u1']);
  });

  it("refuses another rep's or team's leads with 403", async () => {
    expect(
      (await handler()(apiEvent('GET /leads', { claims: liam, query: { owner: 'jordan' } }))).statusCode,
    ).toBe(403);
    expect((await handler()(apiEvent('GET /leads', { claims: ana, query: { team: 'na' } }))).statusCode).toBe(
      403,
    );
  });

  it('answers 400 naming every bad parameter', async () => {
    const bad = await handler()(
      apiEvent('GET /leads', { claims: liam, query: { limit: '500', status: 'hot', colour: 'red' } }),
    );
    expect(bad.statusCode).toBe(400);
    expect(
      body<{ fields: Array<{ field: string }> }>(bad)
        .fields.map((f) => f.field)
        .sort(),
    ).toEqual(['colour', 'limit', 'status']);
    const range = await handler()(
      apiEvent('GET /leads', { claims: liam, query: { minScore: '80', maxScore: '20' } }),
    );
    expect(body(range).fields).toEqual([{ field: 'maxScore', reason: 'must not be below minScore' }]);
    const stage = await handler()(
      apiEvent('GET /leads', { claims: liam, query: { pipelineStage: 'negotiation' } }),
    );
    expect(body<{ fields: Array<{ field: string }> }>(stage).fields[0]?.field).toBe('pipelineStage');
    const token = await handler()(apiEvent('GET /leads', { claims: liam, query: { nextToken: 'garbage' } }));
    expect(body<{ fields: Array<{ field: string }> }>(token).fields[0]?.field).toBe('nextToken');
  });

  it('answers 503 with Retry-After when DynamoDB throttles', async () => {
    h.failNextQuery(throttling());
    const result = await handler()(apiEvent('GET /leads', { claims: liam }));
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['retry-after']).toBe('2');
  });
});

describe('GET /leads/{id}', () => {
  it('returns the lead with its timeline, score explanation and history, and its version as ETag', async () => {
    await h.seed(
      liamsLead({
        score: {
          total: 48,
          fit: 30,
          engagement: 18,
          stage: 'MQL',
          asOf: '2026-03-02T08:01:00.000Z',
          reasons: [
            { ruleId: 'target-industry', label: 'Target industry', kind: 'fit', points: 10 },
            { ruleId: 'pricing', label: 'Pricing page', kind: 'engagement', points: 18 },
            { ruleId: 'executive', label: 'Executive', kind: 'fit', points: 20 },
          ],
        },
      }),
    );
    h.table.putActivities([
      activity('lead-1', 'page_view', '2026-03-02T08:00:30.000Z', { path: '/pricing' }),
    ]);
    await h.repository.appendScoreHistory('lead-1', '2026-03-02T08:01:00.000Z', {
      total: 48,
      fit: 30,
      engagement: 18,
      stage: 'MQL',
    });
    await h.repository.putNote({
      id: 'n1',
      leadId: 'lead-1',
      at: '2026-03-02T08:02:00.000Z',
      by: 'liam',
      text: 'Left a voicemail',
    });
    await h.repository.putTask({
      id: 't1',
      leadId: 'lead-1',
      createdAt: '2026-03-02T08:02:30.000Z',
      by: 'liam',
      title: 'Call back',
      dueAt: '2026-03-03T09:00:00.000Z',
      done: false,
    });

    const result = await handler()(
      apiEvent('GET /leads/{id}', { claims: liam, pathParameters: { id: 'lead-1' } }),
    );
    expect(result.statusCode).toBe(200);
    expect(result.headers?.etag).toBe('"0"');
    const detail = body<Record<string, any>>(result);
    expect(detail.access).toBe('work');
    expect(detail.timeline.map((e: { kind: string; at: string }) => [e.kind, e.at])).toEqual([
      ['task', '2026-03-02T08:02:30.000Z'],
      ['note', '2026-03-02T08:02:00.000Z'],
      ['activity', '2026-03-02T08:00:30.000Z'],
    ]);
    expect(detail.score.reasons.map((r: { ruleId: string }) => r.ruleId)).toEqual([
      'executive',
      'pricing',
      'target-industry',
    ]);
    expect(detail.scoreHistory).toEqual([
      { at: '2026-03-02T08:01:00.000Z', total: 48, fit: 30, engagement: 18, stage: 'MQL' },
    ]);
    expect(detail.openTasks).toBe(1);
  });

  it("hides another rep's lead (404) and answers 404 for a missing one", async () => {
    await h.seed(liamsLead());
    const other = await handler()(
      apiEvent('GET /leads/{id}', { claims: jordan, pathParameters: { id: 'lead-1' } }),
    );
    expect(other.statusCode).toBe(404);
    const missing = await handler()(
      apiEvent('GET /leads/{id}', { claims: liam, pathParameters: { id: 'nope' } }),
    );
    expect(missing.statusCode).toBe(404);
  });
});

describe('POST /leads/{id}/contacted', () => {
  const contacted = (claims = liam) =>
    handler()(apiEvent('POST /leads/{id}/contacted', { claims, pathParameters: { id: 'lead-1' } }));

  it('records the first touch, publishes Lead Contacted with the speed to lead, and is idempotent', async () => {
    await h.seed(liamsLead());
    h.table.setOpenLeads('liam', 1);
    const first = await contacted();
    expect(first.statusCode).toBe(200);
    expect(body(first)).toMatchObject({
      firstTouchAt: NOW.toISOString(),
      secondsToFirstTouch: 210,
      alreadyContacted: false,
    });
    expect(h.table.lead('lead-1')).toMatchObject({
      status: 'contacted',
      firstTouchAt: NOW.toISOString(),
      version: 1,
    });
    expect(h.table.activities('lead-1')).toEqual([
      expect.objectContaining({
        id: 'lead-1-contacted',
        type: 'contacted',
        data: { repId: 'liam', by: 'liam', secondsToFirstTouch: 210 },
      }),
    ]);
    // Published at once, so its outbox entry is cleared.
    expect(h.table.byPk('OUTBOX')).toEqual([]);
    expect(h.table.openLeads('liam')).toBe(1);

    const second = await contacted();
    expect(second.statusCode).toBe(200);
    expect(body(second)).toMatchObject({
      firstTouchAt: NOW.toISOString(),
      secondsToFirstTouch: 210,
      alreadyContacted: true,
    });
    expect(h.published).toEqual([
      {
        detailType: 'Lead Contacted',
        detail: {
          leadId: 'lead-1',
          occurredAt: NOW.toISOString(),
          isTest: false,
          repId: 'liam',
          secondsToFirstTouch: 210,
        },
      },
    ]);
    expect(h.table.lead('lead-1').version).toBe(1);
  });

  it('stops the SLA execution recorded on the lead, and shrugs off a failed stop', async () => {
    const execution = slaExecution('lead-1-assigned');
    await h.seed(
      liamsLead({
        slaProgress: {
          execution,
          ladderStep: 1,
          action: 'escalate',
          to: 'liam',
          at: '2026-03-02T08:00:05.000Z',
          announced: true,
        },
      }),
    );
    expect((await contacted()).statusCode).toBe(200);
    expect(h.stopped).toEqual([{ executionArn: execution }]);

    await h.seed(
      liamsLead({
        id: 'lead-2',
        profile: { ...makeLead().profile, dedupeKey: 'other@x.example' },
        slaProgress: {
          execution,
          ladderStep: 1,
          action: 'escalate',
          to: 'liam',
          at: '2026-03-02T08:00:05.000Z',
          announced: true,
        },
      }),
    );
    h.failNextStop(throttling());
    const result = await handler()(
      apiEvent('POST /leads/{id}/contacted', { claims: liam, pathParameters: { id: 'lead-2' } }),
    );
    expect(result.statusCode).toBe(200);
    expect(h.ofType('Lead Contacted')).toHaveLength(2);
  });

  it('stops the ladder of the current assignment by its name before any escalation', async () => {
    await h.seed(liamsLead());
    expect((await contacted()).statusCode).toBe(200);
    // sla-start named the execution after the lead and its assignment time.
    expect(h.stopped).toEqual([
      { executionArn: slaExecution(slaExecutionName('lead-1', '2026-03-02T08:00:05.000Z')) },
    ]);
    // Every rung the ladder can have, by name, in the rungs' group.
    expect(h.deletedRungs.map((d) => d.Name).sort()).toEqual(
      Array.from({ length: config.sla.ladder.length + 1 }, (_, i) => `lead-1-1772438405000-r${i + 1}`),
    );
  });

  it('stops the ladder by name after an escalation that only notified (the owner kept the lead)', async () => {
    await h.seed(
      liamsLead({
        slaProgress: {
          execution: slaExecution('lead-1-1772438405000'),
          ladderStep: 1,
          action: 'escalate',
          to: 'maya',
          at: '2026-03-02T08:05:05.000Z',
          announced: true,
        },
      }),
    );
    expect((await contacted()).statusCode).toBe(200);
    expect(h.stopped.map((s) => s.executionArn)).toEqual([
      slaExecution(slaExecutionName('lead-1', '2026-03-02T08:00:05.000Z')),
    ]);
  });

  it('answers 200 while the bus refuses: the entry stays in the outbox, a retry announces it once', async () => {
    await h.seed(liamsLead());
    h.failNextPublish(throttling());
    const refused = await contacted();
    expect(refused.statusCode).toBe(200);
    expect(body(refused)).toMatchObject({ alreadyContacted: false, secondsToFirstTouch: 210 });
    expect(h.table.lead('lead-1').firstTouchAt).toBe(NOW.toISOString());
    expect(h.published).toEqual([]);
    expect(h.table.byPk('OUTBOX')).toEqual([
      expect.objectContaining({
        entryId: 'lead-1-contacted',
        events: [expect.objectContaining({ detailType: 'Lead Contacted' })],
      }),
    ]);

    const retried = await contacted();
    expect(retried.statusCode).toBe(200);
    expect(body(retried)).toMatchObject({ alreadyContacted: true, secondsToFirstTouch: 210 });
    expect(h.ofType('Lead Contacted')).toHaveLength(1);
    expect(h.table.byPk('OUTBOX')).toEqual([]);
    await contacted();
    expect(h.ofType('Lead Contacted')).toHaveLength(1);
  });

  it('while the bus refuses, the relay publishes the entry once and clears it', async () => {
    await h.seed(liamsLead());
    h.failNextPublish(throttling());
    expect((await contacted()).statusCode).toBe(200);
    expect(h.published).toEqual([]);
    const outbox = new DynamoOutbox(TABLE, h.docClient);
    const later = new Date(NOW.getTime() + 120_000);
    const first = await relayOutbox(later, { publisher: h.publisher, outbox });
    expect(first).toEqual({ due: 1, published: 1, failed: 0 });
    expect(h.ofType('Lead Contacted')).toHaveLength(1);
    expect(h.table.byPk('OUTBOX')).toEqual([]);
    expect(await relayOutbox(later, { publisher: h.publisher, outbox })).toEqual({
      due: 0,
      published: 0,
      failed: 0,
    });
    // A repeat of the command finds nothing left to announce.
    await contacted();
    expect(h.ofType('Lead Contacted')).toHaveLength(1);
  });

  it('announces a first touch stored before the outbox (unannounced activity) on a retry', async () => {
    await h.seed(liamsLead({ firstTouchAt: NOW.toISOString(), status: 'contacted' }));
    h.table.put({
      ...keys.activity('lead-1', NOW.toISOString(), 'lead-1-contacted'),
      entity: 'activity',
      id: 'lead-1-contacted',
      leadId: 'lead-1',
      type: 'contacted',
      at: NOW.toISOString(),
      data: { repId: 'liam', by: 'liam', secondsToFirstTouch: 210, announced: false },
    });
    expect((await contacted()).statusCode).toBe(200);
    expect(h.ofType('Lead Contacted')).toHaveLength(1);
    expect(h.table.activities('lead-1')[0]?.data).toMatchObject({ announced: true });
    await contacted();
    expect(h.ofType('Lead Contacted')).toHaveLength(1);
  });

  it('retries a concurrent write from a fresh read', async () => {
    await h.seed(liamsLead());
    h.table.beforeNext('TransactWriteCommand', () => bumpVersion());
    const result = await contacted();
    expect(result.statusCode).toBe(200);
    expect(h.table.lead('lead-1')).toMatchObject({ version: 2, status: 'contacted' });
    expect(h.ofType('Lead Contacted')).toHaveLength(1);
  });

  it("lets the team's manager mark it, hides it from other reps", async () => {
    await h.seed(liamsLead());
    expect((await contacted(jordan)).statusCode).toBe(404);
    const byManager = await contacted(ana);
    expect(byManager.statusCode).toBe(200);
    expect(h.ofType('Lead Contacted')[0]?.detail.repId).toBe('ana');
  });
});

describe('PATCH /leads/{id}', () => {
  const patch = (payload: unknown, headers: Record<string, string> = {}, claims = liam) =>
    handler()(
      apiEvent('PATCH /leads/{id}', { claims, pathParameters: { id: 'lead-1' }, body: payload, headers }),
    );

  beforeEach(async () => {
    await h.seed(liamsLead({ status: 'contacted', firstTouchAt: '2026-03-02T08:02:00.000Z' }));
  });

  it('records an opt-out the person gave the rep, at once; an opt-in cannot be set for them', async () => {
    const result = await patch({ marketingConsent: false });
    expect(result.statusCode).toBe(200);
    expect(body(result).changed).toEqual(['consent']);
    expect(h.table.get(keys.lead('lead-1'))?.consent).toEqual({
      marketing: false,
      at: NOW.toISOString(),
      via: 'api:liam',
    });
    const optIn = await patch({ marketingConsent: true });
    expect(optIn.statusCode).toBe(400);
    expect(body<{ fields: Array<{ field: string }> }>(optIn).fields[0]?.field).toBe('marketingConsent');
    expect((await patch({ marketingConsent: false })).statusCode).toBe(200);
    expect(h.table.get(keys.lead('lead-1'))?.version).toBe(1);
  });

  it('moves the lead to a pipeline stage, stores the stage time and publishes Lead Stage Changed', async () => {
    const result = await patch({ pipelineStage: 'demo', amount: 12_000 }, { 'If-Match': '"0"' });
    expect(result.statusCode).toBe(200);
    expect(result.headers?.etag).toBe('"1"');
    expect(body(result).changed).toEqual(['status', 'stage', 'pipelineStage', 'amount']);
    const stored = h.table.get(keys.lead('lead-1'));
    expect(stored).toMatchObject({
      status: 'working',
      stage: 'opportunity',
      pipelineStage: 'demo',
      pipelineStageAt: NOW.toISOString(),
      amount: 12_000,
      stagePk: 'STAGE#demo',
      stageSk: `${NOW.toISOString()}#lead-1`,
    });
    expect(h.published).toEqual([
      {
        detailType: 'Lead Stage Changed',
        detail: { leadId: 'lead-1', occurredAt: NOW.toISOString(), isTest: false, to: 'demo', by: 'liam' },
      },
    ]);
    expect(h.partition('lead-1', 'ACT#')[0]).toMatchObject({ type: 'stage_changed' });
    expect(h.table.byPk('OUTBOX')).toEqual([]);
  });

  it('answers 412 when If-Match names another version, with or without a concurrent writer', async () => {
    const stale = await patch({ pipelineStage: 'demo' }, { 'If-Match': '"7"' });
    expect(stale.statusCode).toBe(412);
    expect(body(stale).currentVersion).toBe(0);
    h.table.beforeNext('TransactWriteCommand', () => bumpVersion());
    const raced = await patch({ pipelineStage: 'demo' }, { 'If-Match': 'W/"0"' });
    expect(raced.statusCode).toBe(412);
    expect(body(raced).currentVersion).toBe(1);
    expect(h.published).toEqual([]);
  });

  it('retries internally without If-Match', async () => {
    h.table.beforeNext('TransactWriteCommand', () => bumpVersion());
    const result = await patch({ pipelineStage: 'discovery' });
    expect(result.statusCode).toBe(200);
    expect(h.table.lead('lead-1')).toMatchObject({ pipelineStage: 'discovery', version: 2 });
  });

  it('wins a deal and loses one with a configured reason, naming the field otherwise', async () => {
    const noReason = await patch({ pipelineStage: 'lost' });
    expect(noReason.statusCode).toBe(400);
    expect(body(noReason).fields).toEqual([
      { field: 'lostReason', reason: 'required when moving to the lost stage "lost"' },
    ]);
    h.table.setOpenLeads('liam', 1);
    const lost = await patch({ pipelineStage: 'lost', lostReason: 'Timing' });
    expect(lost.statusCode).toBe(200);
    expect(h.table.lead('lead-1')).toMatchObject({ status: 'disqualified', lostReason: 'Timing' });
    // A closed lead no longer counts against the rep.
    expect(h.table.openLeads('liam')).toBe(0);
  });

  it('answers 400 for bad bodies and statuses set by other actions', async () => {
    const converted = await patch({ status: 'converted' });
    expect(converted.statusCode).toBe(400);
    expect(body<{ fields: Array<{ field: string }> }>(converted).fields[0]?.field).toBe('status');
    const empty = await patch({});
    expect(body<{ fields: Array<{ field: string }> }>(empty).fields[0]?.field).toBe('body');
    const negative = await patch({ amount: -5 });
    expect(body<{ fields: Array<{ field: string }> }>(negative).fields[0]?.field).toBe('amount');
    const notJson = await handler()({
      ...apiEvent('PATCH /leads/{id}', { claims: liam, pathParameters: { id: 'lead-1' }, body: {} }),
      body: '{not json',
    });
    expect(notJson.statusCode).toBe(400);
    expect(() =>
      expectedVersion(apiEvent('PATCH /leads/{id}', { headers: { 'if-match': 'yesterday' } })),
    ).toThrow(/If-Match/);
  });

  it('answers 409 when a never-contacted lead is put to work', async () => {
    await h.seed(
      liamsLead({ id: 'lead-9', profile: { ...makeLead().profile, dedupeKey: 'nine@x.example' } }),
    );
    const result = await handler()(
      apiEvent('PATCH /leads/{id}', {
        claims: liam,
        pathParameters: { id: 'lead-9' },
        body: { pipelineStage: 'demo' },
      }),
    );
    expect(result.statusCode).toBe(409);
    expect(body(result).error).toBe('LEAD_STATE_CONFLICT');
  });

  it('answers 503 when the write is throttled', async () => {
    h.table.failNext('TransactWriteCommand', transactionCanceled(['ThrottlingError']));
    const result = await patch({ pipelineStage: 'demo' });
    expect(result.statusCode).toBe(503);
  });
});

describe('POST /leads/{id}/reassign', () => {
  const reassign = (payload: unknown, claims = ana) =>
    handler()(
      apiEvent('POST /leads/{id}/reassign', { claims, pathParameters: { id: 'lead-1' }, body: payload }),
    );

  beforeEach(async () => {
    await h.seed(liamsLead());
    h.table.setOpenLeads('liam', 1);
  });

  it('moves the lead within capacity and publishes Lead Assigned via manual with the previous owner', async () => {
    const result = await reassign({ repId: 'sofia' });
    expect(result.statusCode).toBe(200);
    expect(body(result)).toMatchObject({ previousOwner: 'liam', unchanged: false, lead: { owner: 'sofia' } });
    expect(h.table.lead('lead-1')).toMatchObject({
      owner: 'sofia',
      team: 'emea',
      status: 'assigned',
      assignedAt: NOW.toISOString(),
    });
    expect(h.table.openLeads('liam')).toBe(0);
    expect(h.table.openLeads('sofia')).toBe(1);
    expect(h.published).toEqual([
      {
        detailType: 'Lead Assigned',
        detail: {
          leadId: 'lead-1',
          occurredAt: NOW.toISOString(),
          isTest: false,
          repId: 'sofia',
          teamId: 'emea',
          ruleId: 'manual',
          via: 'manual',
          priority: 'normal',
          assignedAt: NOW.toISOString(),
          previousOwner: 'liam',
          ladderStep: 0,
        },
      },
    ]);
    // The same request again (a client retry) changes and announces nothing.
    const again = await reassign({ repId: 'sofia' });
    expect(body(again).unchanged).toBe(true);
    expect(h.ofType('Lead Assigned')).toHaveLength(1);
  });

  it('refuses reps (403) and answers 409 naming a rep at capacity; admins may force', async () => {
    expect((await reassign({ repId: 'sofia' }, liam)).statusCode).toBe(403);
    h.table.setOpenLeads('sofia', 25);
    const full = await reassign({ repId: 'sofia' });
    expect(full.statusCode).toBe(409);
    expect(body(full)).toMatchObject({ error: 'REP_AT_CAPACITY', repId: 'sofia' });
    expect(h.table.lead('lead-1').owner).toBe('liam');
    expect((await reassign({ repId: 'sofia', force: true })).statusCode).toBe(403);
    const forced = await reassign({ repId: 'sofia', force: true }, admin);
    expect(forced.statusCode).toBe(200);
    expect(h.table.openLeads('sofia')).toBe(26);
  });

  it('answers 400 naming repId', async () => {
    const unknown = await reassign({ repId: 'ghost' });
    expect(unknown.statusCode).toBe(400);
    expect(body(unknown).fields).toEqual([{ field: 'repId', reason: 'unknown rep "ghost"' }]);
    const missing = await reassign({});
    expect(body<{ fields: Array<{ field: string }> }>(missing).fields[0]?.field).toBe('repId');
  });

  it('stops the previous SLA execution when it is known', async () => {
    const execution = slaExecution('lead-1-escalated');
    const lead = h.table.get(keys.lead('lead-1'));
    h.table.put({
      ...lead,
      slaProgress: {
        execution,
        ladderStep: 1,
        action: 'escalate',
        to: 'liam',
        at: '2026-03-02T08:00:05.000Z',
        announced: true,
      },
    });
    expect((await reassign({ repId: 'sofia' })).statusCode).toBe(200);
    expect(h.stopped.map((s) => s.executionArn)).toEqual([execution]);
  });
});

describe('notes and tasks', () => {
  /** `PATCH /leads/lead-1/tasks/{taskId}` as `claims`. */
  const patch = (patchBody: unknown, claims = liam, taskId = 'id-1') =>
    handler()(
      apiEvent('PATCH /leads/{id}/tasks/{taskId}', {
        claims,
        pathParameters: { id: 'lead-1', taskId },
        body: patchBody,
      }),
    );

  beforeEach(async () => {
    await h.seed(liamsLead());
  });

  it('adds a note once per Idempotency-Key', async () => {
    const post = () =>
      handler()(
        apiEvent('POST /leads/{id}/notes', {
          claims: liam,
          pathParameters: { id: 'lead-1' },
          body: { text: '  Spoke to Jane, demo next week  ' },
          headers: { 'Idempotency-Key': 'note-abc' },
        }),
      );
    const first = await post();
    expect(first.statusCode).toBe(201);
    expect(body(first)).toMatchObject({
      leadId: 'lead-1',
      by: 'liam',
      text: 'Spoke to Jane, demo next week',
      at: NOW.toISOString(),
    });
    const second = await post();
    expect(second.statusCode).toBe(200);
    expect(body(second).id).toBe(body(first).id);
    expect(h.partition('lead-1', 'NOTE#')).toHaveLength(1);
  });

  it('adds a task with a due date', async () => {
    const result = await handler()(
      apiEvent('POST /leads/{id}/tasks', {
        claims: liam,
        pathParameters: { id: 'lead-1' },
        body: { title: 'Send proposal', dueAt: '2026-03-04T10:00:00+01:00' },
      }),
    );
    expect(result.statusCode).toBe(201);
    expect(h.partition('lead-1', 'TASK#')).toEqual([
      expect.objectContaining({
        sk: 'TASK#2026-03-04T09:00:00.000Z#id-1',
        title: 'Send proposal',
        dueAt: '2026-03-04T09:00:00.000Z',
        done: false,
        by: 'liam',
      }),
    ]);
  });

  it('marks a task done once (when and by whom), reopens it, and renames it', async () => {
    await handler()(
      apiEvent('POST /leads/{id}/tasks', {
        claims: liam,
        pathParameters: { id: 'lead-1' },
        body: { title: 'Send proposal', dueAt: '2026-03-04T09:00:00Z' },
      }),
    );
    const done = await patch({ done: true });
    expect(done.statusCode).toBe(200);
    expect(body(done)).toMatchObject({ id: 'id-1', done: true, doneAt: NOW.toISOString(), doneBy: 'liam' });
    const stored = () => h.partition('lead-1', 'TASK#');
    expect(stored()).toEqual([
      expect.objectContaining({ done: true, doneBy: 'liam', title: 'Send proposal' }),
    ]);

    // Marking it done again keeps who did it first.
    const again = await patch({ done: true }, ana);
    expect(body(again)).toMatchObject({ done: true, doneBy: 'liam' });

    const reopened = await patch({ done: false, title: 'Send the revised proposal' });
    expect(body(reopened)).toMatchObject({ done: false, title: 'Send the revised proposal' });
    expect(body(reopened)).not.toHaveProperty('doneAt');
    expect(stored()).toEqual([
      expect.objectContaining({
        sk: 'TASK#2026-03-04T09:00:00.000Z#id-1',
        done: false,
        title: 'Send the revised proposal',
      }),
    ]);
    expect(stored()[0]).not.toHaveProperty('doneBy');
  });

  it('answers 404 for an unknown task or another rep, 400 for an empty or unknown change', async () => {
    const unknownTask = await patch({ done: true }, liam, 'nope');
    expect(unknownTask.statusCode).toBe(404);
    expect(body(unknownTask).error).toBe('TASK_NOT_FOUND');
    expect((await patch({ done: true }, jordan)).statusCode).toBe(404);
    const empty = await patch({});
    expect(empty.statusCode).toBe(400);
    const extra = await patch({ done: true, dueAt: '2026-03-05T09:00:00Z' });
    expect(extra.statusCode).toBe(400);
    expect(body(extra).fields).toEqual([{ field: 'dueAt', reason: 'not a recognised parameter' }]);
    expect(body(empty).fields).toEqual([{ field: 'body', reason: 'give "done" and/or "title"' }]);
  });

  it('answers 400 naming the field, and 404 to other reps', async () => {
    const long = await handler()(
      apiEvent('POST /leads/{id}/notes', {
        claims: liam,
        pathParameters: { id: 'lead-1' },
        body: { text: 'x'.repeat(5001) },
      }),
    );
    expect(long.statusCode).toBe(400);
    expect(body<{ fields: Array<{ field: string }> }>(long).fields[0]?.field).toBe('text');
    const due = await handler()(
      apiEvent('POST /leads/{id}/tasks', {
        claims: liam,
        pathParameters: { id: 'lead-1' },
        body: { title: 'Call', dueAt: 'tomorrow' },
      }),
    );
    expect(body<{ fields: Array<{ field: string }> }>(due).fields[0]?.field).toBe('dueAt');
    const other = await handler()(
      apiEvent('POST /leads/{id}/notes', {
        claims: jordan,
        pathParameters: { id: 'lead-1' },
        body: { text: 'hi' },
      }),
    );
    expect(other.statusCode).toBe(404);
  });
});

describe('personal data (admin)', () => {
  const EMAIL = 'Jane.Doe@Acme-Software.example';
  const person = (method: 'GET' | 'DELETE', claims = admin) =>
    handler()(
      apiEvent(`${method} /admin/people/{email}`, {
        claims,
        pathParameters: { email: encodeURIComponent(EMAIL) },
      }),
    );

  beforeEach(async () => {
    await h.seed(
      liamsLead({
        status: 'contacted',
        firstTouchAt: '2026-03-02T08:02:00.000Z',
        source: { channel: 'paid_search', provider: 'google_ads', utm: {}, externalId: 'gclid-1' },
      }),
    );
    h.table.setOpenLeads('liam', 3);
    h.table.putActivities([
      activity('lead-1', 'page_view', '2026-03-02T08:00:30.000Z', { path: '/pricing' }),
    ]);
    await h.repository.appendScoreHistory('lead-1', '2026-03-02T08:01:00.000Z', { total: 12 });
    await h.repository.putNote({
      id: 'n1',
      leadId: 'lead-1',
      at: '2026-03-02T08:02:00.000Z',
      by: 'liam',
      text: 'Called',
    });
    await h.repository.putTask({
      id: 't1',
      leadId: 'lead-1',
      createdAt: NOW.toISOString(),
      by: 'liam',
      title: 'Follow up',
      dueAt: NOW.toISOString(),
      done: false,
    });
    await h.repository.claimSend('lead-1', 'education', 'step-1', '2026-03-02T08:05:00.000Z');
    h.table.put({
      pk: 'IDEMPOTENCY#capture',
      sk: 'capture#abc',
      status: 'COMPLETED',
      data: { leadId: 'lead-1', outcome: 'created' },
    });
    h.table.put({
      pk: 'IDEMPOTENCY#capture',
      sk: 'capture#def',
      status: 'COMPLETED',
      data: { leadId: 'lead-2', outcome: 'created' },
    });
  });

  it('exports everything held about the person', async () => {
    const result = await person('GET');
    expect(result.statusCode).toBe(200);
    const data = body<Record<string, any>>(result);
    expect(data).toMatchObject({
      email: 'jane.doe@acme-software.example',
      found: true,
      leadId: 'lead-1',
      suppression: { suppressed: false },
      pointers: {
        dedupeKey: 'jane.doe@acme-software.example',
        external: { provider: 'google_ads', id: 'gclid-1' },
      },
    });
    expect(data.lead.profile.email).toBe('jane.doe@acme-software.example');
    expect([
      data.activities.length,
      data.scoreHistory.length,
      data.notes.length,
      data.tasks.length,
      data.sends.length,
    ]).toEqual([1, 1, 1, 1, 1]);
  });

  const JANE = 'jane.doe@acme-software.example';
  /** Starts an erasure through the API; returns its id after checking the 202 answer. */
  async function startErasure(): Promise<string> {
    const result = await person('DELETE');
    expect(result.statusCode).toBe(202);
    const started = body<{ erasureId: string; status: string; statusUrl: string }>(result);
    expect(started.status).toBe('running');
    expect(started.statusUrl).toBe(`/admin/erasures/${started.erasureId}`);
    expect(result.headers?.location).toBe(started.statusUrl);
    return started.erasureId;
  }
  const status = (id: string, claims = admin) =>
    handler()(apiEvent('GET /admin/erasures/{id}', { claims, pathParameters: { id } }));

  it('answers 202 at once: the address is suppressed, the job recorded, and the event names only the job', async () => {
    const id = await startErasure();
    // Nothing is erased inside the API call: the job does it.
    expect(h.table.lead('lead-1')).toBeDefined();
    expect(h.table.get(keys.suppression(emailHash(JANE)))).toMatchObject({ reason: 'erased' });
    const events = h.ofType('Erasure Requested');
    expect(events).toHaveLength(1);
    expect(JSON.stringify(events[0])).toContain(id);
    expect(JSON.stringify(events[0]).toLowerCase()).not.toContain('jane');
    const running = await status(id);
    expect(running.statusCode).toBe(200);
    expect(body(running)).toMatchObject({ id, status: 'running' });
    expect(JSON.stringify(body(running)).toLowerCase()).not.toContain('jane');
  });

  it('the job erases every lead of the person and everything that belongs to them, and keeps only hashes', async () => {
    // A provider id claimed on a merge (a second pointer to lead-1).
    await h.repository.claimExternalId('typeform', 'tf-resp-9', 'lead-1');
    // A test lead and a lead whose email is another address but whose form named Jane's.
    await h.seed(
      makeLead({
        id: 'lead-test',
        isTest: true,
        profile: { ...liamsLead().profile, dedupeKey: `test:${JANE}` },
      }),
    );
    await h.seed(
      makeLead({
        id: 'lead-home',
        profile: {
          ...liamsLead().profile,
          email: 'jane@home.example',
          dedupeKey: 'jane@home.example',
          extra: { work_email: 'Jane.Doe@acme-software.example' },
        },
      }),
    );
    // A lead that only shares Jane's home address in a form field is hers too (all addresses seen).
    await h.seed(
      makeLead({
        id: 'lead-third',
        profile: {
          ...liamsLead().profile,
          email: 'j.doe@elsewhere.example',
          dedupeKey: 'j.doe@elsewhere.example',
          extra: { other: 'jane@home.example' },
        },
      }),
    );
    h.table.put({ pk: 'IDEMPOTENCY#webhooks', sk: 'webhooks#x', data: { leadId: 'lead-home' } });
    // Someone else's lead and records stay.
    await h.seed(
      makeLead({
        id: 'lead-other',
        profile: { ...liamsLead().profile, email: 'omar@other.example', dedupeKey: 'omar@other.example' },
      }),
    );
    h.table.putActivities([
      activity('lead-other', 'captured', '2026-03-02T08:00:40.000Z', { message: `cc ${JANE}` }),
    ]);

    const id = await startErasure();
    const done = await eraseJob(id);
    expect(done?.status).toBe('completed');
    expect(new Set(done?.result?.leadIds)).toEqual(
      new Set(['lead-1', 'lead-test', 'lead-home', 'lead-third']),
    );
    expect(done?.result).toMatchObject({
      addresses: 3,
      capacityReturnedTo: ['liam'],
      deleted: { leads: 4, idempotencyRecords: 2 },
    });
    for (const leadId of ['lead-1', 'lead-test', 'lead-home', 'lead-third'])
      expect(h.table.byPk(`LEAD#${leadId}`), leadId).toEqual([]);
    expect(h.table.get(keys.dedupe(JANE))).toBeUndefined();
    expect(h.table.get(keys.external('google_ads', 'gclid-1'))).toBeUndefined();
    expect(h.table.get(keys.external('typeform', 'tf-resp-9'))).toBeUndefined();
    expect(h.table.get({ pk: 'IDEMPOTENCY#capture', sk: 'capture#abc' })).toBeUndefined();
    expect(h.table.get({ pk: 'IDEMPOTENCY#capture', sk: 'capture#def' })).toBeDefined();
    expect(h.table.lead('lead-other')).toBeDefined();
    // Another person's lead that quotes the address keeps its timeline.
    expect(h.table.byPk('LEAD#lead-other').length).toBe(2);
    expect(h.table.openLeads('liam')).toBe(2);
    for (const address of [JANE, 'jane@home.example', 'j.doe@elsewhere.example'])
      expect(h.table.get(keys.suppression(emailHash(address))), address).toMatchObject({ reason: 'erased' });
    const leftovers = [...h.table.items.values()].filter((item) => {
      const text = JSON.stringify(item).toLowerCase();
      if (item.pk === 'LEAD#lead-other') return false;
      return ['jane', 'j.doe', 'lead-1', 'lead-home', 'lead-test', 'lead-third'].some((n) =>
        text.includes(n),
      );
    });
    // Only the job's own record names the lead ids it erased; it holds no address.
    expect(leftovers.map((i) => i.pk)).toEqual([`ERASURE#${id}`]);

    const reported = body<Record<string, unknown>>(await status(id));
    expect(reported).toMatchObject({ status: 'completed', completedAt: NOW.toISOString() });
    expect(reported.email).toBeUndefined();

    // Safe to run again: nothing changes, the counter is not decremented twice.
    await eraseJob(id);
    expect(h.table.openLeads('liam')).toBe(2);
    expect(body(await person('GET'))).toMatchObject({ found: false, suppression: { suppressed: true } });
  });

  it('finishes a half-done job when it runs again', async () => {
    const id = await startErasure();
    // The partition is deleted, then the final transaction (profile, pointers, counter) is throttled.
    const flaky = Object.assign(Object.create(h.repository) as LeadRepository, {
      deleteLeadAndPointers: async () => {
        throw new DependencyUnavailableError('DynamoDB', throttling());
      },
    });
    await expect(eraseJob(id, flaky)).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    expect(body(await status(id))).toMatchObject({ status: 'running' });
    expect(h.table.byPk('LEAD#lead-1').map((i) => i.sk)).toEqual(['PROFILE']);
    const finished = await eraseJob(id);
    expect(finished?.status).toBe('completed');
    expect(h.table.byPk('LEAD#lead-1')).toEqual([]);
    expect(h.table.openLeads('liam')).toBe(2);
  });

  it('starts the job while the bus refuses: Erasure Requested waits in the outbox for the relay', async () => {
    h.failNextPublish(throttling());
    const started = await person('DELETE');
    expect(started.statusCode).toBe(202);
    expect(h.ofType('Erasure Requested')).toEqual([]);
    expect(h.table.byPk('OUTBOX')).toHaveLength(1);
    const outbox = new DynamoOutbox(TABLE, h.docClient);
    const later = new Date(NOW.getTime() + 120_000);
    expect(await relayOutbox(later, { publisher: h.publisher, outbox })).toMatchObject({ published: 1 });
    expect(h.ofType('Erasure Requested')).toEqual([
      expect.objectContaining({ detail: expect.objectContaining({ erasureId: body(started).erasureId }) }),
    ]);
    expect(h.table.byPk('OUTBOX')).toEqual([]);
  });

  it('is for admins only, and names a bad address', async () => {
    expect((await person('GET', ana)).statusCode).toBe(403);
    expect((await person('DELETE', liam)).statusCode).toBe(403);
    expect(h.table.lead('lead-1')).toBeDefined();
    expect(h.ofType('Erasure Requested')).toEqual([]);
    expect((await status('id-1', ana)).statusCode).toBe(403);
    expect((await status('no-such-job')).statusCode).toBe(404);
    const bad = await handler()(
      apiEvent('DELETE /admin/people/{email}', { claims: admin, pathParameters: { email: 'not-an-email' } }),
    );
    expect(bad.statusCode).toBe(400);
    expect(body<{ fields: Array<{ field: string }> }>(bad).fields[0]?.field).toBe('email');
  });
});

describe('POST /leads/{id}/details/{activityId}/accept', () => {
  const offer = activity(
    'lead-1',
    'details_submitted',
    '2026-03-02T08:02:00.000Z',
    {
      provider: 'form',
      details: { phone: '+442079460000', phoneValid: true, phoneCountry: 'GB', jobTitle: 'CTO' },
    },
    'offer-1',
  );
  const accept = (claims: Record<string, unknown>, activityId = 'offer-1', id = 'lead-1') =>
    handler()(
      apiEvent('POST /leads/{id}/details/{activityId}/accept', {
        claims,
        pathParameters: { id, activityId },
      }),
    );

  beforeEach(async () => {
    await h.seed(
      liamsLead({
        profile: {
          ...makeLead().profile,
          phone: '+4930901820',
          phoneValid: true,
          phoneCountry: 'DE',
          jobTitle: 'Analyst',
        },
      }),
    );
    h.table.putActivities([offer, activity('lead-1', 'page_view', '2026-03-02T08:01:00.000Z', {}, 'pv-1')]);
  });

  it("applies the offered details for the lead's owner, once, and tells scoring", async () => {
    const result = await accept(liam);
    expect(result.statusCode).toBe(200);
    expect(body<{ changed: string[] }>(result).changed.sort()).toEqual(['jobTitle', 'phone', 'phoneCountry']);
    expect(h.table.lead('lead-1').profile).toMatchObject({
      phone: '+442079460000',
      phoneCountry: 'GB',
      jobTitle: 'CTO',
      dedupeKey: 'jane.doe@acme-software.example',
    });
    expect(h.table.activities('lead-1').find((a) => a.type === 'details_accepted')?.data).toMatchObject({
      offer: 'offer-1',
      by: 'liam',
    });
    expect(h.ofType('Activity Recorded').map((e) => e.detail.type)).toEqual(['details_accepted']);

    const again = await accept(liam);
    expect(again.statusCode).toBe(409);
  });

  it('answers 404 for no such offer (or another kind of activity) and for leads out of reach', async () => {
    expect((await accept(liam, 'nope')).statusCode).toBe(404);
    expect((await accept(liam, 'pv-1')).statusCode).toBe(404);
    expect(body(await accept(liam, 'nope')).error).toBe('DETAILS_NOT_FOUND');
    expect((await accept(jordan)).statusCode).toBe(404);
    expect(h.table.lead('lead-1').profile.jobTitle).toBe('Analyst');
  });
});

describe('SchedulerSlaClock', () => {
  it('cancels only ladder names and treats rungs that already ran as cancelled', async () => {
    const clock = new SchedulerSlaClock(SLA_SCHEDULE_GROUP, config.sla.ladder.length, h.schedulerClient);
    await expect(
      clock.stop('arn:aws:states:eu-west-1:123456789012:execution:NurtureWorkflow:x', 'test'),
    ).rejects.toThrow(/not an SLA ladder name/);
    h.failNextStop(Object.assign(new Error('gone'), { name: 'ResourceNotFoundException' }));
    await expect(clock.stop(slaExecution('done'), 'test')).resolves.toBeUndefined();
    h.failNextStop(throttling());
    await expect(clock.stop(slaExecution('busy'), 'test')).rejects.toMatchObject({
      code: 'DEPENDENCY_UNAVAILABLE',
    });
  });
});

describe('lead list import (POST /admin/imports)', () => {
  const CSV = [
    'Email,First Name,Last Name,Company,Job Title,Phone,Country,Notes',
    'priya@fabrikam.example,Priya,Raman,Fabrikam,Head of Data,+44 20 7946 0101,GB,"Met at booth 12,',
    'wants a demo"',
    'not-an-email,Bob,Smith,Initech,CTO,,GB,',
    'Jane.Doe@Acme-Software.example,Jane,Doe,Acme Software,VP Engineering,,GB,second visit',
    'priya@fabrikam.example,Priya,Raman,Fabrikam,,,GB,again',
    ',Carl,Jones,Initech,Analyst,,US,',
  ].join('\n');
  const post = (payload: unknown, claims = admin) =>
    handler()(apiEvent('POST /admin/imports', { claims, body: payload }));

  beforeEach(async () => {
    await h.seed(liamsLead());
  });

  it('dry run: reports each row by its line and field, finds existing leads, writes nothing', async () => {
    const result = await post({ csv: CSV, dryRun: true, list: 'SaaStr 2026' });
    expect(result.statusCode).toBe(200);
    expect(body(result)).toEqual({
      dryRun: true,
      rows: 5,
      counts: {
        created: 0,
        updated: 0,
        'would-create': 1,
        'would-update': 1,
        'duplicate-in-file': 1,
        invalid: 2,
      },
      results: [
        { row: 2, outcome: 'would-create' },
        {
          row: 4,
          outcome: 'invalid',
          errors: [
            { field: 'email', reason: expect.stringContaining('not a valid email') },
            { field: 'phone', reason: 'an email address or a phone number is required' },
          ],
        },
        { row: 5, outcome: 'would-update', leadId: 'lead-1' },
        { row: 6, outcome: 'duplicate-in-file', sameAsRow: 2 },
        {
          row: 7,
          outcome: 'invalid',
          errors: [
            { field: 'email', reason: 'an email address or a phone number is required' },
            { field: 'phone', reason: 'an email address or a phone number is required' },
          ],
        },
      ],
    });
    expect(h.ofType('Lead Captured')).toHaveLength(0);
    expect(h.table.lead('lead-1').profile.extra).toEqual({});
  });

  it('imports through intake: new leads created and published, known people updated, marked as source import', async () => {
    const result = await post({ csv: CSV, list: 'SaaStr 2026' });
    expect(result.statusCode).toBe(200);
    expect(body(result)).toMatchObject({
      dryRun: false,
      counts: { created: 1, updated: 1, 'duplicate-in-file': 1, invalid: 2 },
    });
    const created = body<{ results: Array<{ outcome: string; leadId?: string }> }>(result).results.find(
      (r) => r.outcome === 'created',
    );
    expect(h.table.lead(String(created?.leadId))).toMatchObject({
      profile: {
        email: 'priya@fabrikam.example',
        jobTitle: 'Head of Data',
        message: 'Met at booth 12,\nwants a demo',
      },
      source: { provider: 'import', channel: 'other', formId: 'SaaStr 2026' },
    });
    // The new lead enters the pipeline like a captured one; the known one records a resubmission.
    expect(h.ofType('Lead Captured').map((e) => (e.detail as { leadId: string }).leadId)).toEqual([
      created?.leadId,
    ]);
    expect(h.ofType('Activity Recorded').map((e) => (e.detail as { leadId: string }).leadId)).toEqual([
      'lead-1',
    ]);
    const leadCount = () => [...h.table.items.values()].filter((i) => i.entity === 'lead').length;
    expect(leadCount()).toBe(2);
    // Importing the same file again creates nobody.
    const again = await post({ csv: CSV, list: 'SaaStr 2026' });
    expect(body(again)).toMatchObject({ counts: { created: 0, updated: 2 } });
    expect(leadCount()).toBe(2);
  });

  it('is for admins only, and names a bad request or file', async () => {
    expect((await post({ csv: CSV }, liam)).statusCode).toBe(403);
    const empty = await post({ csv: 'email\n' });
    expect(empty.statusCode).toBe(400);
    expect(JSON.stringify(body(empty))).toContain('no rows below the header row');
    const broken = await post({ csv: 'email,name\n"unterminated,x\n' });
    expect(broken.statusCode).toBe(400);
    expect(JSON.stringify(body(broken))).toContain('csv');
    const rows = Array.from({ length: 251 }, (_, i) => `person${i}@example.org`);
    const tooMany = await post({ csv: ['email', ...rows].join('\n'), dryRun: true });
    expect(tooMany.statusCode).toBe(400);
    expect(JSON.stringify(body(tooMany))).toContain('251 rows; at most 250 per request');
    const wrong = await post({ csv: CSV, dryRun: 'yes' });
    expect(wrong.statusCode).toBe(400);
    expect(JSON.stringify(body(wrong))).toContain('dryRun');
  });
});
