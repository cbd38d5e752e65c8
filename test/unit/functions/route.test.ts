import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandler as createRouteHandler } from '../../../functions/route/handler';
import { createHandler as createScoreHandler } from '../../../functions/score/handler';
import { DynamoOutbox } from '../../../shared/adapters/outbox-store';
import { loadClientConfig } from '../../../shared/config/load';
import { keys } from '../../../shared/contracts/table-design';
import { DependencyUnavailableError, InvalidInputError } from '../../../shared/domain/errors';
import type { Lead } from '../../../shared/domain/lead';
import type { EventDetailInput } from '../../../shared/events/catalogue';
import { relayOutbox } from '../../../shared/services/announce';
import { routingActivityId } from '../../../shared/services/routing';
import {
  activity,
  eventBridgeEvent,
  Harness,
  lambdaContext,
  makeLead,
  TABLE,
  throttling,
  transactionCanceled,
} from './pipeline-kit';

const example = loadClientConfig('example', 'clients');
/** Monday 10:00 UTC: ana (Berlin) and liam (Dublin) are on shift, North America is asleep. */
const MONDAY_10 = new Date('2026-03-02T10:00:00.000Z');
/** Monday 02:00 UTC: nobody in EMEA is on shift; ana starts first, 08:30 Berlin = 07:30 UTC. */
const MONDAY_02 = new Date('2026-03-02T02:00:00.000Z');

let h: Harness;
beforeEach(() => {
  h = new Harness();
});
afterEach(() => h.restore());

function routeHandler(now: Date = MONDAY_10, context = lambdaContext()) {
  const handler = createRouteHandler({
    repository: h.repository,
    publisher: h.publisher,
    config: example,
    now: () => now,
  });
  return (event: unknown) => handler(event, context);
}

const scored = (leadId = 'lead-1', id?: string, overrides: Partial<EventDetailInput<'Lead Scored'>> = {}) =>
  eventBridgeEvent(
    'Lead Scored',
    {
      leadId,
      occurredAt: '2026-03-02T09:59:00.000Z',
      total: 45,
      fit: 40,
      engagement: 5,
      stage: 'MQL',
      previousStage: 'lead',
      trigger: 'activity',
      routable: true,
      ...overrides,
    },
    id,
  );

const schedule = () => ({
  version: '0',
  id: 'sched-1',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-03-02T07:45:00Z',
  region: 'eu-west-1',
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/route-held-leads'],
  detail: {},
});

/** A German MQL (no seniority preference): weighted round robin between ana (weight 1) and liam (2). */
const mqlLead = (overrides: Partial<Lead> = {}) =>
  makeLead({
    stage: 'MQL',
    profile: { jobTitle: 'Product Manager', industry: 'software', companySize: 500, country: 'DE' },
    ...overrides,
  });

const assignedTo = () => h.ofType('Lead Assigned').map((p) => p.detail.repId);

