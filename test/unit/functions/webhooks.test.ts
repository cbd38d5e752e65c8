import { createHmac } from 'node:crypto';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandler, MAX_WEBHOOK_BODY_BYTES } from '../../../functions/webhooks/handler';
import { SecretsManagerIntegrations } from '../../../shared/adapters/integrations-secret';
import { LinkedInApiClient } from '../../../shared/adapters/linkedin-api';
import { MetaGraphClient } from '../../../shared/adapters/meta-graph';
import { loadClientConfig } from '../../../shared/config/load';
import type { ClientConfig } from '../../../shared/config/schema';
import type { IntegrationsSecret } from '../../../shared/contracts/integration-secrets';
import { keys } from '../../../shared/contracts/table-design';
import { bookingActivityId } from '../../../shared/services/webhook-intake';
import { WEBHOOK_REGISTRY } from '../../../shared/webhooks';
import { webhookToken } from '../../../shared/webhooks/common';
import { Harness, makeLead, throttling } from './pipeline-kit';

const CONFIG: ClientConfig = loadClientConfig('example', 'clients');
const NOW = new Date('2026-03-02T09:00:00.000Z');
const T = Math.floor(NOW.getTime() / 1000);
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:integrations';

const SECRET: IntegrationsSecret = {
  signingKey: 'stack-generated-signing-key-0123456789abcdef',
  slackWebhookUrl: '',
  slackSigningSecret: '',
  googleAdsKey: 'nw-google-key',
  metaAppSecret: 'meta-app-secret',
  metaVerifyToken: 'meta-verify-token',
  metaAccessToken: 'EAAG-page-token',
  typeformSecret: 'typeform-secret',
  calendlySigningKey: 'calendly-signing-key',
  calcomSecret: 'calcom-secret',
  linkedinClientSecret: 'linkedin-client-secret',
  linkedinAccessToken: 'AQV-linkedin-token',
  enrichmentApiKey: '',
};

const secretsManager = mockClient(SecretsManagerClient);
let h: Harness;
let ids = 0;

beforeEach(() => {
  h = new Harness();
  ids = 0;
  secretsManager.reset();
});

afterEach(() => h.restore());

interface Build {
  readonly secret?: Partial<IntegrationsSecret>;
  readonly config?: ClientConfig;
  readonly fetch?: typeof fetch;
  readonly graphTimeoutMs?: number;
  readonly linkedinFetch?: typeof fetch;
}

function build(options: Build = {}) {
  secretsManager
    .on(GetSecretValueCommand)
    .resolves({ SecretString: JSON.stringify({ ...SECRET, ...options.secret }) });
  const handler = createHandler({
    config: options.config ?? CONFIG,
    store: h.repository,
    publisher: h.publisher,
    secrets: new SecretsManagerIntegrations(ARN, new SecretsProvider()),
    metaFetcher: new MetaGraphClient({
      version: CONFIG.webhooks.meta.graphApiVersion,
      fetch: options.fetch ?? graphFetch({}),
      timeoutMs: options.graphTimeoutMs ?? 3000,
    }),
    linkedinFetcher: new LinkedInApiClient({
      version: CONFIG.webhooks.linkedin.apiVersion,
      fetch: options.linkedinFetch ?? linkedinFetch({}),
    }),
    steps: h.steps('webhooks'),
    now: () => NOW,
    newId: () => `id-${++ids}`,
  });
  return (event: APIGatewayProxyEventV2) => handler(event, LAMBDA_CONTEXT);
}

/** An invocation with 25 s left: an interrupted unit blocks its key no longer than that. */
const LAMBDA_CONTEXT = {
  functionName: 'webhooks',
  awsRequestId: 'request-1',
  getRemainingTimeInMillis: () => 25_000,
} as unknown as Context;

function apiEvent(
  provider: string,
  body: string | undefined,
  headers: Record<string, string> = {},
  options: { method?: string; query?: Record<string, string>; base64?: boolean } = {},
): APIGatewayProxyEventV2 {
  const method = options.method ?? 'POST';
  return {
    version: '2.0',
    routeKey: `${method} /webhooks/{provider}`,
    rawPath: `/webhooks/${provider}`,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: { 'content-type': 'application/json', ...headers },
    ...(options.query ? { queryStringParameters: options.query } : {}),
    pathParameters: { provider },
    isBase64Encoded: options.base64 ?? false,
    ...(body === undefined
      ? {}
      : { body: options.base64 ? Buffer.from(body, 'utf8').toString('base64') : body }),
    requestContext: {
      http: {
        method,
        path: `/webhooks/${provider}`,
        protocol: 'HTTP/1.1',
        sourceIp: '198.51.100.4',
        userAgent: 'test',
      },
    } as APIGatewayProxyEventV2['requestContext'],
  } as APIGatewayProxyEventV2;
}

function bodyOf(result: { body?: string }): Record<string, any> {
  return JSON.parse(result.body ?? '{}') as Record<string, any>;
}

function hmac(key: string, data: string, encoding: 'hex' | 'base64' = 'hex'): string {
  return createHmac('sha256', key).update(data, 'utf8').digest(encoding);
}

function leads() {
  return [...h.table.items.values()].filter((i) => i.entity === 'lead');
}

function idempotencyRecords() {
  return h.table.byPk('IDEMPOTENCY#webhooks');
}

