import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient, ThrottledException } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_DEV = 'false';
});

import { type AlertResult, alertDeps, createHandler } from '../../../functions/alert/handler';
import { SlackRateLimitedError, SlackRejectedError } from '../../../shared/adapters/slack';
import { loadClientConfig } from '../../../shared/config/load';
import type { ClientConfig } from '../../../shared/config/schema';
import { DependencyUnavailableError, InvalidInputError } from '../../../shared/domain/errors';
import type { Lead } from '../../../shared/domain/lead';
import { janeDoeLead } from '../jane-doe-lead';

const config: ClientConfig = loadClientConfig('example', 'clients');
const TABLE = 'leads-table';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:rep-alerts';
const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:integrations';
const WEBHOOK = 'https://hooks.slack.com/services/T000/B000/secret-token';

const docClient = mockClient(DynamoDBDocumentClient);
const sns = mockClient(SNSClient);
const secrets = mockClient(SecretsManagerClient);

// ---------------------------------------------------------------- fakes behind the SDK mocks

/** Leads the document client returns, by id. */
let leads: Map<string, Lead>;
/** Alert claims, by `pk|sk`, as the ledger wrote them through the document client. */
let records: Map<string, Record<string, unknown>>;

const recordKey = (key: Record<string, unknown> | undefined) => `${key?.pk}|${key?.sk}`;

function installTable(): void {
  docClient.on(GetCommand).callsFake((input: { Key: { pk: string } }) => {
    const lead = leads.get(input.Key.pk.slice('LEAD#'.length));
    return {
      Item: lead ? { ...structuredClone(lead), pk: input.Key.pk, sk: 'PROFILE', entity: 'lead' } : undefined,
    };
  });
  // The claim: written when new, released, or never completed with its lease run out
  // (DynamoDB's condition), answering the old item.
  docClient
    .on(PutCommand)
    .callsFake((input: { Item: Record<string, unknown>; ExpressionAttributeValues: { ':now': number } }) => {
      const key = recordKey(input.Item);
      const existing = records.get(key);
      const abandoned =
        existing?.completedAt === undefined &&
        Number(existing?.leaseUntil) < input.ExpressionAttributeValues[':now'];
      if (existing && existing.releasedAt === undefined && !abandoned)
        throw new ConditionalCheckFailedException({ message: 'claimed', $metadata: {} });
      records.set(key, input.Item);
      return { Attributes: existing };
    });
  // `complete` sets completedAt; `release` sets delivered and releasedAt.
  docClient
    .on(UpdateCommand)
    .callsFake(
      (input: { Key: Record<string, unknown>; ExpressionAttributeValues: Record<string, unknown> }) => {
        const key = recordKey(input.Key);
        const values = input.ExpressionAttributeValues;
        records.set(
          key,
          ':delivered' in values
            ? { ...records.get(key), delivered: values[':delivered'], releasedAt: values[':at'] }
            : { ...records.get(key), completedAt: values[':at'] },
        );
        return {};
      },
    );
}

// ---------------------------------------------------------------- Slack over an injected fetch

interface SlackCall {
  readonly url: string;
  readonly body: { text: string; blocks: unknown[] };
}
let slackCalls: SlackCall[];
let slackResponses: Array<() => Response>;
let sleeps: number[];

const fakeFetch: typeof fetch = async (input, init) => {
  slackCalls.push({ url: String(input), body: JSON.parse(String(init?.body)) });
  const next = slackResponses.shift();
  return next ? next() : new Response('ok', { status: 200 });
};
const slackReply =
  (status: number, body: string, headers: Record<string, string> = {}) =>
  () =>
    new Response(body, { status, headers });

// ---------------------------------------------------------------- fixtures

const storedLead = janeDoeLead;

function assignedEvent(id = 'evt-1', detail: Record<string, unknown> = {}) {
  return {
    version: '0',
    id,
    'detail-type': 'Lead Assigned',
    source: 'lead-pipeline',
    account: '123456789012',
    time: '2025-11-24T14:50:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      leadId: 'lead-1',
      occurredAt: '2025-11-24T14:50:00.000Z',
      isTest: false,
      repId: 'liam',
      teamId: 'emea',
      ruleId: 'sales-ready',
      via: 'round-robin',
      priority: 'high',
      assignedAt: '2025-11-24T14:50:00.000Z',
      ladderStep: 0,
      ...detail,
    },
  };
}