describe('route handler: assignment', () => {
  it('assigns by weighted round robin in the territory team, in one transaction with counter and cursor', async () => {
    h.table.putLead(mqlLead());
    const result = await routeHandler()(scored('lead-1', 'evt-1'));

    expect(result).toMatchObject({ outcome: 'assigned', repId: 'liam', teamId: 'emea' });
    const lead = h.table.lead('lead-1');
    expect(lead).toMatchObject({
      status: 'assigned',
      owner: 'liam',
      team: 'emea',
      priority: 'normal',
      assignedAt: MONDAY_10.toISOString(),
      version: 1,
    });
    expect(h.table.openLeads('liam')).toBe(1);
    expect(h.table.cursor('emea')).toMatchObject({
      version: 1,
      value: { seq: 1, credits: { ana: 1, liam: -1 } },
    });
    expect(h.published).toEqual([
      {
        detailType: 'Lead Assigned',
        detail: {
          leadId: 'lead-1',
          occurredAt: MONDAY_10.toISOString(),
          isTest: false,
          repId: 'liam',
          teamId: 'emea',
          ruleId: 'marketing-qualified',
          via: 'round-robin',
          priority: 'normal',
          assignedAt: MONDAY_10.toISOString(),
          ladderStep: 0,
        },
      },
    ]);
    // The timeline explains the decision.
    const [assigned] = h.table.activities('lead-1');
    expect(assigned).toMatchObject({ id: routingActivityId('evt-1'), type: 'assigned' });
    expect(JSON.stringify(assigned?.data.explanation)).toContain('sofia out of office');
    // The event is the outbox entry's alone: a copy here took the activity past 1 KB (2 write
    // units instead of 1, doubled in the transaction, on every attempt).
    expect(assigned?.data).not.toHaveProperty('event');
  });

  it('continues the round robin across leads (liam, ana, liam for weights 2:1)', async () => {
    for (const id of ['lead-1', 'lead-2', 'lead-3']) {
      h.table.putLead(mqlLead({ id }));
      await routeHandler()(scored(id, `evt-${id}`));
    }
    expect(assignedTo()).toEqual(['liam', 'ana', 'liam']);
    expect([h.table.openLeads('liam'), h.table.openLeads('ana')]).toEqual([2, 1]);
    expect(h.table.cursor('emea')?.version).toBe(3);
  });

  it('sends the default owner a lead when every team is full, even past her capacity', async () => {
    for (const [rep, open] of Object.entries({ ana: 15, liam: 30, maya: 15, jordan: 30, priya: 25 }))
      h.table.setOpenLeads(rep, open);
    h.table.putLead(mqlLead({ stage: 'SQL' }));
    await routeHandler()(scored('lead-1', 'evt-full', { stage: 'SQL' }));

    expect(h.ofType('Lead Assigned')[0]?.detail).toMatchObject({
      repId: 'ana',
      via: 'default-owner',
      ruleId: 'sales-ready',
      priority: 'high',
    });
    expect(h.table.openLeads('ana')).toBe(16);
  });

  it('routes test leads like any other lead (alerts skip them downstream)', async () => {
    h.table.putLead(mqlLead({ isTest: true }));
    await routeHandler()(scored('lead-1', 'evt-test', { isTest: true }));
    expect(h.ofType('Lead Assigned')[0]?.detail).toMatchObject({ repId: 'liam', isTest: true });
  });
});

