import type { ClientConfig, Priority, Team } from '../config/schema';
import {
  assessTeam,
  type Context,
  explanation,
  findTeam,
  pickInTeam,
  type RuleContext,
  type TeamAssessment,
  teamLabel,
} from './routing';
import type { AssignDecision, RepState, RoundRobinCursor, RoutingConfig } from './routing-decisions';
import { isOutOfOffice } from './working-hours';
/** Who an SLA escalation goes to: the next rung of the ladder, as an assignment decision. */

export type EscalationRecipient = ClientConfig['sla']['ladder'][number]['to'];

export interface EscalationInput {
  /** The team the lead was routed to. */
  readonly teamId: string;
  readonly to: EscalationRecipient;
  /** Reps who already had the lead (current and previous owners): never picked again. */
  readonly exclude: readonly string[];
  readonly config: RoutingConfig;
  readonly reps: ReadonlyMap<string, RepState>;
  readonly cursors: ReadonlyMap<string, RoundRobinCursor>;
  readonly now: Date;
  /** Carried into the decision; from the lead's original routing. */
  readonly ruleId?: string | null;
  /** @default "normal" */
  readonly priority?: Priority;
}

/**
 * Picks who receives a lead at one step of the SLA escalation ladder, with the same eligibility
 * rules as {@link routeLead} (out of office and full reps never; reps who already had the lead
 * never):
 *
 * - `team`: round robin among the team's on-shift reps, else its free off-shift reps;
 * - `teamBackup`: the backup team's on-shift reps, then the team's own on-shift reps, then the
 *   off-shift reps of each in that order (a rep awake now beats a backup rep asleep);
 * - `manager`: the team's manager, even outside hours or over capacity (escalation is about
 *   accountability, not load), but not when out of office or already excluded.
 *
 * Returns `undefined` when nobody is left, so the caller can mark the lead unworked.
 */
export function chooseEscalationTarget(input: EscalationInput): AssignDecision | undefined {
  const steps: string[] = [];
  const ctx: Context = {
    config: input.config,
    now: input.now,
    reps: input.reps,
    cursors: input.cursors,
    steps,
  };
  const rc: RuleContext = {
    rule: undefined,
    priority: input.priority ?? 'normal',
    explanationBase: { rule: null, matchedConditions: [] },
  };
  const ruleId = input.ruleId ?? null;
  const team = findTeam(input.config, input.teamId);
  const exclude = new Set(input.exclude);
  if (exclude.size > 0)
    steps.push(`Escalating; excluded because they already had the lead: ${[...exclude].join(', ')}.`);

  if (input.to === 'manager') {
    const manager = input.config.reps.find((r) => r.id === team.manager);
    if (!manager || exclude.has(manager.id)) return undefined;
    if (isOutOfOffice(manager, input.now)) return undefined;
    steps.push(`Escalated to ${manager.id}, the manager of ${teamLabel(team)}.`);
    return {
      outcome: 'assign',
      repId: manager.id,
      teamId: team.id,
      ruleId,
      priority: rc.priority,
      via: 'manager',
      explanation: explanation(rc, ctx, []),
    };
  }

  const order: { team: Team; via: 'round-robin' | 'team-backup' }[] = [];
  if (input.to === 'teamBackup' && team.backupTeam !== undefined)
    order.push({ team: findTeam(input.config, team.backupTeam), via: 'team-backup' });
  order.push({ team, via: 'round-robin' });

  // Teams are looked at lazily, so the explanation only lists the teams that were considered.
  const assessed: { team: Team; via: 'round-robin' | 'team-backup'; assessment: TeamAssessment }[] = [];
  for (const o of order) {
    const assessment = assessTeam(ctx, o.team, exclude);
    assessed.push({ ...o, assessment });
    if (assessment.eligible.length > 0) {
      const skipped = assessed.flatMap((a) => a.assessment.skipped);
      return withRuleId(pickInTeam(ctx, rc, assessment, assessment.eligible, o.via, skipped), ruleId);
    }
  }
  for (const a of assessed)
    if (a.assessment.offShift.length > 0) {
      steps.push(`Nobody is on shift; escalating within ${teamLabel(a.team)} outside working hours.`);
      const skipped = assessed
        .flatMap((x) => x.assessment.skipped)
        .filter((s) => !(s.teamId === a.team.id && s.reason === 'outside-hours'));
      return withRuleId(pickInTeam(ctx, rc, a.assessment, a.assessment.offShift, a.via, skipped), ruleId);
    }
  return undefined;
}

function withRuleId(decision: AssignDecision, ruleId: string | null): AssignDecision {
  return { ...decision, ruleId };
}
