import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type CaptureDeps, createHandler } from '../../../functions/capture/handler';
import { EventPublisher } from '../../../shared/adapters/event-publisher';
import { SecretsManagerIntegrations } from '../../../shared/adapters/integrations-secret';
import { LeadRepository } from '../../../shared/adapters/lead-repository';
import { loadClientConfig } from '../../../shared/config/load';
import { TTL_ATTRIBUTE } from '../../../shared/contracts/table-design';
import { verifyNextStepToken } from '../../../shared/domain/booking';
import { signToken, verifyToken } from '../../../shared/domain/tokens';
import { EVENT_SOURCE, parseDetail } from '../../../shared/events/catalogue';

process.env.AWS_REGION = 'eu-west-1';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

const TABLE = 'leads';
const BUS = 'pipeline';
const SIGNING_KEY = 'capture-test-signing-key-0123456789';
// The capture settings the assertions rely on are pinned here, so edits to the example client
// do not silently change what these tests prove.
const example = loadClientConfig('example', 'clients');
const config = {
  ...example,
  capture: {
    ...example.capture,
    thankYouUrl: 'https://www.northwind.example/thank-you',
    redirectAllowList: ['https://www.northwind.example/', 'https://go.northwind.example/'],
    honeypotField: 'website',
    minSecondsToSubmit: 3,
    maxBodyBytes: 16_384,
    idempotencyHours: 24,
  },
  tracking: { ...example.tracking, tokenTtlDays: 365 },
};
const NOW = new Date('2026-03-02T10:00:00.000Z');
const THANKS = config.capture.thankYouUrl;
/** Where capture claims a request it took in (one partition per request key). */
const REQUESTS = 'IDEMPOTENCY#capture#';

// ---------------------------------------------------------------------------------------------
// An in-memory table behind the mocked SDK clients, so the REAL adapters (LeadRepository,
// EventPublisher and SecretsProvider) run unchanged.

type Item = Record<string, unknown>;

class FakeTable {
  readonly items = new Map<string, Item>();
  /** Keys whose next read answers "not found" once (a concurrent writer that has not landed yet). */
  readonly hiddenOnce = new Set<string>();

  static id(key: { pk?: unknown; sk?: unknown }): string {
    return `${String(key.pk)}|${String(key.sk)}`;
  }

  get(key: Item): Item | undefined {
    const id = FakeTable.id(key);
    if (this.hiddenOnce.delete(id)) return undefined;
    const item = this.items.get(id);
    return item ? structuredClone(item) : undefined;
  }

  put(item: Item): void {
    this.items.set(FakeTable.id(item), structuredClone(item));
  }

  byPrefix(pkPrefix: string): Item[] {
    return [...this.items.values()].filter((i) => String(i.pk).startsWith(pkPrefix));
  }

  leads(): Item[] {
    return [...this.items.values()].filter((i) => i.entity === 'lead');
  }

  /** Evaluates the conditions the repository uses. */
  conditionHolds(
    condition: string | undefined,
    existing: Item | undefined,
    values: Item | undefined,
  ): boolean {
    if (!condition) return true;
    if (condition === 'attribute_not_exists(pk)') return existing === undefined;
    if (condition === '#version = :version') return existing?.version === values?.[':version'];
    // A request claim: free, or expired.
    if (condition === 'attribute_not_exists(pk) OR #expires < :now')
      return existing === undefined || Number(existing[TTL_ATTRIBUTE]) < Number(values?.[':now']);
    throw new Error(`FakeTable: unsupported condition ${condition}`);
  }

  transact(input: TransactWriteCommandInput): void {
    const items = input.TransactItems ?? [];
    const reasons = items.map((entry) => {
      const put = entry.Put;
      if (!put) throw new Error('FakeTable: only Put is used in capture transactions');
      const existing = this.items.get(FakeTable.id(put.Item as Item));
      const holds = this.conditionHolds(put.ConditionExpression, existing, put.ExpressionAttributeValues);
      if (holds) return { Code: 'None' };
      return {
        Code: 'ConditionalCheckFailed',
        ...(put.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && existing
          ? { Item: marshall(existing) }
          : {}),
      };
    });
    if (reasons.some((r) => r.Code !== 'None')) {
      throw new TransactionCanceledException({
        message: 'Transaction cancelled',
        $metadata: {},
        CancellationReasons: reasons,
      });
    }
    for (const entry of items) if (entry.Put) this.put(entry.Put.Item as Item);
  }
}

function batchGet(input: BatchGetCommandInput) {
  return {
    Responses: Object.fromEntries(
      Object.entries(input.RequestItems ?? {}).map(([name, request]) => [
        name,
        (request.Keys ?? []).map((key) => table.get(key)).filter(Boolean),
      ]),
    ),
  };
}

const ddb = mockClient(DynamoDBDocumentClient);
const raw = mockClient(DynamoDBClient);
const events = mockClient(EventBridgeClient);
const secretsManager = mockClient(SecretsManagerClient);
let table: FakeTable;

