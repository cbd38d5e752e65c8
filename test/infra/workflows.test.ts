import { StateMachine } from 'aws-local-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import { NURTURE_STATES, SLA_STATES } from '../../infra/constructs/workflows';
import { type AslDefinition, resourcesOfType, stateMachineDefinition, synthClient } from './helpers';

/**
 * Runs the synthesized SLA and nurture definitions in the local Step Functions emulator (the one
 * the offline stack uses) with stand-in handlers, to pin the contract in infra/CONTRACTS.md:
 * which payloads the machines send to `sla` / `nurture` and which result fields they read.
 */
const EXECUTION_ARN = 'arn:aws:states:eu-west-1:123456789012:execution:Sla:test-1';

const assignment = {
  leadId: 'lead-1',
  occurredAt: '2025-03-03T09:00:00.000Z',
  isTest: false,
  repId: 'liam',
  teamId: 'emea',
  ruleId: 'marketing-qualified',
  via: 'round-robin',
  priority: 'normal',
  assignedAt: '2025-03-03T09:00:00.000Z',
  ladderStep: 0,
};
const enrolment = {
  leadId: 'lead-2',
  occurredAt: '2025-03-03T09:00:00.000Z',
  isTest: false,
  sequenceId: 'education',
  ruleId: 'everyone-else',
};

type Payload = Record<string, unknown> & { action: string };

/** Runs a definition with every Task state answered by `respond` and every Wait skipped. */
async function run(
  definition: AslDefinition,
  input: unknown,
  respond: (state: string, payload: Payload) => unknown,
) {
  const calls: { state: string; payload: Payload }[] = [];
  const tasks = Object.entries(definition.States).filter(([, s]) => s.Type === 'Task');
  const waits = Object.entries(definition.States).filter(([, s]) => s.Type === 'Wait');
  const machine = new StateMachine(definition as never);
  const execution = machine.run(input as never, {
    context: { Execution: { Id: EXECUTION_ARN, Name: 'test-1' } },
    overrides: {
      taskResourceLocalHandlers: Object.fromEntries(
        tasks.map(([name]) => [
          name,
          async (input: unknown) => {
            const payload = input as Payload;
            calls.push({ state: name, payload });
            return respond(name, payload) as never;
          },
        ]),
      ),
      waitTimeOverrides: Object.fromEntries(waits.map(([name]) => [name, 0])),
    },
  });
  try {
    return { result: (await execution.result) as Record<string, unknown>, calls, error: undefined };
  } catch (error) {
    return { result: undefined, calls, error: error as Error };
  }
}

