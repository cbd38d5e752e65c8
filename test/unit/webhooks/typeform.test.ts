import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../shared/domain/errors';
import { normaliseSubmission } from '../../../shared/domain/normalise';
import { parseTypeform, verifyTypeform } from '../../../shared/webhooks/typeform';
import { hmac, webhookRequest } from './request';

const SECRET = 'tf-webhook-secret-northwind';

/** Modelled on Typeform's documented example payload (form_response with definition, answers, hidden). */
const EVENT = {
  event_id: 'LtWXD3crgy',
  event_type: 'form_response',
  form_response: {
    form_id: 'lT4Z3j',
    token: 'a3a12ec67a1365927098a606107fac15',
    submitted_at: '2018-01-18T18:17:02Z',
    landed_at: '2018-01-18T18:07:02Z',
    calculated: { score: 9 },
    hidden: { utm_source: 'newsletter', utm_campaign: 'spring-launch', user_id: 'abc123456' },
    definition: {
      id: 'lT4Z3j',
      title: 'Webhooks example',
      fields: [
        {
          id: 'DlXFaesGBpoF',
          title: "What's your first name?",
          type: 'short_text',
          ref: 'ecbb3121-1bc9-42f0-ae29-29aeee5d39d3',
        },
        {
          id: 'SMEUb7VJz92Q',
          title: 'Your work email',
          type: 'email',
          ref: '31c5058f-715a-402a-b5aa-5183d9963484',
        },
        { id: 'JwWggjAKtOkA', title: 'Which company do you work for?', type: 'short_text', ref: 'company' },
        {
          id: 'pn48RmPazVdM',
          title: 'How many people work there?',
          type: 'multiple_choice',
          ref: 'company_size',
        },
        {
          id: 'k6TP9oLGgHjl',
          title: 'Which features matter most?',
          type: 'multiple_choice',
          ref: 'a1b2c3d4-1111-2222-3333-444455556666',
        },
        {
          id: 'Q7M2k5fFhKzr',
          title: 'Can we send you product news?',
          type: 'yes_no',
          ref: 'marketing_consent',
        },
        { id: 'gFFf3xAkJKsr', title: 'Phone', type: 'phone_number', ref: '01HQ3Z5Y2K8M7N6P5Q4R3S2T1V' },
        {
          id: 'Fdf5cJT9sJ0f',
          title: 'How likely are you to buy this quarter (1-10)?',
          type: 'number',
          ref: 'c5d6e7f8-aaaa-bbbb-cccc-ddddeeeeffff',
        },
      ],
    },
    answers: [
      {
        type: 'text',
        text: 'Laura',
        field: { id: 'DlXFaesGBpoF', type: 'short_text', ref: 'ecbb3121-1bc9-42f0-ae29-29aeee5d39d3' },
      },
      {
        type: 'email',
        email: 'laura@acme.io',
        field: { id: 'SMEUb7VJz92Q', type: 'email', ref: '31c5058f-715a-402a-b5aa-5183d9963484' },
      },
      { type: 'text', text: 'Acme GmbH', field: { id: 'JwWggjAKtOkA', type: 'short_text', ref: 'company' } },
      {
        type: 'choice',
        choice: { label: '201-500' },
        field: { id: 'pn48RmPazVdM', type: 'multiple_choice', ref: 'company_size' },
      },
      {
        type: 'choices',
        choices: { labels: ['Funnels', 'Retention'], other: 'SQL access' },
        field: { id: 'k6TP9oLGgHjl', type: 'multiple_choice', ref: 'a1b2c3d4-1111-2222-3333-444455556666' },
      },
      {
        type: 'boolean',
        boolean: true,
        field: { id: 'Q7M2k5fFhKzr', type: 'yes_no', ref: 'marketing_consent' },
      },
      {
        type: 'phone_number',
        phone_number: '+4915112345678',
        field: { id: 'gFFf3xAkJKsr', type: 'phone_number', ref: '01HQ3Z5Y2K8M7N6P5Q4R3S2T1V' },
      },
      {
        type: 'number',
        number: 8,
        field: { id: 'Fdf5cJT9sJ0f', type: 'number', ref: 'c5d6e7f8-aaaa-bbbb-cccc-ddddeeeeffff' },
      },
    ],
  },
};

function signed(body: string, secret = SECRET) {
  return webhookRequest(body, { 'Typeform-Signature': `sha256=${hmac(secret, body, 'base64')}` });
}