/** A Lambda context with a fixed amount of time left. */
const context = (remainingMs = 25_000) => ({ getRemainingTimeInMillis: () => remainingMs });

function handlerFor(cfg: ClientConfig = config) {
  return createHandler(
    alertDeps({
      tableName: TABLE,
      topicArn: TOPIC,
      secretArn: SECRET,
      config: cfg,
      slack: {
        fetch: fakeFetch,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      },
    }),
  );
}

const secretWith = (slackWebhookUrl: string) => ({
  SecretString: JSON.stringify({ signingKey: 'k'.repeat(32), slackWebhookUrl }),
});

beforeEach(() => {
  docClient.reset();
  sns.reset();
  secrets.reset();
  leads = new Map([['lead-1', storedLead()]]);
  records = new Map();
  slackCalls = [];
  slackResponses = [];
  sleeps = [];
  installTable();
  sns.on(PublishCommand).resolves({ MessageId: 'msg-1' });
  secrets.on(GetSecretValueCommand).resolves(secretWith(WEBHOOK));
});

afterEach(() => {
  vi.restoreAllMocks();
});

const published = () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
/** Alerts claimed and not released: done (or being sent). */
const completed = () => [...records.values()].filter((r) => r.releasedAt === undefined).length;

// ---------------------------------------------------------------- tests

