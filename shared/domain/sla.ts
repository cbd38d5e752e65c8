import { z } from 'zod';
import type { Rep, SlaPolicy } from '../config/schema';
import type { Lead, LeadStatus } from './lead';
import { addWorkingMinutes } from './working-hours';

/**
 * The follow-up SLA ladder, as pure decisions. The SLA state machine waits until a deadline,
 * asks whether the lead was touched, and either stops, escalates one step of `sla.ladder`, or
 * marks the lead unworked at the end of the ladder. Everything here is deterministic for the
 * same input, so a retried Step Functions task computes the same deadline twice.
 *
 * Ladder steps are counted from 1: step `k` is `sla.ladder[k - 1]`, and step 0 is the first
 * assignment (whose clock is `sla.firstTouchMinutes`), matching `ladderStep` in the
 * `Lead Assigned` and `Lead Escalated` events.
 */

/** Statuses that mean somebody worked the lead: the SLA is met and the ladder stops. */
export const CONTACTED_STATUSES: readonly LeadStatus[] = [
  'contacted',
  'working',
  'converted',
  'disqualified',
];

const repId = z.string().min(1).max(64);

/**
 * The SLA clock carried between the state machine's states (`$.timer`): when to look again and
 * what the lead should look like then. Returned by the `plan` and `escalate` tasks.
 */
export const SlaTimerSchema = z.strictObject({
  /** When the Wait state ends (ISO timestamp, UTC). */
  waitUntil: z.iso.datetime(),
  /** Ladder steps applied so far; 0 while the first owner's clock runs. */
  ladderStep: z.number().int().min(0).max(10),
  /** The owner this execution expects; anyone else means the lead was reassigned outside the ladder. */
  owner: repId,
  /** When the expected owner got the lead. */
  assignedAt: z.iso.datetime(),
  /** Reps who already had or were told about the lead in this ladder; never picked again. */
  involved: z.array(repId).max(50),
  /** Nobody is left to escalate to: the next check ends the ladder as unworked. */
  exhausted: z.boolean().default(false),
});
/** See {@link SlaTimerSchema}. */
export type SlaTimer = z.output<typeof SlaTimerSchema>;

/**
 * A Wait-state timestamp: whole seconds, rounded up so the check never runs before the deadline,
 * written `YYYY-MM-DDTHH:mm:ssZ` (the RFC 3339 form Step Functions documents, no fraction).
 */
