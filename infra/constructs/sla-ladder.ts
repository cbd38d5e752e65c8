import { Stack, Validations } from 'aws-cdk-lib';
import { type IRole, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnScheduleGroup, type IScheduleGroup, ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import {
  Choice,
  Condition,
  JsonPath,
  type StateMachine,
  StateMachineType,
  Succeed,
} from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ENV } from '../../shared/contracts/function-env';
import { acknowledgeGrantWildcards, nagName } from '../lib/nag';
import type { LeadFunction } from './lead-function';
import { invoke, RETRYABLE_ERRORS, type WorkflowProps, workflowMachine } from './workflows';

/**
 * State names of the SLA ladder's rung workflow. They are part of the contract: the local
 * emulator overrides Task states by name, and the bench finds the machine by them.
 */
export const SLA_STATES = {
  /** Which rung this is: 0 starts the ladder, past the last ladder step is the unworked check. */
  rung: 'Rung',
  /** Rung 0 (the rule on `Lead Assigned`): schedules rung 1 at the first deadline (`sla-start`). */
  start: 'Start',
  /** Applies the next ladder step (or finds the lead worked and applies nothing). */
  escalate: 'Escalate',
  /** Nobody is left to escalate to: the lead is marked unworked at once. */
  exhausted: 'Exhausted',
  /** Schedules the next rung (the `sla-start` function), or ends the ladder. */
  scheduleNext: 'ScheduleNext',
  unworked: 'MarkUnworked',
  done: 'Done',
} as const;

/** Environment variables of the functions that schedule or cancel rungs (see `shared/adapters/sla-ladder.ts`). */
export const SLA_LADDER_ENV = {
  scheduleGroup: ENV.slaScheduleGroup,
  schedulerRoleArn: ENV.slaSchedulerRoleArn,
  deadLetterQueueArn: ENV.slaScheduleDeadLetterQueueArn,
} as const;

/** Properties of the {@link SlaLadder}. */
export interface SlaLadderProps extends WorkflowProps {
  /** Steps of the client's escalation ladder (`sla.ladder.length`): one rung each, plus the unworked check. */
  readonly ladderSteps: number;
  /** The function that schedules rungs (`sla-start`); the rung workflow calls it as `ScheduleNext`. */
  readonly scheduler: IFunction;
  /** Where Scheduler puts a rung it could not start after a day of retries. */
  readonly deadLetterQueue: IQueue;
}

/**
 * The follow-up SLA ladder as one-time EventBridge Scheduler schedules, one per rung, each
 * starting a short EXPRESS workflow when its deadline comes:
 *
 *     Rung ─┬─ rung = 0     → Start (schedules rung 1)
 *           ├─ rung ≤ n     → Escalate → Exhausted ─┬─ no  → ScheduleNext (next rung, or the end)
 *           │                                       └─ yes → MarkUnworked
 *           └─ rung = n + 1 → MarkUnworked
 *
 * The rule on a new `Lead Assigned` starts rung 0, whose `Start` task (`sla-start`) schedules
 * rung 1 named after the assignment, so a redelivery schedules nothing new; `leads-api`,
 * `meetings` and `slack-actions` cancel the ladder by deleting its rungs by name. The
 * scheduling tasks get the workflow's own ARN from the context object (the schedules' target),
 * so the function does not depend on the machine that invokes it. Nothing runs, and nothing is billed, while a ladder waits: a lead
 * worked in time costs one schedule and no workflow. The `sla` task contract is the Standard
 * ladder's (`{ action, assignment, executionArn, timer }`), with the ladder's name as
 * `executionArn`, the same in every rung. See the README's SLA design table and
 * `infra/CONTRACTS.md`.
 */
export class SlaLadder extends Construct {
  /** The rung workflow (EXPRESS). */
  readonly stateMachine: StateMachine;
  /** The group every rung schedule is created in. */
  readonly scheduleGroup: IScheduleGroup;
  /** The role Scheduler assumes to start the rung workflow (and to dead-letter a rung). */
  readonly schedulerRole: IRole;
  private readonly deadLetterQueue: IQueue;

