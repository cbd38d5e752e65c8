import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHandler, type Deps } from '../../../functions/enrich/handler';
import { enrichmentProviderFor, NO_ENRICHMENT_PROVIDER } from '../../../shared/adapters/enrichment-provider';
import { SecretsManagerIntegrations } from '../../../shared/adapters/integrations-secret';
import { loadClientConfig } from '../../../shared/config/load';
import { DependencyUnavailableError, InvalidInputError } from '../../../shared/domain/errors';
import type { Lead } from '../../../shared/domain/lead';
import {
  eventBridgeEvent,
  Harness,
  lambdaContext,
  makeLead,
  throttling,
  transactionCanceled,
} from './pipeline-kit';

const NOW = new Date('2026-03-02T10:00:00.000Z');
const example = loadClientConfig('example', 'clients');

let h: Harness;
beforeEach(() => {
  h = new Harness();
});
afterEach(() => {
  h.restore();
  vi.restoreAllMocks();
});

function handlerWith(overrides: Partial<Deps> = {}) {
  const handler = createHandler({
    repository: h.repository,
    publisher: h.publisher,
    provider: NO_ENRICHMENT_PROVIDER,
    steps: h.steps('enrich'),
    now: () => NOW,
    ...overrides,
  });
  return (event: unknown) => handler(event, lambdaContext());
}

const captured = (leadId = 'lead-1', id?: string, extra: { pending?: boolean; isTest?: boolean } = {}) =>
  eventBridgeEvent(
    'Lead Captured',
    { leadId, occurredAt: '2026-03-02T09:59:00.000Z', provider: 'form', channel: 'organic', ...extra },
    id,
  );

/** A German lead whose country the form did not ask for. */
const germanLead = (overrides: Partial<Lead> = {}) =>
  makeLead({ profile: { phone: '+4930901820', phoneValid: true }, ...overrides });

