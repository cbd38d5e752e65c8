import { createHash } from 'node:crypto';
import { z } from 'zod';
import { formatPath } from '../config/issue-path';
import type { ClientConfig } from '../config/schema';
import type { FieldProblem } from './errors';
import { type Activity, type ActivityType, TEXT_LIMITS } from './lead';

/**
 * Behaviour tracking: what a landing page may report about a visitor (page views, downloads,
 * demo requests...), whether it may be kept (analytics consent), and how a reported event becomes
 * a lead {@link Activity} or an anonymous visitor event. Pure: the track handler does the I/O.
 *
 * An event names its visitor by the signed visitor `token` (issued to that browser when it became
 * a lead) or by the anonymous `visitorId`, nothing else. The endpoint is public, so anything a
 * stranger can type (an email address, a lead id) would let them post engagement for someone
 * else's lead and learn whether an address is a lead. Fields such as `email` or `leadId` sent by
 * older pages are ignored.
 */

/** Event types a page may report. `pricing_page_view` is not among them: it is derived from the path. */
export const TRACKABLE_TYPES = [
  'page_view',
  'content_download',
  'demo_request',
  'webinar_registered',
  'webinar_attended',
  'meeting_booked',
] as const satisfies readonly ActivityType[];

/** Most events accepted in one request (`{ events: [...] }`). */
export const MAX_EVENTS_PER_REQUEST = 20;

/** How far ahead of the server clock `occurredAt` may be (client clocks drift). */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;

/** Largest request body: 20 events with long paths, titles and a token fit comfortably. */
export const TRACKING_MAX_BODY_BYTES = 64 * 1024;

const TITLE_MAX = 300;
const ASSET_MAX = 300;
const TOKEN_MAX = 1024;

/** Visitor and lead ids become parts of DynamoDB keys, so only URL-safe id characters are accepted. */
const ID_PATTERN = /^[A-Za-z0-9_-]+$/;
const idField = (what: string, min: number) =>
  z
    .string()
    .min(min, { error: `${what} is too short` })
    .max(64, { error: `${what} is longer than 64 characters` })
    .regex(ID_PATTERN, { error: `${what} may only contain letters, digits, "-" and "_"` });

/** Builds the schema of one event; `now` bounds `occurredAt` and is its default. */
function trackEventSchema(now: Date) {
  return z
    .object({
      type: z.enum(TRACKABLE_TYPES, { error: `must be one of ${TRACKABLE_TYPES.join(', ')}` }),
      path: z
        .string()
        .max(TEXT_LIMITS.url, { error: `longer than ${TEXT_LIMITS.url} characters` })
        .startsWith('/', { error: 'a page path starting with "/"' })
        .optional(),
      title: z
        .string()
        .max(TITLE_MAX, { error: `longer than ${TITLE_MAX} characters` })
        .optional(),
      asset: z
        .string()
        .trim()
        .min(1, { error: 'the name of the downloaded asset' })
        .max(ASSET_MAX, { error: `longer than ${ASSET_MAX} characters` })
        .optional(),
      occurredAt: z.iso
        .datetime({ offset: true, error: 'an ISO 8601 date-time such as "2026-01-31T10:00:00Z"' })
        .refine((at) => Date.parse(at) <= now.getTime() + MAX_FUTURE_SKEW_MS, {
          error: 'more than 5 minutes in the future (check the device clock)',
        })
        // Activities are keyed and sorted by time as text, so every instant is stored in UTC "Z" form.
        .transform((at) => new Date(at).toISOString())
        .optional(),
      visitorId: idField('visitorId', 8).optional(),
      token: z
        .string()
        .min(1)
        .max(TOKEN_MAX, { error: `longer than ${TOKEN_MAX} characters` })
        .optional(),
      consent: z.object({ analytics: z.boolean({ error: 'true or false' }) }).optional(),
    })
    .superRefine((event, ctx) => {
      if (event.type === 'page_view' && event.path === undefined) {
        ctx.addIssue({ code: 'custom', path: ['path'], message: 'a page view needs the page path' });
      }
      if (event.type === 'content_download' && event.asset === undefined) {
        ctx.addIssue({ code: 'custom', path: ['asset'], message: 'a content download needs the asset name' });
      }
      if (!event.visitorId && !event.token) {
        ctx.addIssue({
          code: 'custom',
          path: ['visitorId'],
          message: 'required when the event carries no visitor token',
        });
      }
    })
    .transform((event) => ({ ...event, occurredAt: event.occurredAt ?? now.toISOString() }));
}

/** One validated event: `occurredAt` is UTC ISO (defaulted to now). */
export type TrackEvent = z.output<ReturnType<typeof trackEventSchema>>;

export type ParsedTrackingRequest =
  | {
      readonly ok: true;
      readonly events: readonly TrackEvent[];
      /** Sent as `{ events: [...] }`: problems found later are named `events[i].<field>`. */
      readonly batch: boolean;
    }
  | { readonly ok: false; readonly problems: readonly FieldProblem[] };

