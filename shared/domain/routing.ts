import type { Priority, Rep, RoutingRule, Seniority, Team } from '../config/schema';
import { describeCondition, matches } from './conditions';
import type { LeadFacts } from './lead';
import {
  type AssignDecision,
  EMPTY_CURSOR,
  type HoldDecision,
  type RepState,
  type RoundRobinCursor,
  type RoutingConfig,
  RoutingConfigError,
  type RoutingDecision,
  type RoutingExplanation,
  type RoutingInput,
  type SkippedRep,
  type SkipReason,
} from './routing-decisions';
import { isOutOfOffice, isWithinWorkingHours, nextWorkingStart, zonedTime } from './working-hours';

/**
 * The routing engine: who gets a lead, or why nobody does yet. Pure: the caller loads the
 * rep counters and round-robin cursors, calls {@link routeLead}, then writes the lead and the
 * returned cursor (conditionally, on the cursor's `seq`).
 *
 * Order of decisions, each recorded in the explanation:
 *
 * 1. The first routing rule whose conditions all hold is the rule; none → the default owner.
 * 2. A lead that already has an owner stays with that owner, whatever the rule says (even a
 *    nurture rule: a rep who is talking to the lead is not silently taken off it) and whatever
 *    the owner's load or hours (the lead already counts against them). Only an owner who is out
 *    of office, or no longer configured, lets the lead be routed afresh.
 * 3. A nurture rule enrols the lead in its sequence; no owner.
 * 4. A team rule (or the territory of `country`, falling back to the `*` territory) names the team.
 *    Inside it, weighted round robin among eligible reps: not out of office, below capacity
 *    and on shift in their own zone. Managers take leads like reps when their capacity is above 0.
 *    For rules with `preferSeniorFor` at or below the rule's priority only the most senior
 *    eligible tier competes.
 * 5. Nobody on shift, but someone free later: `hold` waits for the earliest next shift start;
 *    `route` tries the backup team's on-shift reps, then assigns within the team anyway (round
 *    robin ignoring hours), because a `route` rule says the lead must not wait and the owner's
 *    SLA clock only counts their working time.
 * 6. Nobody free at all (out of office or full): the backup team (one hop, never the backup's
 *    backup, so two teams backing each other cannot loop), then the client's default owner,
 *    assigned even when full, away or off shift: a lead must always have somebody.
 */

/** The parts of the client configuration routing reads. */

const PRIORITY_RANK: Readonly<Record<Priority, number>> = { low: 0, normal: 1, high: 2 };
const SENIORITY_TIERS: readonly Seniority[] = ['senior', 'mid', 'junior'];

const REASON_TEXT: Readonly<Record<SkipReason, string>> = {
  'out-of-office': 'out of office',
  'at-capacity': 'at capacity',
  'outside-hours': 'outside working hours',
  'less-senior': 'less senior',
};

/** Shared state of one routing call. */
export interface Context {
  readonly config: RoutingConfig;
  readonly now: Date;
  readonly reps: ReadonlyMap<string, RepState>;
  readonly cursors: ReadonlyMap<string, RoundRobinCursor>;
  readonly steps: string[];
}

/** One team looked at for one lead. */
export interface TeamAssessment {
  readonly team: Team;
  readonly members: readonly Rep[];
  /** Free and on shift. */
  readonly eligible: readonly Rep[];
  /** Free (not away, not full) but outside working hours. */
  readonly offShift: readonly Rep[];
  readonly skipped: readonly SkippedRep[];
}

export function openLeads(ctx: Context, repId: string): number {
  return ctx.reps.get(repId)?.openLeads ?? 0;
}

/** Why a rep cannot take a lead right now, or `undefined` when they can. */
function unavailability(ctx: Context, rep: Rep): Exclude<SkipReason, 'less-senior'> | undefined {
  if (isOutOfOffice(rep, ctx.now)) return 'out-of-office';
  if (openLeads(ctx, rep.id) >= rep.capacity) return 'at-capacity';
  if (!isWithinWorkingHours(rep.workingHours, rep.timezone, ctx.now)) return 'outside-hours';
  return undefined;
}