function wireTable(): void {
  ddb.on(GetCommand).callsFake((input) => ({ Item: table.get(input.Key) }));
  ddb.on(BatchGetCommand).callsFake(batchGet);
  ddb.on(TransactWriteCommand).callsFake((input) => {
    table.transact(input);
    return {};
  });
  ddb.on(PutCommand).callsFake((input) => {
    if (!table.conditionHolds(input.ConditionExpression, table.get(input.Item), undefined)) {
      throw new ConditionalCheckFailedException({ message: 'exists', $metadata: {} });
    }
    table.put(input.Item);
    return {};
  });
  ddb.on(DeleteCommand).callsFake((input) => {
    table.items.delete(FakeTable.id(input.Key ?? {}));
    return {};
  });
  ddb.on(QueryCommand).callsFake((input) => ({
    Items: table
      .byPrefix(String(input.ExpressionAttributeValues?.[':pk']))
      .filter((i) => i.pk === input.ExpressionAttributeValues?.[':pk'])
      .sort((a, b) => String(a.sk).localeCompare(String(b.sk))),
  }));

  events.on(PutEventsCommand).callsFake((input) => ({
    FailedEntryCount: 0,
    Entries: (input.Entries ?? []).map((_: unknown, i: number) => ({ EventId: `event-${i}` })),
  }));
  secretsManager
    .on(GetSecretValueCommand)
    .resolves({ SecretString: JSON.stringify({ signingKey: SIGNING_KEY }) });
}

// ---------------------------------------------------------------------------------------------
// Helpers

let ids: number;
let metrics: Metrics;
let handler: ReturnType<typeof createHandler>;

function deps(overrides: Partial<CaptureDeps> = {}): CaptureDeps {
  return {
    config,
    store: new LeadRepository(TABLE, DynamoDBDocumentClient.from(new DynamoDBClient({}))),
    publisher: new EventPublisher(BUS, new EventBridgeClient({}), async () => {}),
    secrets: new SecretsManagerIntegrations(
      'arn:aws:secretsmanager:eu-west-1:1:secret:integrations',
      new SecretsProvider(),
    ),
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics,
    now: () => NOW,
    newId: () => `id-${++ids}`,
    ...overrides,
  };
}

const context = { getRemainingTimeInMillis: () => 9_000 } as unknown as Context;

function event(
  body: string,
  contentType: string,
  headers: Record<string, string> = {},
): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /leads',
    rawPath: '/leads',
    rawQueryString: '',
    headers: { 'content-type': contentType, ...headers },
    body,
    isBase64Encoded: false,
    requestContext: {
      http: {
        method: 'POST',
        path: '/leads',
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.9',
        userAgent: 'test',
      },
    } as APIGatewayProxyEventV2['requestContext'],
  } as APIGatewayProxyEventV2;
}

function jsonPost(body: unknown, headers: Record<string, string> = {}) {
  return event(JSON.stringify(body), 'application/json', headers);
}

function formPost(fields: Record<string, string>, headers: Record<string, string> = {}) {
  return event(new URLSearchParams(fields).toString(), 'application/x-www-form-urlencoded', {
    accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
    ...headers,
  });
}

const person = { email: 'Ana.Lopez@Acme-Widgets.example', first_name: 'Ana', company: 'Acme Widgets' };

function bodyOf(result: { body?: string }): Record<string, unknown> {
  return JSON.parse(result.body ?? '{}') as Record<string, unknown>;
}

function location(result: { headers?: Record<string, unknown> }): string {
  return String(result.headers?.location);
}

function transactCalls() {
  return ddb.commandCalls(TransactWriteCommand);
}

function publishedDetails(): Array<{ type: string; detail: unknown }> {
  return events
    .commandCalls(PutEventsCommand)
    .flatMap((call) => call.args[0].input.Entries ?? [])
    .map((e) => ({ type: String(e.DetailType), detail: JSON.parse(String(e.Detail)) }));
}

/** Counted metrics as `name` or `name[dim=value]`. */
function countedMetrics(): string[] {
  const addMetric = vi.mocked(Metrics.prototype.addMetric);
  const addDimension = vi.mocked(Metrics.prototype.addDimension);
  return addMetric.mock.calls.map(([name], index) => {
    const instance = addMetric.mock.contexts[index];
    const dims = addDimension.mock.calls
      .filter((_, i) => addDimension.mock.contexts[i] === instance)
      .map(([k, v]) => `${k}=${v}`);
    return dims.length > 0 ? `${name}[${dims.join(',')}]` : name;
  });
}

/** Stores an existing lead of `person` and its dedupe pointer. */
function seedExistingLead(overrides: Item = {}): void {
  const lead = {
    id: 'lead-existing',
    createdAt: '2026-02-01T09:00:00.000Z',
    updatedAt: '2026-02-01T09:00:00.000Z',
    profile: {
      email: 'ana.lopez@acme-widgets.example',
      dedupeKey: 'ana.lopez@acme-widgets.example',
      firstName: 'Ana',
      isFreeMail: false,
      isDisposable: false,
      extra: {},
      droppedFields: [],
    },
    source: { channel: 'direct', provider: 'form', utm: {} },
    isTest: false,
    status: 'assigned',
    stage: 'lead',
    priority: 'normal',
    owner: 'ana',
    unsubscribed: false,
    version: 3,
    ...overrides,
  };
  table.put({ ...lead, pk: 'LEAD#lead-existing', sk: 'PROFILE', entity: 'lead' });
  table.put({
    pk: 'DEDUPE#ana.lopez@acme-widgets.example',
    sk: 'DEDUPE',
    leadId: 'lead-existing',
    entity: 'dedupe',
  });
}

beforeEach(() => {
  ddb.reset();
  raw.reset();
  events.reset();
  secretsManager.reset();
  table = new FakeTable();
  wireTable();
  ids = 0;
  metrics = new Metrics({ namespace: 'LeadPipelineTest', serviceName: 'capture' });
  vi.spyOn(Metrics.prototype, 'addMetric');
  vi.spyOn(Metrics.prototype, 'addDimension');
  handler = createHandler(deps());
});