/**
 * Validates a request body: one event, or `{ events: [...] }` with 1 to
 * {@link MAX_EVENTS_PER_REQUEST} events. Problems name each bad field by its full path
 * (`events[2].type`), so the whole batch is refused and can be fixed and re-sent as one.
 */
export function parseTrackingRequest(body: Record<string, unknown>, now: Date): ParsedTrackingRequest {
  const event = trackEventSchema(now);
  const batch = 'events' in body;
  const schema = batch
    ? z
        .object({
          events: z
            .array(event, { error: 'a list of events' })
            .min(1, { error: 'at least one event' })
            .max(MAX_EVENTS_PER_REQUEST, { error: `at most ${MAX_EVENTS_PER_REQUEST} events per request` }),
        })
        .transform((b) => b.events)
    : event.transform((e) => [e]);
  const parsed = schema.safeParse(body);
  if (parsed.success) return { ok: true, events: parsed.data, batch };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => ({
      field: formatPath(issue.path) || 'body',
      reason: issue.message,
    })),
  };
}

/** Browser privacy signals (`DNT: 1`, `Sec-GPC: 1`), read as a refusal of analytics. */
export function hasPrivacySignal(headers: { readonly dnt?: string; readonly secGpc?: string }): boolean {
  return headers.dnt?.trim() === '1' || headers.secGpc?.trim() === '1';
}

/**
 * Whether an event may be stored. A privacy signal always refuses. `consent-required` needs an
 * explicit `consent.analytics: true`; `opt-out` stores unless the visitor said `false`.
 */
export function mayStore(
  event: Pick<TrackEvent, 'consent'>,
  consentMode: ClientConfig['client']['consentMode'],
  privacySignal: boolean,
): boolean {
  if (privacySignal) return false;
  const analytics = event.consent?.analytics;
  return consentMode === 'consent-required' ? analytics === true : analytics !== false;
}

/** The path without query string or fragment, lower-case and without a trailing slash (`/` stays). */
export function normalisePath(path: string): string {
  const bare = path.split(/[?#]/, 1)[0] ?? '';
  const trimmed = bare.length > 1 ? bare.replace(/\/+$/, '') : bare;
  return (trimmed || '/').toLowerCase();
}

/**
 * Whether a path is one of the client's pricing pages: the configured path itself or a page
 * below it (`/pricing`, `/pricing/`, `/pricing/enterprise`), never a sibling that merely starts
 * alike (`/pricing-faq`). Case and query string are ignored, as marketers link them loosely.
 */
export function isPricingPath(path: string, pricingPaths: readonly string[]): boolean {
  const candidate = normalisePath(path);
  return pricingPaths.some((p) => {
    const pricing = normalisePath(p);
    return candidate === pricing || candidate.startsWith(pricing === '/' ? '/' : `${pricing}/`);
  });
}

/** The activity type recorded for an event: a page view of a pricing page counts as `pricing_page_view`. */
export function activityTypeFor(
  event: Pick<TrackEvent, 'type' | 'path'>,
  pricingPaths: readonly string[],
): ActivityType {
  if (event.type === 'page_view' && event.path !== undefined && isPricingPath(event.path, pricingPaths)) {
    return 'pricing_page_view';
  }
  return event.type;
}

/** Who the event is about, for its deterministic id. */
export type TrackSubject = { readonly visitorId: string } | { readonly leadId: string };

/**
 * A deterministic activity id, so the same event posted twice (a retried beacon, a double
 * click) is stored once. It hashes the subject, type, instant, path and asset: a browser's
 * visitor id is preferred over the lead id, so an anonymous event attached to the lead on
 * conversion and the same event re-posted with the lead's token keep one id.
 */
export function trackedActivityId(
  subject: TrackSubject,
  type: ActivityType,
  occurredAt: string,
  path?: string,
  asset?: string,
): string {
  const who = 'visitorId' in subject ? `v:${subject.visitorId}` : `l:${subject.leadId}`;
  const digest = createHash('sha256')
    .update(JSON.stringify([who, type, occurredAt, path ?? null, asset ?? null]))
    .digest('base64url');
  return `trk-${digest.slice(0, 32)}`;
}

/**
 * The activity recorded for an event, without its lead id (anonymous events get one when the
 * visitor converts). Only `path`, `title` and `asset` are kept as data: engagement rules read them.
 */
export function trackedActivity(
  event: TrackEvent,
  subject: TrackSubject,
  pricingPaths: readonly string[],
): Omit<Activity, 'leadId'> {
  const type = activityTypeFor(event, pricingPaths);
  const data: Record<string, string> = {};
  if (event.path !== undefined) data.path = event.path;
  if (event.title !== undefined) data.title = event.title;
  if (event.asset !== undefined) data.asset = event.asset;
  return {
    id: trackedActivityId(subject, type, event.occurredAt, event.path, event.asset),
    type,
    at: event.occurredAt,
    data,
  };
}

/** Epoch seconds after which an anonymous visitor event is deleted (DynamoDB TTL). */
export function anonymousExpiry(now: Date, retentionDays: number): number {
  return Math.floor(now.getTime() / 1000) + retentionDays * 86_400;
}
