import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { ClientConfig } from '../config/schema';
import { InvalidInputError } from '../domain/errors';
import { fieldProblems, parseInput } from '../domain/input';

/**
 * Shared vocabulary of the webhook adapters: the request they read, what they turn it into, and
 * the small pure helpers every provider needs (constant-time comparison, JSON that keeps big ids
 * exact, bounded provider ids). No AWS imports: adapters are pure and tested on their own.
 */

/** A webhook request as the adapters see it: the exact bytes that were signed, plus headers. */
export interface WebhookRequest {
  readonly method: string;
  /** Header names lower-case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, string | undefined>>;
  /** The body exactly as received (base64 already decoded), so signatures are checked over the signed bytes. */
  readonly body: Uint8Array;
  /** Media type without parameters, lower-case (`application/json`). */
  readonly contentType: string;
}

/** Outcome of an authenticity check; `reason` is short and safe to show to the caller. */
export type SignatureCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** A lead delivered by a provider, ready for intake. */
export interface WebhookLead {
  /**
   * Raw fields under names `normaliseSubmission` understands (`email`, `full_name`, `company`,
   * `utm_source`, `form_id`, `landing_page`...); anything else lands in the lead's `extra`.
   */
  readonly fields: Record<string, unknown>;
  /** The provider's id of this lead (at most 100 characters); a redelivery with the same id is a no-op. */
  readonly externalId: string;
  /** Provider test leads are stored flagged and never alerted or emailed. */
  readonly isTest?: boolean;
}

/** One `leadgen` change of a Meta webhook: a pointer to a lead whose fields live in the Graph API. */
export interface MetaLeadChange {
  readonly leadgenId: string;
  readonly formId?: string;
  readonly pageId?: string;
  readonly adId?: string;
  readonly adgroupId?: string;
  /** When the lead was submitted (ISO), from `created_time`. */
  readonly createdTime?: string;
}

/** A created LinkedIn lead a notification points at (see `linkedin.ts`). */
export interface LinkedInLeadNoticeRef {
  readonly responseId: string;
  readonly formUrn?: string;
  readonly formId?: string;
  readonly leadType?: string;
  readonly occurredAt?: string;
}

/** A meeting booked or cancelled through a scheduling tool (Calendly, Cal.com). */
export interface BookingEvent {
  readonly action: 'booked' | 'canceled';
  /** Stable id of the booking at the provider (Calendly invitee URI, Cal.com booking uid). */
  readonly bookingId: string;
  /** The person who booked, as lead fields (email, names, phone, answers, utm...). */
  readonly invitee: Record<string, unknown>;
  /** When the booking or cancellation happened according to the provider (ISO). */
  readonly occurredAt?: string;
  /** Booked through the link the thank-you page offered (its marker came back; see `domain/booking.ts`). */
  readonly instantOffer?: boolean;
  readonly meeting: {
    /** Event type name or booking title ("30 Minute Demo"). */
    readonly name?: string;
    readonly startTime?: string;
    readonly endTime?: string;
    /** The booking replaces (or, when cancelled, was replaced by) another one. */
    readonly rescheduled?: boolean;
    /** Cancellation reason as typed by whoever cancelled. */
    readonly reason?: string;
    /** `invitee` or `host`, when the provider says. */
    readonly canceledBy?: string;
  };
}

/** What an adapter made of a verified request. */
export type WebhookPayload =
  | { readonly kind: 'leads'; readonly leads: readonly WebhookLead[] }
  | {
      readonly kind: 'meta';
      readonly changes: readonly MetaLeadChange[];
      /** Changes that could not be read, one problem each (they are skipped, the rest proceed). */
      readonly rejected: ReadonlyArray<{ readonly field: string; readonly reason: string }>;
    }
  | { readonly kind: 'booking'; readonly booking: BookingEvent }
  /** LinkedIn Lead Sync: pointers to leads whose answers live in LinkedIn's API. */
  | { readonly kind: 'linkedin'; readonly leads: readonly LinkedInLeadNoticeRef[] }
  /** A well-formed event this pipeline does not act on (a ping, a no-show, a partial response). */
  | { readonly kind: 'ignored'; readonly reason: string };

