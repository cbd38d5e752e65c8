import type { ClientConfig, Priority } from '../config/schema';
import type { LeadFacts } from './lead';
/** What routing decides and why: assignments, holds, nurture, with the reps it skipped and the reasons. */

export type RoutingConfig = Pick<ClientConfig, 'teams' | 'reps' | 'territories' | 'routing'>;

/** Per-rep counters kept in the database. A rep without an entry counts as holding no leads. */
export interface RepState {
  /** Leads currently open (assigned, contacted or working) with this rep. */
  readonly openLeads: number;
}

/**
 * A team's smooth weighted round-robin state (the nginx SWRR algorithm), small enough to store as
 * one DynamoDB attribute. At each pick every eligible rep gains its weight in credit, the richest
 * rep wins and pays back the sum of the eligible weights; reps who are not eligible gain nothing,
 * so a rep coming back from leave or from a full queue gets no burst of catch-up leads.
 *
 * Persist it with a conditional write on `seq` (`seq = :previous`, or `attribute_not_exists` for
 * a new team) so two concurrent routings cannot both spend the same turn; on a conflict reload
 * and route again.
 */
export interface RoundRobinCursor {
  /** Round-robin picks made for the team so far; the optimistic-lock version. */
  readonly seq: number;
  /** Credit per rep id; missing means 0. */
  readonly credits: Readonly<Record<string, number>>;
}

/** The cursor of a team that has never had a round-robin pick. */
export const EMPTY_CURSOR: RoundRobinCursor = Object.freeze({ seq: 0, credits: Object.freeze({}) });

/** Why an otherwise possible rep did not get the lead. */
export type SkipReason = 'out-of-office' | 'at-capacity' | 'outside-hours' | 'less-senior';

export interface SkippedRep {
  readonly repId: string;
  /** The team the rep was considered for. */
  readonly teamId: string;
  readonly reason: SkipReason;
}

/** Everything a person needs to see why a lead went where it went. */
export interface RoutingExplanation {
  /** The matched routing rule; `null` when none matched. */
  readonly rule: { readonly id: string; readonly label: string } | null;
  /** Human descriptions of the matched rule's conditions (empty for a catch-all rule). */
  readonly matchedConditions: string[];
  /** Reps passed over, with the reason, in the order they were considered. */
  readonly skipped: SkippedRep[];
  /** The decision as sentences, in order. */
  readonly steps: string[];
}

/**
 * How the owner was found. `manager` is only produced by {@link chooseEscalationTarget}.
 */
export type AssignVia = 'returning-owner' | 'round-robin' | 'team-backup' | 'default-owner' | 'manager';

/** The lead gets an owner now. */
export interface AssignDecision {
  readonly outcome: 'assign';
  readonly repId: string;
  /** The team the owner was picked from (the owner's own team for returning and default owners). */
  readonly teamId: string;
  /** The matched rule; `null` when no rule matched (default owner). */
  readonly ruleId: string | null;
  readonly priority: Priority;
  readonly via: AssignVia;
  /** The team's new round-robin cursor when a round-robin pick was made; write it back. */
  readonly cursor?: { readonly teamId: string; readonly value: RoundRobinCursor };
  readonly explanation: RoutingExplanation;
}

/** Nobody is on shift and the rule says wait: route again at `until`. */
export interface HoldDecision {
  readonly outcome: 'hold';
  readonly teamId: string;
  readonly ruleId: string;
  readonly priority: Priority;
  /** The earliest next working start among the team's reps who are free (not away, not full). */
  readonly until: Date;
  readonly explanation: RoutingExplanation;
}

/** The lead is not for sales yet: enrol it in a nurture sequence, no owner. */
export interface NurtureDecision {
  readonly outcome: 'nurture';
  readonly sequenceId: string;
  readonly ruleId: string;
  readonly explanation: RoutingExplanation;
}

/** Exactly one outcome per lead. */
export type RoutingDecision = AssignDecision | HoldDecision | NurtureDecision;

export interface RoutingInput {
  /** The lead's facts (profile plus `score`, `stage`, `priority`...), see `leadFacts`. */
  readonly facts: LeadFacts;
  readonly config: RoutingConfig;
  readonly now: Date;
  /** The lead's owner, when it already has one (a returning or re-scored lead). */
  readonly currentOwner?: string;
  /** Open-lead counters by rep id. */
  readonly reps: ReadonlyMap<string, RepState>;
  /** Round-robin cursors by team id; a missing team starts from {@link EMPTY_CURSOR}. */
  readonly cursors: ReadonlyMap<string, RoundRobinCursor>;
}

/** The configuration contradicts itself in a way the schema checks should have caught. */
export class RoutingConfigError extends Error {
  override readonly name = 'RoutingConfigError';
}