describe('workflows in the local Step Functions emulator', () => {
  let sla: AslDefinition;
  let nurture: AslDefinition;

  beforeAll(() => {
    const s = synthClient('example', { bundle: false });
    const machines = resourcesOfType(s.pipelineJson, 'AWS::StepFunctions::StateMachine');
    const id = (prefix: string) => {
      const found = machines.find(([logicalId]) => logicalId.startsWith(prefix));
      if (!found) throw new Error(`no state machine ${prefix}`);
      return found[0];
    };
    sla = stateMachineDefinition(s.pipelineJson, id('SlaWorkflow'));
    nurture = stateMachineDefinition(s.pipelineJson, id('NurtureWorkflow'));
  });

  describe('SLA ladder', () => {
    it('plans, waits, escalates and stops when the lead is contacted', async () => {
      const outcomes = ['escalate', 'contacted'];
      const { result, calls, error } = await run(sla, assignment, (_state, payload) => {
        if (payload.action === 'plan')
          return { waitUntil: '2025-03-03T09:05:00Z', ladderStep: 0, ownerId: 'liam' };
        if (payload.action === 'escalate')
          return { waitUntil: '2025-03-03T09:10:00Z', ladderStep: 1, ownerId: 'ana' };
        return { outcome: outcomes.shift() };
      });
      expect(error).toBeUndefined();
      expect(calls.map((c) => `${c.state}:${c.payload.action}`)).toEqual([
        `${SLA_STATES.plan}:plan`,
        `${SLA_STATES.check}:check`,
        `${SLA_STATES.escalate}:escalate`,
        `${SLA_STATES.check}:check`,
      ]);
      // Every call carries the original assignment and the execution ARN.
      for (const c of calls) {
        expect(c.payload.assignment).toEqual(assignment);
        expect(c.payload.executionArn).toBe(EXECUTION_ARN);
      }
      expect(calls[0]?.payload).toEqual({ action: 'plan', assignment, executionArn: EXECUTION_ARN });
      // The timer a call returns is what the next call receives.
      expect(calls[1]?.payload.timer).toEqual({
        waitUntil: '2025-03-03T09:05:00Z',
        ladderStep: 0,
        ownerId: 'liam',
      });
      expect(calls[2]?.payload.timer).toEqual({
        waitUntil: '2025-03-03T09:05:00Z',
        ladderStep: 0,
        ownerId: 'liam',
      });
      expect(calls[3]?.payload.timer).toEqual({
        waitUntil: '2025-03-03T09:10:00Z',
        ladderStep: 1,
        ownerId: 'ana',
      });
      expect(result?.check).toEqual({ outcome: 'contacted' });
    });

    it('marks the lead unworked at the end of the ladder', async () => {
      const { calls, error } = await run(sla, assignment, (_state, payload) => {
        if (payload.action === 'plan') return { waitUntil: '2025-03-03T09:05:00Z', ladderStep: 0 };
        if (payload.action === 'unworked') return { recorded: true };
        return { outcome: 'unworked' };
      });
      expect(error).toBeUndefined();
      expect(calls.map((c) => c.payload.action)).toEqual(['plan', 'check', 'unworked']);
      expect(calls[2]?.payload.timer).toEqual({ waitUntil: '2025-03-03T09:05:00Z', ladderStep: 0 });
    });

    it('ends quietly when the lead is closed', async () => {
      const { calls, error } = await run(sla, assignment, (_s, p) =>
        p.action === 'plan' ? { waitUntil: '2025-03-03T09:05:00Z' } : { outcome: 'closed' },
      );
      expect(error).toBeUndefined();
      expect(calls.map((c) => c.payload.action)).toEqual(['plan', 'check']);
    });

    it('fails on an outcome outside the contract', async () => {
      const { error } = await run(sla, assignment, (_s, p) =>
        p.action === 'plan' ? { waitUntil: '2025-03-03T09:05:00Z' } : { outcome: 'maybe' },
      );
      expect((error?.cause as Error | undefined)?.name).toBe('UnknownSlaOutcome');
    });
  });

  describe('nurture cadence', () => {
    const step = (index: number, waitSeconds: number) => ({ id: `step-${index}`, index, waitSeconds });

    it('plans, then waits and sends each step until the cursor is done', async () => {
      const results = [
        { outcome: 'sent', messageId: 'm-1', next: { done: false, step: step(1, 259200) } },
        { outcome: 'skipped', reason: 'quiet hours', next: { done: true } },
      ];
      const { calls, error } = await run(nurture, enrolment, (_s, payload) =>
        payload.action === 'plan' ? { done: false, step: step(0, 3600) } : results.shift(),
      );
      expect(error).toBeUndefined();
      expect(calls.map((c) => `${c.state}:${c.payload.action}`)).toEqual([
        `${NURTURE_STATES.plan}:plan`,
        `${NURTURE_STATES.send}:send`,
        `${NURTURE_STATES.send}:send`,
      ]);
      expect(calls[0]?.payload).toEqual({ action: 'plan', enrolment, executionArn: EXECUTION_ARN });
      expect(calls[1]?.payload).toEqual({
        action: 'send',
        enrolment,
        executionArn: EXECUTION_ARN,
        step: step(0, 3600),
      });
      expect(calls[2]?.payload.step).toEqual(step(1, 259200));
    });

    it('stops when a send says stop (unsubscribed, converted, test lead)', async () => {
      const { calls, error } = await run(nurture, enrolment, (_s, payload) =>
        payload.action === 'plan' ? { done: false, step: step(0, 0) } : { outcome: 'stop' },
      );
      expect(error).toBeUndefined();
      expect(calls.map((c) => c.payload.action)).toEqual(['plan', 'send']);
    });

    it('does nothing when the plan is already done', async () => {
      const { calls, error } = await run(nurture, enrolment, () => ({ done: true }));
      expect(error).toBeUndefined();
      expect(calls.map((c) => c.payload.action)).toEqual(['plan']);
    });

    it('fails on an outcome outside the contract', async () => {
      const { error } = await run(nurture, enrolment, (_s, payload) =>
        payload.action === 'plan' ? { done: false, step: step(0, 0) } : { outcome: 'bounced' },
      );
      expect((error?.cause as Error | undefined)?.name).toBe('UnknownNurtureOutcome');
    });
  });
});