/** The body as UTF-8 text (for parsing; signatures are checked over {@link WebhookRequest.body}). */
export function bodyText(request: WebhookRequest): string {
  return Buffer.from(request.body).toString('utf8');
}

/**
 * Compares a secret given by the caller with the expected one in constant time. Both sides are
 * hashed first, so neither the content nor the length of the secret leaks through timing.
 */
export function safeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** SHA-256 of text or bytes, hex. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Longest provider id stored as is (the `source.externalId` bound of the lead model). */
export const MAX_EXTERNAL_ID_LENGTH = 100;

/**
 * A provider id safe to store: trimmed, and replaced by `sha256:<hex>` when it is longer than
 * {@link MAX_EXTERNAL_ID_LENGTH} or contains control characters, so a long or odd id still
 * deduplicates (same id, same hash) without breaking the stored lead's schema.
 */
export function boundedId(raw: string): string {
  const id = raw.trim();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (id.length > 0 && id.length <= MAX_EXTERNAL_ID_LENGTH && !/[\u0000-\u001f\u007f]/.test(id)) return id;
  return `sha256:${sha256Hex(id)}`;
}

/**
 * Parses a JSON object body. Integers beyond 2^53 (Meta and Google ids sent as JSON numbers) are
 * kept as their exact digits rather than rounded, so an id never silently changes.
 * @throws InvalidInputError naming `field` when the text is not a JSON object.
 */
export function parseJsonObject(text: string, field = 'body'): Record<string, unknown> {
  if (text.trim() === '') throw new InvalidInputError([{ field, reason: 'the request body is empty' }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, keepBigIntegers);
  } catch (error) {
    throw new InvalidInputError([{ field, reason: `not valid JSON (${(error as Error).message})` }]);
  }
  if (!isRecord(parsed)) throw new InvalidInputError([{ field, reason: 'expected a JSON object' }]);
  return parsed;
}

/** JSON.parse reviver: Node 22 passes the source text, which holds the exact digits of a big integer. */
function keepBigIntegers(
  this: unknown,
  _key: string,
  value: unknown,
  context?: { source?: string },
): unknown {
  if (
    typeof value === 'number' &&
    !Number.isSafeInteger(value) &&
    context?.source &&
    /^-?\d+$/.test(context.source)
  ) {
    return context.source;
  }
  return value;
}

/** A provider id sent as a JSON string or number (Google and Meta use both), as trimmed text. */
export const ProviderIdSchema = z
  .union([z.string(), z.number()], { error: 'expected an id (text or number)' })
  .transform((v) => String(v).trim())
  .pipe(z.string().min(1, 'must not be empty'));

/** Turns zod issues into field problems (`entry.0.changes: expected array`), for a 400 naming each field. */
export const zodProblems = fieldProblems;

/** Parses `value` with `schema`, or throws InvalidInputError naming every bad field. */
export const parseWith = parseInput;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A scalar as trimmed text (numbers and booleans included); `undefined` for anything else or blank. */
export function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return undefined;
}

/** Cuts text to `max` characters (for values stored outside normalisation, e.g. activity data). */
export function clip(value: string | undefined, max: number): string | undefined {
  if (value === undefined) return undefined;
  return value.length <= max ? value : value.slice(0, max);
}

/** An ISO timestamp from an ISO string or epoch seconds; `undefined` when it cannot be read. */
export function isoTime(value: unknown): string | undefined {
  let date: Date | undefined;
  if (typeof value === 'number' && Number.isFinite(value)) date = new Date(value * 1000);
  else if (typeof value === 'string' && /^\d{9,11}$/.test(value)) date = new Date(Number(value) * 1000);
  else if (typeof value === 'string' && value.trim() !== '') date = new Date(value);
  return date && !Number.isNaN(date.getTime()) ? date.toISOString() : undefined;
}

