import { describe, expect, it } from 'vitest';
import { WebhooksSchema } from '../../../shared/config/schema-integrations';
import { WEBHOOK_PROVIDER_IDS } from '../../../shared/contracts/webhook-providers';
import { InvalidInputError } from '../../../shared/domain/errors';
import {
  isProviderEnabled,
  resolveProvider,
  WEBHOOK_ADAPTERS,
  WEBHOOK_PROVIDERS,
  WEBHOOK_REGISTRY,
} from '../../../shared/webhooks';
import {
  boundedId,
  parseJsonObject,
  safeEqual,
  sha256Hex,
  webhookToken,
} from '../../../shared/webhooks/common';
import { parseGeneric, valueAt, verifyGeneric } from '../../../shared/webhooks/generic';
import { webhookRequest } from './request';

const SIGNING_KEY = 'generated-signing-key-0123456789abcdef';
/** The example client's map (clients/example.yaml). */
const FIELD_MAP = {
  email: 'contact.email',
  firstName: 'contact.first_name',
  lastName: 'contact.last_name',
  company: 'company.name',
  phone: 'contact.phone',
};

const BODY = {
  id: 'evt_42',
  contact: { email: 'ravi@hooli.com', first_name: 'Ravi', last_name: 'Shah', phone: null },
  company: { name: 'Hooli', size: 5000 },
};

describe('verifyGeneric', () => {
  it('requires the generic token', () => {
    const token = webhookToken(SIGNING_KEY, 'generic');
    expect(verifyGeneric(webhookRequest('{}', { 'x-webhook-token': token }), SIGNING_KEY)).toEqual({
      ok: true,
    });
    expect(
      verifyGeneric(
        webhookRequest('{}', { 'x-webhook-token': webhookToken(SIGNING_KEY, 'unbounce') }),
        SIGNING_KEY,
      ).ok,
    ).toBe(false);
    expect(verifyGeneric(webhookRequest('{}'), SIGNING_KEY).ok).toBe(false);
  });
});

describe('parseGeneric', () => {
  it('reads the mapped paths only, and hashes the body when no id is mapped', () => {
    const raw = JSON.stringify(BODY);
    expect(parseGeneric(webhookRequest(raw), FIELD_MAP)).toEqual({
      kind: 'leads',
      leads: [
        {
          externalId: `sha256:${sha256Hex(raw)}`,
          fields: { email: 'ravi@hooli.com', firstName: 'Ravi', lastName: 'Shah', company: 'Hooli' },
        },
      ],
    });
  });

  it('uses a mapped externalId and reads array indices', () => {
    const payload = parseGeneric(
      webhookRequest(JSON.stringify({ record: { id: 981 }, people: [{ mail: 'a@b.io' }] })),
      { externalId: 'record.id', email: 'people.0.mail' },
    );
    expect(payload).toEqual({ kind: 'leads', leads: [{ externalId: '981', fields: { email: 'a@b.io' } }] });
  });

  it('reads top-level keys when the map is empty', () => {
    const payload = parseGeneric(
      webhookRequest(JSON.stringify({ email: 'x@y.io', lead_id: 'L-1', plan: 'pro' })),
      {},
    );
    expect(payload).toEqual({
      kind: 'leads',
      leads: [{ externalId: 'L-1', fields: { email: 'x@y.io', plan: 'pro' } }],
    });
  });

  it('rejects a body that is not a JSON object', () => {
    expect(() => parseGeneric(webhookRequest('[1,2]'), FIELD_MAP)).toThrow(InvalidInputError);
  });
});

describe('helpers', () => {
  it('walks dotted paths without touching prototypes', () => {
    expect(valueAt(BODY, 'company.size')).toBe(5000);
    expect(valueAt(BODY, 'company.missing.deeper')).toBeUndefined();
    expect(valueAt(BODY, 'constructor')).toBeUndefined();
    expect(valueAt(BODY, 'contact..email')).toBeUndefined();
  });

  it('compares secrets of any length', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', 'abc')).toBe(false);
  });

  it('bounds provider ids', () => {
    expect(boundedId('  lead-1 ')).toBe('lead-1');
    expect(boundedId('x'.repeat(101))).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(boundedId('a\nb')).toMatch(/^sha256:/);
  });

  it('parses JSON objects and names the problem otherwise', () => {
    expect(parseJsonObject('{"n": 12345678901234567890}')).toEqual({ n: '12345678901234567890' });
    expect(() => parseJsonObject('')).toThrow(/empty/);
    expect(() => parseJsonObject('"text"', 'data.json')).toThrow(/data.json: expected a JSON object/);
  });

  it('resolves provider path segments forgivingly and checks the client switch', () => {
    expect(resolveProvider('google_ads')).toBe('google_ads');
    expect(resolveProvider('google-ads')).toBe('google_ads');
    expect(resolveProvider('GoogleAds')).toBe('google_ads');
    expect(resolveProvider('cal.com')).toBe('calcom');
    expect(resolveProvider('hubspot')).toBeUndefined();
    expect(resolveProvider(undefined)).toBeUndefined();
  });

  it('has one adapter per switch of the client file, each resolving to itself', () => {
    const switches = Object.keys(WebhooksSchema.parse({}));
    expect(WEBHOOK_REGISTRY.map((a) => a.configKey).sort()).toEqual([...switches].sort());
    expect(new Set(WEBHOOK_PROVIDERS).size).toBe(switches.length);
    for (const adapter of WEBHOOK_REGISTRY) {
      expect(WEBHOOK_PROVIDER_IDS[adapter.configKey]).toBe(adapter.provider);
      expect(resolveProvider(adapter.provider)).toBe(adapter.provider);
    }
  });

  it.each(WEBHOOK_PROVIDERS)("checks %s's own switch in the client file", (provider) => {
    const { configKey } = WEBHOOK_ADAPTERS[provider];
    const webhooks = WebhooksSchema.parse({ [configKey]: { enabled: true } });
    for (const other of WEBHOOK_PROVIDERS)
      expect(isProviderEnabled(webhooks, other)).toBe(other === provider);
  });
});

describe('parseGeneric with an empty field map', () => {
  it('reads a HubSpot Forms submission body like POST /leads does', () => {
    const raw = JSON.stringify({
      fields: [
        { objectTypeId: '0-1', name: 'email', value: 'lena@contoso.example' },
        { objectTypeId: '0-1', name: 'use_cases', value: 'Dashboards;Alerts' },
      ],
      context: { pageUri: 'https://www.northwind.example/demo', ipAddress: '198.51.100.7' },
    });
    expect(parseGeneric(webhookRequest(raw), {})).toEqual({
      kind: 'leads',
      leads: [
        {
          externalId: `sha256:${sha256Hex(raw)}`,
          fields: {
            email: 'lena@contoso.example',
            use_cases: ['Dashboards', 'Alerts'],
            landing_page: 'https://www.northwind.example/demo',
          },
        },
      ],
    });
  });
});
