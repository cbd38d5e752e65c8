import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../shared/domain/errors';
import { normaliseSubmission } from '../../../shared/domain/normalise';
import {
  appSecretProof,
  MetaGraphLeadSchema,
  metaGraphLeadUrl,
  metaHandshake,
  metaLeadFields,
  parseMeta,
  verifyMeta,
} from '../../../shared/webhooks/meta';
import { hmac, webhookRequest } from './request';

const APP_SECRET = 'f1d2d2f924e986ac86fdf7b36c94bcdf';

/** Shape of Meta's documented leadgen delivery (Page webhook, field `leadgen`). */
const DELIVERY = {
  object: 'page',
  entry: [
    {
      id: '230076207144371',
      time: 1466583137,
      changes: [
        {
          field: 'leadgen',
          value: {
            ad_id: '6045931010736',
            form_id: '129595594131704',
            leadgen_id: '130528934038370',
            created_time: 1466583136,
            page_id: '230076207144371',
            adgroup_id: '6045931011136',
          },
        },
      ],
    },
  ],
};

/** Meta's documented Graph answer for `GET /<leadgen_id>`. */
const GRAPH_LEAD = {
  created_time: '2016-06-22T09:29:50+0000',
  id: '130528934038370',
  field_data: [
    { name: 'email', values: ['tom_cook@acme.io'] },
    { name: 'phone_number', values: ['+447700900123'] },
    { name: 'full_name', values: ['Tom Cook'] },
    { name: 'company_name', values: ['Acme Ltd'] },
    { name: 'which_products_interest_you?', values: ['Dashboards', 'Alerts'] },
  ],
};

function signed(body: string, secret = APP_SECRET) {
  return webhookRequest(body, { 'X-Hub-Signature-256': `sha256=${hmac(secret, body)}` });
}

describe('metaHandshake', () => {
  const query = { 'hub.mode': 'subscribe', 'hub.verify_token': 'nw-verify-7', 'hub.challenge': '1158201444' };

  it('echoes the challenge when the verify token matches', () => {
    expect(metaHandshake(query, 'nw-verify-7')).toEqual({ ok: true, challenge: '1158201444' });
  });

  it('refuses a wrong token, a wrong mode and a malformed challenge', () => {
    expect(metaHandshake({ ...query, 'hub.verify_token': 'nw-verify-8' }, 'nw-verify-7')).toEqual({
      ok: false,
      reason: 'hub.verify_token does not match',
    });
    expect(metaHandshake({ ...query, 'hub.mode': 'unsubscribe' }, 'nw-verify-7').ok).toBe(false);
    expect(metaHandshake({ ...query, 'hub.challenge': '<script>' }, 'nw-verify-7').ok).toBe(false);
    expect(metaHandshake({ 'hub.mode': 'subscribe', 'hub.challenge': '1' }, 'nw-verify-7').ok).toBe(false);
  });
});

describe('verifyMeta', () => {
  const body = JSON.stringify(DELIVERY);

  it('accepts a signature over the exact body', () => {
    expect(verifyMeta(signed(body), APP_SECRET)).toEqual({ ok: true });
  });

  it('verifies the exact bytes, including non-ASCII content', () => {
    const unicode = Buffer.from('{"entry":[],"note":"Zoë"}', 'utf8');
    const request = webhookRequest(unicode, { 'x-hub-signature-256': `sha256=${hmac(APP_SECRET, unicode)}` });
    expect(verifyMeta(request, APP_SECRET).ok).toBe(true);
  });

  it('refuses a missing, malformed, wrong-key or tampered signature', () => {
    expect(verifyMeta(webhookRequest(body), APP_SECRET)).toEqual({
      ok: false,
      reason: 'missing X-Hub-Signature-256 header',
    });
    expect(
      verifyMeta(webhookRequest(body, { 'x-hub-signature-256': hmac(APP_SECRET, body) }), APP_SECRET),
    ).toEqual({
      ok: false,
      reason: 'malformed X-Hub-Signature-256 header',
    });
    expect(verifyMeta(signed(body, 'another-app-secret'), APP_SECRET)).toEqual({
      ok: false,
      reason: 'signature does not match the request body',
    });
    const tampered = webhookRequest(body.replace('130528934038370', '130528934038371'), {
      'x-hub-signature-256': `sha256=${hmac(APP_SECRET, body)}`,
    });
    expect(verifyMeta(tampered, APP_SECRET).ok).toBe(false);
  });
});

