import { z } from 'zod';
import type { ClientConfig, NurtureSequence, PipelineStage } from '../config/schema';
import { type Activity, type Lead, type LeadStatus, stageRank } from './lead';

/**
 * Nurture sequences: which step comes next and whether a lead may still receive it.
 *
 * The nurture state machine is generated from the sequences and only waits; after each wait
 * the `send` task re-checks {@link nurtureExitReason} on the freshly read lead and, when nothing
 * stops the sequence, branches or sends (`nurture-branching.ts`). Steps are found by id (not by
 * position), so a sequence edited and redeployed while leads are mid-way keeps going sensibly.
 * Pure: no I/O, no clock.
 */

const id = z.string().min(1).max(64);

/**
 * One step of a sequence as the generated state machine passes it to its `Send` task, fixed in
 * the definition (`infra/CONTRACTS.md` §3.2).
 */
export const NurtureStepRefSchema = z.strictObject({
  /** The step's id in `nurture.sequences[].steps[]`. */
  id,
  /** Position in the sequence when the cursor was made; used only if the step was since removed. */
  index: z.number().int().min(0),
  /** Seconds the machine waits before sending this step (`WaitForStep` reads it). */
  waitSeconds: z.number().int().min(0),
  /** The step's sequence (a branch may lead into another one); the enrolment's when absent. */
  sequenceId: id.optional(),
});
export type NurtureStepRef = z.output<typeof NurtureStepRefSchema>;

/** Why a sequence ended early for a lead. Each one is checked on the fresh lead before every step. */
export type NurtureExitReason =
  | 'test-lead'
  | 'no-email'
  | 'unsubscribed'
  | 'suppressed'
  | 'converted'
  | 'lost'
  | 'sales-ready'
  | 'assigned'
  | 'replied'
  | 'meeting-booked'
  | 'moved-sequence'
  | 'no-consent';

/** Statuses meaning sales has the lead (held for a team's working hours counts: a rep will take it). */
const WITH_SALES: readonly LeadStatus[] = ['held', 'assigned', 'contacted', 'working', 'unworked'];

/** Wait before a step, in whole seconds (Step Functions waits take integer seconds). */
export function waitSeconds(waitHours: number): number {
  return Math.max(0, Math.round(waitHours * 3600));
}

/** The step a task's ref points at in the current config, if it still exists. */
export function findStep(
  sequences: readonly NurtureSequence[],
  sequenceId: string,
  ref: Pick<NurtureStepRef, 'id'>,
): { sequence: NurtureSequence; step: NurtureSequence['steps'][number]; index: number } | undefined {
  const sequence = sequences.find((s) => s.id === sequenceId);
  if (!sequence) return undefined;
  const index = sequence.steps.findIndex((s) => s.id === ref.id);
  const step = sequence.steps[index];
  return step ? { sequence, step, index } : undefined;
}

/** What the exit check reads besides the lead. */
export interface ExitCheckInput {
  /** The lead, freshly read. */
  readonly lead: Lead;
  /** Whether the lead's address is on the suppression list (bounce, complaint, unsubscribe). */
  readonly suppressed: boolean;
  /** The lead's activity timeline (any order). */
  readonly activities: readonly Pick<Activity, 'type'>[];
  /** The sequence this execution runs. */
  readonly sequenceId: string;
  /** `client.consentMode`. */
  readonly consentMode: ClientConfig['client']['consentMode'];
  /** `pipeline.stages`, to tell won and lost opportunities. */
  readonly pipelineStages: readonly PipelineStage[];
}

/**
 * Why the lead must not get the next nurture email, or `undefined` when it may. Checked in
 * order of certainty: facts about the address first, then the sales outcome, then engagement
 * that means a person is already talking to the lead, then consent.
 *
 * - `consent-required`: only with recorded marketing consent (`consent.marketing === true`).
 * - `opt-out`: unless the lead withdrew consent (`consent.marketing === false`).
 */
export function nurtureExitReason(input: ExitCheckInput): NurtureExitReason | undefined {
  const { lead, activities } = input;
  if (lead.isTest) return 'test-lead';
  if (!lead.profile.email) return 'no-email';
  if (lead.unsubscribed) return 'unsubscribed';
  if (input.suppressed) return 'suppressed';
  const outcome = input.pipelineStages.find((s) => s.id === lead.pipelineStage)?.outcome;
  if (lead.status === 'converted' || lead.stage === 'customer' || outcome === 'won') return 'converted';
  if (lead.status === 'disqualified' || outcome === 'lost' || lead.lostReason !== undefined) return 'lost';
  if (stageRank(lead.stage) >= stageRank('SQL')) return 'sales-ready';
  if (lead.owner !== undefined || WITH_SALES.includes(lead.status)) return 'assigned';
  if (activities.some((a) => a.type === 'email_replied')) return 'replied';
  if (activities.some((a) => a.type === 'meeting_booked')) return 'meeting-booked';
  if (lead.nurtureSequence !== undefined && lead.nurtureSequence !== input.sequenceId)
    return 'moved-sequence';
  const marketing = lead.consent?.marketing;
  if (input.consentMode === 'consent-required' ? marketing !== true : marketing === false)
    return 'no-consent';
  return undefined;
}
