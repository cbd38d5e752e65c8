import { actorName, type Caller, LeadStateConflictError, requireLeadAccess } from '../domain/access';
import { LeadChangedError, SubmittedDetailsNotFoundError } from '../domain/errors';
import { type Activity, type Lead, LeadProfileSchema } from '../domain/lead';
import { acceptSubmittedDetails, type SubmittedDetails } from '../domain/profile-merge';
import { pipelineEvent } from '../events/catalogue';
import type { OutboxEntry } from '../ports/outbox';
import { announceEntry } from './lead-commands';
import { splitPartition } from './lead-queries';
import type { LeadsDeps } from './leads';

/**
 * Submitted details: a resubmission never overwrites what a lead already has (see
 * `mergeProfiles`); the values it contradicts wait on the timeline as a `details_submitted`
 * activity. The lead's owner (or a manager of its team, or an admin) accepts them in one step,
 * `POST /leads/{id}/details/{activityId}/accept`, which applies them and records a
 * `details_accepted` activity; scoring sees the change through `Activity Recorded`.
 */

const MAX_ATTEMPTS = 3;

/** Result of {@link acceptDetails}. */
export interface AcceptDetailsResult {
  readonly lead: Lead;
  /** Profile fields the accepted values changed (none when the lead already had them). */
  readonly changed: readonly string[];
}

/** The id of the activity recording that `offerId` was accepted: one acceptance per offer. */
export function acceptanceActivityId(offerId: string): string {
  return `${offerId}-accepted`;
}

/** What a stored offer may set: profile fields, each valid as the lead schema says, nothing else. */
const OfferedDetailsSchema = LeadProfileSchema.omit({ dedupeKey: true, droppedFields: true }).partial();

function offeredDetails(data: Record<string, unknown>): SubmittedDetails {
  const raw = (data.details ?? {}) as Record<string, unknown>;
  const parsed = OfferedDetailsSchema.parse(raw);
  // Keep only what the offer itself holds: schema defaults must not become accepted values.
  return Object.fromEntries(Object.entries(parsed).filter(([key]) => key in raw)) as SubmittedDetails;
}

/**
 * `POST /leads/{id}/details/{activityId}/accept`: applies the submitted details to the lead.
 * @throws LeadNotFoundError (404) for a lead out of the caller's reach; NotAllowedError (403)
 *   unless the caller works the lead; SubmittedDetailsNotFoundError (404) when the lead has no
 *   such offer; LeadStateConflictError (409) when it was accepted already.
 */
export async function acceptDetails(
  caller: Caller,
  leadId: string,
  activityId: string,
  deps: LeadsDeps,
): Promise<AcceptDetailsResult> {
  const now = (deps.now ?? (() => new Date()))();
  for (let attempt = 1; ; attempt++) {
    const lead = await deps.store.requireLead(leadId);
    requireLeadAccess(caller, lead, 'work', 'accept submitted details', deps.config);
    const activities = splitPartition(await deps.store.listLeadPartition(lead.id)).activities;
    const offer = activities.find((a) => a.id === activityId && a.type === 'details_submitted');
    if (!offer) throw new SubmittedDetailsNotFoundError(lead.id, activityId);
    const acceptedId = acceptanceActivityId(activityId);
    if (activities.some((a) => a.id === acceptedId))
      throw new LeadStateConflictError(
        `The details ${activityId} of lead ${lead.id} were accepted already; submit new details to change them again`,
      );

    const { profile, changed } = acceptSubmittedDetails(
      lead.profile,
      offeredDetails((offer.data ?? {}) as Record<string, unknown>),
    );
    const at = now.toISOString();
    const accepted: Activity = {
      id: acceptedId,
      leadId: lead.id,
      type: 'details_accepted',
      at,
      data: { offer: activityId, changed, by: actorName(caller) },
    };
    // Scoring hears of it through `Activity Recorded`, stored with the change (the outbox).
    const entry: OutboxEntry = {
      id: accepted.id,
      at,
      events: [
        pipelineEvent('Activity Recorded', {
          leadId: lead.id,
          occurredAt: at,
          isTest: lead.isTest,
          activityId: accepted.id,
          type: 'details_accepted',
        }),
      ],
    };
    let saved: Lead;
    try {
      saved = await deps.store.saveLead(
        lead,
        { ...lead, profile, updatedAt: at },
        { activities: [accepted], outbox: entry },
      );
    } catch (error) {
      // A concurrent write (perhaps the same acceptance): read again, which answers 409 if so.
      if (error instanceof LeadChangedError && attempt < MAX_ATTEMPTS) continue;
      throw error;
    }
    await announceEntry(entry, saved.id, deps);
    return { lead: saved, changed };
  }
}