describe('parseMeta', () => {
  it('reads every leadgen change of a batch', () => {
    const batch = {
      object: 'page',
      entry: [
        DELIVERY.entry[0],
        {
          id: '230076207144371',
          time: 1466583200,
          changes: [
            {
              field: 'leadgen',
              value: {
                leadgen_id: '130528934038999',
                form_id: '129595594131704',
                page_id: '1',
                created_time: 1466583199,
                ad_id: '0',
              },
            },
            { field: 'feed', value: { item: 'status' } },
          ],
        },
      ],
    };
    expect(parseMeta(webhookRequest(JSON.stringify(batch)))).toEqual({
      kind: 'meta',
      rejected: [],
      changes: [
        {
          leadgenId: '130528934038370',
          formId: '129595594131704',
          pageId: '230076207144371',
          adId: '6045931010736',
          adgroupId: '6045931011136',
          createdTime: '2016-06-22T08:12:16.000Z',
        },
        {
          leadgenId: '130528934038999',
          formId: '129595594131704',
          pageId: '1',
          createdTime: '2016-06-22T08:13:19.000Z',
        },
      ],
    });
  });

  it('keeps numeric ids beyond 2^53 exact (old deliveries send numbers)', () => {
    const body =
      '{"object":"page","entry":[{"id":"5","time":1447342027,"changes":[{"field":"leadgen","value":{"adgroup_id":0,"ad_id":0,"created_time":1447342026,"leadgen_id":55459717045641545,"page_id":516540199134611,"form_id":551111744595541}}]}]}';
    const payload = parseMeta(webhookRequest(body));
    if (payload.kind !== 'meta') throw new Error('expected meta');
    expect(payload.changes).toEqual([
      {
        leadgenId: '55459717045641545',
        pageId: '516540199134611',
        formId: '551111744595541',
        createdTime: '2015-11-12T15:27:06.000Z',
      },
    ]);
  });

  it('skips an unreadable change, reporting it, and processes the others once', () => {
    const body = JSON.stringify({
      object: 'page',
      entry: [
        {
          id: '1',
          changes: [
            { field: 'leadgen', value: { form_id: '2' } },
            { field: 'leadgen', value: { leadgen_id: '77' } },
            { field: 'leadgen', value: { leadgen_id: 77 } },
          ],
        },
      ],
    });
    const payload = parseMeta(webhookRequest(body));
    expect(payload).toEqual({
      kind: 'meta',
      changes: [{ leadgenId: '77' }],
      rejected: [{ field: 'entry.0.changes.0.value.leadgen_id', reason: expect.any(String) }],
    });
  });

  it('ignores deliveries without leadgen changes and rejects bodies that are not batches', () => {
    expect(parseMeta(webhookRequest('{"object":"page","entry":[{"id":"1","changes":[]}]}'))).toEqual({
      kind: 'ignored',
      reason: 'the delivery has no leadgen changes',
    });
    expect(() => parseMeta(webhookRequest('{"object":"page"}'))).toThrow(InvalidInputError);
  });
});

