import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
});

import { createHandler } from '../../../functions/meetings/handler';
import { createHandler as createNextStep } from '../../../functions/next-step/handler';
import { SchedulerSlaClock } from '../../../shared/adapters/sla-ladder';
import { signNextStepToken } from '../../../shared/domain/booking';
import type { Lead } from '../../../shared/domain/lead';
import { slaExecutionName } from '../../../shared/domain/sla';
import type { ApiEvent } from '../../../shared/http/api';
import { activity, config, LeadsHarness, makeLead, SLA_SCHEDULE_GROUP, slaExecution } from './leads-kit';
import { eventBridgeEvent, lambdaContext } from './pipeline-kit';

const BOOKED_AT = '2026-03-02T08:02:00.000Z';
const ASSIGNED_AT = '2026-03-02T08:00:05.000Z';

let h: LeadsHarness;
beforeEach(() => {
  h = new LeadsHarness();
});
afterEach(() => h.restore());

const handler = () =>
  createHandler({
    config,
    store: h.repository,
    publisher: h.publisher,
    sla: new SchedulerSlaClock(SLA_SCHEDULE_GROUP, config.sla.ladder.length, h.schedulerClient),
    steps: h.steps('meetings'),
  });

/** Ana's SQL lead from a form, with a running SLA ladder. */
const anasLead = (overrides: Partial<Lead> = {}) =>
  makeLead({
    status: 'assigned',
    stage: 'SQL',
    owner: 'ana',
    team: 'emea',
    assignedAt: ASSIGNED_AT,
    ...overrides,
  });

/** The activity the webhook records for a booking, and its `Activity Recorded` event. */
async function booked(data: Record<string, unknown>, type: 'meeting_booked' | 'note' = 'meeting_booked') {
  const a = activity(
    'lead-1',
    type,
    BOOKED_AT,
    { provider: 'calendly', bookingId: 'inv-1', ...data },
    `calendly-${type}`,
  );
  await h.repository.addActivities([a]);
  return (id: string) =>
    eventBridgeEvent(
      'Activity Recorded',
      { leadId: 'lead-1', occurredAt: BOOKED_AT, isTest: false, activityId: a.id, type },
      id,
    );
}