/** A fake Graph API: known leads answer 200, others Meta's "does not exist" error. */
function graphFetch(
  graphLeads: Record<string, unknown>,
  calls: Array<{ url: string; init: RequestInit | undefined }> = [],
): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    calls.push({ url, init });
    const id = new URL(url).pathname.split('/').pop() ?? '';
    const lead = graphLeads[id];
    return lead
      ? new Response(JSON.stringify(lead), { status: 200, headers: { 'content-type': 'application/json' } })
      : new Response(JSON.stringify({ error: { message: 'Unsupported get request', code: 100 } }), {
          status: 400,
        });
  }) as typeof fetch;
}

/** LinkedIn's REST API as `fetch`: the given records by path (`/rest/leadFormResponses/<id>`), 404 otherwise. */
function linkedinFetch(
  records: Record<string, unknown>,
  calls: Array<{ url: string; init: RequestInit | undefined }> = [],
): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    calls.push({ url, init });
    const record = records[new URL(url).pathname];
    return record
      ? new Response(JSON.stringify(record), { status: 200, headers: { 'content-type': 'application/json' } })
      : new Response(JSON.stringify({ status: 404, message: 'Not found' }), { status: 404 });
  }) as typeof fetch;
}

// ------------------------------------------------------------------------------ payloads

const GOOGLE_LEAD = {
  lead_id: 'CjwKCAiA-lead-0001',
  user_column_data: [
    { column_name: 'Full Name', string_value: 'Ana Lopez', column_id: 'FULL_NAME' },
    { column_name: 'User Email', string_value: 'ana.lopez@acme-widgets.example', column_id: 'EMAIL' },
    { column_name: 'Company Name', string_value: 'Acme Widgets', column_id: 'COMPANY_NAME' },
  ],
  api_version: '1.0',
  form_id: 40000000000,
  campaign_id: 50000000000,
  google_key: SECRET.googleAdsKey,
  is_test: true,
  gcl_id: 'Cj0KCQ-test-gclid',
};

function googlePost(lead: Record<string, unknown> = GOOGLE_LEAD) {
  return apiEvent('google_ads', JSON.stringify(lead));
}

function metaPost(body: unknown, secret = SECRET.metaAppSecret) {
  const raw = JSON.stringify(body);
  return apiEvent('meta', raw, { 'x-hub-signature-256': `sha256=${hmac(secret, raw)}` });
}

function metaBatch(...leadgenIds: string[]) {
  return {
    object: 'page',
    entry: [
      {
        id: '230076207144371',
        time: T,
        changes: leadgenIds.map((leadgen_id) => ({
          field: 'leadgen',
          value: {
            leadgen_id,
            form_id: '129595594131704',
            page_id: '230076207144371',
            created_time: T - 1,
            ad_id: '6045931010736',
          },
        })),
      },
    ],
  };
}

function graphLead(id: string, email: string, name: string) {
  return {
    id,
    created_time: '2026-03-02T08:59:59+0000',
    field_data: [
      { name: 'email', values: [email] },
      { name: 'full_name', values: [name] },
      { name: 'company_name', values: ['Initech'] },
    ],
  };
}

const TYPEFORM_EVENT = {
  event_id: '01HT7Y',
  event_type: 'form_response',
  form_response: {
    form_id: 'lT4Z3j',
    token: 'a3a12ec67a1365927098a606107fac15',
    submitted_at: '2026-03-02T08:58:00Z',
    hidden: { utm_source: 'linkedin', utm_medium: 'paid_social' },
    definition: {
      fields: [
        {
          id: 'f1',
          title: 'What is your email?',
          type: 'email',
          ref: 'a1b2c3d4-0000-0000-0000-000000000001',
        },
        { id: 'f2', title: 'Company', type: 'short_text', ref: 'a1b2c3d4-0000-0000-0000-000000000002' },
      ],
    },
    answers: [
      { type: 'email', email: 'laura@globex.example', field: { id: 'f1', type: 'email' } },
      { type: 'text', text: 'Globex', field: { id: 'f2', type: 'short_text' } },
    ],
  },
};

function typeformPost(event: unknown = TYPEFORM_EVENT, secret = SECRET.typeformSecret) {
  const raw = JSON.stringify(event);
  return apiEvent('typeform', raw, { 'typeform-signature': `sha256=${hmac(secret, raw, 'base64')}` });
}

const CALENDLY_CREATED = {
  created_at: '2026-03-02T08:59:58.000000Z',
  created_by: 'https://api.calendly.com/users/AAAAAAAAAAAAAAAA',
  event: 'invitee.created',
  payload: {
    email: 'dana.whitfield@initech.example',
    first_name: 'Dana',
    last_name: 'Whitfield',
    name: 'Dana Whitfield',
    uri: 'https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2/invitees/AAAAAAAAAAAAAAAA',
    created_at: '2026-03-02T08:59:57.000000Z',
    updated_at: '2026-03-02T08:59:57.000000Z',
    rescheduled: false,
    old_invitee: null,
    status: 'active',
    timezone: 'America/Chicago',
    questions_and_answers: [{ question: 'Company', answer: 'Initech', position: 0 }],
    tracking: { utm_source: null, utm_medium: null, utm_campaign: null },
    scheduled_event: {
      name: '30 Minute Product Demo',
      start_time: '2026-03-04T15:00:00.000000Z',
      end_time: '2026-03-04T15:30:00.000000Z',
    },
  },
};

function calendlyPost(event: unknown = CALENDLY_CREATED, t = T) {
  const raw = JSON.stringify(event);
  return apiEvent('calendly', raw, {
    'calendly-webhook-signature': `t=${t},v1=${hmac(SECRET.calendlySigningKey, `${t}.${raw}`)}`,
  });
}

function calcomPost(event: unknown) {
  const raw = JSON.stringify(event);
  return apiEvent('calcom', raw, { 'x-cal-signature-256': hmac(SECRET.calcomSecret, raw) });
}

