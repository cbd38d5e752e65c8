import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { z } from 'zod';
import { requireEnv } from '../../shared/adapters/clients';
import { EventPublisher } from '../../shared/adapters/event-publisher';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { clientConfig } from '../../shared/config/runtime';
import { InvalidInputError, LeadPipelineError } from '../../shared/domain/errors';
import { type SlaTimer, SlaTimerSchema } from '../../shared/domain/sla';
import { parseDetail } from '../../shared/events/catalogue';
import { lambdaHandler } from '../../shared/runtime/handler';
import { logger, metrics } from '../../shared/runtime/observability';
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
export const SLA_RETRYABLE_ERROR = 'SlaRetryableError';

/** A transient failure, named so a Step Functions `Retry` can match it. */
export class SlaRetryableError extends Error {
  override readonly name = SLA_RETRYABLE_ERROR;
  constructor(override readonly cause: LeadPipelineError) {
    super(`${cause.code}: ${cause.message}`);
  }
}

const base = {
  assignment: z.unknown(),
  executionArn: z.string().min(1).max(2048),
};
const TaskSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('escalate'), ...base, timer: SlaTimerSchema }),
  z.object({ action: z.literal('unworked'), ...base, timer: SlaTimerSchema }),
]);

/** What each action returns. */
export type SlaTaskResult = SlaTimer | UnworkedResult;

function invalid(error: z.ZodError, prefix: string): InvalidInputError {
  return new InvalidInputError(
    error.issues.map((i) => ({
      field: [prefix, ...i.path.map(String)].filter(Boolean).join('.'),
      reason: i.message,
    })),
  );
}

/** Parses a task payload. @throws InvalidInputError naming every bad field. */
export function parseSlaTask(event: unknown) {
  const task = TaskSchema.safeParse(event);
  if (!task.success) throw invalid(task.error, '');
  try {
    return { ...task.data, assignment: parseDetail('Lead Assigned', task.data.assignment) };
  } catch (error) {
    if (error instanceof z.ZodError) throw invalid(error, 'assignment');
    throw error;
  }
}

/** Builds the handler. `deps` may be a factory so adapters are created on first use. */
export function createHandler(deps: SlaDeps | (() => SlaDeps)) {
  let resolved: SlaDeps | undefined;
  return async (event: unknown): Promise<SlaTaskResult> => {
    resolved ??= typeof deps === 'function' ? deps() : deps;
    const d = resolved;
    const task = parseSlaTask(event);
    logger.appendKeys({ leadId: task.assignment.leadId, action: task.action, execution: task.executionArn });
    try {
      switch (task.action) {
        case 'escalate': {
          const timer = await escalate(d, task);
          if (timer.ladderStep > task.timer.ladderStep)
            metrics.addMetric('SlaEscalations', MetricUnit.Count, 1);
          logger.info('SLA escalation step done', {
            ladderStep: timer.ladderStep,
            owner: timer.owner,
            exhausted: timer.exhausted,
            waitUntil: timer.waitUntil,
          });
          return timer;
        }
        case 'unworked': {
          const result = await markUnworked(d, task);
          if (result.outcome === 'unworked') metrics.addMetric('LeadsUnworked', MetricUnit.Count, 1);
          logger.info('SLA ladder ended', { ...result });
          return result;
        }
      }
    } catch (error) {
      if (error instanceof LeadPipelineError && error.retryable) {
        logger.warn('Transient SLA task failure; the state machine retries', { error });
        throw new SlaRetryableError(error);
      }
      throw error;
    }
  };
}

/** The real adapters. */
export function slaDeps(tableName: string, busName: string): SlaDeps {
  return {
    store: new LeadRepository(tableName),
    publisher: new EventPublisher(busName),
    config: clientConfig(),
  };
}

export const handler = lambdaHandler(
  createHandler(() => slaDeps(requireEnv('TABLE_NAME'), requireEnv('EVENT_BUS_NAME'))),
);
