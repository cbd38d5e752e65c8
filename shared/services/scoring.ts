import type { ScoringModel } from '../config/schema';
import { LeadChangedError } from '../domain/errors';
import {
  type Activity,
  type Lead,
  type LeadScore,
  type LeadStatus,
  type LifecycleStage,
  leadFacts,
} from '../domain/lead';
import { crossedThreshold, scoreLead } from '../domain/scoring';
import { type DetailType, type PipelineEvent, pipelineEvent } from '../events/catalogue';
import type { OutboxEntry } from '../ports/outbox';

/**
 * Scoring use case: recompute a lead's score from its profile and every activity, store it (and
 * a score-history entry) when it changed, and announce `Lead Scored`. A newly reached MQL or
 * SQL is read from it (`stage` against `previousStage`); no separate event, as no rule needed one.
 *
 * Exactly once: a changed score records its trigger (`scoredBy`) and its events (an outbox
 * entry) in the same conditional transaction, so a redelivery finds its own write and does
 * nothing, and a crash before the publish is made good by the relay. The threshold crossing is
 * detected against the STORED stage, so a later event never announces the same qualification
 * twice. An unchanged result writes nothing and adds no history entry.
 */

/**
 * What caused a (re-)score, as carried by `Lead Scored`: the capture of a lead (already enriched
 * by the built-in rules), a third-party provider's answer, or new activity.
 */
export type ScoreTrigger = 'captured' | 'enriched' | 'activity';

/** Statuses from which a lead may be (re)routed: not owned, not closed, not waiting for its fields. */
export const ROUTABLE_STATUSES: readonly LeadStatus[] = ['new', 'held', 'nurturing'];

/** The storage operations scoring needs (implemented by `LeadRepository`). */
export interface ScoringStore {
  /** The lead and its timeline, in one strongly consistent read (the version guards the write). */
  getLeadWithActivities(leadId: string): Promise<{ lead: Lead; activities: Activity[] } | undefined>;
  /** Saves the lead and its score-history entry in one conditional transaction. */
  saveLead(
    previous: Lead,
    next: Lead,
    options: { scoreHistory: { at: string; score: unknown }; outbox: OutboxEntry },
  ): Promise<Lead>;
}

/** Dependencies of {@link rescoreLead}. */
export interface RescoreLeadDeps {
  readonly store: ScoringStore;
  /** The client's `scoring` section. */
  readonly model: ScoringModel;
  readonly now: Date;
  /** Read-modify-write attempts when the lead changes concurrently. @default 5 */
  readonly maxAttempts?: number;
}

/** What {@link rescoreLead} did, and the events to publish. */
export type RescoreLeadResult =
  | {
      /** `scored`: saved a new score; `unchanged`: same score, nothing written. */
      readonly outcome: 'scored' | 'unchanged';
      readonly score: LeadScore;
      readonly previousStage: LifecycleStage;
      /** The threshold newly reached, if any. */
      readonly qualified?: 'MQL' | 'SQL';
      readonly routable: boolean;
      readonly events: PipelineEvent<DetailType>[];
      /** The outbox entry saved with a changed score (its events). */
      readonly outbox?: OutboxEntry;
    }
  /** `missing`: the lead no longer exists (erased); `already-scored`: a redelivery. */
  | { readonly outcome: 'missing' | 'already-scored'; readonly events: PipelineEvent<DetailType>[] };

/**
 * Whether routing should look at the lead after this score: a lead never routed yet (`new`)
 * once it is captured (or a provider enriched it before routing did), or an unowned lead (held,
 * nurtured) that just reached MQL or SQL.
 */
export function isRoutable(
  lead: Pick<Lead, 'status' | 'owner'>,
  trigger: ScoreTrigger,
  qualified: 'MQL' | 'SQL' | undefined,
): boolean {
  if (lead.owner !== undefined || !ROUTABLE_STATUSES.includes(lead.status)) return false;
  return (lead.status === 'new' && trigger !== 'activity') || qualified !== undefined;
}