/** Dana is already a lead (she filled in a form last week). */
function storeDana() {
  const lead = makeLead({
    id: 'lead-dana',
    profile: {
      email: 'dana.whitfield@initech.example',
      dedupeKey: 'dana.whitfield@initech.example',
      companyDomain: 'initech.example',
      isFreeMail: false,
      isDisposable: false,
      extra: {},
      droppedFields: [],
    },
  });
  h.table.putLead(lead);
  h.table.put({ ...keys.dedupe(lead.profile.dedupeKey), leadId: lead.id, entity: 'dedupe' });
  return lead;
}

// ------------------------------------------------------------------------------ tests

describe('provider routing', () => {
  it('answers 404 listing the supported providers for an unknown one, without reading the secret', async () => {
    const result = await build()(apiEvent('hubspot', '{}'));
    expect(result.statusCode).toBe(404);
    // Exactly the registry's providers, in its order.
    const supported = WEBHOOK_REGISTRY.map((adapter) => adapter.provider);
    expect(bodyOf(result)).toEqual({
      error: 'UNKNOWN_PROVIDER',
      message: `No webhook provider "hubspot". Supported: ${supported.join(', ')}`,
      supported,
    });
    expect(secretsManager.calls()).toHaveLength(0);
  });

  it('answers 404 naming a provider the client has not enabled', async () => {
    const config = structuredClone(CONFIG);
    config.webhooks.typeform.enabled = false;
    const result = await build({ config })(typeformPost());
    expect(result.statusCode).toBe(404);
    expect(bodyOf(result)).toEqual({
      error: 'PROVIDER_DISABLED',
      message: 'Webhook provider "typeform" is not enabled for this client (webhooks.typeform.enabled)',
    });
    expect(leads()).toHaveLength(0);
  });

  it('accepts forgiving spellings of the provider and refuses GET where only POST exists', async () => {
    expect((await build()(apiEvent('google-ads', JSON.stringify(GOOGLE_LEAD)))).statusCode).toBe(200);
    const get = await build()(apiEvent('typeform', undefined, {}, { method: 'GET' }));
    expect(get.statusCode).toBe(405);
    expect(get.headers).toMatchObject({ allow: 'POST' });
  });
});

describe('Google Ads', () => {
  it('stores the lead flagged as a test lead and answers 200', async () => {
    const result = await build()(googlePost());
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toEqual({ received: true, results: [{ outcome: 'created', leadId: 'id-1' }] });

    const lead = h.table.lead('id-1');
    expect(lead).toMatchObject({
      isTest: true,
      status: 'new',
      profile: {
        email: 'ana.lopez@acme-widgets.example',
        firstName: 'Ana',
        lastName: 'Lopez',
        company: 'Acme Widgets',
      },
      source: {
        provider: 'google_ads',
        channel: 'paid_search',
        formId: '40000000000',
        externalId: 'CjwKCAiA-lead-0001',
      },
    });
    expect(lead.profile.extra).toMatchObject({
      gclid: 'Cj0KCQ-test-gclid',
      google_campaign_id: '50000000000',
    });
    expect(h.table.get(keys.external('google_ads', 'CjwKCAiA-lead-0001'))).toMatchObject({ leadId: 'id-1' });
    expect(h.ofType('Lead Captured')).toEqual([
      {
        detailType: 'Lead Captured',
        detail: expect.objectContaining({
          leadId: 'id-1',
          isTest: true,
          provider: 'google_ads',
          pending: false,
        }),
      },
    ]);
    // No Powertools record per lead: the provider id is claimed in the lead's transaction, and
    // the announcement left the outbox once it was on the bus.
    expect(idempotencyRecords()).toHaveLength(0);
    expect(h.table.byPk('OUTBOX')).toEqual([]);
  });

  it('answers 200 to a duplicate delivery without a second lead or event', async () => {
    const handler = build();
    await handler(googlePost());
    const again = await handler(googlePost());
    expect(again.statusCode).toBe(200);
    expect(bodyOf(again).results).toEqual([{ outcome: 'already-received', leadId: 'id-1' }]);

    expect(leads()).toHaveLength(1);
    expect(h.ofType('Lead Captured')).toHaveLength(1);
    expect(h.table.calls.filter((c) => c === 'TransactWriteCommand')).toHaveLength(1);
  });

  it('answers 200 while the bus refuses, keeps Lead Captured in the outbox, and a resend announces it', async () => {
    const handler = build();
    h.failNextPublish(throttling());
    const first = await handler(googlePost());
    // Stored with its announcement: the provider must not retry, the relay (or a resend) publishes.
    expect(first.statusCode).toBe(200);
    expect(h.ofType('Lead Captured')).toEqual([]);
    expect(h.table.byPk('OUTBOX')).toHaveLength(1);

    const resend = await handler(googlePost());
    expect(resend.statusCode).toBe(200);
    expect(bodyOf(resend).results).toEqual([{ outcome: 'already-received', leadId: 'id-1' }]);
    expect(h.ofType('Lead Captured').map((e) => e.detail.leadId)).toEqual(['id-1']);
    expect(h.table.byPk('OUTBOX')).toEqual([]);
    // Announced once: a further resend finds nothing waiting.
    await handler(googlePost());
    expect(h.ofType('Lead Captured')).toHaveLength(1);
    expect(leads()).toHaveLength(1);
  });

  it('answers 401 to a wrong google_key and stores nothing', async () => {
    const result = await build()(googlePost({ ...GOOGLE_LEAD, google_key: 'guessed' }));
    expect(result.statusCode).toBe(401);
    expect(bodyOf(result)).toEqual({ error: 'BAD_SIGNATURE', message: 'google_key does not match' });
    expect(h.table.items.size).toBe(0);
    expect(h.table.calls).toHaveLength(0);
  });

  it('answers an unconfigured key exactly like a wrong one', async () => {
    const result = await build({ secret: { googleAdsKey: '' } })(googlePost());
    expect(result.statusCode).toBe(401);
    expect(bodyOf(result)).toEqual({ error: 'BAD_SIGNATURE', message: 'google_key does not match' });
    expect(h.table.items.size).toBe(0);
  });

  it('answers 400 naming the field for a malformed lead, and for a lead without email or phone', async () => {
    const malformed = await build()(
      apiEvent('google_ads', JSON.stringify({ google_key: SECRET.googleAdsKey })),
    );
    expect(malformed.statusCode).toBe(400);
    expect(bodyOf(malformed).fields).toEqual([{ field: 'lead_id', reason: expect.any(String) }]);

    const anonymous = await build()(
      googlePost({
        ...GOOGLE_LEAD,
        lead_id: 'lead-2',
        user_column_data: [{ column_id: 'FULL_NAME', string_value: 'Ana' }],
      }),
    );
    expect(anonymous.statusCode).toBe(400);
    expect(
      bodyOf(anonymous)
        .fields.map((f: { field: string }) => f.field)
        .sort(),
    ).toEqual(['email', 'phone']);
    expect(leads()).toHaveLength(0);
    // A rejected delivery leaves no idempotency record: a corrected redelivery runs for real.
    expect(idempotencyRecords()).toHaveLength(0);
  });

  it('answers 503 with Retry-After when DynamoDB throttles, so Google retries, and the retry stores the lead', async () => {
    const handler = build();
    h.table.failNext('GetCommand', throttling());
    const result = await handler(googlePost());
    expect(result.statusCode).toBe(503);
    expect(result.headers).toMatchObject({ 'retry-after': '2' });
    expect(bodyOf(result)).toMatchObject({ error: 'DEPENDENCY_UNAVAILABLE' });
    expect(leads()).toHaveLength(0);
    expect(idempotencyRecords()).toHaveLength(0);

    const retry = await handler(googlePost());
    expect(retry.statusCode).toBe(200);
    expect(leads()).toHaveLength(1);
  });

  it('answers 503 when the lead transaction is throttled', async () => {
    h.table.failNext('TransactWriteCommand', throttling());
    const result = await build()(googlePost());
    expect(result.statusCode).toBe(503);
    expect(leads()).toHaveLength(0);
    expect(h.published).toHaveLength(0);
  });
});

