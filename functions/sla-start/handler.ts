import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { z } from 'zod';
import { requireEnv } from '../../shared/adapters/clients';
import { SchedulerSlaLadder } from '../../shared/adapters/sla-ladder';
import { clientConfig } from '../../shared/config/runtime';
import type { ClientConfig } from '../../shared/config/schema';
import { InvalidInputError, LeadPipelineError } from '../../shared/domain/errors';
import { SlaTimerSchema } from '../../shared/domain/sla';
import { parseDetail } from '../../shared/events/catalogue';
import type { SlaLadderScheduler } from '../../shared/ports/sla-ladder';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger } from '../../shared/runtime/observability';
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
const TaskSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('start'), stateMachineArn: machineArn, assignment: z.unknown() }),
  z.object({
    action: z.literal('schedule-next'),
    stateMachineArn: machineArn,
    ladder: z.string().min(1).max(80),
    rung: z.number().int().min(1).max(11),
    assignment: z.unknown(),
    timer: SlaTimerSchema,
  }),
]);

/** A transient failure, named so the workflow's `Retry` can match it (the `sla` task's name). */
class SlaRetryableError extends Error {
  override readonly name = 'SlaRetryableError';
}

function invalid(error: z.ZodError, prefix = ''): InvalidInputError {
  return new InvalidInputError(
    error.issues.map((i) => ({
      field: [prefix, ...i.path.map(String)].filter(Boolean).join('.'),
      reason: i.message,
    })),
  );
}

/** Parses a task payload. @throws InvalidInputError naming every bad field. */
function parseTask(event: unknown) {
  const task = TaskSchema.safeParse(event);
  if (!task.success) throw invalid(task.error);
  try {
    return { ...task.data, assignment: parseDetail('Lead Assigned', task.data.assignment) };
  } catch (error) {
    if (error instanceof z.ZodError) throw invalid(error, 'assignment');
    throw error;
  }
}

export function createHandler(deps: Deps) {
  return async (event: unknown): Promise<LadderStart | NextRung> => {
    const task = parseTask(event);
    const scheduler = deps.scheduler(task.stateMachineArn);
    const leadId = task.assignment.leadId;
    try {
      if (task.action === 'start') {
        const start = await startLadder({ scheduler, config: deps.config }, task.assignment);
        logger.info('SLA clock started', {
          leadId,
          owner: task.assignment.repId,
          ladder: start.name,
          waitUntil: start.timer.waitUntil,
          ...(start.started ? {} : { alreadyStarted: true }),
        });
        return start;
      }
      const next = await scheduleNextRung({ scheduler, config: deps.config }, task);
      logger.info('SLA rung done', { leadId, ladder: task.ladder, ran: task.rung, ...next });
      return next;
    } catch (error) {
      if (error instanceof LeadPipelineError && error.retryable) throw new SlaRetryableError(error.message);
      throw error;
    }
  };
}

/** The adapters are built on the first invocation (they need the function's environment). */
export const handler = lazyHandler(() => {
  const client = new SchedulerClient({ maxAttempts: 3 });
  const target = {
    groupName: requireEnv('SLA_SCHEDULE_GROUP'),
    roleArn: requireEnv('SLA_SCHEDULER_ROLE_ARN'),
    deadLetterQueueArn: requireEnv('SLA_SCHEDULE_DLQ_ARN'),
  };
  return createHandler({
    scheduler: (stateMachineArn) => new SchedulerSlaLadder({ ...target, stateMachineArn }, client),
    config: clientConfig(),
  });
});
