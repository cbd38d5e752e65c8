import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  type IChainable,
  JsonPath,
  LogLevel,
  QueryLanguage,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { NurtureSequence } from '../../shared/config/schema';
import { RETRYABLE_ERRORS } from '../../shared/contracts/task-errors';
import { waitSeconds } from '../../shared/domain/nurture';
import { stepTargets, targetKey } from '../../shared/domain/nurture-graph';
import { nagName } from '../lib/nag';

/**
 * State names of the two workflows. They are part of the contract: the local emulator overrides
 * Task and Wait states by name, and the bench prices a path by walking them.
 *
 * Both machines are generated from the client file, one Wait and one Task per step, with no
 * planning or pass states: Step Functions Standard bills every state entered, and the waits are
 * known before the execution starts (see the README's benchmarks). The nurture machine keeps
 * one Choice between steps, so a sequence that must stop ends at once. The SLA ladder's states
 * are in `sla-ladder.ts` (`SLA_STATES`).
 */
export const NURTURE_STATES = {
  sequence: 'Sequence',
  /** A `sequenceId` no longer in the client file: nothing to send. */
  unknown: 'UnknownSequence',
  wait: (sequenceId: string, step: number) => `Wait ${sequenceId} ${step}`,
  send: (sequenceId: string, step: number) => `Send ${sequenceId} ${step}`,
  /** After every step: `stop` and `end` finish, `defer` waits for the send window, `goto` picks the next step. */
  after: (sequenceId: string, step: number) => `After ${sequenceId} ${step}`,
  /** Waits until the send window opens in the lead's time zone (`$.result.sendAt`), then sends again. */
  defer: (sequenceId: string, step: number) => `Defer ${sequenceId} ${step}`,
  stopped: 'Stopped',
  done: 'Done',
} as const;

export const SMS_REMINDER_STATES = {
  /** Works out when the reminder goes (`$.plan.remindAt`), or that none can go. */
  plan: 'PlanReminder',
  hasReminder: 'HasReminder',
  wait: 'WaitForReminder',
  send: 'SendReminder',
  none: 'NoReminder',
} as const;

/** Error names the task functions throw for transient failures; the workflows retry them like Lambda service errors. */
export { RETRYABLE_ERRORS };

/** Properties shared by both workflows. */
export interface WorkflowProps {
  /** The function every Task state invokes (`sla` or `nurture`). */
  readonly handler: IFunction;
  /** Retention of the execution log group. */
  readonly logRetention: RetentionDays;
  /**
   * Execution logging: `ERROR` logs failed executions only. CloudWatch Logs bills every byte,
   * and `ALL` with execution data wrote ~1.5 KB per state entered.
   * @default { level: LogLevel.ERROR, includeExecutionData: false }
   */
  readonly logging?: { readonly level: LogLevel; readonly includeExecutionData: boolean };
}

/**
 * A Lambda task that passes `payload` as the event and stores the function's own return value
 * (`payloadResponseOnly`: no `{ Payload, StatusCode }` envelope) at `resultPath`. The direct
 * function-ARN resource is also what the local Step Functions emulator understands.
 */
export function invoke(
  scope: Construct,
  id: string,
  handler: IFunction,
  payload: Record<string, unknown>,
  resultPath: string,
  retryableError: string,
): LambdaInvoke {
  const task = new LambdaInvoke(scope, id, {
    lambdaFunction: handler,
    payload: TaskInput.fromObject(payload),
    payloadResponseOnly: true,
    // Retries Lambda.ServiceException, AWSLambdaException, SdkClientException and
    // ClientExecutionTimeoutException (2 s, backoff 2, 6 attempts); function errors fail the run.
    retryOnServiceExceptions: true,
    resultPath,
  });
  // The function's own transient failures: a few quick retries, then the execution fails (alarm).
  task.addRetry({
    errors: [retryableError],
    interval: Duration.seconds(1),
    backoffRate: 2,
    maxAttempts: 3,
  });
  return task;
}

/**
 * A JSONPath state machine (STANDARD unless `type` says otherwise) with the configured logging
 * and X-Ray tracing.
 */
