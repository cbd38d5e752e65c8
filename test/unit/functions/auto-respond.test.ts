import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandler } from '../../../functions/auto-respond/handler';
import { loadClientConfig } from '../../../shared/config/load';
import type { ClientConfig } from '../../../shared/config/schema';
import { DependencyUnavailableError, InvalidInputError } from '../../../shared/domain/errors';
import type { Lead, LeadProfile } from '../../../shared/domain/lead';
import { EmailNotSentError } from '../../../shared/ports/mailer';
import { chooseTemplate } from '../../../shared/services/auto-response';
import { EmailHarness, sesError, socketTimeout } from './email-kit';
import { eventBridgeEvent, makeLead, throttling } from './pipeline-kit';

const example = loadClientConfig('example', 'clients');

/** Lead fields to change, with a partial profile merged into the default one. */
type LeadOverrides = Omit<Partial<Lead>, 'profile'> & { profile?: Partial<LeadProfile> };
const NOW = new Date('2026-03-02T10:00:00.000Z');

let h: EmailHarness;
beforeEach(() => {
  h = new EmailHarness();
});
afterEach(() => h.restore());

function autoRespond(config: ClientConfig = example) {
  return createHandler(h.mailDeps(config, NOW));
}

const captured = (
  overrides: { isTest?: boolean; pending?: boolean; provider?: string } = {},
  id = 'evt-captured-1',
) =>
  eventBridgeEvent(
    'Lead Captured',
    {
      leadId: 'lead-1',
      occurredAt: '2026-03-02T09:59:58.000Z',
      isTest: overrides.isTest ?? false,
      provider: overrides.provider ?? 'form',
      channel: 'organic',
      pending: overrides.pending ?? false,
    },
    id,
  );

function lead(overrides: LeadOverrides = {}): Lead {
  return makeLead({ ...overrides, profile: { firstName: 'Jane', ...overrides.profile } });
}

