import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandler } from '../../../functions/score/handler';
import { DynamoOutbox } from '../../../shared/adapters/outbox-store';
import { loadClientConfig } from '../../../shared/config/load';
import { DependencyUnavailableError, InvalidInputError } from '../../../shared/domain/errors';
import type { Activity, Lead } from '../../../shared/domain/lead';
import { relayOutbox } from '../../../shared/services/announce';
import { isRoutable } from '../../../shared/services/scoring';
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
const NOW = new Date('2026-03-02T10:00:00.000Z');

let h: Harness;
beforeEach(() => {
  h = new Harness();
});
afterEach(() => h.restore());

function scoreHandler() {
  const handler = createHandler({
    repository: h.repository,
    publisher: h.publisher,
    model: example.scoring,
    now: () => NOW,
  });
  return (event: unknown) => handler(event, lambdaContext());
}

const enriched = (leadId = 'lead-1', id?: string) =>
  eventBridgeEvent(
    'Lead Enriched',
    { leadId, occurredAt: '2026-03-02T09:59:00.000Z', fields: ['country'], providerUsed: false },
    id,
  );

const recorded = (a: Activity, id?: string) =>
  eventBridgeEvent(
    'Activity Recorded',
    { leadId: a.leadId, occurredAt: a.at, activityId: a.id, type: a.type },
    id,
  );

/**
 * Fit 53 (VP +20, software +10, 500 employees +15, Germany +5, phone +3): with a demo request
 * (+30, never decays) the lead is an SQL at 83.
 */
const vpLead = (overrides: Partial<Lead> = {}) =>
  makeLead({
    profile: {
      firstName: 'Jana',
      jobTitle: 'VP of Engineering',
      industry: 'software',
      companySize: 500,
      country: 'DE',
      phone: '+4930901820',
      phoneValid: true,
    },
    ...overrides,
  });

/** Fit 40 (manager +10, software +10, 500 employees +15, Germany +5): exactly the MQL threshold. */
const managerLead = (overrides: Partial<Lead> = {}) =>
  makeLead({
    profile: { jobTitle: 'Product Manager', industry: 'software', companySize: 500, country: 'DE' },
    ...overrides,
  });

const demo = activity('lead-1', 'demo_request', '2026-03-01T12:00:00.000Z', {}, 'act-demo');

/**
 * Threshold crossings as a consumer reads them from `Lead Scored` (no separate event: no rule
 * needed one): the stage moved up to MQL or SQL.
 */
const crossings = () =>
  h
    .ofType('Lead Scored')
    .filter(
      (p) => p.detail.stage !== p.detail.previousStage && ['MQL', 'SQL'].includes(String(p.detail.stage)),
    );