function listReps(reps: readonly Rep[]): string {
  return reps.length === 0 ? 'nobody' : reps.map((r) => r.id).join(', ');
}

function listSkips(skipped: readonly SkippedRep[]): string {
  return skipped.map((s) => `${s.repId} ${REASON_TEXT[s.reason]}`).join(', ');
}

export function teamLabel(team: Team): string {
  return `team "${team.name}" (${team.id})`;
}

export function findTeam(config: RoutingConfig, teamId: string): Team {
  const team = config.teams.find((t) => t.id === teamId);
  if (!team) throw new RoutingConfigError(`routing refers to unknown team "${teamId}"; add it under teams:`);
  return team;
}

export function assessTeam(
  ctx: Context,
  team: Team,
  exclude: ReadonlySet<string> = new Set(),
): TeamAssessment {
  const members = ctx.config.reps.filter((r) => r.team === team.id);
  const considered = members.filter((r) => !exclude.has(r.id));
  const eligible: Rep[] = [];
  const offShift: Rep[] = [];
  const skipped: SkippedRep[] = [];
  for (const rep of considered) {
    const reason = unavailability(ctx, rep);
    if (reason === undefined) eligible.push(rep);
    else {
      if (reason === 'outside-hours') offShift.push(rep);
      skipped.push({ repId: rep.id, teamId: team.id, reason });
    }
  }
  const skippedText = skipped.length > 0 ? `; skipped ${listSkips(skipped)}` : '';
  ctx.steps.push(
    `Team "${team.name}" (${team.id}): ${eligible.length} of ${considered.length} reps eligible (${listReps(eligible)})${skippedText}.`,
  );
  return { team, members, eligible, offShift, skipped };
}

/** Keeps only the most senior tier when the rule asks for it. */
function applySeniority(
  ctx: Context,
  rule: RoutingRule | undefined,
  teamId: string,
  candidates: readonly Rep[],
): { kept: readonly Rep[]; skipped: SkippedRep[] } {
  if (
    rule?.preferSeniorFor === undefined ||
    PRIORITY_RANK[rule.priority] < PRIORITY_RANK[rule.preferSeniorFor]
  )
    return { kept: candidates, skipped: [] };
  const tier = SENIORITY_TIERS.find((s) => candidates.some((r) => r.seniority === s));
  const kept = candidates.filter((r) => r.seniority === tier);
  const dropped = candidates.filter((r) => r.seniority !== tier);
  const skipped = dropped.map((r) => ({ repId: r.id, teamId, reason: 'less-senior' as const }));
  ctx.steps.push(
    `Priority ${rule.priority} prefers seniority: the ${tier} tier competes (${listReps(kept)})` +
      (dropped.length > 0 ? `, passing over ${listReps(dropped)}.` : '.'),
  );
  return { kept, skipped };
}

/**
 * A rep's credit in a stored cursor. Own numeric properties only: the cursor comes back from the
 * database, and a rep id such as "constructor" must not read `Object.prototype`.
 */
