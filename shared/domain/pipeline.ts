import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ClientConfig, PipelineStage, Rep } from '../config/schema';
import { TASK_TITLE_MAX_LENGTH } from '../config/schema-pipeline';
import { InvalidInputError, LeadNotFoundError, LeadPipelineError, NotAllowedError } from './errors';
import {
  type Activity,
  type Lead,
  type LeadStatus,
  type LifecycleStage,
  OPEN_STATUSES,
  stageRank,
  TEXT_LIMITS,
} from './lead';

/**
 * The reps' workflow as pure rules: who may see and change which lead, first touch, status and
 * pipeline-stage transitions, manual reassignment, and stale deals. The leads API and the
 * stale-deals sweep call these and do the I/O around them; nothing here touches AWS.
 */

// ------------------------------------------------------------------------------------ callers

/** Cognito groups the API authorizes on (see `USER_GROUPS` in the data stack). */
export const ROLES = ['rep', 'manager', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The person calling the API, resolved from their token and the client config. */
export interface Caller {
  /** Cognito `sub`. */
  readonly subject: string;
  readonly email?: string;
  readonly roles: readonly Role[];
  /** The configured rep this login belongs to, when it belongs to one. */
  readonly repId?: string;
  /** That rep's team. */
  readonly teamId?: string;
  /** Teams whose leads this caller manages: for the `manager` group, the teams they manage plus their own. */
  readonly managedTeams: readonly string[];
}

/** Whether the caller is in the group. */
export function hasRole(caller: Pick<Caller, 'roles'>, role: Role): boolean {
  return caller.roles.includes(role);
}

/** How the caller is named in events and activities (`by`): rep id, else email, else subject. */
export function actorName(caller: Pick<Caller, 'repId' | 'email' | 'subject'>): string {
  return caller.repId ?? caller.email ?? caller.subject;
}

/**
 * Teams a caller manages: for members of the `manager` group, every team whose `manager` is
 * their rep id, plus their own team. Nobody else manages a team (admins see everything anyway).
 */
export function managedTeamsOf(
  rep: Pick<Rep, 'id' | 'team'> | undefined,
  roles: readonly Role[],
  config: Pick<ClientConfig, 'teams'>,
): string[] {
  if (!rep || !roles.includes('manager')) return [];
  const teams = config.teams.filter((t) => t.manager === rep.id).map((t) => t.id);
  return [...new Set([rep.team, ...teams])];
}

// ------------------------------------------------------------------------------------ errors

/** The caller's `If-Match` version is not the lead's current version. Maps to HTTP 412. */
export class PreconditionFailedError extends LeadPipelineError {
  readonly code = 'PRECONDITION_FAILED';
  constructor(
    readonly leadId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(
      `Lead ${leadId} is at version ${actualVersion}, not ${expectedVersion}: reload it and apply your change again`,
    );
  }
}

/** The lead is not in a state that allows the change (e.g. working a lead nobody contacted). Maps to HTTP 409. */
export class LeadStateConflictError extends LeadPipelineError {
  readonly code = 'LEAD_STATE_CONFLICT';
}

// ------------------------------------------------------------------------------------ access

/**
 * What a caller may do with one lead, from least to most:
 * - `none`: not even know it exists (answered as 404, so lead ids cannot be probed);
 * - `view`: read it (a rep, for unassigned leads of their own team, so they can pick them up);
 * - `work`: read, mark contacted, move through the pipeline, add notes and tasks (the owner);
 * - `manage`: all of that and reassign (a manager of the lead's team, or an admin).
 */
export type LeadAccess = 'none' | 'view' | 'work' | 'manage';

const ACCESS_RANK: Record<LeadAccess, number> = { none: 0, view: 1, work: 2, manage: 3 };

/** The team a lead belongs to: its own, else its owner's team. */
export function teamOfLead(
  lead: Pick<Lead, 'team' | 'owner'>,
  config: Pick<ClientConfig, 'reps'>,
): string | undefined {
  return lead.team ?? config.reps.find((r) => r.id === lead.owner)?.team;
}

/** The caller's access to a lead; see {@link LeadAccess}. */
export function leadAccess(
  caller: Caller,
  lead: Pick<Lead, 'team' | 'owner'>,
  config: Pick<ClientConfig, 'reps'>,
): LeadAccess {
  if (hasRole(caller, 'admin')) return 'manage';
  const team = teamOfLead(lead, config);
  const ownerTeam = config.reps.find((r) => r.id === lead.owner)?.team;
  if (
    hasRole(caller, 'manager') &&
    ((team !== undefined && caller.managedTeams.includes(team)) ||
      (ownerTeam !== undefined && caller.managedTeams.includes(ownerTeam)))
  )
    return 'manage';
  if (caller.repId !== undefined && lead.owner === caller.repId) return 'work';
  if (caller.repId !== undefined && lead.owner === undefined && team !== undefined && team === caller.teamId)
    return 'view';
  return 'none';
}

/**
 * Throws unless the caller has at least `needed` access: {@link LeadNotFoundError} when they
 * may not see the lead at all, {@link NotAllowedError} naming the action otherwise.
 */
export function requireLeadAccess(
  caller: Caller,
  lead: Pick<Lead, 'id' | 'team' | 'owner'>,
  needed: Exclude<LeadAccess, 'none'>,
  action: string,
  config: Pick<ClientConfig, 'reps'>,
): LeadAccess {
  const access = leadAccess(caller, lead, config);
  if (access === 'none') throw new LeadNotFoundError(lead.id);
  if (ACCESS_RANK[access] < ACCESS_RANK[needed]) {
    const who =
      needed === 'manage'
        ? "a manager of the lead's team or an admin"
        : "the lead's owner, a manager of its team or an admin";
    throw new NotAllowedError(`Only ${who} may ${action} (lead ${lead.id})`);
  }
  return access;
}

/** Throws {@link NotAllowedError} unless the caller is an admin. */
export function requireAdmin(caller: Caller, action: string): void {
  if (!hasRole(caller, 'admin')) throw new NotAllowedError(`Only admins may ${action}`);
}

// ------------------------------------------------------------------------------------ listing

/** Whose leads a list request reads. */
export type ListScope =
  | { readonly kind: 'owner'; readonly repId: string }
  | {
      readonly kind: 'team';
      readonly teamId: string;
      /** A rep listing their own team sees only its unassigned leads. */
      readonly unassignedOnly: boolean;
    };

/**
 * Resolves `owner` / `team` query parameters against the caller's rights. `owner=me` (the
 * default) is the caller's own leads; `owner=<rep>` needs a manager of that rep's team or an
 * admin; `team=<id>` needs a manager of that team or an admin, while a rep may list the
 * unassigned leads of their own team.
 */
export function listScope(
  caller: Caller,
  requested: { readonly owner?: string; readonly team?: string },
  config: Pick<ClientConfig, 'reps' | 'teams'>,
): ListScope {
  if (requested.owner !== undefined && requested.team !== undefined)
    throw new InvalidInputError([{ field: 'team', reason: 'give either owner or team, not both' }]);
  if (requested.team !== undefined) {
    const teamId = requested.team;
    if (!config.teams.some((t) => t.id === teamId))
      throw new InvalidInputError([{ field: 'team', reason: `unknown team "${teamId}"` }]);
    if (hasRole(caller, 'admin') || (hasRole(caller, 'manager') && caller.managedTeams.includes(teamId)))
      return { kind: 'team', teamId, unassignedOnly: false };
    if (caller.teamId === teamId) return { kind: 'team', teamId, unassignedOnly: true };
    throw new NotAllowedError(`You may not list the leads of team ${teamId}`);
  }
  const owner = requested.owner === undefined || requested.owner === 'me' ? caller.repId : requested.owner;
  if (owner === undefined)
    throw new InvalidInputError([
      { field: 'owner', reason: 'your login is not linked to a rep: give owner=<rep id> or team=<team id>' },
    ]);
  if (owner === caller.repId) return { kind: 'owner', repId: owner };
  const rep = config.reps.find((r) => r.id === owner);
  if (!rep) throw new InvalidInputError([{ field: 'owner', reason: `unknown rep "${owner}"` }]);
  if (hasRole(caller, 'admin') || (hasRole(caller, 'manager') && caller.managedTeams.includes(rep.team)))
    return { kind: 'owner', repId: owner };
  throw new NotAllowedError(`You may not list the leads of ${owner}`);
}

// ------------------------------------------------------------------------------------ ids

/**
 * A deterministic activity id for a lead-level event (`<leadId>-<suffix>`), hashed when that
 * would exceed the 64-character id limit. Deterministic ids make re-recording the same event a
 * no-op and let a retry find the activity it wrote.
 */
export function leadActivityId(leadId: string, suffix: string): string {
  const id = `${leadId}-${suffix}`;
  if (id.length <= 64) return id;
  return `${suffix.slice(0, 20)}-${createHash('sha256').update(id).digest('hex').slice(0, 40)}`;
}

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

// ------------------------------------------------------------------------------------ stages

/** Statuses a rep may set directly; `contacted`, `converted` and the rest follow from actions. */
export const MANUAL_STATUSES = ['working', 'disqualified'] as const;
export type ManualStatus = (typeof MANUAL_STATUSES)[number];

/** A rep's change to status and pipeline fields (`PATCH /leads/{id}`). */
export interface LeadUpdate {
  readonly status?: ManualStatus;
  readonly pipelineStage?: string;
  readonly amount?: number;
  readonly lostReason?: string;
  /**
   * `false` records that the person opted out of marketing email (told the rep, say): it takes
   * effect with this write. Only an opt-out: an opt-in must come from the person themselves.
   */
  readonly marketingConsent?: false;
}

/** Result of {@link planLeadUpdate}. */
export interface UpdatePlan {
  /** The lead to save (equal to the input when nothing changed). */
  readonly lead: Lead;
  /** Names of the fields that changed; empty means nothing to write. */
  readonly changed: readonly string[];
  /** Set when the pipeline stage moved. */
  readonly stageChange?: { readonly from?: string; readonly to: string; readonly activity: Activity };
}

/** The configured pipeline stage with this id. */
export function pipelineStage(
  config: Pick<ClientConfig, 'pipeline'>,
  id: string | undefined,
): PipelineStage | undefined {
  return id === undefined ? undefined : config.pipeline.stages.find((s) => s.id === id);
}

/** Status implied by a stage outcome: won is converted, lost disqualified, open is being worked. */
export function statusForOutcome(outcome: PipelineStage['outcome']): LeadStatus {
  return outcome === 'won' ? 'converted' : outcome === 'lost' ? 'disqualified' : 'working';
}

function laterStage(current: LifecycleStage, candidate: LifecycleStage): LifecycleStage {
  return stageRank(candidate) > stageRank(current) ? candidate : current;
}

/** The id of the activity recording a stage change at `at`. */
export function stageChangeActivityId(leadId: string, at: string): string {
  return leadActivityId(leadId, `stage-${Date.parse(at)}`);
}

/**
 * Applies a rep's status / pipeline change.
 *
 * - `pipelineStage` must be a configured stage. An open stage makes the lead an `opportunity`
 *   being `working`; a `won` stage makes it a `customer`, status `converted`; a `lost` stage
 *   sets status `disqualified` and requires a `lostReason` from `pipeline.lostReasons`.
 * - `status` alone may be `working` (reopen/keep working a lead outside the pipeline) or
 *   `disqualified` (junk; lost reason optional). It may not contradict the stage.
 * - Working a lead (`working` or any non-lost stage) requires its first touch, so the SLA
 *   ladder and speed-to-lead always see the contact.
 * - The stage time (`pipelineStageAt`) changes only when the stage does.
 * - `marketingConsent: false` records the person's opt-out (`via: api:<rep>`); one already
 *   recorded is kept as it is.
 * @throws InvalidInputError naming the field, LeadStateConflictError for a lead not yet contacted.
 */
export function planLeadUpdate(
  lead: Lead,
  update: LeadUpdate,
  config: Pick<ClientConfig, 'pipeline'>,
  at: Date,
  by: string,
): UpdatePlan {
  const iso = at.toISOString();
  const problems: { field: string; reason: string }[] = [];
  const targetStage =
    update.pipelineStage === undefined ? undefined : pipelineStage(config, update.pipelineStage);
  if (update.pipelineStage !== undefined && !targetStage)
    problems.push({
      field: 'pipelineStage',
      reason: `unknown stage "${update.pipelineStage}"; one of ${config.pipeline.stages.map((s) => s.id).join(', ')}`,
    });
  if (update.lostReason !== undefined && !config.pipeline.lostReasons.includes(update.lostReason))
    problems.push({
      field: 'lostReason',
      reason: `one of ${config.pipeline.lostReasons.map((r) => `"${r}"`).join(', ')}`,
    });
  if (problems.length > 0) throw new InvalidInputError(problems);

  const currentStage = pipelineStage(config, lead.pipelineStage);
  let next: Lead = { ...lead };
  if (targetStage) {
    const implied = statusForOutcome(targetStage.outcome);
    if (update.status !== undefined && update.status !== implied)
      problems.push({
        field: 'status',
        reason: `stage "${targetStage.id}" (${targetStage.outcome}) means status "${implied}", not "${update.status}"`,
      });
    if (
      targetStage.outcome === 'lost' &&
      (update.lostReason ?? (currentStage?.outcome === 'lost' ? lead.lostReason : undefined)) === undefined
    )
      problems.push({
        field: 'lostReason',
        reason: `required when moving to the lost stage "${targetStage.id}"`,
      });
    if (targetStage.outcome !== 'lost' && update.lostReason !== undefined)
      problems.push({
        field: 'lostReason',
        reason: `only a lost stage takes a lost reason, not "${targetStage.id}"`,
      });
    if (problems.length > 0) throw new InvalidInputError(problems);
    if (targetStage.outcome !== 'lost' && lead.firstTouchAt === undefined)
      throw new LeadStateConflictError(
        `Lead ${lead.id} was never contacted: mark it contacted (POST /leads/${lead.id}/contacted) before moving it to "${targetStage.id}"`,
      );
    next = {
      ...next,
      status: implied,
      stage:
        targetStage.outcome === 'won'
          ? 'customer'
          : targetStage.outcome === 'open'
            ? laterStage(lead.stage, 'opportunity')
            : lead.stage,
      pipelineStage: targetStage.id,
    };
    if (targetStage.outcome === 'lost') next.lostReason = update.lostReason ?? lead.lostReason;
    else delete next.lostReason;
  } else if (update.status !== undefined) {
    if (currentStage?.outcome === 'open' && update.status === 'disqualified')
      problems.push({
        field: 'status',
        reason: `the lead is an open opportunity ("${currentStage.id}"): move pipelineStage to a lost stage instead`,
      });
    if (currentStage && currentStage.outcome !== 'open' && update.status === 'working')
      problems.push({
        field: 'status',
        reason: `the deal is closed ("${currentStage.id}"): move pipelineStage to an open stage to reopen it`,
      });
    if (update.status === 'working' && update.lostReason !== undefined)
      problems.push({ field: 'lostReason', reason: 'only a disqualified lead takes a lost reason' });
    if (problems.length > 0) throw new InvalidInputError(problems);
    if (update.status === 'working' && lead.firstTouchAt === undefined)
      throw new LeadStateConflictError(
        `Lead ${lead.id} was never contacted: mark it contacted (POST /leads/${lead.id}/contacted) before working it`,
      );
    next.status = update.status;
    if (update.status === 'disqualified' && update.lostReason !== undefined)
      next.lostReason = update.lostReason;
    if (update.status === 'working') delete next.lostReason;
  } else if (update.lostReason !== undefined) {
    if (lead.status !== 'disqualified')
      throw new InvalidInputError([
        { field: 'lostReason', reason: 'only a lost or disqualified lead takes a lost reason' },
      ]);
    next.lostReason = update.lostReason;
  }
  if (update.amount !== undefined) next.amount = update.amount;
  if (update.marketingConsent === false && lead.consent?.marketing !== false)
    next.consent = { marketing: false, at: iso, via: `api:${by}`.slice(0, TEXT_LIMITS.short) };

  const changed = (['status', 'stage', 'pipelineStage', 'amount', 'lostReason', 'consent'] as const).filter(
    (field) => next[field] !== lead[field],
  );
  if (changed.length === 0) return { lead, changed: [] };
  next.updatedAt = iso;
  if (next.pipelineStage === lead.pipelineStage || next.pipelineStage === undefined)
    return { lead: next, changed };

  next.pipelineStageAt = iso;
  const activity: Activity = {
    id: stageChangeActivityId(lead.id, iso),
    leadId: lead.id,
    type: 'stage_changed',
    at: iso,
    data: {
      ...(lead.pipelineStage !== undefined ? { from: lead.pipelineStage } : {}),
      to: next.pipelineStage,
      by,
      ...(next.lostReason !== undefined && targetStage?.outcome === 'lost'
        ? { lostReason: next.lostReason }
        : {}),
    },
  };
  return {
    lead: next,
    changed,
    stageChange: {
      ...(lead.pipelineStage !== undefined ? { from: lead.pipelineStage } : {}),
      to: next.pipelineStage,
      activity,
    },
  };
}

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

// ------------------------------------------------------------------------------------ notes and tasks

/** Longest note. */
export const NOTE_MAX_LENGTH = TEXT_LIMITS.message;
/** Longest task title (the client file's required actions share it). */
export { TASK_TITLE_MAX_LENGTH };

/** A rep's note on a lead. */
export interface LeadNote {
  readonly id: string;
  readonly leadId: string;
  readonly at: string;
  readonly by: string;
  readonly text: string;
}

/**
 * Why the system created a task: `follow-up` is the first contact an assignment asks for (due at
 * the SLA deadline), `stage-action` a required action of the pipeline stage the deal entered.
 * Tasks people add have no origin.
 */
export const TASK_ORIGINS = ['follow-up', 'stage-action'] as const;
export type TaskOrigin = (typeof TASK_ORIGINS)[number];

/** Why the system closed a task it created (a person closing one leaves this unset). */
export const TASK_CLOSE_REASONS = ['contacted', 'reassigned', 'deal-closed'] as const;
export type TaskCloseReason = (typeof TASK_CLOSE_REASONS)[number];

/** A stored task, as read back (unknown attributes dropped). */
export const LeadTaskSchema = z.object({
  id: z.string(),
  leadId: z.string(),
  createdAt: z.string(),
  by: z.string(),
  title: z.string(),
  dueAt: z.string(),
  done: z.boolean(),
  doneAt: z.string().optional(),
  doneBy: z.string().optional(),
  origin: z.enum(TASK_ORIGINS).optional(),
  assignee: z.string().optional(),
  pipelineStage: z.string().optional(),
  closedBecause: z.enum(TASK_CLOSE_REASONS).optional(),
});

/** A follow-up task on a lead. */
export interface LeadTask {
  readonly id: string;
  readonly leadId: string;
  readonly createdAt: string;
  readonly by: string;
  readonly title: string;
  readonly dueAt: string;
  readonly done: boolean;
  /** When and by whom the task was marked done; absent while it is open. */
  readonly doneAt?: string;
  readonly doneBy?: string;
  /** Set on tasks the system created; see {@link TaskOrigin}. */
  readonly origin?: TaskOrigin;
  /** The rep the task is for (the lead's owner when it was created). */
  readonly assignee?: string;
  /** For a `stage-action`: the stage whose entry created it. */
  readonly pipelineStage?: string;
  /** Set when the system closed the task; see {@link TaskCloseReason}. */
  readonly closedBecause?: TaskCloseReason;
}

/** Whether an open task's due time has passed. */
export function isOverdue(task: Pick<LeadTask, 'done' | 'dueAt'>, now: Date): boolean {
  return !task.done && Date.parse(task.dueAt) < now.getTime();
}

/** What a rep may change on a task: mark it done or open again, or rename it. */
export interface TaskChange {
  readonly title?: string;
  readonly done?: boolean;
}

/**
 * The task after `change`, made by `by` at `at`. Marking it done records when and by whom (a task
 * already done keeps its first record); opening it again clears them.
 */
export function changeTask(task: LeadTask, change: TaskChange, at: string, by: string): LeadTask {
  const { doneAt: _doneAt, doneBy: _doneBy, closedBecause: _closedBecause, ...open } = task;
  const title = change.title ?? task.title;
  if (!(change.done ?? task.done)) return { ...open, title, done: false };
  return task.done ? { ...task, title } : { ...open, title, done: true, doneAt: at, doneBy: by };
}

// ------------------------------------------------------------------------------------ stale deals

/** Ids of the stages whose deals are still open (outcome `open`). */
export function openStageIds(config: Pick<ClientConfig, 'pipeline'>): string[] {
  return config.pipeline.stages.filter((s) => s.outcome === 'open').map((s) => s.id);
}

/** The instant before which an unchanged stage makes a deal stale. */
export function staleCutoff(config: Pick<ClientConfig, 'pipeline'>, now: Date): Date {
  return new Date(now.getTime() - config.pipeline.staleAfterDays * 86_400_000);
}

/** A deal stuck in its stage. */
export interface StaleDeal {
  readonly lead: Lead;
  readonly repId: string;
  readonly pipelineStage: string;
  readonly daysInStage: number;
}

/** Whole days the deal has been in its pipeline stage. */
export function daysInStage(lead: Pick<Lead, 'pipelineStageAt' | 'updatedAt'>, now: Date): number {
  return Math.floor((now.getTime() - Date.parse(lead.pipelineStageAt ?? lead.updatedAt)) / 86_400_000);
}

/** Whether the deal sits in an open pipeline stage unchanged for at least `staleAfterDays` whole days. */
export function isStaleDeal(
  lead: Pick<Lead, 'pipelineStage' | 'pipelineStageAt' | 'updatedAt'>,
  config: Pick<ClientConfig, 'pipeline'>,
  now: Date,
): boolean {
  return (
    pipelineStage(config, lead.pipelineStage)?.outcome === 'open' &&
    daysInStage(lead, now) >= config.pipeline.staleAfterDays
  );
}

/**
 * The stale deals among candidate leads: an open pipeline stage unchanged for at least
 * `staleAfterDays` whole days. Deals without an owner go to their team's manager; deals with
 * neither are skipped (nobody to tell).
 */
export function findStaleDeals(
  leads: readonly Lead[],
  config: Pick<ClientConfig, 'pipeline' | 'teams'>,
  now: Date,
): StaleDeal[] {
  const deals: StaleDeal[] = [];
  for (const lead of leads) {
    if (lead.pipelineStage === undefined || !isStaleDeal(lead, config, now)) continue;
    const repId = lead.owner ?? config.teams.find((t) => t.id === lead.team)?.manager;
    if (repId === undefined) continue;
    deals.push({ lead, repId, pipelineStage: lead.pipelineStage, daysInStage: daysInStage(lead, now) });
  }
  return deals;
}
