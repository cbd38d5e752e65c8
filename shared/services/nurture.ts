import type { ClientConfig } from '../config/schema';
import { canonicalEmail } from '../domain/email';
import type { Activity, Lead } from '../domain/lead';
import { findStep, type NurtureExitReason, type NurtureStepRef, nurtureExitReason } from '../domain/nurture';
import { behaviourMatches, chooseBranch, sendTime } from '../domain/nurture-branching';
import { defaultTarget, targetKey } from '../domain/nurture-graph';
import { smsSendTime } from '../domain/sms';
import { emailHash } from '../domain/tokens';
import type { EventDetail } from '../events/catalogue';
import type { Mailer } from '../ports/mailer';
import { composeLeadEmail, type SendClaimStore, type SendOnceResult, sendOnce } from './lead-email';
import { leadTimezone, type SmsDeps, sendSmsOnce } from './sms';

/**
 * The nurture sequence's use case, the Step Functions `Send` task (see `NurtureWorkflow`):
 * after each wait, `sendStep` re-checks on the fresh lead whether the sequence must stop,
 * follows the first branch whose behaviour the lead showed since the previous step, defers a
 * send due outside the lead's send window, and otherwise sends the step at most once. It
 * answers where the lead goes next (`goto`, a state the generated machine has). Decisions come
 * from `domain/nurture.ts` and `domain/nurture-branching.ts`; sending from `lead-email.ts` and `sms.ts`.
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
  /** SMS steps; absent when the client has no SMS (an SMS step is then skipped). */
  readonly sms?: Omit<SmsDeps, 'claims' | 'config'>;
  /** The integrations secret's HMAC key, read only when an email is about to be composed. */
  readonly signingKey: () => Promise<string>;
  readonly config: Pick<ClientConfig, 'nurture' | 'email' | 'client' | 'pipeline' | 'sms'>;
  /** Public API base URL (`API_URL`). */
  readonly apiUrl: string;
  readonly now: () => Date;
}

/** The enrolment: the `Lead Nurtured` detail that started the execution. */
export type NurtureEnrolment = EventDetail<'Lead Nurtured'>;

/** What the previous task of the execution answered (`$.result`), if any. */
export interface NurturePrevious {
  /** When the previous step was done: behaviour is read from then on. */
  readonly at?: string;
  /** The branch that led here (`<sequence>/<step>/<branch>`). */
  readonly via?: string;
  /**
   * Set when the previous task deferred this very step to the send window's opening and the
   * machine waited until then: the window is open, so it is not checked again (a clock running
   * behind, or the offline runtime's scaled waits, could otherwise defer forever).
   */
  readonly deferredUntil?: string;
}

/** Why a send task stopped the sequence (exit conditions plus the sequence-level ones). */
export type NurtureStopReason = NurtureExitReason | 'lead-missing' | 'unknown-sequence' | 'refused';

interface Moves {
  /** Where the machine goes next: `<sequence>/<step>` or `end` (see `targetKey`). */
  readonly goto: string;
  /** When this step was done, for the next step's behaviour window. */
  readonly at: string;
}

/** The result of a `send` task (`$.result`); the machine reads `outcome`, `goto` and `sendAt`. */
export type NurtureSendResult =
  | (Moves & {
      readonly outcome: 'sent';
      readonly channel: 'email' | 'sms';
      /** `unconfirmed`: no answer from the provider (counted as sent); `already-sent`: an earlier attempt claimed it. */
      readonly delivery: 'sent' | 'unconfirmed' | 'already-sent';
      readonly messageId?: string;
    })
  | (Moves & { readonly outcome: 'skipped'; readonly reason: string })
  | (Moves & { readonly outcome: 'branch'; readonly branch: string })
  | (Moves & { readonly outcome: 'defer'; readonly sendAt: string; readonly via?: string })
  | (Moves & { readonly outcome: 'stop'; readonly reason: NurtureStopReason });

/** Sends due less than this before the window opens go now (Step Functions waits whole seconds). */
const DEFER_SLACK_MS = 60_000;