export function waitTimestamp(at: Date): string {
  return new Date(Math.ceil(at.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * The name of the SLA ladder execution started for an assignment: the lead and the moment it
 * was assigned. Deterministic, so starting it twice (a redelivered `Lead Assigned`) starts one
 * ladder, and whoever records the first touch can stop it by name at once. Step Functions
 * names allow letters, digits, `-` and `_`, up to 80 characters.
 */
export function slaExecutionName(leadId: string, assignedAt: string): string {
  return `${leadId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 60)}-${Date.parse(assignedAt)}`;
}

/** What an SLA assessment says about the ladder. */
export type SlaOutcome = 'contacted' | 'closed' | 'escalate' | 'unworked';

/** An outcome with the reason, for the execution history and logs. */
export interface SlaAssessment {
  readonly outcome: SlaOutcome;
  readonly reason: string;
}

/** The working calendar an SLA clock counts in (a rep's hours and zone). */
export type SlaCalendar = Pick<Rep, 'workingHours' | 'timezone'>;

/**
 * The instant `minutes` of SLA time have passed since `from`: working minutes in the rep's own
 * calendar when the client counts working hours only, wall-clock minutes otherwise (or when the
 * rep is no longer configured, so a removed rep can never stall the clock).
 */
export function slaDeadline(
  policy: Pick<SlaPolicy, 'respectWorkingHours'>,
  calendar: SlaCalendar | undefined,
  from: Date,
  minutes: number,
): Date {
  if (policy.respectWorkingHours && calendar)
    return addWorkingMinutes(calendar.workingHours, calendar.timezone, from, minutes);
  return new Date(from.getTime() + minutes * 60_000);
}

/**
 * Minutes allowed at a ladder step: `firstTouchMinutes` for step 0, the step's `afterMinutes`
 * otherwise. A step beyond the ladder falls back to the last step's allowance.
 */
export function stepMinutes(
  policy: Pick<SlaPolicy, 'firstTouchMinutes' | 'ladder'>,
  ladderStep: number,
): number {
  if (ladderStep <= 0) return policy.firstTouchMinutes;
  const step = policy.ladder[Math.min(ladderStep, policy.ladder.length) - 1];
  return step?.afterMinutes ?? policy.firstTouchMinutes;
}

/**
 * When the owner of an assignment made at `assignedAt` by ladder step `ladderStep` must have
 * touched the lead. Alerts show this deadline; the state machine waits until it.
 */
export function assignmentDeadline(
  policy: SlaPolicy,
  calendar: SlaCalendar | undefined,
  assignedAt: Date,
  ladderStep: number,
): Date {
  return slaDeadline(policy, calendar, assignedAt, stepMinutes(policy, ladderStep));
}

/** The first timer of an execution: the assigned rep's first-touch clock. */
export function firstTimer(
  policy: SlaPolicy,
  owner: SlaCalendar | undefined,
  assignment: { readonly repId: string; readonly assignedAt: string },
): SlaTimer {
  return {
    waitUntil: waitTimestamp(assignmentDeadline(policy, owner, new Date(assignment.assignedAt), 0)),
    ladderStep: 0,
    owner: assignment.repId,
    assignedAt: assignment.assignedAt,
    involved: [assignment.repId],
    exhausted: false,
  };
}

/** One applied ladder step. */
export interface AppliedStep {
  /** 1-based step number. */
  readonly ladderStep: number;
  /** The rep who received (or was told about) the lead. */
  readonly to: string;
  readonly at: Date;
  /** Whether the lead moved to `to`. */
  readonly reassign: boolean;
}

/**
 * The timer after an escalation: the recipient gets the step's `afterMinutes` in their own
 * calendar, and becomes the expected owner when the step reassigns.
 */
export function timerAfterEscalation(
  policy: SlaPolicy,
  previous: SlaTimer,
  applied: AppliedStep,
  recipient: SlaCalendar | undefined,
): SlaTimer {
  return {
    waitUntil: waitTimestamp(assignmentDeadline(policy, recipient, applied.at, applied.ladderStep)),
    ladderStep: applied.ladderStep,
    owner: applied.reassign ? applied.to : previous.owner,
    assignedAt: applied.reassign ? applied.at.toISOString() : previous.assignedAt,
    involved: [...new Set([...previous.involved, previous.owner, applied.to])],
    exhausted: false,
  };
}

/** The timer that ends the ladder at the next check: nobody is left to escalate to. */
export function exhaustedTimer(previous: SlaTimer, now: Date): SlaTimer {
  return { ...previous, waitUntil: waitTimestamp(now), exhausted: true };
}

/** True when somebody has worked the lead. */
export function wasContacted(lead: Pick<Lead, 'firstTouchAt' | 'status'>): boolean {
  return lead.firstTouchAt !== undefined || CONTACTED_STATUSES.includes(lead.status);
}

function sameInstant(a: string, b: string): boolean {
  return new Date(a).getTime() === new Date(b).getTime();
}

/**
 * Decides what the ladder does at a deadline. Contact ends it (`contacted`). So does any change
 * this execution did not make (`closed`): the lead was erased, reassigned by hand (which started
 * a new execution with its own clock), put back to nurture, or already marked unworked. Otherwise
 * the next ladder step escalates, and after the last one the lead is `unworked`.
 */
export function assessLead(
  lead: Pick<Lead, 'firstTouchAt' | 'status' | 'owner' | 'assignedAt'> | undefined,
  timer: SlaTimer,
  policy: Pick<SlaPolicy, 'ladder'>,
): SlaAssessment {
  if (!lead) return { outcome: 'closed', reason: 'the lead no longer exists' };
  if (wasContacted(lead))
    return { outcome: 'contacted', reason: `the lead was contacted (status ${lead.status})` };
  if (lead.status === 'unworked') return { outcome: 'closed', reason: 'the lead is already marked unworked' };
  if (lead.owner !== timer.owner)
    return {
      outcome: 'closed',
      reason: `the lead now belongs to ${lead.owner ?? 'nobody'}, not ${timer.owner}: reassigned outside this ladder`,
    };
  if (lead.assignedAt !== undefined && !sameInstant(lead.assignedAt, timer.assignedAt))
    return {
      outcome: 'closed',
      reason: `the lead was assigned again at ${lead.assignedAt}; that assignment has its own SLA clock`,
    };
  if (lead.status !== 'assigned')
    return { outcome: 'closed', reason: `the lead is ${lead.status}, no longer waiting for a first touch` };
  if (timer.exhausted) return { outcome: 'unworked', reason: 'nobody is left to escalate to' };
  if (timer.ladderStep >= policy.ladder.length)
    return { outcome: 'unworked', reason: `all ${policy.ladder.length} ladder steps passed without contact` };
  return {
    outcome: 'escalate',
    reason: `no contact by the deadline; escalating to ladder step ${timer.ladderStep + 1}`,
  };
}

/** Whole minutes from `since` to `now` (never negative). */
export function minutesWithoutContact(since: string, now: Date): number {
  return Math.max(0, Math.floor((now.getTime() - new Date(since).getTime()) / 60_000));
}
