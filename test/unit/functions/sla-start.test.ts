import { SFNClient, StartExecutionCommand, type StartExecutionCommandInput } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createHandler } from '../../../functions/sla-start/handler';
import { SfnSlaLadder } from '../../../shared/adapters/sla-ladder';
import { loadClientConfig } from '../../../shared/config/load';
import { DependencyUnavailableError } from '../../../shared/domain/errors';
import { slaExecutionName } from '../../../shared/domain/sla';

const config = loadClientConfig('example', 'clients');
const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:SlaWorkflow';
// Monday 24 November 2025, 14:50 UTC: Liam (Dublin, 09:00-17:30) is on shift.
const ASSIGNED_AT = '2025-11-24T14:50:00.000Z';
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
const event = (detail: unknown) =>
  ({
    version: '0',
    id: 'event-1',
    'detail-type': 'Lead Assigned',
    source: 'lead-pipeline',
    account: '123456789012',
    time: ASSIGNED_AT,
    region: 'eu-west-1',
    resources: [],
    detail,
  }) as never;

const sfn = mockClient(SFNClient);
let started: StartExecutionCommandInput[];
beforeEach(() => {
  sfn.reset();
  started = [];
  sfn.on(StartExecutionCommand).callsFake(async (input: StartExecutionCommandInput) => {
    if (started.some((s) => s.name === input.name)) {
      throw Object.assign(new Error('Execution already exists'), { name: 'ExecutionAlreadyExists' });
    }
    started.push(input);
    return { executionArn: `${MACHINE}:${input.name}`, startDate: new Date() };
  });
});

const handler = () => createHandler({ starter: new SfnSlaLadder(MACHINE, new SFNClient({})), config });

describe('sla-start', () => {
  it('starts the ladder under the assignment’s name with the first deadline in the rep’s hours', async () => {
    await handler()(event(assignment));
    expect(started).toHaveLength(1);
    expect(started[0]?.stateMachineArn).toBe(MACHINE);
    expect(started[0]?.name).toBe(slaExecutionName('lead-1', ASSIGNED_AT));
    expect(started[0]?.name).toBe('lead-1-1763995800000');
    expect(JSON.parse(started[0]?.input ?? '{}')).toEqual({
      assignment,
      timer: {
        waitUntil: '2025-11-24T14:55:00Z',
        ladderStep: 0,
        owner: 'liam',
        assignedAt: ASSIGNED_AT,
        involved: ['liam'],
        exhausted: false,
      },
    });
  });

  it('starts one ladder when the event is delivered twice', async () => {
    const h = handler();
    await h(event(assignment));
    await expect(h(event(assignment))).resolves.toBeUndefined();
    expect(started).toHaveLength(1);
  });

  it('starts a new ladder for a new assignment of the same lead', async () => {
    const h = handler();
    await h(event(assignment));
    await h(event({ ...assignment, repId: 'ana', via: 'manual', assignedAt: '2025-11-24T15:30:00.000Z' }));
    expect(started.map((s) => s.name)).toEqual(['lead-1-1763995800000', 'lead-1-1763998200000']);
  });

  it('throws on throttling so EventBridge retries (nothing started)', async () => {
    sfn.on(StartExecutionCommand).rejects(
      Object.assign(new Error('slow down'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expect(handler()(event(assignment))).rejects.toBeInstanceOf(DependencyUnavailableError);
  });

  it('rejects an event that is not a Lead Assigned detail', async () => {
    await expect(handler()(event({ leadId: 'lead-1' }))).rejects.toThrow(/repId/);
    expect(started).toEqual([]);
  });
});

describe('slaExecutionName', () => {
  it('is a valid Step Functions name for any lead id', () => {
    const name = slaExecutionName(`${'x'.repeat(70)}:/ é`, ASSIGNED_AT);
    expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });
});
