import { createHash } from 'node:crypto';
import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { SlaLadderScheduler, SlaRung } from '../ports/sla-ladder';
import type { SlaClock } from '../services/leads';
import { errorName, rethrowAsDomain } from './aws-errors';

/**
 * The SLA ladder on EventBridge Scheduler: one one-time schedule per rung (`at(...)`, deleted
 * by Scheduler after it ran), whose target starts the ladder's Express workflow with the rung
 * as input. Names are derived from the ladder and the rung, so a rung is scheduled once however
 * often it is asked for, and cancelling a ladder is deleting its rungs by name.
 */

/**
 * Starts named executions with Step Functions `StartExecution` (nurture sequences started by
 * behaviour). A name that already exists (a redelivered event, running or finished) is the
 * execution already started: Step Functions keeps execution names unique per state machine,
 * which makes the start idempotent.
 * @throws DependencyUnavailableError (retryable) on throttling and outages.
 */
export class SfnExecutionStarter<TInput> {
  private readonly client: SFNClient;

  constructor(
    private readonly stateMachineArn: string,
    client?: SFNClient,
  ) {
    this.client = client ?? new SFNClient({ maxAttempts: 3 });
  }

  async start(name: string, input: TInput): Promise<'started' | 'already-started'> {
    try {
      await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name,
          input: JSON.stringify(input),
        }),
      );
      return 'started';
    } catch (error) {
      if (errorName(error) === 'ExecutionAlreadyExists') return 'already-started';
      rethrowAsDomain('Step Functions', error);
    }
  }
}

/** Scheduler names: letters, digits, `-`, `_` and `.`, up to 64 characters. */
const MAX_NAME = 64;

/**
 * The schedule name of a ladder's rung: `<ladder>-r<rung>`, or, for a ladder name too long to
 * carry one (a lead id over 40 characters), a digest of it with the same suffix.
 */
export function slaRungName(ladder: string, rung: number): string {
  const suffix = `-r${rung}`;
  const base =
    ladder.length + suffix.length <= MAX_NAME
      ? ladder
      : `sla-${createHash('sha256').update(ladder).digest('hex').slice(0, 40)}`;
  return `${base}${suffix}`;
}

/** Every rung name a ladder of `ladderSteps` escalation steps can have (the last is the unworked check). */
export function slaRungNames(ladder: string, ladderSteps: number): string[] {
  return Array.from({ length: ladderSteps + 1 }, (_, i) => slaRungName(ladder, i + 1));
}

/**
 * The `at()` expression of a deadline, in UTC, in whole seconds. A deadline already past is
 * moved to a minute from now: Scheduler fires one-time schedules within the minute and does
 * not promise to fire one whose time has gone.
 */
export function atExpression(waitUntil: string, now: Date): string {
  const at = Math.max(Date.parse(waitUntil), now.getTime() + 60_000);
  return `at(${new Date(Math.ceil(at / 1000) * 1000).toISOString().slice(0, 19)})`;
}

/** Where the rung schedules live and what they start. */
export interface SlaScheduleTarget {
  /** The schedule group (`SLA_SCHEDULE_GROUP`). */
  readonly groupName: string;
  /** The ladder's Express state machine (`SLA_RUNG_MACHINE_ARN`). */
  readonly stateMachineArn: string;
  /** The role Scheduler assumes to start it (`SLA_SCHEDULER_ROLE_ARN`). */
  readonly roleArn: string;
  /** Where Scheduler puts a rung it could not start after its retries (`SLA_SCHEDULE_DLQ_ARN`). */
  readonly deadLetterQueueArn?: string;
}

/**
 * Schedules rungs with `CreateSchedule`. A name that exists is the rung already scheduled (a
 * redelivered event, a retried task): `ConflictException` is that answer, not an error. A rung
 * that already ran was deleted by Scheduler; asking for it again would schedule it again, which
 * the `sla` task absorbs (it recognises its own write on the lead).
 * @throws DependencyUnavailableError (retryable) on throttling and outages.
 */
export class SchedulerSlaLadder implements SlaLadderScheduler {
  private readonly client: SchedulerClient;

  constructor(
    private readonly target: SlaScheduleTarget,
    client?: SchedulerClient,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.client = client ?? new SchedulerClient({ maxAttempts: 3 });
  }

  async schedule(rung: SlaRung): Promise<'scheduled' | 'already-scheduled'> {
    try {
      await this.client.send(
        new CreateScheduleCommand({
          Name: slaRungName(rung.ladder, rung.rung),
          GroupName: this.target.groupName,
          ScheduleExpression: atExpression(rung.timer.waitUntil, this.now()),
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          Description: `SLA rung ${rung.rung} of lead ${rung.assignment.leadId}`.slice(0, 512),
          Target: {
            Arn: this.target.stateMachineArn,
            RoleArn: this.target.roleArn,
            Input: JSON.stringify(rung),
            // Keep trying for a day (throttling, an outage), then the dead-letter queue.
            RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
            ...(this.target.deadLetterQueueArn
              ? { DeadLetterConfig: { Arn: this.target.deadLetterQueueArn } }
              : {}),
          },
        }),
      );
      return 'scheduled';
    } catch (error) {
      if (errorName(error) === 'ConflictException') return 'already-scheduled';
      rethrowAsDomain('EventBridge Scheduler', error);
    }
  }
}

/**
 * Cancels a ladder (`SlaClock`) by deleting every rung it can have, by name: at most one is
 * pending, the others ran or were never made (`ResourceNotFoundException`, fine). The `sla` task
 * records the ladder's name as the "execution" on the lead, so a ladder an escalation reassigned
 * is found too.
 */
export class SchedulerSlaClock implements SlaClock {
  private readonly client: SchedulerClient;

  constructor(
    private readonly groupName: string,
    /** `sla.ladder.length` of the client file. */
    private readonly ladderSteps: number,
    client?: SchedulerClient,
  ) {
    this.client = client ?? new SchedulerClient({ maxAttempts: 3 });
  }

  async stop(ladder: string, _cause: string): Promise<void> {
    if (!/^[A-Za-z0-9_.-]{1,80}$/.test(ladder)) throw new Error(`${ladder} is not an SLA ladder name`);
    await Promise.all(
      slaRungNames(ladder, this.ladderSteps).map(async (Name) => {
        try {
          await this.client.send(new DeleteScheduleCommand({ Name, GroupName: this.groupName }));
        } catch (error) {
          if (errorName(error) === 'ResourceNotFoundException') return;
          rethrowAsDomain('EventBridge Scheduler', error);
        }
      }),
    );
  }
}
