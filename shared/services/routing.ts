import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  LeadChangedError,
  LeadPipelineError,
  RepAtCapacityError,
  RoundRobinMovedError,
} from '../domain/errors';
import { type Activity, type Lead, leadFacts } from '../domain/lead';
import { routeLead } from '../domain/routing';
import type { RoutingConfig } from '../domain/routing-decisions';
import {
  type AssignDecision,
  EMPTY_CURSOR,
  type HoldDecision,
  type NurtureDecision,
  type RepState,
  type RoundRobinCursor,
  type RoutingExplanation,
} from '../domain/routing-decisions';
import { type DetailType, type PipelineEvent, pipelineEvent } from '../events/catalogue';
import type { EventSink } from '../ports/events';
import type { HeldLeadEntry, SaveLeadOptions, StoredCursor } from '../ports/lead-store';
import type { Outbox, OutboxEntry } from '../ports/outbox';
import { announce } from './announce';
import { waitAfterConflict } from './conflict-backoff';
import { ROUTABLE_STATUSES } from './scoring';

/**
 * Routing use case: decide where a routable lead goes (`routeLead`) and make that decision
 * true in ONE conditional DynamoDB transaction: the lead (on its version, and only while it has
 * no owner), the rep's open-lead counter (never past capacity) and the team's round-robin
 * cursor (on its version). Two concurrent or duplicate routings can therefore never assign a
 * lead twice, push a rep past capacity, or spend the same round-robin turn; the loser reloads
 * and routes again from the fresh state.
 *
 * Held leads: a `hold` decision stores `heldUntil` on the lead and queues it in the table's
 * held-lead queue (`LeadRepository.queueHeldLead`). {@link releaseHeldLeads} routes the queued
 * leads whose time has come; the route function runs it on a schedule (see its handler).
 *
 * Exactly once per triggering event: every routing change writes an activity whose id is
 * derived from the trigger key (the EventBridge event id, or the hold being released). A lead
 * that is already routed is left alone; if the activity of THIS trigger is on it, the earlier
 * attempt saved the change together with its event (an outbox entry, published then or by the
 * relay), so nothing is redone (no idempotency record per step). The event lives in the outbox
 * entry only: a copy in the activity was read by nothing and took it past 1 KB, which doubled
 * its write units in every routing transaction, refused ones included.
 */

/** The storage operations routing needs (implemented by `LeadRepository`). */
export interface RoutingStore {
  /** The lead, the reps' open-lead counters and the teams' cursors in one read (one BatchGetItem). */
  getRoutingState(
    leadId: string,
    repIds: readonly string[],
    teamIds: readonly string[],
  ): Promise<{
    lead: Lead | undefined;
    counts: Map<string, number>;
    cursors: Map<string, StoredCursor>;
  }>;
  saveLead(previous: Lead, next: Lead, options?: SaveLeadOptions): Promise<Lead>;
  queueHeldLead(leadId: string, until: string): Promise<void>;
  listHeldLeadsDue(now: string, limit?: number): Promise<HeldLeadEntry[]>;
  removeHeldLead(leadId: string, until: string): Promise<void>;
}

/** Dependencies of {@link routeLeadNow}. */
export interface RouteLeadDeps {
  readonly store: RoutingStore;
  /** The client's teams, reps, territories and routing rules. */
  readonly config: RoutingConfig;
  readonly now: Date;
  /** Routing attempts when the lead, a counter or a cursor changes concurrently. @default 5 */
  readonly maxAttempts?: number;
  /** The wait before the next attempt after a conflict. @default waitAfterConflict (random, growing) */
  readonly backoff?: (attempt: number) => Promise<void>;
}

/** Options of {@link routeLeadNow}. */
export interface RouteLeadOptions {
  /** Only route the lead if it is still held until exactly this time (a queued hold being released). */
  readonly releasing?: string;
}

/** `ruleId` in events when no routing rule matched and the default owner took the lead. */
export const NO_MATCHING_RULE = 'none';

/** What {@link routeLeadNow} did. */
export type RouteOutcome =
  | 'assigned'
  | 'held'
  | 'nurtured'
  /** The lead already has an owner: nothing to do. */
  | 'already-routed'
  /** Routing decided what the lead already is (same hold, same sequence): nothing to do. */
  | 'unchanged'
  /** Closed, pending, or (when releasing) no longer held until that time. */
  | 'not-routable'
  | 'missing';

