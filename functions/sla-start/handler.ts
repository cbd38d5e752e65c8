import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { z } from 'zod';
import { SchedulerSlaLadder } from '../../shared/adapters/sla-ladder';
import { clientConfig } from '../../shared/config/runtime';
import type { ClientConfig } from '../../shared/config/schema';
import { env } from '../../shared/contracts/function-env';
import { RETRYABLE_ERRORS } from '../../shared/contracts/task-errors';
import { SlaTimerSchema } from '../../shared/domain/sla';
import { DETAIL_SCHEMAS } from '../../shared/events/catalogue';
import type { SlaLadderScheduler } from '../../shared/ports/sla-ladder';
import { type ConsumerLogLine, consumer, retryableTaskError } from '../../shared/runtime/consumer';
import { lazyHandler } from '../../shared/runtime/handler';
import {
  type LadderStart,
  type NextRung,
  scheduleNextRung,
  startLadder,
} from '../../shared/services/sla-ladder';

/**
 * Schedules the rungs of SLA ladders (EventBridge Scheduler one-time schedules, see
 * `shared/adapters/sla-ladder.ts`). A task of the ladder's Express workflow (`SlaLadder` in
 * `infra/constructs/sla-ladder.ts`), which passes its own ARN (the schedules' target):
 *
 * | action          | when                                              | does                                   |
 * |-----------------|---------------------------------------------------|----------------------------------------|
 * | `start`         | rung 0: the rule on a new `Lead Assigned` started the workflow | schedules rung 1 at the first deadline  |
 * | `schedule-next` | after an escalation rung                          | schedules the next rung, or ends (see `scheduleNextRung`) |
 *
 * Rung 1 is named after the assignment, so a redelivered event schedules nothing new and
 * `leads-api` cancels the ladder by name the moment the lead is contacted. Transient failures
 * (throttling, an outage) are thrown as `SlaRetryableError`, which the workflow retries.
 */

export interface Deps {
  /** The scheduler whose rungs start `stateMachineArn` (the workflow that called). */
  readonly scheduler: (stateMachineArn: string) => SlaLadderScheduler;
  readonly config: Pick<ClientConfig, 'sla' | 'reps'>;
}

const machineArn = z.string().startsWith('arn:').max(2048);
const assignment = DETAIL_SCHEMAS['Lead Assigned'];
const TaskSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('start'), stateMachineArn: machineArn, assignment }),
  z.object({
    action: z.literal('schedule-next'),
    stateMachineArn: machineArn,
    ladder: z.string().min(1).max(80),
    rung: z.number().int().min(1).max(11),
    assignment,
    timer: SlaTimerSchema,
  }),
]);

/** A transient failure, named so the workflow's `Retry` can match it (the `sla` task's name). */
const SlaRetryableError = retryableTaskError(RETRYABLE_ERRORS.sla);

export function createHandler(deps: Deps) {
  return consumer({
    schema: TaskSchema,
    keys: (task) => ({ leadId: task.assignment.leadId }),
    decide: (task): Promise<LadderStart | NextRung> => {
      const ladder = { scheduler: deps.scheduler(task.stateMachineArn), config: deps.config };
      return task.action === 'start' ? startLadder(ladder, task.assignment) : scheduleNextRung(ladder, task);
    },
    describe: (result, task): ConsumerLogLine => {
      if (task.action === 'schedule-next')
        return { message: 'SLA rung done', keys: { ladder: task.ladder, ran: task.rung, ...result } };
      const start = result as LadderStart;
      return {
        message: 'SLA clock started',
        keys: {
          owner: task.assignment.repId,
          ladder: start.name,
          waitUntil: start.timer.waitUntil,
          ...(start.started ? {} : { alreadyStarted: true }),
        },
      };
    },
    retryAs: (error) => new SlaRetryableError(error),
  });
}

/** The adapters are built on the first invocation (they need the function's environment). */
export const handler = lazyHandler(() => {
  const client = new SchedulerClient({ maxAttempts: 3 });
  const target = {
    groupName: env.slaScheduleGroup,
    roleArn: env.slaSchedulerRoleArn,
    deadLetterQueueArn: env.slaScheduleDeadLetterQueueArn,
  };
  return createHandler({
    scheduler: (stateMachineArn) => new SchedulerSlaLadder({ ...target, stateMachineArn }, client),
    config: clientConfig(),
  });
});