export function workflowMachine(
  scope: Construct,
  definition: IChainable,
  props: WorkflowProps,
  purpose: string,
  type: StateMachineType = StateMachineType.STANDARD,
): StateMachine {
  const logGroup = new LogGroup(scope, 'Logs', {
    retention: props.logRetention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const machine = new StateMachine(scope, 'StateMachine', {
    definitionBody: DefinitionBody.fromChainable(definition),
    stateMachineType: type,
    // JSONPath, not JSONata: the local emulator (aws-local-stepfunctions) runs JSONPath only.
    queryLanguage: QueryLanguage.JSON_PATH,
    tracingEnabled: true,
    logs: {
      destination: logGroup,
      level: props.logging?.level ?? LogLevel.ERROR,
      includeExecutionData: props.logging?.includeExecutionData ?? false,
    },
    comment: purpose,
  });
  const v = Validations.of(scope);
  if ((props.logging?.level ?? LogLevel.ERROR) !== LogLevel.ALL) {
    v.acknowledge({
      id: 'AwsSolutions-SF1',
      reason:
        'Execution logs are ERROR-level by default (client file observability.stateMachineLogLevel): ALL wrote ~1.5 KB per state entered, the largest share of CloudWatch Logs per lead; failures are still logged and alarmed, and the execution history keeps every state for 90 days.',
    });
  }
  v.acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'CloudWatch Logs delivery and X-Ray trace APIs used by Step Functions logging and tracing do not support resource-level permissions.',
  });
  v.acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagName(scope, props.handler.functionArn)}:*]`,
    reason:
      'Step Functions grants InvokeFunction on the function and its versions (":*"), scoped to the one workflow function.',
  });
  return machine;
}

/** Properties of the {@link NurtureWorkflow}. */
export interface NurtureWorkflowProps extends WorkflowProps {
  /** The client's sequences (`nurture.sequences`): one Wait and one Task per step. */
  readonly sequences: readonly NurtureSequence[];
}

/**
 * A nurture sequence for one lead, generated from the client's sequences as a graph: one Choice
 * on the enrolment's `sequenceId`, then for each step `Wait <sequence> k` (the step's wait,
 * fixed in the definition) → `Send <sequence> k` → `After <sequence> k`, a Choice on the task's
 * answer: `stop` ends at once, `defer` goes through `Defer <sequence> k` (a timestamp wait until
 * the send window opens in the lead's time zone) back to the send, and `goto` picks the next
 * step's Wait among the places this step can lead (its `next` and its branches' targets, in
 * this or another sequence; `domain/nurture-branching.ts`, `stepTargets`). Started by
 * EventBridge with the `Lead Nurtured` detail as input. Each `Send` re-checks every exit
 * condition on the fresh lead and sends at most once. See `infra/CONTRACTS.md`.
 */
export class NurtureWorkflow extends Construct {
  /** The state machine. */
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: NurtureWorkflowProps) {
    super(scope, id);
    const fn = props.handler;
    const retry = RETRYABLE_ERRORS.nurture;
    const { sequences } = props;
    const bySequence = new Choice(this, NURTURE_STATES.sequence);
    const stopped = new Succeed(this, NURTURE_STATES.stopped);
    const done = new Succeed(this, NURTURE_STATES.done);
    // Every step's Wait first, so a step's Choice can point at any step it may lead to.
    const waits = new Map<string, Wait>();
    for (const sequence of sequences) {
      sequence.steps.forEach((step, index) => {
        waits.set(
          targetKey({ kind: 'step', sequenceId: sequence.id, stepId: step.id }),
          new Wait(this, NURTURE_STATES.wait(sequence.id, index + 1), {
            time: WaitTime.duration(Duration.seconds(waitSeconds(step.waitHours))),
          }),
        );
      });
    }
    for (const sequence of sequences) {
      sequence.steps.forEach((step, index) => {
        const wait = waits.get(targetKey({ kind: 'step', sequenceId: sequence.id, stepId: step.id }));
        if (!wait) return;
        const ref = { id: step.id, index, waitSeconds: waitSeconds(step.waitHours), sequenceId: sequence.id };
        const payload = {
          action: 'send',
          enrolment: JsonPath.executionInput,
          executionArn: JsonPath.executionId,
          step: ref,
          state: JsonPath.entirePayload,
        };
        const n = index + 1;
        const send = invoke(this, NURTURE_STATES.send(sequence.id, n), fn, payload, '$.result', retry);
        const defer = new Wait(this, NURTURE_STATES.defer(sequence.id, n), {
          time: WaitTime.timestampPath('$.result.sendAt'),
        });
        const after = new Choice(this, NURTURE_STATES.after(sequence.id, n))
          .when(Condition.stringEquals('$.result.outcome', 'stop'), stopped)
          .when(Condition.stringEquals('$.result.outcome', 'defer'), defer.next(send));
        for (const target of stepTargets(sequences, sequence, index)) {
          const next = target.kind === 'step' ? waits.get(targetKey(target)) : undefined;
          if (next) after.when(Condition.stringEquals('$.result.goto', targetKey(target)), next);
        }
        after.otherwise(done);
        wait.next(send).next(after);
      });
      const first = sequence.steps[0];
      const entry =
        first && waits.get(targetKey({ kind: 'step', sequenceId: sequence.id, stepId: first.id }));
      if (entry) bySequence.when(Condition.stringEquals('$.sequenceId', sequence.id), entry);
    }
    bySequence.otherwise(new Succeed(this, NURTURE_STATES.unknown));
    this.stateMachine = workflowMachine(this, bySequence, props, 'Lead nurture sequence');
  }
}

/** Properties of the {@link SmsReminderWorkflow}. */
export type SmsReminderWorkflowProps = WorkflowProps;

/**
 * The SMS reminder of one booked meeting: `PlanReminder` (when it goes: hours before the
 * meeting, outside the lead's quiet hours, or none) → `HasReminder` → `WaitForReminder` (until
 * `$.plan.remindAt`) → `SendReminder` (re-checks consent and the number's opt-out, sends at most
 * once). Started by EventBridge with the `Meeting Booked` detail as input: four states per
 * meeting, and nothing runs while it waits.
 */
export class SmsReminderWorkflow extends Construct {
  /** The state machine. */
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: SmsReminderWorkflowProps) {
    super(scope, id);
    const fn = props.handler;
    const retry = RETRYABLE_ERRORS.sms;
    const task = (action: string) => ({
      action,
      meeting: JsonPath.executionInput,
      executionArn: JsonPath.executionId,
    });
    const plan = invoke(this, SMS_REMINDER_STATES.plan, fn, task('plan-reminder'), '$.plan', retry);
    const wait = new Wait(this, SMS_REMINDER_STATES.wait, {
      time: WaitTime.timestampPath('$.plan.remindAt'),
    });
    const send = invoke(this, SMS_REMINDER_STATES.send, fn, task('send-reminder'), '$.result', retry);
    const definition = plan.next(
      new Choice(this, SMS_REMINDER_STATES.hasReminder)
        .when(Condition.isPresent('$.plan.remindAt'), wait.next(send))
        .otherwise(new Succeed(this, SMS_REMINDER_STATES.none)),
    );
    this.stateMachine = workflowMachine(this, definition, props, 'SMS reminder of a booked meeting');
  }
}
