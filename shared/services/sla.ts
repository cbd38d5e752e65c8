import { z } from 'zod';
import type { ClientConfig, Rep } from '../config/schema';
import { LeadChangedError, RepAtCapacityError, RoundRobinMovedError } from '../domain/errors';
import { chooseEscalationTarget } from '../domain/escalation';
import type { Activity, Lead } from '../domain/lead';
import { leadActivityId } from '../domain/pipeline';
import {
  type AssignDecision,
  EMPTY_CURSOR,
  type RepState,
  type RoundRobinCursor,
} from '../domain/routing-decisions';
import {
  type AppliedStep,
  assessLead,
  exhaustedTimer,
  firstTimer,
  minutesWithoutContact,
  type SlaTimer,
  timerAfterEscalation,
  waitTimestamp,
} from '../domain/sla';
import { type DetailType, type EventDetail, type PipelineEvent, pipelineEvent } from '../events/catalogue';
import type { SaveLeadOptions, StoredCursor } from '../ports/lead-store';
import { waitAfterConflict } from './conflict-backoff';

/**
 * The SLA ladder's use cases: start the ladder for an assignment (its first deadline, under a
 * name derived from the assignment), then one per Step Functions task: escalate one step, mark
 * the lead unworked. Decisions come from `domain/sla.ts` and
 * `chooseEscalationTarget`; this module does the reads and writes around them.
 *
 * Retries: Step Functions may run a task again after it already took effect (the invocation
 * succeeded but the response was lost, or the task failed after its write). Every change is
 * written together with `lead.slaProgress` (this execution, the step, its recipient and time),
 * so a repeated `escalate` or `unworked` recognises its own write: it never reassigns again, and
 * publishes the same events again, derived from that record with the same times. Their consumers
 * key their effects by what happened (the alert by the assignment, the step or the verdict; the
 * follow-up task by the assignment), so a second publish changes nothing, and the step costs one
 * transaction instead of a second one marking it announced (`announced` stays false: kept for
 * progress records written before).
 */

/** Storage the ladder needs (implemented by `LeadRepository`). */
export interface SlaStore {
  getLead(leadId: string): Promise<Lead | undefined>;
  /** The lead, the reps' open-lead counters and the teams' cursors in one strongly consistent read. */
  getRoutingState(
    leadId: string,
    repIds: readonly string[],
    teamIds: readonly string[],
  ): Promise<{ lead: Lead | undefined; counts: Map<string, number>; cursors: Map<string, StoredCursor> }>;
  saveLead(previous: Lead, next: Lead, options?: SaveLeadOptions): Promise<Lead>;
  getCursors(teamIds: readonly string[]): Promise<Map<string, StoredCursor>>;
}

/** Publishes catalogue events (implemented by `EventPublisher`). */
export interface SlaPublisher {
  publish(...events: ReadonlyArray<PipelineEvent<DetailType>>): Promise<void>;
}

export interface SlaDeps {
  readonly store: SlaStore;
  readonly publisher: SlaPublisher;
  readonly config: Pick<ClientConfig, 'sla' | 'reps' | 'teams' | 'territories' | 'routing'>;
  readonly now?: () => Date;
  /** The wait before the next attempt after a conflict. @default waitAfterConflict (random, growing) */
  readonly backoff?: (attempt: number) => Promise<void>;
}

/** What every task receives: the execution input and the execution's id. */
export interface SlaTask {
  /** The `Lead Assigned` detail that started the execution. */
  readonly assignment: EventDetail<'Lead Assigned'>;
  readonly executionArn: string;
}

/** A task that runs after the first deadline. */
export interface SlaTimedTask extends SlaTask {
  readonly timer: SlaTimer;
}

/** The result of the `unworked` task. */
export type UnworkedResult =
  | { readonly outcome: 'unworked'; readonly managerId: string; readonly lastOwner: string }
  | { readonly outcome: 'skipped'; readonly reason: string };

/** Attempts at a conflicting write before giving up (each one re-reads the lead). */
const MAX_WRITE_ATTEMPTS = 4;

const StoredCursorValue = z.object({
  seq: z.number().int().nonnegative(),
  credits: z.record(z.string(), z.number()),
});