describe('verifyTypeform', () => {
  const body = JSON.stringify(EVENT);

  it('accepts a base64 signature over the exact body', () => {
    expect(verifyTypeform(signed(body), SECRET)).toEqual({ ok: true });
  });

  it('refuses a missing, malformed, wrong-secret or tampered signature', () => {
    expect(verifyTypeform(webhookRequest(body), SECRET)).toEqual({
      ok: false,
      reason: 'missing Typeform-Signature header',
    });
    expect(
      verifyTypeform(
        webhookRequest(body, { 'typeform-signature': `sha1=${hmac(SECRET, body, 'base64')}` }),
        SECRET,
      ),
    ).toEqual({ ok: false, reason: 'malformed Typeform-Signature header' });
    expect(verifyTypeform(signed(body, 'old-secret'), SECRET)).toEqual({
      ok: false,
      reason: 'signature does not match the request body',
    });
    const tampered = webhookRequest(body.replace('laura@acme.io', 'mallory@evil.io'), {
      'typeform-signature': `sha256=${hmac(SECRET, body, 'base64')}`,
    });
    expect(verifyTypeform(tampered, SECRET).ok).toBe(false);
    // A hex digest in place of base64 must not pass either.
    expect(
      verifyTypeform(webhookRequest(body, { 'typeform-signature': `sha256=${hmac(SECRET, body)}` }), SECRET)
        .ok,
    ).toBe(false);
  });
});

describe('parseTypeform', () => {
  it('names answers by type, readable ref or question title, then adds hidden fields', () => {
    const payload = parseTypeform(webhookRequest(JSON.stringify(EVENT)));
    expect(payload).toEqual({
      kind: 'leads',
      leads: [
        {
          externalId: 'a3a12ec67a1365927098a606107fac15',
          fields: {
            'first name': 'Laura',
            email: 'laura@acme.io',
            company: 'Acme GmbH',
            company_size: '201-500',
            'Which features matter most?': 'Funnels, Retention, SQL access',
            marketing_consent: true,
            phone: '+4915112345678',
            'How likely are you to buy this quarter (1-10)?': '8',
            utm_source: 'newsletter',
            utm_campaign: 'spring-launch',
            user_id: 'abc123456',
            form_id: 'lT4Z3j',
            typeform_score: 9,
          },
        },
      ],
    });
  });

  it('produces a normalisable lead with consent and attribution', () => {
    const payload = parseTypeform(webhookRequest(JSON.stringify(EVENT)));
    if (payload.kind !== 'leads') throw new Error('expected leads');
    const result = normaliseSubmission(payload.leads[0]!.fields, {
      defaultCountry: 'GB',
      maxExtraFields: 25,
      now: new Date('2025-01-01T00:00:00Z'),
      provider: 'typeform',
    });
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.profile).toMatchObject({
      email: 'laura@acme.io',
      firstName: 'Laura',
      company: 'Acme GmbH',
      companySize: 201,
      phone: '+4915112345678',
      phoneCountry: 'DE',
    });
    expect(result.consent?.marketing).toBe(true);
    expect(result.source).toMatchObject({
      channel: 'email',
      formId: 'lT4Z3j',
      utm: { source: 'newsletter', campaign: 'spring-launch' },
    });
    expect(result.profile.extra).toMatchObject({
      which_features_matter_most: 'Funnels, Retention, SQL access',
      user_id: 'abc123456',
    });
  });

  it('lets an answer win over a hidden field of the same name', () => {
    const event = structuredClone(EVENT);
    event.form_response.hidden = { ...event.form_response.hidden, email: 'prefilled@old.example' } as never;
    const payload = parseTypeform(webhookRequest(JSON.stringify(event)));
    if (payload.kind !== 'leads') throw new Error('expected leads');
    expect(payload.leads[0]!.fields.email).toBe('laura@acme.io');
  });

  it('ignores events that are not submitted responses', () => {
    expect(
      parseTypeform(webhookRequest(JSON.stringify({ ...EVENT, event_type: 'form_response_partial' }))),
    ).toEqual({
      kind: 'ignored',
      reason: 'event_type "form_response_partial" is not a submitted form',
    });
  });

  it('names the missing field', () => {
    try {
      parseTypeform(
        webhookRequest(JSON.stringify({ event_type: 'form_response', form_response: { answers: [] } })),
      );
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).problems.map((p) => p.field)).toEqual(['form_response.token']);
    }
    expect(() => parseTypeform(webhookRequest('{"event_type":"form_response"}'))).toThrow(/form_response/);
  });
});
