import { createHash } from 'node:crypto';
import type { ClientConfig, PipelineStage } from '../config/schema';
import { LeadStateConflictError } from './access';
import { InvalidInputError } from './errors';
import {
  type Activity,
  type Lead,
  type LeadStatus,
  type LifecycleStage,
  stageRank,
  TEXT_LIMITS,
} from './lead';

/**
 * The reps' workflow as pure rules: who may see and change which lead, first touch, status and
 * pipeline-stage transitions, manual reassignment, and stale deals. The leads API and the
 * stale-deals sweep call these and do the I/O around them; nothing here touches AWS.
 */

// ------------------------------------------------------------------------------------ ids

/**
 * A deterministic activity id for a lead-level event (`<leadId>-<suffix>`), hashed when that
 * would exceed the 64-character id limit. Deterministic ids make re-recording the same event a
 * no-op and let a retry find the activity it wrote.
 */
export function leadActivityId(leadId: string, suffix: string): string {
  const id = `${leadId}-${suffix}`;
  if (id.length <= 64) return id;
  return `${suffix.slice(0, 20)}-${createHash('sha256').update(id).digest('hex').slice(0, 40)}`;
}

// ------------------------------------------------------------------------------------ stages

/** Statuses a rep may set directly; `contacted`, `converted` and the rest follow from actions. */
export const MANUAL_STATUSES = ['working', 'disqualified'] as const;
export type ManualStatus = (typeof MANUAL_STATUSES)[number];

/** A rep's change to status and pipeline fields (`PATCH /leads/{id}`). */
export interface LeadUpdate {
  readonly status?: ManualStatus;
  readonly pipelineStage?: string;
  readonly amount?: number;
  readonly lostReason?: string;
  /**
   * `false` records that the person opted out of marketing email (told the rep, say): it takes
   * effect with this write. Only an opt-out: an opt-in must come from the person themselves.
   */
  readonly marketingConsent?: false;
}

/** Result of {@link planLeadUpdate}. */
export interface UpdatePlan {
  /** The lead to save (equal to the input when nothing changed). */
  readonly lead: Lead;
  /** Names of the fields that changed; empty means nothing to write. */
  readonly changed: readonly string[];
  /** Set when the pipeline stage moved. */
  readonly stageChange?: { readonly from?: string; readonly to: string; readonly activity: Activity };
}

/** The configured pipeline stage with this id. */
export function pipelineStage(
  config: Pick<ClientConfig, 'pipeline'>,
  id: string | undefined,
): PipelineStage | undefined {
  return id === undefined ? undefined : config.pipeline.stages.find((s) => s.id === id);
}

/** Status implied by a stage outcome: won is converted, lost disqualified, open is being worked. */
export function statusForOutcome(outcome: PipelineStage['outcome']): LeadStatus {
  return outcome === 'won' ? 'converted' : outcome === 'lost' ? 'disqualified' : 'working';
}

function laterStage(current: LifecycleStage, candidate: LifecycleStage): LifecycleStage {
  return stageRank(candidate) > stageRank(current) ? candidate : current;
}

/** The id of the activity recording a stage change at `at`. */
export function stageChangeActivityId(leadId: string, at: string): string {
  return leadActivityId(leadId, `stage-${Date.parse(at)}`);
}

/**
 * Applies a rep's status / pipeline change.
 *
 * - `pipelineStage` must be a configured stage. An open stage makes the lead an `opportunity`
 *   being `working`; a `won` stage makes it a `customer`, status `converted`; a `lost` stage
 *   sets status `disqualified` and requires a `lostReason` from `pipeline.lostReasons`.
 * - `status` alone may be `working` (reopen/keep working a lead outside the pipeline) or
 *   `disqualified` (junk; lost reason optional). It may not contradict the stage.
 * - Working a lead (`working` or any non-lost stage) requires its first touch, so the SLA
 *   ladder and speed-to-lead always see the contact.
 * - The stage time (`pipelineStageAt`) changes only when the stage does.
 * - `marketingConsent: false` records the person's opt-out (`via: api:<rep>`); one already
 *   recorded is kept as it is.
 * @throws InvalidInputError naming the field, LeadStateConflictError for a lead not yet contacted.
 */