/** Same total, parts, stage and explanation; `asOf` is ignored (it is the time of computing). */
export function sameScore(previous: LeadScore | undefined, next: LeadScore): boolean {
  if (!previous) return false;
  const { asOf: _a, ...a } = previous;
  const { asOf: _b, ...b } = next;
  return canonicalJson(a) === canonicalJson(b);
}

/**
 * JSON with object keys sorted: a score read back from DynamoDB has its keys in another order
 * than a freshly computed one, and that must not count as a change.
 */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : v,
  );
}

/**
 * Re-scores a lead and returns the events to publish: `Lead Scored` whenever the score changed
 * or the lead is routable (a crossed threshold shows as `stage` above `previousStage`). The stage never moves
 * backwards (`previousStage` is the stored stage).
 *
 * The score-history entry is written in the same transaction as the lead, so there is one
 * entry per change whatever fails and whatever is redelivered.
 * @throws LeadChangedError when the lead kept changing for `maxAttempts` reads.
 * @throws DependencyUnavailableError when DynamoDB is unavailable (retry later).
 */
export async function rescoreLead(
  leadId: string,
  trigger: ScoreTrigger,
  deps: RescoreLeadDeps,
  triggerKey?: string,
): Promise<RescoreLeadResult> {
  const { store, model, now } = deps;
  const maxAttempts = deps.maxAttempts ?? 5;
  const at = now.toISOString();

  for (let attempt = 1; ; attempt++) {
    const found = await store.getLeadWithActivities(leadId);
    if (!found) return { outcome: 'missing', events: [] };
    const { lead, activities } = found;
    const score = scoreLead({
      facts: leadFacts(lead.profile, lead),
      activities,
      model,
      asOf: now,
      previousStage: lead.stage,
    });
    // A redelivery of an event already scored finds its own write: the events it caused were
    // stored in that write's outbox entry, published then or by the relay. Nothing to redo.
    if (triggerKey !== undefined && lead.scoredBy?.key === triggerKey)
      return { outcome: 'already-scored', events: [] };
    const previousStage = lead.stage;
    const qualified = crossedThreshold(previousStage, score.stage);
    const routable = isRoutable(lead, trigger, qualified);
    const unchanged = sameScore(lead.score, score) && score.stage === lead.stage;

    const events: PipelineEvent<DetailType>[] = [];
    if (!unchanged || routable) {
      events.push(
        pipelineEvent('Lead Scored', {
          leadId,
          occurredAt: at,
          isTest: lead.isTest,
          total: score.total,
          fit: score.fit,
          engagement: score.engagement,
          stage: score.stage,
          previousStage,
          trigger,
          routable,
        }),
      );
    }
    // A changed score is saved with its history entry and its events (the outbox entry) in one
    // transaction; an unchanged one writes nothing, and its events (a routable lead) are simply
    // published: a retry derives them again.
    const outbox: OutboxEntry | undefined = unchanged
      ? undefined
      : { id: `${leadId}-scored-${lead.version + 1}`, at, events };
    if (outbox) {
      try {
        await store.saveLead(
          lead,
          {
            ...lead,
            score,
            stage: score.stage,
            updatedAt: at,
            ...(triggerKey !== undefined ? { scoredBy: { key: triggerKey, previousStage } } : {}),
          },
          // The history keeps the figures over time; the explanation (every rule's points, most
          // of the score's 1.2 KB) is the lead's, so the entry stays under 1 KB: 2 write units
          // in the transaction instead of 4.
          {
            scoreHistory: {
              at,
              score: { total: score.total, fit: score.fit, engagement: score.engagement, stage: score.stage },
            },
            outbox,
          },
        );
      } catch (error) {
        if (error instanceof LeadChangedError && attempt < maxAttempts) continue;
        throw error;
      }
    }
    return {
      outcome: unchanged ? 'unchanged' : 'scored',
      score,
      previousStage,
      ...(qualified ? { qualified } : {}),
      routable,
      events,
      ...(outbox ? { outbox } : {}),
    };
  }
}
