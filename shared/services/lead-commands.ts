import { z } from 'zod';
import { actorName, type Caller, PreconditionFailedError, requireLeadAccess } from '../domain/access';
import { LeadChangedError, LeadNotFoundError } from '../domain/errors';
import { firstTouchActivityId, planFirstTouch } from '../domain/first-touch';
import type { Activity, Lead } from '../domain/lead';
import { type LeadUpdate, MANUAL_STATUSES, planLeadUpdate, stageChangeActivityId } from '../domain/pipeline';
import { assignmentActivityId, planReassignment } from '../domain/reassignment';
import { slaExecutionName } from '../domain/sla';
import { type DetailType, type PipelineEvent, pipelineEvent } from '../events/catalogue';
import type { OutboxEntry } from '../ports/outbox';
import { announce } from './announce';
import { type LeadSummary, summarise } from './lead-queries';
import { clock, type LeadsDeps, parseInput } from './leads';

/**
 * What reps and managers change: the first touch, status and pipeline stage, reassignment.
 *
 * Announcing goes through the transactional outbox (`ports/outbox.ts`): the events a command
 * must publish (`Lead Contacted`, `Lead Stage Changed`, `Lead Assigned`) are stored as an outbox
 * entry in the same transaction as the change, keyed by the activity that records it; the
 * command then publishes and clears the entry. A bus that refuses leaves the entry for the
 * relay, so the command still answers 2xx and the change is announced once the bus is back. A
 * retry of the same command announces a waiting entry at once.
 */

/** Attempts of a read-modify-write before a concurrent writer wins (answered 503, retry). */
const MAX_ATTEMPTS = 3;

/** Body of `PATCH /leads/{id}`. */
export const LeadUpdateSchema = z
  .strictObject({
    status: z
      .enum(MANUAL_STATUSES, {
        error: `one of ${MANUAL_STATUSES.join(', ')} (contact, win and loss have their own actions)`,
      })
      .optional(),
    pipelineStage: z.string().min(1).max(64).optional(),
    amount: z.number().nonnegative().max(1e12).optional(),
    lostReason: z.string().min(1).max(80).optional(),
    marketingConsent: z
      .literal(false, { error: 'only false (an opt-out); an opt-in must come from the person' })
      .optional(),
  })
  .refine((u) => Object.keys(u).length > 0, {
    message: 'give at least one of status, pipelineStage, amount, lostReason, marketingConsent',
  });

/** Body of `POST /leads/{id}/reassign`. */
export const ReassignSchema = z.strictObject({
  repId: z.string().min(1).max(64),
  force: z.boolean().optional(),
});

// ------------------------------------------------------------------------------------ announcing

/**
 * The outbox entry of a change recorded by `activity`: its events, keyed by the activity so that
 * a retry of the command finds it.
 */
function outboxEntry(activity: Activity, events: ReadonlyArray<PipelineEvent<DetailType>>): OutboxEntry {
  return { id: activity.id, at: activity.at, events };
}

/**
 * Publishes a stored change's outbox entry and clears it. Never throws: the change is stored with
 * its entry, so a refusing bus only means the relay publishes it later.
 * @returns whether the events are on the bus now.
 */
export async function announceEntry(entry: OutboxEntry, leadId: string, deps: LeadsDeps): Promise<boolean> {
  const result = await announce(entry, {
    publisher: deps.publisher,
    outbox: { clear: (e) => deps.store.clearOutbox(e) },
  });
  if (!result.published)
    deps.warn?.('The bus refused the events; the relay publishes them from the outbox', {
      leadId,
      entry: entry.id,
      error: result.error instanceof Error ? result.error.message : String(result.error),
    });
  return result.published;
}

/**
 * On a repeat of a command whose change is already stored (recorded by `activity`): announces what
 * the first call left unpublished. That is its outbox entry while the relay has not taken it; a
 * change stored before the outbox existed carries `data.announced: false` on its activity instead,
 * and its events are derived again (a refusing bus is thrown then: nothing else would announce it).
 * @returns whether anything was announced.
 */
async function announceLeftover(
  lead: Lead,
  activity: Activity | undefined,
  events: (activity: Activity) => ReadonlyArray<PipelineEvent<DetailType>>,
  deps: LeadsDeps,
): Promise<boolean> {
  if (!activity) return false;
  if (activity.data.announced === false) {
    await deps.publisher.publish(...events(activity));
    await deps.store.markActivityAnnounced(lead.id, activity.at, activity.id);
    return true;
  }
  const waiting = await deps.store.getOutboxEntry({ id: activity.id, at: activity.at });
  return waiting ? announceEntry(waiting, lead.id, deps) : false;
}

// ------------------------------------------------------------------------------------ first touch

/** Result of {@link markContacted}. */
export interface ContactedResult {
  readonly lead: LeadSummary;
  readonly firstTouchAt: string;
  readonly secondsToFirstTouch: number;
  /** True when the first touch had been recorded before this call. */
  readonly alreadyContacted: boolean;
}

