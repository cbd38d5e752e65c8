import { DependencyUnavailableError, InvalidInputError } from '../domain/errors';
import type { Activity, ActivityType } from '../domain/lead';
import { normaliseSubmission } from '../domain/normalise';
import { pipelineEvent } from '../events/catalogue';
import {
  LinkedInApiError,
  type LinkedInLeadFetcher,
  MetaGraphError,
  type MetaLeadFetcher,
} from '../ports/lead-sources';
import type { PendingLeadProvider, PendingLeadStore } from '../ports/pending-leads';
import {
  type BookingEvent,
  clip,
  definedOnly,
  type MetaLeadChange,
  sha256Hex,
  type WebhookLead,
} from '../webhooks/common';
import { type LinkedInLeadNotice, linkedInLeadFields } from '../webhooks/linkedin';
import { metaLeadFields } from '../webhooks/meta';
import { type IntakeDeps, type IntakeResult, intakeLead } from './intake';

/**
 * Use cases behind the webhook endpoint, between the pure provider adapters
 * (`shared/webhooks/*`) and storage: a delivered lead goes through intake; a Meta leadgen
 * change first fetches the lead's answers (or is stored `pending`, never dropped); a booking
 * records a `meeting_booked` activity on the invitee's lead, creating the lead first when the
 * invitee is unknown.
 */

/** Takes in a lead delivered by a provider (Google Ads, Typeform, Unbounce, generic JSON). */
export async function takeInWebhookLead(
  provider: string,
  lead: WebhookLead,
  deps: IntakeDeps,
): Promise<IntakeResult> {
  return intakeLead(
    {
      provider,
      fields: lead.fields,
      externalId: lead.externalId,
      ...(lead.isTest ? { isTest: true } : {}),
    },
    deps,
  );
}

// ---------------------------------------------------------------------------------------------
// Meta

/** What a Meta leadgen change needs besides storage. */
export interface MetaLeadContext {
  readonly fetcher: MetaLeadFetcher;
  /** Page access token; empty means the lead cannot be read and is stored `pending`. */
  readonly accessToken: string;
  readonly appSecret: string;
}

/** Outcome of one leadgen change. */
export type MetaLeadResult = IntakeResult & {
  /** Stored without fields (no token, Graph unreachable, or unusable answers). */
  readonly pending: boolean;
  /** Why the fields could not be used, when `pending`. */
  readonly problem?: string;
};

/**
 * Takes in one Meta leadgen change: reads the lead from the Graph API and takes it in; when
 * there is no access token, Graph refuses the lead (4xx), or the answers hold neither an email
 * nor a phone number, the lead is stored `pending` under its leadgen id instead, so it is never
 * lost: the relay reads it again later ({@link refetchPendingLeads}), and a person can complete it
 * from Meta's Leads Center meanwhile.
 * @throws DependencyUnavailableError when Graph times out or fails (5xx, 429) or storing fails:
 *   the caller answers 503 and Meta delivers again.
 */
export async function takeInMetaLead(
  change: MetaLeadChange,
  context: MetaLeadContext,
  deps: PlatformIntakeDeps,
): Promise<MetaLeadResult> {
  const read = await readMetaLead(change, context);
  // A passing outage: answer 503 so Meta delivers again, rather than store a pending stub.
  if ('problem' in read && read.transient) throw new DependencyUnavailableError('Meta Graph API', read.cause);
  return takeInPlatformLead('meta', change.leadgenId, change, read, deps);
}

/**
 * Reads a Meta lead's answers from the Graph API. Never throws for Graph's own failures: a
 * timeout, 5xx or 429 comes back `transient`, a refusal (an expired token: 4xx) as a problem.
 */
export async function readMetaLead(change: MetaLeadChange, context: MetaLeadContext): Promise<PlatformRead> {
  if (!context.accessToken) return { problem: 'no metaAccessToken in the integrations secret' };
  try {
    const lead = await context.fetcher.fetchLead(change.leadgenId, {
      accessToken: context.accessToken,
      ...(context.appSecret ? { appSecret: context.appSecret } : {}),
    });
    return { fields: metaLeadFields(lead, change) };
  } catch (error) {
    if (error instanceof MetaGraphError)
      return { problem: `Graph API: ${error.message}`, transient: error.transient, cause: error };
    return { problem: `Graph API: ${(error as Error).message}`, transient: true, cause: error };
  }
}

