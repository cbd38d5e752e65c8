import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { requireEnv } from '../../shared/adapters/clients';
import { leadMailAdapters } from '../../shared/adapters/lead-mail';
import { DynamoSmsOptOuts } from '../../shared/adapters/sms-opt-outs';
import { EndUserMessagingSms } from '../../shared/adapters/sms-sender';
import type { ClientConfig } from '../../shared/config/schema';
import { InvalidInputError, LeadPipelineError } from '../../shared/domain/errors';
import { NurtureStepRefSchema } from '../../shared/domain/nurture';
import { parseDetail } from '../../shared/events/catalogue';
import type { IntegrationsSecretReader } from '../../shared/ports/integrations-secret';
import type { Mailer } from '../../shared/ports/mailer';
import type { SmsSender } from '../../shared/ports/sms';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger, metrics } from '../../shared/runtime/observability';
import { readSigningKey } from '../../shared/services/lead-email';
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
export const NURTURE_RETRYABLE_ERROR = 'NurtureRetryableError';

/** A transient failure, named so a Step Functions `Retry` can match it. */
export class NurtureRetryableError extends Error {
  override readonly name = NURTURE_RETRYABLE_ERROR;
  constructor(override readonly cause: LeadPipelineError) {
    super(`${cause.code}: ${cause.message}`);
  }
}

const base = { enrolment: z.unknown(), executionArn: z.string().min(1).max(2048) };
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
  ...base,
  step: NurtureStepRefSchema,
  state: StateSchema,
});

function problems(error: z.ZodError, prefix: string) {
  return error.issues.map((i) => ({
    field: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || 'event',
    reason: i.message,
  }));
}

/** The `goto` value naming the step a task sends. */
function stepKey(step: { id: string; sequenceId?: string }, enrolment: NurtureEnrolment): string {
  return `${step.sequenceId ?? enrolment.sequenceId}/${step.id}`;
}

/** Parses a task payload. @throws InvalidInputError naming every bad field. */
export function parseNurtureTask(event: unknown) {
  const task = TaskSchema.safeParse(event);
  if (!task.success) throw new InvalidInputError(problems(task.error, ''));
  let enrolment: NurtureEnrolment;
  try {
    enrolment = parseDetail('Lead Nurtured', task.data.enrolment);
  } catch (error) {
    if (error instanceof z.ZodError) throw new InvalidInputError(problems(error, 'enrolment'));
    throw error;
  }
  return { ...task.data, enrolment };
}

export interface Deps {
  readonly repository: NurtureStore;
  readonly mailer: Mailer;
  /** SMS steps: the sender and the opt-out list (absent: SMS steps are skipped). */
  readonly sms?: { readonly sender: SmsSender; readonly optOuts: SmsOptOutStore };
  readonly secrets: IntegrationsSecretReader;
  readonly config: ClientConfig;
  /** Public API base URL (`API_URL`), for unsubscribe links. */
  readonly apiUrl: string;
  readonly now: () => Date;
}

export function createHandler(deps: Deps) {
  const serviceDeps = {
    store: deps.repository,
    mailer: deps.mailer,
    ...(deps.sms ? { sms: deps.sms } : {}),
    signingKey: () => readSigningKey(deps.secrets),
    config: deps.config,
    apiUrl: deps.apiUrl,
    now: deps.now,
  };
  return async (event: unknown, _context?: Context): Promise<NurtureSendResult> => {
    const task = parseNurtureTask(event);
    const { enrolment } = task;
    const log = { leadId: enrolment.leadId, sequenceId: enrolment.sequenceId, execution: task.executionArn };
    try {
      const previous = task.state?.result ?? {};
      const result = await sendStep(enrolment, task.step, serviceDeps, {
        ...(previous.at ? { at: previous.at } : {}),
        ...(previous.branch || previous.via ? { via: previous.branch ?? previous.via } : {}),
        // The machine waited for this step's own deferral: the send window is open now.
        ...(previous.outcome === 'defer' && previous.sendAt && previous.goto === stepKey(task.step, enrolment)
          ? { deferredUntil: previous.sendAt }
          : {}),
      });
      const details = { ...log, stepId: task.step.id, ...result };
      if (result.outcome === 'stop') {
        metrics.addMetric('NurtureStopped', MetricUnit.Count, 1);
        logger.info('Nurture sequence stopped', details);
      } else if (result.outcome === 'sent' && result.delivery !== 'already-sent') {
        metrics.addMetric(
          result.channel === 'sms' ? 'NurtureSmsSent' : 'NurtureEmailsSent',
          MetricUnit.Count,
          1,
        );
        if (result.delivery === 'unconfirmed')
          logger.warn('Nurture email sent without confirmation', details);
        else logger.info('Nurture email sent', details);
      } else {
        logger.info('Nurture step done', details);
      }
      return result;
    } catch (error) {
      if (error instanceof LeadPipelineError && error.retryable) {
        logger.warn('Transient nurture failure; nothing was sent, the state machine retries', {
          ...log,
          error,
        });
        throw new NurtureRetryableError(error);
      }
      throw error;
    }
  };
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
            optOuts: new DynamoSmsOptOuts(requireEnv('TABLE_NAME')),
          },
        }
      : {}),
  });
});