/** Drops `undefined` properties (stored items and test expectations see absent as absent). */
export function definedOnly<T extends Record<string, unknown>>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T;
}

// ---------------------------------------------------------------------------------------------
// Shared-token authentication (providers that sign nothing: Unbounce, generic JSON)

/** Header carrying the shared webhook token. `Authorization: Bearer <token>` is accepted too. */
export const WEBHOOK_TOKEN_HEADER = 'x-webhook-token';
/** Query parameter carrying the token, for senders that cannot set headers. */
export const WEBHOOK_TOKEN_QUERY = 'token';

/**
 * The shared token a provider without signatures must present: hex HMAC-SHA256 of
 * `webhook:<provider>` keyed with the stack-generated `signingKey`. Deriving it means no extra
 * secret to create or rotate, a different token per provider (a leaked Unbounce URL does not
 * open the generic endpoint), and rotating `signingKey` rotates every token. An operator can
 * compute it with `printf %s 'webhook:generic' | openssl dgst -sha256 -hmac "$SIGNING_KEY"`.
 */
export function webhookToken(signingKey: string, provider: string): string {
  return createHmac('sha256', signingKey).update(`webhook:${provider}`, 'utf8').digest('hex');
}

/** Checks the shared token (header, bearer or `?token=`) against {@link webhookToken}. */
export function verifyWebhookToken(
  request: WebhookRequest,
  signingKey: string,
  provider: string,
): SignatureCheck {
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  const given = request.headers[WEBHOOK_TOKEN_HEADER] ?? bearer ?? request.query[WEBHOOK_TOKEN_QUERY];
  if (!given) return { ok: false, reason: `missing ${WEBHOOK_TOKEN_HEADER} header` };
  return safeEqual(given.trim(), webhookToken(signingKey, provider))
    ? { ok: true }
    : { ok: false, reason: 'webhook token does not match' };
}

/** A delivery as the vendor would send it: the body (Google Ads carries its key inside) and headers. */
export interface SignedDelivery {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Signs `body` the way the provider does, with `secret` (the key the adapter verifies with). */
export type WebhookSigner = (body: string, secret: string, now: Date) => SignedDelivery;

/** The client file's `webhooks` section. */
export type WebhooksConfig = ClientConfig['webhooks'];

/**
 * One provider's adapter, declared in the provider's own file and listed once in the registry
 * (`index.ts`): its id, switch, secret, how a delivery is verified and parsed, and (for the demo,
 * the tests and the chaos harness) how the vendor signs one.
 */
export interface WebhookAdapter<P extends string = string, S extends string = string> {
  /** The URL path segment and the lead's `source.provider`. */
  readonly provider: P;
  /** Its switch in `clients/<name>.yaml`: `webhooks.<configKey>.enabled`. */
  readonly configKey: keyof WebhooksConfig;
  /** The integrations-secret key its deliveries are verified with. */
  readonly secret: S;
  /**
   * Whether what authenticates a delivery covers its body (a signature over the bytes), so a
   * changed body fails `verify`; `false` for a shared key or token that any body may carry.
   */
  readonly bindsBody: boolean;
  /** Is this delivery authentic? Constant-time; `secret` is never empty here. */
  verify(request: WebhookRequest, secret: string, now: Date): SignatureCheck;
  /** What the (verified) delivery says. @throws InvalidInputError naming the bad field. */
  parse(request: WebhookRequest, config: WebhooksConfig): WebhookPayload;
  /** The sending side of `verify`: a delivery signed here is the one the vendor would send. */
  readonly sign: WebhookSigner;
}

/** HMAC-SHA256 of `data` with `secret`, as the vendors sign. */
export const hmacSha256 = (secret: string, data: string, encoding: 'hex' | 'base64'): string =>
  createHmac('sha256', secret).update(data, 'utf8').digest(encoding);
