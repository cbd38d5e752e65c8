import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  type IChainable,
  JsonPath,
  LogLevel,
  Pass,
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
import { nagName } from '../lib/nag';

/**
 * State names of the two workflows. They are part of the contract: the local emulator overrides
 * Task and Wait states by name (`taskResourceLocalHandlers`, `waitTimeOverrides`).
 */
export const SLA_STATES = {
  plan: 'PlanFirstTouch',
  wait: 'WaitForDeadline',
  check: 'CheckContact',
  route: 'RouteOutcome',
  escalate: 'Escalate',
  unworked: 'MarkUnworked',
  contacted: 'Contacted',
  closed: 'Closed',
  unworkedDone: 'Unworked',
  unknown: 'UnknownOutcome',
} as const;

export const NURTURE_STATES = {
  plan: 'PlanSequence',
  hasNext: 'HasNextStep',
  wait: 'WaitForStep',
  send: 'SendStep',
  route: 'SendOutcome',
  advance: 'Advance',
  complete: 'SequenceComplete',
  stopped: 'Stopped',
  unknown: 'UnknownOutcome',
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

/** A STANDARD, JSONPath state machine with ALL-level logging and X-Ray tracing. */
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
    logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: true },
    comment: purpose,
  });
  const v = Validations.of(scope);
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

/**
 * The follow-up SLA ladder for one assignment. Started by EventBridge with the `Lead Assigned`
 * detail as input; loops Wait → Check → (escalate → Wait | done). See `infra/CONTRACTS.md`.
 */
export class SlaWorkflow extends Construct {
  /** The state machine. */
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);
    const fn = props.handler;
    const retry = RETRYABLE_ERRORS.sla;
    const common = { assignment: JsonPath.executionInput, executionArn: JsonPath.executionId };
    const withTimer = { ...common, timer: JsonPath.objectAt('$.timer') };

    const plan = invoke(this, SLA_STATES.plan, fn, { action: 'plan', ...common }, '$.timer', retry);
    const wait = new Wait(this, SLA_STATES.wait, { time: WaitTime.timestampPath('$.timer.waitUntil') });
    const check = invoke(this, SLA_STATES.check, fn, { action: 'check', ...withTimer }, '$.check', retry);
    const escalate = invoke(
      this,
      SLA_STATES.escalate,
      fn,
      { action: 'escalate', ...withTimer },
      '$.timer',
      retry,
    );
    const unworked = invoke(
      this,
      SLA_STATES.unworked,
      fn,
      { action: 'unworked', ...withTimer },
      '$.unworked',
      retry,
    );

    const outcome = new Choice(this, SLA_STATES.route)
      .when(Condition.stringEquals('$.check.outcome', 'contacted'), new Succeed(this, SLA_STATES.contacted))
      .when(Condition.stringEquals('$.check.outcome', 'closed'), new Succeed(this, SLA_STATES.closed))
      .when(Condition.stringEquals('$.check.outcome', 'escalate'), escalate.next(wait))
      .when(
        Condition.stringEquals('$.check.outcome', 'unworked'),
        unworked.next(new Succeed(this, SLA_STATES.unworkedDone)),
      )
      .otherwise(
        new Fail(this, SLA_STATES.unknown, {
          error: 'UnknownSlaOutcome',
          cause: 'The sla check returned an outcome other than contacted, closed, escalate or unworked',
        }),
      );

    const definition = plan.next(wait).next(check).next(outcome);
    this.stateMachine = standardMachine(this, definition, props, 'Lead follow-up SLA ladder');
  }
}

/**
 * A nurture sequence for one lead. Started by EventBridge with the `Lead Nurtured` detail as
 * input; the `nurture` function plans and advances a cursor, the machine only waits and loops.
 * See `infra/CONTRACTS.md`.
 */
export class NurtureWorkflow extends Construct {
  /** The state machine. */
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);
    const fn = props.handler;
    const retry = RETRYABLE_ERRORS.nurture;
    const common = { enrolment: JsonPath.executionInput, executionArn: JsonPath.executionId };

    const plan = invoke(this, NURTURE_STATES.plan, fn, { action: 'plan', ...common }, '$.cursor', retry);
    const hasNext = new Choice(this, NURTURE_STATES.hasNext);
    const wait = new Wait(this, NURTURE_STATES.wait, {
      time: WaitTime.secondsPath('$.cursor.step.waitSeconds'),
    });
    const send = invoke(
      this,
      NURTURE_STATES.send,
      fn,
      { action: 'send', ...common, step: JsonPath.objectAt('$.cursor.step') },
      '$.result',
      retry,
    );
    // The send result carries the next cursor; move it to `$.cursor` and go round again.
    const advance = new Pass(this, NURTURE_STATES.advance, {
      inputPath: '$.result.next',
      resultPath: '$.cursor',
    });
    const outcome = new Choice(this, NURTURE_STATES.route)
      .when(Condition.stringEquals('$.result.outcome', 'stop'), new Succeed(this, NURTURE_STATES.stopped))
      .when(
        Condition.or(
          Condition.stringEquals('$.result.outcome', 'sent'),
          Condition.stringEquals('$.result.outcome', 'skipped'),
        ),
        advance.next(hasNext),
      )
      .otherwise(
        new Fail(this, NURTURE_STATES.unknown, {
          error: 'UnknownNurtureOutcome',
          cause: 'The nurture send returned an outcome other than sent, skipped or stop',
        }),
      );

    hasNext
      .when(Condition.booleanEquals('$.cursor.done', true), new Succeed(this, NURTURE_STATES.complete))
      .otherwise(wait.next(send).next(outcome));

    const definition = plan.next(hasNext);
    this.stateMachine = standardMachine(this, definition, props, 'Lead nurture sequence');
  }
}
