import { StateMachine } from 'aws-local-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import { SLA_STATES } from '../../infra/constructs/sla-ladder';
import { NURTURE_STATES, SMS_REMINDER_STATES } from '../../infra/constructs/workflows';
import { CLIENTS_DIR } from '../../infra/lib/paths';
import { loadClientConfig } from '../../shared/config/load';
import { type AslDefinition, resourcesOfType, stateMachineDefinition, synthClient } from './helpers';

/**
 * Runs the synthesized SLA and nurture definitions in the local Step Functions emulator (the one
 * the offline stack uses) with stand-in handlers, to pin the contract in infra/CONTRACTS.md:
 * which payloads the machines send to `sla` / `nurture` and which result fields they read.
 */
const config = loadClientConfig('example', CLIENTS_DIR);
const EXECUTION_ARN = 'arn:aws:states:eu-west-1:123456789012:execution:Sla:test-1';
const MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Sla';

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
    context: {
      Execution: { Id: EXECUTION_ARN, Name: 'test-1' },
      StateMachine: { Id: MACHINE_ARN, Name: 'Sla' },
    },
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
  let reminder: AslDefinition;

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
    reminder = stateMachineDefinition(s.pipelineJson, id('SmsReminderWorkflow'));
  });

  describe('SLA ladder (one rung per EXPRESS execution)', () => {
    const LADDER = 'lead-1-1741003200000';
    const steps = config.sla.ladder.length;
    const timer = (waitUntil: string, ladderStep: number, owner: string, exhausted = false) => ({
      waitUntil,
      ladderStep,
      owner,
      assignedAt: assignment.assignedAt,
      involved: [owner],
      exhausted,
    });
    const rung = (n: number, t = timer('2025-03-03T09:05:00Z', n - 1, 'liam')) => ({
      ladder: LADDER,
      rung: n,
      assignment,
      timer: t,
    });
    const states = (def: AslDefinition) =>
      Object.entries(def.States).map(([name, state]) => `${name}:${state.Type}`);

    it('is one rung: a Choice, the start or the escalation, and either the next rung or the unworked check', () => {
      expect(sla.StartAt).toBe(SLA_STATES.rung);
      expect(states(sla).sort()).toEqual(
        [
          `${SLA_STATES.rung}:Choice`,
          `${SLA_STATES.start}:Task`,
          `${SLA_STATES.escalate}:Task`,
          `${SLA_STATES.exhausted}:Choice`,
          `${SLA_STATES.scheduleNext}:Task`,
          `${SLA_STATES.unworked}:Task`,
          `${SLA_STATES.done}:Succeed`,
        ].sort(),
      );
      expect(Object.values(sla.States).some((st) => st.Type === 'Wait')).toBe(false);
      expect(sla.States[SLA_STATES.unworked]).toMatchObject({ End: true });
    });

    it('rung 0 (the rule on Lead Assigned) asks sla-start to schedule rung 1, naming this workflow', async () => {
      const { calls, error } = await run(sla, { rung: 0, assignment }, () => ({
        name: LADDER,
        started: true,
      }));
      expect(error).toBeUndefined();
      expect(calls).toEqual([
        { state: SLA_STATES.start, payload: { action: 'start', stateMachineArn: MACHINE_ARN, assignment } },
      ]);
    });

    it('an escalation rung escalates with the ladder as execution, then schedules the next rung', async () => {
      const next = timer('2025-03-03T09:10:00Z', 1, 'ana');
      const { calls, error } = await run(sla, rung(1), (state) => {
        if (state === SLA_STATES.escalate) return next;
        if (state === SLA_STATES.scheduleNext) return { scheduled: true, rung: 2 };
        return undefined;
      });
      expect(error).toBeUndefined();
      expect(calls.map((c) => `${c.state}:${c.payload.action}`)).toEqual([
        `${SLA_STATES.escalate}:escalate`,
        `${SLA_STATES.scheduleNext}:schedule-next`,
      ]);
      // The sla task contract: the ladder's name is the execution, the same in every rung.
      expect(calls[0]?.payload).toEqual({
        action: 'escalate',
        assignment,
        executionArn: LADDER,
        timer: rung(1).timer,
      });
      expect(calls[1]?.payload).toEqual({
        action: 'schedule-next',
        stateMachineArn: MACHINE_ARN,
        ladder: LADDER,
        rung: 1,
        assignment,
        timer: next,
      });
    });

    it('marks the lead unworked at once when the escalation found nobody left', async () => {
      const { calls } = await run(sla, rung(1), (state) =>
        state === SLA_STATES.escalate
          ? timer('2025-03-03T09:05:01Z', 0, 'liam', true)
          : { outcome: 'unworked', managerId: 'maya', lastOwner: 'liam' },
      );
      expect(calls.map((c) => `${c.state}:${c.payload.action}`)).toEqual([
        `${SLA_STATES.escalate}:escalate`,
        `${SLA_STATES.unworked}:unworked`,
      ]);
      expect(calls[1]?.payload.timer).toMatchObject({ exhausted: true });
    });

    it('the rung after the last step is the unworked check', async () => {
      const last = rung(steps + 1, timer('2025-03-03T09:20:00Z', steps, 'maya'));
      const { calls, error } = await run(sla, last, () => ({
        outcome: 'unworked',
        managerId: 'maya',
        lastOwner: 'maya',
      }));
      expect(error).toBeUndefined();
      expect(calls).toEqual([
        {
          state: SLA_STATES.unworked,
          payload: { action: 'unworked', assignment, executionArn: LADDER, timer: last.timer },
        },
      ]);
    });

    it('fails the execution when a task fails with a non-retryable error', async () => {
      const { calls, error } = await run(sla, rung(1), () => {
        throw Object.assign(new Error('bad timer'), { name: 'InvalidInputError' });
      });
      expect(calls).toHaveLength(1);
      expect(error).toBeDefined();
    });

    it("retries the functions' transient failures", () => {
      for (const name of [SLA_STATES.escalate, SLA_STATES.scheduleNext, SLA_STATES.unworked]) {
        const task = sla.States[name] as { Retry?: Array<{ ErrorEquals: string[] }> };
        expect(task.Retry?.flatMap((r) => r.ErrorEquals)).toContain('SlaRetryableError');
      }
    });
  });

  describe('nurture cadence', () => {
    /** A stand-in `nurture` function: answers each Send state from `answers` by step id (default: sent, follow the default). */
    const sendAll =
      (answers: Record<string, (payload: Payload) => unknown> = {}) =>
      (_state: string, payload: Payload) => {
        const step = payload.step as { id: string; sequenceId: string };
        const answer = answers[step.id];
        if (answer) return answer(payload);
        const seq = config.nurture.sequences.find((q) => q.id === step.sequenceId);
        const index = seq?.steps.findIndex((x) => x.id === step.id) ?? -1;
        const explicit = seq?.steps[index]?.next;
        const following = seq?.steps[index + 1]?.id;
        const goto = explicit === 'end' ? 'end' : `${step.sequenceId}/${explicit ?? following}`;
        return {
          outcome: 'sent',
          goto: following || explicit ? goto : 'end',
          at: '2025-03-03T10:00:00.000Z',
        };
      };

    it('is generated from the sequences: a Choice on the sequence, then Wait, Send, After and Defer per step', () => {
      expect(nurture.StartAt).toBe(NURTURE_STATES.sequence);
      const choice = nurture.States[NURTURE_STATES.sequence] as {
        Choices: Array<{ Variable: string; StringEquals: string; Next: string }>;
        Default: string;
      };
      expect(choice.Choices.map((c) => [c.StringEquals, c.Next])).toEqual([
        ['education', NURTURE_STATES.wait('education', 1)],
        ['pricing-questions', NURTURE_STATES.wait('pricing-questions', 1)],
        ['re-engage', NURTURE_STATES.wait('re-engage', 1)],
      ]);
      expect(choice.Default).toBe(NURTURE_STATES.unknown);
      // education: 1 h, 72 h, 168 h, then the pricing branch's steps (0 h, 48 h).
      expect(nurture.States[NURTURE_STATES.wait('education', 1)]).toMatchObject({ Seconds: 3600 });
      expect(nurture.States[NURTURE_STATES.wait('education', 2)]).toMatchObject({ Seconds: 72 * 3600 });
      expect(nurture.States[NURTURE_STATES.wait('education', 4)]).toMatchObject({ Seconds: 0 });
      expect(nurture.States[NURTURE_STATES.defer('education', 2)]).toMatchObject({
        TimestampPath: '$.result.sendAt',
        Next: NURTURE_STATES.send('education', 2),
      });
      // The case study's After choice: stop, defer, its default next step and its branch's target.
      const after = nurture.States[NURTURE_STATES.after('education', 2)] as {
        Choices: Array<{ Variable: string; StringEquals: string; Next: string }>;
        Default: string;
      };
      expect(after.Choices.map((c) => `${c.Variable}=${c.StringEquals}→${c.Next}`)).toEqual([
        `$.result.outcome=stop→${NURTURE_STATES.stopped}`,
        `$.result.outcome=defer→${NURTURE_STATES.defer('education', 2)}`,
        `$.result.goto=education/webinar-invite→${NURTURE_STATES.wait('education', 3)}`,
        `$.result.goto=education/pricing-faq→${NURTURE_STATES.wait('education', 4)}`,
      ]);
      expect(after.Default).toBe(NURTURE_STATES.done);
      // The webinar invite may switch to the re-engagement sequence.
      const webinar = nurture.States[NURTURE_STATES.after('education', 3)] as {
        Choices: Array<{ Next: string }>;
      };
      expect(webinar.Choices.map((c) => c.Next)).toContain(NURTURE_STATES.wait('re-engage', 1));
      // Four states per step (Wait, Send, After, Defer), no Pass.
      const types = Object.values(nurture.States).map((state) => state.Type);
      const steps = config.nurture.sequences.reduce((sum, seq) => sum + seq.steps.length, 0);
      expect(types.filter((t) => t === 'Task')).toHaveLength(steps);
      expect(types.filter((t) => t === 'Wait')).toHaveLength(2 * steps);
      expect(types.filter((t) => t === 'Choice')).toHaveLength(1 + steps);
      expect(types.filter((t) => t === 'Pass')).toHaveLength(0);
    });

    it('walks the default path, each payload naming its step, the previous answer passed on', async () => {
      const { calls, error } = await run(nurture, enrolment, sendAll());
      expect(error).toBeUndefined();
      expect(calls.map((c) => c.state)).toEqual([
        NURTURE_STATES.send('education', 1),
        NURTURE_STATES.send('education', 2),
        NURTURE_STATES.send('education', 3),
      ]);
      expect(calls[0]?.payload).toEqual({
        action: 'send',
        enrolment,
        executionArn: EXECUTION_ARN,
        step: { id: 'welcome-guide', index: 0, waitSeconds: 3600, sequenceId: 'education' },
        state: enrolment,
      });
      expect(calls[1]?.payload.state).toMatchObject({
        result: { outcome: 'sent', goto: 'education/case-study' },
      });
      expect(calls[2]?.payload.step).toEqual({
        id: 'webinar-invite',
        index: 2,
        waitSeconds: 168 * 3600,
        sequenceId: 'education',
      });
    });

    it('follows a branch to the step it names, and a deferral back to the same send', async () => {
      let deferred = false;
      const { calls, error } = await run(
        nurture,
        enrolment,
        sendAll({
          'case-study': () => ({
            outcome: 'branch',
            branch: 'education/case-study/clicked-pricing',
            goto: 'education/pricing-faq',
            at: '2025-03-03T10:00:00.000Z',
          }),
          'pricing-faq': () => {
            if (deferred)
              return { outcome: 'sent', goto: 'education/pricing-reminder', at: '2025-03-03T10:00:00.000Z' };
            deferred = true;
            return {
              outcome: 'defer',
              sendAt: '2025-03-04T08:00:00.000Z',
              goto: 'education/pricing-faq',
              at: '2025-03-03T10:00:00.000Z',
            };
          },
        }),
      );
      expect(error).toBeUndefined();
      expect(calls.map((c) => (c.payload.step as { id: string }).id)).toEqual([
        'welcome-guide',
        'case-study',
        'pricing-faq',
        'pricing-faq',
        'pricing-reminder',
      ]);
      // The send after the branch sees which branch led to it.
      expect(calls[2]?.payload.state).toMatchObject({
        result: { branch: 'education/case-study/clicked-pricing' },
      });
    });

    it('switches sequence when a branch starts another one', async () => {
      const { calls, error } = await run(
        nurture,
        enrolment,
        sendAll({
          'webinar-invite': () => ({
            outcome: 'branch',
            branch: 'education/webinar-invite/went-quiet',
            goto: 're-engage/work-email',
            at: '2025-03-03T10:00:00.000Z',
          }),
        }),
      );
      expect(error).toBeUndefined();
      expect(calls.map((c) => c.state).slice(3)).toEqual([
        NURTURE_STATES.send('re-engage', 1),
        NURTURE_STATES.send('re-engage', 2),
      ]);
    });

    it('ends at once when a send says stop (unsubscribed, converted, no consent)', async () => {
      const { result, calls, error } = await run(nurture, enrolment, () => ({
        outcome: 'stop',
        reason: 'unsubscribed',
        goto: 'end',
      }));
      expect(error).toBeUndefined();
      expect(calls.map((c) => c.state)).toEqual([NURTURE_STATES.send('education', 1)]);
      expect(result?.result).toMatchObject({ outcome: 'stop', reason: 'unsubscribed' });
    });

    it('does nothing for a sequence no longer in the client file', async () => {
      const { calls, error } = await run(nurture, { ...enrolment, sequenceId: 'retired' }, () => ({}));
      expect(error).toBeUndefined();
      expect(calls).toEqual([]);
    });
  });

  describe('SMS meeting reminder', () => {
    const meeting = {
      leadId: 'lead-3',
      occurredAt: '2025-03-03T09:00:00.000Z',
      isTest: false,
      activityId: 'a-1',
      provider: 'calendly',
      startTime: '2025-03-05T15:00:00.000Z',
    };

    it('plans, waits until the planned time and sends; or ends when no reminder can go', async () => {
      const sent = await run(reminder, meeting, (_state, payload) =>
        payload.action === 'plan-reminder' ? { remindAt: '2025-03-04T15:00:00.000Z' } : { outcome: 'sent' },
      );
      expect(sent.error).toBeUndefined();
      expect(sent.calls.map((c) => `${c.state}:${c.payload.action}`)).toEqual([
        `${SMS_REMINDER_STATES.plan}:plan-reminder`,
        `${SMS_REMINDER_STATES.send}:send-reminder`,
      ]);
      expect(sent.calls[1]?.payload).toEqual({
        action: 'send-reminder',
        meeting,
        executionArn: EXECUTION_ARN,
      });
      expect(reminder.States[SMS_REMINDER_STATES.wait]).toMatchObject({ TimestampPath: '$.plan.remindAt' });
      const none = await run(reminder, meeting, () => ({}));
      expect(none.calls.map((c) => c.state)).toEqual([SMS_REMINDER_STATES.plan]);
    });
  });
});
