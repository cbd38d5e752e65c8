import type { ClientConfig, Rep } from '../config/schema';
import { actorName, type Caller, hasRole, requireLeadAccess } from './access';
import { InvalidInputError, NotAllowedError } from './errors';
import { type Activity, type Lead, type LeadStatus, OPEN_STATUSES } from './lead';
import { leadActivityId } from './pipeline';
/** Reassigning a lead by hand, within the new rep's capacity unless an admin forces it. */

// ------------------------------------------------------------------------------------ reassignment

/** A manager's or admin's reassignment request. */
export interface ReassignRequest {
  readonly repId: string;
  /** Admins only: assign even when the rep is at capacity. */
  readonly force?: boolean;
}

/** Result of {@link planReassignment}. */
export type ReassignPlan =
  | {
      readonly outcome: 'reassign';
      readonly lead: Lead;
      readonly rep: Rep;
      readonly previousOwner?: string;
      /** Capacity to enforce on the new owner; undefined when forced. */
      readonly capacity?: number;
      /** The `assigned` activity saved with the lead (its events go in the same write's outbox entry). */
      readonly activity: Activity;
    }
  | { readonly outcome: 'unchanged'; readonly lead: Lead; readonly rep: Rep };

/** The id of the `assigned` activity of an assignment made at `assignedAt`. */
export function assignmentActivityId(leadId: string, assignedAt: string): string {
  return leadActivityId(leadId, `assigned-${Date.parse(assignedAt)}`);
}

/** Statuses kept on reassignment: the new owner continues a conversation rather than restarting it. */
const KEPT_ON_REASSIGN: readonly LeadStatus[] = ['contacted', 'working', 'converted', 'disqualified'];

/**
 * Moves a lead to another rep. Managers may move leads of their teams to reps of their teams;
 * admins anywhere, and only admins may `force` past the rep's capacity. A lead nobody contacted
 * restarts as `assigned` (the SLA rule starts a new ladder for the new owner; the previous
 * owner's ladder sees the owner change and ends); a lead already in conversation keeps its status.
 * Reassigning to the current owner changes nothing.
 * @throws InvalidInputError for an unknown rep, NotAllowedError for rights, LeadNotFoundError when the caller may not see the lead.
 */
export function planReassignment(
  lead: Lead,
  caller: Caller,
  request: ReassignRequest,
  config: Pick<ClientConfig, 'reps'>,
  at: Date,
): ReassignPlan {
  requireLeadAccess(caller, lead, 'manage', 'reassign a lead', config);
  const rep = config.reps.find((r) => r.id === request.repId);
  if (!rep) throw new InvalidInputError([{ field: 'repId', reason: `unknown rep "${request.repId}"` }]);
  const admin = hasRole(caller, 'admin');
  if (!admin && !caller.managedTeams.includes(rep.team))
    throw new NotAllowedError(
      `You may only reassign to reps of your teams; ${rep.id} is in team ${rep.team}`,
    );
  if (request.force === true && !admin)
    throw new NotAllowedError('Only admins may force an assignment past the rep\'s capacity ("force")');
  if (lead.owner === rep.id) return { outcome: 'unchanged', lead, rep };

  const iso = at.toISOString();
  const next: Lead = {
    ...lead,
    owner: rep.id,
    team: rep.team,
    assignedAt: iso,
    status: KEPT_ON_REASSIGN.includes(lead.status) ? lead.status : 'assigned',
    updatedAt: iso,
  };
  delete next.heldUntil;
  const activity: Activity = {
    id: assignmentActivityId(lead.id, iso),
    leadId: lead.id,
    type: 'assigned',
    at: iso,
    data: {
      repId: rep.id,
      teamId: rep.team,
      via: 'manual',
      by: actorName(caller),
      ...(lead.owner !== undefined ? { previousOwner: lead.owner } : {}),
      ...(request.force === true ? { forced: true } : {}),
    },
  };
  return {
    outcome: 'reassign',
    lead: next,
    rep,
    ...(lead.owner !== undefined ? { previousOwner: lead.owner } : {}),
    ...(request.force === true ? {} : { capacity: rep.capacity }),
    activity,
  };
}

/** Whether the lead counts against its owner's capacity. */
export function isOpenLead(lead: Pick<Lead, 'owner' | 'status'>): boolean {
  return lead.owner !== undefined && OPEN_STATUSES.includes(lead.status);
}