function nowOf(deps: SlaDeps): Date {
  return (deps.now ?? (() => new Date()))();
}

function repOf(deps: { readonly config: Pick<ClientConfig, 'reps'> }, repId: string): Rep | undefined {
  return deps.config.reps.find((r) => r.id === repId);
}

/** A write lost a race that a fresh read may win. */
function isConflict(error: unknown): boolean {
  return (
    error instanceof LeadChangedError ||
    error instanceof RepAtCapacityError ||
    error instanceof RoundRobinMovedError
  );
}

/** The first deadline, counted in the assigned rep's working hours when configured. */
export function planFirstTouch(
  deps: { readonly config: Pick<ClientConfig, 'sla' | 'reps'> },
  task: Pick<SlaTask, 'assignment'>,
): SlaTimer {
  return firstTimer(deps.config.sla, repOf(deps, task.assignment.repId), task.assignment);
}

function ownProgress(lead: Lead | undefined, task: SlaTimedTask, action: 'escalate' | 'unworked') {
  const p = lead?.slaProgress;
  if (!p || p.execution !== task.executionArn || p.action !== action) return undefined;
  if (action === 'escalate' && p.ladderStep <= task.timer.ladderStep) return undefined;
  return p;
}

function stepEvents(
  deps: SlaDeps,
  task: SlaTimedTask,
  lead: Lead,
  applied: AppliedStep,
): Array<PipelineEvent<DetailType>> {
  const step = deps.config.sla.ladder[applied.ladderStep - 1];
  const at = applied.at.toISOString();
  const from = task.timer.owner;
  // A reassigning step is announced by its `Lead Assigned` alone (the alert, the follow-up task
  // and the console read it); `Lead Escalated` is for a step that only notifies.
  if (applied.reassign)
    return [
      pipelineEvent('Lead Assigned', {
        leadId: lead.id,
        occurredAt: at,
        isTest: lead.isTest,
        repId: applied.to,
        teamId: lead.team ?? task.assignment.teamId,
        ruleId: task.assignment.ruleId,
        via: 'escalation',
        priority: lead.priority,
        assignedAt: at,
        previousOwner: from,
        ladderStep: applied.ladderStep,
      }),
    ];
  return [
    pipelineEvent('Lead Escalated', {
      leadId: lead.id,
      occurredAt: at,
      isTest: lead.isTest,
      fromRepId: from,
      toRepId: applied.to,
      ladderStep: applied.ladderStep,
      to: step?.to ?? 'manager',
      minutesWithoutContact: minutesWithoutContact(task.assignment.assignedAt, applied.at),
    }),
  ];
}

function parseCursors(stored: Map<string, StoredCursor>): Map<string, RoundRobinCursor> {
  const cursors = new Map<string, RoundRobinCursor>();
  for (const [teamId, cursor] of stored) {
    const parsed = StoredCursorValue.safeParse(cursor.value);
    cursors.set(teamId, parsed.success ? parsed.data : EMPTY_CURSOR);
  }
  return cursors;
}

/** A team and its backup team: the cursors an escalation may move. */
function teamAndBackup(config: Pick<ClientConfig, 'teams'>, teamId: string): string[] {
  const team = config.teams.find((t) => t.id === teamId);
  return team ? [team.id, team.backupTeam].filter((t): t is string => t !== undefined) : [];
}

/** What an escalation reads, in one BatchGetItem: the lead, every rep's counter, the team's cursors. */
type RoutingState = Awaited<ReturnType<SlaStore['getRoutingState']>>;