/** What {@link routeLeadNow} did, and the events to publish. */
export interface RouteLeadResult {
  readonly outcome: RouteOutcome;
  readonly events: PipelineEvent<DetailType>[];
  /** The outbox entry saved with the routing change (its event). */
  readonly outbox?: OutboxEntry;
  /** Who or where, for the log line. */
  readonly repId?: string;
  readonly teamId?: string;
  readonly ruleId?: string | null;
  readonly until?: string;
  readonly sequenceId?: string;
  /** The routing explanation's sentences. */
  readonly steps?: string[];
}

/** Conflicts that a fresh read and a new decision resolve. */
function isRoutingConflict(error: unknown): boolean {
  return (
    error instanceof LeadChangedError ||
    error instanceof RepAtCapacityError ||
    error instanceof RoundRobinMovedError
  );
}

/**
 * Routes a lead now: assign, hold or nurture, persisted in one conditional transaction and
 * retried from fresh state on a conflict. `triggerKey` identifies the cause (the EventBridge
 * event id) and must be the same on every redelivery.
 * @throws RepAtCapacityError | RoundRobinMovedError | LeadChangedError after `maxAttempts`
 *   conflicts (retryable: let the platform retry).
 * @throws DependencyUnavailableError when DynamoDB is unavailable (retry later).
 */
export async function routeLeadNow(
  leadId: string,
  triggerKey: string,
  deps: RouteLeadDeps,
  options: RouteLeadOptions = {},
): Promise<RouteLeadResult> {
  const { store, config, now } = deps;
  const maxAttempts = deps.maxAttempts ?? 5;
  const activityId = routingActivityId(triggerKey);
  const repIds = config.reps.map((r) => r.id);
  const teamIds = config.teams.map((t) => t.id);

  for (let attempt = 1; ; attempt++) {
    // Counters and cursors are read with the lead even when it turns out routed already: one
    // request either way, and the transaction's conditions guard against every stale value.
    const { lead, counts, cursors: stored } = await store.getRoutingState(leadId, repIds, teamIds);
    if (!lead) return { outcome: 'missing', events: [] };
    if (lead.owner !== undefined) return alreadyDone('already-routed');
    if (!ROUTABLE_STATUSES.includes(lead.status)) return alreadyDone('not-routable');
    if (options.releasing !== undefined && (lead.status !== 'held' || lead.heldUntil !== options.releasing))
      return alreadyDone('not-routable');

    const decision = routeLead({
      facts: leadFacts(lead.profile, lead),
      config,
      now,
      reps: new Map<string, RepState>([...counts].map(([id, openLeads]) => [id, { openLeads }])),
      cursors: toCursors(stored),
    });

    try {
      switch (decision.outcome) {
        case 'assign':
          return await assign(deps, lead, decision, stored, activityId);
        case 'hold':
          if (
            lead.status === 'held' &&
            lead.team === decision.teamId &&
            lead.heldUntil === decision.until.toISOString()
          )
            return alreadyDone('unchanged');
          return await hold(deps, lead, decision, activityId);
        case 'nurture':
          if (lead.status === 'nurturing' && lead.nurtureSequence === decision.sequenceId)
            return alreadyDone('unchanged');
          return await nurture(deps, lead, decision, activityId);
      }
    } catch (error) {
      if (isRoutingConflict(error) && attempt < maxAttempts) {
        await (deps.backoff ?? waitAfterConflict)(attempt);
        continue;
      }
      throw error;
    }
  }
}

async function assign(
  deps: RouteLeadDeps,
  lead: Lead,
  decision: AssignDecision,
  stored: ReadonlyMap<string, StoredCursor>,
  activityId: string,
): Promise<RouteLeadResult> {
  const at = deps.now.toISOString();
  const rep = deps.config.reps.find((r) => r.id === decision.repId);
  const event = pipelineEvent('Lead Assigned', {
    leadId: lead.id,
    occurredAt: at,
    isTest: lead.isTest,
    repId: decision.repId,
    teamId: decision.teamId,
    ruleId: decision.ruleId ?? NO_MATCHING_RULE,
    // `manager` only comes from escalations, which do not pass through here.
    via: decision.via === 'manager' ? 'escalation' : decision.via,
    priority: decision.priority,
    assignedAt: at,
    ladderStep: 0,
  });
  const { heldUntil: _held, nurtureSequence: _sequence, ...rest } = lead;
  const next: Lead = {
    ...rest,
    status: 'assigned',
    owner: decision.repId,
    team: decision.teamId,
    priority: decision.priority,
    assignedAt: at,
    updatedAt: at,
  };
  await deps.store.saveLead(lead, next, {
    // The default owner is the last resort and takes the lead even when full.
    ...(decision.via === 'default-owner' || !rep ? {} : { capacity: rep.capacity }),
    ...(decision.cursor
      ? {
          cursor: {
            teamId: decision.cursor.teamId,
            value: decision.cursor.value,
            expectedVersion: stored.get(decision.cursor.teamId)?.version ?? 0,
          },
        }
      : {}),
    requireUnassigned: true,
    activities: [routingActivity(activityId, lead.id, 'assigned', at, decision)],
    outbox: { id: activityId, at, events: [event] },
  });
  return {
    outcome: 'assigned',
    events: [event],
    outbox: { id: activityId, at, events: [event] },
    repId: decision.repId,
    teamId: decision.teamId,
    ruleId: decision.ruleId,
    steps: decision.explanation.steps,
  };
}

