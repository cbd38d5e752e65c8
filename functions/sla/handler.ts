import { z } from 'zod';
import { EventPublisher } from '../../shared/adapters/event-publisher';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { clientConfig } from '../../shared/config/runtime';
import { env } from '../../shared/contracts/function-env';
import { RETRYABLE_ERRORS } from '../../shared/contracts/task-errors';
import { type SlaTimer, SlaTimerSchema } from '../../shared/domain/sla';
import { DETAIL_SCHEMAS } from '../../shared/events/catalogue';
import { type ConsumerLogLine, consumer, retryableTaskError } from '../../shared/runtime/consumer';
import { lazyHandler } from '../../shared/runtime/handler';
import { escalate, markUnworked, type SlaDeps, type UnworkedResult } from '../../shared/services/sla';

/**
 * The task function of the SLA rung workflow (`infra/constructs/sla-ladder.ts`, `SlaLadder`).
 * Every Task state invokes it with `{ action, assignment, executionArn, timer }`, where
 * `assignment` is the `Lead Assigned` detail the ladder started for (`$.assignment`) and `timer`
 * the last timer (`$.timer`: the first deadline from `sla-start`, then each escalation's):
 *
 * | action     | returns (stored at)                                  | next state                    |
 * |------------|------------------------------------------------------|-------------------------------|
 * | `escalate` | {@link SlaTimer} (`$.timer`)                         | Wait until `timer.waitUntil`  |
 * | `unworked` | `{ outcome, managerId?, lastOwner? }` (`$.unworked`) | end                           |
 *
 * `escalate` first assesses the fresh lead: contacted, closed or reassigned meanwhile (when
 * `leads-api` could not stop the execution), it changes nothing and returns a timer that fires
 * at once, so the rest of the ladder runs through without effect; `unworked` re-checks too.
 *
 * Failures a retry can fix (throttling, a lost optimistic-concurrency race after the in-process
 * retries) are thrown as {@link SlaRetryableError}, a stable error name the state machine's Retry
 * can match; anything else (bad input, a bug) fails the execution with its own name.
 */

/** `errorType` Step Functions sees for failures worth retrying. */
export const SLA_RETRYABLE_ERROR = RETRYABLE_ERRORS.sla;

/** A transient failure, named so a Step Functions `Retry` can match it. */
export const SlaRetryableError = retryableTaskError(SLA_RETRYABLE_ERROR);
export type SlaRetryableError = InstanceType<typeof SlaRetryableError>;

const base = {
  assignment: DETAIL_SCHEMAS['Lead Assigned'],
  executionArn: z.string().min(1).max(2048),
};
const TaskSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('escalate'), ...base, timer: SlaTimerSchema }),
  z.object({ action: z.literal('unworked'), ...base, timer: SlaTimerSchema }),
]);

/** What each action returns. */
export type SlaTaskResult = SlaTimer | UnworkedResult;

/** Builds the handler: runs the task's action on the fresh lead. */
export function createHandler(deps: SlaDeps) {
  return consumer({
    schema: TaskSchema,
    keys: (task) => ({ leadId: task.assignment.leadId, action: task.action, execution: task.executionArn }),
    decide: (task): Promise<SlaTaskResult> =>
      task.action === 'escalate' ? escalate(deps, task) : markUnworked(deps, task),
    describe: (result, task): ConsumerLogLine => {
      if ('outcome' in result)
        return {
          message: 'SLA ladder ended',
          keys: { ...result },
          count: { LeadsUnworked: result.outcome === 'unworked' ? 1 : 0 },
        };
      return {
        message: 'SLA escalation step done',
        keys: {
          ladderStep: result.ladderStep,
          owner: result.owner,
          exhausted: result.exhausted,
          waitUntil: result.waitUntil,
        },
        count: { SlaEscalations: result.ladderStep > task.timer.ladderStep ? 1 : 0 },
      };
    },
    retryAs: (error) => new SlaRetryableError(error),
  });
}

/** The real adapters. */
export function slaDeps(tableName: string, busName: string): SlaDeps {
  return {
    store: new LeadRepository(tableName),
    publisher: new EventPublisher(busName),
    config: clientConfig(),
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => createHandler(slaDeps(env.tableName, env.eventBusName)));
