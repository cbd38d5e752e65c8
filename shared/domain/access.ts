import type { ClientConfig, Rep } from '../config/schema';
import { InvalidInputError, LeadNotFoundError, LeadPipelineError, NotAllowedError } from './errors';
import type { Lead } from './lead';
/** Who the caller is and what they may see and change: roles, lead access, list scopes. */

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