describe('Meta Lead Ads', () => {
  const handshake = {
    'hub.mode': 'subscribe',
    'hub.verify_token': SECRET.metaVerifyToken,
    'hub.challenge': '1158201444',
  };

  it('answers the subscription handshake with the challenge as plain text', async () => {
    const result = await build()(apiEvent('meta', undefined, {}, { method: 'GET', query: handshake }));
    expect(result).toMatchObject({
      statusCode: 200,
      body: '1158201444',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  });

  it('refuses the handshake with a wrong or unconfigured verify token (403)', async () => {
    const wrong = await build()(
      apiEvent('meta', undefined, {}, { method: 'GET', query: { ...handshake, 'hub.verify_token': 'nope' } }),
    );
    expect(wrong.statusCode).toBe(403);
    const unconfigured = await build({ secret: { metaVerifyToken: '' } })(
      apiEvent('meta', undefined, {}, { method: 'GET', query: handshake }),
    );
    expect(unconfigured.statusCode).toBe(403);
    expect(unconfigured.body).not.toContain('1158201444');
  });

  it('fetches each lead from the Graph API and stores it', async () => {
    const calls: Array<{ url: string; init: RequestInit | undefined }> = [];
    const fetch = graphFetch({ '900001': graphLead('900001', 'tom@initech.example', 'Tom Cook') }, calls);
    const result = await build({ fetch })(metaPost(metaBatch('900001')));
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result).results).toEqual([
      { leadgenId: '900001', outcome: 'created', leadId: 'id-1', pending: false },
    ]);
    expect(h.table.lead('id-1')).toMatchObject({
      status: 'new',
      profile: { email: 'tom@initech.example', firstName: 'Tom', lastName: 'Cook', company: 'Initech' },
      source: { provider: 'meta', channel: 'paid_social', formId: '129595594131704', externalId: '900001' },
    });
    expect(calls).toHaveLength(1);
    const url = new URL(calls[0]!.url);
    expect(`${url.origin}${url.pathname}`).toBe('https://graph.facebook.com/v21.0/900001');
    expect(url.searchParams.get('appsecret_proof')).toBe(hmac(SECRET.metaAppSecret, SECRET.metaAccessToken));
    expect(calls[0]!.url).not.toContain(SECRET.metaAccessToken);
    expect(new Headers(calls[0]!.init?.headers).get('authorization')).toBe(
      `Bearer ${SECRET.metaAccessToken}`,
    );
  });

  it('stores the lead as pending when no access token is configured, without calling Meta', async () => {
    const calls: Array<{ url: string; init: RequestInit | undefined }> = [];
    const result = await build({ secret: { metaAccessToken: '' }, fetch: graphFetch({}, calls) })(
      metaPost(metaBatch('900002')),
    );
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result).results).toEqual([
      { leadgenId: '900002', outcome: 'created', leadId: 'id-1', pending: true },
    ]);
    expect(calls).toHaveLength(0);
    expect(h.table.lead('id-1')).toMatchObject({
      status: 'pending',
      profile: { dedupeKey: 'ext:meta:900002' },
      source: { provider: 'meta', formId: '129595594131704', externalId: '900002' },
    });
    expect(h.ofType('Lead Captured')[0]?.detail).toMatchObject({ leadId: 'id-1', pending: true });
  });

  it('answers 503 when the Graph API times out, storing nothing, so Meta delivers again', async () => {
    const hanging = (async (_input: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      })) as typeof fetch;
    const result = await build({ fetch: hanging, graphTimeoutMs: 20 })(metaPost(metaBatch('900003')));
    expect(result.statusCode).toBe(503);
    expect(bodyOf(result).results[0]).toMatchObject({
      leadgenId: '900003',
      outcome: 'failed',
      error: expect.stringContaining('Meta Graph API is unavailable'),
    });
    expect(leads()).toEqual([]);

    // Meta's redelivery, once Graph answers, creates the complete lead.
    const redelivered = await build({
      fetch: graphFetch({ '900003': graphLead('900003', 'cy@hooli.example', 'Cy Hooli') }),
    })(metaPost(metaBatch('900003')));
    expect(redelivered.statusCode).toBe(200);
    expect(leads().map((l) => l.status)).toEqual(['new']);
  });

  it('answers 503 when the Graph API answers 5xx', async () => {
    const failing = (async () => new Response('{}', { status: 502 })) as typeof fetch;
    const result = await build({ fetch: failing })(metaPost(metaBatch('900005')));
    expect(result.statusCode).toBe(503);
    expect(leads()).toEqual([]);
  });

  it('stores the lead as pending when Meta refuses the token', async () => {
    const expired = (async () =>
      new Response(JSON.stringify({ error: { message: 'Error validating access token', code: 190 } }), {
        status: 400,
      })) as typeof fetch;
    const result = await build({ fetch: expired })(metaPost(metaBatch('900004')));
    expect(result.statusCode).toBe(200);
    expect(h.table.lead('id-1')).toMatchObject({ status: 'pending', source: { externalId: '900004' } });
  });

  it('processes every change of a batch; one failing change answers 503 and the redelivery completes it', async () => {
    const fetch = graphFetch({
      '910001': graphLead('910001', 'ann@hooli.example', 'Ann Hooli'),
      '910002': graphLead('910002', 'bob@hooli.example', 'Bob Hooli'),
    });
    const handler = build({ fetch });
    // Bob's pointer lookup is throttled once; every other call goes to the table.
    h.docMock
      .on(GetCommand, { Key: keys.external('meta', '910002') })
      .rejectsOnce(throttling())
      .callsFake(async (input: Record<string, unknown>) => h.table.handleDoc('GetCommand', input));

    const first = await handler(metaPost(metaBatch('910001', '910002')));
    expect(first.statusCode).toBe(503);
    expect(first.headers).toMatchObject({ 'retry-after': '2' });
    expect(bodyOf(first).results).toEqual([
      { leadgenId: '910001', outcome: 'created', leadId: expect.any(String), pending: false },
      { leadgenId: '910002', outcome: 'failed', error: expect.stringContaining('DynamoDB is unavailable') },
    ]);
    expect(leads().map((l) => (l.profile as { email: string }).email)).toEqual(['ann@hooli.example']);

    const redelivery = await handler(metaPost(metaBatch('910001', '910002')));
    expect(redelivery.statusCode).toBe(200);
    // Ann is known by her leadgen id now; Bob is created.
    expect(bodyOf(redelivery).results.map((r: { outcome: string }) => r.outcome)).toEqual([
      'already-received',
      'created',
    ]);
    expect(
      leads()
        .map((l) => (l.profile as { email: string }).email)
        .sort(),
    ).toEqual(['ann@hooli.example', 'bob@hooli.example']);
    // Ann's lead was not taken in twice.
    expect(h.ofType('Lead Captured')).toHaveLength(2);
  });

  it('skips an unreadable change and stores the others', async () => {
    const batch = metaBatch('920001');
    batch.entry[0]!.changes.push({ field: 'leadgen', value: { form_id: '1' } as never });
    const fetch = graphFetch({ '920001': graphLead('920001', 'cy@umbrella.example', 'Cy Umbrella') });
    const result = await build({ fetch })(metaPost(batch));
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result).results).toEqual([
      { leadgenId: '920001', outcome: 'created', leadId: 'id-1', pending: false },
    ]);
  });

  it('stores the lead as pending when its answers hold neither an email nor a phone number', async () => {
    const fetch = graphFetch({
      '940001': { id: '940001', field_data: [{ name: 'full_name', values: ['No Contact'] }] },
    });
    const result = await build({ fetch })(metaPost(metaBatch('940001')));
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result).results[0]).toMatchObject({ outcome: 'created', pending: true });
    expect(h.table.lead('id-1')).toMatchObject({ status: 'pending', source: { externalId: '940001' } });
  });

  it('answers 400 naming the fields when no change of the batch can be read', async () => {
    const batch = {
      object: 'page',
      entry: [{ id: '1', changes: [{ field: 'leadgen', value: { form_id: '1' } }] }],
    };
    const result = await build()(metaPost(batch));
    expect(result.statusCode).toBe(400);
    expect(bodyOf(result).fields).toEqual([
      { field: 'entry.0.changes.0.value.leadgen_id', reason: expect.any(String) },
    ]);
  });

  it('answers 401 to a bad or missing signature and stores nothing', async () => {
    const forged = await build()(metaPost(metaBatch('930001'), 'not-the-app-secret'));
    expect(forged.statusCode).toBe(401);
    expect(bodyOf(forged).message).toBe('signature does not match the request body');
    const unsigned = await build()(apiEvent('meta', JSON.stringify(metaBatch('930001'))));
    expect(bodyOf(unsigned).message).toBe('missing X-Hub-Signature-256 header');
    expect(h.table.items.size).toBe(0);
  });
});