/**
 * `POST /leads/{id}/contacted`: records the first touch once with `Lead Contacted` (the speed to
 * lead) in the outbox, publishes it, and ends the SLA ladder. Idempotent: a repeat answers with
 * the original first touch (and announces only what the first call left in the outbox).
 */
export async function markContacted(
  caller: Caller,
  leadId: string,
  deps: LeadsDeps,
): Promise<ContactedResult> {
  const now = clock(deps)();
  for (let attempt = 1; ; attempt++) {
    const lead = await deps.store.requireLead(leadId);
    requireLeadAccess(caller, lead, 'work', 'mark a lead contacted', deps.config);
    const plan = planFirstTouch(lead, caller, now);
    if (plan.outcome === 'already-contacted') {
      const activity = await deps.store.getActivity(
        lead.id,
        plan.firstTouchAt,
        firstTouchActivityId(lead.id),
      );
      if (await announceLeftover(lead, activity, (a) => contactedEvents(lead, a), deps))
        await stopSlaLadder(lead, 'the lead was contacted', deps);
      return {
        lead: summarise(lead),
        firstTouchAt: plan.firstTouchAt,
        secondsToFirstTouch: numberOr(
          activity?.data.secondsToFirstTouch,
          secondsBetween(lead.createdAt, plan.firstTouchAt),
        ),
        alreadyContacted: true,
      };
    }
    const entry = outboxEntry(plan.activity, contactedEvents(plan.lead, plan.activity));
    let saved: Lead;
    try {
      saved = await deps.store.saveLead(lead, plan.lead, { activities: [plan.activity], outbox: entry });
    } catch (error) {
      if (error instanceof LeadChangedError && attempt < MAX_ATTEMPTS) continue;
      throw error;
    }
    await announceEntry(entry, saved.id, deps);
    await stopSlaLadder(saved, 'the lead was contacted', deps);
    return {
      lead: summarise(saved),
      firstTouchAt: plan.activity.at,
      secondsToFirstTouch: plan.secondsToFirstTouch,
      alreadyContacted: false,
    };
  }
}

/** `Lead Contacted` for a `contacted` activity. */
function contactedEvents(lead: Lead, activity: Activity): PipelineEvent<DetailType>[] {
  return [
    pipelineEvent('Lead Contacted', {
      leadId: lead.id,
      occurredAt: activity.at,
      isTest: lead.isTest,
      repId: String(activity.data.repId ?? lead.owner),
      secondsToFirstTouch: numberOr(
        activity.data.secondsToFirstTouch,
        secondsBetween(lead.createdAt, activity.at),
      ),
    }),
  ];
}

/**
 * Stops the SLA ladder of the lead's current assignment at once. A ladder is started under a
 * name derived from the assignment (`slaExecutionName` of the lead and `assignedAt`); when an
 * escalation reassigned the lead, `assignedAt` is the escalation's and the ladder is the one it
 * recorded (`slaProgress.execution`). Best effort: a failure is reported, not thrown, and the
 * ladder then ends without effect at its next step, which sees the first touch (or the new owner).
 */
