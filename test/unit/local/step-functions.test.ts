import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { InvokeResult } from '../../../local/lambda-runner';
import { executionArnOf, LocalStepFunctions } from '../../../local/step-functions';

/**
 * The local Step Functions run waits the way AWS does, only `timeScale` times faster: whatever
 * the Wait form and however long the wait, no timeout AWS would not apply. Timers are faked, so a
 * wait of hours passes in no real time.
 */

const MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:local-e2e-Waits';
const FUNCTION = 'arn:aws:lambda:us-east-1:000000000000:function:local-e2e-Task';
const HOUR = 3_600_000;

type Wait = Record<string, unknown>;
const waitThenTask = (wait: Wait) => ({
  StartAt: 'Wait',
  States: {
    Wait: { Type: 'Wait', ...wait, Next: 'Task' },
    Task: { Type: 'Task', Resource: FUNCTION, ResultPath: '$.task', End: true },
  },
});

let invoked: Array<{ at: number; payload: unknown }>;
let taskMs: number;
const invoke = async (_arn: string, payload: unknown): Promise<InvokeResult> => {
  invoked.push({ at: Date.now(), payload });
  await new Promise((resolve) => setTimeout(resolve, taskMs));
  return { ok: true, result: { done: true } } as InvokeResult;
};

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-03-02T10:00:00Z') });
  invoked = [];
  taskMs = 0;
});
afterEach(() => {
  vi.useRealTimers();
});

function machine(definition: object, timeScale: number) {
  const sfn = new LocalStepFunctions(invoke, timeScale);
  sfn.register(MACHINE, definition as never);
  return sfn;
}

describe('waits in the local Step Functions', () => {
  it.each([
    ['Seconds', { Seconds: 3 * 3600 }, {}],
    ['SecondsPath', { SecondsPath: '$.step.waitSeconds' }, { step: { waitSeconds: 3 * 3600 } }],
    ['Timestamp', { Timestamp: '2026-03-02T13:00:00Z' }, {}],
    [
      'TimestampPath',
      { TimestampPath: '$.timer.waitUntil' },
      { timer: { waitUntil: '2026-03-02T13:00:00Z' } },
    ],
  ])(
    'a 3-hour %s wait at ×1 runs its full length, past the emulator’s 60 s Task timeout',
    async (_form, wait, input) => {
      const sfn = machine(waitThenTask(wait), 1);
      const started = Date.now();
      const execution = sfn.start(MACHINE, input);

      await vi.advanceTimersByTimeAsync(3 * HOUR - 1000);
      expect(execution.status).toBe('RUNNING');
      expect(invoked).toEqual([]);

      await vi.advanceTimersByTimeAsync(2000);
      expect(execution.status).toBe('SUCCEEDED');
      expect(invoked).toHaveLength(1);
      expect(invoked[0]?.at).toBeGreaterThanOrEqual(started + 3 * HOUR);
      expect(execution.output).toMatchObject({ ...input, task: { done: true } });
    },
  );

  it('a 72-hour wait at ×60 takes 72 minutes and the execution still succeeds', async () => {
    const sfn = machine(waitThenTask({ SecondsPath: '$.wait' }), 60);
    const execution = sfn.start(MACHINE, { wait: 72 * 3600 });
    await vi.advanceTimersByTimeAsync(71 * 60_000);
    expect(execution.status).toBe('RUNNING');
    await vi.advanceTimersByTimeAsync(2 * 60_000);
    expect(execution).toMatchObject({ status: 'SUCCEEDED' });
    expect(execution.error).toBeUndefined();
  });

  it('a Lambda task slower than 60 s is not timed out (AWS applies no default Task timeout)', async () => {
    taskMs = 5 * 60_000;
    const sfn = machine(waitThenTask({ Seconds: 0 }), 60);
    const execution = sfn.start(MACHINE, {});
    await vi.advanceTimersByTimeAsync(6 * 60_000);
    expect(execution).toMatchObject({ status: 'SUCCEEDED', output: { task: { done: true } } });
  });

  it('a Task’s own TimeoutSeconds still applies', async () => {
    taskMs = 5 * 60_000;
    const definition = waitThenTask({ Seconds: 0 });
    Object.assign(definition.States.Task, { TimeoutSeconds: 90 });
    const sfn = machine(definition, 60);
    const execution = sfn.start(MACHINE, {});
    await vi.advanceTimersByTimeAsync(6 * 60_000);
    expect(execution).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
  });

  it('a wait path that finds no number or timestamp fails the execution with States.Runtime', async () => {
    const failed: string[] = [];
    const sfn = machine(waitThenTask({ TimestampPath: '$.timer.waitUntil' }), 60);
    sfn.onFinished((e) => failed.push(`${e.status} ${e.error}`));
    sfn.start(MACHINE, { timer: { waitUntil: 'tomorrow' } });
    await vi.advanceTimersByTimeAsync(1000);
    expect(failed).toEqual(['FAILED States.Runtime']);
    expect(invoked).toEqual([]);
  });

  it('StopExecution ends a wait at once; DescribeExecution finds it by the ARN its name gives', async () => {
    const sfn = machine(waitThenTask({ Seconds: 3600 }), 1);
    const execution = sfn.start(MACHINE, { leadId: 'l-1' }, 'sla-l-1-1');
    expect(execution.executionArn).toBe(executionArnOf(MACHINE, 'sla-l-1-1'));
    sfn.stop(execution.executionArn, 'SlaEnded', 'contacted');
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(2 * HOUR);
    expect(invoked).toEqual([]);
    expect(sfn.describe(executionArnOf(MACHINE, 'sla-l-1-1'))).toMatchObject({
      status: 'ABORTED',
      error: 'SlaEnded',
      cause: 'contacted',
    });
    expect(() => sfn.describe(executionArnOf(MACHINE, 'no-such'))).toThrow(/ExecutionDoesNotExist/);
  });

  it('starting a running execution again with the same name and input returns it; other reuse is refused', () => {
    const sfn = machine(waitThenTask({ Seconds: 3600 }), 1);
    const first = sfn.start(MACHINE, { leadId: 'l-1' }, 'same-name');
    expect(sfn.start(MACHINE, { leadId: 'l-1' }, 'same-name')).toBe(first);
    expect(() => sfn.start(MACHINE, { leadId: 'l-2' }, 'same-name')).toThrow(/already exists/);
    sfn.stopAll();
    expect(() => sfn.start(MACHINE, { leadId: 'l-1' }, 'same-name')).toThrow(/already exists/);
  });
});
