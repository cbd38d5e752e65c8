import type { ClientConfig } from '../config/schema';
import type { Activity, Lead } from '../domain/lead';
import { firedTrigger } from '../domain/nurture-branching';
import type { EventDetail } from '../events/catalogue';

/**
 * Behaviour that starts a short sequence of its own (`nurture.triggers`, e.g. the pricing page
 * visited twice without a booking): on each page view of a lead in nurture, the first trigger
 * that fires moves the lead to its sequence and starts that sequence's execution under a name
 * made of the lead and the trigger. The sequence the lead was in stops at its next step
 * (`moved-sequence`), and a redelivered page view starts nothing twice: the lead is saved first,
 * and the start is idempotent by name, so a retry after a failed start completes it.
 */

/** Starts a nurture execution by name (implemented by `SfnExecutionStarter`). */
export interface NurtureStarter {
  start(name: string, input: EventDetail<'Lead Nurtured'>): Promise<'started' | 'already-started'>;
}

export interface NurtureTriggerDeps {
  readonly store: {
    getLead(leadId: string): Promise<Lead | undefined>;
    listActivities(leadId: string): Promise<Activity[]>;
    saveLead(previous: Lead, next: Lead): Promise<Lead>;
  };
  readonly starter: NurtureStarter;
  readonly config: Pick<ClientConfig, 'nurture'>;
  readonly now: () => Date;
}

export type TriggerResult =
  | {
      readonly outcome: 'started' | 'already-started';
      readonly triggerId: string;
      readonly sequenceId: string;
    }
  | { readonly outcome: 'none'; readonly reason: string };

/** The execution name of a trigger's sequence for a lead: one per lead and trigger, ever. */
export function triggerExecutionName(leadId: string, triggerId: string): string {
  return `${leadId}-trigger-${triggerId}`.slice(0, 80);
}

/** Applies the lead's first firing trigger, if any (see the module notes). */
export async function applyNurtureTriggers(leadId: string, deps: NurtureTriggerDeps): Promise<TriggerResult> {
  const { triggers } = deps.config.nurture;
  if (triggers.length === 0) return { outcome: 'none', reason: 'no-triggers' };
  const lead = await deps.store.getLead(leadId);
  if (!lead) return { outcome: 'none', reason: 'lead-missing' };
  if (lead.isTest) return { outcome: 'none', reason: 'test-lead' };
  // Only leads nurture owns: sales has the others.
  if (lead.status !== 'nurturing' || lead.owner !== undefined)
    return { outcome: 'none', reason: 'not-nurturing' };
  const now = deps.now();
  const trigger = firedTrigger(triggers, await deps.store.listActivities(leadId), now);
  if (!trigger) return { outcome: 'none', reason: 'no-trigger-fired' };
  const at = now.toISOString();
  if (lead.nurtureSequence !== trigger.sequence)
    await deps.store.saveLead(lead, { ...lead, nurtureSequence: trigger.sequence, updatedAt: at });
  const outcome = await deps.starter.start(triggerExecutionName(lead.id, trigger.id), {
    leadId: lead.id,
    occurredAt: at,
    isTest: false,
    sequenceId: trigger.sequence,
    ruleId: `trigger:${trigger.id}`,
  });
  return { outcome, triggerId: trigger.id, sequenceId: trigger.sequence };
}
