import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../shared/domain/errors';
import { normaliseSubmission } from '../../../shared/domain/normalise';
import { googleAdsLead, parseGoogleAds, verifyGoogleAds } from '../../../shared/webhooks/google-ads';
import { webhookRequest } from './request';

const KEY = 'northwind-google-key-2024';

/** Google's documented sample lead (https://developers.google.com/google-ads/webhook/docs/implementation). */
const SAMPLE = {
  lead_id:
    'TeSter-123-ABCDEFGHIJKLMNOPQRSTUVWXYZ-abcdefghijklmnopqrstuvwxyz-0123456789-AaBbCcDdEeFfGgHhIiJjKkLl',
  user_column_data: [
    { column_name: 'Full Name', string_value: 'FirstName LastName', column_id: 'FULL_NAME' },
    { column_name: 'User Phone', string_value: '+16505550123', column_id: 'PHONE_NUMBER' },
    { column_name: 'User Email', string_value: 'test@example.com', column_id: 'EMAIL' },
  ],
  api_version: '1.0',
  form_id: 40000000000,
  campaign_id: 50000000000,
  google_key: KEY,
  is_test: true,
  gcl_id:
    'TeSter-123-ABCDEFGHIJKLMNOPQRSTUVWXYZ-abcdefghijklmnopqrstuvwxyz-0123456789-AaBbCcDdEeFfGgHhIiJjKkLl',
  adgroup_id: 20000000000,
  creative_id: 30000000000,
};

const normaliseOptions = {
  defaultCountry: 'GB',
  maxExtraFields: 25,
  now: new Date('2025-03-04T10:00:00Z'),
  provider: 'google_ads',
};

describe('verifyGoogleAds', () => {
  it('accepts the configured google_key', () => {
    expect(verifyGoogleAds(webhookRequest(JSON.stringify(SAMPLE)), KEY)).toEqual({ ok: true });
  });

  it('refuses a different key, a missing key and a body that is not JSON', () => {
    expect(verifyGoogleAds(webhookRequest(JSON.stringify({ ...SAMPLE, google_key: 'guess' })), KEY)).toEqual({
      ok: false,
      reason: 'google_key does not match',
    });
    const { google_key: _omitted, ...withoutKey } = SAMPLE;
    expect(verifyGoogleAds(webhookRequest(JSON.stringify(withoutKey)), KEY)).toEqual({
      ok: false,
      reason: 'missing google_key',
    });
    expect(verifyGoogleAds(webhookRequest('google_key=northwind'), KEY).ok).toBe(false);
  });

  it('refuses a key that only shares a prefix with the configured one', () => {
    expect(
      verifyGoogleAds(webhookRequest(JSON.stringify({ ...SAMPLE, google_key: `${KEY}x` })), KEY).ok,
    ).toBe(false);
    expect(
      verifyGoogleAds(webhookRequest(JSON.stringify({ ...SAMPLE, google_key: KEY.slice(0, -1) })), KEY).ok,
    ).toBe(false);
  });
});

describe('parseGoogleAds', () => {
  it("maps Google's sample lead to intake fields, flagged as a test lead", () => {
    const payload = parseGoogleAds(webhookRequest(JSON.stringify(SAMPLE)));
    expect(payload).toEqual({
      kind: 'leads',
      leads: [
        {
          externalId: SAMPLE.lead_id,
          isTest: true,
          fields: {
            email: 'test@example.com',
            full_name: 'FirstName LastName',
            phone: '+16505550123',
            form_id: '40000000000',
            gclid: SAMPLE.gcl_id,
            google_campaign_id: '50000000000',
            google_adgroup_id: '20000000000',
            google_creative_id: '30000000000',
          },
        },
      ],
    });
  });

  it('produces fields that normalise into a lead profile and paid-search source', () => {
    const payload = parseGoogleAds(webhookRequest(JSON.stringify(SAMPLE)));
    if (payload.kind !== 'leads') throw new Error('expected leads');
    const result = normaliseSubmission(payload.leads[0]!.fields, normaliseOptions);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.profile).toMatchObject({
      email: 'test@example.com',
      firstName: 'FirstName',
      lastName: 'LastName',
      phone: '+16505550123',
      phoneCountry: 'US',
    });
    expect(result.profile.extra).toMatchObject({ gclid: SAMPLE.gcl_id, google_campaign_id: '50000000000' });
    expect(result.source).toMatchObject({
      channel: 'paid_search',
      provider: 'google_ads',
      formId: '40000000000',
    });
  });

  it('prefers the work email and keeps the personal one, maps B2B columns and custom questions', () => {
    const lead = googleAdsLead({
      lead_id: 'lead-1',
      user_column_data: [
        { column_id: 'EMAIL', string_value: 'jane.doe@gmail.com' },
        { column_id: 'WORK_EMAIL', string_value: 'jane@acme.io' },
        { column_id: 'COMPANY_NAME', string_value: 'Acme' },
        { column_id: 'JOB_TITLE', string_value: 'Head of Data' },
        { column_id: 'COUNTRY', string_value: 'Germany' },
        { column_name: 'How many analysts are on your team?', column_id: 'q1', string_value: '12' },
        { column_id: 'CITY', string_value: '   ' },
      ],
    });
    expect(Object.keys(lead.fields).slice(0, 2)).toEqual(['work_email', 'email']);
    const result = normaliseSubmission(lead.fields, normaliseOptions);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.profile).toMatchObject({
      email: 'jane@acme.io',
      company: 'Acme',
      jobTitle: 'Head of Data',
      country: 'DE',
      companyDomain: 'acme.io',
    });
    expect(result.profile.city).toBeUndefined();
    expect(result.profile.extra).toMatchObject({
      email: 'jane.doe@gmail.com',
      how_many_analysts_are_on_your_team: '12',
    });
    expect(lead.isTest).toBeUndefined();
  });

  it('keeps ids above 2^53 exact and hashes an id too long to store', () => {
    const body = `{"lead_id":"${'x'.repeat(150)}","form_id":9007199254740993123,"user_column_data":[]}`;
    const payload = parseGoogleAds(webhookRequest(body));
    if (payload.kind !== 'leads') throw new Error('expected leads');
    expect(payload.leads[0]!.fields.form_id).toBe('9007199254740993123');
    expect(payload.leads[0]!.externalId).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('names the missing or malformed field', () => {
    const { lead_id: _omitted, ...withoutId } = SAMPLE;
    expect(() => parseGoogleAds(webhookRequest(JSON.stringify(withoutId)))).toThrow(InvalidInputError);
    try {
      parseGoogleAds(webhookRequest(JSON.stringify({ ...SAMPLE, user_column_data: 'name' })));
      expect.unreachable();
    } catch (error) {
      expect((error as InvalidInputError).problems.map((p) => p.field)).toEqual(['user_column_data']);
    }
    try {
      parseGoogleAds(webhookRequest('{"lead_id": '));
      expect.unreachable();
    } catch (error) {
      expect((error as InvalidInputError).problems[0]?.field).toBe('body');
    }
  });
});
