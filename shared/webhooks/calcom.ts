import { z } from 'zod';
import { CALCOM_OFFER_METADATA_KEY, INSTANT_OFFER_MARKER } from '../domain/booking';
import { InvalidInputError } from '../domain/errors';
import { verifyHmacHex } from '../domain/tokens';
import { verifySignatureHeader } from './authenticity';
import {
  bodyText,
  boundedId,
  definedOnly,
  hmacSha256,
  isoTime,
  isRecord,
  parseJsonObject,
  parseWith,
  type SignatureCheck,
  text,
  type WebhookAdapter,
  type WebhookPayload,
  type WebhookRequest,
} from './common';

/**
 * Cal.com webhooks. With a secret set on the webhook, Cal.com sends `X-Cal-Signature-256: <hex
 * HMAC-SHA256 of the raw body keyed with the secret>` (without a secret it sends a placeholder,
 * which never verifies). The body is `{ triggerEvent, createdAt, payload }`; bookings carry
 * `payload.uid`, `title`, `eventTitle`, `startTime`, `endTime`, `attendees[]` and the booking
 * form's `responses`. Cal.com's "Ping test" sends `triggerEvent: "PING"`.
 *
 * @see https://cal.com/docs/developing/guides/automation/webhooks
 */

export const CALCOM_SIGNATURE_HEADER = 'x-cal-signature-256';

/** Verifies `X-Cal-Signature-256` over the exact body bytes. */
export function verifyCalcom(request: WebhookRequest, secret: string): SignatureCheck {
  return verifySignatureHeader(request, secret, {
    header: CALCOM_SIGNATURE_HEADER,
    shownAs: 'X-Cal-Signature-256',
    format: /^(?:sha256=)?([0-9a-fA-F]{64})$/,
    matches: verifyHmacHex,
  });
}

const AttendeeSchema = z.looseObject({
  email: z.string().min(1),
  name: z.string().nullish(),
  firstName: z.string().nullish(),
  lastName: z.string().nullish(),
  timeZone: z.string().nullish(),
  phoneNumber: z.string().nullish(),
});

export const CalcomEventSchema = z.looseObject({
  triggerEvent: z.string(),
  createdAt: z.string().optional(),
  payload: z.looseObject({
    uid: z.string().nullish(),
    bookingId: z.union([z.number(), z.string()]).nullish(),
    title: z.string().nullish(),
    eventTitle: z.string().nullish(),
    type: z.string().nullish(),
    startTime: z.string().nullish(),
    endTime: z.string().nullish(),
    attendees: z.array(AttendeeSchema).min(1, 'at least one attendee is required'),
    responses: z.record(z.string(), z.unknown()).nullish(),
    cancellationReason: z.string().nullish(),
    cancelledBy: z.string().nullish(),
    /** What the booking link passed as `metadata[key]=value`. */
    metadata: z.record(z.string(), z.unknown()).nullish(),
  }),
});

const ACTIONS: Readonly<Record<string, { action: 'booked' | 'canceled'; rescheduled: boolean }>> = {
  BOOKING_CREATED: { action: 'booked', rescheduled: false },
  BOOKING_RESCHEDULED: { action: 'booked', rescheduled: true },
  BOOKING_CANCELLED: { action: 'canceled', rescheduled: false },
};

/** Booking-form responses that are not about the person, or are read from the attendee instead. */
const SKIPPED_RESPONSES = new Set(['name', 'email', 'guests', 'location', 'rescheduleReason']);
/** Cal.com's built-in booking-form fields, renamed to names intake recognises. */
const RESPONSE_RENAMES: Readonly<Record<string, string>> = {
  attendeePhoneNumber: 'phone',
  smsReminderNumber: 'mobile',
  notes: 'message',
};

/** Reads a Cal.com webhook. @throws InvalidInputError naming the bad field. */
export function parseCalcom(request: WebhookRequest): WebhookPayload {
  const raw = parseJsonObject(bodyText(request));
  const trigger = typeof raw.triggerEvent === 'string' ? raw.triggerEvent : undefined;
  const handled = trigger === undefined ? undefined : ACTIONS[trigger];
  if (trigger !== undefined && !handled) {
    return { kind: 'ignored', reason: `triggerEvent "${trigger}" is not a booking or cancellation` };
  }
  const event = parseWith(CalcomEventSchema, raw);
  const { action, rescheduled } = ACTIONS[event.triggerEvent] ?? { action: 'booked', rescheduled: false };
  const p = event.payload;
  const bookingId = text(p.uid) ?? text(p.bookingId);
  if (!bookingId) throw new InvalidInputError([{ field: 'payload.uid', reason: 'required: the booking id' }]);
  // The first attendee is the person who booked; the others are guests they invited.
  const [booker] = p.attendees;
  const invitee: Record<string, unknown> = definedOnly({
    email: booker?.email,
    first_name: booker?.firstName ?? undefined,
    last_name: booker?.lastName ?? undefined,
    full_name: booker?.name ?? undefined,
    timezone: booker?.timeZone ?? undefined,
    phone: booker?.phoneNumber ?? undefined,
  });
  for (const [key, response] of Object.entries(p.responses ?? {})) {
    if (SKIPPED_RESPONSES.has(key)) continue;
    const value = responseValue(response);
    const field = RESPONSE_RENAMES[key] ?? key;
    if (value !== undefined && !(field in invitee)) invitee[field] = value;
  }
  return {
    kind: 'booking',
    booking: {
      action,
      bookingId: boundedId(bookingId),
      invitee,
      ...(isRecord(p.metadata) && text(p.metadata[CALCOM_OFFER_METADATA_KEY]) === INSTANT_OFFER_MARKER
        ? { instantOffer: true }
        : {}),
      ...definedOnly({ occurredAt: isoTime(event.createdAt) }),
      meeting: definedOnly({
        name: text(p.eventTitle) ?? text(p.title) ?? text(p.type),
        startTime: isoTime(p.startTime),
        endTime: isoTime(p.endTime),
        rescheduled,
        reason: action === 'canceled' ? text(p.cancellationReason) : undefined,
        canceledBy: action === 'canceled' ? text(p.cancelledBy) : undefined,
      }),
    },
  };
}

/** A response is `{ label, value }` (newer payloads) or the bare value; lists are joined. */
function responseValue(response: unknown): string | undefined {
  const value = isRecord(response) && 'value' in response ? response.value : response;
  if (Array.isArray(value)) {
    const all = value.map(text).filter((v) => v !== undefined);
    return all.length > 0 ? all.join(', ') : undefined;
  }
  return text(value);
}

/** The calcom adapter, listed once in the registry (`index.ts`). */
export const calcomAdapter = {
  provider: 'calcom',
  configKey: 'calcom',
  secret: 'calcomSecret',
  bindsBody: true,
  verify: (request, secret) => verifyCalcom(request, secret),
  parse: (request) => parseCalcom(request),
  sign: (body, secret) => ({ body, headers: { [CALCOM_SIGNATURE_HEADER]: hmacSha256(secret, body, 'hex') } }),
} as const satisfies WebhookAdapter;