afterEach(() => {
  vi.restoreAllMocks();
});

// ---------------------------------------------------------------------------------------------

describe('capture: JSON submissions', () => {
  it('creates the lead with its captured activity and dedupe claim in ONE transaction, then publishes Lead Captured', async () => {
    const result = await handler(
      jsonPost({ ...person, utm_source: 'google', utm_medium: 'cpc', phone: '+44 20 7946 0958' }),
      context,
    );

    expect(result.statusCode).toBe(201);
    const body = bodyOf(result);
    expect(body).toMatchObject({ leadId: 'id-1', status: 'created' });
    expect(verifyToken(String(body.visitorToken), 'visitor', SIGNING_KEY, NOW)).toEqual({
      ok: true,
      leadId: 'id-1',
    });
    const expiry = JSON.parse(
      Buffer.from(String(body.visitorToken).split('.')[0] ?? '', 'base64url').toString(),
    );
    expect(expiry.e).toBe(NOW.getTime() / 1000 + 365 * 86_400);

    expect(transactCalls()).toHaveLength(1);
    const written = transactCalls()[0]?.args[0].input.TransactItems?.map((t) => t.Put?.Item) ?? [];
    expect(written.map((i) => `${i?.pk} ${i?.sk}`)).toEqual([
      'LEAD#id-1 PROFILE',
      'DEDUPE#ana.lopez@acme-widgets.example DEDUPE',
      `LEAD#id-1 ACT#${NOW.toISOString()}#id-1-captured`,
      `OUTBOX ${NOW.toISOString()}#id-1-captured`,
      // The request's claim (a replay finds it): no separate idempotency record.
      expect.stringMatching(/^IDEMPOTENCY#capture#[\w-]{43} REQUEST$/),
    ]);
    const lead = table.get({ pk: 'LEAD#id-1', sk: 'PROFILE' });
    expect(lead).toMatchObject({
      status: 'new',
      profile: {
        email: 'ana.lopez@acme-widgets.example',
        firstName: 'Ana',
        company: 'Acme Widgets',
        phone: '+442079460958',
      },
      source: { provider: 'api', channel: 'paid_search', utm: { source: 'google', medium: 'cpc' } },
    });

    const calls = events.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(1);
    const entry = calls[0]?.args[0].input.Entries?.[0];
    expect(entry).toMatchObject({ EventBusName: BUS, Source: EVENT_SOURCE, DetailType: 'Lead Captured' });
    expect(parseDetail('Lead Captured', JSON.parse(String(entry?.Detail)))).toEqual({
      leadId: 'id-1',
      occurredAt: NOW.toISOString(),
      isTest: false,
      provider: 'api',
      channel: 'paid_search',
      pending: false,
    });
    expect(countedMetrics()).toEqual(['LeadCaptured[provider=api]']);
  });

  it('answers 400 listing every bad field and writes nothing', async () => {
    const result = await handler(
      jsonPost({ email: 'not-an-email', phone: '12', company: { nested: true } }),
      context,
    );

    expect(result.statusCode).toBe(400);
    const body = bodyOf(result);
    expect(body.error).toBe('INVALID_INPUT');
    const fields = (body.fields as Array<{ field: string; reason: string }>).map((f) => f.field).sort();
    expect(fields).toEqual(['company', 'email', 'phone']);
    for (const f of body.fields as Array<{ reason: string }>) expect(f.reason.length).toBeGreaterThan(3);
    expect(transactCalls()).toHaveLength(0);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
    // The failed attempt leaves no idempotency record: a corrected retry of the same key runs.
    expect(table.byPrefix('IDEMPOTENCY#')).toHaveLength(0);
  });

  it('answers 400 for malformed JSON and 415 for other content types, without touching AWS', async () => {
    const malformed = await handler(event('{"email": ', 'application/json'), context);
    expect(malformed.statusCode).toBe(400);
    expect(bodyOf(malformed).fields).toEqual([
      { field: 'body', reason: expect.stringContaining('not valid JSON') },
    ]);

    const xml = await handler(event('<lead/>', 'application/xml'), context);
    expect(xml.statusCode).toBe(415);
    expect(bodyOf(xml)).toMatchObject({ error: 'UNSUPPORTED_MEDIA_TYPE' });

    expect(raw.calls()).toHaveLength(0);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers 413 naming the limit for a body over maxBodyBytes', async () => {
    const result = await handler(
      jsonPost({ ...person, message: 'x'.repeat(config.capture.maxBodyBytes) }),
      context,
    );
    expect(result.statusCode).toBe(413);
    expect(bodyOf(result)).toMatchObject({ error: 'BODY_TOO_LARGE', limit: 16_384 });
    expect(String(bodyOf(result).message)).toContain('16384 bytes');
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers 413 as a page to a plain form post', async () => {
    const result = await handler(formPost({ ...person, message: 'x'.repeat(20_000) }), context);
    expect(result.statusCode).toBe(413);
    expect(result.headers?.['content-type']).toContain('text/html');
    expect(result.body).toContain('16384 bytes');
  });

  it('attaches the visitor’s anonymous events when _vid is valid, and ignores a malformed one', async () => {
    table.put({
      pk: 'VISITOR#visitor_12345',
      sk: '2026-03-01T09:00:00.000Z#ev-1',
      entity: 'visitorEvent',
      visitorId: 'visitor_12345',
      id: 'ev-1',
      type: 'pricing_page_view',
      at: '2026-03-01T09:00:00.000Z',
      data: { path: '/pricing' },
      [TTL_ATTRIBUTE]: 1,
    });
    const result = await handler(jsonPost({ ...person, _vid: 'visitor_12345' }), context);
    expect(result.statusCode).toBe(201);
    expect(table.get({ pk: 'LEAD#id-1', sk: 'ACT#2026-03-01T09:00:00.000Z#ev-1' })).toMatchObject({
      leadId: 'id-1',
      type: 'pricing_page_view',
    });

    const other = await handler(jsonPost({ email: 'zoe@other.example', _vid: 'bad id!' }), context);
    expect(other.statusCode).toBe(201);
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(1);
    // Plumbing never reaches the lead's extra fields.
    expect(table.get({ pk: 'LEAD#id-1', sk: 'PROFILE' })?.profile).toMatchObject({ extra: {} });
  });
});

describe("capture: a visitor's history and an existing lead", () => {
  function seedVisitorHistory(): void {
    for (const [i, type] of ['demo_request', 'meeting_booked'].entries()) {
      table.put({
        pk: 'VISITOR#visitor_12345',
        sk: `2026-03-01T09:00:0${i}.000Z#ev-${i}`,
        entity: 'visitorEvent',
        visitorId: 'visitor_12345',
        id: `ev-${i}`,
        type,
        at: `2026-03-01T09:00:0${i}.000Z`,
        data: {},
        [TTL_ATTRIBUTE]: 1,
      });
    }
  }
  const leadActivities = () =>
    table.byPrefix('LEAD#lead-existing').filter((i) => String(i.sk).startsWith('ACT#2026-03-01'));

  it("does not give an existing lead a visitor's history on a bare address", async () => {
    seedExistingLead();
    seedVisitorHistory();
    const result = await handler(jsonPost({ ...person, _vid: 'visitor_12345' }), context);
    expect(result.statusCode).toBe(200);
    expect(leadActivities()).toEqual([]);
    // Nor with a token signed for someone else, or not signed by us.
    const others = [
      signToken('visitor', 'another-lead', SIGNING_KEY, NOW, 3600),
      signToken('visitor', 'lead-existing', 'not-our-key-0123456789', NOW, 3600),
    ];
    for (const [i, _vtoken] of others.entries()) {
      await handler(jsonPost({ ...person, message: `try ${i}`, _vid: 'visitor_12345', _vtoken }), context);
    }
    expect(leadActivities()).toEqual([]);
  });

  it('attaches it when the visitor token is signed for that lead', async () => {
    seedExistingLead();
    seedVisitorHistory();
    const _vtoken = signToken('visitor', 'lead-existing', SIGNING_KEY, NOW, 3600);
    const result = await handler(jsonPost({ ...person, _vid: 'visitor_12345', _vtoken }), context);
    expect(result.statusCode).toBe(200);
    expect(leadActivities().map((a) => a.type)).toEqual(['demo_request', 'meeting_booked']);
    expect(table.get({ pk: 'LEAD#lead-existing', sk: 'PROFILE' })?.profile).toMatchObject({ extra: {} });
  });
});

describe('capture: plain HTML form posts', () => {
  it('redirects 303 to the thank-you page with the visitor token in the fragment', async () => {
    const result = await handler(formPost({ ...person, _ts: String(NOW.getTime() - 30_000) }), context);

    expect(result.statusCode).toBe(303);
    const target = new URL(location(result));
    expect(`${target.origin}${target.pathname}`).toBe(THANKS);
    const token = new URLSearchParams(target.hash.slice(1)).get('lp_token');
    expect(verifyToken(String(token), 'visitor', SIGNING_KEY, NOW)).toEqual({ ok: true, leadId: 'id-1' });
    expect(result.headers?.['access-control-allow-origin']).toBeUndefined();
    expect(table.leads()).toHaveLength(1);
    expect(countedMetrics()).toEqual(['LeadCaptured[provider=form]']);
  });

  it('reads base64-encoded form bodies as API Gateway delivers them', async () => {
    const plain = formPost(person);
    const result = await handler(
      { ...plain, body: Buffer.from(plain.body ?? '').toString('base64'), isBase64Encoded: true },
      context,
    );
    expect(result.statusCode).toBe(303);
    expect(table.leads()).toHaveLength(1);
  });

  it('redirects to an allowed redirect field', async () => {
    const result = await handler(
      formPost({ ...person, redirect: 'https://go.northwind.example/webinar/thanks?x=1' }),
      context,
    );
    expect(location(result)).toMatch(
      /^https:\/\/go\.northwind\.example\/webinar\/thanks\?x=1#lp_token=[\w-]+\.[\w-]+$/,
    );
  });

  it("honours Salesforce Web-to-Lead's retURL like redirect, and only when allow-listed", async () => {
    const webToLead = {
      oid: '00D5e000000AbCd',
      retURL: 'https://www.northwind.example/thanks-salesforce',
      first_name: 'Grace',
      last_name: 'Hopper',
      email: 'grace@cobol.example',
      company: 'Navy Labs',
      title: 'Rear Admiral',
      lead_source: 'Web',
      '00N5e00000AbCdE': '50k-100k',
    };
    const result = await handler(formPost(webToLead), context);
    expect(location(result)).toMatch(/^https:\/\/www\.northwind\.example\/thanks-salesforce#lp_token=/);
    const profile = table.get({ pk: 'LEAD#id-1', sk: 'PROFILE' })?.profile;
    // The return URL and the org id are plumbing; the custom field keeps its (case-sensitive) id.
    expect(profile).toMatchObject({
      firstName: 'Grace',
      lastName: 'Hopper',
      jobTitle: 'Rear Admiral',
      extra: { lead_source: 'Web', '00N5e00000AbCdE': '50k-100k' },
    });
    const refused = await handler(
      formPost({ ...webToLead, email: 'ada@cobol.example', retURL: 'https://evil.example/' }),
      context,
    );
    expect(location(refused).startsWith(`${THANKS}#lp_token=`)).toBe(true);
  });

  it('maps custom fields named in capture.fieldMap (Salesforce 00N ids) to lead fields or extra keys', async () => {
    const mapped = createHandler(
      deps({
        config: {
          ...config,
          capture: {
            ...config.capture,
            fieldMap: { '00N5e00000AbCdE': 'budget_range', '00N5e00000XyZab': 'companySize' },
          },
        },
      }),
    );
    const result = await mapped(
      formPost({ ...person, '00N5e00000AbCdE': '50k-100k', '00N5e00000XyZab': '201-500' }),
      context,
    );
    expect(result.statusCode).toBe(303);
    expect(table.get({ pk: 'LEAD#id-1', sk: 'PROFILE' })?.profile).toMatchObject({
      companySize: 201,
      extra: { budget_range: '50k-100k' },
    });
  });

  it.each([
    'https://www.northwind.example.evil.com/',
    '//evil.com',
    'javascript:alert(document.cookie)',
    'https://evil.com/thanks',
    'https://www.northwind.example@evil.com/',
  ])('refuses the open redirect %s and uses the thank-you page', async (target) => {
    const result = await handler(formPost({ ...person, redirect: target }), context);
    expect(result.statusCode).toBe(303);
    expect(location(result).startsWith(`${THANKS}#lp_token=`)).toBe(true);
  });

  it('shows an HTML page listing every bad field, with user text escaped and a back link', async () => {
    const result = await handler(
      formPost(
        { email: 'nope<script>', first_name: '<script>alert(1)</script>' },
        { referer: 'https://www.northwind.example/contact?"x"' },
      ),
      context,
    );

    expect(result.statusCode).toBe(400);
    expect(result.headers?.['content-type']).toBe('text/html; charset=utf-8');
    expect(result.headers?.['content-security-policy']).toContain("default-src 'none'");
    expect(result.body).toContain('<strong>Email</strong>: not a valid email address');
    expect(result.body).toContain('<strong>Phone</strong>:');
    expect(result.body).not.toContain('<script');
    expect(result.body).toContain('href="https://www.northwind.example/contact?%22x%22"');
    expect(transactCalls()).toHaveLength(0);
  });

  it('redirects an invalid post to an allowed error_redirect with the fields in the query', async () => {
    const result = await handler(
      formPost({ email: 'nope', error_redirect: 'https://www.northwind.example/contact?lang=en' }),
      context,
    );
    expect(result.statusCode).toBe(303);
    expect(location(result)).toBe(
      'https://www.northwind.example/contact?lang=en&lp_error=invalid&lp_fields=email,phone',
    );
  });

  it('ignores an error_redirect that is not on the allow-list', async () => {
    const result = await handler(formPost({ email: 'nope', error_redirect: 'https://evil.com/' }), context);
    expect(result.statusCode).toBe(400);
    expect(result.body).toContain('Please check your details');
  });

  it('answers JSON to a script posting a form body with Accept: application/json', async () => {
    const result = await handler(formPost(person, { accept: 'application/json' }), context);
    expect(result.statusCode).toBe(201);
    expect(bodyOf(result)).toMatchObject({ leadId: 'id-1', status: 'created' });
  });

  it('answers a multipart form with a 415 page', async () => {
    const result = await handler(
      event('--x--', 'multipart/form-data; boundary=x', { accept: 'text/html' }),
      context,
    );
    expect(result.statusCode).toBe(415);
    expect(result.body).toContain('application/x-www-form-urlencoded');
  });

  it('attributes the source from the Referer (landing page) and its query string', async () => {
    const referer =
      'https://www.northwind.example/demo?utm_source=linkedin&utm_medium=paid_social&utm_campaign=q1';
    await handler(formPost({ ...person, referrer: 'https://www.linkedin.com/feed' }, { referer }), context);
    expect(table.get({ pk: 'LEAD#id-1', sk: 'PROFILE' })?.source).toEqual({
      channel: 'paid_social',
      provider: 'form',
      utm: { source: 'linkedin', medium: 'paid_social', campaign: 'q1' },
      referrer: 'https://www.linkedin.com/feed',
      landingPage: referer,
    });
  });

  it('lets form fields win over the Referer and derives the channel from a click id', async () => {
    await handler(
      formPost(
        {
          ...person,
          landing_page: 'https://go.northwind.example/campaigns/a?gclid=abc',
          form_id: 'demo-form',
        },
        { referer: 'https://www.northwind.example/other?utm_source=newsletter' },
      ),
      context,
    );
    expect(table.get({ pk: 'LEAD#id-1', sk: 'PROFILE' })?.source).toEqual({
      channel: 'paid_search',
      provider: 'form',
      utm: {},
      landingPage: 'https://go.northwind.example/campaigns/a?gclid=abc',
      formId: 'demo-form',
    });
  });
});

describe('capture: spam', () => {
  it('answers a filled honeypot exactly like a success and stores nothing at all', async () => {
    const json = await handler(jsonPost({ ...person, website: 'http://cheap-pills.example' }), context);
    expect(json.statusCode).toBe(201);
    expect(Object.keys(bodyOf(json)).sort()).toEqual(['leadId', 'status', 'visitorToken']);
    expect(bodyOf(json).status).toBe('created');
    expect(String(bodyOf(json).visitorToken)).toMatch(/^[\w-]+\.[\w-]{43}$/);
    // Signed with a throw-away key: it never works as a real visitor token.
    expect(verifyToken(String(bodyOf(json).visitorToken), 'visitor', SIGNING_KEY, NOW).ok).toBe(false);

    const form = await handler(
      formPost({ ...person, website: 'x', redirect: 'https://www.northwind.example/t' }),
      context,
    );
    expect(form.statusCode).toBe(303);
    expect(location(form)).toMatch(/^https:\/\/www\.northwind\.example\/t#lp_token=/);

    expect(ddb.calls()).toHaveLength(0);
    expect(raw.calls()).toHaveLength(0);
    expect(events.calls()).toHaveLength(0);
    expect(secretsManager.calls()).toHaveLength(0);
    expect(countedMetrics()).toEqual(['SpamRejected[reason=honeypot]', 'SpamRejected[reason=honeypot]']);
  });

  it('answers a form submitted too fast like a success and stores nothing', async () => {
    const result = await handler(formPost({ ...person, _ts: String(NOW.getTime() - 1_000) }), context);
    expect(result.statusCode).toBe(303);
    expect(location(result).startsWith(`${THANKS}#lp_token=`)).toBe(true);
    expect(ddb.calls()).toHaveLength(0);
    expect(raw.calls()).toHaveLength(0);
    expect(events.calls()).toHaveLength(0);
    expect(countedMetrics()).toEqual(['SpamRejected[reason=too-fast]']);
  });

  it('does not hold a future or unreadable _ts against the visitor', async () => {
    const future = await handler(formPost({ ...person, _ts: String(NOW.getTime() + 60_000) }), context);
    const junk = await handler(formPost({ ...person, email: 'zoe@other.example', _ts: 'soon' }), context);
    expect([future.statusCode, junk.statusCode]).toEqual([303, 303]);
    expect(table.leads()).toHaveLength(2);
  });
});

describe('capture: dedupe', () => {
  it('merges a resubmission into the existing lead: 200 updated, saveLead with a resubmitted activity', async () => {
    seedExistingLead();
    const result = await handler(jsonPost({ ...person, job_title: 'CTO' }), context);

    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toEqual({ leadId: 'lead-existing', status: 'updated' });
    expect(table.leads()).toHaveLength(1);
    expect(transactCalls()).toHaveLength(1);
    const items = transactCalls()[0]?.args[0].input.TransactItems ?? [];
    expect(items[0]?.Put).toMatchObject({
      ConditionExpression: '#version = :version',
      ExpressionAttributeValues: { ':version': 3 },
    });
    expect(items[1]?.Put?.Item).toMatchObject({
      type: 'resubmitted',
      leadId: 'lead-existing',
      data: { provider: 'api', changed: ['company', 'companyDomain', 'jobTitle'] },
    });
    const lead = table.get({ pk: 'LEAD#lead-existing', sk: 'PROFILE' });
    expect(lead).toMatchObject({ version: 4, owner: 'ana', profile: { jobTitle: 'CTO', firstName: 'Ana' } });
    // An already-routed lead is not captured again; its resubmission is an activity.
    expect(publishedDetails().map((e) => e.type)).toEqual(['Activity Recorded']);
    expect(countedMetrics()).toEqual(['LeadResubmitted']);
  });

  it('sends a form resubmission to the thank-you page without issuing a token for the existing lead', async () => {
    seedExistingLead();
    const result = await handler(formPost(person), context);
    expect(result.statusCode).toBe(303);
    expect(location(result)).toBe(THANKS);
  });

  it('merges when a concurrent submission claims the dedupe key first (TransactionCanceled)', async () => {
    seedExistingLead();
    // The pointer is not visible to our read, so intake tries to create and loses the claim.
    table.hiddenOnce.add('DEDUPE#ana.lopez@acme-widgets.example|DEDUPE');
    const result = await handler(jsonPost(person), context);

    expect(result.statusCode).toBe(200);
    expect(bodyOf(result)).toEqual({ leadId: 'lead-existing', status: 'updated' });
    expect(transactCalls()).toHaveLength(2);
    expect(table.leads().map((l) => l.id)).toEqual(['lead-existing']);
    expect(table.get({ pk: 'LEAD#id-1', sk: 'PROFILE' })).toBeUndefined();
  });
});

describe('capture: duplicate delivery (idempotency)', () => {
  it('returns the identical first response for the same Idempotency-Key and writes once', async () => {
    const post = () => jsonPost(person, { 'Idempotency-Key': 'form-submit-7f3a' });
    const first = await handler(post(), context);
    const second = await handler(post(), context);

    expect(first.statusCode).toBe(201);
    expect(second).toEqual(first);
    expect(transactCalls()).toHaveLength(1);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(1);
    expect(table.leads()).toHaveLength(1);
    // The claim was written in the lead's own transaction: no separate record, no second write.
    const written = transactCalls()[0]?.args[0].input.TransactItems?.map((t) => t.Put?.Item) ?? [];
    const claim = written.find((i) => String(i?.pk).startsWith(REQUESTS));
    expect(claim).toMatchObject({ entity: 'request', leadId: 'id-1', outcome: 'created', sk: 'REQUEST' });
    expect(table.byPrefix(REQUESTS)).toHaveLength(1);
    expect(Number(claim?.[TTL_ATTRIBUTE])).toBe(NOW.getTime() / 1000 + 24 * 3600);
    // The replay was one read: the dedupe pointer and the claim in one BatchGetItem.
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(2);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('answers a replay of a resubmission (an update) the same, without merging twice', async () => {
    seedExistingLead();
    const post = () => jsonPost({ ...person, jobTitle: 'CTO' }, { 'Idempotency-Key': 'again-1' });
    const first = await handler(post(), context);
    const second = await handler(post(), context);
    expect(first.statusCode).toBe(200);
    expect(bodyOf(first)).toEqual({ leadId: 'lead-existing', status: 'updated' });
    expect(second).toEqual(first);
    expect(transactCalls()).toHaveLength(1);
    expect(publishedDetails().map((e) => e.type)).toEqual(['Activity Recorded']);
    expect(table.byPrefix(REQUESTS)[0]).toMatchObject({ leadId: 'lead-existing', outcome: 'updated' });
  });

  it('takes a request in afresh once its claim has expired (capture.idempotencyHours)', async () => {
    const post = () => jsonPost(person, { 'Idempotency-Key': 'old-key' });
    await handler(post(), context);
    const later = createHandler(deps({ now: () => new Date(NOW.getTime() + 25 * 3600_000) }));
    const again = await later(post(), context);
    // The person is known now, so the expired key's request merges (200), and claims the key again.
    expect(again.statusCode).toBe(200);
    expect(transactCalls()).toHaveLength(2);
    expect(table.byPrefix(REQUESTS)[0]).toMatchObject({ outcome: 'updated' });
  });

  it('treats two identical form posts without a key as one (double click)', async () => {
    const post = () => formPost({ ...person, _ts: String(NOW.getTime() - 20_000) });
    const first = await handler(post(), context);
    const second = await handler(post(), context);
    expect(second).toEqual(first);
    expect(transactCalls()).toHaveLength(1);
    expect(table.leads()).toHaveLength(1);
  });

  it('still makes one lead when the same body arrives under a different key (dedupe key)', async () => {
    const first = await handler(jsonPost(person, { 'idempotency-key': 'key-1' }), context);
    const second = await handler(jsonPost(person, { 'idempotency-key': 'key-2' }), context);
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(200);
    expect(bodyOf(second)).toEqual({ leadId: bodyOf(first).leadId, status: 'updated' });
    expect(table.leads()).toHaveLength(1);
  });

  it('refuses a key reused for a different body with 422', async () => {
    await handler(jsonPost(person, { 'idempotency-key': 'key-1' }), context);
    const reused = await handler(
      jsonPost({ email: 'zoe@other.example' }, { 'idempotency-key': 'key-1' }),
      context,
    );
    expect(reused.statusCode).toBe(422);
    expect(bodyOf(reused).error).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(table.leads()).toHaveLength(1);
  });

  /** Holds every BatchGetItem until `count` have arrived: concurrent requests that all read before any writes. */
  function readTogether(count: number): void {
    let arrived = 0;
    let open: () => void = () => {};
    const barrier = new Promise<void>((resolve) => {
      open = resolve;
    });
    ddb.on(BatchGetCommand).callsFake(async (input: BatchGetCommandInput) => {
      if (++arrived === count) open();
      await barrier;
      return batchGet(input);
    });
  }

  it('answers two concurrent identical requests alike: one lead, one announcement', async () => {
    readTogether(2);
    const post = () => jsonPost(person, { 'idempotency-key': 'k' });
    const [a, b] = await Promise.all([handler(post(), context), handler(post(), context)]);
    expect(a.statusCode).toBe(201);
    expect(b).toEqual(a);
    // Both read before either wrote; the loser's transaction was refused by the winner's claim.
    expect(transactCalls()).toHaveLength(2);
    expect(table.leads()).toHaveLength(1);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(1);
    expect(table.byPrefix(REQUESTS)).toHaveLength(1);
  });

  it('refuses the concurrent loser of a key reused for another body with 422', async () => {
    readTogether(2);
    const [a, b] = await Promise.all([
      handler(jsonPost(person, { 'idempotency-key': 'shared' }), context),
      handler(jsonPost({ ...person, email: 'zoe@other.example' }, { 'idempotency-key': 'shared' }), context),
    ]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([201, 422]);
    expect(table.leads()).toHaveLength(1);
  });
});

describe('capture: AWS failures', () => {
  it('answers 503 with Retry-After when TransactWriteItems is throttled, and a retry then succeeds', async () => {
    ddb.on(TransactWriteCommand).rejectsOnce(
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const post = () => jsonPost(person, { 'idempotency-key': 'retry-me' });
    const failed = await handler(post(), context);

    expect(failed.statusCode).toBe(503);
    expect(failed.headers?.['retry-after']).toBe('5');
    expect(bodyOf(failed).error).toBe('TEMPORARILY_UNAVAILABLE');
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(0);
    // The 503 was not remembered: the claim is written only with the lead.
    expect(table.byPrefix(REQUESTS)).toHaveLength(0);

    ddb.on(TransactWriteCommand).callsFake((input) => {
      table.transact(input);
      return {};
    });
    const retried = await handler(post(), context);
    expect(retried.statusCode).toBe(201);
    expect(table.leads()).toHaveLength(1);
  });

  it('answers 503 when a transaction is cancelled by a conflict', async () => {
    ddb.on(TransactWriteCommand).rejects(
      new TransactionCanceledException({
        message: 'conflict',
        $metadata: {},
        CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }, { Code: 'None' }],
      }),
    );
    const result = await handler(jsonPost(person), context);
    expect(result.statusCode).toBe(503);
  });

  it('answers 201 while the bus keeps rejecting: Lead Captured waits in the outbox, stored with the lead', async () => {
    events.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }],
    });
    const result = await handler(jsonPost(person), context);

    // Stored means announced sooner or later: the relay publishes what the bus refused now.
    expect(result.statusCode).toBe(201);
    expect(events.commandCalls(PutEventsCommand)).toHaveLength(4);
    const written = transactCalls()[0]?.args[0].input.TransactItems?.map((t) => t.Put?.Item) ?? [];
    const entry = written.find((i) => i?.pk === 'OUTBOX');
    expect(entry).toMatchObject({
      entryId: 'id-1-captured',
      events: [{ detailType: 'Lead Captured', detail: expect.objectContaining({ leadId: 'id-1' }) }],
    });
    expect(table.byPrefix('OUTBOX')).toHaveLength(1);
    expect(table.leads()).toHaveLength(1);
  });

  it('clears the outbox entry once Lead Captured is on the bus', async () => {
    const result = await handler(jsonPost(person), context);
    expect(result.statusCode).toBe(201);
    expect(publishedDetails().map((e) => e.type)).toEqual(['Lead Captured']);
    expect(table.byPrefix('OUTBOX')).toHaveLength(0);
  });

  it('never says "Nothing was saved" on a 503: the lead may be stored already', async () => {
    // An unavailable table: whether the lead was written is unknown to the caller.
    ddb.on(TransactWriteCommand).rejects(
      Object.assign(new Error('Service unavailable'), {
        name: 'ServiceUnavailable',
        $metadata: { httpStatusCode: 503 },
      }),
    );
    const result = await handler(jsonPost(person), context);
    expect(result.statusCode).toBe(503);
    expect(result.body).not.toContain('Nothing was saved');
    expect(JSON.parse(result.body ?? '{}').message).toContain('never creates a second lead');
  });

  it('answers a form post with a retry page when DynamoDB is unavailable', async () => {
    ddb.on(BatchGetCommand).rejects(
      Object.assign(new Error('Service unavailable'), {
        name: 'ServiceUnavailable',
        $metadata: { httpStatusCode: 503 },
      }),
    );
    const result = await handler(
      formPost(person, { referer: 'https://www.northwind.example/contact' }),
      context,
    );
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['retry-after']).toBe('5');
    expect(result.headers?.['content-type']).toContain('text/html');
    expect(result.body).toContain('Please try again');
    expect(result.body).toContain('href="https://www.northwind.example/contact"');
    expect(transactCalls()).toHaveLength(0);
  });

  it('answers 503 and stores nothing when the signing secret cannot be read', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error('timeout'), { name: 'TimeoutError' }));
    const result = await handler(jsonPost(person), context);
    expect(result.statusCode).toBe(503);
    expect(transactCalls()).toHaveLength(0);
    expect(table.byPrefix(REQUESTS)).toHaveLength(0);
  });
});