describe('Typeform, Unbounce and generic JSON', () => {
  it('stores a signed Typeform response', async () => {
    const result = await build()(typeformPost());
    expect(result.statusCode).toBe(200);
    expect(h.table.lead('id-1')).toMatchObject({
      profile: { email: 'laura@globex.example', company: 'Globex' },
      source: {
        provider: 'typeform',
        channel: 'paid_social',
        formId: 'lT4Z3j',
        externalId: 'a3a12ec67a1365927098a606107fac15',
      },
    });
  });

  it('answers 401 to a tampered Typeform body and 400 to a signed but malformed one', async () => {
    const raw = JSON.stringify(TYPEFORM_EVENT);
    const tampered = apiEvent('typeform', raw.replace('Globex', 'Evil'), {
      'typeform-signature': `sha256=${hmac(SECRET.typeformSecret, raw, 'base64')}`,
    });
    expect((await build()(tampered)).statusCode).toBe(401);

    const malformed = await build()(
      typeformPost({ event_type: 'form_response', form_response: { answers: [] } }),
    );
    expect(malformed.statusCode).toBe(400);
    expect(bodyOf(malformed).fields).toEqual([{ field: 'form_response.token', reason: expect.any(String) }]);
  });

  it('stores an Unbounce submission (base64 form body, token in the URL)', async () => {
    const data = {
      email: ['priya@globex.example'],
      first_name: ['Priya'],
      ip_address: ['203.0.113.7'],
      page_uuid: ['a2838d98-4cf4-11df-a3fd-00163e372d58'],
      time_submitted: ['10:57 PM UTC'],
    };
    const body = new URLSearchParams({
      'data.json': JSON.stringify(data),
      page_id: 'a2838d98-4cf4-11df-a3fd-00163e372d58',
      page_url: 'https://go.northwind.example/demo',
      variant: 'a',
    }).toString();
    const event = apiEvent(
      'unbounce',
      body,
      { 'content-type': 'application/x-www-form-urlencoded' },
      { base64: true, query: { token: webhookToken(SECRET.signingKey, 'unbounce') } },
    );
    const result = await build()(event);
    expect(result.statusCode).toBe(200);
    const lead = h.table.lead('id-1');
    expect(lead).toMatchObject({
      profile: { email: 'priya@globex.example', firstName: 'Priya' },
      source: { provider: 'unbounce', landingPage: 'https://go.northwind.example/demo' },
    });
    expect(JSON.stringify(lead)).not.toContain('203.0.113.7');

    const unauthenticated = await build()(
      apiEvent('unbounce', body, { 'content-type': 'application/x-www-form-urlencoded' }, { base64: true }),
    );
    expect(unauthenticated.statusCode).toBe(401);
  });

  it("stores a generic JSON lead through the client's field map, with the provider token", async () => {
    const body = JSON.stringify({
      contact: { email: 'ravi@hooli.example', first_name: 'Ravi', last_name: 'Shah' },
      company: { name: 'Hooli' },
    });
    const token = webhookToken(SECRET.signingKey, 'generic');
    const result = await build()(apiEvent('generic', body, { 'x-webhook-token': token }));
    expect(result.statusCode).toBe(200);
    expect(h.table.lead('id-1').profile).toMatchObject({
      email: 'ravi@hooli.example',
      firstName: 'Ravi',
      lastName: 'Shah',
      company: 'Hooli',
    });
    const wrong = await build()(
      apiEvent('generic', body, { 'x-webhook-token': webhookToken(SECRET.signingKey, 'unbounce') }),
    );
    expect(wrong.statusCode).toBe(401);
    expect(leads()).toHaveLength(1);
  });
});