async function hold(
  deps: RouteLeadDeps,
  lead: Lead,
  decision: HoldDecision,
  activityId: string,
): Promise<RouteLeadResult> {
  const at = deps.now.toISOString();
  const until = decision.until.toISOString();
  const event = pipelineEvent('Lead Held', {
    leadId: lead.id,
    occurredAt: at,
    isTest: lead.isTest,
    teamId: decision.teamId,
    ruleId: decision.ruleId,
    until,
  });
  // Queued BEFORE the lead is saved as held: a held lead without a queue entry would never be
  // released, while an entry whose lead was not saved is simply dropped by the sweep.
  await deps.store.queueHeldLead(lead.id, until);
  await deps.store.saveLead(
    lead,
    {
      ...lead,
      status: 'held',
      team: decision.teamId,
      priority: decision.priority,
      heldUntil: until,
      updatedAt: at,
    },
    {
      activities: [routingActivity(activityId, lead.id, 'held', at, decision)],
      outbox: { id: activityId, at, events: [event] },
    },
  );
  return {
    outcome: 'held',
    events: [event],
    outbox: { id: activityId, at, events: [event] },
    teamId: decision.teamId,
    ruleId: decision.ruleId,
    until,
    steps: decision.explanation.steps,
  };
}

async function nurture(
  deps: RouteLeadDeps,
  lead: Lead,
  decision: NurtureDecision,
  activityId: string,
): Promise<RouteLeadResult> {
  const at = deps.now.toISOString();
  const event = pipelineEvent('Lead Nurtured', {
    leadId: lead.id,
    occurredAt: at,
    isTest: lead.isTest,
    sequenceId: decision.sequenceId,
    ruleId: decision.ruleId,
  });
  const { heldUntil: _held, ...rest } = lead;
  await deps.store.saveLead(
    lead,
    { ...rest, status: 'nurturing', nurtureSequence: decision.sequenceId, updatedAt: at },
    {
      activities: [routingActivity(activityId, lead.id, 'nurture_enrolled', at, decision)],
      outbox: { id: activityId, at, events: [event] },
    },
  );
  return {
    outcome: 'nurtured',
    events: [event],
    outbox: { id: activityId, at, events: [event] },
    ruleId: decision.ruleId,
    sequenceId: decision.sequenceId,
    steps: decision.explanation.steps,
  };
}

/** The timeline entry of a routing change: who or where, why, and the event it caused. */
function routingActivity(
  id: string,
  leadId: string,
  type: 'assigned' | 'held' | 'nurture_enrolled',
  at: string,
  decision: AssignDecision | HoldDecision | NurtureDecision,
): Activity {
  const explanation: RoutingExplanation = decision.explanation;
  return {
    id,
    leadId,
    type,
    at,
    data: {
      ruleId: decision.ruleId,
      ...(decision.outcome === 'assign'
        ? { repId: decision.repId, teamId: decision.teamId, via: decision.via, priority: decision.priority }
        : {}),
      ...(decision.outcome === 'hold'
        ? { teamId: decision.teamId, until: decision.until.toISOString(), priority: decision.priority }
        : {}),
      ...(decision.outcome === 'nurture' ? { sequenceId: decision.sequenceId } : {}),
      explanation: JSON.parse(JSON.stringify(explanation)) as unknown,
    },
  };
}

/**
 * The lead is already where routing would put it. If THIS trigger routed it (a redelivery), its
 * write also stored the event in the outbox, published then or by the relay: nothing to redo.
 */
function alreadyDone(outcome: RouteOutcome): RouteLeadResult {
  return { outcome, events: [] };
}

/** Activity ids are at most 64 characters; the trigger key (an event id, a hold) is hashed to fit. */
export function routingActivityId(triggerKey: string): string {
  return `routed-${createHash('sha256').update(triggerKey).digest('hex').slice(0, 40)}`;
}