/** What reading an ad-platform lead's answers gave. */
export type PlatformRead =
  | { readonly fields: Record<string, unknown>; readonly isTest?: boolean }
  | {
      readonly problem: string;
      /** The platform is down or slow (worth trying again soon), rather than refusing. */
      readonly transient?: boolean;
      readonly cause?: unknown;
    };

/** Storage for an ad-platform lead: intake, plus the marker of a lead stored `pending`. */
export type PlatformIntakeDeps = IntakeDeps & {
  readonly store: IntakeDeps['store'] & Pick<PendingLeadStore, 'rememberPendingLead'>;
};

/**
 * Takes in a lead read from its platform; when the read gave no usable answers, stores it
 * `pending` under its provider id and leaves a marker for the relay to read it again. A
 * redelivery of a lead still pending leaves the marker again (a no-op when it is there), so a
 * crash between the stub and its marker is mended by the platform's retry.
 */
async function takeInPlatformLead(
  provider: PendingLeadProvider,
  externalId: string,
  reference: MetaLeadChange | LinkedInLeadNotice,
  read: PlatformRead,
  deps: PlatformIntakeDeps,
): Promise<MetaLeadResult> {
  const base = { provider, externalId, source: definedOnly({ formId: clip(reference.formId, 100) }) };
  let problem: string;
  if ('fields' in read) {
    try {
      const isTest = read.isTest === true;
      return {
        ...(await intakeLead({ ...base, fields: read.fields, ...(isTest ? { isTest } : {}) }, deps)),
        pending: false,
      };
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      problem = `the lead's answers are unusable (${error.message})`;
    }
  } else {
    problem = read.problem;
  }
  const result = await intakeLead({ ...base, fields: {}, pending: true }, deps);
  const stored = result.outcome === 'created' ? undefined : await deps.store.getLead(result.leadId);
  if (result.outcome === 'created' || stored?.status === 'pending') {
    const at = (deps.now ?? (() => new Date()))().toISOString();
    await deps.store.rememberPendingLead({
      provider,
      externalId,
      leadId: result.leadId,
      reference: { ...reference },
      since: at,
      attempts: 0,
      nextAttemptAt: at,
      lastProblem: problem,
    });
  }
  return { ...result, pending: true, problem };
}

// ---------------------------------------------------------------------------------------------
// LinkedIn

/** What a LinkedIn lead notification needs besides storage. */
export interface LinkedInLeadContext {
  readonly fetcher: LinkedInLeadFetcher;
  /** Access token with `r_marketing_leadgen_automation`; empty means the lead is stored `pending`. */
  readonly accessToken: string;
}

/**
 * Takes in one LinkedIn lead: reads its answers from the Lead Sync API and takes it in; without
 * an access token, when LinkedIn fails, or when the answers hold neither an email nor a phone
 * number, the lead is stored `pending` under its response id (never lost: the relay reads it
 * again later, and a person can complete it from Campaign Manager). Test leads are stored
 * flagged, never alerted or emailed.
 * @throws only when storing fails (transient: the caller answers 5xx and LinkedIn retries).
 */
export async function takeInLinkedInLead(
  notice: LinkedInLeadNotice,
  context: LinkedInLeadContext,
  deps: PlatformIntakeDeps,
): Promise<MetaLeadResult> {
  const read = await readLinkedInLead(notice, context);
  return takeInPlatformLead('linkedin', notice.responseId, notice, read, deps);
}