function creditOf(cursor: RoundRobinCursor, repId: string): number {
  const value: unknown = Object.hasOwn(cursor.credits, repId) ? cursor.credits[repId] : 0;
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/**
 * One smooth weighted round-robin pick among `candidates` (team order breaks ties). Credits of
 * team members who are not candidates are carried over untouched; ids no longer in the team are
 * dropped so the cursor stays small.
 */
function roundRobin(
  members: readonly Rep[],
  candidates: readonly Rep[],
  cursor: RoundRobinCursor,
): { rep: Rep; cursor: RoundRobinCursor } {
  const credits: Record<string, number> = {};
  for (const m of members) credits[m.id] = creditOf(cursor, m.id);
  let best: Rep | undefined;
  let total = 0;
  for (const c of candidates) {
    credits[c.id] = (credits[c.id] ?? 0) + c.weight;
    total += c.weight;
    if (best === undefined || (credits[c.id] ?? 0) > (credits[best.id] ?? 0)) best = c;
  }
  if (best === undefined) throw new RoutingConfigError('round robin needs at least one candidate');
  credits[best.id] = (credits[best.id] ?? 0) - total;
  return { rep: best, cursor: { seq: cursor.seq + 1, credits } };
}

export interface RuleContext {
  readonly rule: RoutingRule | undefined;
  readonly explanationBase: Pick<RoutingExplanation, 'rule' | 'matchedConditions'>;
  readonly priority: Priority;
}

export function explanation(
  rc: RuleContext,
  ctx: Context,
  skipped: readonly SkippedRep[],
): RoutingExplanation {
  return { ...rc.explanationBase, skipped: [...skipped], steps: ctx.steps };
}

export function pickInTeam(
  ctx: Context,
  rc: RuleContext,
  assessment: TeamAssessment,
  candidates: readonly Rep[],
  via: 'round-robin' | 'team-backup',
  priorSkips: readonly SkippedRep[],
): AssignDecision {
  const teamId = assessment.team.id;
  const senior = applySeniority(ctx, rc.rule, teamId, candidates);
  const before = ctx.cursors.get(teamId) ?? EMPTY_CURSOR;
  const { rep, cursor } = roundRobin(assessment.members, senior.kept, before);
  ctx.steps.push(
    senior.kept.length === 1
      ? `Assigned to ${rep.id}, the only candidate in ${teamLabel(assessment.team)}.`
      : `Weighted round robin among ${senior.kept.map((r) => `${r.id} (weight ${r.weight})`).join(', ')} picked ${rep.id}.`,
  );
  return {
    outcome: 'assign',
    repId: rep.id,
    teamId,
    ruleId: rc.rule?.id ?? null,
    priority: rc.priority,
    via,
    cursor: { teamId, value: cursor },
    explanation: explanation(rc, ctx, [...priorSkips, ...senior.skipped]),
  };
}

function holdFor(
  ctx: Context,
  rc: RuleContext,
  rule: RoutingRule,
  assessment: TeamAssessment,
  priorSkips: readonly SkippedRep[],
): HoldDecision {
  let first: { rep: Rep; at: Date } | undefined;
  for (const rep of assessment.offShift) {
    const at = nextWorkingStart(rep.workingHours, rep.timezone, ctx.now);
    if (first === undefined || at < first.at) first = { rep, at };
  }
  if (first === undefined) throw new RoutingConfigError('a hold needs a rep who is free later');
  const local = zonedTime(first.rep.timezone, first.at);
  const hhmm = `${String(Math.floor(local.minuteOfDay / 60)).padStart(2, '0')}:${String(local.minuteOfDay % 60).padStart(2, '0')}`;
  ctx.steps.push(
    `Nobody in ${teamLabel(assessment.team)} is on shift and rule "${rule.id}" holds outside working hours: ` +
      `held until ${first.at.toISOString()}, when ${first.rep.id} starts (${local.weekday} ${hhmm} ${first.rep.timezone}).`,
  );
  return {
    outcome: 'hold',
    teamId: assessment.team.id,
    ruleId: rule.id,
    priority: rc.priority,
    until: first.at,
    explanation: explanation(rc, ctx, priorSkips),
  };
}

function assignDefaultOwner(
  ctx: Context,
  rc: RuleContext,
  why: string,
  priorSkips: readonly SkippedRep[],
): AssignDecision {
  const id = ctx.config.routing.defaultOwner;
  const rep = ctx.config.reps.find((r) => r.id === id);
  if (!rep) throw new RoutingConfigError(`routing.defaultOwner "${id}" is not a rep; add it under reps:`);
  const reason = unavailability(ctx, rep);
  ctx.steps.push(
    `${why} Assigned to the default owner ${rep.id}` +
      (reason === undefined
        ? '.'
        : ` although ${REASON_TEXT[reason]}: the default owner is the last resort.`),
  );
  return {
    outcome: 'assign',
    repId: rep.id,
    teamId: rep.team,
    ruleId: rc.rule?.id ?? null,
    priority: rc.priority,
    via: 'default-owner',
    explanation: explanation(rc, ctx, priorSkips),
  };
}

/** The team a rule sends the lead to, or `undefined` (with the reason recorded) when there is none. */
function targetTeam(ctx: Context, rule: RoutingRule, facts: LeadFacts): Team | undefined {
  if ('team' in rule.target) {
    const team = findTeam(ctx.config, rule.target.team);
    ctx.steps.push(`The rule sends leads to ${teamLabel(team)}.`);
    return team;
  }
  const country = typeof facts.country === 'string' ? facts.country.trim().toUpperCase() : '';
  const territories = ctx.config.territories;
  const own =
    country === ''
      ? undefined
      : territories.find((t) => t.countries !== '*' && t.countries.includes(country));
  const territory = own ?? territories.find((t) => t.countries === '*');
  const where = country === '' ? 'The lead has no country' : `Country ${country}`;
  if (!territory) {
    ctx.steps.push(`${where} is in no territory and there is no catch-all ("*") territory.`);
    return undefined;
  }
  const team = findTeam(ctx.config, territory.team);
  ctx.steps.push(
    own
      ? `${where} is in territory "${territory.name}" (${territory.id}), served by ${teamLabel(team)}.`
      : `${where === 'The lead has no country' ? where : `${where} is in no territory`}; the catch-all territory "${territory.name}" (${territory.id}) is served by ${teamLabel(team)}.`,
  );
  return team;
}

/** Routes within a team, its backup and finally the default owner. */
function routeToTeam(
  ctx: Context,
  rc: RuleContext,
  rule: RoutingRule,
  team: Team,
  priorSkips: SkippedRep[],
): RoutingDecision {
  const primary = assessTeam(ctx, team);
  if (primary.eligible.length > 0)
    return pickInTeam(ctx, rc, primary, primary.eligible, 'round-robin', [...priorSkips, ...primary.skipped]);

  const backupTeam = team.backupTeam === undefined ? undefined : findTeam(ctx.config, team.backupTeam);

  if (primary.offShift.length > 0) {
    if (rule.outsideHours === 'hold')
      return holdFor(ctx, rc, rule, primary, [...priorSkips, ...primary.skipped]);
    ctx.steps.push(`Nobody in ${teamLabel(team)} is on shift; rule "${rule.id}" routes anyway.`);
    const backup = backupTeam && assessTeam(ctx, backupTeam);
    if (backup && backup.eligible.length > 0)
      return pickInTeam(ctx, rc, backup, backup.eligible, 'team-backup', [
        ...priorSkips,
        ...primary.skipped,
        ...backup.skipped,
      ]);
    ctx.steps.push(
      `${backup ? 'Nobody in the backup team is eligible either' : 'There is no backup team'}; assigning within ${teamLabel(team)} outside working hours (the SLA clock waits for the owner's shift).`,
    );
    // Hours are ignored in this pass, so the off-shift reps are candidates, not skipped.
    const stillSkipped = primary.skipped.filter((s) => s.reason !== 'outside-hours');
    return pickInTeam(ctx, rc, primary, primary.offShift, 'round-robin', [
      ...priorSkips,
      ...(backup?.skipped ?? []),
      ...stillSkipped,
    ]);
  }

  const skips = [...priorSkips, ...primary.skipped];
  if (backupTeam) {
    ctx.steps.push(
      `Nobody in ${teamLabel(team)} can take leads; trying its backup ${teamLabel(backupTeam)}.`,
    );
    const backup = assessTeam(ctx, backupTeam);
    if (backup.eligible.length > 0)
      return pickInTeam(ctx, rc, backup, backup.eligible, 'team-backup', [...skips, ...backup.skipped]);
    if (backup.offShift.length > 0) {
      if (rule.outsideHours === 'hold') return holdFor(ctx, rc, rule, backup, [...skips, ...backup.skipped]);
      ctx.steps.push(`Nobody in the backup team is on shift; rule "${rule.id}" routes anyway.`);
      const stillSkipped = backup.skipped.filter((s) => s.reason !== 'outside-hours');
      return pickInTeam(ctx, rc, backup, backup.offShift, 'team-backup', [...skips, ...stillSkipped]);
    }
    return assignDefaultOwner(ctx, rc, 'Nobody in the backup team can take leads either.', [
      ...skips,
      ...backup.skipped,
    ]);
  }
  return assignDefaultOwner(
    ctx,
    rc,
    `Nobody in ${teamLabel(team)} can take leads and it has no backup team.`,
    skips,
  );
}

/** The first rule whose conditions all hold; the reasons earlier rules failed go to the steps. */
function firstMatchingRule(
  rules: readonly RoutingRule[],
  facts: LeadFacts,
  steps: string[],
): RoutingRule | undefined {
  for (const rule of rules) {
    const failed = rule.when.find((c) => !matches(c, facts));
    if (failed === undefined) return rule;
    steps.push(`Rule "${rule.id}" did not match: ${describeCondition(failed)} does not hold.`);
  }
  return undefined;
}

/**
 * Decides where a lead goes: assign to a rep, hold until the next working hour, or nurture.
 * Pure and deterministic for the same input; see the module notes for the full order of
 * decisions. When the decision carries a `cursor`, the caller must persist it (conditionally on
 * the previous `seq`) together with the assignment.
 */
export function routeLead(input: RoutingInput): RoutingDecision {
  const steps: string[] = [];
  const ctx: Context = {
    config: input.config,
    now: input.now,
    reps: input.reps,
    cursors: input.cursors,
    steps,
  };
  const rule = firstMatchingRule(input.config.routing.rules, input.facts, steps);
  const rc: RuleContext = {
    rule,
    priority: rule?.priority ?? 'normal',
    explanationBase: {
      rule: rule ? { id: rule.id, label: rule.label } : null,
      matchedConditions: rule ? rule.when.map(describeCondition) : [],
    },
  };
  if (rule)
    steps.push(
      rule.when.length === 0
        ? `Rule "${rule.id}" (${rule.label}) matched: it has no conditions.`
        : `Rule "${rule.id}" (${rule.label}) matched: ${rc.explanationBase.matchedConditions.join('; ')}.`,
    );

  const priorSkips: SkippedRep[] = [];
  if (input.currentOwner !== undefined) {
    const owner = input.config.reps.find((r) => r.id === input.currentOwner);
    if (!owner) {
      steps.push(`The previous owner "${input.currentOwner}" is no longer a rep; routing afresh.`);
    } else if (isOutOfOffice(owner, input.now)) {
      steps.push(`The previous owner ${owner.id} is out of office; routing afresh.`);
      priorSkips.push({ repId: owner.id, teamId: owner.team, reason: 'out-of-office' });
    } else {
      steps.push(
        `The lead already belongs to ${owner.id}, who keeps it (returning leads stay with their owner regardless of load, hours or rule).`,
      );
      return {
        outcome: 'assign',
        repId: owner.id,
        teamId: owner.team,
        ruleId: rule?.id ?? null,
        priority: rc.priority,
        via: 'returning-owner',
        explanation: explanation(rc, ctx, priorSkips),
      };
    }
  }

  if (!rule) return assignDefaultOwner(ctx, rc, 'No routing rule matched.', priorSkips);

  if ('nurture' in rule.target) {
    steps.push(`Enrolled in nurture sequence "${rule.target.nurture}"; no owner until the lead qualifies.`);
    return {
      outcome: 'nurture',
      sequenceId: rule.target.nurture,
      ruleId: rule.id,
      explanation: explanation(rc, ctx, priorSkips),
    };
  }

  const team = targetTeam(ctx, rule, input.facts);
  if (!team) return assignDefaultOwner(ctx, rc, 'No team serves this lead.', priorSkips);
  return routeToTeam(ctx, rc, rule, team, priorSkips);
}

/** Ladder step recipients, as in the client's `sla.ladder[].to`. */
