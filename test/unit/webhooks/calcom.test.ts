import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../shared/domain/errors';
import { parseCalcom, verifyCalcom } from '../../../shared/webhooks/calcom';
import { hmac, webhookRequest } from './request';

const SECRET = 'calcom-webhook-secret';

/** Shape of Cal.com's documented BOOKING_CREATED webhook payload. */
const CREATED = {
  triggerEvent: 'BOOKING_CREATED',
  createdAt: '2025-03-04T09:30:00.538Z',
  payload: {
    type: '60min',
    title: '60min between Pro Example and John Doe',
    description: '',
    additionalNotes: '',
    customInputs: {},
    startTime: '2025-03-10T09:30:00Z',
    endTime: '2025-03-10T10:30:00Z',
    organizer: {
      id: 5,
      name: 'Pro Example',
      email: 'pro@example.com',
      username: 'pro',
      timeZone: 'Europe/London',
      language: { locale: 'en' },
    },
    responses: {
      name: { label: 'your_name', value: 'John Doe' },
      email: { label: 'email_address', value: 'john.doe@umbrella.co.uk' },
      attendeePhoneNumber: { label: 'phone_number', value: '+44 20 7946 0991' },
      company: { label: 'Company', value: 'Umbrella' },
      notes: { label: 'additional_notes', value: 'Interested in the enterprise plan' },
      guests: { label: 'guests', value: ['cfo@umbrella.co.uk'] },
      location: { label: 'location', value: { optionValue: '', value: 'integrations:daily' } },
    },
    userFieldsResponses: {},
    attendees: [
      {
        email: 'john.doe@umbrella.co.uk',
        name: 'John Doe',
        timeZone: 'Europe/London',
        language: { locale: 'en' },
      },
      { email: 'cfo@umbrella.co.uk', name: 'Guest', timeZone: 'Europe/London', language: { locale: 'en' } },
    ],
    location: 'integrations:daily',
    eventTypeId: 7,
    uid: 'bFJeNb2uX8ANpT3JL5EfXw',
    eventTitle: '60min',
    length: 60,
    bookingId: 91,
    status: 'ACCEPTED',
  },
};

function signed(body: string, secret = SECRET) {
  return webhookRequest(body, { 'X-Cal-Signature-256': hmac(secret, body) });
}

describe('verifyCalcom', () => {
  const body = JSON.stringify(CREATED);

  it('accepts a hex signature over the exact body (with or without a sha256= prefix)', () => {
    expect(verifyCalcom(signed(body), SECRET)).toEqual({ ok: true });
    expect(
      verifyCalcom(webhookRequest(body, { 'x-cal-signature-256': `sha256=${hmac(SECRET, body)}` }), SECRET)
        .ok,
    ).toBe(true);
  });

  it('refuses a missing, placeholder, wrong-secret or tampered signature', () => {
    expect(verifyCalcom(webhookRequest(body), SECRET)).toEqual({
      ok: false,
      reason: 'missing X-Cal-Signature-256 header',
    });
    expect(
      verifyCalcom(webhookRequest(body, { 'x-cal-signature-256': 'no-secret-provided' }), SECRET),
    ).toEqual({
      ok: false,
      reason: 'malformed X-Cal-Signature-256 header',
    });
    expect(verifyCalcom(signed(body, 'other'), SECRET)).toEqual({
      ok: false,
      reason: 'signature does not match the request body',
    });
    const tampered = webhookRequest(body.replace('2025-03-10T09:30:00Z', '2025-03-11T09:30:00Z'), {
      'x-cal-signature-256': hmac(SECRET, body),
    });
    expect(verifyCalcom(tampered, SECRET).ok).toBe(false);
  });
});

describe('parseCalcom', () => {
  it('reads BOOKING_CREATED: the first attendee is the lead, form responses add fields', () => {
    expect(parseCalcom(webhookRequest(JSON.stringify(CREATED)))).toEqual({
      kind: 'booking',
      booking: {
        action: 'booked',
        bookingId: 'bFJeNb2uX8ANpT3JL5EfXw',
        occurredAt: '2025-03-04T09:30:00.538Z',
        invitee: {
          email: 'john.doe@umbrella.co.uk',
          full_name: 'John Doe',
          timezone: 'Europe/London',
          phone: '+44 20 7946 0991',
          company: 'Umbrella',
          message: 'Interested in the enterprise plan',
        },
        meeting: {
          name: '60min',
          startTime: '2025-03-10T09:30:00.000Z',
          endTime: '2025-03-10T10:30:00.000Z',
          rescheduled: false,
        },
      },
    });
  });

  it('reads BOOKING_RESCHEDULED as a new booking and BOOKING_CANCELLED with its reason', () => {
    const rescheduled = parseCalcom(
      webhookRequest(JSON.stringify({ ...CREATED, triggerEvent: 'BOOKING_RESCHEDULED' })),
    );
    if (rescheduled.kind !== 'booking') throw new Error('expected booking');
    expect(rescheduled.booking).toMatchObject({ action: 'booked', meeting: { rescheduled: true } });

    const cancelled = parseCalcom(
      webhookRequest(
        JSON.stringify({
          ...CREATED,
          triggerEvent: 'BOOKING_CANCELLED',
          payload: { ...CREATED.payload, cancellationReason: 'Budget frozen', status: 'CANCELLED' },
        }),
      ),
    );
    if (cancelled.kind !== 'booking') throw new Error('expected booking');
    expect(cancelled.booking).toMatchObject({
      action: 'canceled',
      bookingId: 'bFJeNb2uX8ANpT3JL5EfXw',
      meeting: { name: '60min', reason: 'Budget frozen' },
    });
  });

  it('ignores the ping test and other triggers', () => {
    expect(
      parseCalcom(
        webhookRequest(
          JSON.stringify({ triggerEvent: 'PING', createdAt: '2025-01-01T00:00:00Z', payload: {} }),
        ),
      ),
    ).toEqual({
      kind: 'ignored',
      reason: 'triggerEvent "PING" is not a booking or cancellation',
    });
    expect(
      parseCalcom(webhookRequest(JSON.stringify({ ...CREATED, triggerEvent: 'MEETING_ENDED' }))).kind,
    ).toBe('ignored');
  });

  it('names missing attendees and a missing booking id', () => {
    try {
      parseCalcom(
        webhookRequest(JSON.stringify({ ...CREATED, payload: { ...CREATED.payload, attendees: [] } })),
      );
      expect.unreachable();
    } catch (error) {
      expect((error as InvalidInputError).problems.map((p) => p.field)).toEqual(['payload.attendees']);
    }
    const { uid: _uid, bookingId: _id, ...withoutIds } = CREATED.payload;
    try {
      parseCalcom(webhookRequest(JSON.stringify({ ...CREATED, payload: withoutIds })));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).problems.map((p) => p.field)).toEqual(['payload.uid']);
    }
  });
});
