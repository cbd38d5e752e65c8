import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  enrichmentProviderFor,
  HttpEnrichmentProvider,
  lookupUrl,
  NO_ENRICHMENT_PROVIDER,
} from '../../shared/adapters/enrichment-provider';
import { SecretsManagerIntegrations } from '../../shared/adapters/integrations-secret';
import { normaliseCountry } from '../../shared/domain/country';
import { enrichProfile, providerFacts } from '../../shared/domain/enrichment';
import type { LeadProfile } from '../../shared/domain/lead';

process.env.AWS_REGION ??= 'eu-west-1';

const profile = (p: Partial<LeadProfile> = {}): LeadProfile => ({
  dedupeKey: p.email ?? 'jane@acme-software.example',
  email: 'jane@acme-software.example',
  isFreeMail: false,
  isDisposable: false,
  extra: {},
  droppedFields: [],
  ...p,
});

describe('enrichProfile (built-in enrichment)', () => {
  it('survives a country typed as an Object member name ("constructor", "__proto__"): capture enriches every lead', () => {
    for (const country of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(normaliseCountry(country), country).toBeUndefined();
      expect(() => enrichProfile(profile({ country })), country).not.toThrow();
    }
  });

  it('derives the company domain, phone country, country and time zone of a complete lead', () => {
    const { profile: enriched, changed } = enrichProfile(profile({ phone: '+4930901820', phoneValid: true }));
    expect(enriched).toMatchObject({
      companyDomain: 'acme-software.example',
      phoneCountry: 'DE',
      country: 'DE',
      timezone: 'Europe/Berlin',
      isFreeMail: false,
      isDisposable: false,
    });
    expect(changed).toEqual(['companyDomain', 'phoneCountry', 'country', 'timezone']);
  });

  it('flags free-mail and disposable addresses and never keeps their domain as the company domain', () => {
    // Stored before the lists knew the domain: the flags are stale and the domain is wrong.
    const gmail = enrichProfile(profile({ email: 'jane@gmail.com', companyDomain: 'gmail.com' }));
    expect(gmail.profile.isFreeMail).toBe(true);
    expect(gmail.profile.isDisposable).toBe(false);
    expect(gmail.profile.companyDomain).toBeUndefined();
    expect(gmail.changed).toEqual(['isFreeMail', 'companyDomain']);

    const throwaway = enrichProfile(profile({ email: 'x@mailinator.com' }));
    expect(throwaway.profile).toMatchObject({ isFreeMail: true, isDisposable: true });
    expect(throwaway.profile.companyDomain).toBeUndefined();
  });

  it('takes the company domain from the website when the email is free-mail', () => {
    const { profile: enriched } = enrichProfile(
      profile({
        email: 'jane@gmail.com',
        isFreeMail: true,
        website: 'https://www.Acme-Software.example/about',
      }),
    );
    expect(enriched.companyDomain).toBe('acme-software.example');
  });

  it('keeps what the lead told us: their country and time zone win over the phone', () => {
    const { profile: enriched, changed } = enrichProfile(
      profile({ phone: '+14155550123', phoneValid: true, country: 'GB', timezone: 'Europe/Dublin' }),
    );
    expect(enriched).toMatchObject({ phoneCountry: 'US', country: 'GB', timezone: 'Europe/Dublin' });
    expect(changed).toEqual(['companyDomain', 'phoneCountry']);
  });

  it("does not read a country from a number valid only under the client's default country", () => {
    // A US number typed without +1, which a GB client's default reads as a London number.
    const { profile: enriched } = enrichProfile(
      profile({ phone: '+442015550123', phoneValid: true, phoneRaw: '(201) 555-0123' }),
    );
    expect(enriched.phoneCountry).toBeUndefined();
    expect(enriched.country).toBeUndefined();
    // Typed with its own country code, the number does say where it is.
    const typedInternational = enrichProfile(
      profile({ phone: '+442079460958', phoneValid: true, phoneRaw: '+44 (0)20 7946 0958' }),
    );
    expect(typedInternational.profile).toMatchObject({ phoneCountry: 'GB', country: 'GB' });
  });

  it('does not read a country from a phone number that failed validation', () => {
    const { profile: enriched } = enrichProfile(profile({ phone: '0170 123 (evenings)', phoneValid: false }));
    expect(enriched.phoneCountry).toBeUndefined();
    expect(enriched.country).toBeUndefined();
    expect(enriched.timezone).toBeUndefined();
  });

  it('fills gaps from the provider but never overrides the lead; the phone beats the provider country', () => {
    const facts = providerFacts({
      company: 'Acme Software GmbH',
      companySize: 420,
      industry: 'SaaS',
      country: 'US',
    });
    const { profile: enriched, changed } = enrichProfile(
      profile({ company: 'Acme', phone: '+4930901820', phoneValid: true }),
      facts,
    );
    expect(enriched).toMatchObject({
      company: 'Acme',
      companySize: 420,
      industry: 'SaaS',
      country: 'DE',
      timezone: 'Europe/Berlin',
    });
    expect(changed).toEqual([
      'companyDomain',
      'phoneCountry',
      'companySize',
      'industry',
      'country',
      'timezone',
    ]);

    const noPhone = enrichProfile(profile(), facts).profile;
    expect(noPhone).toMatchObject({
      company: 'Acme Software GmbH',
      country: 'US',
      timezone: 'America/New_York',
    });
  });

  it('is idempotent: enriching an enriched profile changes nothing and returns the same object', () => {
    const once = enrichProfile(profile({ phone: '+442079460958', phoneValid: true }), {
      companySize: 50,
    }).profile;
    const twice = enrichProfile(once, { companySize: 50 });
    expect(twice.changed).toEqual([]);
    expect(twice.profile).toBe(once);
  });

  it('is idempotent for any mix of email, phone, website, country and provider facts (property)', () => {
    const email = fc.constantFrom(
      undefined,
      'a@gmail.com',
      'b@mailinator.com',
      'c@acme-software.example',
      'd@sub.northwind.example',
    );
    const phone = fc.constantFrom<[string, boolean] | undefined>(
      undefined,
      ['+4930901820', true],
      ['+14155550123', true],
      ['12345', false],
    );
    const country = fc.constantFrom(undefined, 'DE', 'US', 'BV');
    const website = fc.constantFrom(undefined, 'www.acme.example', 'gmail.com', 'not a url');
    const facts = fc.option(
      fc.record(
        {
          company: fc.string({ maxLength: 20 }),
          companySize: fc.oneof(fc.integer({ min: -5, max: 100_000 }), fc.string({ maxLength: 10 })),
          industry: fc.string({ maxLength: 20 }),
          country: fc.constantFrom('DE', 'Germany', 'nowhere', 'us'),
        },
        { requiredKeys: [] },
      ),
      { nil: undefined },
    );
    fc.assert(
      fc.property(email, phone, country, website, facts, (e, ph, c, w, f) => {
        const start = profile({
          email: e,
          dedupeKey: e ?? 'phone:+4930901820',
          ...(ph ? { phone: ph[0], phoneValid: ph[1] } : {}),
          ...(c ? { country: c } : {}),
          ...(w ? { website: w } : {}),
        });
        const provided = f ? providerFacts(f) : undefined;
        const first = enrichProfile(start, provided);
        const second = enrichProfile(first.profile, provided);
        expect(second.changed).toEqual([]);
        // What the lead gave is never overwritten.
        if (c) expect(first.profile.country).toBe(c);
        // A company domain is never a free-mail or disposable one.
        if (first.profile.companyDomain !== undefined)
          expect(['gmail.com', 'mailinator.com']).not.toContain(first.profile.companyDomain);
      }),
    );
  });
});

