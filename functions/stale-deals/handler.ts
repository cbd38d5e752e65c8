import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { EventPublisher } from '../../shared/adapters/event-publisher';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { clientConfig } from '../../shared/config/runtime';
import type { ClientConfig } from '../../shared/config/schema';
import { env } from '../../shared/contracts/function-env';
import { LeadPipelineError } from '../../shared/domain/errors';
import type { Lead } from '../../shared/domain/lead';
import { isOverdue, type LeadTask } from '../../shared/domain/lead-tasks';
import { findStaleDeals, openStageIds, type StaleDeal } from '../../shared/domain/stale-deals';
import { type DetailType, type PipelineEvent, pipelineEvent } from '../../shared/events/catalogue';
import { consumer } from '../../shared/runtime/consumer';
import { lazyHandler } from '../../shared/runtime/handler';

import { mapLimit } from '../../shared/services/map-limit';

/**
 * Daily sweep for deals that need attention: opportunities in an open pipeline stage whose stage
 * has not changed for `pipeline.staleAfterDays`, and open deals with overdue tasks (a stage's
 * required actions, a rep's own). A stale deal is announced with `Stale Deal Found` listing its
 * overdue tasks too; a deal that is only late on tasks with `Tasks Overdue`. The alert function
 * tells the owner, or the team's manager for an ownerless deal: one message per deal per day.
 *
 * Exactly once per deal per (UTC) day: before publishing, the sweep claims a marker item
 * `LEAD#<id> / STALE#<day>` (conditional put, TTL) and releases it if the publish fails. A
 * re-run the same day (Lambda's async retry, a manual re-invoke) skips claimed deals; a run that
 * could not finish throws, so the platform retries and the retry picks up the rest.
 */

/** Storage used by the sweep (implemented by `LeadRepository`). */
export interface StaleDealsStore {
  listLeadsInStageSince(stage: string, before: string): Promise<Lead[]>;
  listTasks(leadId: string): Promise<LeadTask[]>;
  claimStaleDealAlert(leadId: string, day: string, expiresAtEpoch: number): Promise<boolean>;
  releaseStaleDealAlert(leadId: string, day: string): Promise<void>;
}

export interface Deps {
  readonly store: StaleDealsStore;
  readonly publisher: { publish(...events: ReadonlyArray<PipelineEvent<DetailType>>): Promise<void> };
  readonly config: ClientConfig;
  readonly now?: () => Date;
}

/** What one sweep did. */
export interface SweepResult {
  readonly day: string;
  readonly stale: number;
  /** Deals with overdue tasks (stale or not). */
  readonly withOverdueTasks: number;
  readonly announced: number;
  /** Already announced today by an earlier run. */
  readonly alreadyAnnounced: number;
}

/** Some deals could not be announced (publish failed, or time ran out); the retry finishes them. */
export class SweepIncompleteError extends LeadPipelineError {
  readonly code = 'SWEEP_INCOMPLETE';
  override readonly retryable = true;
  /** Deals left to announce. */
  readonly remaining: number;
  constructor(remaining: number, cause?: unknown) {
    const why = cause instanceof Error ? `: ${cause.message}` : '';
    super(
      `${remaining} deal(s) (stale or late on tasks) were not announced${why}; the retry announces them`,
      {
        cause,
      },
    );
    this.remaining = remaining;
  }
}

/** The scheduled event; only its time is read, and only as a fallback clock. */
const ScheduledEventSchema = z.object({ time: z.iso.datetime().optional() }).loose().catch({});

/** Task reads in flight at once (one query per open deal). */
const TASK_READS_IN_PARALLEL = 8;
/** Overdue tasks listed per deal; the deal page has the rest. */
const MAX_LISTED_TASKS = 10;

/** A deal to announce today: stale, late on tasks, or both. */
interface Notice {
  readonly lead: Lead;
  readonly repId: string;
  readonly pipelineStage: string;
  readonly stale?: StaleDeal;
  readonly overdue: readonly LeadTask[];
}

/** Deals announced per publish call (EventBridge PutEvents takes 10 entries). */
const BATCH = 10;
/** Markers outlive the day they cover by a week, then DynamoDB TTL removes them. */
const MARKER_TTL_SECONDS = 8 * 86_400;
/** Stop claiming new deals when less than this much time is left, and let the retry continue. */
const SAFETY_MARGIN_MS = 15_000;