describe('bookings', () => {
  it('records meeting_booked on the existing lead of a Calendly invitee', async () => {
    storeDana();
    const result = await build()(calendlyPost());
    expect(result.statusCode).toBe(200);
    const activityId = bookingActivityId('calendly', {
      action: 'booked',
      bookingId: CALENDLY_CREATED.payload.uri,
    });
    expect(bodyOf(result)).toEqual({
      received: true,
      outcome: 'recorded',
      leadId: 'lead-dana',
      activityId,
      activityType: 'meeting_booked',
      leadCreated: false,
    });
    expect(h.table.activities('lead-dana')).toEqual([
      expect.objectContaining({
        id: activityId,
        type: 'meeting_booked',
        at: '2026-03-02T08:59:57.000Z',
        data: {
          kind: 'meeting_booked',
          provider: 'calendly',
          bookingId: CALENDLY_CREATED.payload.uri,
          meetingName: '30 Minute Product Demo',
          startTime: '2026-03-04T15:00:00.000Z',
          endTime: '2026-03-04T15:30:00.000Z',
          rescheduled: false,
        },
      }),
    ]);
    expect(h.published).toEqual([
      {
        detailType: 'Activity Recorded',
        detail: expect.objectContaining({
          leadId: 'lead-dana',
          activityId,
          type: 'meeting_booked',
          isTest: false,
        }),
      },
    ]);
  });

  it('records a redelivered booking once', async () => {
    storeDana();
    const handler = build();
    await handler(calendlyPost());
    const again = await handler(calendlyPost());
    expect(again.statusCode).toBe(200);
    expect(h.table.activities('lead-dana')).toHaveLength(1);
    expect(h.ofType('Activity Recorded')).toHaveLength(1);
  });

  it('creates the lead through intake when the invitee is unknown, then records the meeting', async () => {
    const result = await build()(calendlyPost());
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toMatchObject({ outcome: 'recorded', leadId: 'id-1', leadCreated: true });
    expect(h.table.lead('id-1')).toMatchObject({
      profile: {
        email: 'dana.whitfield@initech.example',
        firstName: 'Dana',
        company: 'Initech',
        timezone: 'America/Chicago',
      },
      source: { provider: 'calendly' },
    });
    expect(
      h.table
        .activities('id-1')
        .map((a) => a.type)
        .sort(),
    ).toEqual(['captured', 'meeting_booked']);
    expect(h.published.map((p) => p.detailType)).toEqual(['Lead Captured', 'Activity Recorded']);
  });

  it('answers 401 to a stale Calendly signature (replay)', async () => {
    storeDana();
    const result = await build()(calendlyPost(CALENDLY_CREATED, T - 3600));
    expect(result.statusCode).toBe(401);
    expect(bodyOf(result).message).toBe('signature timestamp is outside the 5-minute window');
    expect(h.table.activities('lead-dana')).toHaveLength(0);
  });

  it('records a Cal.com cancellation as a note on the lead, and ignores one for an unknown invitee', async () => {
    storeDana();
    const cancellation = (email: string) => ({
      triggerEvent: 'BOOKING_CANCELLED',
      createdAt: '2026-03-02T08:30:00.000Z',
      payload: {
        uid: `booking-${email}`,
        eventTitle: 'Discovery call',
        startTime: '2026-03-05T10:00:00Z',
        endTime: '2026-03-05T10:30:00Z',
        attendees: [{ email, name: 'Someone', timeZone: 'Europe/London' }],
        cancellationReason: 'Budget frozen',
      },
    });
    const handler = build();
    const recorded = await handler(calcomPost(cancellation('dana.whitfield@initech.example')));
    expect(recorded.statusCode).toBe(200);
    expect(bodyOf(recorded)).toMatchObject({ outcome: 'recorded', activityType: 'note', leadCreated: false });
    expect(h.table.activities('lead-dana')).toEqual([
      expect.objectContaining({
        type: 'note',
        at: '2026-03-02T08:30:00.000Z',
        data: expect.objectContaining({
          kind: 'meeting_canceled',
          meetingName: 'Discovery call',
          reason: 'Budget frozen',
        }),
      }),
    ]);

    const ignored = await handler(calcomPost(cancellation('stranger@nowhere.example')));
    expect(ignored.statusCode).toBe(200);
    expect(bodyOf(ignored)).toMatchObject({ outcome: 'ignored' });
    expect(leads()).toHaveLength(1);
  });

  it("answers Cal.com's ping test with 200", async () => {
    const result = await build()(
      calcomPost({ triggerEvent: 'PING', createdAt: '2026-03-02T08:00:00Z', payload: {} }),
    );
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toEqual({
      received: true,
      ignored: 'triggerEvent "PING" is not a booking or cancellation',
    });
  });
});