/** The first ladder step, from the timer's position on, that has somebody to escalate to. */
async function chooseStep(
  deps: SlaDeps,
  task: SlaTimedTask,
  lead: Lead,
  now: Date,
  state: RoutingState,
): Promise<{ index: number; decision: AssignDecision; stored: Map<string, StoredCursor> } | undefined> {
  const { config } = deps;
  const teamId = lead.team ?? task.assignment.teamId;
  const team = config.teams.find((t) => t.id === teamId);
  if (!team) return undefined;
  const reps = new Map<string, RepState>([...state.counts].map(([id, openLeads]) => [id, { openLeads }]));
  const teamIds = teamAndBackup(config, team.id);
  // Read with the lead unless the lead moved to another team since its assignment (rare).
  const stored = teamIds.every((id) => teamAndBackup(config, task.assignment.teamId).includes(id))
    ? state.cursors
    : await deps.store.getCursors(teamIds);
  const cursors = parseCursors(stored);
  const exclude = [
    ...new Set([...task.timer.involved, task.timer.owner, ...(lead.owner ? [lead.owner] : [])]),
  ];
  for (let index = task.timer.ladderStep; index < config.sla.ladder.length; index++) {
    const step = config.sla.ladder[index];
    if (!step) break;
    const decision = chooseEscalationTarget({
      teamId: team.id,
      to: step.to,
      exclude,
      config,
      reps,
      cursors,
      now,
      ruleId: task.assignment.ruleId,
      priority: lead.priority,
    });
    if (decision) return { index, decision, stored };
  }
  return undefined;
}

/**
 * `escalate`: reads the lead, the reps' counters and the team's cursors in one BatchGetItem,
 * applies the next ladder step that has a recipient (reassigning the lead when the step says so,
 * through the capacity-checked transaction), publishes `Lead Assigned` (via `escalation`) for a
 * reassignment or `Lead Escalated` for a notification, and returns the recipient's timer. When nobody is left on
 * any remaining step, returns an exhausted timer so the next check ends the ladder as unworked.
 * A lead that was contacted or reassigned meanwhile is left alone: the timer fires at once and
 * the check ends the ladder.
 */
export async function escalate(deps: SlaDeps, task: SlaTimedTask): Promise<SlaTimer> {
  const { config } = deps;
  const now = nowOf(deps);
  for (let attempt = 1; ; attempt++) {
    const state = await deps.store.getRoutingState(
      task.assignment.leadId,
      config.reps.map((r) => r.id),
      teamAndBackup(config, task.assignment.teamId),
    );
    const lead = state.lead;
    const own = ownProgress(lead, task, 'escalate');
    if (lead && own) {
      // This execution already applied the step (a retried task): finish it, never redo it.
      const applied: AppliedStep = {
        ladderStep: own.ladderStep,
        to: own.to,
        at: new Date(own.at),
        reassign: config.sla.ladder[own.ladderStep - 1]?.reassign ?? lead.owner === own.to,
      };
      // Re-derived from the stored step, with the same times: the alert keys it by the effect.
      await deps.publisher.publish(...stepEvents(deps, task, lead, applied));
      return timerAfterEscalation(config.sla, task.timer, applied, repOf(deps, own.to));
    }
    if (!lead || assessLead(lead, task.timer, config.sla).outcome !== 'escalate')
      return { ...task.timer, waitUntil: waitTimestamp(now) };

    const choice = await chooseStep(deps, task, lead, now, state);
    if (!choice) return exhaustedTimer(task.timer, now);
    const step = config.sla.ladder[choice.index];
    const target = repOf(deps, choice.decision.repId);
    if (!step || !target) return exhaustedTimer(task.timer, now);

    const applied: AppliedStep = {
      ladderStep: choice.index + 1,
      to: target.id,
      at: now,
      reassign: step.reassign,
    };
    const at = now.toISOString();
    const progress = {
      execution: task.executionArn,
      ladderStep: applied.ladderStep,
      action: 'escalate' as const,
      to: target.id,
      at,
      announced: false,
    };
    const next: Lead = step.reassign
      ? {
          ...lead,
          owner: target.id,
          assignedAt: at,
          status: 'assigned',
          updatedAt: at,
          slaProgress: progress,
        }
      : { ...lead, updatedAt: at, slaProgress: progress };
    const cursor = choice.decision.cursor;
    const options: SaveLeadOptions = step.reassign
      ? {
          // The manager takes the lead even when full: escalation is about accountability.
          ...(choice.decision.via === 'manager' ? {} : { capacity: target.capacity }),
          ...(cursor
            ? {
                cursor: {
                  teamId: cursor.teamId,
                  value: cursor.value,
                  expectedVersion: choice.stored.get(cursor.teamId)?.version ?? 0,
                },
              }
            : {}),
        }
      : {};
    const activity = slaActivity(task, lead.id, 'sla_escalated', applied.ladderStep, at, {
      ladderStep: applied.ladderStep,
      action: step.reassign ? 'reassign' : 'notify',
      to: target.id,
      fromRepId: task.timer.owner,
      minutesWithoutContact: minutesWithoutContact(task.assignment.assignedAt, now),
    });
    let saved: Lead;
    try {
      saved = await deps.store.saveLead(lead, next, { ...options, activities: [activity] });
    } catch (error) {
      if (isConflict(error) && attempt < MAX_WRITE_ATTEMPTS) {
        await (deps.backoff ?? waitAfterConflict)(attempt);
        continue;
      }
      throw error;
    }
    await deps.publisher.publish(...stepEvents(deps, task, saved, applied));
    return timerAfterEscalation(config.sla, task.timer, applied, target);
  }
}