describe('auto-respond', () => {
  it('acknowledges a new lead with the default template, tagged as the auto-response', async () => {
    h.table.putLead(lead());
    const result = await autoRespond()(captured());
    expect(result).toEqual({
      outcome: 'sent',
      template: 'default',
      messageId: 'ses-message-1',
      confirmed: true,
    });
    const [request] = h.sent();
    expect(request?.Content?.Simple?.Subject?.Data).toBe("Thanks Jane, we've got your request");
    expect(request?.Content?.Simple?.Body?.Text?.Data).toContain(
      'A specialist will reply within one business hour.',
    );
    expect(request?.Content?.Simple?.Body?.Html?.Data).toContain(example.email.postalAddress);
    expect(request?.Content?.Simple?.Headers?.map((x) => x.Name)).toEqual([
      'List-Unsubscribe',
      'List-Unsubscribe-Post',
    ]);
    expect(request?.EmailTags).toEqual([
      { Name: 'lead_id', Value: 'lead-1' },
      { Name: 'sequence', Value: 'auto-response' },
      { Name: 'step', Value: 'ack' },
      { Name: 'kind', Value: 'auto-response' },
    ]);
    expect(h.claim('lead-1', 'auto-response', 'ack')).toMatchObject({
      status: 'sent',
      messageId: 'ses-message-1',
    });
  });

  it("picks the template of the lead's provider", async () => {
    h.table.putLead(lead({ source: { channel: 'paid_search', provider: 'google_ads', utm: {} } }));
    expect(await autoRespond()(captured({ provider: 'google_ads' }))).toMatchObject({
      outcome: 'sent',
      template: 'google_ads',
    });
    expect(h.sent()[0]?.Content?.Simple?.Subject?.Data).toBe('Your Northwind demo request');
  });

  it('falls back from provider to channel to default', () => {
    const templates = example.autoResponse.templates;
    expect(chooseTemplate(templates, { provider: 'meta', channel: 'google_ads' }).name).toBe('google_ads');
    expect(chooseTemplate(templates, { provider: 'meta', channel: 'paid_social' }).name).toBe('default');
    expect(chooseTemplate(templates, { provider: 'constructor', channel: 'toString' }).name).toBe('default');
  });

  it('sends even without marketing consent: it answers the request', async () => {
    h.table.putLead(lead({ consent: { marketing: false, at: '2026-03-02T09:59:58.000Z', via: 'form' } }));
    expect((await autoRespond()(captured())).outcome).toBe('sent');
  });

  it('sends exactly once when the event is delivered twice', async () => {
    h.table.putLead(lead());
    await autoRespond()(captured());
    expect(await autoRespond()(captured())).toEqual({ outcome: 'skipped', reason: 'already-sent' });
    expect(await autoRespond()(captured({}, 'evt-captured-again'))).toEqual({
      outcome: 'skipped',
      reason: 'already-sent',
    });
    expect(h.sent()).toHaveLength(1);
  });

  it('sends once when the event is delivered twice concurrently, in one conditional write each', async () => {
    h.table.putLead(lead());
    const results = await Promise.all([autoRespond()(captured()), autoRespond()(captured({}, 'evt-2'))]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['sent', 'skipped']);
    expect(h.sent()).toHaveLength(1);
    // The lead read, the claim (suppression, daily limit and send in one transaction), the result.
    expect(h.table.calls.filter((c) => c !== 'QueryCommand')).toEqual([
      'GetCommand',
      'GetCommand',
      'TransactWriteCommand',
      'TransactWriteCommand',
      'UpdateCommand',
    ]);
  });

  it.each<[string, LeadOverrides, string]>([
    ['a test lead', { isTest: true }, 'test-lead'],
    ['a lead without an address', { profile: { email: undefined } }, 'no-email'],
    ['an unsubscribed lead', { unsubscribed: true }, 'unsubscribed'],
  ])('skips %s', async (_name, overrides, reason) => {
    h.table.putLead(lead(overrides));
    expect(await autoRespond()(captured())).toEqual({ outcome: 'skipped', reason });
    expect(h.sent()).toHaveLength(0);
    expect(h.claim('lead-1', 'auto-response', 'ack')).toBeUndefined();
  });

  it('skips a suppressed address', async () => {
    h.table.putLead(lead());
    h.suppressAddress('jane.doe@acme-software.example', 'complaint');
    expect(await autoRespond()(captured())).toEqual({ outcome: 'skipped', reason: 'suppressed' });
    expect(h.sent()).toHaveLength(0);
  });

  it('never answers an address that bounced', async () => {
    h.table.putLead(lead());
    h.suppressAddress('jane.doe@acme-software.example', 'bounce');
    expect(await autoRespond()(captured())).toEqual({ outcome: 'skipped', reason: 'suppressed' });
    expect(h.sent()).toHaveLength(0);
  });

  it('sends at most one auto-response per address per day, whichever lead it is for', async () => {
    // The same mailbox behind two leads (say, one re-created after an erasure, spelled with a +tag).
    h.table.putLead(lead());
    h.table.putLead(lead({ id: 'lead-2', profile: { email: 'Jane.Doe+again@acme-software.example' } }));
    const second = eventBridgeEvent(
      'Lead Captured',
      {
        leadId: 'lead-2',
        occurredAt: '2026-03-02T10:00:00.000Z',
        isTest: false,
        provider: 'form',
        channel: 'organic',
        pending: false,
      },
      'evt-captured-2',
    );
    expect((await autoRespond()(captured())).outcome).toBe('sent');
    expect(await autoRespond()(second)).toEqual({ outcome: 'skipped', reason: 'address-mailed-today' });
    expect(h.sent()).toHaveLength(1);
    // The claim is one conditional item per address and day, never a scan.
    expect(h.table.byPk('ACK#')).toHaveLength(1);
    expect(h.table.calls.filter((c) => c.startsWith('Query') || c.startsWith('Scan'))).toEqual([]);
    // The next day the address may be answered again.
    const tomorrow = createHandler(h.mailDeps(example, new Date('2026-03-03T10:00:00.000Z')));
    expect((await tomorrow(second)).outcome).toBe('sent');
  });

  it('does nothing when auto-responses are disabled, or for test and pending events', async () => {
    h.table.putLead(lead());
    const disabled = { ...example, autoResponse: { ...example.autoResponse, enabled: false } };
    expect(await autoRespond(disabled)(captured())).toEqual({ outcome: 'skipped', reason: 'disabled' });
    expect(await autoRespond()(captured({ isTest: true }))).toEqual({
      outcome: 'skipped',
      reason: 'test-lead',
    });
    expect(await autoRespond()(captured({ pending: true }))).toEqual({
      outcome: 'skipped',
      reason: 'pending',
    });
    expect(h.table.calls).toEqual([]);
    expect(h.sent()).toHaveLength(0);
  });

  it('skips a lead that was erased', async () => {
    expect(await autoRespond()(captured())).toEqual({ outcome: 'skipped', reason: 'lead-missing' });
  });

  it('rejects a malformed event naming the field', async () => {
    const event = captured();
    const error = await autoRespond()({ ...event, detail: { leadId: 'lead-1' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).problems.map((p) => p.field)).toContain('detail.occurredAt');
  });

  it('throws on SES throttling with the claim released, so the retried event sends', async () => {
    h.table.putLead(lead());
    h.sesMock.on(SendEmailCommand).rejects(sesError('TooManyRequestsException', 429));
    const error = await autoRespond()(captured()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmailNotSentError);
    expect((error as EmailNotSentError).retryable).toBe(true);
    expect(h.claim('lead-1', 'auto-response', 'ack')).toBeUndefined();

    h.sesMock.on(SendEmailCommand).resolves({ MessageId: 'retried' });
    expect(await autoRespond()(captured())).toMatchObject({ outcome: 'sent', messageId: 'retried' });
  });

  it('does not retry a message SES refuses for good', async () => {
    h.table.putLead(lead());
    h.sesMock.on(SendEmailCommand).rejects(sesError('MessageRejected', 400));
    expect(await autoRespond()(captured())).toEqual({ outcome: 'skipped', reason: 'refused' });
    expect(h.sent()).toHaveLength(1);
  });

  it('does not resend after a send whose outcome is unknown', async () => {
    h.table.putLead(lead());
    h.sesMock.on(SendEmailCommand).rejects(socketTimeout());
    expect(await autoRespond()(captured())).toEqual({
      outcome: 'sent',
      template: 'default',
      confirmed: false,
    });
    expect(await autoRespond()(captured())).toEqual({ outcome: 'skipped', reason: 'already-sent' });
    expect(h.sent()).toHaveLength(1);
  });

  it('throws a transient DynamoDB failure for the platform to retry, nothing sent', async () => {
    h.table.putLead(lead());
    h.table.failNext('GetCommand', throttling());
    await expect(autoRespond()(captured())).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(h.sent()).toHaveLength(0);
  });
});