describe('LinkedIn Lead Gen Forms', () => {
  const NOTIFICATION = {
    type: 'LEAD_ACTION',
    leadGenFormResponse: 'urn:li:leadGenFormResponse:4b9c1f3e-7d2a-4e1b-9f0a-1c2d3e4f5a6b-4',
    leadGenForm: 'urn:li:versionedLeadGenForm:(urn:li:leadGenForm:5501,2)',
    owner: { sponsoredAccount: 'urn:li:sponsoredAccount:50810' },
    leadType: 'SPONSORED',
    leadAction: 'CREATED',
    occurredAt: 1764579600000,
  };
  const RESPONSE_ID = '4b9c1f3e-7d2a-4e1b-9f0a-1c2d3e4f5a6b-4';
  const API = {
    [`/rest/leadFormResponses/${RESPONSE_ID}`]: {
      id: RESPONSE_ID,
      testLead: false,
      submittedAt: 1764579600000,
      leadMetadata: { sponsoredLeadMetadata: { campaign: 'urn:li:sponsoredCampaign:3301' } },
      formResponse: {
        answers: [
          { questionId: 1, answerDetails: { textQuestionAnswer: { answer: 'Amara' } } },
          { questionId: 2, answerDetails: { textQuestionAnswer: { answer: 'Okafor' } } },
          {
            questionId: 3,
            answerDetails: { textQuestionAnswer: { answer: 'amara.okafor@tailspin.example' } },
          },
          { questionId: 4, answerDetails: { textQuestionAnswer: { answer: 'Chief Data Officer' } } },
          { questionId: 5, answerDetails: { textQuestionAnswer: { answer: 'Tailspin Toys' } } },
          { questionId: 6, answerDetails: { multipleChoiceAnswer: { options: [2] } } },
        ],
        consentResponses: [{ accepted: true, consentId: 9 }],
      },
    },
    '/rest/leadForms/5501': {
      id: 5501,
      name: 'Analytics demo',
      content: {
        questions: [
          { questionId: 1, name: 'firstName', predefinedField: 'FIRST_NAME' },
          { questionId: 2, name: 'lastName', predefinedField: 'LAST_NAME' },
          { questionId: 3, name: 'email', predefinedField: 'WORK_EMAIL' },
          { questionId: 4, name: 'title', predefinedField: 'JOB_TITLE' },
          { questionId: 5, name: 'company', predefinedField: 'COMPANY_NAME' },
          {
            questionId: 6,
            name: 'team_size',
            questionDetails: {
              multipleChoiceQuestionDetails: {
                options: [
                  { id: 1, text: { localized: { en_US: '1-10' } } },
                  { id: 2, text: { localized: { en_US: '11-50' } } },
                ],
              },
            },
          },
        ],
      },
    },
  };

  function linkedinPost(body: unknown, secret = SECRET.linkedinClientSecret) {
    const raw = JSON.stringify(body);
    return apiEvent('linkedin', raw, { 'x-li-signature': hmac(secret, `hmacsha256=${raw}`) });
  }

  it("answers LinkedIn's endpoint validation with the HMAC of the challenge code", async () => {
    const challengeCode = 'f2c3a5b8-3c1d-4e4f-9a7b-0d1e2f3a4b5c';
    const result = await build()(
      apiEvent('linkedin', undefined, {}, { method: 'GET', query: { challengeCode } }),
    );
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toEqual({
      challengeCode,
      challengeResponse: hmac(SECRET.linkedinClientSecret, challengeCode),
    });
    const unconfigured = await build({ secret: { linkedinClientSecret: '' } })(
      apiEvent('linkedin', undefined, {}, { method: 'GET', query: { challengeCode } }),
    );
    expect(unconfigured.statusCode).toBe(403);
  });

  it('verifies X-LI-Signature, reads the lead from the Lead Sync API and takes it in', async () => {
    const calls: Array<{ url: string; init: RequestInit | undefined }> = [];
    const result = await build({ linkedinFetch: linkedinFetch(API, calls) })(linkedinPost(NOTIFICATION));
    expect(result.statusCode).toBe(200);
    expect(bodyOf(result).results).toEqual([{ outcome: 'created', leadId: 'id-1', pending: false }]);
    expect(h.table.lead('id-1')).toMatchObject({
      status: 'new',
      profile: {
        email: 'amara.okafor@tailspin.example',
        firstName: 'Amara',
        lastName: 'Okafor',
        jobTitle: 'Chief Data Officer',
        company: 'Tailspin Toys',
        extra: { team_size: '["11-50"]', linkedin_campaign: '3301' },
      },
      source: { provider: 'linkedin', channel: 'paid_social', formId: '5501', externalId: RESPONSE_ID },
      consent: { marketing: true },
    });
    expect(calls.map((c) => new URL(c.url).pathname)).toEqual([
      `/rest/leadFormResponses/${RESPONSE_ID}`,
      '/rest/leadForms/5501',
    ]);
    expect(new Headers(calls[0]?.init?.headers).get('authorization')).toBe(
      `Bearer ${SECRET.linkedinAccessToken}`,
    );
    expect(new Headers(calls[0]?.init?.headers).get('linkedin-version')).toBe('202509');
    // LinkedIn may deliver a notification twice: the second is a no-op.
    const again = await build({ linkedinFetch: linkedinFetch(API) })(linkedinPost(NOTIFICATION));
    expect(again.statusCode).toBe(200);
    expect(leads()).toHaveLength(1);
  });

  it('refuses a wrong signature (401) and stores nothing', async () => {
    const result = await build()(linkedinPost(NOTIFICATION, 'another-secret'));
    expect(result.statusCode).toBe(401);
    expect(leads()).toHaveLength(0);
  });

  it('stores the lead pending when there is no access token or the API fails, never losing it', async () => {
    const noToken = await build({ secret: { linkedinAccessToken: '' } })(linkedinPost(NOTIFICATION));
    expect(bodyOf(noToken).results).toEqual([{ outcome: 'created', leadId: 'id-1', pending: true }]);
    expect(h.table.lead('id-1')).toMatchObject({
      status: 'pending',
      source: { provider: 'linkedin', externalId: RESPONSE_ID },
    });
  });

  it('acknowledges deletions and other event types without storing anything', async () => {
    const deleted = await build()(linkedinPost({ ...NOTIFICATION, leadAction: 'DELETED' }));
    expect(deleted.statusCode).toBe(200);
    expect(bodyOf(deleted)).toMatchObject({ ignored: 'lead action DELETED is not a new lead' });
    const social = await build()(
      linkedinPost({ type: 'ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS', notifications: [] }),
    );
    expect(social.statusCode).toBe(200);
    expect(leads()).toHaveLength(0);
  });
});

describe('infrastructure failures', () => {
  it('answers 503 when the integrations secret cannot be read', async () => {
    const handler = build();
    secretsManager.on(GetSecretValueCommand).rejects(throttling());
    const result = await handler(googlePost());
    expect(result.statusCode).toBe(503);
    expect(result.headers).toMatchObject({ 'retry-after': '2' });
    expect(h.table.items.size).toBe(0);
  });

  it('answers 413 to an oversized body', async () => {
    const result = await build()(apiEvent('google_ads', 'x'.repeat(MAX_WEBHOOK_BODY_BYTES + 1)));
    expect(result.statusCode).toBe(413);
  });

  it('stores one lead when the same lead is delivered twice concurrently', async () => {
    const handler = build();
    const [a, b] = await Promise.all([handler(googlePost()), handler(googlePost())]);
    // The provider id is claimed in the lead's transaction: the loser finds the winner's lead.
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    expect(
      [...bodyOf(a).results, ...bodyOf(b).results].map((r: { outcome: string }) => r.outcome).sort(),
    ).toEqual(['already-received', 'created']);
    expect(leads()).toHaveLength(1);
    expect(h.ofType('Lead Captured')).toHaveLength(1);
  });
});