describe('providerFacts', () => {
  it('normalises sizes, countries and texts, and leaves out what it cannot read', () => {
    expect(providerFacts({ companySize: '201-500' })).toEqual({ companySize: 201 });
    expect(providerFacts({ companySize: '1,000+' })).toEqual({ companySize: 1000 });
    expect(providerFacts({ companySize: 250.7 })).toEqual({ companySize: 250 });
    expect(providerFacts({ companySize: -3 })).toEqual({});
    expect(providerFacts({ companySize: 'lots' })).toEqual({});
    expect(providerFacts({ country: 'Deutschland' })).toEqual({ country: 'DE' });
    expect(providerFacts({ country: 'Atlantis' })).toEqual({});
    expect(providerFacts({ company: `  Acme\u200b Corp  ${'x'.repeat(300)}` }).company).toHaveLength(200);
    expect(providerFacts({ company: '   ', industry: '' })).toEqual({});
  });
});

describe('lookupUrl', () => {
  it('fills {domain} and {email}, URL-encoded', () => {
    expect(
      lookupUrl('https://api.example/v2/companies/find?domain={domain}&email={email}', {
        companyDomain: 'acme.example',
        email: 'jane+news@acme.example',
      }),
    ).toBe('https://api.example/v2/companies/find?domain=acme.example&email=jane%2Bnews%40acme.example');
  });

  it('is undefined when the template needs a value the lead lacks (free-mail leads have no company domain)', () => {
    expect(lookupUrl('https://api.example/{domain}', { email: 'jane@gmail.com' })).toBeUndefined();
  });
});

