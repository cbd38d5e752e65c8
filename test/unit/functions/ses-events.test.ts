import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandler as createNurtureHandler } from '../../../functions/nurture/handler';
import { createHandler as createRelayHandler } from '../../../functions/relay/handler';
import { createHandler } from '../../../functions/ses-events/handler';
import { DynamoOutbox } from '../../../shared/adapters/outbox-store';
import { loadClientConfig } from '../../../shared/config/load';
import { DependencyUnavailableError, InvalidInputError } from '../../../shared/domain/errors';
import type { ActivityType, Lead } from '../../../shared/domain/lead';
import { sesActivityId } from '../../../shared/domain/ses-events';
import { announcedActivityTypes, type SesEventDecision } from '../../../shared/services/ses-events';
import { API_URL, DELIVERED, EmailHarness, SENT, sesEvent } from './email-kit';
import { activity, makeLead, TABLE, throttling } from './pipeline-kit';

const example = loadClientConfig('example', 'clients');
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
const ADDRESS = 'jane.doe@acme-software.example';

let h: EmailHarness;
beforeEach(() => {
  h = new EmailHarness();
});
afterEach(() => h.restore());

/** The example's scoring counts opens and clicks, not deliveries or bounces. */
const ANNOUNCED = announcedActivityTypes(example.scoring);

function sesEvents(announced: ReadonlySet<ActivityType> = ANNOUNCED) {
  const handler = createHandler({
    repository: h.repository,
    publisher: h.publisher,
    outbox: new DynamoOutbox(TABLE, h.docClient),
    announced,
  });
  return (event: unknown): Promise<SesEventDecision> => handler(event);
}

function relay(now: Date) {
  return createRelayHandler({
    outbox: new DynamoOutbox(TABLE, h.docClient),
    publisher: h.publisher,
    now: () => now,
  })();
}

const nurtured = (overrides: Partial<Lead> = {}) =>
  makeLead({
    status: 'nurturing',
    nurtureSequence: 'education',
    consent: { marketing: true, at: '2026-03-01T09:00:00.000Z', via: 'form' },
    version: 2,
    ...overrides,
  });

const delivery = (id = 'evt-delivery') =>
  sesEvent('Email Delivered', 'Delivery', { delivery: { timestamp: DELIVERED, recipients: [ADDRESS] } }, id);
const open = (userAgent: string, timestamp: string, id = 'evt-open') =>
  sesEvent('Email Opened', 'Open', { open: { timestamp, userAgent, ipAddress: '198.51.100.7' } }, id);
const click = (userAgent: string, timestamp: string, link: string, id = 'evt-click') =>
  sesEvent(
    'Email Clicked',
    'Click',
    { click: { timestamp, userAgent, link, ipAddress: '198.51.100.7', linkTags: {} } },
    id,
  );
const bounce = (bounceType: 'Permanent' | 'Transient', id = 'evt-bounce') =>
  sesEvent(
    'Email Bounced',
    'Bounce',
    {
      bounce: {
        bounceType,
        bounceSubType: bounceType === 'Permanent' ? 'General' : 'MailboxFull',
        bouncedRecipients: [{ emailAddress: ADDRESS, action: 'failed', status: '5.1.1' }],
        timestamp: '2026-03-02T10:00:04.000Z',
        feedbackId: 'feedback-1',
      },
    },
    id,
  );
const complaint = (id = 'evt-complaint') =>
  sesEvent(
    'Email Complaint Received',
    'Complaint',
    {
      complaint: {
        complainedRecipients: [{ emailAddress: ADDRESS }],
        timestamp: '2026-03-02T11:00:00.000Z',
        feedbackId: 'feedback-2',
        complaintSubType: null,
        complaintFeedbackType: 'abuse',
      },
    },
    id,
  );