describe('route handler: hold and nurture', () => {
  it('holds an MQL outside working hours, queues it, and the scheduled sweep assigns it when the hour comes', async () => {
    h.table.putLead(mqlLead());
    const held = await routeHandler(MONDAY_02)(scored('lead-1', 'evt-night'));

    const until = '2026-03-02T07:30:00.000Z';
    expect(held).toMatchObject({ outcome: 'held', teamId: 'emea', until });
    expect(h.table.lead('lead-1')).toMatchObject({ status: 'held', team: 'emea', heldUntil: until });
    expect(h.table.lead('lead-1').owner).toBeUndefined();
    expect(h.table.get(keys.heldLead(until, 'lead-1'))).toMatchObject({ leadId: 'lead-1', until });
    expect(h.ofType('Lead Held').map((p) => p.detail)).toEqual([
      {
        leadId: 'lead-1',
        occurredAt: MONDAY_02.toISOString(),
        isTest: false,
        teamId: 'emea',
        ruleId: 'marketing-qualified',
        until,
      },
    ]);

    // Before the hour: nothing is due.
    expect(await routeHandler(new Date('2026-03-02T07:00:00.000Z'))(schedule())).toMatchObject({
      outcome: 'released',
      due: 0,
    });
    expect(h.table.lead('lead-1').status).toBe('held');

    // 07:45 UTC: ana (08:45 Berlin) is on shift, liam (07:45 Dublin) is not yet.
    const released = await routeHandler(new Date('2026-03-02T07:45:00.000Z'))(schedule());
    expect(released).toMatchObject({
      outcome: 'released',
      due: 1,
      outcomes: [{ leadId: 'lead-1', outcome: 'assigned' }],
    });
    const lead = h.table.lead('lead-1');
    expect(lead).toMatchObject({ status: 'assigned', owner: 'ana' });
    expect(lead.heldUntil).toBeUndefined();
    expect(h.table.get(keys.heldLead(until, 'lead-1'))).toBeUndefined();
    expect(assignedTo()).toEqual(['ana']);

    // A repeated sweep finds nothing left to release.
    expect(await routeHandler(new Date('2026-03-02T07:50:00.000Z'))(schedule())).toMatchObject({ due: 0 });
    expect(assignedTo()).toEqual(['ana']);
  });

  it('drops queue entries of leads routed meanwhile (an SQL assigned before its hold ended)', async () => {
    const until = '2026-03-02T07:30:00.000Z';
    h.table.putLead(mqlLead({ status: 'assigned', owner: 'liam', team: 'emea' }));
    h.table.put({ ...keys.heldLead(until, 'lead-1'), entity: 'held', leadId: 'lead-1', until });

    const released = await routeHandler(new Date('2026-03-02T07:45:00.000Z'))(schedule());
    expect(released).toMatchObject({ due: 1, outcomes: [{ leadId: 'lead-1', outcome: 'already-routed' }] });
    expect(h.table.get(keys.heldLead(until, 'lead-1'))).toBeUndefined();
    expect(h.published).toEqual([]);
  });

  it('keeps a failed release queued and reports it, so the next run retries it', async () => {
    const until = '2026-03-02T07:30:00.000Z';
    h.table.putLead(mqlLead({ status: 'held', team: 'emea', heldUntil: until }));
    h.table.put({ ...keys.heldLead(until, 'lead-1'), entity: 'held', leadId: 'lead-1', until });
    h.table.failNext('BatchGetCommand', throttling());
    const sweep = routeHandler(new Date('2026-03-02T07:45:00.000Z'));

    await expect(sweep(schedule())).rejects.toMatchObject({ code: 'HELD_LEADS_NOT_RELEASED' });
    expect(h.table.get(keys.heldLead(until, 'lead-1'))).toBeDefined();
    await sweep(schedule());
    expect(assignedTo()).toEqual(['ana']);
    expect(h.table.get(keys.heldLead(until, 'lead-1'))).toBeUndefined();
  });

  it('enrols a free-mail lead below MQL in its nurture sequence, once', async () => {
    h.table.putLead(makeLead({ profile: { email: 'sam@gmail.com', isFreeMail: true, country: 'DE' } }));
    const handler = routeHandler();
    await handler(scored('lead-1', 'evt-n1', { stage: 'lead', trigger: 'enriched' }));
    // Another routable event for the same lead (e.g. a replayed Lead Enriched) decides the same.
    const again = await handler(scored('lead-1', 'evt-n2', { stage: 'lead', trigger: 'enriched' }));

    expect(h.table.lead('lead-1')).toMatchObject({
      status: 'nurturing',
      nurtureSequence: 're-engage',
      version: 1,
    });
    expect(again).toMatchObject({ outcome: 'unchanged', events: [] });
    expect(h.ofType('Lead Nurtured').map((p) => p.detail)).toEqual([
      {
        leadId: 'lead-1',
        occurredAt: MONDAY_10.toISOString(),
        isTest: false,
        sequenceId: 're-engage',
        ruleId: 'free-mail-nurture',
      },
    ]);
  });

  it('takes a nurtured lead out of its sequence when it qualifies and assigns it', async () => {
    h.table.putLead(mqlLead({ status: 'nurturing', nurtureSequence: 'education' }));
    await routeHandler()(scored('lead-1', 'evt-q'));
    const lead = h.table.lead('lead-1');
    expect(lead).toMatchObject({ status: 'assigned', owner: 'liam' });
    expect(lead.nurtureSequence).toBeUndefined();
  });
});