describe('Graph lead mapping', () => {
  it('maps field_data to fields intake understands', () => {
    const lead = MetaGraphLeadSchema.parse(GRAPH_LEAD);
    const fields = metaLeadFields(lead, {
      leadgenId: '130528934038370',
      formId: '129595594131704',
      adId: '6045931010736',
    });
    expect(fields).toEqual({
      email: 'tom_cook@acme.io',
      phone_number: '+447700900123',
      full_name: 'Tom Cook',
      company_name: 'Acme Ltd',
      'which_products_interest_you?': 'Dashboards, Alerts',
      form_id: '129595594131704',
      meta_ad_id: '6045931010736',
    });
    const result = normaliseSubmission(fields, {
      defaultCountry: 'GB',
      maxExtraFields: 25,
      now: new Date('2025-01-01T00:00:00Z'),
      provider: 'meta',
    });
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.profile).toMatchObject({
      email: 'tom_cook@acme.io',
      firstName: 'Tom',
      lastName: 'Cook',
      company: 'Acme Ltd',
      phone: '+447700900123',
    });
    expect(result.profile.extra).toMatchObject({ which_products_interest_you: 'Dashboards, Alerts' });
    expect(result.source).toMatchObject({ channel: 'paid_social', formId: '129595594131704' });
  });

  it('reads the work address first and renames the work phone', () => {
    const lead = MetaGraphLeadSchema.parse({
      id: '1',
      field_data: [
        { name: 'email', values: ['tom@gmail.com'] },
        { name: 'work_email', values: ['tom@acme.io'] },
        { name: 'work_phone_number', values: ['+442079460000'] },
        { name: 'job_title', values: [] },
      ],
    });
    expect(metaLeadFields(lead, { leadgenId: '1' })).toEqual({
      work_email: 'tom@acme.io',
      email: 'tom@gmail.com',
      telephone: '+442079460000',
    });
  });

  it('reads standard questions the advertiser gave custom keys as the fields they ask for', () => {
    const lead = MetaGraphLeadSchema.parse({
      id: '2',
      field_data: [
        { name: 'what_is_your_work_email?', values: ['priya@fabrikam.example'] },
        { name: 'mobile_for_callback', values: ['07911 123456'] },
        { name: 'your_first_name', values: ['Priya'] },
        { name: 'your_last_name', values: ['Raman'] },
        { name: 'what_is_your_budget?', values: ['50k'] },
      ],
    });
    const fields = metaLeadFields(lead, { leadgenId: '2' });
    expect(fields).toEqual({
      email: 'priya@fabrikam.example',
      phone: '07911 123456',
      firstName: 'Priya',
      lastName: 'Raman',
      'what_is_your_budget?': '50k',
    });
    const result = normaliseSubmission(fields, {
      defaultCountry: 'GB',
      maxExtraFields: 25,
      now: new Date('2025-01-01T00:00:00Z'),
      provider: 'meta',
    });
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.profile).toMatchObject({ phone: '+447911123456', phoneValid: true, firstName: 'Priya' });
    expect(result.profile.extra).toEqual({ what_is_your_budget: '50k' });
  });

  it('keeps a custom-key answer as it is when a standard question already gave that field', () => {
    const lead = MetaGraphLeadSchema.parse({
      id: '3',
      field_data: [
        { name: 'second_phone_if_any', values: ['+442079460001'] },
        { name: 'phone_number', values: ['+447700900123'] },
        { name: 'email', values: ['tom@acme.io'] },
      ],
    });
    expect(metaLeadFields(lead, { leadgenId: '3' })).toEqual({
      email: 'tom@acme.io',
      phone_number: '+447700900123',
      second_phone_if_any: '+442079460001',
    });
  });

  it('builds the Graph URL without the token, with appsecret_proof', () => {
    const proof = appSecretProof('EAAG-token', APP_SECRET);
    expect(proof).toBe(hmac(APP_SECRET, 'EAAG-token'));
    expect(metaGraphLeadUrl('v21.0', '130528934038370', proof)).toBe(
      `https://graph.facebook.com/v21.0/130528934038370?appsecret_proof=${proof}`,
    );
    expect(metaGraphLeadUrl('v21.0', '1')).toBe('https://graph.facebook.com/v21.0/1');
  });
});
