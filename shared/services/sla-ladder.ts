import type { ClientConfig } from '../config/schema';
import { type SlaTimer, slaExecutionName } from '../domain/sla';
import type { EventDetail } from '../events/catalogue';
import type { SlaLadderScheduler, SlaRung } from '../ports/sla-ladder';
import { planFirstTouch } from './sla';

/**
 * The SLA ladder as a chain of one-time timers (see the README's SLA design table): starting a
 * ladder schedules its first rung; each escalation rung, once the `sla` task has run, schedules
 * the next. Rungs are scheduled one at a time because each deadline is counted in the calendar
 * of the rep the previous escalation picked, which is not known before it runs.
 */

/** The result of {@link startLadder}. */
export interface LadderStart {
  readonly name: string;
  readonly timer: SlaTimer;
  readonly started: boolean;
}

/**
 * Starts the SLA ladder of a new (non-escalation) assignment: schedules rung 1 at the first
 * deadline in the assigned rep's calendar, under {@link slaExecutionName}, so a redelivered
 * event schedules nothing new and whoever records the first touch can cancel it by name.
 */
export async function startLadder(
  deps: { readonly scheduler: SlaLadderScheduler; readonly config: Pick<ClientConfig, 'sla' | 'reps'> },
  assignment: EventDetail<'Lead Assigned'>,
): Promise<LadderStart> {
  const timer = planFirstTouch(deps, { assignment });
  const name = slaExecutionName(assignment.leadId, assignment.assignedAt);
  const outcome = await deps.scheduler.schedule({ ladder: name, rung: 1, assignment, timer });
  return { name, timer, started: outcome === 'scheduled' };
}

/** The result of {@link scheduleNextRung}. */
export type NextRung =
  | {
      readonly scheduled: true;
      readonly rung: number;
      readonly waitUntil: string;
      readonly repeated: boolean;
    }
  | { readonly scheduled: false; readonly reason: string };

/**
 * After an escalation rung: `ran` is the rung that ran and `ran.timer` the timer its escalation
 * returned. An escalation that applied no step (the lead was contacted, closed, reassigned or
 * erased meanwhile) ends the ladder: nothing is left to check. Otherwise the rung after the
 * applied step is scheduled at the new deadline; past the last step it is the unworked check.
 * (An exhausted ladder never gets here: the rung marks the lead unworked at once.)
 */
export async function scheduleNextRung(
  deps: { readonly scheduler: SlaLadderScheduler; readonly config: Pick<ClientConfig, 'sla'> },
  ran: SlaRung,
): Promise<NextRung> {
  if (ran.timer.ladderStep < ran.rung)
    return { scheduled: false, reason: 'no step applied: the lead needs no escalation any more' };
  const rung = Math.min(ran.timer.ladderStep + 1, deps.config.sla.ladder.length + 1);
  const outcome = await deps.scheduler.schedule({ ...ran, rung });
  return { scheduled: true, rung, waitUntil: ran.timer.waitUntil, repeated: outcome === 'already-scheduled' };
}
