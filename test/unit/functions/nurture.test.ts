import { PinpointSMSVoiceV2Client, SendTextMessageCommand } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createHandler,
  NURTURE_RETRYABLE_ERROR,
  NurtureRetryableError,
} from '../../../functions/nurture/handler';
import { DynamoSmsOptOuts } from '../../../shared/adapters/sms-opt-outs';
import { EndUserMessagingSms } from '../../../shared/adapters/sms-sender';
import { loadClientConfig } from '../../../shared/config/load';
import type { ClientConfig } from '../../../shared/config/schema';
import { InvalidInputError } from '../../../shared/domain/errors';
import type { Lead, LeadProfile } from '../../../shared/domain/lead';
import { verifyToken } from '../../../shared/domain/tokens';
import type { NurtureSendResult } from '../../../shared/services/nurture';
import { API_URL, CONFIGURATION_SET, EmailHarness, SIGNING_KEY, sesError, socketTimeout } from './email-kit';
import { activity, makeLead, TABLE, throttling } from './pipeline-kit';

const example = loadClientConfig('example', 'clients');

/** Lead fields to change, with a partial profile merged into the default one. */
type LeadOverrides = Omit<Partial<Lead>, 'profile'> & { profile?: Partial<LeadProfile> };
const NOW = new Date('2026-03-02T10:00:00.000Z');
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:NurtureWorkflow:lead-1';
const enrolment = {
  leadId: 'lead-1',
  occurredAt: '2026-03-02T09:00:00.000Z',
  isTest: false,
  sequenceId: 'education',
  ruleId: 'everyone-else',
};
const firstStepRef = { id: 'welcome-guide', index: 0, waitSeconds: 3600 };

let h: EmailHarness;
beforeEach(() => {
  h = new EmailHarness();
});
afterEach(() => h.restore());

function nurture(config: ClientConfig = example) {
  return createHandler(h.mailDeps(config, NOW));
}

async function send(step = firstStepRef, config?: ClientConfig): Promise<NurtureSendResult> {
  return (await nurture(config)({
    action: 'send',
    enrolment,
    step,
    executionArn: EXECUTION,
  })) as NurtureSendResult;
}

function nurtured(overrides: LeadOverrides = {}): Lead {
  return makeLead({
    status: 'nurturing',
    nurtureSequence: 'education',
    consent: { marketing: true, at: '2026-03-02T08:00:00.000Z', via: 'form' },
    ...overrides,
    profile: { firstName: 'Jane', lastName: 'Doe', company: 'Acme Software', ...overrides.profile },
  });
}

