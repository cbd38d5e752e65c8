import type { Mailer } from '../adapters/mailer';
import type { ClientConfig } from '../config/schema';
import { canonicalEmail } from '../domain/email';
import type { Activity, Lead } from '../domain/lead';
import {
  findStep,
  type NurtureCursor,
  type NurtureExitReason,
  type NurtureStepRef,
  nextStep,
  nurtureExitReason,
} from '../domain/nurture';
import { emailHash } from '../domain/tokens';
import type { EventDetail } from '../events/catalogue';
import { composeLeadEmail, type SendClaimStore, sendOnce } from './lead-email';

/**
 * The nurture sequence's use case, the Step Functions `Send` task (see `NurtureWorkflow`):
 * `send` runs after each wait, re-checks on the fresh lead whether the sequence must stop,
 * sends the step at most once and returns the next cursor. Decisions come from `domain/nurture.ts`; sending from `lead-email.ts`.
 */

/** Storage the nurture tasks need (implemented by `LeadRepository`). */
export interface NurtureStore extends SendClaimStore {
  getLead(leadId: string): Promise<Lead | undefined>;
  isSuppressed(emailHash: string): Promise<boolean>;
  listActivities(leadId: string): Promise<Activity[]>;
}

export interface NurtureDeps {
  readonly store: NurtureStore;
  readonly mailer: Mailer;
  /** The integrations secret's HMAC key, read only when an email is about to be composed. */
  readonly signingKey: () => Promise<string>;
  readonly config: Pick<ClientConfig, 'nurture' | 'email' | 'client' | 'pipeline'>;
  /** Public API base URL (`API_URL`). */
  readonly apiUrl: string;
  readonly now: () => Date;
}

/** The enrolment: the `Lead Nurtured` detail that started the execution. */
export type NurtureEnrolment = EventDetail<'Lead Nurtured'>;

/** Why a send task stopped the sequence (exit conditions plus the sequence-level ones). */
export type NurtureStopReason = NurtureExitReason | 'lead-missing' | 'unknown-sequence' | 'refused';

/** The result of a `send` task; `next` is the cursor the machine moves to (`$.cursor`). */
export type NurtureSendResult =
  | {
      readonly outcome: 'sent';
      /** `unconfirmed`: SES gave no answer (counted as sent); `already-sent`: an earlier attempt claimed it. */
      readonly delivery: 'sent' | 'unconfirmed' | 'already-sent';
      readonly messageId?: string;
      readonly next: NurtureCursor;
    }
  | { readonly outcome: 'skipped'; readonly reason: 'step-removed'; readonly next: NurtureCursor }
  | { readonly outcome: 'stop'; readonly reason: NurtureStopReason; readonly next: NurtureCursor };

/**
 * The `send` task for `ref`: stop when an exit condition holds on the fresh lead, otherwise
 * send the step at most once and return the next cursor.
 * @throws EmailNotSentError (retryable) / DependencyUnavailableError on transient failures;
 *   nothing was sent, so retrying the task is safe.
 */
export async function sendStep(
  enrolment: NurtureEnrolment,
  ref: NurtureStepRef,
  deps: NurtureDeps,
): Promise<NurtureSendResult> {
  const { config, store } = deps;
  const sequences = config.nurture.sequences;
  const stop = (reason: NurtureStopReason): NurtureSendResult => ({
    outcome: 'stop',
    reason,
    next: { done: true, reason },
  });
  const { sequenceId } = enrolment;
  if (!sequences.some((s) => s.id === sequenceId)) return stop('unknown-sequence');
  const found = findStep(sequences, sequenceId, ref);
  if (!found)
    return { outcome: 'skipped', reason: 'step-removed', next: nextStep(sequences, sequenceId, ref) };

  const lead = await store.getLead(enrolment.leadId);
  if (!lead) return stop('lead-missing');
  const email = lead.profile.email ? canonicalEmail(lead.profile.email) : undefined;
  const [suppressed, activities] = await Promise.all([
    email ? store.isSuppressed(emailHash(email)) : Promise.resolve(false),
    store.listActivities(lead.id),
  ]);
  const reason = nurtureExitReason({
    lead,
    suppressed,
    activities,
    sequenceId,
    consentMode: config.client.consentMode,
    pipelineStages: config.pipeline.stages,
  });
  if (reason) return stop(reason);

  const now = deps.now();
  const message = composeLeadEmail(lead, found.step.template, {
    config,
    apiUrl: deps.apiUrl,
    signingKey: await deps.signingKey(),
    now,
    kind: 'nurture',
    sequenceId,
    stepId: ref.id,
  });
  const result = await sendOnce(
    { leadId: lead.id, sequenceId, stepId: ref.id, email: message, at: now.toISOString() },
    { store, mailer: deps.mailer },
  );
  const next = nextStep(sequences, sequenceId, ref);
  switch (result.status) {
    case 'sent':
      return { outcome: 'sent', delivery: 'sent', messageId: result.messageId, next };
    case 'already-claimed':
      return { outcome: 'sent', delivery: 'already-sent', next };
    case 'unconfirmed':
      return { outcome: 'sent', delivery: 'unconfirmed', next };
    case 'refused':
      return stop('refused');
  }
}
