import { describe, expect, it } from 'vitest';
import { fieldPathSegments } from '../../../shared/domain/field-path';
import { normaliseSubmission } from '../../../shared/domain/normalise';
import type { WebhookPayload } from '../../../shared/webhooks/common';
import { parseGeneric, valueAt } from '../../../shared/webhooks/generic';
import { webhookRequest } from './request';

/**
 * Gravity Forms through its Webhooks Add-On (request format JSON, request body "All Fields"):
 * the whole entry is posted, keyed by field id, with one key per input of a multi-input field
 * (name `1.3` first / `1.6` last, consent `4.1`, checkboxes `6.1`, `6.2`...).
 */
const ENTRY = {
  id: '1187',
  form_id: '3',
  post_id: null,
  date_created: '2026-11-30 14:02:11',
  date_updated: '2026-11-30 14:02:11',
  is_starred: 0,
  is_read: 0,
  ip: '203.0.113.9',
  source_url: 'https://www.northwind.example/contact/?utm_source=newsletter&utm_medium=email',
  user_agent: 'Mozilla/5.0',
  currency: 'GBP',
  created_by: null,
  status: 'active',
  '1.2': '',
  '1.3': 'Priya',
  '1.4': '',
  '1.6': 'Raman',
  '1.8': '',
  '2': 'priya.raman@fabrikam.example',
  '3': '+44 20 7946 0101',
  '5': 'Fabrikam Ltd',
  '4.1': '1',
  '4.2': 'I agree to receive product news by email.',
  '4.3': '1',
  '6.1': 'Dashboards',
  '6.2': '',
  '6.3': 'Data warehouse sync',
};

/** The map a client file holds for this form: escaped dots and list paths both work. */
const FIELD_MAP = {
  externalId: 'id',
  firstName: '1\\.3',
  lastName: ['1.6'],
  email: '2',
  phone: '3',
  company: '5',
  consent: '4\\.1',
  landingPage: 'source_url',
  interest_dashboards: ['6.1'],
  interest_sync: '6\\.3',
};

function leadsOf(payload: WebhookPayload) {
  if (payload.kind !== 'leads') throw new Error(`expected leads, got ${payload.kind}`);
  return payload.leads;
}

describe('Gravity Forms entries through the generic provider', () => {
  it('reads dotted input ids written as escaped paths or as lists', () => {
    const [lead] = leadsOf(parseGeneric(webhookRequest(JSON.stringify(ENTRY)), FIELD_MAP));
    expect(lead).toEqual({
      externalId: '1187',
      fields: {
        firstName: 'Priya',
        lastName: 'Raman',
        email: 'priya.raman@fabrikam.example',
        phone: '+44 20 7946 0101',
        company: 'Fabrikam Ltd',
        consent: '1',
        landingPage: ENTRY.source_url,
        interest_dashboards: 'Dashboards',
        interest_sync: 'Data warehouse sync',
      },
    });
  });

  it('makes a lead with consent, attribution from the entry page and the checkbox answers in extra', () => {
    const [lead] = leadsOf(parseGeneric(webhookRequest(JSON.stringify(ENTRY)), FIELD_MAP));
    const result = normaliseSubmission(lead?.fields ?? {}, {
      defaultCountry: 'GB',
      maxExtraFields: 25,
      now: new Date('2026-11-30T14:02:12Z'),
      provider: 'generic',
    });
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.profile).toMatchObject({
      firstName: 'Priya',
      lastName: 'Raman',
      email: 'priya.raman@fabrikam.example',
      phone: '+442079460101',
      phoneCountry: 'GB',
      company: 'Fabrikam Ltd',
      extra: { interest_dashboards: 'Dashboards', interest_sync: 'Data warehouse sync' },
    });
    expect(result.consent).toMatchObject({ marketing: true, via: 'generic:consent' });
    expect(result.source).toMatchObject({ provider: 'generic', landingPage: ENTRY.source_url });
  });

  it('still reads plain dotted paths through nested objects and lists', () => {
    const body = { entry: { '1.3': 'Priya', contacts: [{ phone: '123' }] } };
    expect(valueAt(body, 'entry.1\\.3')).toBe('Priya');
    expect(valueAt(body, ['entry', '1.3'])).toBe('Priya');
    expect(valueAt(body, 'entry.contacts.0.phone')).toBe('123');
    // Unescaped, "1.3" is two keys, which the entry does not have.
    expect(valueAt(body, 'entry.1.3')).toBeUndefined();
  });
});

describe('fieldPathSegments', () => {
  it('splits on unescaped dots and unescapes \\. and \\\\', () => {
    expect(fieldPathSegments('a.b\\.c.d\\\\e')).toEqual({ ok: true, segments: ['a', 'b.c', 'd\\e'] });
    expect(fieldPathSegments(['1.3'])).toEqual({ ok: true, segments: ['1.3'] });
  });

  it('explains a path it cannot read', () => {
    expect(fieldPathSegments('contact..email')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('is empty'),
    });
    expect(fieldPathSegments('1\\3')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('must be followed by'),
    });
    expect(fieldPathSegments([])).toMatchObject({ ok: false });
    expect(fieldPathSegments(['a', ''])).toMatchObject({ ok: false, reason: 'segment 1 is empty' });
  });
});