describe('capture: idempotency key header', () => {
  it('reads the Idempotency-Key header whatever the case of its name', async () => {
    const first = await handler(jsonPost(person, { 'Idempotency-Key': 'K-1' }), context);
    const again = await handler(jsonPost(person, { 'IDEMPOTENCY-KEY': 'K-1' }), context);
    expect(again).toEqual(first);
    // Same key, another body: only possible to detect if the header (not the body) is the key.
    const other = await handler(
      jsonPost({ email: 'zoe@other.example' }, { 'Idempotency-KEY': 'K-1' }),
      context,
    );
    expect(other.statusCode).toBe(422);
    expect(table.leads()).toHaveLength(1);
  });
});

describe('capture: the next-step URL of the instant booking offer', () => {
  const API = 'https://api.northwind.example';
  const withApi = (overrides: Partial<CaptureDeps> = {}) =>
    createHandler(deps({ apiUrl: API, ...overrides }));

  it('gives a JSON caller `next`: a signed status URL for the new lead, pending', async () => {
    const result = await withApi()(jsonPost(person), context);
    expect(result.statusCode).toBe(201);
    const next = bodyOf(result).next as { statusUrl: string; state: string };
    expect(next).toMatchObject({ state: 'pending', retryAfterMs: expect.any(Number) });
    expect(next.statusUrl.startsWith(`${API}/next/`)).toBe(true);
    const token = decodeURIComponent(next.statusUrl.slice(`${API}/next/`.length));
    expect(verifyNextStepToken(token, SIGNING_KEY, NOW)).toMatchObject({ ok: true, leadId: 'id-1' });
  });

  it('puts it in the 303 fragment next to the visitor token, and sends the browser to it without a thank-you URL', async () => {
    const form = formPost({ ...person, _ts: String(NOW.getTime() - 30_000) });
    const withThanks = new URL(location(await withApi()(form, context)));
    expect(new URLSearchParams(withThanks.hash.slice(1)).get('lp_next')).toMatch(
      /^https:\/\/api\.northwind\.example\/next\//,
    );

    const noThanks = { ...config, capture: { ...config.capture, thankYouUrl: undefined } };
    const own = new URL(
      location(
        await withApi({ config: noThanks })(
          formPost({ ...person, email: 'other@acme-widgets.example' }),
          context,
        ),
      ),
    );
    expect(`${own.origin}${own.pathname}`).toMatch(/^https:\/\/api\.northwind\.example\/next\/[\w.%-]+$/);
  });

  it('offers no next step to a resubmission (it would show the existing person’s name)', async () => {
    await withApi()(jsonPost(person), context);
    const again = await withApi()(jsonPost({ ...person, company: 'Acme Widgets Ltd' }), context);
    expect(again.statusCode).toBe(200);
    expect(bodyOf(again)).not.toHaveProperty('next');
  });
});