/**
 * The `send` task for `ref`. In order: the exit conditions on the fresh lead (stop), the step's
 * branches on behaviour since `previous.at` (go elsewhere, nothing sent), the send window in the
 * lead's time zone (defer until it opens), then the send itself, at most once.
 * @throws EmailNotSentError / SmsNotSentError (retryable) / DependencyUnavailableError on
 *   transient failures; nothing was sent, so retrying the task is safe.
 */
export async function sendStep(
  enrolment: NurtureEnrolment,
  ref: NurtureStepRef,
  deps: NurtureDeps,
  previous: NurturePrevious = {},
): Promise<NurtureSendResult> {
  const { config, store } = deps;
  const { nurture } = config;
  const now = deps.now();
  const at = now.toISOString();
  const since = previous.at ?? enrolment.occurredAt;
  const stop = (reason: NurtureStopReason): NurtureSendResult => ({
    outcome: 'stop',
    reason,
    goto: 'end',
    at,
  });
  const sequenceId = ref.sequenceId ?? enrolment.sequenceId;
  if (!nurture.sequences.some((s) => s.id === enrolment.sequenceId)) return stop('unknown-sequence');
  const found = findStep(nurture.sequences, sequenceId, ref);
  // A step removed since the execution started: nothing to send, and no known way on.
  if (!found) return { outcome: 'skipped', reason: 'step-removed', goto: 'end', at };
  const { sequence, step, index } = found;

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
    sequenceId: enrolment.sequenceId,
    consentMode: config.client.consentMode,
    pipelineStages: config.pipeline.stages,
  });
  // A reply ends nurture, unless this step branches on that very reply.
  const answersReply =
    reason === 'replied' &&
    step.branches.some(
      (b) => 'replied' in b.when && behaviourMatches(b.when, activities, since, nurture.links),
    );
  if (reason && !answersReply) return stop(reason);

  const branch = chooseBranch(nurture, sequence, index, activities, since);
  if (branch)
    return {
      outcome: 'branch',
      branch: `${sequence.id}/${step.id}/${branch.branchId}`,
      goto: targetKey(branch.target),
      at,
    };

  const timezone = leadTimezone(lead, config);
  let due = sendTime(nurture.sendWindow, timezone, now);
  if (step.channel === 'sms') due = smsSendTime(config.sms.quietHours, timezone, due);
  if (!previous.deferredUntil && due.getTime() - now.getTime() > DEFER_SLACK_MS)
    return {
      outcome: 'defer',
      sendAt: due.toISOString(),
      goto: `${sequence.id}/${step.id}`,
      at: since,
      ...(previous.via ? { via: previous.via } : {}),
    };

  const goto = targetKey(defaultTarget(sequence, index));
  const via = previous.via ? { via: previous.via } : {};
  let result: SendOnceResult | { status: 'skipped'; reason: string };
  if (step.channel === 'sms') {
    result =
      deps.sms && step.sms
        ? await sendSmsOnce(
            lead,
            { sequenceId: sequence.id, stepId: step.id, text: step.sms.text, ...via },
            now,
            { ...deps.sms, claims: store, config },
          )
        : { status: 'skipped', reason: 'sms-disabled' };
  } else {
    if (!step.template) return { outcome: 'skipped', reason: 'no-template', goto, at };
    const message = composeLeadEmail(lead, step.template, {
      config,
      apiUrl: deps.apiUrl,
      signingKey: await deps.signingKey(),
      now,
      kind: 'nurture',
      sequenceId: sequence.id,
      stepId: step.id,
    });
    result = await sendOnce(
      { leadId: lead.id, sequenceId: sequence.id, stepId: step.id, email: message, at, ...via },
      { store, mailer: deps.mailer },
    );
  }
  const channel = step.channel;
  switch (result.status) {
    case 'sent':
      return { outcome: 'sent', channel, delivery: 'sent', messageId: result.messageId, goto, at };
    case 'already-claimed':
      return { outcome: 'sent', channel, delivery: 'already-sent', goto, at };
    case 'unconfirmed':
      return { outcome: 'sent', channel, delivery: 'unconfirmed', goto, at };
    case 'skipped':
      return { outcome: 'skipped', reason: result.reason, goto, at };
    case 'refused':
      return stop('refused');
  }
}