describe('enrich handler', () => {
  it('enriches from the profile, saves the lead and publishes Lead Enriched with the changed fields', async () => {
    h.table.putLead(germanLead());
    const result = await handlerWith()(captured('lead-1', 'evt-1'));

    expect(result).toMatchObject({ outcome: 'enriched', providerUsed: false });
    const lead = h.table.lead('lead-1');
    expect(lead.profile).toMatchObject({ phoneCountry: 'DE', country: 'DE', timezone: 'Europe/Berlin' });
    expect(lead.version).toBe(1);
    expect(lead.updatedAt).toBe(NOW.toISOString());
    expect(h.published).toEqual([
      {
        detailType: 'Lead Enriched',
        detail: {
          leadId: 'lead-1',
          occurredAt: NOW.toISOString(),
          isTest: false,
          fields: ['phoneCountry', 'country', 'timezone'],
          providerUsed: false,
        },
      },
    ]);
  });

  it('uses the configured provider (API key from the integrations secret) to fill company facts', async () => {
    const secrets = mockClient(SecretsManagerClient);
    secrets.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ signingKey: 's'.repeat(32), enrichmentApiKey: 'sk_test' }),
    });
    const fetch = vi.fn(async (_url: string | URL | Request, _init?: RequestInit) =>
      Response.json({ companySize: 640, industry: 'software', name: 'ignored field' }),
    );
    const provider = enrichmentProviderFor(
      { provider: { enabled: true, urlTemplate: 'https://enrich.example/{domain}', timeoutMs: 1500 } },
      () =>
        new SecretsManagerIntegrations(
          'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x',
          new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient({}) }),
        ),
      { fetch },
    );
    h.table.putLead(germanLead());
    await handlerWith({ provider })(captured());

    expect(fetch.mock.calls[0]?.[0]).toBe('https://enrich.example/acme-software.example');
    expect(fetch.mock.calls[0]?.[1]?.headers).toMatchObject({ authorization: 'Bearer sk_test' });
    expect(h.table.lead('lead-1').profile).toMatchObject({ companySize: 640, industry: 'software' });
    expect(h.ofType('Lead Enriched')[0]?.detail).toMatchObject({
      fields: ['phoneCountry', 'companySize', 'industry', 'country', 'timezone'],
      providerUsed: true,
    });
    secrets.restore();
  });

  it('continues without the provider when it times out (AbortSignal): the lead is enriched and announced', async () => {
    const fetch = vi.fn(
      (_url: string | URL | Request, init?: RequestInit) =>
        new Promise<Response>((_resolve, reject) =>
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
        ),
    );
    const provider = enrichmentProviderFor(
      { provider: { enabled: true, urlTemplate: 'https://enrich.example/{domain}', timeoutMs: 100 } },
      () => ({ read: async () => ({ signingKey: 's'.repeat(32), enrichmentApiKey: 'k' }) }) as never,
      { fetch, log: { warn: vi.fn(), info: vi.fn() } },
    );
    h.table.putLead(germanLead());
    const result = await handlerWith({ provider })(captured());

    expect(fetch).toHaveBeenCalledTimes(1);
    expect(result).toMatchObject({ outcome: 'enriched', providerUsed: false });
    expect(h.table.lead('lead-1').profile.country).toBe('DE');
    expect(h.ofType('Lead Enriched')).toHaveLength(1);
  });

  it('rejects an event whose detail fails the schema, naming the field, and changes nothing', async () => {
    h.table.putLead(germanLead());
    const bad = captured();
    delete (bad.detail as Record<string, unknown>).leadId;
    const error = await handlerWith()(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).problems.map((p) => p.field)).toEqual(['detail.leadId']);
    await expect(handlerWith()({ ...captured(), 'detail-type': 'Lead Scored' })).rejects.toThrow(
      /detail-type: expected one of Lead Captured/,
    );
    expect(h.table.lead('lead-1').version).toBe(0);
    expect(h.published).toEqual([]);
  });

  it('leaves pending leads alone (their fields are still being fetched)', async () => {
    h.table.putLead(germanLead({ status: 'pending' }));
    expect(await handlerWith()(captured('lead-1', 'evt-p', { pending: true }))).toEqual({
      outcome: 'pending',
    });
    expect(h.table.lead('lead-1').version).toBe(0);
    expect(h.published).toEqual([]);
  });

  it('throws on DynamoDB throttling so EventBridge retries, and the retry completes the work once', async () => {
    h.table.putLead(germanLead());
    h.table.failNext('GetCommand', throttling());
    const handler = handlerWith();
    await expect(handler(captured('lead-1', 'evt-t'))).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(h.published).toEqual([]);

    await handler(captured('lead-1', 'evt-t'));
    expect(h.table.lead('lead-1').version).toBe(1);
    expect(h.ofType('Lead Enriched')).toHaveLength(1);
  });

  it("retries on a concurrent change (TransactionCanceled on the lead) and keeps the other writer's change", async () => {
    h.table.putLead(germanLead());
    // Another function (a resubmission) saves the lead between our read and our write.
    h.table.beforeNext('TransactWriteCommand', () => {
      const current = h.table.lead('lead-1');
      h.table.putLead({
        ...current,
        profile: { ...current.profile, jobTitle: 'CTO' },
        version: current.version + 1,
      });
    });
    await handlerWith()(captured());

    const lead = h.table.lead('lead-1');
    expect(lead.version).toBe(2);
    expect(lead.profile).toMatchObject({ jobTitle: 'CTO', country: 'DE', timezone: 'Europe/Berlin' });
    expect(h.table.calls.filter((c) => c === 'TransactWriteCommand')).toHaveLength(2);
    expect(h.ofType('Lead Enriched')).toHaveLength(1);
  });

  it('surfaces a transaction conflict as retryable instead of losing the event', async () => {
    h.table.putLead(germanLead());
    h.table.failNext('TransactWriteCommand', transactionCanceled(['TransactionConflict']));
    const handler = handlerWith();
    await expect(handler(captured('lead-1', 'evt-c'))).rejects.toBeInstanceOf(DependencyUnavailableError);
    await handler(captured('lead-1', 'evt-c'));
    expect(h.table.lead('lead-1').profile.country).toBe('DE');
    expect(h.ofType('Lead Enriched')).toHaveLength(1);
  });

  it('publishes once when the bus fails after the save: the retry publishes the stored decision', async () => {
    h.table.putLead(germanLead());
    h.failNextPublish(throttling());
    const handler = handlerWith();
    await expect(handler(captured('lead-1', 'evt-b'))).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(h.table.lead('lead-1').version).toBe(1);
    expect(h.published).toEqual([]);

    await handler(captured('lead-1', 'evt-b'));
    expect(h.table.lead('lead-1').version).toBe(1);
    // The fields are those of the first run, not the empty list a recomputation would give.
    expect(h.ofType('Lead Enriched').map((p) => p.detail.fields)).toEqual([
      ['phoneCountry', 'country', 'timezone'],
    ]);
  });

  it('treats a duplicate delivery as a no-op: no second provider call, no second Lead Enriched', async () => {
    const fetch = vi.fn(async () => Response.json({ industry: 'fintech' }));
    const provider = enrichmentProviderFor(
      { provider: { enabled: true, urlTemplate: 'https://enrich.example/{domain}', timeoutMs: 1500 } },
      () => ({ read: async () => ({ signingKey: 's'.repeat(32), enrichmentApiKey: '' }) }) as never,
      { fetch },
    );
    h.table.putLead(germanLead());
    const handler = handlerWith({ provider });
    const first = await handler(captured('lead-1', 'evt-dup'));
    const second = await handler(captured('lead-1', 'evt-dup'));

    expect(second).toEqual(first);
    expect(fetch).toHaveBeenCalledTimes(1);
    // One completed record per step, in the lead table, expiring with DynamoDB TTL.
    const records = h.table.byPk('IDEMPOTENCY#enrich');
    expect(records.map((r) => [String(r.sk).split('#')[0], r.status]).sort()).toEqual([
      ['decide', 'COMPLETED'],
      ['publish', 'COMPLETED'],
    ]);
    expect(records.every((r) => Number(r.expiresAt) > Date.now() / 1000 + 23 * 3600)).toBe(true);
    expect(h.ofType('Lead Enriched')).toHaveLength(1);
    expect(h.table.lead('lead-1').version).toBe(1);
  });

  it('recomputes the same values for a new event about an enriched lead and triggers no re-score', async () => {
    h.table.putLead(germanLead());
    const handler = handlerWith();
    await handler(captured('lead-1', 'evt-a'));
    const result = await handler(captured('lead-1', 'evt-b'));

    expect(result).toMatchObject({ outcome: 'unchanged', changed: [] });
    expect(h.table.lead('lead-1').version).toBe(1);
    // Scoring already ran on Lead Captured; Lead Enriched only asks for a re-score of a change.
    expect(h.ofType('Lead Enriched').map((p) => p.detail.fields)).toEqual([
      ['phoneCountry', 'country', 'timezone'],
    ]);
  });

  it('drops events for leads that no longer exist (erased) without failing', async () => {
    expect(await handlerWith()(captured('gone'))).toEqual({ outcome: 'missing', events: [] });
    expect(h.published).toEqual([]);
  });

  it('carries the test flag through', async () => {
    h.table.putLead(germanLead({ isTest: true }));
    await handlerWith()(captured('lead-1', 'evt-test', { isTest: true }));
    expect(h.ofType('Lead Enriched')[0]?.detail.isTest).toBe(true);
  });

  it('uses the example client without a provider (enrichment: {})', () => {
    expect(enrichmentProviderFor(example.enrichment, () => ({}) as never)).toBe(NO_ENRICHMENT_PROVIDER);
  });
});
