import type { SlaTimer } from '../domain/sla';
import type { EventDetail } from '../events/catalogue';

/**
 * One rung of an assignment's SLA ladder: what runs when `timer.waitUntil` arrives. Rungs
 * `1..n` apply the next escalation step of the client's `sla.ladder` (n steps); rung `n + 1`
 * marks the lead unworked. The rung's number is the ladder step it applies next, so a rung
 * never runs twice under one name and the ladder's names are known in advance (see
 * `slaRungNames`).
 */
export interface SlaRung {
  /** The ladder's name (`slaExecutionName` of the assignment): its identity in every rung. */
  readonly ladder: string;
  /** 1-based; `ladder.length + 1` is the unworked check. */
  readonly rung: number;
  /** The `Lead Assigned` detail the ladder started for. */
  readonly assignment: EventDetail<'Lead Assigned'>;
  /** The clock the rung runs with: the first deadline, then each escalation's. */
  readonly timer: SlaTimer;
}

/**
 * Schedules SLA rungs: a one-time timer per rung, under a name derived from the ladder and the
 * rung, so scheduling the same rung twice (a redelivered `Lead Assigned`, a retried task)
 * schedules it once.
 */
export interface SlaLadderScheduler {
  /** `already-scheduled` when a rung of that name exists (or already ran). */
  schedule(rung: SlaRung): Promise<'scheduled' | 'already-scheduled'>;
}
