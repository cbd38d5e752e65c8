import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createHandler } from '../../../functions/sla-start/handler';
import {
  atExpression,
  SchedulerSlaClock,
  SchedulerSlaLadder,
  slaRungName,
} from '../../../shared/adapters/sla-ladder';
import { loadClientConfig } from '../../../shared/config/load';
import { DependencyUnavailableError, InvalidInputError } from '../../../shared/domain/errors';
import { slaExecutionName } from '../../../shared/domain/sla';

const config = loadClientConfig('example', 'clients');
const TARGET = {
  groupName: 'SlaRungs',
  stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:SlaRungs',
  roleArn: 'arn:aws:iam::123456789012:role/SlaScheduler',
  deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:123456789012:sla-schedules-dlq',
};
// Monday 24 November 2025, 14:50 UTC: Liam (Dublin, 09:00-17:30) is on shift.
const ASSIGNED_AT = '2025-11-24T14:50:00.000Z';
const LADDER = 'lead-1-1763995800000';
const assignment = {
  leadId: 'lead-1',
  occurredAt: ASSIGNED_AT,
  isTest: false,
  repId: 'liam',
  teamId: 'emea',
  ruleId: 'sales-ready',
  via: 'round-robin',
  priority: 'high',
  assignedAt: ASSIGNED_AT,
  ladderStep: 0,
};
const firstTimer = {
  waitUntil: '2025-11-24T14:55:00Z',
  ladderStep: 0,
  owner: 'liam',
  assignedAt: ASSIGNED_AT,
  involved: ['liam'],
  exhausted: false,
};
/** Rung 0: the rule on `Lead Assigned` started the workflow, which asks to start the ladder. */
const event = (detail: unknown) => ({
  action: 'start',
  stateMachineArn: TARGET.stateMachineArn,
  assignment: detail,
});

const scheduler = mockClient(SchedulerClient);
let created: CreateScheduleCommandInput[];
beforeEach(() => {
  scheduler.reset();
  created = [];
  scheduler.on(CreateScheduleCommand).callsFake(async (input: CreateScheduleCommandInput) => {
    if (created.some((s) => s.Name === input.Name))
      throw new ConflictException({
        message: 'Schedule already exists',
        Message: 'Schedule already exists',
        $metadata: {},
      });
    created.push(input);
    return { ScheduleArn: `arn:aws:scheduler:eu-west-1:123456789012:schedule/SlaRungs/${input.Name}` };
  });
});

const handler = (now = ASSIGNED_AT) =>
  createHandler({
    scheduler: (stateMachineArn) =>
      new SchedulerSlaLadder({ ...TARGET, stateMachineArn }, new SchedulerClient({}), () => new Date(now)),
    config,
  });