describe('route handler: conflicts and failures', () => {
  it('re-routes when the chosen rep filled up concurrently (counter condition fails → RepAtCapacity)', async () => {
    h.table.setOpenLeads('liam', 29);
    h.table.putLead(mqlLead());
    // Another routing gives liam his 30th lead between our read and our write.
    h.table.beforeNext('TransactWriteCommand', () => h.table.setOpenLeads('liam', 30));
    await routeHandler()(scored('lead-1', 'evt-cap'));

    expect(assignedTo()).toEqual(['ana']);
    expect([h.table.openLeads('liam'), h.table.openLeads('ana')]).toEqual([30, 1]);
    expect(h.table.calls.filter((c) => c === 'TransactWriteCommand')).toHaveLength(2);
  });

  it('retries on TransactionCanceled whose CancellationReasons name the rep counter', async () => {
    h.table.putLead(mqlLead());
    // Items: [lead, liam's counter, emea cursor, activity].
    h.table.failNext(
      'TransactWriteCommand',
      transactionCanceled(['None', 'ConditionalCheckFailed', 'None', 'None']),
    );
    await routeHandler()(scored('lead-1', 'evt-c1'));
    expect(assignedTo()).toEqual(['liam']);
    expect(h.table.openLeads('liam')).toBe(1);
    expect(h.table.lead('lead-1').version).toBe(1);
  });

  it('re-routes from the moved cursor when another routing spent the turn (cursor condition fails)', async () => {
    h.table.putLead(mqlLead());
    // A concurrent routing gave the team's turn to liam (cursor version 0 → 1).
    h.table.beforeNext('TransactWriteCommand', () =>
      h.table.put({
        ...keys.teamCursor('emea'),
        entity: 'cursor',
        value: { seq: 1, credits: { ana: 1, liam: -1, sofia: 0 } },
        version: 1,
      }),
    );
    await routeHandler()(scored('lead-1', 'evt-c2'));
    expect(assignedTo()).toEqual(['ana']);
    expect(h.table.cursor('emea')).toMatchObject({ version: 2, value: { seq: 2 } });
  });

  it('retries on TransactionCanceled whose CancellationReasons name the cursor', async () => {
    h.table.putLead(mqlLead());
    h.table.failNext(
      'TransactWriteCommand',
      transactionCanceled(['None', 'None', 'ConditionalCheckFailed', 'None']),
    );
    await routeHandler()(scored('lead-1', 'evt-c3'));
    expect(assignedTo()).toEqual(['liam']);
    expect(h.table.cursor('emea')?.version).toBe(1);
  });

  it('gives up after 5 conflicts with a retryable error, leaving no partial state; the retry succeeds', async () => {
    h.table.putLead(mqlLead());
    for (let i = 0; i < 5; i++)
      h.table.failNext(
        'TransactWriteCommand',
        transactionCanceled(['None', 'None', 'ConditionalCheckFailed', 'None']),
      );
    const handler = routeHandler();
    await expect(handler(scored('lead-1', 'evt-5'))).rejects.toMatchObject({
      code: 'ROUND_ROBIN_MOVED',
      retryable: true,
    });
    expect(h.table.lead('lead-1').owner).toBeUndefined();
    expect(h.table.openLeads('liam')).toBe(0);
    expect(h.published).toEqual([]);

    await handler(scored('lead-1', 'evt-5'));
    expect(assignedTo()).toEqual(['liam']);
  });

  it('throws on a transaction conflict or throttling (transient) so EventBridge retries', async () => {
    h.table.putLead(mqlLead());
    h.table.failNext(
      'TransactWriteCommand',
      transactionCanceled(['TransactionConflict', 'None', 'None', 'None']),
    );
    h.table.failNext('BatchGetCommand', throttling());
    const handler = routeHandler();
    // BatchGet (lead, counters and cursors) is throttled first...
    await expect(handler(scored('lead-1', 'evt-tr'))).rejects.toBeInstanceOf(DependencyUnavailableError);
    // ...then the transaction meets a conflicting one.
    await expect(handler(scored('lead-1', 'evt-tr'))).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(h.table.lead('lead-1').owner).toBeUndefined();

    await handler(scored('lead-1', 'evt-tr'));
    expect(assignedTo()).toEqual(['liam']);
    expect(h.table.openLeads('liam')).toBe(1);
  });

  it('assigns once when the bus fails after the assignment was saved: the relay publishes the stored event', async () => {
    h.table.putLead(mqlLead());
    // A crash between the transaction and the publish leaves the same state behind.
    h.failNextPublish(throttling());
    const handler = routeHandler();
    await expect(handler(scored('lead-1', 'evt-bus'))).resolves.toMatchObject({ outcome: 'assigned' });
    expect(h.table.lead('lead-1').owner).toBe('liam');
    expect(h.published).toEqual([]);
    expect(h.table.byPk('OUTBOX')).toHaveLength(1);

    expect(await handler(scored('lead-1', 'evt-bus'))).toEqual({ outcome: 'already-routed', events: [] });
    await relayOutbox(new Date(MONDAY_10.getTime() + 60_000), {
      publisher: h.publisher,
      outbox: new DynamoOutbox(TABLE, h.docClient),
    });
    expect(assignedTo()).toEqual(['liam']);
    expect(h.table.byPk('OUTBOX')).toEqual([]);
    expect(h.table.openLeads('liam')).toBe(1);
    expect(h.table.lead('lead-1').version).toBe(1);
    expect(h.table.byPk('IDEMPOTENCY#route')).toEqual([]);
  });

  it('rejects a Lead Scored detail that fails the schema, naming the field', async () => {
    const bad = scored();
    delete (bad.detail as Record<string, unknown>).routable;
    const error = await routeHandler()(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).problems.map((p) => p.field)).toEqual(['detail.routable']);
    await expect(
      routeHandler()({ id: 'x', source: 'someone-else', 'detail-type': 'Lead Scored', detail: {} }),
    ).rejects.toThrow(/source: expected "lead-pipeline"/);
  });

  it('ignores a Lead Scored that is not routable', async () => {
    h.table.putLead(mqlLead());
    expect(await routeHandler()(scored('lead-1', 'evt-nr', { routable: false }))).toEqual({
      outcome: 'ignored',
      events: [],
    });
    expect(h.table.lead('lead-1').version).toBe(0);
  });

  it('does not route closed leads or leads that no longer exist', async () => {
    h.table.putLead(mqlLead({ status: 'disqualified' }));
    expect(await routeHandler()(scored('lead-1', 'evt-dq'))).toEqual({ outcome: 'not-routable', events: [] });
    expect(await routeHandler()(scored('gone', 'evt-gone'))).toEqual({ outcome: 'missing', events: [] });
    expect(h.published).toEqual([]);
  });
});