/**
 * The timeline entry of an SLA step. Its id comes from the execution and the step, so a retried
 * task that writes it again (after a conflict) writes the same entry, never a second one.
 */
function slaActivity(
  task: SlaTimedTask,
  leadId: string,
  type: 'sla_escalated' | 'sla_unworked',
  ladderStep: number,
  at: string,
  data: Record<string, unknown>,
): Activity {
  const id = leadActivityId(leadId, `${type}-${ladderStep}-${task.executionArn}`);
  return { id, leadId, type, at, data };
}

/** The manager told about an unworked lead: the team's, else the client's default owner. */
function managerFor(deps: SlaDeps, teamId: string): string {
  return deps.config.teams.find((t) => t.id === teamId)?.manager ?? deps.config.routing.defaultOwner;
}

/**
 * `unworked`: the ladder ran out without contact. Marks the lead `unworked` (which releases the
 * owner's capacity) and publishes `Lead Unworked` naming the team manager, who gets the alert.
 */
export async function markUnworked(deps: SlaDeps, task: SlaTimedTask): Promise<UnworkedResult> {
  const now = nowOf(deps);
  for (let attempt = 1; ; attempt++) {
    const lead = await deps.store.getLead(task.assignment.leadId);
    if (!lead) return { outcome: 'skipped', reason: 'the lead no longer exists' };
    const lastOwner = lead.owner ?? task.timer.owner;
    const own = ownProgress(lead, task, 'unworked');
    if (own) {
      await deps.publisher.publish(unworkedEvent(task, lead, own.to, lastOwner, new Date(own.at)));
      return { outcome: 'unworked', managerId: own.to, lastOwner };
    }
    const assessment = assessLead(lead, task.timer, deps.config.sla);
    if (assessment.outcome === 'contacted' || assessment.outcome === 'closed')
      return { outcome: 'skipped', reason: assessment.reason };

    const managerId = managerFor(deps, lead.team ?? task.assignment.teamId);
    const at = now.toISOString();
    const next: Lead = {
      ...lead,
      status: 'unworked',
      updatedAt: at,
      slaProgress: {
        execution: task.executionArn,
        ladderStep: task.timer.ladderStep,
        action: 'unworked',
        to: managerId,
        at,
        announced: false,
      },
    };
    const activity = slaActivity(task, lead.id, 'sla_unworked', task.timer.ladderStep, at, {
      managerId,
      lastOwner,
      minutesWithoutContact: minutesWithoutContact(task.assignment.assignedAt, now),
    });
    let saved: Lead;
    try {
      saved = await deps.store.saveLead(lead, next, { activities: [activity] });
    } catch (error) {
      if (error instanceof LeadChangedError && attempt < MAX_WRITE_ATTEMPTS) {
        await (deps.backoff ?? waitAfterConflict)(attempt);
        continue;
      }
      throw error;
    }
    await deps.publisher.publish(unworkedEvent(task, saved, managerId, lastOwner, now));
    return { outcome: 'unworked', managerId, lastOwner };
  }
}

function unworkedEvent(
  task: SlaTimedTask,
  lead: Lead,
  managerId: string,
  lastOwner: string,
  at: Date,
): PipelineEvent<'Lead Unworked'> {
  return pipelineEvent('Lead Unworked', {
    leadId: lead.id,
    occurredAt: at.toISOString(),
    isTest: lead.isTest,
    lastOwner,
    managerId,
    minutesWithoutContact: minutesWithoutContact(task.assignment.assignedAt, at),
  });
}