const CursorValueSchema = z.object({
  seq: z.number().int().nonnegative(),
  credits: z.record(z.string(), z.number()),
});

/**
 * Stored cursors as routing reads them. A value that does not parse (written by an older
 * version) restarts the team's round robin; its stored version still guards the write.
 */
function toCursors(stored: ReadonlyMap<string, StoredCursor>): Map<string, RoundRobinCursor> {
  const cursors = new Map<string, RoundRobinCursor>();
  for (const [teamId, cursor] of stored) {
    const parsed = CursorValueSchema.safeParse(cursor.value);
    cursors.set(teamId, parsed.success ? parsed.data : EMPTY_CURSOR);
  }
  return cursors;
}

// ------------------------------------------------------------------------------ held leads

/** Dependencies of {@link releaseHeldLeads}. */
export interface ReleaseHeldLeadsDeps {
  readonly store: RoutingStore;
  readonly config: RoutingConfig;
  readonly publisher: EventSink;
  readonly outbox: Pick<Outbox, 'clear'>;
  readonly maxAttempts?: number;
  /** Queue entries read per query. @default 100 */
  readonly batchSize?: number;
  /** Most queries per run; the next run continues. @default 10 */
  readonly maxBatches?: number;
}

/** What one {@link releaseHeldLeads} run did. */
export interface ReleaseSummary {
  /** Queue entries that were due. */
  readonly due: number;
  /** Outcome per lead id, in queue order. */
  readonly outcomes: Array<{
    readonly leadId: string;
    readonly until: string;
    readonly outcome: RouteOutcome;
  }>;
}

/** Some held leads could not be routed; they stay queued for the next run. */
export class HeldLeadsNotReleasedError extends LeadPipelineError {
  readonly code = 'HELD_LEADS_NOT_RELEASED';
  override readonly retryable = true;
  constructor(
    readonly failures: ReadonlyArray<{ readonly leadId: string; readonly error: unknown }>,
    readonly summary: ReleaseSummary,
  ) {
    super(
      `${failures.length} held lead(s) could not be routed and stay queued: ` +
        failures
          .map((f) => `${f.leadId} (${f.error instanceof Error ? f.error.message : String(f.error)})`)
          .join('; '),
    );
  }
}

/**
 * Routes every held lead whose `heldUntil` is at or before `now`: the use case a scheduled
 * function calls (the route function does, on an EventBridge schedule; see its handler).
 *
 * Each release is exactly once (its routing activity is keyed by lead and hold time), and its
 * queue entry is removed only afterwards, so a failure leaves it for the next run. Entries whose
 * lead is no longer held until that time (routed meanwhile, held again later) are removed.
 * Usually the lead is now assigned; if nobody is free yet it is held (and queued) again.
 * @throws HeldLeadsNotReleasedError after trying every due lead, if any failed.
 */
export async function releaseHeldLeads(now: Date, deps: ReleaseHeldLeadsDeps): Promise<ReleaseSummary> {
  const batchSize = deps.batchSize ?? 100;
  const maxBatches = deps.maxBatches ?? 10;
  const outcomes: Array<{ leadId: string; until: string; outcome: RouteOutcome }> = [];
  const failures: Array<{ leadId: string; error: unknown }> = [];
  const failed = new Set<string>();
  let due = 0;

  for (let batch = 0; batch < maxBatches; batch++) {
    const listed = await deps.store.listHeldLeadsDue(now.toISOString(), batchSize);
    // Entries that failed earlier in this run are still queued; they wait for the next run.
    const entries = listed.filter((e) => !failed.has(`${e.until}#${e.leadId}`));
    if (entries.length === 0) break;
    for (const entry of entries) {
      due++;
      const key = `release#${entry.leadId}#${entry.until}`;
      try {
        // Exactly once by the routing transaction; its event is in the outbox (relay on refusal).
        const result = await routeLeadNow(entry.leadId, key, { ...deps, now }, { releasing: entry.until });
        if (result.outbox) await announce(result.outbox, { publisher: deps.publisher, outbox: deps.outbox });
        await deps.store.removeHeldLead(entry.leadId, entry.until);
        outcomes.push({ leadId: entry.leadId, until: entry.until, outcome: result.outcome });
      } catch (error) {
        failed.add(`${entry.until}#${entry.leadId}`);
        failures.push({ leadId: entry.leadId, error });
      }
    }
    if (listed.length < batchSize) break;
  }

  const summary: ReleaseSummary = { due, outcomes };
  if (failures.length > 0) throw new HeldLeadsNotReleasedError(failures, summary);
  return summary;
}
