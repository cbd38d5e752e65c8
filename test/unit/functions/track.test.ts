import { runInNewContext } from 'node:vm';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createHandler, type Deps } from '../../../functions/track/handler';
import { EventPublisher } from '../../../shared/adapters/event-publisher';
import { SecretsManagerIntegrations } from '../../../shared/adapters/integrations-secret';
import { LeadRepository } from '../../../shared/adapters/lead-repository';
import { loadClientConfig } from '../../../shared/config/load';
import type { ClientConfig } from '../../../shared/config/schema';
import type { Lead } from '../../../shared/domain/lead';
import { signToken } from '../../../shared/domain/tokens';
import { trackedActivityId } from '../../../shared/domain/tracking';
import type { ApiEvent, ApiResult } from '../../../shared/http/api';

process.env.AWS_REGION = 'eu-west-1';
const config = loadClientConfig('example', 'clients');
process.env.CLIENT_CONFIG = JSON.stringify(config);

const ddb = mockClient(DynamoDBDocumentClient);
const eventBridge = mockClient(EventBridgeClient);
const secretsManager = mockClient(SecretsManagerClient);

const KEY = 'track-test-signing-key-0123456789';
const now = new Date('2026-03-02T10:00:00.000Z');
const at = '2026-03-02T09:59:30.000Z';
const VID = '6f1c2b1e-0d5e-4c47-9a39-2f3a1c0b9d11';
const API_HOST = 'abc123.execute-api.eu-west-1.amazonaws.com';
/** The visitor token capture gave lead-1's browser. */
const TOKEN = signToken('visitor', 'lead-1', KEY, now, 365 * 86_400);

const lead: Lead = {
  id: 'lead-1',
  createdAt: '2026-02-01T09:00:00.000Z',
  updatedAt: '2026-02-01T09:00:00.000Z',
  profile: {
    email: 'jane.doe@acme.example',
    dedupeKey: 'jane.doe@acme.example',
    isFreeMail: false,
    isDisposable: false,
    extra: {},
    droppedFields: [],
  },
  source: { channel: 'web', provider: 'form', utm: {} },
  isTest: false,
  status: 'assigned',
  stage: 'lead',
  priority: 'normal',
  unsubscribed: false,
  version: 3,
};

function deps(overrides: Partial<ClientConfig['client']> = {}): Deps {
  return {
    leads: new LeadRepository(
      'leads',
      DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }), {
        marshallOptions: { removeUndefinedValues: true },
      }),
    ),
    publisher: new EventPublisher('pipeline', new EventBridgeClient({ region: 'eu-west-1' }), async () => {}),
    secrets: new SecretsManagerIntegrations(
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:integrations',
    ),
    config: { ...config, client: { ...config.client, ...overrides } },
    now: () => now,
    apiUrl: `https://${API_HOST}`,
  };
}

function post(body: unknown, headers: Record<string, string> = {}): ApiEvent {
  return {
    version: '2.0',
    routeKey: 'POST /events',
    rawPath: '/events',
    rawQueryString: '',
    // What sendBeacon sends for a string body.
    headers: { 'content-type': 'text/plain;charset=UTF-8', ...headers },
    requestContext: { http: { method: 'POST', path: '/events' }, domainName: API_HOST, stage: '$default' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
  } as unknown as ApiEvent;
}

function getScript(
  requestContext: Record<string, unknown>,
  headers: Record<string, string> = {},
  rawPath = '/t.js',
) {
  return {
    version: '2.0',
    routeKey: 'GET /t.js',
    rawPath,
    rawQueryString: '',
    headers,
    requestContext: { http: { method: 'GET', path: rawPath }, stage: '$default', ...requestContext },
    isBase64Encoded: false,
  } as unknown as ApiEvent;
}

const consented = { consent: { analytics: true } };

function body(result: ApiResult): Record<string, unknown> {
  return JSON.parse(String(result.body));
}

function puts() {
  return ddb.commandCalls(PutCommand).map((c) => c.args[0].input);
}

function publishedDetails() {
  return eventBridge
    .commandCalls(PutEventsCommand)
    .flatMap((c) => c.args[0].input.Entries ?? [])
    .map((e) => ({ detailType: e.DetailType, detail: JSON.parse(String(e.Detail)) }));
}

const ccf = (item?: Record<string, unknown>) =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item: item as never,
  });