describe('alert handler', () => {
  it('posts the Slack message from the secret’s webhook and publishes the SNS alert with filter attributes', async () => {
    const result = await handlerFor()(assignedEvent(), context());

    expect(result).toEqual<AlertResult>({
      eventId: 'evt-1',
      eventType: 'Lead Assigned',
      leadId: 'lead-1',
      outcome: 'alerted',
      recipientId: 'liam',
      slack: 'sent',
      sns: 'sent',
    });
    expect(slackCalls).toHaveLength(1);
    expect(slackCalls[0]?.url).toBe(WEBHOOK);
    expect(slackCalls[0]?.body.text).toBe("New high-priority lead for Liam O'Connor: Jane Doe");
    expect(JSON.stringify(slackCalls[0]?.body.blocks)).toContain('<@U04LIAM002>, you have a new lead.');

    const [publish] = published();
    expect(publish?.TopicArn).toBe(TOPIC);
    expect(publish?.Subject).toBe('New high priority lead: Jane Doe');
    expect(publish?.MessageAttributes).toEqual({
      owner: { DataType: 'String', StringValue: 'liam' },
      priority: { DataType: 'String', StringValue: 'high' },
      eventType: { DataType: 'String', StringValue: 'Lead Assigned' },
    });
    expect(JSON.parse(publish?.Message?.split('\n\n')[1] ?? '')).toMatchObject({
      leadId: 'lead-1',
      recipientId: 'liam',
    });
    // One claim for both channels, keyed by the effect under the function's own partition, and
    // one write completing it after the sends.
    expect(completed()).toBe(1);
    expect([...records.keys()]).toEqual(['IDEMPOTENCY#alert|assigned#lead-1#2025-11-24T14:50:00.000Z']);
    expect(docClient.commandCalls(PutCommand)).toHaveLength(1);
    expect(docClient.commandCalls(UpdateCommand)).toHaveLength(1);
    expect([...records.values()][0]?.completedAt).toEqual(expect.any(String));
  });

  it('posts to Slack without waiting for the SNS publish (the channels are sent at once)', async () => {
    // SNS answers only once Slack has been posted to: sent one after the other, SNS would fail.
    sns.on(PublishCommand).callsFake(async () => {
      for (let i = 0; i < 50 && slackCalls.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
      if (slackCalls.length === 0) throw new ThrottledException({ message: 'slow', $metadata: {} });
      return { MessageId: 'msg-1' };
    });

    const result = await handlerFor()(assignedEvent(), context());

    expect(result).toMatchObject({ outcome: 'alerted', slack: 'sent', sns: 'sent' });
    expect(slackCalls).toHaveLength(1);
    expect(published()).toHaveLength(1);
  });

  it('rejects bad input naming the field, and sends nothing', async () => {
    const badDetail = assignedEvent();
    (badDetail.detail as Record<string, unknown>).repId = undefined;
    const error = await handlerFor()(badDetail, context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).problems.map((p) => p.field)).toEqual(['detail.repId']);

    const wrongType = { ...assignedEvent(), 'detail-type': 'Lead Captured' };
    const error2 = await handlerFor()(wrongType, context()).catch((e: unknown) => e);
    expect((error2 as InvalidInputError).problems.map((p) => p.field)).toEqual(['detail-type']);

    expect(slackCalls).toHaveLength(0);
    expect(published()).toHaveLength(0);
  });

  it('honours Slack’s Retry-After when it fits in the time left', async () => {
    slackResponses.push(slackReply(429, 'rate_limited', { 'retry-after': '2' }));
    const result = await handlerFor()(assignedEvent(), context(25_000));
    expect(sleeps).toEqual([2000]);
    expect(slackCalls).toHaveLength(2);
    expect(result).toMatchObject({ outcome: 'alerted', slack: 'sent' });
  });

  it('throws a retryable error when Retry-After does not fit, and the retry re-sends Slack only', async () => {
    slackResponses.push(slackReply(429, 'rate_limited', { 'retry-after': '30' }));
    const handler = handlerFor();
    const error = await handler(assignedEvent(), context(20_000)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlackRateLimitedError);
    expect((error as SlackRateLimitedError).retryable).toBe(true);
    expect((error as SlackRateLimitedError).retryAfterSeconds).toBe(30);
    expect(sleeps).toEqual([]);
    expect(published()).toHaveLength(1);

    // Lambda retries the event later: SNS already went out and is not repeated.
    const result = await handler(assignedEvent(), context(25_000));
    expect(result).toMatchObject({ outcome: 'alerted', slack: 'sent', sns: 'sent' });
    expect(slackCalls).toHaveLength(2);
    expect(published()).toHaveLength(1);
  });

  it('retries a Slack 500 with backoff, then succeeds', async () => {
    slackResponses.push(slackReply(500, 'rollup_error'));
    const result = await handlerFor()(assignedEvent(), context());
    expect(sleeps).toEqual([250]);
    expect(slackCalls).toHaveLength(2);
    expect(result).toMatchObject({ slack: 'sent' });
  });

  it('gives up after three Slack 5xx / network failures with a retryable error', async () => {
    slackResponses.push(
      slackReply(503, 'unavailable'),
      () => {
        throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } });
      },
      slackReply(502, 'bad gateway'),
    );
    const error = await handlerFor()(assignedEvent(), context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as Error).message).toBe('Slack is unavailable: Slack answered HTTP 502 bad gateway');
    expect(slackCalls).toHaveLength(3);
    expect(sleeps).toEqual([250, 500]);
    // The claim was released with SNS delivered, so the retry sends Slack only.
    expect(completed()).toBe(0);
    expect([...records.values()][0]?.delivered).toEqual(['sns']);
  });

  it('does not retry a Slack rejection and says what to fix; SNS is still delivered', async () => {
    slackResponses.push(slackReply(404, 'no_service'));
    const error = await handlerFor()(assignedEvent(), context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlackRejectedError);
    expect((error as SlackRejectedError).retryable).toBe(false);
    expect((error as Error).message).toContain('slackWebhookUrl in the integrations secret');
    expect((error as Error).message).not.toContain('secret-token');
    expect(slackCalls).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(published()).toHaveLength(1);
  });

  it('throws on SNS throttling after posting to Slack, and the retry publishes only SNS', async () => {
    sns
      .on(PublishCommand)
      .rejectsOnce(new ThrottledException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } }))
      .resolves({ MessageId: 'msg-2' });
    const handler = handlerFor();
    const error = await handler(assignedEvent(), context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as DependencyUnavailableError).dependency).toBe('SNS');
    expect(slackCalls).toHaveLength(1);

    const result = await handler(assignedEvent(), context());
    expect(result).toMatchObject({ slack: 'sent', sns: 'sent' });
    expect(slackCalls).toHaveLength(1);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(2);
  });

  it('sends nothing twice when EventBridge delivers the same event again', async () => {
    const handler = handlerFor();
    const first = await handler(assignedEvent('evt-dup'), context());
    const second = await handler(assignedEvent('evt-dup'), context());
    expect(first).toMatchObject({ outcome: 'alerted' });
    expect(second).toMatchObject({
      outcome: 'skipped',
      reason: 'already alerted by an earlier delivery of this alert',
    });
    expect(slackCalls).toHaveLength(1);
    expect(published()).toHaveLength(1);

    // Routing re-publishing the same assignment (a new event id) is the same alert...
    await handler(assignedEvent('evt-republished'), context());
    expect(slackCalls).toHaveLength(1);
    expect(published()).toHaveLength(1);
    // ...while a new assignment of the same lead is a new one.
    await handler(assignedEvent('evt-other', { assignedAt: '2025-11-24T15:20:00.000Z' }), context());
    expect(slackCalls).toHaveLength(2);
  });

  it('sends one alert per channel when the same assignment arrives twice concurrently', async () => {
    const handler = handlerFor();
    const outcomes = await Promise.allSettled([
      handler(assignedEvent('evt-a'), context()),
      handler(assignedEvent('evt-b'), context()),
    ]);
    // One takes the claim and sends; the other finds it and sends nothing.
    expect(outcomes.map((o) => o.status === 'fulfilled' && o.value.outcome).sort()).toEqual([
      'alerted',
      'skipped',
    ]);
    expect(completed()).toBe(1);
    expect(slackCalls).toHaveLength(1);
    expect(published()).toHaveLength(1);
  });

  it('takes over a claim whose invocation died before sending, once its lease has run out', async () => {
    const key = 'IDEMPOTENCY#alert|assigned#lead-1#2025-11-24T14:50:00.000Z';
    const handler = handlerFor();
    // A claim still within its lease: another invocation may be sending right now.
    records.set(key, { leaseUntil: Date.now() + 60_000 });
    expect(await handler(assignedEvent('evt-live'), context())).toMatchObject({ outcome: 'skipped' });
    expect(slackCalls).toHaveLength(0);

    // The invocation timed out between the claim and the send: its lease ran out, never completed.
    records.set(key, { leaseUntil: Date.now() - 1 });
    expect(await handler(assignedEvent('evt-retry'), context())).toMatchObject({ outcome: 'alerted' });
    expect(slackCalls).toHaveLength(1);
    expect(published()).toHaveLength(1);

    // Completed: a redelivery long after the lease (a DLQ redrive days later) sends nothing.
    records.set(key, { ...records.get(key), leaseUntil: Date.now() - 1 });
    expect(await handler(assignedEvent('evt-redrive'), context())).toMatchObject({ outcome: 'skipped' });
    expect(slackCalls).toHaveLength(1);
    expect(published()).toHaveLength(1);
  });

  it('keeps writing the completion while it holds the claim when DynamoDB refuses it for a moment', async () => {
    const handler = handlerFor();
    let refusals = 2;
    docClient
      .on(UpdateCommand)
      .callsFake(
        (input: { Key: Record<string, unknown>; ExpressionAttributeValues: Record<string, unknown> }) => {
          if (refusals-- > 0) throw new Error('DynamoDB is restarting');
          const key = recordKey(input.Key);
          records.set(key, { ...records.get(key), completedAt: input.ExpressionAttributeValues[':at'] });
          return {};
        },
      );
    expect(await handler(assignedEvent('evt-1'), context())).toMatchObject({ outcome: 'alerted' });
    // Completed after the refusals: no retry of this alert can take it over and send it again.
    expect([...records.values()][0]?.completedAt).toEqual(expect.any(String));
    expect(slackCalls).toHaveLength(1);
    expect(published()).toHaveLength(1);
  });

  it('never alerts a test lead, whether the event or the stored lead is flagged', async () => {
    const handler = handlerFor();
    const flaggedEvent = await handler(assignedEvent('evt-t1', { isTest: true }), context());
    expect(flaggedEvent).toMatchObject({ outcome: 'skipped', reason: 'test lead: never alerted' });

    leads.set('lead-1', storedLead({ isTest: true }));
    const flaggedLead = await handler(assignedEvent('evt-t2'), context());
    expect(flaggedLead).toMatchObject({ outcome: 'skipped', reason: 'test lead: never alerted' });

    expect(slackCalls).toHaveLength(0);
    expect(published()).toHaveLength(0);
    expect(records.size).toBe(0);
  });

  it('escapes <script>, <!channel> and & from the lead in what reaches Slack', async () => {
    leads.set(
      'lead-1',
      storedLead(
        {},
        { firstName: '<script>alert(1)</script>', lastName: '<!channel>', company: 'Smith & Sons' },
      ),
    );
    await handlerFor()(assignedEvent(), context());
    const body = JSON.stringify(slackCalls[0]?.body);
    expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt;');
    expect(body).toContain('Smith &amp; Sons');
    expect(body).not.toContain('<script');
    expect(body).not.toContain('<!channel>');
    expect(body).not.toMatch(/Smith & Sons/);
  });

  it('skips a channel the client disabled', async () => {
    const noSlack: ClientConfig = {
      ...config,
      alerts: { ...config.alerts, slack: { ...config.alerts.slack, enabled: false } },
    };
    expect(await handlerFor(noSlack)(assignedEvent('e1'), context())).toMatchObject({
      slack: 'disabled',
      sns: 'sent',
    });
    expect(slackCalls).toHaveLength(0);

    const noSns: ClientConfig = { ...config, alerts: { ...config.alerts, sns: { enabled: false } } };
    // Another assignment: the first one's alert is done.
    expect(
      await handlerFor(noSns)(assignedEvent('e2', { assignedAt: '2025-11-24T15:00:00.000Z' }), context()),
    ).toMatchObject({
      slack: 'sent',
      sns: 'disabled',
    });
    expect(published()).toHaveLength(1);

    const neither: ClientConfig = { ...noSns, alerts: { ...noSlack.alerts, sns: { enabled: false } } };
    expect(await handlerFor(neither)(assignedEvent('e3'), context())).toMatchObject({ outcome: 'skipped' });
    expect(docClient.commandCalls(GetCommand)).toHaveLength(2);
  });

  it('sends nothing to Slack while the secret has no webhook URL', async () => {
    secrets.on(GetSecretValueCommand).resolves(secretWith(''));
    const result = await handlerFor()(assignedEvent(), context());
    expect(result).toMatchObject({ slack: 'not-configured', sns: 'sent' });
    expect(slackCalls).toHaveLength(0);
  });

  it('skips an erased lead and an escalation already announced by its assignment', async () => {
    const handler = handlerFor();
    leads.clear();
    expect(await handler(assignedEvent('e-gone'), context())).toMatchObject({
      outcome: 'skipped',
      reason: 'the lead no longer exists (erased?)',
    });

    leads.set('lead-1', storedLead({ owner: 'jordan' }));
    const escalated = {
      ...assignedEvent('e-esc'),
      'detail-type': 'Lead Escalated',
      detail: {
        leadId: 'lead-1',
        occurredAt: '2025-11-24T14:56:00.000Z',
        fromRepId: 'liam',
        toRepId: 'jordan',
        ladderStep: 1,
        to: 'teamBackup',
        minutesWithoutContact: 6,
      },
    };
    expect(await handler(escalated, context())).toMatchObject({ outcome: 'skipped' });
    expect(slackCalls).toHaveLength(0);
    expect(published()).toHaveLength(0);
  });

  it('alerts a re-published escalation or unworked verdict once (keyed by the step and its time)', async () => {
    const handler = handlerFor({
      ...config,
      sla: { ...config.sla, ladder: [{ to: 'manager', afterMinutes: 10, reassign: false }] },
    });
    const escalated = (id: string, occurredAt = '2025-11-24T14:56:00.000Z') => ({
      ...assignedEvent(id),
      'detail-type': 'Lead Escalated',
      detail: {
        leadId: 'lead-1',
        occurredAt,
        fromRepId: 'liam',
        toRepId: 'ana',
        ladderStep: 1,
        to: 'manager',
        minutesWithoutContact: 6,
      },
    });
    expect(await handler(escalated('e-1'), context())).toMatchObject({ outcome: 'alerted' });
    expect(await handler(escalated('e-retried-task'), context())).toMatchObject({ outcome: 'skipped' });
    expect(slackCalls).toHaveLength(1);
    // Another escalation (a later time) is another alert.
    expect(await handler(escalated('e-2', '2025-11-24T15:06:00.000Z'), context())).toMatchObject({
      outcome: 'alerted',
    });
    expect(slackCalls).toHaveLength(2);
  });

  it('tells the manager about an unworked lead, filtered to them on SNS', async () => {
    leads.set('lead-1', storedLead({ status: 'unworked', owner: 'ana' }));
    const unworked = {
      ...assignedEvent('e-unworked'),
      'detail-type': 'Lead Unworked',
      detail: {
        leadId: 'lead-1',
        occurredAt: '2025-11-24T15:13:00.000Z',
        lastOwner: 'ana',
        managerId: 'ana',
        minutesWithoutContact: 23,
      },
    };
    expect(await handlerFor()(unworked, context())).toMatchObject({ outcome: 'alerted', recipientId: 'ana' });
    expect(published()[0]?.MessageAttributes?.owner?.StringValue).toBe('ana');
    expect(published()[0]?.MessageAttributes?.eventType?.StringValue).toBe('Lead Unworked');
    expect(JSON.stringify(slackCalls[0]?.body)).toContain('Lead went unworked');
  });
});
