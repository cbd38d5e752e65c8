import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { requireEnv } from '../../shared/adapters/clients';
import { EventPublisher } from '../../shared/adapters/event-publisher';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { clientConfig } from '../../shared/config/runtime';
import type { ClientConfig } from '../../shared/config/schema';
import { LeadPipelineError } from '../../shared/domain/errors';
import type { Lead } from '../../shared/domain/lead';
import { findStaleDeals, openStageIds, type StaleDeal, staleCutoff } from '../../shared/domain/pipeline';
import { type DetailType, type PipelineEvent, pipelineEvent } from '../../shared/events/catalogue';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger } from '../../shared/runtime/observability';

/**
 * Daily sweep for stale deals: opportunities in an open pipeline stage whose stage has not
 * changed for `pipeline.staleAfterDays`. Each one is announced with `Stale Deal Found` (the
 * alert function tells the owner, or the team's manager for an ownerless deal).
 *
 * Exactly once per deal per (UTC) day: before publishing, the sweep claims a marker item
 * `LEAD#<id> / STALE#<day>` (conditional put, TTL) and releases it if the publish fails. A
 * re-run the same day (Lambda's async retry, a manual re-invoke) skips claimed deals; a run that
 * could not finish throws, so the platform retries and the retry picks up the rest.
 */

/** Storage used by the sweep (implemented by `LeadRepository`). */
export interface StaleDealsStore {
  listLeadsInStageSince(stage: string, before: string): Promise<Lead[]>;
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
  readonly announced: number;
  /** Already announced today by an earlier run. */
  readonly alreadyAnnounced: number;
}

/** Some deals could not be announced (publish failed, or time ran out); the retry finishes them. */
export class SweepIncompleteError extends LeadPipelineError {
  readonly code = 'SWEEP_INCOMPLETE';
  override readonly retryable = true;
  constructor(
    readonly remaining: number,
    override readonly cause?: unknown,
  ) {
    super(
      `${remaining} stale deal(s) were not announced${cause instanceof Error ? `: ${cause.message}` : ''}; the retry announces them`,
    );
  }
}

/** The scheduled event; only its time is read, and only as a fallback clock. */
const ScheduledEventSchema = z.object({ time: z.iso.datetime().optional() }).loose();

/** Deals announced per publish call (EventBridge PutEvents takes 10 entries). */
const BATCH = 10;
/** Markers outlive the day they cover by a week, then DynamoDB TTL removes them. */
const MARKER_TTL_SECONDS = 8 * 86_400;
/** Stop claiming new deals when less than this much time is left, and let the retry continue. */
const SAFETY_MARGIN_MS = 15_000;

function staleEvent(deal: StaleDeal, now: Date): PipelineEvent<'Stale Deal Found'> {
  return pipelineEvent('Stale Deal Found', {
    leadId: deal.lead.id,
    occurredAt: now.toISOString(),
    isTest: deal.lead.isTest,
    repId: deal.repId,
    pipelineStage: deal.pipelineStage,
    daysInStage: deal.daysInStage,
  });
}

export function createHandler(deps: Deps) {
  return async (
    event: unknown,
    context?: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<SweepResult> => {
    const scheduled = ScheduledEventSchema.safeParse(event ?? {});
    const now =
      deps.now?.() ?? (scheduled.success && scheduled.data.time ? new Date(scheduled.data.time) : new Date());
    const day = now.toISOString().slice(0, 10);
    const before = staleCutoff(deps.config, now).toISOString();

    const candidates: Lead[] = [];
    for (const stage of openStageIds(deps.config))
      candidates.push(...(await deps.store.listLeadsInStageSince(stage, before)));
    // Test leads flow through the pipeline but nobody is alerted about them.
    const deals = findStaleDeals(candidates, deps.config, now).filter((d) => !d.lead.isTest);

    const expiresAt = Math.floor(Date.parse(`${day}T00:00:00Z`) / 1000) + MARKER_TTL_SECONDS;
    let announced = 0;
    let alreadyAnnounced = 0;
    for (let i = 0; i < deals.length; i += BATCH) {
      if (context && context.getRemainingTimeInMillis() < SAFETY_MARGIN_MS)
        throw new SweepIncompleteError(deals.length - i);
      const claimed: StaleDeal[] = [];
      for (const deal of deals.slice(i, i + BATCH)) {
        if (await deps.store.claimStaleDealAlert(deal.lead.id, day, expiresAt)) claimed.push(deal);
        else alreadyAnnounced++;
      }
      if (claimed.length === 0) continue;
      try {
        await deps.publisher.publish(...claimed.map((d) => staleEvent(d, now)));
      } catch (error) {
        // Not announced: free today's markers so the retry announces these deals.
        for (const deal of claimed) await deps.store.releaseStaleDealAlert(deal.lead.id, day);
        throw new SweepIncompleteError(deals.length - i, error);
      }
      announced += claimed.length;
    }
    const result: SweepResult = { day, stale: deals.length, announced, alreadyAnnounced };
    logger.info('Stale-deal sweep done', { ...result });
    return result;
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() =>
  createHandler({
    store: new LeadRepository(requireEnv('TABLE_NAME')),
    publisher: new EventPublisher(requireEnv('EVENT_BUS_NAME')),
    config: clientConfig(),
  }),
);
