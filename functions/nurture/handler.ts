import { z } from 'zod';
import { leadMailAdapters } from '../../shared/adapters/lead-mail';
import { DynamoSmsOptOuts } from '../../shared/adapters/sms-opt-outs';
import { EndUserMessagingSms } from '../../shared/adapters/sms-sender';
import type { ClientConfig } from '../../shared/config/schema';
import { env } from '../../shared/contracts/function-env';
import { RETRYABLE_ERRORS } from '../../shared/contracts/task-errors';
import { NurtureStepRefSchema } from '../../shared/domain/nurture';
import { DETAIL_SCHEMAS } from '../../shared/events/catalogue';
import type { SmsSender } from '../../shared/ports/sms';
import { type ConsumerLogLine, consumer, retryableTaskError } from '../../shared/runtime/consumer';
import { lazyHandler } from '../../shared/runtime/handler';
import { type LeadMailAdapters, leadMailServiceDeps } from '../../shared/services/lead-email';
import {
  type NurtureEnrolment,
  type NurtureSendResult,
  type NurtureStore,
  sendStep,
} from '../../shared/services/nurture';
import type { SmsOptOutStore } from '../../shared/services/sms';

/**
 * The task function of the nurture state machine (`infra/constructs/workflows.ts`,
 * `NurtureWorkflow`, generated from the client's sequences). Each `Send` state invokes it with
 * `{ action: 'send', enrolment, executionArn, step, state }`, where `enrolment` is the execution
 * input (the `Lead Nurtured` detail), `step` the step the state sends (`{ id, index,
 * waitSeconds, sequenceId }`, fixed in the definition) and `state` the state's input (the
 * previous task's answer in `result`: when it was done and the branch that led here). It
 * returns `{ outcome, goto, at, reason?, branch?, sendAt?, delivery?, messageId? }` (`$.result`);
 * the machine reads `outcome` (`stop` ends, `defer` waits until `sendAt` and sends again) and
 * `goto` (the next step's wait, or the end).
 *
 * `send` re-checks every exit condition on the fresh lead (unsubscribed, suppressed, replied,
 * meeting booked, SQL or owned, converted, lost, no email, test lead, consent) and answers
 * `stop` with the reason, recording nothing. A step is never sent twice (see
 * `shared/services/lead-email.ts`). Failures a retry can fix are thrown as
 * {@link NurtureRetryableError}, a stable error name for the task's `Retry`; nothing was sent
 * when it is thrown, so a retry is safe. Anything else fails the execution with its own name.
 */

/** `errorType` Step Functions sees for failures worth retrying. */
export const NURTURE_RETRYABLE_ERROR = RETRYABLE_ERRORS.nurture;

/** A transient failure, named so a Step Functions `Retry` can match it. */
export const NurtureRetryableError = retryableTaskError(NURTURE_RETRYABLE_ERROR);

/** What the task reads of the state (`$`): the previous task's answer, when there was one. */
const StateSchema = z
  .object({
    result: z
      .object({
        at: z.iso.datetime().optional(),
        /** Set by a branch: the branch taken, which led to the step this task sends. */
        branch: z.string().max(200).optional(),
        /** Carried through a deferral. */
        via: z.string().max(200).optional(),
        outcome: z.string().max(20).optional(),
        goto: z.string().max(200).optional(),
        sendAt: z.iso.datetime().optional(),
      })
      .optional()
      .catch(undefined),
  })
  .optional()
  .catch(undefined);
const TaskSchema = z.object({
  action: z.literal('send'),
  /** The execution input: the `Lead Nurtured` detail. */
  enrolment: DETAIL_SCHEMAS['Lead Nurtured'],
  executionArn: z.string().min(1).max(2048),
  step: NurtureStepRefSchema,
  state: StateSchema,
});
type NurtureTask = z.output<typeof TaskSchema>;

/** The `goto` value naming the step a task sends. */
function stepKey(step: { id: string; sequenceId?: string }, enrolment: NurtureEnrolment): string {
  return `${step.sequenceId ?? enrolment.sequenceId}/${step.id}`;
}

/** What the previous task's answer tells this send: when it was done, the branch, a deferral that ended. */
function sendContext(task: NurtureTask) {
  const previous = task.state?.result ?? {};
  return {
    ...(previous.at ? { at: previous.at } : {}),
    ...(previous.branch || previous.via ? { via: previous.branch ?? previous.via } : {}),
    // The machine waited for this step's own deferral: the send window is open now.
    ...(previous.outcome === 'defer' &&
    previous.sendAt &&
    previous.goto === stepKey(task.step, task.enrolment)
      ? { deferredUntil: previous.sendAt }
      : {}),
  };
}

export interface Deps extends LeadMailAdapters<NurtureStore, ClientConfig> {
  /** SMS steps: the sender and the opt-out list (absent: SMS steps are skipped). */
  readonly sms?: { readonly sender: SmsSender; readonly optOuts: SmsOptOutStore };
}

export function createHandler(deps: Deps) {
  const serviceDeps = { ...leadMailServiceDeps(deps), ...(deps.sms ? { sms: deps.sms } : {}) };
  return consumer({
    schema: TaskSchema,
    keys: ({ enrolment, executionArn }) => ({
      leadId: enrolment.leadId,
      sequenceId: enrolment.sequenceId,
      execution: executionArn,
    }),
    decide: (task): Promise<NurtureSendResult> =>
      sendStep(task.enrolment, task.step, serviceDeps, sendContext(task)),
    describe: (result, task): ConsumerLogLine => {
      const keys = { stepId: task.step.id, ...result };
      if (result.outcome === 'stop')
        return { message: 'Nurture sequence stopped', keys, count: { NurtureStopped: 1 } };
      if (result.outcome === 'sent' && result.delivery !== 'already-sent') {
        const count = { [result.channel === 'sms' ? 'NurtureSmsSent' : 'NurtureEmailsSent']: 1 };
        return result.delivery === 'unconfirmed'
          ? { message: 'Nurture email sent without confirmation', level: 'warn', keys, count }
          : { message: 'Nurture email sent', keys, count };
      }
      return { message: 'Nurture step done', keys };
    },
    retryAs: (error) => new NurtureRetryableError(error),
  });
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => {
  const adapters = leadMailAdapters();
  const { sms } = adapters.config;
  return createHandler({
    ...adapters,
    ...(sms.enabled && sms.originationIdentity
      ? {
          sms: {
            sender: new EndUserMessagingSms(sms.originationIdentity, sms.configurationSet),
            optOuts: new DynamoSmsOptOuts(env.tableName),
          },
        }
      : {}),
  });
});