describe('route handler: exactly once', () => {
  it('assigns once on a duplicate delivery and re-derives the same Lead Assigned from the stored activity', async () => {
    h.table.putLead(mqlLead());
    const handler = routeHandler();
    const first = await handler(scored('lead-1', 'evt-dup'));
    const second = await handler(scored('lead-1', 'evt-dup'));

    expect(first.outcome).toBe('assigned');
    expect(second).toEqual({ outcome: 'already-routed', events: [] });
    expect(assignedTo()).toEqual(['liam']);
    expect(h.table.openLeads('liam')).toBe(1);
    expect(h.table.lead('lead-1').version).toBe(1);
  });

  it('assigns once when the same event is delivered twice concurrently', async () => {
    h.table.putLead(mqlLead());
    const handler = routeHandler();
    const results = await Promise.all([
      handler(scored('lead-1', 'evt-same')),
      handler(scored('lead-1', 'evt-same')),
    ]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['already-routed', 'assigned']);
    expect(h.ofType('Lead Assigned')).toHaveLength(1);
    expect(h.table.openLeads('liam') + h.table.openLeads('ana')).toBe(1);
    expect(h.table.cursor('emea')?.version).toBe(1);
  });

  it('routes once when an older routable score arrives after a newer one (out of order)', async () => {
    h.table.putLead(mqlLead());
    const handler = routeHandler();
    await handler(scored('lead-1', 'evt-new', { stage: 'SQL' }));
    const older = await handler(scored('lead-1', 'evt-old', { stage: 'MQL' }));
    expect(older).toEqual({ outcome: 'already-routed', events: [] });
    expect(h.ofType('Lead Assigned')).toHaveLength(1);
    expect(h.table.openLeads('liam') + h.table.openLeads('ana')).toBe(1);
  });

  it('leaves a lead that already has an owner alone when another routable event arrives', async () => {
    h.table.putLead(mqlLead());
    const handler = routeHandler();
    await handler(scored('lead-1', 'evt-a'));
    const later = await handler(scored('lead-1', 'evt-b', { stage: 'SQL' }));

    expect(later).toEqual({ outcome: 'already-routed', events: [] });
    expect(assignedTo()).toEqual(['liam']);
    expect(h.table.openLeads('liam') + h.table.openLeads('ana')).toBe(1);
  });

  it('assigns once when two routable events for the same lead are processed concurrently', async () => {
    h.table.putLead(mqlLead());
    const handler = routeHandler();
    const results = await Promise.all([
      handler(scored('lead-1', 'evt-x')),
      handler(scored('lead-1', 'evt-y')),
    ]);

    expect(results.map((r) => r.outcome).sort()).toEqual(['already-routed', 'assigned']);
    expect(h.ofType('Lead Assigned')).toHaveLength(1);
    expect(h.table.openLeads('liam') + h.table.openLeads('ana')).toBe(1);
    expect(h.table.cursor('emea')?.version).toBe(1);
  });
});

