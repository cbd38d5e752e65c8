import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../shared/domain/errors';
import { parseCalendly, verifyCalendly } from '../../../shared/webhooks/calendly';
import { hmac, webhookRequest } from './request';

const KEY = 'calendly-signing-key-northwind';
const NOW = new Date('2025-03-04T10:00:00Z');
const T = Math.floor(NOW.getTime() / 1000);

/** Shape of Calendly's API v2 `invitee.created` webhook payload. */
const CREATED = {
  created_at: '2025-03-04T09:59:58.000000Z',
  created_by: 'https://api.calendly.com/users/AAAAAAAAAAAAAAAA',
  event: 'invitee.created',
  payload: {
    cancel_url: 'https://calendly.com/cancellations/AAAAAAAAAAAAAAAA',
    created_at: '2025-03-04T09:59:57.327602Z',
    email: 'Dana.Whitfield@initech.com',
    event: 'https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2',
    first_name: 'Dana',
    last_name: 'Whitfield',
    name: 'Dana Whitfield',
    new_invitee: null,
    old_invitee: null,
    questions_and_answers: [
      { answer: 'Initech', position: 0, question: 'Company' },
      { answer: 'Replace our BI tool before Q3', position: 1, question: 'What would you like to discuss?' },
    ],
    reschedule_url: 'https://calendly.com/reschedulings/AAAAAAAAAAAAAAAA',
    rescheduled: false,
    status: 'active',
    text_reminder_number: '+1 312 555 0188',
    timezone: 'America/Chicago',
    tracking: {
      utm_campaign: 'q1-demo',
      utm_source: 'google',
      utm_medium: 'cpc',
      utm_content: null,
      utm_term: null,
      salesforce_uuid: null,
    },
    updated_at: '2025-03-04T09:59:57.327602Z',
    uri: 'https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2/invitees/AAAAAAAAAAAAAAAA',
    scheduled_event: {
      uri: 'https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2',
      name: '30 Minute Product Demo',
      status: 'active',
      start_time: '2025-03-06T15:00:00.000000Z',
      end_time: '2025-03-06T15:30:00.000000Z',
      event_type: 'https://api.calendly.com/event_types/GBGBDCAADAEDCRZ2',
    },
  },
};

function signed(body: string, t = T, key = KEY) {
  return webhookRequest(body, { 'Calendly-Webhook-Signature': `t=${t},v1=${hmac(key, `${t}.${body}`)}` });
}

describe('verifyCalendly', () => {
  const body = JSON.stringify(CREATED);

  it('accepts a fresh signature over "<t>.<body>"', () => {
    expect(verifyCalendly(signed(body), KEY, NOW)).toEqual({ ok: true });
    expect(verifyCalendly(signed(body, T - 299), KEY, NOW).ok).toBe(true);
  });

  it('refuses stale or future timestamps (replays)', () => {
    expect(verifyCalendly(signed(body, T - 301), KEY, NOW)).toEqual({
      ok: false,
      reason: 'signature timestamp is outside the 5-minute window',
    });
    expect(verifyCalendly(signed(body, T + 600), KEY, NOW).ok).toBe(false);
  });

  it('refuses a missing, malformed, wrong-key or tampered signature', () => {
    expect(verifyCalendly(webhookRequest(body), KEY, NOW)).toEqual({
      ok: false,
      reason: 'missing Calendly-Webhook-Signature header',
    });
    expect(
      verifyCalendly(
        webhookRequest(body, { 'calendly-webhook-signature': `v1=${hmac(KEY, body)}` }),
        KEY,
        NOW,
      ),
    ).toEqual({
      ok: false,
      reason: 'malformed Calendly-Webhook-Signature header',
    });
    expect(verifyCalendly(signed(body, T, 'other-key'), KEY, NOW)).toEqual({
      ok: false,
      reason: 'signature does not match the request body',
    });
    // The timestamp is part of what is signed: changing it breaks the signature.
    const moved = webhookRequest(body, {
      'calendly-webhook-signature': `t=${T - 1},v1=${hmac(KEY, `${T}.${body}`)}`,
    });
    expect(verifyCalendly(moved, KEY, NOW).ok).toBe(false);
    const tampered = webhookRequest(body.replace('initech.com', 'evil.io'), {
      'calendly-webhook-signature': `t=${T},v1=${hmac(KEY, `${T}.${body}`)}`,
    });
    expect(verifyCalendly(tampered, KEY, NOW).ok).toBe(false);
  });
});

describe('parseCalendly', () => {
  it('reads invitee.created as a booking with the invitee as lead fields', () => {
    expect(parseCalendly(webhookRequest(JSON.stringify(CREATED)))).toEqual({
      kind: 'booking',
      booking: {
        action: 'booked',
        bookingId: CREATED.payload.uri,
        occurredAt: '2025-03-04T09:59:57.327Z',
        invitee: {
          email: 'Dana.Whitfield@initech.com',
          first_name: 'Dana',
          last_name: 'Whitfield',
          full_name: 'Dana Whitfield',
          phone: '+1 312 555 0188',
          timezone: 'America/Chicago',
          utm_source: 'google',
          utm_medium: 'cpc',
          utm_campaign: 'q1-demo',
          Company: 'Initech',
          'What would you like to discuss?': 'Replace our BI tool before Q3',
        },
        meeting: {
          name: '30 Minute Product Demo',
          startTime: '2025-03-06T15:00:00.000Z',
          endTime: '2025-03-06T15:30:00.000Z',
          rescheduled: false,
        },
      },
    });
  });

  it('reads invitee.canceled with the reason and who cancelled', () => {
    const canceled = structuredClone(CREATED) as Record<string, any>;
    canceled.event = 'invitee.canceled';
    canceled.payload.status = 'canceled';
    canceled.payload.rescheduled = true;
    canceled.payload.updated_at = '2025-03-05T08:00:00.000000Z';
    canceled.payload.cancellation = {
      canceled_by: 'Dana Whitfield',
      reason: 'Moving it to next week',
      canceler_type: 'invitee',
      created_at: '2025-03-05T08:00:00.000000Z',
    };
    const payload = parseCalendly(webhookRequest(JSON.stringify(canceled)));
    if (payload.kind !== 'booking') throw new Error('expected booking');
    expect(payload.booking).toMatchObject({
      action: 'canceled',
      bookingId: CREATED.payload.uri,
      occurredAt: '2025-03-05T08:00:00.000Z',
      meeting: {
        name: '30 Minute Product Demo',
        rescheduled: true,
        reason: 'Moving it to next week',
        canceledBy: 'invitee',
      },
    });
  });

  it('ignores other events and names a missing invitee email', () => {
    expect(
      parseCalendly(webhookRequest(JSON.stringify({ event: 'invitee_no_show.created', payload: {} }))),
    ).toEqual({
      kind: 'ignored',
      reason: 'event "invitee_no_show.created" is not a booking or cancellation',
    });
    const noEmail = structuredClone(CREATED) as Record<string, any>;
    delete noEmail.payload.email;
    try {
      parseCalendly(webhookRequest(JSON.stringify(noEmail)));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).problems.map((p) => p.field)).toEqual(['payload.email']);
    }
  });
});