  constructor(scope: Construct, id: string, props: SlaLadderProps) {
    super(scope, id);
    const fn = props.handler;
    const retry = RETRYABLE_ERRORS.sla;
    const task = (action: string) => ({
      action,
      assignment: JsonPath.objectAt('$.assignment'),
      executionArn: JsonPath.stringAt('$.ladder'),
      timer: JsonPath.objectAt('$.timer'),
    });
    const unworked = invoke(this, SLA_STATES.unworked, fn, task('unworked'), '$.unworked', retry);
    const escalate = invoke(this, SLA_STATES.escalate, fn, task('escalate'), '$.timer', retry);
    const self = JsonPath.stringAt('$$.StateMachine.Id');
    const start = invoke(
      this,
      SLA_STATES.start,
      props.scheduler,
      { action: 'start', stateMachineArn: self, assignment: JsonPath.objectAt('$.assignment') },
      '$.started',
      retry,
    );
    const scheduleNext = invoke(
      this,
      SLA_STATES.scheduleNext,
      props.scheduler,
      {
        action: 'schedule-next',
        stateMachineArn: self,
        ladder: JsonPath.stringAt('$.ladder'),
        rung: JsonPath.numberAt('$.rung'),
        assignment: JsonPath.objectAt('$.assignment'),
        timer: JsonPath.objectAt('$.timer'),
      },
      '$.next',
      retry,
    );
    const done = new Succeed(this, SLA_STATES.done);
    const definition = new Choice(this, SLA_STATES.rung)
      .when(Condition.numberEquals('$.rung', 0), start.next(done))
      .when(Condition.numberGreaterThan('$.rung', props.ladderSteps), unworked)
      .otherwise(
        escalate.next(
          new Choice(this, SLA_STATES.exhausted)
            .when(Condition.booleanEquals('$.timer.exhausted', true), unworked)
            .otherwise(scheduleNext.next(done)),
        ),
      );
    this.stateMachine = workflowMachine(
      this,
      definition,
      props,
      'Lead follow-up SLA: one rung of the ladder',
      StateMachineType.EXPRESS,
    );
    Validations.of(this).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagName(this, props.scheduler.functionArn)}:*]`,
      reason:
        'Step Functions grants InvokeFunction on the function and its versions (":*"), scoped to the one scheduling function.',
    });

    // The L1 resource: CloudFormation names the group (the L2 would fix a name at synth).
    const group = new CfnScheduleGroup(this, 'Rungs');
    this.scheduleGroup = ScheduleGroup.fromScheduleGroupName(this, 'RungsGroup', group.ref);
    this.deadLetterQueue = props.deadLetterQueue;
    const role = new Role(this, 'SchedulerRole', {
      description: 'EventBridge Scheduler starts the SLA rung workflow',
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    this.stateMachine.grantStartExecution(role);
    props.deadLetterQueue.grantSendMessages(role);
    this.schedulerRole = role;
  }

  /** Lets a function schedule rungs (`sla-start`): create schedules in the group and pass the scheduler role. */
  grantSchedule(fn: LeadFunction): void {
    fn.fn.addEnvironment(SLA_LADDER_ENV.scheduleGroup, this.scheduleGroup.scheduleGroupName);
    fn.fn.addEnvironment(SLA_LADDER_ENV.schedulerRoleArn, this.schedulerRole.roleArn);
    fn.fn.addEnvironment(SLA_LADDER_ENV.deadLetterQueueArn, this.deadLetterQueue.queueArn);
    acknowledgeGrantWildcards(
      fn,
      this.scheduleGroup.grantWriteSchedules(fn.fn),
      'Rung schedules are named per assignment at run time, so the grant covers the schedules of the one SLA group.',
    );
    this.schedulerRole.grantPassRole(fn.fn.grantPrincipal);
  }

  /** Lets a function cancel ladders: delete schedules in the group. */
  grantCancel(fn: LeadFunction): void {
    fn.fn.addEnvironment(SLA_LADDER_ENV.scheduleGroup, this.scheduleGroup.scheduleGroupName);
    acknowledgeGrantWildcards(
      fn,
      this.scheduleGroup.grantDeleteSchedules(fn.fn),
      'A ladder is cancelled by deleting its rungs by name, named per assignment at run time, so the grant covers the schedules of the one SLA group.',
    );
  }
}