describe('scenario: the example client', () => {
  it('scores the VP lead as an SQL and assigns it to a senior EMEA rep (ana)', async () => {
    const lead = makeLead({
      id: 'vp-lead',
      profile: {
        firstName: 'Jana',
        lastName: 'Krüger',
        email: 'jana.krueger@fintech-bank.example',
        dedupeKey: 'jana.krueger@fintech-bank.example',
        companyDomain: 'fintech-bank.example',
        jobTitle: 'VP Engineering',
        industry: 'fintech',
        companySize: 1200,
        country: 'DE',
        phone: '+4930901820',
        phoneValid: true,
        phoneCountry: 'DE',
        timezone: 'Europe/Berlin',
      },
    });
    h.table.putLead(lead);
    h.table.putActivities([
      activity('vp-lead', 'pricing_page_view', '2026-02-28T16:00:00.000Z', { path: '/pricing' }, 'a1'),
      activity('vp-lead', 'demo_request', '2026-03-02T09:30:00.000Z', {}, 'a2'),
    ]);

    const score = createScoreHandler({
      repository: h.repository,
      publisher: h.publisher,
      model: example.scoring,
      now: () => MONDAY_10,
    });
    await score(
      eventBridgeEvent('Lead Enriched', {
        leadId: 'vp-lead',
        occurredAt: MONDAY_10.toISOString(),
        fields: [],
        providerUsed: false,
      }),
      lambdaContext(),
    );
    const leadScored = h.ofType('Lead Scored')[0];
    expect(leadScored?.detail).toMatchObject({ stage: 'SQL', routable: true });
    expect(h.published.map((p) => p.detailType)).toEqual(['Lead Scored']);

    // The bus delivers Lead Scored to the route function (the rule matches routable: true).
    await routeHandler()(
      eventBridgeEvent('Lead Scored', leadScored?.detail as EventDetailInput<'Lead Scored'>),
    );

    expect(h.ofType('Lead Assigned').map((p) => p.detail)).toEqual([
      expect.objectContaining({
        leadId: 'vp-lead',
        repId: 'ana',
        teamId: 'emea',
        ruleId: 'sales-ready',
        via: 'round-robin',
        priority: 'high',
      }),
    ]);
    const stored = h.table.lead('vp-lead');
    expect(stored).toMatchObject({ status: 'assigned', owner: 'ana', stage: 'SQL', priority: 'high' });
    const assigned = h.table.activities('vp-lead').find((a) => a.type === 'assigned');
    // Liam (mid) was passed over for the senior tier; Sofia is on leave.
    expect(assigned?.data.explanation).toMatchObject({
      rule: { id: 'sales-ready' },
      skipped: expect.arrayContaining([
        { repId: 'sofia', teamId: 'emea', reason: 'out-of-office' },
        { repId: 'liam', teamId: 'emea', reason: 'less-senior' },
      ]),
    });
  });
});