describe('meetings: a booking from Calendly or Cal.com', () => {
  it('is the first touch (as "Contacted" is), stops the SLA ladder, and announces Meeting Booked once', async () => {
    await h.seed(anasLead());
    const event = await booked({
      kind: 'meeting_booked',
      startTime: '2026-03-03T10:00:00.000Z',
      endTime: '2026-03-03T10:30:00.000Z',
      meetingName: '30 Minute Demo',
      instantOffer: true,
    });
    // The webhook republishes Activity Recorded on every redelivery: new event ids, same activity.
    const first = await handler()(event('evt-1'), lambdaContext());
    await handler()(event('evt-2'), lambdaContext());
    await handler()(event('evt-3'), lambdaContext());

    expect(first).toMatchObject({ outcome: 'booked', contacted: true, via: 'instant-offer' });
    expect(h.table.lead('lead-1')).toMatchObject({ status: 'contacted', firstTouchAt: BOOKED_AT });
    expect(h.ofType('Lead Contacted')).toEqual([
      {
        detailType: 'Lead Contacted',
        detail: expect.objectContaining({ leadId: 'lead-1', repId: 'ana', secondsToFirstTouch: 120 }),
      },
    ]);
    expect(h.ofType('Meeting Booked')).toEqual([
      {
        detailType: 'Meeting Booked',
        detail: {
          leadId: 'lead-1',
          occurredAt: BOOKED_AT,
          isTest: false,
          activityId: 'calendly-meeting_booked',
          provider: 'calendly',
          bookingId: 'inv-1',
          startTime: '2026-03-03T10:00:00.000Z',
          endTime: '2026-03-03T10:30:00.000Z',
          meetingName: '30 Minute Demo',
          repId: 'ana',
          via: 'instant-offer',
          rescheduled: false,
        },
      },
    ]);
    expect(h.stopped.map((s) => s.executionArn)).toEqual([
      slaExecution(slaExecutionName('lead-1', ASSIGNED_AT)),
    ]);
    const contacted = h.table.activities('lead-1').filter((a) => a.type === 'contacted');
    expect(contacted).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({ repId: 'ana', by: 'calendly' }),
      }),
    ]);
    expect(h.table.byPk('OUTBOX')).toEqual([]);
  });

  it('after the rep’s own contact is rep outreach, and changes nothing about the first touch', async () => {
    await h.seed(anasLead({ status: 'contacted', firstTouchAt: '2026-03-02T08:01:00.000Z' }));
    const event = await booked({ kind: 'meeting_booked' });
    const decision = await handler()(event('evt-1'), lambdaContext());
    expect(decision).toMatchObject({ outcome: 'booked', contacted: false, via: 'rep-outreach' });
    expect(h.ofType('Lead Contacted')).toEqual([]);
    expect(h.stopped).toEqual([]);
    expect(h.ofType('Meeting Booked')).toHaveLength(1);
  });

  it('with no owner yet credits nobody, but still announces the meeting', async () => {
    await h.seed(makeLead({ status: 'new' }));
    const event = await booked({ kind: 'meeting_booked' });
    expect(await handler()(event('evt-1'), lambdaContext())).toMatchObject({
      outcome: 'booked',
      contacted: false,
    });
    expect(h.table.lead('lead-1').firstTouchAt).toBeUndefined();
    expect(h.ofType('Meeting Booked')[0]?.detail).not.toHaveProperty('repId');
  });

  it('announces a cancellation as Meeting Canceled, and ignores other notes', async () => {
    await h.seed(anasLead());
    const cancel = await booked({ kind: 'meeting_canceled', rescheduled: true }, 'note');
    expect(await handler()(cancel('evt-1'), lambdaContext())).toMatchObject({ outcome: 'canceled' });
    expect(h.ofType('Meeting Canceled')).toEqual([
      {
        detailType: 'Meeting Canceled',
        detail: expect.objectContaining({ leadId: 'lead-1', bookingId: 'inv-1', rescheduled: true }),
      },
    ]);
    await h.repository.addActivities([activity('lead-1', 'note', BOOKED_AT, { text: 'called' }, 'rep-note')]);
    const note = eventBridgeEvent('Activity Recorded', {
      leadId: 'lead-1',
      occurredAt: BOOKED_AT,
      isTest: false,
      activityId: 'rep-note',
      type: 'note',
    });
    expect(await handler()(note, lambdaContext())).toMatchObject({ outcome: 'not-a-booking', events: [] });
    expect(h.table.lead('lead-1').firstTouchAt).toBeUndefined();
  });

  it('publishes on the retry when the bus refused the first time, without contacting twice', async () => {
    await h.seed(anasLead());
    const event = await booked({ kind: 'meeting_booked' });
    // The bus refuses `Lead Contacted` (kept in the outbox with the first touch) and `Meeting Booked`.
    h.failNextPublish(new Error('bus down')).failNextPublish(new Error('bus down'));
    await expect(handler()(event('evt-1'), lambdaContext())).rejects.toThrow();
    expect(h.table.byPk('OUTBOX')).toHaveLength(1);
    await handler()(event('evt-1'), lambdaContext());
    await handler()(event('evt-1'), lambdaContext());
    expect(h.ofType('Meeting Booked')).toHaveLength(1);
    expect(h.table.activities('lead-1').filter((a) => a.type === 'contacted')).toHaveLength(1);
  });
});