// ------------------------------------------------------------------------------ HTTP provider

const secretsMock = mockClient(SecretsManagerClient);
afterEach(() => {
  secretsMock.reset();
  vi.restoreAllMocks();
});

function secretsWith(enrichmentApiKey: string) {
  secretsMock
    .on(GetSecretValueCommand)
    .resolves({ SecretString: JSON.stringify({ signingKey: 'k'.repeat(32), enrichmentApiKey }) });
  // A fresh provider per test: Powertools caches secret values per instance.
  return new SecretsManagerIntegrations(
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:integrations',
    new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient({}) }),
  );
}

const log = () => ({ warn: vi.fn(), info: vi.fn() });
const TEMPLATE = 'https://enrich.example/v1/company?domain={domain}';
const jsonResponse = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('HttpEnrichmentProvider', () => {
  it('calls the provider with the API key as a Bearer token and maps the known fields only', async () => {
    const fetch = vi.fn(async (_url: string | URL | Request, _init?: RequestInit) =>
      jsonResponse({
        company: 'Acme Software GmbH',
        companySize: '201-500',
        industry: 'Software',
        country: 'Germany',
        logo: 'https://logo.example/acme.png',
        metrics: { raised: 1e7 },
      }),
    );
    const provider = new HttpEnrichmentProvider({
      urlTemplate: TEMPLATE,
      timeoutMs: 1500,
      secrets: secretsWith('sk_live_123'),
      fetch,
      log: log(),
    });
    const facts = await provider.lookup(profile({ companyDomain: 'acme-software.example' }));
    expect(facts).toEqual({
      company: 'Acme Software GmbH',
      companySize: 201,
      industry: 'Software',
      country: 'DE',
    });
    expect(fetch).toHaveBeenCalledTimes(1);
    const [url, init] = fetch.mock.calls[0] ?? [];
    expect(url).toBe('https://enrich.example/v1/company?domain=acme-software.example');
    expect(init?.headers).toMatchObject({ authorization: 'Bearer sk_live_123' });
    expect(init?.signal).toBeInstanceOf(AbortSignal);
  });

  it('sends no Authorization header when no key is configured', async () => {
    const fetch = vi.fn(async (_url: string | URL | Request, _init?: RequestInit) => jsonResponse({}));
    const provider = new HttpEnrichmentProvider({
      urlTemplate: TEMPLATE,
      timeoutMs: 1500,
      secrets: secretsWith(''),
      fetch,
      log: log(),
    });
    expect(await provider.lookup(profile({ companyDomain: 'acme.example' }))).toEqual({});
    expect(fetch.mock.calls[0]?.[1]?.headers).not.toHaveProperty('authorization');
  });

  it('gives up when the provider does not answer in time (AbortSignal.timeout), logs it and returns nothing', async () => {
    // A provider that never answers: only the abort signal ends the call.
    const fetch = vi.fn(
      (_url: string | URL | Request, init?: RequestInit) =>
        new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
        }),
    );
    const logs = log();
    const provider = new HttpEnrichmentProvider({
      urlTemplate: TEMPLATE,
      timeoutMs: 20,
      secrets: secretsWith('k'),
      fetch,
      log: logs,
    });
    await expect(provider.lookup(profile({ companyDomain: 'acme.example' }))).resolves.toBeUndefined();
    expect(logs.warn).toHaveBeenCalledWith(
      expect.stringContaining('timed out after 20 ms'),
      expect.objectContaining({ enrichmentUrlTemplate: TEMPLATE }),
    );
  });

  it.each([
    ['a server error', () => jsonResponse({ error: 'boom' }, 503), 'warn'],
    ['not found', () => jsonResponse({ error: 'unknown domain' }, 404), 'info'],
    ['a body that is not JSON', () => new Response('<html>oops</html>', { status: 200 }), 'warn'],
    ['a JSON array', () => jsonResponse([1, 2, 3]), 'warn'],
    ['a network failure', () => Promise.reject(new TypeError('fetch failed')), 'warn'],
  ] as const)('returns nothing on %s and logs it', async (_name, answer, level) => {
    const logs = log();
    const provider = new HttpEnrichmentProvider({
      urlTemplate: TEMPLATE,
      timeoutMs: 1500,
      secrets: secretsWith('k'),
      fetch: vi.fn(async () => answer()),
      log: logs,
    });
    await expect(provider.lookup(profile({ companyDomain: 'acme.example' }))).resolves.toBeUndefined();
    expect(logs[level]).toHaveBeenCalledTimes(1);
  });

  it('keeps the readable fields when one field has an unexpected shape', async () => {
    const provider = new HttpEnrichmentProvider({
      urlTemplate: TEMPLATE,
      timeoutMs: 1500,
      secrets: secretsWith('k'),
      fetch: vi.fn(async () => jsonResponse({ companySize: { min: 10, max: 50 }, industry: 'Fintech' })),
      log: log(),
    });
    expect(await provider.lookup(profile({ companyDomain: 'acme.example' }))).toEqual({
      industry: 'Fintech',
    });
  });

  it('does not call the provider when the secret cannot be read', async () => {
    secretsMock
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }));
    const fetch = vi.fn(async () => jsonResponse({}));
    const logs = log();
    const provider = new HttpEnrichmentProvider({
      urlTemplate: TEMPLATE,
      timeoutMs: 1500,
      secrets: new SecretsManagerIntegrations(
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:integrations',
        new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient({ maxAttempts: 1 }) }),
      ),
      fetch,
      log: logs,
    });
    await expect(provider.lookup(profile({ companyDomain: 'acme.example' }))).resolves.toBeUndefined();
    expect(fetch).not.toHaveBeenCalled();
    expect(logs.warn).toHaveBeenCalledWith(expect.stringContaining('secret'), expect.anything());
  });

  it('does not call the provider for a lead without a company domain', async () => {
    const fetch = vi.fn(async () => jsonResponse({}));
    const provider = new HttpEnrichmentProvider({
      urlTemplate: TEMPLATE,
      timeoutMs: 1500,
      secrets: secretsWith('k'),
      fetch,
      log: log(),
    });
    expect(await provider.lookup(profile({ email: 'jane@gmail.com', isFreeMail: true }))).toBeUndefined();
    expect(fetch).not.toHaveBeenCalled();
  });
});

describe('enrichmentProviderFor', () => {
  it('is off unless a provider is configured and enabled (the secret is not even read)', () => {
    const secrets = vi.fn(() => secretsWith('k'));
    expect(enrichmentProviderFor({}, secrets)).toBe(NO_ENRICHMENT_PROVIDER);
    expect(
      enrichmentProviderFor(
        { provider: { enabled: false, urlTemplate: TEMPLATE, timeoutMs: 1500 } },
        secrets,
      ),
    ).toBe(NO_ENRICHMENT_PROVIDER);
    expect(secrets).not.toHaveBeenCalled();
    expect(
      enrichmentProviderFor({ provider: { enabled: true, urlTemplate: TEMPLATE, timeoutMs: 1500 } }, secrets),
    ).toBeInstanceOf(HttpEnrichmentProvider);
    expect(secrets).toHaveBeenCalledTimes(1);
  });
});
