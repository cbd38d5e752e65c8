import { actorName, type Caller, LeadStateConflictError } from './access';
import type { Activity, Lead, LeadStatus } from './lead';
import { leadActivityId } from './pipeline';

/** The first touch: recorded once, crediting a rep, with the speed to lead. */

// ------------------------------------------------------------------------------------ first touch

/** Statuses a first touch moves to `contacted`; later statuses (working, won, lost) are kept. */
const BEFORE_CONTACT: readonly LeadStatus[] = ['new', 'pending', 'held', 'assigned', 'unworked', 'nurturing'];

/** Result of {@link planFirstTouch}. */
export type FirstTouchPlan =
  | {
      readonly outcome: 'recorded';
      /** The lead to save. */
      readonly lead: Lead;
      /** The `contacted` activity to save with it (its events go in the same write's outbox entry). */
      readonly activity: Activity;
      readonly repId: string;
      /** Capture to first touch: speed to lead. */
      readonly secondsToFirstTouch: number;
    }
  | {
      /** The first touch was recorded before; nothing changes. */
      readonly outcome: 'already-contacted';
      readonly lead: Lead;
      readonly firstTouchAt: string;
    };

/** Seconds from capture to `at`, never negative. */
export function secondsSince(createdAt: string, at: Date): number {
  return Math.max(0, Math.floor((at.getTime() - Date.parse(createdAt)) / 1000));
}

/** The id of the lead's single `contacted` activity. */
export function firstTouchActivityId(leadId: string): string {
  return leadActivityId(leadId, 'contacted');
}

/**
 * Records the first touch once: `firstTouchAt`, status `contacted` (unless the lead is already
 * further along) and a `contacted` activity. A repeat changes nothing and reports the original
 * time. The credited rep is the caller when they are a rep, else the lead's owner.
 * @throws LeadStateConflictError when nobody can be credited (no owner and the caller is no rep).
 */
export function planFirstTouch(lead: Lead, caller: Caller, at: Date): FirstTouchPlan {
  if (lead.firstTouchAt !== undefined)
    return { outcome: 'already-contacted', lead, firstTouchAt: lead.firstTouchAt };
  const repId = caller.repId ?? lead.owner;
  if (repId === undefined)
    throw new LeadStateConflictError(
      `Lead ${lead.id} has no owner and your login is not linked to a rep: assign it before marking it contacted`,
    );
  const iso = at.toISOString();
  const secondsToFirstTouch = secondsSince(lead.createdAt, at);
  const activity: Activity = {
    id: firstTouchActivityId(lead.id),
    leadId: lead.id,
    type: 'contacted',
    at: iso,
    data: { repId, by: actorName(caller), secondsToFirstTouch },
  };
  return {
    outcome: 'recorded',
    lead: {
      ...lead,
      firstTouchAt: iso,
      status: BEFORE_CONTACT.includes(lead.status) ? 'contacted' : lead.status,
      updatedAt: iso,
    },
    activity,
    repId,
    secondsToFirstTouch,
  };
}