export function planLeadUpdate(
  lead: Lead,
  update: LeadUpdate,
  config: Pick<ClientConfig, 'pipeline'>,
  at: Date,
  by: string,
): UpdatePlan {
  const iso = at.toISOString();
  const problems: { field: string; reason: string }[] = [];
  const targetStage =
    update.pipelineStage === undefined ? undefined : pipelineStage(config, update.pipelineStage);
  if (update.pipelineStage !== undefined && !targetStage)
    problems.push({
      field: 'pipelineStage',
      reason: `unknown stage "${update.pipelineStage}"; one of ${config.pipeline.stages.map((s) => s.id).join(', ')}`,
    });
  if (update.lostReason !== undefined && !config.pipeline.lostReasons.includes(update.lostReason))
    problems.push({
      field: 'lostReason',
      reason: `one of ${config.pipeline.lostReasons.map((r) => `"${r}"`).join(', ')}`,
    });
  if (problems.length > 0) throw new InvalidInputError(problems);

  const currentStage = pipelineStage(config, lead.pipelineStage);
  let next: Lead = { ...lead };
  if (targetStage) {
    const implied = statusForOutcome(targetStage.outcome);
    if (update.status !== undefined && update.status !== implied)
      problems.push({
        field: 'status',
        reason: `stage "${targetStage.id}" (${targetStage.outcome}) means status "${implied}", not "${update.status}"`,
      });
    if (
      targetStage.outcome === 'lost' &&
      (update.lostReason ?? (currentStage?.outcome === 'lost' ? lead.lostReason : undefined)) === undefined
    )
      problems.push({
        field: 'lostReason',
        reason: `required when moving to the lost stage "${targetStage.id}"`,
      });
    if (targetStage.outcome !== 'lost' && update.lostReason !== undefined)
      problems.push({
        field: 'lostReason',
        reason: `only a lost stage takes a lost reason, not "${targetStage.id}"`,
      });
    if (problems.length > 0) throw new InvalidInputError(problems);
    if (targetStage.outcome !== 'lost' && lead.firstTouchAt === undefined)
      throw new LeadStateConflictError(
        `Lead ${lead.id} was never contacted: mark it contacted (POST /leads/${lead.id}/contacted) before moving it to "${targetStage.id}"`,
      );
    next = {
      ...next,
      status: implied,
      stage:
        targetStage.outcome === 'won'
          ? 'customer'
          : targetStage.outcome === 'open'
            ? laterStage(lead.stage, 'opportunity')
            : lead.stage,
      pipelineStage: targetStage.id,
    };
    if (targetStage.outcome === 'lost') next.lostReason = update.lostReason ?? lead.lostReason;
    else delete next.lostReason;
  } else if (update.status !== undefined) {
    if (currentStage?.outcome === 'open' && update.status === 'disqualified')
      problems.push({
        field: 'status',
        reason: `the lead is an open opportunity ("${currentStage.id}"): move pipelineStage to a lost stage instead`,
      });
    if (currentStage && currentStage.outcome !== 'open' && update.status === 'working')
      problems.push({
        field: 'status',
        reason: `the deal is closed ("${currentStage.id}"): move pipelineStage to an open stage to reopen it`,
      });
    if (update.status === 'working' && update.lostReason !== undefined)
      problems.push({ field: 'lostReason', reason: 'only a disqualified lead takes a lost reason' });
    if (problems.length > 0) throw new InvalidInputError(problems);
    if (update.status === 'working' && lead.firstTouchAt === undefined)
      throw new LeadStateConflictError(
        `Lead ${lead.id} was never contacted: mark it contacted (POST /leads/${lead.id}/contacted) before working it`,
      );
    next.status = update.status;
    if (update.status === 'disqualified' && update.lostReason !== undefined)
      next.lostReason = update.lostReason;
    if (update.status === 'working') delete next.lostReason;
  } else if (update.lostReason !== undefined) {
    if (lead.status !== 'disqualified')
      throw new InvalidInputError([
        { field: 'lostReason', reason: 'only a lost or disqualified lead takes a lost reason' },
      ]);
    next.lostReason = update.lostReason;
  }
  if (update.amount !== undefined) next.amount = update.amount;
  if (update.marketingConsent === false && lead.consent?.marketing !== false)
    next.consent = { marketing: false, at: iso, via: `api:${by}`.slice(0, TEXT_LIMITS.short) };

  const changed = (['status', 'stage', 'pipelineStage', 'amount', 'lostReason', 'consent'] as const).filter(
    (field) => next[field] !== lead[field],
  );
  if (changed.length === 0) return { lead, changed: [] };
  next.updatedAt = iso;
  if (next.pipelineStage === lead.pipelineStage || next.pipelineStage === undefined)
    return { lead: next, changed };

  next.pipelineStageAt = iso;
  const activity: Activity = {
    id: stageChangeActivityId(lead.id, iso),
    leadId: lead.id,
    type: 'stage_changed',
    at: iso,
    data: {
      ...(lead.pipelineStage !== undefined ? { from: lead.pipelineStage } : {}),
      to: next.pipelineStage,
      by,
      ...(next.lostReason !== undefined && targetStage?.outcome === 'lost'
        ? { lostReason: next.lostReason }
        : {}),
    },
  };
  return {
    lead: next,
    changed,
    stageChange: {
      ...(lead.pipelineStage !== undefined ? { from: lead.pipelineStage } : {}),
      to: next.pipelineStage,
      activity,
    },
  };
}
