import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../shared/domain/errors';
import { normaliseSubmission } from '../../../shared/domain/normalise';
import { webhookToken } from '../../../shared/webhooks/common';
import { parseUnbounce, unbounceExternalId, verifyUnbounce } from '../../../shared/webhooks/unbounce';
import { webhookRequest } from './request';

const SIGNING_KEY = 'generated-signing-key-0123456789abcdef';
const FORM = 'application/x-www-form-urlencoded';

/** `data.json` as documented by Unbounce: every value is an array, plus submission metadata. */
const DATA = {
  first_name: ['Priya'],
  last_name: ['Nair'],
  email: ['priya.nair@globex.com'],
  company_name: ['Globex'],
  phone_number: ['(415) 555-0134'],
  what_are_you_interested_in: ['Pricing', 'Integrations'],
  gdpr_consent: ['yes'],
  ip_address: ['203.0.113.7'],
  page_uuid: ['a2838d98-4cf4-11df-a3fd-00163e372d58'],
  variant: ['b'],
  time_submitted: ['10:57 PM UTC'],
  date_submitted: ['2023-06-06'],
  page_url: ['https://go.northwind.example/demo?utm_source=linkedin&utm_medium=paid_social'],
  page_name: ['Demo landing page'],
};

function formBody(data: unknown, extra: Record<string, string> = {}): string {
  return new URLSearchParams({
    'data.json': JSON.stringify(data),
    'data.xml': '<data/>',
    page_id: 'a2838d98-4cf4-11df-a3fd-00163e372d58',
    page_url: 'https://go.northwind.example/demo?utm_source=linkedin&utm_medium=paid_social',
    page_name: 'Demo landing page',
    variant: 'b',
    ...extra,
  }).toString();
}

describe('verifyUnbounce', () => {
  const token = webhookToken(SIGNING_KEY, 'unbounce');

  it('accepts the derived token in a header, as a bearer token, or in the URL', () => {
    expect(verifyUnbounce(webhookRequest('', { 'X-Webhook-Token': token }), SIGNING_KEY)).toEqual({
      ok: true,
    });
    expect(verifyUnbounce(webhookRequest('', { Authorization: `Bearer ${token}` }), SIGNING_KEY).ok).toBe(
      true,
    );
    expect(verifyUnbounce(webhookRequest('', {}, { query: { token } }), SIGNING_KEY).ok).toBe(true);
  });

  it("refuses a missing token, a wrong one, and another provider's token", () => {
    expect(verifyUnbounce(webhookRequest(''), SIGNING_KEY)).toEqual({
      ok: false,
      reason: 'missing x-webhook-token header',
    });
    expect(verifyUnbounce(webhookRequest('', { 'x-webhook-token': 'guess' }), SIGNING_KEY)).toEqual({
      ok: false,
      reason: 'webhook token does not match',
    });
    const generic = webhookToken(SIGNING_KEY, 'generic');
    expect(verifyUnbounce(webhookRequest('', { 'x-webhook-token': generic }), SIGNING_KEY).ok).toBe(false);
  });

  it('derives a token an operator can reproduce with openssl', () => {
    // printf %s 'webhook:unbounce' | openssl dgst -sha256 -hmac 'generated-signing-key-0123456789abcdef'
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(webhookToken(SIGNING_KEY, 'unbounce')).toBe(token);
    expect(webhookToken(`${SIGNING_KEY}-rotated`, 'unbounce')).not.toBe(token);
  });
});

describe('parseUnbounce', () => {
  it('unwraps the value arrays, drops the IP address and keeps page attribution', () => {
    const body = formBody(DATA);
    const payload = parseUnbounce(webhookRequest(body, {}, { contentType: FORM }));
    expect(payload).toEqual({
      kind: 'leads',
      leads: [
        {
          externalId: unbounceExternalId('a2838d98-4cf4-11df-a3fd-00163e372d58', JSON.stringify(DATA)),
          fields: {
            first_name: 'Priya',
            last_name: 'Nair',
            email: 'priya.nair@globex.com',
            company_name: 'Globex',
            phone_number: '(415) 555-0134',
            what_are_you_interested_in: 'Pricing, Integrations',
            gdpr_consent: 'yes',
            landing_page: 'https://go.northwind.example/demo?utm_source=linkedin&utm_medium=paid_social',
            form_id: 'a2838d98-4cf4-11df-a3fd-00163e372d58',
            unbounce_page: 'Demo landing page',
            unbounce_variant: 'b',
          },
        },
      ],
    });
  });

  it('produces a normalisable lead', () => {
    const payload = parseUnbounce(webhookRequest(formBody(DATA), {}, { contentType: FORM }));
    if (payload.kind !== 'leads') throw new Error('expected leads');
    const result = normaliseSubmission(payload.leads[0]!.fields, {
      defaultCountry: 'US',
      maxExtraFields: 25,
      now: new Date('2025-01-01T00:00:00Z'),
      provider: 'unbounce',
    });
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.profile).toMatchObject({
      email: 'priya.nair@globex.com',
      firstName: 'Priya',
      lastName: 'Nair',
      company: 'Globex',
      phone: '+14155550134',
    });
    expect(result.profile.extra).not.toHaveProperty('ip_address');
    expect(result.consent?.marketing).toBe(true);
    expect(result.source.landingPage).toContain('go.northwind.example/demo');
  });

  it('gives each submission its own stable id', () => {
    const a = unbounceExternalId('page-1', JSON.stringify(DATA));
    expect(unbounceExternalId('page-1', JSON.stringify(DATA))).toBe(a);
    // Same page, same minute, different visitor.
    expect(unbounceExternalId('page-1', JSON.stringify({ ...DATA, email: ['other@globex.com'] }))).not.toBe(
      a,
    );
    expect(a.length).toBeLessThanOrEqual(100);
  });

  it('also reads a webhook switched to JSON', () => {
    const payload = parseUnbounce(
      webhookRequest(JSON.stringify({ email: 'sam@initech.com', full_name: ['Sam Lee'] })),
    );
    if (payload.kind !== 'leads') throw new Error('expected leads');
    expect(payload.leads[0]!.fields).toEqual({ email: 'sam@initech.com', full_name: 'Sam Lee' });
  });

  it('names a missing or malformed data.json', () => {
    const missing = new URLSearchParams({ page_id: 'p' }).toString();
    expect(() => parseUnbounce(webhookRequest(missing, {}, { contentType: FORM }))).toThrow(
      InvalidInputError,
    );
    try {
      parseUnbounce(
        webhookRequest(
          new URLSearchParams({ 'data.json': '{"email": [' }).toString(),
          {},
          { contentType: FORM },
        ),
      );
      expect.unreachable();
    } catch (error) {
      expect((error as InvalidInputError).problems[0]?.field).toBe('data.json');
    }
  });
});