/** Reads a LinkedIn lead's answers; LinkedIn's failures come back as a problem, never thrown. */
export async function readLinkedInLead(
  notice: LinkedInLeadNotice,
  context: LinkedInLeadContext,
): Promise<PlatformRead> {
  if (!context.accessToken) return { problem: 'no linkedinAccessToken in the integrations secret' };
  try {
    const read = await context.fetcher.fetchLead(notice.responseId, notice.formId, context.accessToken);
    return {
      fields: linkedInLeadFields(read.response, read.form, notice),
      ...(read.response.testLead === true ? { isTest: true } : {}),
    };
  } catch (error) {
    const status = error instanceof LinkedInApiError ? error.status : undefined;
    return {
      problem: `LinkedIn API: ${(error as Error).message}`,
      transient: status === undefined || status >= 500 || status === 429,
      cause: error,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Bookings

/** Outcome of a booking webhook. */
export type BookingResult =
  | {
      readonly outcome: 'recorded';
      readonly leadId: string;
      readonly activityId: string;
      readonly activityType: ActivityType;
      /** The invitee was unknown and became a lead through intake. */
      readonly leadCreated: boolean;
    }
  | { readonly outcome: 'ignored'; readonly reason: string };

/**
 * Records a booking on the invitee's lead: `meeting_booked` (scored by the engagement rules)
 * for a booking, a `note` for a cancellation (no points: cancelling should not look like
 * engagement, yet the rep must see it). An unknown invitee who books becomes a lead through
 * intake first; a cancellation by an unknown invitee is ignored (it is no buying signal).
 *
 * The activity id is derived from the provider's booking id, so a redelivery writes nothing
 * new; `Activity Recorded` is published every time (consumers are idempotent), so a delivery
 * that failed after the write still reaches scoring on retry.
 * @throws InvalidInputError when the invitee has neither a valid email nor a phone number.
 */
export async function recordBooking(
  provider: string,
  booking: BookingEvent,
  deps: IntakeDeps,
): Promise<BookingResult> {
  const now = (deps.now ?? (() => new Date()))();
  const { store, config } = deps;
  const normalised = normaliseSubmission(booking.invitee, {
    defaultCountry: config.client.defaultCountry,
    maxExtraFields: config.capture.maxExtraFields,
    now,
    provider,
  });
  if (!normalised.ok) throw new InvalidInputError(normalised.errors);

  const existingId = await store.findLeadIdByDedupeKey(normalised.profile.dedupeKey);
  const existing = existingId ? await store.getLead(existingId) : undefined;
  let leadId: string;
  let leadCreated = false;
  if (existing) {
    leadId = existing.id;
  } else if (booking.action === 'canceled') {
    return { outcome: 'ignored', reason: 'the invitee of the cancelled meeting is not a lead' };
  } else {
    const taken = await intakeLead({ provider, fields: booking.invitee }, deps);
    leadId = taken.leadId;
    leadCreated = taken.outcome === 'created';
  }

  const type: ActivityType = booking.action === 'booked' ? 'meeting_booked' : 'note';
  const at = booking.occurredAt ?? now.toISOString();
  const activity: Activity = {
    id: bookingActivityId(provider, booking),
    leadId,
    type,
    at,
    data: definedOnly({
      kind: booking.action === 'booked' ? 'meeting_booked' : 'meeting_canceled',
      provider,
      bookingId: clip(booking.bookingId, 200),
      meetingName: clip(booking.meeting.name, 200),
      startTime: booking.meeting.startTime,
      endTime: booking.meeting.endTime,
      rescheduled: booking.meeting.rescheduled,
      reason: clip(booking.meeting.reason, 500),
      canceledBy: clip(booking.meeting.canceledBy, 50),
      instantOffer: booking.instantOffer,
    }),
  };
  await store.addActivities([activity]);
  await deps.publisher.publish(
    pipelineEvent('Activity Recorded', {
      leadId,
      occurredAt: at,
      isTest: existing?.isTest ?? false,
      activityId: activity.id,
      type,
    }),
  );
  return { outcome: 'recorded', leadId, activityId: activity.id, activityType: type, leadCreated };
}

/** A stable activity id per provider booking and action (at most 64 characters). */
export function bookingActivityId(
  provider: string,
  booking: Pick<BookingEvent, 'action' | 'bookingId'>,
): string {
  return `${provider}-${booking.action}-${sha256Hex(`${provider}:${booking.bookingId}`).slice(0, 40)}`;
}