function noticeEvent(notice: Notice, now: Date): PipelineEvent<'Stale Deal Found' | 'Tasks Overdue'> {
  const base = {
    leadId: notice.lead.id,
    occurredAt: now.toISOString(),
    isTest: notice.lead.isTest,
    repId: notice.repId,
    pipelineStage: notice.pipelineStage,
  };
  const tasks = notice.overdue
    .slice(0, MAX_LISTED_TASKS)
    .map((t) => ({ id: t.id, title: t.title, dueAt: t.dueAt }));
  return notice.stale
    ? pipelineEvent('Stale Deal Found', {
        ...base,
        daysInStage: notice.stale.daysInStage,
        overdueTasks: tasks,
      })
    : pipelineEvent('Tasks Overdue', { ...base, tasks });
}

export function createHandler(deps: Deps) {
  return consumer({
    schema: ScheduledEventSchema,
    decide: (scheduled, context) => sweep(deps, scheduled.time, context),
    describe: (result) => ({ message: 'Stale-deal sweep done', keys: { ...result } }),
  });
}

/** Announces today's stale and late deals, each once. */
async function sweep(
  deps: Deps,
  scheduledAt: string | undefined,
  context: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
): Promise<SweepResult> {
  const now = deps.now?.() ?? (scheduledAt ? new Date(scheduledAt) : new Date());
  const day = now.toISOString().slice(0, 10);

  // Every open deal (not only the stale ones): any of them may be late on a task.
  const candidates: Lead[] = [];
  for (const stage of openStageIds(deps.config))
    candidates.push(...(await deps.store.listLeadsInStageSince(stage, now.toISOString())));
  // Test leads flow through the pipeline but nobody is alerted about them.
  const real = candidates.filter((lead) => !lead.isTest);
  const stale = new Map(findStaleDeals(real, deps.config, now).map((d) => [d.lead.id, d]));
  const tasks = await mapLimit(real, TASK_READS_IN_PARALLEL, (lead) => deps.store.listTasks(lead.id));
  const deals: Notice[] = real.flatMap((lead, i) => {
    const overdue = (tasks[i] ?? [])
      .filter((t) => isOverdue(t, now))
      .sort((a, b) => (a.dueAt < b.dueAt ? -1 : 1));
    const staleDeal = stale.get(lead.id);
    const repId = lead.owner ?? deps.config.teams.find((t) => t.id === lead.team)?.manager;
    if ((!staleDeal && overdue.length === 0) || repId === undefined || lead.pipelineStage === undefined)
      return [];
    return [
      {
        lead,
        repId,
        pipelineStage: lead.pipelineStage,
        ...(staleDeal ? { stale: staleDeal } : {}),
        overdue,
      },
    ];
  });

  const expiresAt = Math.floor(Date.parse(`${day}T00:00:00Z`) / 1000) + MARKER_TTL_SECONDS;
  let announced = 0;
  let alreadyAnnounced = 0;
  for (let i = 0; i < deals.length; i += BATCH) {
    if (context && context.getRemainingTimeInMillis() < SAFETY_MARGIN_MS)
      throw new SweepIncompleteError(deals.length - i);
    const claimed: Notice[] = [];
    for (const deal of deals.slice(i, i + BATCH)) {
      if (await deps.store.claimStaleDealAlert(deal.lead.id, day, expiresAt)) claimed.push(deal);
      else alreadyAnnounced++;
    }
    if (claimed.length === 0) continue;
    try {
      await deps.publisher.publish(...claimed.map((d) => noticeEvent(d, now)));
    } catch (error) {
      // Not announced: free today's markers so the retry announces these deals.
      for (const deal of claimed) await deps.store.releaseStaleDealAlert(deal.lead.id, day);
      throw new SweepIncompleteError(deals.length - i, error);
    }
    announced += claimed.length;
  }
  const result: SweepResult = {
    day,
    stale: stale.size,
    withOverdueTasks: deals.filter((d) => d.overdue.length > 0).length,
    announced,
    alreadyAnnounced,
  };
  return result;
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() =>
  createHandler({
    store: new LeadRepository(env.tableName),
    publisher: new EventPublisher(env.eventBusName),
    config: clientConfig(),
  }),
);
