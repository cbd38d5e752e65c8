import { z } from 'zod';
import { INSTANT_OFFER_MARKER } from '../domain/booking';
import { verifyHmacHex } from '../domain/tokens';
import {
  bodyText,
  boundedId,
  definedOnly,
  hmacSha256,
  isoTime,
  parseJsonObject,
  parseWith,
  type SignatureCheck,
  text,
  type WebhookAdapter,
  type WebhookPayload,
  type WebhookRequest,
} from './common';

/**
 * Calendly webhook subscriptions (API v2), events `invitee.created` and `invitee.canceled`.
 * Calendly signs with the subscription's signing key: `Calendly-Webhook-Signature:
 * t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. The timestamp bounds replays: a
 * delivery signed more than {@link CALENDLY_TOLERANCE_SECONDS} away from our clock is refused
 * (Calendly's own example uses three minutes; five leaves room for clock skew and retries).
 * A reschedule arrives as `invitee.canceled` (with `rescheduled: true`) plus `invitee.created`.
 *
 * @see https://developer.calendly.com/api-docs/overview/webhooks/webhook-signatures
 */

export const CALENDLY_SIGNATURE_HEADER = 'calendly-webhook-signature';
/** Largest accepted distance between the signature's timestamp and now. */
export const CALENDLY_TOLERANCE_SECONDS = 5 * 60;

/** Verifies `Calendly-Webhook-Signature` (signature over the exact bytes, and freshness). */
export function verifyCalendly(request: WebhookRequest, signingKey: string, now: Date): SignatureCheck {
  const header = request.headers[CALENDLY_SIGNATURE_HEADER];
  if (!header) return { ok: false, reason: 'missing Calendly-Webhook-Signature header' };
  let t: string | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const [key, ...rest] = part.trim().split('=');
    const value = rest.join('=');
    if (key === 't') t = value;
    else if (key === 'v1' && value) signatures.push(value);
  }
  if (!t || !/^\d{1,12}$/.test(t) || signatures.length === 0) {
    return { ok: false, reason: 'malformed Calendly-Webhook-Signature header' };
  }
  if (Math.abs(now.getTime() / 1000 - Number(t)) > CALENDLY_TOLERANCE_SECONDS) {
    return { ok: false, reason: 'signature timestamp is outside the 5-minute window' };
  }
  const signed = Buffer.concat([Buffer.from(`${t}.`, 'utf8'), request.body]);
  return signatures.some((signature) => verifyHmacHex(signed, signingKey, signature))
    ? { ok: true }
    : { ok: false, reason: 'signature does not match the request body' };
}

const nullableText = z.string().nullish();

export const CalendlyEventSchema = z.looseObject({
  event: z.string(),
  created_at: z.string().optional(),
  payload: z.looseObject({
    uri: z.string().min(1),
    email: z.string().min(1),
    name: nullableText,
    first_name: nullableText,
    last_name: nullableText,
    timezone: nullableText,
    text_reminder_number: nullableText,
    created_at: nullableText,
    updated_at: nullableText,
    rescheduled: z.boolean().nullish(),
    old_invitee: nullableText,
    questions_and_answers: z.array(z.looseObject({ question: z.string(), answer: z.unknown() })).nullish(),
    tracking: z.record(z.string(), z.unknown()).nullish(),
    scheduled_event: z
      .looseObject({
        name: nullableText,
        start_time: nullableText,
        end_time: nullableText,
      })
      .nullish(),
    cancellation: z
      .looseObject({
        reason: nullableText,
        canceler_type: nullableText,
        created_at: nullableText,
      })
      .nullish(),
  }),
});

const HANDLED = new Set(['invitee.created', 'invitee.canceled']);
const TRACKING_FIELDS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'];

/** Reads a Calendly webhook. @throws InvalidInputError naming the bad field. */
export function parseCalendly(request: WebhookRequest): WebhookPayload {
  const raw = parseJsonObject(bodyText(request));
  if (typeof raw.event === 'string' && !HANDLED.has(raw.event)) {
    return { kind: 'ignored', reason: `event "${raw.event}" is not a booking or cancellation` };
  }
  const event = parseWith(CalendlyEventSchema, raw);
  const p = event.payload;
  const canceled = event.event === 'invitee.canceled';

  const invitee: Record<string, unknown> = definedOnly({
    email: p.email,
    first_name: p.first_name ?? undefined,
    last_name: p.last_name ?? undefined,
    full_name: p.name ?? undefined,
    phone: p.text_reminder_number ?? undefined,
    timezone: p.timezone ?? undefined,
  });
  for (const key of TRACKING_FIELDS) {
    const value = text(p.tracking?.[key]);
    if (value !== undefined) invitee[key] = value;
  }
  for (const qa of p.questions_and_answers ?? []) {
    const answer = text(qa.answer);
    if (answer !== undefined && !(qa.question in invitee)) invitee[qa.question] = answer;
  }

  return {
    kind: 'booking',
    booking: {
      action: canceled ? 'canceled' : 'booked',
      bookingId: boundedId(p.uri),
      invitee,
      ...(text(p.tracking?.utm_source) === INSTANT_OFFER_MARKER ? { instantOffer: true } : {}),
      ...definedOnly({
        occurredAt: canceled
          ? isoTime(p.cancellation?.created_at ?? p.updated_at ?? event.created_at)
          : isoTime(p.created_at ?? event.created_at),
      }),
      meeting: definedOnly({
        name: text(p.scheduled_event?.name),
        startTime: isoTime(p.scheduled_event?.start_time),
        endTime: isoTime(p.scheduled_event?.end_time),
        rescheduled: canceled ? p.rescheduled === true : Boolean(p.old_invitee),
        reason: canceled ? text(p.cancellation?.reason) : undefined,
        canceledBy: canceled ? text(p.cancellation?.canceler_type) : undefined,
      }),
    },
  };
}

/** The calendly adapter, listed once in the registry (`index.ts`). */
export const calendlyAdapter = {
  provider: 'calendly',
  configKey: 'calendly',
  secret: 'calendlySigningKey',
  bindsBody: true,
  verify: (request, secret, now) => verifyCalendly(request, secret, now),
  parse: (request) => parseCalendly(request),
  sign: (body, secret, now) => {
    const t = Math.floor(now.getTime() / 1000);
    return {
      body,
      headers: { [CALENDLY_SIGNATURE_HEADER]: `t=${t},v1=${hmacSha256(secret, `${t}.${body}`, 'hex')}` },
    };
  },
} as const satisfies WebhookAdapter;
