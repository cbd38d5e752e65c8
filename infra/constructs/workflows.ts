import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Chain,
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
import { waitSeconds } from '../../shared/domain/nurture';
import { nagName } from '../lib/nag';

/**
 * State names of the two workflows. They are part of the contract: the local emulator overrides
 * Task and Wait states by name, and the bench prices a path by walking them.
 *
 * Both machines are generated from the client file, one Wait and one Task per rung, with no
 * planning or pass states: Step Functions Standard bills every state entered, and the deadlines
 * and waits are known before the execution starts (see the README's benchmarks). The nurture
 * machine keeps one Choice between steps, so a sequence that must stop ends at once.
 */
export const SLA_STATES = {
  /** `Wait 0` waits for the first owner's deadline, `Wait k` for ladder step k's. */
  wait: (ladderStep: number) => `Wait ${ladderStep}`,
  /** `Escalate k` applies ladder step k (or ends quietly when the lead was contacted meanwhile). */
  escalate: (ladderStep: number) => `Escalate ${ladderStep}`,
  unworked: 'MarkUnworked',
} as const;

export const NURTURE_STATES = {
  sequence: 'Sequence',
  /** A `sequenceId` no longer in the client file: nothing to send. */
  unknown: 'UnknownSequence',
  wait: (sequenceId: string, step: number) => `Wait ${sequenceId} ${step}`,
  send: (sequenceId: string, step: number) => `Send ${sequenceId} ${step}`,
  /** After every step but the last: `stop` ends the execution, anything else goes on. */
  after: (sequenceId: string, step: number) => `After ${sequenceId} ${step}`,
  stopped: 'Stopped',
} as const;

/**
 * Error names the task functions throw for transient failures (throttling, a lost optimistic
 * concurrency race); the workflows retry them like Lambda service errors.
 */
export const RETRYABLE_ERRORS = { sla: 'SlaRetryableError', nurture: 'NurtureRetryableError' } as const;

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
function invoke(
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

/** A STANDARD, JSONPath state machine with the configured logging and X-Ray tracing. */
function standardMachine(
  scope: Construct,
  definition: IChainable,
  props: WorkflowProps,
  purpose: string,
): StateMachine {
  const logGroup = new LogGroup(scope, 'Logs', {
    retention: props.logRetention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const machine = new StateMachine(scope, 'StateMachine', {
    definitionBody: DefinitionBody.fromChainable(definition),
    stateMachineType: StateMachineType.STANDARD,
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

/** Properties of the {@link SlaWorkflow}. */
export interface SlaWorkflowProps extends WorkflowProps {
  /** Steps of the client's escalation ladder (`sla.ladder.length`): one Wait and one Task each. */
  readonly ladderSteps: number;
}

/**
 * The follow-up SLA ladder for one assignment, generated from the client's ladder:
 *
 *     Wait 0 → Escalate 1 → Wait 1 → … → Escalate n → Wait n → MarkUnworked
 *
 * Started by the `sla-start` function with `{ assignment, timer }` (the `Lead Assigned` detail
 * and the first deadline) under a name derived from the assignment, so a start is idempotent
 * and `leads-api` stops the execution by name the moment the lead is contacted: a lead worked
 * in time costs one state. Each `Escalate` returns the next timer (an escalation that finds
 * the lead contacted, closed or reassigned returns a timer that fires at once, and the
 * remaining states end without effect); `MarkUnworked` re-checks the lead before marking it.
 * See `infra/CONTRACTS.md`.
 */
export class SlaWorkflow extends Construct {
  /** The state machine. */
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: SlaWorkflowProps) {
    super(scope, id);
    const fn = props.handler;
    const retry = RETRYABLE_ERRORS.sla;
    const task = (action: string) => ({
      action,
      assignment: JsonPath.objectAt('$.assignment'),
      executionArn: JsonPath.executionId,
      timer: JsonPath.objectAt('$.timer'),
    });
    const wait = (ladderStep: number) =>
      new Wait(this, SLA_STATES.wait(ladderStep), { time: WaitTime.timestampPath('$.timer.waitUntil') });

    let chain = Chain.start(wait(0));
    for (let step = 1; step <= props.ladderSteps; step++) {
      const escalate = invoke(this, SLA_STATES.escalate(step), fn, task('escalate'), '$.timer', retry);
      chain = chain.next(escalate).next(wait(step));
    }
    const unworked = invoke(this, SLA_STATES.unworked, fn, task('unworked'), '$.unworked', retry);
    this.stateMachine = standardMachine(this, chain.next(unworked), props, 'Lead follow-up SLA ladder');
  }
}

/** Properties of the {@link NurtureWorkflow}. */
export interface NurtureWorkflowProps extends WorkflowProps {
  /** The client's sequences (`nurture.sequences`): one Wait and one Task per step. */
  readonly sequences: readonly NurtureSequence[];
}

/**
 * A nurture sequence for one lead, generated from the client's sequences: one Choice on the
 * enrolment's `sequenceId`, then `Wait <sequence> k → Send <sequence> k` for each step (the wait
 * fixed in the definition) and, between steps, a Choice that ends the execution at once when
 * the send answered `stop`. Started by EventBridge with the `Lead Nurtured` detail as input.
 * Each `Send` re-checks every exit condition on the fresh lead and sends at most once. See
 * `infra/CONTRACTS.md`.
 */
export class NurtureWorkflow extends Construct {
  /** The state machine. */
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: NurtureWorkflowProps) {
    super(scope, id);
    const fn = props.handler;
    const retry = RETRYABLE_ERRORS.nurture;
    const bySequence = new Choice(this, NURTURE_STATES.sequence);
    const stopped = new Succeed(this, NURTURE_STATES.stopped);
    for (const sequence of props.sequences) {
      // Built from the last step back, so each step's Choice can point at the next step's Wait.
      let next: IChainable | undefined;
      for (let index = sequence.steps.length - 1; index >= 0; index--) {
        const step = sequence.steps[index];
        if (!step) continue;
        const ref = { id: step.id, index, waitSeconds: waitSeconds(step.waitHours) };
        const wait = new Wait(this, NURTURE_STATES.wait(sequence.id, index + 1), {
          time: WaitTime.duration(Duration.seconds(ref.waitSeconds)),
        });
        const payload = {
          action: 'send',
          enrolment: JsonPath.executionInput,
          executionArn: JsonPath.executionId,
          step: ref,
        };
        const send = invoke(
          this,
          NURTURE_STATES.send(sequence.id, index + 1),
          fn,
          payload,
          '$.result',
          retry,
        );
        const after = next
          ? new Choice(this, NURTURE_STATES.after(sequence.id, index + 1))
              .when(Condition.stringEquals('$.result.outcome', 'stop'), stopped)
              .otherwise(next)
          : undefined;
        next = after ? wait.next(send).next(after) : wait.next(send);
      }
      if (next) bySequence.when(Condition.stringEquals('$.sequenceId', sequence.id), next);
    }
    bySequence.otherwise(new Succeed(this, NURTURE_STATES.unknown));
    this.stateMachine = standardMachine(this, bySequence, props, 'Lead nurture sequence');
  }
}