describe('sla-start: rung 1 of a new assignment', () => {
  it('schedules rung 1 under the assignment’s name at the first deadline in the rep’s hours', async () => {
    await handler()(event(assignment));
    expect(created).toHaveLength(1);
    const schedule = created[0];
    expect(schedule?.Name).toBe(`${slaExecutionName('lead-1', ASSIGNED_AT)}-r1`);
    expect(schedule?.Name).toBe('lead-1-1763995800000-r1');
    expect(schedule).toMatchObject({
      GroupName: 'SlaRungs',
      ScheduleExpression: 'at(2025-11-24T14:55:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: TARGET.stateMachineArn,
        RoleArn: TARGET.roleArn,
        DeadLetterConfig: { Arn: TARGET.deadLetterQueueArn },
      },
    });
    expect(JSON.parse(schedule?.Target?.Input ?? '{}')).toEqual({
      ladder: LADDER,
      rung: 1,
      assignment,
      timer: firstTimer,
    });
  });

  it('schedules one rung when the event is delivered twice', async () => {
    const h = handler();
    await h(event(assignment));
    await expect(h(event(assignment))).resolves.toMatchObject({ name: LADDER, started: false });
    expect(created).toHaveLength(1);
  });

  it('starts a new ladder for a new assignment of the same lead', async () => {
    const h = handler();
    await h(event(assignment));
    await h(event({ ...assignment, repId: 'ana', via: 'manual', assignedAt: '2025-11-24T15:30:00.000Z' }));
    expect(created.map((s) => s.Name)).toEqual(['lead-1-1763995800000-r1', 'lead-1-1763998200000-r1']);
  });

  it('throws a retryable error on throttling so the workflow retries (nothing scheduled)', async () => {
    scheduler.on(CreateScheduleCommand).rejects(
      Object.assign(new Error('slow down'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expect(handler()(event(assignment))).rejects.toMatchObject({ name: 'SlaRetryableError' });
  });

  it('rejects an event that is not a Lead Assigned detail', async () => {
    const error = await handler()(event({ leadId: 'lead-1' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(JSON.stringify(error)).toMatch(/assignment\.repId/);
    expect(created).toEqual([]);
  });
});

describe('sla-start: the next rung after an escalation (ScheduleNext)', () => {
  const afterStep = (ladderStep: number, waitUntil = '2025-11-24T15:00:00Z') => ({
    action: 'schedule-next',
    stateMachineArn: TARGET.stateMachineArn,
    ladder: LADDER,
    rung: 1,
    assignment,
    timer: { ...firstTimer, ladderStep, waitUntil, owner: 'ana', involved: ['liam', 'ana'] },
  });

  it('schedules the rung after the applied step at the new deadline', async () => {
    const next = await handler()(afterStep(1));
    expect(next).toEqual({ scheduled: true, rung: 2, waitUntil: '2025-11-24T15:00:00Z', repeated: false });
    expect(created.map((s) => [s.Name, s.ScheduleExpression])).toEqual([
      ['lead-1-1763995800000-r2', 'at(2025-11-24T15:00:00)'],
    ]);
    expect(JSON.parse(created[0]?.Target?.Input ?? '{}')).toMatchObject({ ladder: LADDER, rung: 2 });
  });

  it('schedules the unworked check after the last step, and skips steps the escalation skipped', async () => {
    const steps = config.sla.ladder.length;
    await handler()(afterStep(steps));
    expect(created.map((s) => s.Name)).toEqual([`lead-1-1763995800000-r${steps + 1}`]);
  });

  it('ends the ladder when the escalation applied no step (the lead was worked meanwhile)', async () => {
    const next = await handler()(afterStep(0));
    expect(next).toMatchObject({ scheduled: false });
    expect(created).toEqual([]);
  });

  it('is idempotent: a retried task finds the rung scheduled', async () => {
    const h = handler();
    await h(afterStep(1));
    await expect(h(afterStep(1))).resolves.toMatchObject({ scheduled: true, repeated: true });
    expect(created).toHaveLength(1);
  });

  it('throws a retryable error the workflow can match on throttling', async () => {
    scheduler.on(CreateScheduleCommand).rejects(
      Object.assign(new Error('slow down'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expect(handler()(afterStep(1))).rejects.toMatchObject({ name: 'SlaRetryableError' });
  });

  it('names the bad field of a malformed task', async () => {
    const error = await handler()({ ...afterStep(1), rung: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(JSON.stringify(error)).toMatch(/rung/);
  });
});

describe('rung names and times', () => {
  it('are valid Scheduler names of at most 64 characters for any lead id', () => {
    const ladder = slaExecutionName(`${'x'.repeat(70)}:/ é`, ASSIGNED_AT);
    const name = slaRungName(ladder, 3);
    expect(name).toMatch(/^[A-Za-z0-9_.-]{1,64}$/);
    expect(name.endsWith('-r3')).toBe(true);
    expect(slaRungName(ladder, 2)).not.toBe(name);
  });

  it('moves a deadline already past to a minute from now', () => {
    expect(atExpression('2025-11-24T14:00:00Z', new Date('2025-11-24T14:50:00.500Z'))).toBe(
      'at(2025-11-24T14:51:01)',
    );
  });
});

describe('SchedulerSlaClock', () => {
  it('cancels the ladder by deleting every rung it can have, ignoring rungs that ran', async () => {
    const deleted: string[] = [];
    scheduler.on(DeleteScheduleCommand).callsFake(async (input: { Name: string; GroupName: string }) => {
      expect(input.GroupName).toBe('SlaRungs');
      deleted.push(input.Name);
      if (input.Name !== `${LADDER}-r2`)
        throw new ResourceNotFoundException({
          message: 'no such schedule',
          Message: 'no such schedule',
          $metadata: {},
        });
      return {};
    });
    const clock = new SchedulerSlaClock('SlaRungs', 2, new SchedulerClient({}));
    await expect(clock.stop(LADDER, 'contacted')).resolves.toBeUndefined();
    expect(deleted.sort()).toEqual([`${LADDER}-r1`, `${LADDER}-r2`, `${LADDER}-r3`]);
  });

  it('throws on an outage so the caller can report it', async () => {
    scheduler.on(DeleteScheduleCommand).rejects(
      Object.assign(new Error('down'), {
        name: 'InternalServerException',
        $metadata: { httpStatusCode: 500 },
      }),
    );
    const clock = new SchedulerSlaClock('SlaRungs', 2, new SchedulerClient({}));
    await expect(clock.stop(LADDER, 'contacted')).rejects.toBeInstanceOf(DependencyUnavailableError);
  });

  it('refuses anything that is not a ladder name', async () => {
    const clock = new SchedulerSlaClock('SlaRungs', 2, new SchedulerClient({}));
    await expect(clock.stop('arn:aws:states:x:1:execution:a:b', 'x')).rejects.toThrow(/not an SLA ladder/);
  });
});