beforeEach(() => {
  ddb.reset();
  eventBridge.reset();
  secretsManager.reset();
  ddb.on(GetCommand).resolves({});
  ddb.on(GetCommand, { Key: { pk: 'LEAD#lead-1', sk: 'PROFILE' } }).resolves({
    Item: { ...lead, pk: 'LEAD#lead-1', sk: 'PROFILE', entity: 'lead' },
  });
  ddb.on(GetCommand, { Key: { pk: 'DEDUPE#jane.doe@acme.example', sk: 'DEDUPE' } }).resolves({
    Item: { pk: 'DEDUPE#jane.doe@acme.example', sk: 'DEDUPE', leadId: 'lead-1' },
  });
  ddb.on(PutCommand).resolves({});
  ddb.on(UpdateCommand).resolves({});
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  secretsManager.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ signingKey: KEY }) });
});

describe('POST /events: known leads', () => {
  it('records a token-identified page view and publishes Activity Recorded', async () => {
    const token = signToken('visitor', 'lead-1', KEY, now, 365 * 86_400);
    const result = await createHandler(deps())(
      post({
        type: 'page_view',
        path: '/features',
        title: 'Features',
        occurredAt: at,
        visitorId: VID,
        token,
        ...consented,
      }),
    );

    expect(result.statusCode).toBe(202);
    expect(body(result)).toEqual({ accepted: 1, stored: 1 });
    const id = trackedActivityId({ visitorId: VID }, 'page_view', at, '/features');
    expect(puts()).toEqual([
      {
        TableName: 'leads',
        Item: {
          id,
          leadId: 'lead-1',
          type: 'page_view',
          at,
          data: { path: '/features', title: 'Features' },
          pk: 'LEAD#lead-1',
          sk: `ACT#${at}#${id}`,
          entity: 'activity',
          unpublished: true,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    ]);
    expect(publishedDetails()).toEqual([
      {
        detailType: 'Activity Recorded',
        detail: { leadId: 'lead-1', occurredAt: at, isTest: false, activityId: id, type: 'page_view' },
      },
    ]);
    const cleared = ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(cleared).toEqual([
      expect.objectContaining({
        Key: { pk: 'LEAD#lead-1', sk: `ACT#${at}#${id}` },
        UpdateExpression: 'REMOVE #unpublished',
      }),
    ]);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('records a token-identified event without a visitor id, keyed by the lead', async () => {
    const result = await createHandler(deps())(
      post({ type: 'demo_request', occurredAt: at, token: TOKEN, ...consented }),
    );
    expect(body(result)).toEqual({ accepted: 1, stored: 1 });
    const id = trackedActivityId({ leadId: 'lead-1' }, 'demo_request', at);
    expect(puts().map((p) => p.Item?.sk)).toEqual([`ACT#${at}#${id}`]);
    expect(publishedDetails().map((e) => e.detail.type)).toEqual(['demo_request']);
  });

  it('never credits a lead from a bare email or lead id, and answers alike for known and unknown people', async () => {
    const handler = createHandler(deps());
    const answers = [];
    for (const who of ['jane.doe@acme.example', 'nobody@acme.example']) {
      for (const type of ['demo_request', 'meeting_booked', 'webinar_attended']) {
        const result = await handler(
          post({ type, occurredAt: at, email: who, leadId: 'lead-1', visitorId: VID, ...consented }),
        );
        answers.push({ status: result.statusCode, body: body(result) });
      }
    }
    expect(new Set(answers.map((a) => JSON.stringify(a)))).toEqual(
      new Set([JSON.stringify({ status: 202, body: { accepted: 1, stored: 1 } })]),
    );
    // Everything stayed with the anonymous visitor: no lead activity, nothing for scoring.
    expect(puts().every((p) => p.Item?.pk === `VISITOR#${VID}`)).toBe(true);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
    // Neither the dedupe index nor the lead was even read.
    expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
  });

  it('records a pricing page view as pricing_page_view', async () => {
    await createHandler(deps())(
      post({
        type: 'page_view',
        path: '/pricing/enterprise',
        occurredAt: at,
        token: TOKEN,
        ...consented,
      }),
    );
    expect(puts()[0]?.Item).toMatchObject({
      type: 'pricing_page_view',
      data: { path: '/pricing/enterprise' },
    });
    expect(publishedDetails()[0]?.detail.type).toBe('pricing_page_view');
  });

  it('carries the lead test flag onto Activity Recorded', async () => {
    ddb.on(GetCommand, { Key: { pk: 'LEAD#lead-1', sk: 'PROFILE' } }).resolves({
      Item: { ...lead, isTest: true, pk: 'LEAD#lead-1', sk: 'PROFILE' },
    });
    await createHandler(deps())(post({ type: 'meeting_booked', occurredAt: at, token: TOKEN, ...consented }));
    expect(publishedDetails()[0]?.detail.isTest).toBe(true);
  });

  it('looks a lead up once for a batch and records each event', async () => {
    const events = ['/a', '/b', '/c'].map((path) => ({
      type: 'page_view',
      path,
      occurredAt: at,
      token: TOKEN,
      ...consented,
    }));
    const result = await createHandler(deps())(post({ events }));
    expect(body(result)).toEqual({ accepted: 3, stored: 3 });
    expect(ddb.commandCalls(GetCommand)).toHaveLength(1);
    expect(publishedDetails()).toHaveLength(3);
  });
});

describe('POST /events: anonymous visitors and identification fallbacks', () => {
  it('stores an anonymous visitor event with the retention TTL and publishes nothing', async () => {
    const result = await createHandler(deps())(
      post({
        type: 'content_download',
        asset: 'Buyer guide.pdf',
        path: '/guides',
        occurredAt: at,
        visitorId: VID,
        ...consented,
      }),
    );
    expect(body(result)).toEqual({ accepted: 1, stored: 1 });
    const id = trackedActivityId({ visitorId: VID }, 'content_download', at, '/guides', 'Buyer guide.pdf');
    expect(puts()).toEqual([
      {
        TableName: 'leads',
        Item: {
          pk: `VISITOR#${VID}`,
          sk: `EVT#${at}#${id}`,
          entity: 'visitorEvent',
          visitorId: VID,
          id,
          type: 'content_download',
          at,
          data: { path: '/guides', asset: 'Buyer guide.pdf' },
          expiresAt: now.getTime() / 1000 + 30 * 86_400,
        },
      },
    ]);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('treats an invalid or expired token as anonymous rather than refusing the event', async () => {
    const forged = signToken('visitor', 'lead-1', 'someone-elses-key-0123456789', now);
    const expired = signToken('visitor', 'lead-1', KEY, new Date('2025-01-01T00:00:00Z'), 60);
    const result = await createHandler(deps())(
      post({
        events: [
          { type: 'page_view', path: '/a', occurredAt: at, visitorId: VID, token: forged, ...consented },
          { type: 'page_view', path: '/b', occurredAt: at, visitorId: VID, token: expired, ...consented },
        ],
      }),
    );
    expect(body(result)).toEqual({ accepted: 2, stored: 2 });
    expect(puts().map((p) => p.Item?.pk)).toEqual([`VISITOR#${VID}`, `VISITOR#${VID}`]);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('answers the same 202 when a token names nobody and there is no visitor id, storing nothing', async () => {
    const forged = signToken('visitor', 'lead-1', 'someone-elses-key-0123456789', now);
    const result = await createHandler(deps())(
      post({
        events: [
          { type: 'page_view', path: '/a', occurredAt: at, visitorId: VID, ...consented },
          { type: 'page_view', path: '/b', occurredAt: at, token: forged, ...consented },
        ],
      }),
    );
    expect(result.statusCode).toBe(202);
    expect(body(result)).toEqual({ accepted: 2, stored: 2 });
    expect(puts().map((p) => p.Item?.pk)).toEqual([`VISITOR#${VID}`]);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(0);
  });
});

describe('POST /events: consent', () => {
  it('acknowledges but does not store an event without consent in consent-required mode', async () => {
    const result = await createHandler(deps())(
      post({ type: 'page_view', path: '/a', occurredAt: at, token: TOKEN }),
    );
    expect(result.statusCode).toBe(202);
    expect(body(result)).toEqual({ accepted: 1, stored: 0 });
    expect(ddb.calls()).toHaveLength(0);
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it('stores only the consented events of a mixed batch', async () => {
    const result = await createHandler(deps())(
      post({
        events: [
          { type: 'page_view', path: '/a', occurredAt: at, visitorId: VID, ...consented },
          { type: 'page_view', path: '/b', occurredAt: at, visitorId: VID, consent: { analytics: false } },
        ],
      }),
    );
    expect(body(result)).toEqual({ accepted: 2, stored: 1 });
    expect(puts().map((p) => p.Item?.data)).toEqual([{ path: '/a' }]);
  });

  it.each([
    ['DNT', { dnt: '1' }],
    ['Sec-GPC', { 'Sec-GPC': '1' }],
  ])('treats %s: 1 as no consent, whatever the event says', async (_name, headers) => {
    const result = await createHandler(deps({ consentMode: 'opt-out' }))(
      post({ type: 'page_view', path: '/a', occurredAt: at, token: TOKEN, ...consented }, headers),
    );
    expect(body(result)).toEqual({ accepted: 1, stored: 0 });
    expect(ddb.calls()).toHaveLength(0);
  });

  it('stores in opt-out mode unless the visitor refused', async () => {
    const handler = createHandler(deps({ consentMode: 'opt-out' }));
    const silent = await handler(post({ type: 'page_view', path: '/a', occurredAt: at, visitorId: VID }));
    const refused = await handler(
      post({ type: 'page_view', path: '/b', occurredAt: at, visitorId: VID, consent: { analytics: false } }),
    );
    expect(body(silent)).toEqual({ accepted: 1, stored: 1 });
    expect(body(refused)).toEqual({ accepted: 1, stored: 0 });
    expect(puts()).toHaveLength(1);
  });
});

describe('POST /events: bad input', () => {
  it('refuses a batch with one bad event, naming it, and stores nothing', async () => {
    const events = [
      { type: 'page_view', path: '/a', occurredAt: at, visitorId: VID, ...consented },
      { type: 'page_view', path: '/b', occurredAt: at, visitorId: VID, ...consented },
      { type: 'watched_video', occurredAt: at, visitorId: VID, ...consented },
    ];
    const result = await createHandler(deps())(post({ events }));
    expect(result.statusCode).toBe(400);
    expect(body(result)).toEqual({
      error: 'INVALID_INPUT',
      message: 'Some fields are missing or invalid',
      fields: [
        {
          field: 'events[2].type',
          reason:
            'must be one of page_view, content_download, demo_request, webinar_registered, webinar_attended, meeting_booked',
        },
      ],
    });
    expect(ddb.calls()).toHaveLength(0);
  });

  it('refuses malformed JSON', async () => {
    const result = await createHandler(deps())(post('{"type": "page_view",'));
    expect(result.statusCode).toBe(400);
    expect((body(result).fields as Array<{ field: string }>)[0]?.field).toBe('body');
  });

  it('refuses an event dated more than 5 minutes ahead', async () => {
    const result = await createHandler(deps())(
      post({ type: 'demo_request', occurredAt: '2026-03-02T10:10:00Z', visitorId: VID, ...consented }),
    );
    expect(result.statusCode).toBe(400);
    expect((body(result).fields as Array<{ field: string }>).map((f) => f.field)).toEqual(['occurredAt']);
  });

  it('answers 404 for other routes', async () => {
    const event = {
      ...post({}),
      rawPath: '/nope',
      requestContext: { http: { method: 'DELETE' } },
    } as unknown as ApiEvent;
    const result = await createHandler(deps())(event);
    expect(result.statusCode).toBe(404);
  });
});

describe('POST /events: duplicates and failures', () => {
  const event = { type: 'demo_request', occurredAt: at, token: TOKEN, visitorId: VID, ...consented };

  it('records a retried POST once and publishes nothing the second time', async () => {
    ddb
      .on(PutCommand)
      .resolvesOnce({})
      .rejects(ccf({ id: { S: 'x' } }));
    const handler = createHandler(deps());
    const first = await handler(post(event));
    const second = await handler(post(event));
    expect(body(first)).toEqual({ accepted: 1, stored: 1 });
    expect(body(second)).toEqual({ accepted: 1, stored: 1 });
    const [firstPut, secondPut] = puts();
    expect(secondPut?.Item?.sk).toBe(firstPut?.Item?.sk);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(1);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
  });

  it('publishes again on retry when the first attempt stored the activity but could not publish', async () => {
    eventBridge
      .on(PutEventsCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-2' }] });
    ddb
      .on(PutCommand)
      .resolvesOnce({})
      .rejects(ccf({ unpublished: { BOOL: true } }));
    const handler = createHandler(deps());

    const first = await handler(post(event));
    expect(first.statusCode).toBe(503);
    expect(first.headers?.['retry-after']).toBe('2');

    const retry = await handler(post(event));
    expect(body(retry)).toEqual({ accepted: 1, stored: 1 });
    expect(publishedDetails()).toHaveLength(2);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
  });

  it('still answers 202 when only clearing the unpublished mark fails', async () => {
    ddb
      .on(UpdateCommand)
      .rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
    const result = await createHandler(deps())(post(event));
    expect(body(result)).toEqual({ accepted: 1, stored: 1 });
    expect(publishedDetails()).toHaveLength(1);
  });

  it('answers 503 with Retry-After when DynamoDB throttles the write', async () => {
    ddb
      .on(PutCommand)
      .rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
    const result = await createHandler(deps())(post(event));
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['retry-after']).toBe('2');
    expect(body(result).error).toBe('DEPENDENCY_UNAVAILABLE');
    expect(eventBridge.calls()).toHaveLength(0);
  });

  it('answers 503 when DynamoDB throttles the lead lookup', async () => {
    ddb
      .on(GetCommand)
      .rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} }));
    const result = await createHandler(deps())(post(event));
    expect(result.statusCode).toBe(503);
    expect(puts()).toEqual([]);
  });

  it('answers 503 when Secrets Manager throttles while a token must be checked', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }));
    const result = await createHandler(deps())(post(event));
    expect(result.statusCode).toBe(503);
    expect(puts()).toEqual([]);
  });
});

describe('GET /t.js', () => {
  it('serves the script as cacheable JavaScript pointed at the API it came from', async () => {
    const result = await createHandler(deps())(getScript({ domainName: API_HOST }));
    expect(result.statusCode).toBe(200);
    expect(result.headers).toMatchObject({
      'content-type': 'application/javascript; charset=utf-8',
      'cache-control': 'public, max-age=300',
    });
    const script = String(result.body);
    expect(script).toContain(`{"apiUrl":"https://${API_HOST}","consentMode":"consent-required"}`);
    expect(script).toContain('window.leadTracker');
    expect(Buffer.byteLength(script)).toBeLessThan(4096);
  });

  it('serves a script that posts to the same API when run in a page', async () => {
    const result = await createHandler(deps({ consentMode: 'opt-out' }))(
      getScript({ domainName: 'localhost:3000' }, { 'x-forwarded-proto': 'http' }, '/local/t.js'),
    );
    const beacons: Array<{ url: string; body: string }> = [];
    const window = {
      navigator: { sendBeacon: (url: string, b: string) => beacons.push({ url, body: b }) > 0 },
      localStorage: { getItem: () => null, setItem: () => undefined, removeItem: () => undefined },
      location: { hash: '', pathname: '/pricing', search: '' },
      history: { state: null, replaceState: () => undefined },
      crypto: { randomUUID: () => VID },
    };
    const document = {
      title: 'Pricing',
      readyState: 'complete',
      querySelectorAll: () => [],
      createElement: () => ({}),
      addEventListener: () => undefined,
    };
    runInNewContext(String(result.body), { window, document });
    expect(beacons.map((b) => b.url)).toEqual(['http://localhost:3000/local/events']);
    expect(JSON.parse(beacons[0]?.body ?? '{}')).toMatchObject({
      type: 'page_view',
      path: '/pricing',
      visitorId: VID,
    });

    // And the handler takes what the script sent (stamped by the real clock, so judged by it).
    const stored = await createHandler({ ...deps({ consentMode: 'opt-out' }), now: () => new Date() })(
      post(beacons[0]?.body ?? ''),
    );
    expect(body(stored)).toEqual({ accepted: 1, stored: 1 });
    expect(puts()[0]?.Item).toMatchObject({ pk: `VISITOR#${VID}`, type: 'pricing_page_view' });
  });

  it('sends no address even when the page calls identify, and hands capture forms the visitor token', async () => {
    const result = await createHandler(deps({ consentMode: 'opt-out' }))(getScript({ domainName: API_HOST }));
    const beacons: string[] = [];
    const stored = new Map<string, string>([['lp_token', TOKEN]]);
    const window: Record<string, unknown> = {
      navigator: { sendBeacon: (_url: string, b: string) => beacons.push(b) > 0 },
      localStorage: {
        getItem: (k: string) => stored.get(k) ?? null,
        setItem: (k: string, v: string) => stored.set(k, v),
        removeItem: (k: string) => stored.delete(k),
      },
      location: { hash: '', pathname: '/pricing', search: '' },
      history: { state: null, replaceState: () => undefined },
      crypto: { randomUUID: () => VID },
    };
    const inputs: Array<{ name: string; value: string }> = [];
    const form = {
      action: `https://${API_HOST}/leads`,
      querySelector: (q: string) => inputs.find((i) => q.includes(`"${i.name}"`)) ?? null,
      appendChild: (el: { name: string; value: string }) => inputs.push(el),
    };
    const document = {
      title: 'Pricing',
      readyState: 'complete',
      querySelectorAll: () => [form],
      createElement: () => ({ name: '', value: '' }),
      addEventListener: () => undefined,
    };
    runInNewContext(String(result.body), { window, document });
    const tracker = window.leadTracker as { identify(a: string): void; track(t: string): boolean };
    tracker.identify('jane.doe@acme.example');
    tracker.track('demo_request');
    expect(beacons).toHaveLength(2);
    for (const beacon of beacons) {
      expect(JSON.parse(beacon)).toMatchObject({ visitorId: VID, token: TOKEN });
      expect(beacon).not.toContain('acme.example');
    }
    expect(Object.fromEntries(inputs.map((i) => [i.name, i.value]))).toMatchObject({
      _vid: VID,
      _vtoken: TOKEN,
    });
  });

  it('falls back to API_URL when the request names no host', async () => {
    const result = await createHandler(deps())(getScript({}));
    expect(String(result.body)).toContain(`"apiUrl":"https://${API_HOST}"`);
  });
});