describe('ses-events', () => {
  it('records a delivery in one conditional write and announces nothing when no rule counts it', async () => {
    h.table.putLead(nurtured());
    const decision = await sesEvents()(delivery());
    expect(decision).toMatchObject({ outcome: 'recorded', leadId: 'lead-1', type: 'email_delivered' });
    expect(h.table.activities('lead-1')).toHaveLength(1);
    expect(h.table.calls).toEqual(['TransactWriteCommand']);
    expect(h.published).toEqual([]);
    // Erased meanwhile: nothing recorded.
    h.table.delete({ pk: 'LEAD#lead-1', sk: 'PROFILE' });
    expect(await sesEvents()(delivery('evt-delivery-2'))).toMatchObject({ outcome: 'lead-missing' });
    expect(h.table.activities('lead-1')).toHaveLength(1);
  });

  it('announces a delivery for scoring when the client scores deliveries', async () => {
    h.table.putLead(nurtured());
    const decision = await sesEvents(new Set(['email_delivered']))(delivery());
    expect(decision).toMatchObject({ outcome: 'recorded', leadId: 'lead-1', type: 'email_delivered' });
    expect(h.table.activities('lead-1')).toMatchObject([
      {
        id: sesActivityId('evt-delivery'),
        type: 'email_delivered',
        at: DELIVERED,
        data: { messageId: 'msg-1', kind: 'nurture', sequence: 'education', step: 'welcome-guide' },
      },
    ]);
    expect(h.published).toEqual([
      {
        detailType: 'Activity Recorded',
        detail: {
          leadId: 'lead-1',
          occurredAt: DELIVERED,
          isTest: false,
          activityId: 'ses-evt-delivery',
          type: 'email_delivered',
        },
      },
    ]);
  });

  it('records and announces a redelivered event once, delivered twice, concurrently or not', async () => {
    h.table.putLead(nurtured());
    const handler = sesEvents(new Set(['email_delivered']));
    await handler(delivery());
    await handler(delivery());
    await Promise.all([handler(delivery()), handler(delivery())]);
    expect(h.table.activities('lead-1')).toHaveLength(1);
    expect(h.published).toHaveLength(1);
    expect(h.table.byPk('OUTBOX')).toEqual([]);
  });

  it('announces an out-of-order open and its later delivery once each', async () => {
    h.table.putLead(nurtured());
    const handler = sesEvents();
    await handler(open(CHROME, '2026-03-02T10:30:00.000Z'));
    await handler(delivery());
    await handler(open(CHROME, '2026-03-02T10:30:00.000Z'));
    expect(
      h.table
        .activities('lead-1')
        .map((a) => a.type)
        .sort(),
    ).toEqual(['email_delivered', 'email_opened']);
    expect(h.published.map((e) => e.detail.type)).toEqual(['email_opened']);
  });

  it('records a person opening later as engagement', async () => {
    h.table.putLead(nurtured());
    h.table.putActivities([activity('lead-1', 'email_delivered', DELIVERED, { messageId: 'msg-1' })]);
    const decision = await sesEvents()(open(CHROME, '2026-03-02T10:30:00.000Z'));
    expect(decision.machine).toBeUndefined();
    expect(h.ofType('Activity Recorded').map((e) => e.detail.type)).toEqual(['email_opened']);
  });

  it('records an Apple privacy-proxy open as machine and does not announce it', async () => {
    h.table.putLead(nurtured());
    const decision = await sesEvents()(open('Mozilla/5.0', '2026-03-02T10:00:02.000Z'));
    expect(decision).toMatchObject({ outcome: 'recorded', machine: 'apple-privacy-proxy' });
    expect(h.table.activities('lead-1')[0]?.data).toMatchObject({
      machine: true,
      machineReason: 'apple-privacy-proxy',
    });
    expect(h.published).toEqual([]);
  });

  it('treats a click 1 s after the recorded delivery as a link scanner', async () => {
    h.table.putLead(nurtured());
    h.table.putActivities([activity('lead-1', 'email_delivered', DELIVERED, { messageId: 'msg-1' })]);
    const decision = await sesEvents()(
      click(CHROME, '2026-03-02T10:00:02.500Z', 'https://www.northwind.example/webinar'),
    );
    expect(decision.machine).toBe('clicked-on-delivery');
    expect(h.table.activities('lead-1').find((a) => a.type === 'email_clicked')?.data).toMatchObject({
      link: 'https://www.northwind.example/webinar',
      machine: true,
    });
    expect(h.published).toEqual([]);
  });

  it('treats a second link clicked in the same second as a scanner burst', async () => {
    h.table.putLead(nurtured());
    const human = click(CHROME, '2026-03-02T12:00:00.100Z', 'https://www.northwind.example/a', 'evt-click-a');
    const burst = click(CHROME, '2026-03-02T12:00:00.600Z', 'https://www.northwind.example/b', 'evt-click-b');
    expect((await sesEvents()(human)).machine).toBeUndefined();
    expect((await sesEvents()(burst)).machine).toBe('click-burst');
    expect(h.published).toHaveLength(1);
  });

  it('suppresses a permanently bounced address, flags the lead and announces the unsubscribe', async () => {
    h.table.putLead(nurtured());
    const decision = await sesEvents()(bounce('Permanent'));
    expect(decision).toMatchObject({ outcome: 'recorded', suppressed: 'bounce', unsubscribed: true });
    expect(h.suppression(ADDRESS)).toMatchObject({ reason: 'bounce', at: '2026-03-02T10:00:04.000Z' });
    const lead = h.table.lead('lead-1');
    expect(lead.unsubscribed).toBe(true);
    // A dead address is not a withdrawal of consent.
    expect(lead.consent?.marketing).toBe(true);
    expect(h.published.map((e) => [e.detailType, e.detail.via ?? e.detail.type])).toEqual([
      ['Lead Unsubscribed', 'bounce'],
    ]);
  });

  it('only records a transient bounce', async () => {
    h.table.putLead(nurtured());
    const decision = await sesEvents()(bounce('Transient'));
    expect(decision).toMatchObject({ outcome: 'recorded', unsubscribed: false });
    expect(decision.suppressed).toBeUndefined();
    expect(h.suppression(ADDRESS)).toBeUndefined();
    expect(h.table.lead('lead-1').unsubscribed).toBe(false);
    expect(h.table.activities('lead-1').map((a) => a.type)).toEqual(['email_bounced']);
    expect(h.published).toEqual([]);
  });

  it('on a complaint suppresses, withdraws consent and announces via complaint', async () => {
    h.table.putLead(nurtured());
    await sesEvents()(complaint());
    expect(h.suppression(ADDRESS)).toMatchObject({ reason: 'complaint' });
    expect(h.table.lead('lead-1')).toMatchObject({
      unsubscribed: true,
      consent: { marketing: false, at: '2026-03-02T11:00:00.000Z', via: 'unsubscribe:complaint' },
    });
    expect(h.ofType('Lead Unsubscribed').map((e) => e.detail.via)).toEqual(['complaint']);
    expect(h.table.activities('lead-1')[0]).toMatchObject({
      type: 'email_complained',
      data: { feedbackType: 'abuse' },
    });
  });

  it('stops the nurture sequence at its next step after a complaint', async () => {
    h.table.putLead(nurtured());
    await sesEvents()(complaint());
    const nurture = createNurtureHandler({
      repository: h.repository,
      mailer: h.mailer,
      secrets: h.secrets,
      config: example,
      apiUrl: API_URL,
      now: () => new Date('2026-03-05T10:00:00.000Z'),
    });
    const result = await nurture({
      action: 'send',
      enrolment: {
        leadId: 'lead-1',
        occurredAt: SENT,
        isTest: false,
        sequenceId: 'education',
        ruleId: 'everyone-else',
      },
      step: { id: 'case-study', index: 1, waitSeconds: 259200 },
      executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:NurtureWorkflow:x',
    });
    expect(result).toMatchObject({ outcome: 'stop', reason: 'unsubscribed' });
    expect(h.sent()).toHaveLength(0);
  });

  it('does not announce a second unsubscribe for a lead that had already unsubscribed', async () => {
    h.table.putLead(nurtured({ unsubscribed: true }));
    const decision = await sesEvents()(complaint());
    expect(decision).toMatchObject({ outcome: 'recorded', unsubscribed: false });
    expect(h.table.activities('lead-1').map((a) => a.type)).toEqual(['email_complained']);
    expect(h.published).toEqual([]);
  });

  it('leaves the announcement to the relay when the bus refuses, and publishes it once', async () => {
    h.table.putLead(nurtured());
    h.failNextPublish(throttling());
    const first = await sesEvents()(complaint());
    expect(first).toMatchObject({ outcome: 'recorded', unsubscribed: true });
    expect(h.published).toEqual([]);
    expect(h.table.lead('lead-1').unsubscribed).toBe(true);
    // A redelivery finds its own write and publishes nothing; the relay publishes the entry.
    expect(await sesEvents()(complaint())).toMatchObject({ outcome: 'repeated', events: [] });
    expect(await relay(new Date(Date.now() + 120_000))).toMatchObject({ published: 1 });
    expect(h.published.map((e) => e.detailType)).toEqual(['Lead Unsubscribed']);
    await sesEvents()(complaint());
    expect(await relay(new Date(Date.now() + 240_000))).toMatchObject({ published: 0 });
    expect(h.published).toHaveLength(1);
  });

  it('after a crash between the write and the publish, the relay announces the unsubscribe once', async () => {
    h.table.putLead(nurtured());
    // The invocation dies inside the publish: nothing reaches the bus, the entry stays.
    h.failNextPublish(new Error('Runtime exited'));
    await sesEvents()(complaint());
    expect(h.table.byPk('OUTBOX')).toHaveLength(1);
    expect(await sesEvents()(complaint())).toMatchObject({ outcome: 'repeated', unsubscribed: false });
    await relay(new Date(Date.now() + 120_000));
    expect(h.published.map((e) => e.detailType)).toEqual(['Lead Unsubscribed']);
  });

  it('after a failed lead write, the retry records the unsubscribe and announces it', async () => {
    h.table.putLead(nurtured());
    h.table.failNext('TransactWriteCommand', throttling());
    await expect(sesEvents()(complaint())).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(h.table.lead('lead-1').unsubscribed).toBe(false);
    expect(h.suppression(ADDRESS)).toMatchObject({ reason: 'complaint' });

    expect(await sesEvents()(complaint())).toMatchObject({ outcome: 'recorded', unsubscribed: true });
    expect(h.table.lead('lead-1').unsubscribed).toBe(true);
    expect(h.published.map((e) => e.detailType)).toEqual(['Lead Unsubscribed']);
  });

  it('throws on DynamoDB throttling so the event is retried, then records it', async () => {
    h.table.putLead(nurtured());
    h.table.failNext('TransactWriteCommand', throttling());
    const handler = sesEvents(new Set(['email_delivered']));
    await expect(handler(delivery())).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(h.table.activities('lead-1')).toHaveLength(0);
    await handler(delivery());
    expect(h.table.activities('lead-1')).toHaveLength(1);
    expect(h.published).toHaveLength(1);
  });

  it('still suppresses the address of a hard bounce for an erased lead', async () => {
    const decision = await sesEvents()(bounce('Permanent'));
    expect(decision).toMatchObject({ outcome: 'lead-missing', suppressed: 'bounce' });
    expect(h.suppression(ADDRESS)).toMatchObject({ reason: 'bounce' });
    expect(h.published).toEqual([]);
  });

  it('ignores messages without a lead tag, but never mails a complaining address again', async () => {
    const untagged = { 'ses:configuration-set': ['lead-pipeline-example'] };
    const event = sesEvent(
      'Email Complaint Received',
      'Complaint',
      {
        complaint: {
          complainedRecipients: [{ emailAddress: ADDRESS }],
          timestamp: '2026-03-02T11:00:00.000Z',
        },
      },
      'evt-untagged',
      untagged,
    );
    expect(await sesEvents()(event)).toMatchObject({ outcome: 'untagged', suppressed: 'complaint' });
    expect(h.suppression(ADDRESS)).toMatchObject({ reason: 'complaint' });
  });

  it('ignores Email Sent and Email Rejected', async () => {
    h.table.putLead(nurtured());
    expect(await sesEvents()(sesEvent('Email Sent', 'Send', { send: {} }, 'evt-send'))).toMatchObject({
      outcome: 'ignored',
    });
    expect(
      await sesEvents()(
        sesEvent('Email Rejected', 'Reject', { reject: { reason: 'Bad content' } }, 'evt-rej'),
      ),
    ).toMatchObject({
      outcome: 'ignored',
    });
    expect(h.table.activities('lead-1')).toEqual([]);
    expect(h.published).toEqual([]);
  });

  it('rejects a malformed event, naming the field', async () => {
    const event = delivery();
    const error = await sesEvents()({ ...event, detail: { eventType: 'Delivery' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).problems.map((p) => p.field)).toContain('detail.mail');
  });
});