describe('score handler', () => {
  it('scores an enriched lead, stores score, stage and explanation, and announces SQL once', async () => {
    h.table.putLead(vpLead());
    h.table.putActivities([demo]);
    await scoreHandler()(enriched('lead-1', 'evt-1'));

    const lead = h.table.lead('lead-1');
    expect(lead.stage).toBe('SQL');
    expect(lead.version).toBe(1);
    expect(lead.score).toMatchObject({
      total: 83,
      fit: 53,
      engagement: 30,
      stage: 'SQL',
      asOf: NOW.toISOString(),
    });
    expect(lead.score?.reasons.map((r) => [r.ruleId, r.points])).toEqual([
      ['demo', 30],
      ['executive', 20],
      ['mid-market-or-enterprise', 15],
      ['target-industry', 10],
      ['served-country', 5],
      ['phone-given', 3],
    ]);
    // The history entry holds the figures only (the explanation is the lead's): under 1 KB.
    expect(h.table.scoreHistory('lead-1')).toEqual([
      expect.objectContaining({
        sk: `SCORE#${NOW.toISOString()}`,
        score: { total: 83, fit: 53, engagement: 30, stage: 'SQL' },
      }),
    ]);
    expect(h.published).toEqual([
      {
        detailType: 'Lead Scored',
        detail: {
          leadId: 'lead-1',
          occurredAt: NOW.toISOString(),
          isTest: false,
          total: 83,
          fit: 53,
          engagement: 30,
          stage: 'SQL',
          previousStage: 'lead',
          trigger: 'enriched',
          routable: true,
        },
      },
    ]);
  });

  it('scores a lead on Lead Captured (enriched at intake) and makes it routable, with trigger captured', async () => {
    h.table.putLead(vpLead());
    await scoreHandler()(
      eventBridgeEvent('Lead Captured', {
        leadId: 'lead-1',
        occurredAt: '2026-03-02T09:59:00.000Z',
        provider: 'form',
        channel: 'direct',
      }),
    );
    expect(h.table.lead('lead-1').score?.total).toBe(53);
    expect(h.ofType('Lead Scored')[0]?.detail).toMatchObject({ trigger: 'captured', routable: true });
  });

  it('does not score a pending Lead Captured (its fields are not there yet)', async () => {
    h.table.putLead(vpLead({ status: 'pending' }));
    const result = await scoreHandler()(
      eventBridgeEvent('Lead Captured', {
        leadId: 'lead-1',
        occurredAt: '2026-03-02T09:59:00.000Z',
        provider: 'meta',
        channel: 'paid_social',
        pending: true,
      }),
    );
    expect(result.outcome).toBe('missing');
    expect(h.table.lead('lead-1').score).toBeUndefined();
    expect(h.published).toEqual([]);
  });

  it('makes a new lead routable once enriched even below MQL (routing nurtures it)', async () => {
    h.table.putLead(makeLead({ profile: { email: 'sam@gmail.com', isFreeMail: true } }));
    await scoreHandler()(enriched());
    expect(h.table.lead('lead-1').score?.total).toBe(-15);
    expect(h.ofType('Lead Scored')[0]?.detail).toMatchObject({ stage: 'lead', routable: true });
    expect(crossings()).toEqual([]);
  });

  it('announces a threshold crossed by an activity, but does not route a lead that already has an owner', async () => {
    h.table.putLead(
      managerLead({
        status: 'assigned',
        owner: 'liam',
        team: 'emea',
        assignedAt: '2026-03-02T08:00:00.000Z',
      }),
    );
    const download = activity('lead-1', 'content_download', '2026-03-02T09:00:00.000Z', {}, 'act-1');
    h.table.putActivities([download]);
    await scoreHandler()(recorded(download));

    expect(h.table.lead('lead-1').stage).toBe('MQL');
    expect(crossings().map((p) => p.detail.stage)).toEqual(['MQL']);
    expect(h.ofType('Lead Scored')[0]?.detail).toMatchObject({ trigger: 'activity', routable: false });
  });

  it('makes a held or nurtured lead routable again when it crosses a threshold', async () => {
    h.table.putLead(vpLead({ status: 'held', team: 'emea', heldUntil: '2026-03-03T08:00:00.000Z' }));
    h.table.putActivities([demo]);
    await scoreHandler()(recorded(demo));
    expect(h.ofType('Lead Scored')[0]?.detail).toMatchObject({ stage: 'SQL', routable: true });
  });

  it('never moves the stage backwards and does not re-announce a stage already reached', async () => {
    const stale = { ...vpLead().profile, jobTitle: 'Intern', companySize: 20 };
    h.table.putLead(vpLead({ profile: stale, stage: 'SQL', status: 'assigned', owner: 'ana' }));
    const unsub = activity('lead-1', 'unsubscribed', '2026-03-02T09:00:00.000Z', {}, 'act-unsub');
    h.table.putActivities([unsub]);
    await scoreHandler()(recorded(unsub));

    const lead = h.table.lead('lead-1');
    expect(lead.score?.total).toBe(-12);
    expect(lead.stage).toBe('SQL');
    expect(lead.score?.stage).toBe('SQL');
    expect(crossings()).toEqual([]);
    expect(h.ofType('Lead Scored')[0]?.detail).toMatchObject({
      stage: 'SQL',
      previousStage: 'SQL',
      routable: false,
    });
  });

  it('keeps a stage set by people (opportunity) and announces no qualification', async () => {
    h.table.putLead(vpLead({ stage: 'opportunity', status: 'working', owner: 'ana' }));
    h.table.putActivities([demo]);
    await scoreHandler()(recorded(demo));
    expect(h.table.lead('lead-1').stage).toBe('opportunity');
    expect(crossings()).toEqual([]);
  });

  it('scores a duplicate delivery once and publishes nothing again: one history entry, one crossing', async () => {
    h.table.putLead(vpLead());
    h.table.putActivities([demo]);
    const handler = scoreHandler();
    await handler(enriched('lead-1', 'evt-dup'));
    const second = await handler(enriched('lead-1', 'evt-dup'));

    expect(second).toEqual({ outcome: 'already-scored', events: [] });
    expect(h.table.lead('lead-1').version).toBe(1);
    expect(h.table.scoreHistory('lead-1')).toHaveLength(1);
    expect(h.table.byPk('IDEMPOTENCY#score')).toEqual([]);
    expect(h.table.byPk('OUTBOX')).toEqual([]);
    expect(crossings()).toHaveLength(1);
    expect(h.ofType('Lead Scored')).toHaveLength(1);
  });

  it('scores the same event delivered twice concurrently once', async () => {
    h.table.putLead(vpLead());
    h.table.putActivities([demo]);
    const handler = scoreHandler();
    const results = await Promise.all([
      handler(enriched('lead-1', 'evt-c')),
      handler(enriched('lead-1', 'evt-c')),
    ]);
    expect(h.table.lead('lead-1')).toMatchObject({ version: 1, stage: 'SQL' });
    expect(h.table.scoreHistory('lead-1')).toHaveLength(1);
    // The loser re-read the lead and found its own trigger: nothing to redo.
    expect(results.map((r) => r.outcome).sort()).toEqual(['already-scored', 'scored']);
    expect(crossings()).toHaveLength(1);
  });

  it('scores events delivered out of order once each, and announces the crossing once', async () => {
    h.table.putLead(vpLead());
    h.table.putActivities([demo]);
    const handler = scoreHandler();
    // The activity's event overtakes the capture's: it qualifies the lead, the capture finds it done.
    await handler(recorded(demo, 'evt-activity'));
    await handler(
      eventBridgeEvent(
        'Lead Captured',
        { leadId: 'lead-1', occurredAt: '2026-03-02T09:58:00.000Z', provider: 'form', channel: 'direct' },
        'evt-captured',
      ),
    );
    expect(h.table.scoreHistory('lead-1')).toHaveLength(1);
    expect(crossings()).toHaveLength(1);
    // The capture still hands the new lead to routing.
    expect(h.ofType('Lead Scored').map((e) => [e.detail.trigger, e.detail.routable])).toEqual([
      ['activity', true],
      ['captured', true],
    ]);
  });

  it('recomputes the same result for a re-announced activity: no history entry, no second crossing', async () => {
    h.table.putLead(managerLead());
    const download = activity('lead-1', 'content_download', '2026-03-02T09:00:00.000Z', {}, 'act-1');
    h.table.putActivities([download]);
    const handler = scoreHandler();
    await handler(recorded(download, 'evt-a'));
    // The same activity announced again under another event id (e.g. a replay from the archive).
    const again = await handler(recorded(download, 'evt-b'));

    expect(again).toMatchObject({ outcome: 'unchanged', events: [] });
    expect(h.table.lead('lead-1').version).toBe(1);
    expect(h.table.scoreHistory('lead-1')).toHaveLength(1);
    expect(crossings()).toHaveLength(1);
    expect(h.ofType('Lead Scored')).toHaveLength(1);
  });

  it('rejects an event whose detail fails the schema, naming the field', async () => {
    const bad = recorded(demo);
    (bad.detail as Record<string, unknown>).type = 'teleported';
    const error = await scoreHandler()(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).problems.map((p) => p.field)).toEqual(['detail.type']);
    expect(h.published).toEqual([]);
  });

  it('throws on throttling so EventBridge retries; the retry scores and qualifies exactly once', async () => {
    h.table.putLead(vpLead());
    h.table.putActivities([demo]);
    h.table.failNext('QueryCommand', throttling());
    const handler = scoreHandler();
    await expect(handler(enriched('lead-1', 'evt-t'))).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(h.table.lead('lead-1').version).toBe(0);

    await handler(enriched('lead-1', 'evt-t'));
    expect(h.table.lead('lead-1').stage).toBe('SQL');
    expect(crossings()).toHaveLength(1);
  });

  it('re-reads and re-scores when the lead changed concurrently (ConditionalCheckFailed on the lead)', async () => {
    h.table.putLead(managerLead());
    const download = activity('lead-1', 'content_download', '2026-03-02T09:00:00.000Z', {}, 'act-1');
    h.table.putActivities([download]);
    // A demo request lands (and the lead is saved by another function) while we score.
    h.table.beforeNext('TransactWriteCommand', () => {
      h.table.putActivities([demo]);
      const current = h.table.lead('lead-1');
      h.table.putLead({ ...current, version: current.version + 1 });
    });
    await scoreHandler()(recorded(download));

    const lead = h.table.lead('lead-1');
    expect(lead.score?.total).toBe(75);
    expect(lead.stage).toBe('SQL');
    expect(lead.version).toBe(2);
    // One history entry: it is written in the lead's transaction, which failed the first time.
    expect(h.table.scoreHistory('lead-1')).toHaveLength(1);
    expect(crossings().map((p) => p.detail.stage)).toEqual(['SQL']);
  });

  it('gives up after repeated conflicts with a retryable error and announces nothing', async () => {
    h.table.putLead(vpLead());
    h.table.putActivities([demo]);
    for (let i = 0; i < 5; i++)
      h.table.failNext('TransactWriteCommand', transactionCanceled(['ConditionalCheckFailed']));
    const handler = scoreHandler();
    await expect(handler(enriched('lead-1', 'evt-x'))).rejects.toMatchObject({ code: 'LEAD_CHANGED' });
    expect(h.published).toEqual([]);
    // EventBridge's retry starts afresh (nothing was written).
    await handler(enriched('lead-1', 'evt-x'));
    expect(crossings()).toHaveLength(1);
  });

  it('keeps the events in the outbox when the bus fails after the save; the relay publishes them once', async () => {
    // A nurtured lead whose demo request makes it an SQL: it must reach sales.
    h.table.putLead(vpLead({ status: 'nurturing', nurtureSequence: 'education' }));
    h.table.putActivities([demo]);
    h.failNextPublish(throttling());
    const handler = scoreHandler();
    // Stored with its events: the refusal is the relay's to handle, not a retry's.
    await expect(handler(recorded(demo, 'evt-crash'))).resolves.toMatchObject({ outcome: 'scored' });
    expect(h.table.lead('lead-1')).toMatchObject({ stage: 'SQL', scoredBy: { key: 'evt-crash' } });
    expect(h.published).toEqual([]);
    expect(h.table.byPk('OUTBOX')).toHaveLength(1);

    // A redelivery finds its own write and publishes nothing; the relay publishes the entry.
    expect(await handler(recorded(demo, 'evt-crash'))).toEqual({ outcome: 'already-scored', events: [] });
    const relayed = await relayOutbox(new Date(NOW.getTime() + 60_000), {
      publisher: h.publisher,
      outbox: new DynamoOutbox(TABLE, h.docClient),
    });
    expect(relayed).toEqual({ due: 1, published: 1, failed: 0 });
    expect(crossings().map((p) => p.detail)).toEqual([
      expect.objectContaining({ stage: 'SQL', previousStage: 'lead' }),
    ]);
    expect(h.ofType('Lead Scored').map((p) => p.detail)).toEqual([
      expect.objectContaining({ stage: 'SQL', previousStage: 'lead', routable: true }),
    ]);
    expect(h.table.scoreHistory('lead-1')).toHaveLength(1);

    // Another event finds the stage already reached: nothing is announced twice.
    await handler(recorded(demo, 'evt-later'));
    expect(crossings()).toHaveLength(1);
  });

  it('drops events for leads that no longer exist', async () => {
    expect(await scoreHandler()(enriched('gone'))).toEqual({ outcome: 'missing', events: [] });
    expect(h.published).toEqual([]);
  });
});

describe('isRoutable', () => {
  it('routes new leads once enriched, and unowned open leads that reach MQL or SQL', () => {
    expect(isRoutable({ status: 'new' }, 'enriched', undefined)).toBe(true);
    expect(isRoutable({ status: 'new' }, 'captured', undefined)).toBe(true);
    expect(isRoutable({ status: 'held' }, 'captured', undefined)).toBe(false);
    expect(isRoutable({ status: 'new' }, 'activity', undefined)).toBe(false);
    expect(isRoutable({ status: 'new' }, 'activity', 'MQL')).toBe(true);
    expect(isRoutable({ status: 'nurturing' }, 'activity', 'MQL')).toBe(true);
    expect(isRoutable({ status: 'held' }, 'enriched', undefined)).toBe(false);
    expect(isRoutable({ status: 'assigned', owner: 'ana' }, 'activity', 'SQL')).toBe(false);
    expect(isRoutable({ status: 'disqualified' }, 'activity', 'SQL')).toBe(false);
    expect(isRoutable({ status: 'pending' }, 'enriched', undefined)).toBe(false);
  });
});