async function stopSlaLadder(lead: Lead, cause: string, deps: LeadsDeps): Promise<void> {
  const progress = lead.slaProgress;
  let ladder: string | undefined;
  if (progress?.action === 'escalate' && progress.at === lead.assignedAt) ladder = progress.execution;
  else if (lead.assignedAt) ladder = slaExecutionName(lead.id, lead.assignedAt);
  if (!ladder) return;
  try {
    await deps.sla.stop(ladder, cause);
  } catch (error) {
    deps.warn?.('Could not stop the SLA ladder; it ends at its next step', {
      leadId: lead.id,
      ladder,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

// ------------------------------------------------------------------------------------ status and stage

/** Result of {@link updateLead}. */
export interface UpdateResult {
  readonly lead: Lead;
  readonly changed: readonly string[];
}

/**
 * `PATCH /leads/{id}`: status, pipeline stage, amount, lost reason. With `expectedVersion`
 * (the `If-Match` header) the change applies only to that version (else
 * {@link PreconditionFailedError}); without it a concurrent write is retried from a fresh read.
 */
export async function updateLead(
  caller: Caller,
  leadId: string,
  body: unknown,
  expectedVersion: number | undefined,
  deps: LeadsDeps,
): Promise<UpdateResult> {
  const update: LeadUpdate = parseInput(LeadUpdateSchema, body);
  const now = clock(deps)();
  for (let attempt = 1; ; attempt++) {
    const lead = await deps.store.requireLead(leadId);
    requireLeadAccess(caller, lead, 'work', "change a lead's status or stage", deps.config);
    if (expectedVersion !== undefined && lead.version !== expectedVersion)
      throw new PreconditionFailedError(lead.id, expectedVersion, lead.version);
    const plan = planLeadUpdate(lead, update, deps.config, now, actorName(caller));
    if (plan.changed.length === 0) {
      // Same stage again: possibly the retry of a request whose announcement failed.
      if (update.pipelineStage !== undefined && lead.pipelineStageAt !== undefined) {
        const activity = await deps.store.getActivity(
          lead.id,
          lead.pipelineStageAt,
          stageChangeActivityId(lead.id, lead.pipelineStageAt),
        );
        await announceLeftover(lead, activity, (a) => stageChangedEvents(lead, a), deps);
      }
      return { lead, changed: [] };
    }
    const entry = plan.stageChange
      ? outboxEntry(plan.stageChange.activity, stageChangedEvents(plan.lead, plan.stageChange.activity))
      : undefined;
    let saved: Lead;
    try {
      saved = await deps.store.saveLead(lead, plan.lead, {
        activities: plan.stageChange ? [plan.stageChange.activity] : [],
        ...(entry ? { outbox: entry } : {}),
      });
    } catch (error) {
      if (error instanceof LeadChangedError) {
        if (expectedVersion !== undefined) {
          const current = await deps.store.getLead(leadId);
          if (!current) throw new LeadNotFoundError(leadId);
          throw new PreconditionFailedError(leadId, expectedVersion, current.version);
        }
        if (attempt < MAX_ATTEMPTS) continue;
      }
      throw error;
    }
    if (entry) await announceEntry(entry, saved.id, deps);
    return { lead: saved, changed: plan.changed };
  }
}

/** `Lead Stage Changed` for a `stage_changed` activity. */
function stageChangedEvents(lead: Lead, activity: Activity): PipelineEvent<DetailType>[] {
  const from = typeof activity.data.from === 'string' ? activity.data.from : undefined;
  return [
    pipelineEvent('Lead Stage Changed', {
      leadId: lead.id,
      occurredAt: activity.at,
      isTest: lead.isTest,
      ...(from !== undefined ? { from } : {}),
      to: String(activity.data.to),
      by: String(activity.data.by),
    }),
  ];
}

// ------------------------------------------------------------------------------------ reassignment

/** Result of {@link reassignLead}. */
export interface ReassignResult {
  readonly lead: LeadSummary;
  readonly previousOwner?: string;
  /** True when the lead already belonged to the rep. */
  readonly unchanged: boolean;
}

/**
 * `POST /leads/{id}/reassign`: moves the lead to another rep within their capacity (admins may
 * `force`), and publishes `Lead Assigned` via `manual` so the SLA rule starts the new owner's
 * clock. The previous owner's ladder ends when it sees the new owner (and is stopped now when its
 * execution is known).
 * @throws RepAtCapacityError naming the rep.
 */
export async function reassignLead(
  caller: Caller,
  leadId: string,
  body: unknown,
  deps: LeadsDeps,
): Promise<ReassignResult> {
  const request = parseInput(ReassignSchema, body);
  const now = clock(deps)();
  for (let attempt = 1; ; attempt++) {
    const lead = await deps.store.requireLead(leadId);
    const plan = planReassignment(lead, caller, request, deps.config, now);
    if (plan.outcome === 'unchanged') {
      if (lead.assignedAt !== undefined) {
        const activity = await deps.store.getActivity(
          lead.id,
          lead.assignedAt,
          assignmentActivityId(lead.id, lead.assignedAt),
        );
        // Only a reassignment by hand is this command's to announce (routing announces its own).
        if (activity?.data.via === 'manual')
          await announceLeftover(lead, activity, (a) => assignedEvents(lead, a), deps);
      }
      return { lead: summarise(lead), unchanged: true };
    }
    const entry = outboxEntry(plan.activity, assignedEvents(plan.lead, plan.activity));
    let saved: Lead;
    try {
      saved = await deps.store.saveLead(lead, plan.lead, {
        activities: [plan.activity],
        ...(plan.capacity !== undefined ? { capacity: plan.capacity } : {}),
        outbox: entry,
      });
    } catch (error) {
      if (error instanceof LeadChangedError && attempt < MAX_ATTEMPTS) continue;
      throw error;
    }
    await announceEntry(entry, saved.id, deps);
    await stopSlaLadder(lead, 'the lead was reassigned by hand', deps);
    return {
      lead: summarise(saved),
      ...(plan.previousOwner !== undefined ? { previousOwner: plan.previousOwner } : {}),
      unchanged: false,
    };
  }
}

/** `Lead Assigned` (via `manual`) for an `assigned` activity of a reassignment by hand. */
function assignedEvents(lead: Lead, activity: Activity): PipelineEvent<DetailType>[] {
  const previousOwner =
    typeof activity.data.previousOwner === 'string' ? activity.data.previousOwner : undefined;
  return [
    pipelineEvent('Lead Assigned', {
      leadId: lead.id,
      occurredAt: activity.at,
      isTest: lead.isTest,
      repId: String(activity.data.repId),
      teamId: String(activity.data.teamId),
      ruleId: 'manual',
      via: 'manual',
      priority: lead.priority,
      assignedAt: activity.at,
      ...(previousOwner !== undefined ? { previousOwner } : {}),
      ladderStep: 0,
    }),
  ];
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function secondsBetween(from: string, to: string): number {
  return Math.max(0, Math.floor((Date.parse(to) - Date.parse(from)) / 1000));
}
