import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalAwsEndpoints } from '../../../local/aws-endpoints';
import { LocalEventBus } from '../../../local/event-bus';
import { LocalScheduler } from '../../../local/scheduler';
import { LocalStepFunctions } from '../../../local/step-functions';

/** The scheduler behind the runtime's AWS endpoint, reached by the real SDK client. */
const MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:SlaRungs';
let endpoints: LocalAwsEndpoints;
let scheduler: LocalScheduler;
let client: SchedulerClient;
let started: Array<{ arn: string; input: unknown }>;

const at = (msFromNow: number) =>
  `at(${new Date(Math.ceil((Date.now() + msFromNow) / 1000) * 1000).toISOString().slice(0, 19)})`;
const create = (Name: string, ScheduleExpression: string, extra: Record<string, unknown> = {}) =>
  client.send(
    new CreateScheduleCommand({
      Name,
      GroupName: 'SlaRungs',
      ScheduleExpression,
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: { Arn: MACHINE, RoleArn: 'arn:aws:iam::000000000000:role/r', Input: '{"rung":1}' },
      ...extra,
    }),
  );
const until = async (check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

beforeEach(async () => {
  started = [];
  const bus = new LocalEventBus(async () => {}, { timeScale: 1, knownBuses: new Set(['default']) });
  const stepFunctions = new LocalStepFunctions(async () => ({ ok: true, result: null }) as never, 1);
  endpoints = new LocalAwsEndpoints(bus, stepFunctions, new Map(), new Set());
  // ×600: a schedule 60 s ahead fires after 100 ms.
  scheduler = new LocalScheduler((arn, input) => started.push({ arn, input }), 600);
  endpoints.scheduler = scheduler;
  const url = await endpoints.listen(0);
  client = new SchedulerClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});
afterEach(async () => {
  scheduler.stopAll();
  await endpoints.close();
});

describe('local EventBridge Scheduler (real SDK client)', () => {
  it('starts the target with its input at the scaled time, then deletes the schedule', async () => {
    const created = await create('lead-1-r1', at(60_000));
    expect(created.ScheduleArn).toBe('arn:aws:scheduler:us-east-1:000000000000:schedule/SlaRungs/lead-1-r1');
    const got = await client.send(new GetScheduleCommand({ Name: 'lead-1-r1', GroupName: 'SlaRungs' }));
    expect(got).toMatchObject({ Name: 'lead-1-r1', GroupName: 'SlaRungs', Target: { Arn: MACHINE } });
    expect(started).toEqual([]);
    await until(() => started.length > 0);
    expect(started).toEqual([{ arn: MACHINE, input: { rung: 1 } }]);
    await expect(
      client.send(new GetScheduleCommand({ Name: 'lead-1-r1', GroupName: 'SlaRungs' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(endpoints.calls).toMatchObject({ 'Scheduler.CreateSchedule': 1, 'Scheduler.GetSchedule': 2 });
  });

  it('refuses a name already taken in the group with ConflictException', async () => {
    await create('lead-1-r1', at(3_600_000));
    await expect(create('lead-1-r1', at(3_600_000))).rejects.toBeInstanceOf(ConflictException);
    await expect(create('lead-1-r1', at(3_600_000), { GroupName: 'other' })).resolves.toBeDefined();
    expect(scheduler.pending).toHaveLength(2);
  });

  it('deletes a pending schedule so it never fires; deleting it again is ResourceNotFoundException', async () => {
    await create('lead-2-r1', at(60_000));
    await client.send(new DeleteScheduleCommand({ Name: 'lead-2-r1', GroupName: 'SlaRungs' }));
    await expect(
      client.send(new DeleteScheduleCommand({ Name: 'lead-2-r1', GroupName: 'SlaRungs' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await new Promise((r) => setTimeout(r, 300));
    expect(started).toEqual([]);
    expect(scheduler.pending).toEqual([]);
  });

  it('fires a schedule whose time has passed at once, and refuses what it cannot run', async () => {
    await create('late-r1', 'at(2020-01-01T00:00:00)');
    await until(() => started.length > 0);
    await expect(create('rate-r1', 'rate(5 minutes)')).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(
      create('zone-r1', at(60_000), { ScheduleExpressionTimezone: 'Europe/London' }),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });
});
