import { DependencyUnavailableError, InvalidInputError } from '../domain/errors';
import type { Activity, ActivityType } from '../domain/lead';
import { normaliseSubmission } from '../domain/normalise';
import { pipelineEvent } from '../events/catalogue';
import { type LinkedInLeadFetcher, MetaGraphError, type MetaLeadFetcher } from '../ports/lead-sources';
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
 * lost and a person can complete it from Meta's Leads Center.
 * @throws DependencyUnavailableError when Graph times out or fails (5xx, 429) or storing fails:
 *   the caller answers 503 and Meta delivers again.
 */
export async function takeInMetaLead(
  change: MetaLeadChange,
  context: MetaLeadContext,
  deps: IntakeDeps,
): Promise<MetaLeadResult> {
  const base = {
    provider: 'meta',
    externalId: change.leadgenId,
    source: definedOnly({ formId: clip(change.formId, 100) }),
  };
  const read = await readMetaFields(change, context);
  let problem: string;
  if ('fields' in read) {
    try {
      return { ...(await intakeLead({ ...base, fields: read.fields }, deps)), pending: false };
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      problem = `the lead's answers are unusable (${error.message})`;
    }
  } else {
    problem = read.problem;
  }
  const result = await intakeLead({ ...base, fields: {}, pending: true }, deps);
  return { ...result, pending: true, problem };
}

async function readMetaFields(
  change: MetaLeadChange,
  context: MetaLeadContext,
): Promise<{ fields: Record<string, unknown> } | { problem: string }> {
  if (!context.accessToken) return { problem: 'no metaAccessToken in the integrations secret' };
  try {
    const lead = await context.fetcher.fetchLead(change.leadgenId, {
      accessToken: context.accessToken,
      ...(context.appSecret ? { appSecret: context.appSecret } : {}),
    });
    return { fields: metaLeadFields(lead, change) };
  } catch (error) {
    // A passing outage: answer 503 so Meta delivers again, instead of a pending stub that no
    // redelivery would complete (a known leadgen id is "already received").
    if (error instanceof MetaGraphError && error.transient)
      throw new DependencyUnavailableError('Meta Graph API', error);
    return { problem: `Graph API: ${(error as Error).message}` };
  }
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
 * number, the lead is stored `pending` under its response id (never lost; a person completes it
 * from Campaign Manager). Test leads are stored flagged, never alerted or emailed.
 * @throws only when storing fails (transient: the caller answers 5xx and LinkedIn retries).
 */
export async function takeInLinkedInLead(
  notice: LinkedInLeadNotice,
  context: LinkedInLeadContext,
  deps: IntakeDeps,
): Promise<MetaLeadResult> {
  const base = {
    provider: 'linkedin',
    externalId: notice.responseId,
    source: definedOnly({ formId: clip(notice.formId, 100) }),
  };
  let problem: string;
  if (!context.accessToken) {
    problem = 'no linkedinAccessToken in the integrations secret';
  } else {
    let read: Awaited<ReturnType<LinkedInLeadFetcher['fetchLead']>> | undefined;
    try {
      read = await context.fetcher.fetchLead(notice.responseId, notice.formId, context.accessToken);
    } catch (error) {
      problem = `LinkedIn API: ${(error as Error).message}`;
    }
    if (read) {
      const fields = linkedInLeadFields(read.response, read.form, notice);
      try {
        const isTest = read.response.testLead === true;
        return {
          ...(await intakeLead({ ...base, fields, ...(isTest ? { isTest } : {}) }, deps)),
          pending: false,
        };
      } catch (error) {
        if (!(error instanceof InvalidInputError)) throw error;
        problem = `the lead's answers are unusable (${error.message})`;
      }
    }
    problem ??= 'the lead could not be read';
  }
  const result = await intakeLead({ ...base, fields: {}, pending: true }, deps);
  return { ...result, pending: true, problem };
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