describe('nurture payloads', () => {
  it('rejects a payload that breaks the contract, naming the fields', async () => {
    // `plan` is gone: the machine is generated from the sequences and only sends.
    await expect(nurture()({ action: 'plan', enrolment, executionArn: EXECUTION })).rejects.toBeInstanceOf(
      InvalidInputError,
    );
    const error = await nurture()({
      action: 'send',
      step: firstStepRef,
      enrolment: { leadId: 'lead-1' },
      executionArn: EXECUTION,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).problems.map((p) => p.field)).toEqual(
      expect.arrayContaining(['enrolment.occurredAt', 'enrolment.sequenceId', 'enrolment.ruleId']),
    );
    await expect(
      nurture()({
        action: 'send',
        enrolment,
        step: { id: 'x', index: -1, waitSeconds: 1.5 },
        executionArn: EXECUTION,
      }),
    ).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe('nurture send', () => {
  it('sends the personalised step through SES with tags, one-click headers and the footer', async () => {
    h.table.putLead(nurtured());
    const result = await send();

    expect(result).toEqual({
      outcome: 'sent',
      channel: 'email',
      delivery: 'sent',
      messageId: 'ses-message-1',
      goto: 'education/case-study',
      at: NOW.toISOString(),
    });
    const [request] = h.sent();
    expect(h.sent()).toHaveLength(1);
    expect(request?.FromEmailAddress).toBe('"Northwind Analytics" <hello@northwind.example>');
    expect(request?.Destination).toEqual({ ToAddresses: ['jane.doe@acme-software.example'] });
    expect(request?.ReplyToAddresses).toEqual(['sales@northwind.example']);
    expect(request?.ConfigurationSetName).toBe(CONFIGURATION_SET);
    expect(request?.EmailTags).toEqual([
      { Name: 'lead_id', Value: 'lead-1' },
      { Name: 'sequence', Value: 'education' },
      { Name: 'step', Value: 'welcome-guide' },
      { Name: 'kind', Value: 'nurture' },
    ]);
    const simple = request?.Content?.Simple;
    expect(simple?.Subject?.Data).toBe('Jane, your product-analytics starter guide');
    expect(simple?.Body?.Html?.Data).toContain('teams at Acme Software use');
    expect(simple?.Body?.Html?.Data).toContain(example.email.postalAddress);
    expect(simple?.Body?.Text?.Data).toContain(example.email.postalAddress);

    const [listUnsubscribe, oneClick] = simple?.Headers ?? [];
    expect(oneClick).toEqual({ Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' });
    const url = /^<(.+)>$/.exec(String(listUnsubscribe?.Value))?.[1] ?? '';
    expect(listUnsubscribe?.Name).toBe('List-Unsubscribe');
    expect(url.startsWith(`${API_URL}/unsubscribe?token=`)).toBe(true);
    const token = new URL(url).searchParams.get('token') ?? '';
    expect(verifyToken(token, 'unsubscribe', SIGNING_KEY, new Date('2036-01-01T00:00:00Z'))).toEqual({
      ok: true,
      leadId: 'lead-1',
    });
    expect(simple?.Body?.Text?.Data).toContain(url);

    expect(h.claim('lead-1', 'education', 'welcome-guide')).toMatchObject({
      status: 'sent',
      messageId: 'ses-message-1',
      at: NOW.toISOString(),
    });
  });

  it('drops a hostile name for the neutral greeting and keeps the subject on one line', async () => {
    h.table.putLead(
      nurtured({ profile: { firstName: '<img src=x onerror=alert(1)>\r\nBcc: x@evil.example' } }),
    );
    await send();
    const simple = h.sent()[0]?.Content?.Simple;
    expect(simple?.Body?.Html?.Data).toContain('Hi there,');
    expect(simple?.Body?.Html?.Data).not.toContain('<img');
    expect(simple?.Body?.Html?.Data).not.toContain('evil.example');
    expect(simple?.Subject?.Data).not.toMatch(/[\r\n]/);
  });

  it('never sends a step twice when the task runs again', async () => {
    h.table.putLead(nurtured());
    const first = await send();
    const second = await send();
    expect(h.sent()).toHaveLength(1);
    expect(first.outcome).toBe('sent');
    expect(second).toEqual({
      outcome: 'sent',
      channel: 'email',
      delivery: 'already-sent',
      goto: first.goto,
      at: first.at,
    });
  });

  it('does not send when another attempt already claimed the step (conditional claim fails)', async () => {
    h.table.putLead(nurtured());
    // A concurrent execution claims the step between our read and our claim.
    h.table.beforeNext('TransactWriteCommand', () =>
      h.table.put({
        pk: 'LEAD#lead-1',
        sk: 'SEND#education#welcome-guide',
        entity: 'send',
        at: NOW.toISOString(),
      }),
    );
    const result = await send();
    expect(result).toMatchObject({ outcome: 'sent', delivery: 'already-sent' });
    expect(h.sent()).toHaveLength(0);
  });

  it.each<[string, LeadOverrides, string]>([
    ['unsubscribed', { unsubscribed: true }, 'unsubscribed'],
    ['converted', { status: 'converted' }, 'converted'],
    ['lost', { status: 'disqualified', lostReason: 'Not a fit' }, 'lost'],
    ['SQL', { stage: 'SQL' }, 'sales-ready'],
    ['assigned to a rep', { owner: 'ana', status: 'assigned' }, 'assigned'],
    ['without an address', { profile: { email: undefined } }, 'no-email'],
    ['a test lead', { isTest: true }, 'test-lead'],
    ['without marketing consent (consent-required)', { consent: undefined }, 'no-consent'],
  ])('stops without sending or recording anything for a lead %s', async (_name, overrides, reason) => {
    h.table.putLead(nurtured(overrides));
    const before = h.table.items.size;
    const result = await send();
    expect(result).toEqual({ outcome: 'stop', reason, goto: 'end', at: NOW.toISOString() });
    expect(h.sent()).toHaveLength(0);
    expect(h.table.items.size).toBe(before);
  });

  it('stops for a suppressed address', async () => {
    h.table.putLead(nurtured());
    h.suppressAddress('Jane.Doe@acme-software.example');
    expect(await send()).toMatchObject({ outcome: 'stop', reason: 'suppressed' });
    expect(h.sent()).toHaveLength(0);
  });

  it.each([
    ['email_replied', 'replied'],
    ['meeting_booked', 'meeting-booked'],
  ] as const)('stops once the lead has a %s activity', async (type, reason) => {
    h.table.putLead(nurtured());
    h.table.putActivities([activity('lead-1', type, '2026-03-02T09:30:00.000Z')]);
    expect(await send()).toMatchObject({ outcome: 'stop', reason });
    expect(h.sent()).toHaveLength(0);
  });

  it('sends without a consent record in opt-out mode', async () => {
    h.table.putLead(nurtured({ consent: undefined }));
    const optOut = { ...example, client: { ...example.client, consentMode: 'opt-out' as const } };
    expect((await send(firstStepRef, optOut)).outcome).toBe('sent');
    expect(h.sent()).toHaveLength(1);
  });

  it('stops when the lead no longer exists', async () => {
    expect(await send()).toMatchObject({ outcome: 'stop', reason: 'lead-missing' });
  });

  it('ends, sending nothing, at a step removed from the config since the execution started', async () => {
    h.table.putLead(nurtured());
    const result = await send({ id: 'old-step', index: 1, waitSeconds: 60 });
    expect(result).toEqual({
      outcome: 'skipped',
      reason: 'step-removed',
      goto: 'end',
      at: NOW.toISOString(),
    });
    expect(h.sent()).toHaveLength(0);
  });

  it('ends after a step whose next is "end"', async () => {
    h.table.putLead(nurtured());
    // Opened the previous email, so the "went quiet" branch does not apply.
    h.table.putActivities([activity('lead-1', 'email_opened', '2026-03-02T09:30:00.000Z')]);
    const result = await send({ id: 'webinar-invite', index: 2, waitSeconds: 168 * 3600 });
    expect(result).toMatchObject({ outcome: 'sent', goto: 'end' });
  });

  it('retries SES throttling in-process and sends once', async () => {
    h.table.putLead(nurtured());
    h.sesMock
      .on(SendEmailCommand)
      .rejectsOnce(sesError('TooManyRequestsException', 429))
      .resolves({ MessageId: 'after-throttle' });
    expect(await send()).toMatchObject({ outcome: 'sent', messageId: 'after-throttle' });
    expect(h.sent()).toHaveLength(2);
  });

  it('releases the claim and throws a retryable error when SES keeps throttling; the retry sends', async () => {
    h.table.putLead(nurtured());
    h.sesMock.on(SendEmailCommand).rejects(sesError('TooManyRequestsException', 429));
    const error = await send().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NurtureRetryableError);
    expect((error as Error).name).toBe(NURTURE_RETRYABLE_ERROR);
    expect(h.sent()).toHaveLength(3);
    expect(h.claim('lead-1', 'education', 'welcome-guide')).toBeUndefined();

    h.sesMock.on(SendEmailCommand).resolves({ MessageId: 'second-try' });
    expect(await send()).toMatchObject({ outcome: 'sent', delivery: 'sent', messageId: 'second-try' });
  });

  it('treats a daily quota refusal as retryable without in-process retries', async () => {
    h.table.putLead(nurtured());
    h.sesMock.on(SendEmailCommand).rejects(sesError('LimitExceededException', 400));
    await expect(send()).rejects.toBeInstanceOf(NurtureRetryableError);
    expect(h.sent()).toHaveLength(1);
    expect(h.claim('lead-1', 'education', 'welcome-guide')).toBeUndefined();
  });

  it('stops the sequence when SES rejects the message for good', async () => {
    h.table.putLead(nurtured());
    h.sesMock.on(SendEmailCommand).rejects(sesError('MessageRejected', 400));
    expect(await send()).toEqual({ outcome: 'stop', reason: 'refused', goto: 'end', at: NOW.toISOString() });
    expect(h.claim('lead-1', 'education', 'welcome-guide')).toBeUndefined();
  });

  it('counts a send without an answer as sent and never resends it (at most once)', async () => {
    h.table.putLead(nurtured());
    h.sesMock.on(SendEmailCommand).rejects(socketTimeout());
    expect(await send()).toMatchObject({ outcome: 'sent', delivery: 'unconfirmed' });
    expect(h.claim('lead-1', 'education', 'welcome-guide')).toMatchObject({ status: 'unconfirmed' });

    h.sesMock.on(SendEmailCommand).resolves({ MessageId: 'would-be-duplicate' });
    expect(await send()).toMatchObject({ outcome: 'sent', delivery: 'already-sent' });
    expect(h.sent()).toHaveLength(1);
  });

  it('throws a retryable error with nothing sent when DynamoDB throttles', async () => {
    h.table.putLead(nurtured());
    h.table.failNext('GetCommand', throttling());
    await expect(send()).rejects.toBeInstanceOf(NurtureRetryableError);
    expect(h.sent()).toHaveLength(0);
  });

  it('throws a retryable error with nothing claimed when the secret cannot be read', async () => {
    h.table.putLead(nurtured());
    h.secretsMock
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(send()).rejects.toBeInstanceOf(NurtureRetryableError);
    expect(h.claim('lead-1', 'education', 'welcome-guide')).toBeUndefined();
    expect(h.sent()).toHaveLength(0);
  });

  it('still counts the step as sent when storing the message id fails', async () => {
    h.table.putLead(nurtured());
    h.table.failNext('UpdateCommand', throttling());
    expect(await send()).toMatchObject({ outcome: 'sent', delivery: 'sent' });
    expect(h.claim('lead-1', 'education', 'welcome-guide')).toMatchObject({ at: NOW.toISOString() });
    expect(await send()).toMatchObject({ delivery: 'already-sent' });
    expect(h.sent()).toHaveLength(1);
  });
});

describe('branching nurture', () => {
  const caseStudy = { id: 'case-study', index: 1, waitSeconds: 72 * 3600, sequenceId: 'education' };
  const previous = {
    result: { outcome: 'sent', at: '2026-03-02T09:00:00.000Z', goto: 'education/case-study' },
  };
  const run = (step: Record<string, unknown>, state: unknown = previous, deps = h.mailDeps(example, NOW)) =>
    createHandler(deps)({
      action: 'send',
      enrolment,
      step,
      executionArn: EXECUTION,
      state,
    }) as Promise<NurtureSendResult>;

  it('takes the pricing branch after a click on the pricing link, sending nothing at that step', async () => {
    h.table.putLead(nurtured());
    h.table.putActivities([
      activity('lead-1', 'email_clicked', '2026-03-02T09:30:00.000Z', {
        link: 'https://www.northwind.example/pricing?utm_medium=email',
        sequence: 'education',
        step: 'welcome-guide',
      }),
    ]);
    expect(await run(caseStudy)).toEqual({
      outcome: 'branch',
      branch: 'education/case-study/clicked-pricing',
      goto: 'education/pricing-faq',
      at: NOW.toISOString(),
    });
    expect(h.sent()).toHaveLength(0);
  });

  it('ignores a click from before the previous step and sends the step', async () => {
    h.table.putLead(nurtured());
    h.table.putActivities([
      activity('lead-1', 'email_clicked', '2026-03-02T08:30:00.000Z', {
        link: 'https://www.northwind.example/pricing',
      }),
    ]);
    expect(await run(caseStudy)).toMatchObject({ outcome: 'sent', goto: 'education/webinar-invite' });
  });

  it('records the branch that led to a step on its send record', async () => {
    h.table.putLead(nurtured());
    const faq = { id: 'pricing-faq', index: 3, waitSeconds: 0, sequenceId: 'education' };
    // The previous task's answer, as the machine hands it on in `$.result`.
    const state = {
      result: { outcome: 'branch', at: NOW.toISOString(), branch: 'education/case-study/clicked-pricing' },
    };
    expect(await run(faq, state)).toMatchObject({ outcome: 'sent', goto: 'education/pricing-reminder' });
    expect(h.claim('lead-1', 'education', 'pricing-faq')).toMatchObject({
      via: 'education/case-study/clicked-pricing',
    });
  });

  it("defers a step due outside the lead's send window to the window's next opening", async () => {
    h.table.putLead(nurtured({ profile: { timezone: 'America/New_York' } }));
    // 10:00 UTC is 05:00 in New York: the morning window opens at 08:00 there (13:00 UTC).
    expect(await run(caseStudy)).toEqual({
      outcome: 'defer',
      sendAt: '2026-03-02T13:00:00.000Z',
      goto: 'education/case-study',
      at: '2026-03-02T09:00:00.000Z',
    });
    expect(h.sent()).toHaveLength(0);
  });

  it('texts an SMS step to a lead with SMS consent, and skips it (moving on) without', async () => {
    const smsClient = new PinpointSMSVoiceV2Client({ region: 'eu-west-1' });
    const smsMock = mockClient(smsClient);
    smsMock.on(SendTextMessageCommand).resolves({ MessageId: 'sms-1' });
    const deps = {
      ...h.mailDeps(example, NOW),
      sms: {
        sender: new EndUserMessagingSms('+447700900123', undefined, smsClient),
        optOuts: new DynamoSmsOptOuts(TABLE, h.docClient),
      },
    };
    const reminder = { id: 'pricing-reminder', index: 4, waitSeconds: 48 * 3600, sequenceId: 'education' };
    h.table.putLead(nurtured({ profile: { phone: '+447700900456', phoneValid: true } }));
    expect(await run(reminder, previous, deps)).toMatchObject({
      outcome: 'skipped',
      reason: 'no-sms-consent',
      goto: 'end',
    });
    h.table.putLead(
      nurtured({ profile: { phone: '+447700900456', phoneValid: true, extra: { sms_consent: 'yes' } } }),
    );
    expect(await run(reminder, previous, deps)).toMatchObject({
      outcome: 'sent',
      channel: 'sms',
      goto: 'end',
    });
    expect(smsMock.commandCalls(SendTextMessageCommand)[0]?.args[0].input.MessageBody).toBe(
      'Hi Jane, questions on Northwind pricing? Book 20 minutes: northwind.example/book Reply STOP to opt out.',
    );
    expect(h.sent()).toHaveLength(0);
    smsMock.restore();
  });
});

describe('deferral', () => {
  it('sends after the machine waited for its own deferral, without checking the window again', async () => {
    h.table.putLead(nurtured({ profile: { timezone: 'America/New_York' } }));
    const step = { id: 'case-study', index: 1, waitSeconds: 72 * 3600, sequenceId: 'education' };
    const deferred = {
      result: {
        outcome: 'defer',
        sendAt: '2026-03-02T13:00:00.000Z',
        goto: 'education/case-study',
        at: '2026-03-02T09:00:00.000Z',
      },
    };
    const handler = nurture();
    // The clock says 05:00 in New York (the offline runtime scales waits, not clocks): it still sends.
    expect(
      await handler({ action: 'send', enrolment, step, executionArn: EXECUTION, state: deferred }),
    ).toMatchObject({
      outcome: 'sent',
    });
    // A deferral of another step does not count.
    h.table.putLead(nurtured({ id: 'lead-1', profile: { timezone: 'America/New_York' } }));
    const other = { result: { ...deferred.result, goto: 'education/welcome-guide' } };
    expect(
      await handler({
        action: 'send',
        enrolment,
        step: { ...step, id: 'pricing-faq', index: 3, waitSeconds: 0 },
        executionArn: EXECUTION,
        state: other,
      }),
    ).toMatchObject({ outcome: 'defer' });
  });
});