describe('next-step: GET /next/{token}', () => {
  const KEY = 'a-signing-key-of-enough-length';
  const NOW = new Date('2026-03-02T08:00:01.000Z');
  const nextStep = (now = NOW) =>
    createNextStep({
      config,
      store: h.repository,
      secrets: { read: async () => ({ signingKey: KEY }) as never },
      logger: { info: () => {} },
      now: () => now,
    });
  const request = (token: string, accept = 'application/json'): ApiEvent =>
    ({
      rawPath: `/next/${token}`,
      headers: { accept, host: 'api.example.com' },
      pathParameters: { token },
      requestContext: { domainName: 'api.example.com' },
    }) as unknown as ApiEvent;
  const token = signNextStepToken('lead-1', KEY, new Date('2026-03-02T08:00:00.000Z'));
  const json = (result: { body?: string }) => JSON.parse(String(result.body)) as Record<string, unknown>;

  it('answers pending while routing runs, then the offer with the prefilled link', async () => {
    await h.seed(makeLead({ status: 'new', profile: { firstName: 'Jane', lastName: 'Doe' } }));
    const pending = await nextStep()(request(token));
    expect(pending.statusCode).toBe(200);
    expect(pending.headers?.['cache-control']).toBe('no-store');
    expect(json(pending)).toMatchObject({
      state: 'pending',
      statusUrl: `https://api.example.com/next/${token}`,
    });

    h.table.lead('lead-1');
    await h.repository.saveLead(h.table.lead('lead-1') as Lead, {
      ...(h.table.lead('lead-1') as Lead),
      status: 'assigned',
      stage: 'SQL',
      owner: 'ana',
    });
    const offer = json(await nextStep()(request(token)));
    expect(offer).toMatchObject({ state: 'offer', firstName: 'Jane', offer: { repName: 'Ana Schmidt' } });
    const link = new URL(String((offer.offer as { bookingUrl: string }).bookingUrl));
    expect(link.searchParams.get('name')).toBe('Jane Doe');
    expect(link.searchParams.get('email')).toBe('jane.doe@acme-software.example');
    // No more than what the visitor typed: no score, company, owner id or lead id.
    expect(Object.keys(offer).sort()).toEqual(['firstName', 'offer', 'state', 'statusUrl']);
  });

  it('gives up waiting after a few seconds: the normal thanks, as a page without script', async () => {
    await h.seed(makeLead({ status: 'new' }));
    const late = await nextStep(new Date('2026-03-02T08:00:30.000Z'))(request(token, 'text/html'));
    expect(late.statusCode).toBe(200);
    expect(late.body).toContain('data-next-thanks');
    expect(late.body).not.toContain('<script');
    expect(late.body).not.toContain('http-equiv="refresh"');
  });

  it('names the public URL as its status URL, and answers 503 while the signing key cannot be read', async () => {
    await h.seed(makeLead({ status: 'new' }));
    const behindWaf = createNextStep({
      config,
      store: h.repository,
      secrets: { read: async () => ({ signingKey: KEY }) as never },
      logger: { info: () => {} },
      now: () => NOW,
      apiUrl: 'https://d111.cloudfront.example/',
    });
    expect(json(await behindWaf(request(token)))).toMatchObject({
      statusUrl: `https://d111.cloudfront.example/next/${token}`,
    });
    const down = createNextStep({
      config,
      store: h.repository,
      secrets: {
        read: async () => {
          throw new Error('Secrets Manager unavailable');
        },
      },
      logger: { info: () => {} },
      now: () => NOW,
    });
    expect((await down(request(token))).statusCode).toBe(503);
    const page = await down(request(token, 'text/html'));
    expect(page.statusCode).toBe(503);
    expect(page.body).toContain('data-next-thanks');
  });

  it('refuses a tampered token with 404 and an expired one with 410', async () => {
    await h.seed(makeLead());
    expect((await nextStep()(request(`${token.slice(0, -3)}abc`))).statusCode).toBe(404);
    expect((await nextStep(new Date('2026-03-03T08:00:00.000Z'))(request(token))).statusCode).toBe(410);
    const page = await nextStep()(request('nonsense', 'text/html'));
    expect(page.statusCode).toBe(404);
    expect(page.body).toContain('data-next-thanks');
  });
});
