import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LocalEventBus, type LocalRule, type RuleTarget } from '../../local/event-bus';
import { FunctionPool, type InvokeResult } from '../../local/lambda-runner';
import { LocalStepFunctions } from '../../local/step-functions';

/**
 * The local emulators the pipeline suite relies on, on their own: Step Functions retries and
 * scaled waits, EventBridge delivery retries and dead letters, and the Lambda worker pool
 * (isolation, timeouts, shutdown, the Slack redirect). No AWS, no DynamoDB, no handlers: toy
 * state machines, rules and functions whose behaviour the test controls.
 */

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lead-pipeline-emulators-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:toy';

const ok = (result: unknown): InvokeResult => ({ ok: true, result, durationMs: 1, coldStart: false });
const fail = (errorType: string): InvokeResult => ({
  ok: false,
  error: { errorType, errorMessage: `${errorType} happened`, stack: [] },
  durationMs: 1,
  coldStart: false,
});

async function settled(machines: LocalStepFunctions, executionArn: string) {
  for (let i = 0; i < 500; i++) {
    const record = machines.executions.get(executionArn);
    if (record && record.status !== 'RUNNING') return record;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${executionArn} did not finish`);
}

describe('local Step Functions', () => {
  /** Task (retried on ToyRetryableError) → Wait an hour → Task → Succeed. */
  const definition = {
    StartAt: 'Plan',
    States: {
      Plan: {
        Type: 'Task',
        Resource: FUNCTION_ARN,
        Parameters: { action: 'plan', 'input.$': '$' },
        ResultPath: '$.plan',
        Retry: [{ ErrorEquals: ['ToyRetryableError'], IntervalSeconds: 30, MaxAttempts: 3, BackoffRate: 2 }],
        Next: 'WaitAnHour',
      },
      WaitAnHour: { Type: 'Wait', Seconds: 3600, Next: 'WaitUntil' },
      WaitUntil: { Type: 'Wait', TimestampPath: '$.plan.until', Next: 'Act' },
      Act: {
        Type: 'Task',
        Resource: FUNCTION_ARN,
        Parameters: { action: 'act', 'plan.$': '$.plan' },
        ResultPath: '$.act',
        End: true,
      },
    },
  };

  test('retries a task on its Retry errors, runs scaled waits and finishes', async () => {
    const calls: Array<{ action: string }> = [];
    let planAttempts = 0;
    // An hour of waiting passes in a tenth of a second.
    const machines = new LocalStepFunctions(async (arn, payload) => {
      expect(arn).toBe(FUNCTION_ARN);
      const event = payload as { action: string };
      calls.push(event);
      if (event.action === 'plan') {
        planAttempts++;
        if (planAttempts < 3) return fail('ToyRetryableError');
        // A timestamp already passed: the wait continues at once.
        return ok({ until: '2020-01-01T00:00:00Z' });
      }
      return ok({ done: true });
    }, 36_000);
    const arn = 'arn:aws:states:us-east-1:000000000000:stateMachine:toy';
    machines.register(arn, definition);

    const record = await settled(machines, machines.start(arn, { leadId: 'l-1' }, 'run-1').executionArn);
    expect(record.status).toBe('SUCCEEDED');
    expect(planAttempts).toBe(3);
    expect(calls.map((c) => c.action)).toEqual(['plan', 'plan', 'plan', 'act']);
    expect(record.output).toEqual({
      leadId: 'l-1',
      plan: { until: '2020-01-01T00:00:00Z' },
      act: { done: true },
    });
    // Execution names are unique per state machine, as in AWS.
    expect(() => machines.start(arn, {}, 'run-1')).toThrow(/already exists/i);
  });

  test('fails the execution with the function error name when retries do not cover it', async () => {
    const machines = new LocalStepFunctions(async () => fail('LeadMissingError'), 36_000);
    const arn = 'arn:aws:states:us-east-1:000000000000:stateMachine:failing';
    machines.register(arn, definition);
    const record = await settled(machines, machines.start(arn, {}).executionArn);
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('LeadMissingError');
  });

  test('StopExecution aborts a waiting execution, and stopAll leaves nothing running', async () => {
    // At a time scale of 1 the hour-long wait would outlive the test: only a stop ends it.
    const machines = new LocalStepFunctions(async () => ok({ until: '2020-01-01T00:00:00Z' }), 1);
    const arn = 'arn:aws:states:us-east-1:000000000000:stateMachine:stopped';
    machines.register(arn, definition);
    const first = machines.start(arn, {});
    const second = machines.start(arn, {});
    await new Promise((r) => setTimeout(r, 50));
    expect(machines.running).toBe(2);
    expect(machines.stop(first.executionArn, 'SlaEnded', 'contacted').status).toBe('ABORTED');
    machines.stopAll();
    expect(machines.running).toBe(0);
    expect(machines.executions.get(second.executionArn)?.status).toBe('ABORTED');
    expect(machines.executions.get(first.executionArn)).toMatchObject({
      error: 'SlaEnded',
      cause: 'contacted',
    });
  });
});

describe('local EventBridge', () => {
  const target = (overrides: Partial<RuleTarget> = {}): RuleTarget => ({
    id: 'toy',
    arn: FUNCTION_ARN,
    maxRetryAttempts: 4,
    maxEventAgeSeconds: 4 * 3600,
    deadLetterArn: 'arn:aws:sqs:us-east-1:000000000000:toy-dlq',
    ...overrides,
  });
  const rule = (targets: RuleTarget[]): LocalRule => ({
    name: 'ToyRule',
    busName: 'leads',
    pattern: { source: ['lead-pipeline'], 'detail-type': ['Lead Captured'], detail: { isTest: [false] } },
    targets,
  });
  const put = (bus: LocalEventBus, detail: unknown, detailType = 'Lead Captured') =>
    bus.putEvents([
      {
        EventBusName: 'leads',
        Source: 'lead-pipeline',
        DetailType: detailType,
        Detail: JSON.stringify(detail),
      },
    ]);

  test('delivers matching events, retrying a failing target until it succeeds', async () => {
    const deliveries: unknown[] = [];
    let failures = 2;
    const bus = new LocalEventBus(
      async (_target, input) => {
        deliveries.push(input);
        if (failures-- > 0) throw new Error('ThrottlingException: slow down');
      },
      { timeScale: 3600, knownBuses: new Set(['default', 'leads']) },
    );
    bus.addRule(rule([target({ inputPath: '$.detail' })]));

    expect(put(bus, { leadId: 'l-1', isTest: false })).toMatchObject({ FailedEntryCount: 0 });
    expect(put(bus, { leadId: 'l-2', isTest: true })).toMatchObject({ FailedEntryCount: 0 });
    expect(put(bus, { leadId: 'l-3', isTest: false }, 'Lead Scored')).toMatchObject({ FailedEntryCount: 0 });
    await bus.idle();
    // Only l-1 matched; its third attempt succeeded. The target got the detail (InputPath).
    expect(deliveries).toEqual([
      { leadId: 'l-1', isTest: false },
      { leadId: 'l-1', isTest: false },
      { leadId: 'l-1', isTest: false },
    ]);
    expect(bus.deadLetters).toEqual([]);
  });

  test('a target that keeps failing ends in the dead-letter record, never dropped', async () => {
    const file = join(dir, `dead-letters-${randomUUID()}.jsonl`);
    let attempts = 0;
    const bus = new LocalEventBus(
      async () => {
        attempts++;
        throw new Error('boom');
      },
      { timeScale: 3600, deadLetterFile: file, knownBuses: new Set(['leads']) },
    );
    bus.addRule(rule([target()]));
    put(bus, { leadId: 'l-9', isTest: false });
    await bus.idle();

    expect(attempts).toBe(5); // the first delivery and 4 retries
    expect(bus.deadLetters).toHaveLength(1);
    const [letter] = bus.deadLetters;
    expect(letter).toMatchObject({
      rule: 'ToyRule',
      target: FUNCTION_ARN,
      deadLetterArn: 'arn:aws:sqs:us-east-1:000000000000:toy-dlq',
      attempts: 5,
      error: 'Error: boom',
    });
    expect(letter?.event.detail).toEqual({ leadId: 'l-9', isTest: false });
    const stored = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(stored).toEqual([JSON.parse(JSON.stringify(letter))]);
  });

  test('rejects entries EventBridge would reject', () => {
    const bus = new LocalEventBus(async () => {}, { timeScale: 1, knownBuses: new Set(['leads']) });
    const answer = bus.putEvents([
      { EventBusName: 'nope', Source: 's', DetailType: 'd', Detail: '{}' },
      { EventBusName: 'leads', Source: 's', DetailType: 'd', Detail: 'not json' },
      { EventBusName: 'leads', DetailType: 'd', Detail: '{}' },
    ]);
    expect(answer.FailedEntryCount).toBe(3);
    expect(answer.Entries.map((e) => e.ErrorCode)).toEqual([
      'InvalidArgument',
      'MalformedDetail',
      'InvalidArgument',
    ]);
  });

  test('stop() ends pending retries without dead letters and refuses later events', async () => {
    let attempts = 0;
    const bus = new LocalEventBus(
      async () => {
        attempts++;
        throw new Error('down');
      },
      // Slow back-off: the retry would wait a long time.
      { timeScale: 1, knownBuses: new Set(['leads']) },
    );
    bus.addRule(rule([target()]));
    put(bus, { leadId: 'l-1', isTest: false });
    await new Promise((r) => setTimeout(r, 20));
    bus.stop();
    await bus.idle();
    expect(attempts).toBe(1);
    expect(bus.deadLetters).toEqual([]);
    // Refused, not silently dropped: the publisher sees the failure.
    expect(put(bus, { leadId: 'l-2', isTest: false })).toMatchObject({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'ServiceUnavailable' }],
    });
    await bus.idle();
    expect(attempts).toBe(1);
  });
});

describe('local Lambda environments', () => {
  let slack: Server;
  let slackUrl: string;
  const posts: string[] = [];
  beforeAll(async () => {
    slack = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        posts.push(`${req.url} ${body}`);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => slack.listen(0, '127.0.0.1', r));
    slackUrl = `http://127.0.0.1:${(slack.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => slack.close(() => r())));

  /** A bundled "function" whose behaviour the event picks; `initMs` of module-scope work first. */
  function toyFunction(timeoutSeconds = 2, initMs = 0) {
    const file = join(dir, `toy-${randomUUID()}.mjs`);
    writeFileSync(
      file,
      `for (const end = Date.now() + ${initMs}; Date.now() < end; );
export const handler = async (event, context) => {
  if (event.kind === 'env') return { table: process.env.TABLE_NAME, fn: context.functionName, execArgv: process.execArgv };
  if (event.kind === 'slack') {
    const r = await fetch('https://hooks.slack.com/services/T1/B1/x', { method: 'POST', body: 'hello' });
    return { status: r.status, text: await r.text() };
  }
  if (event.kind === 'hang') return new Promise(() => {});
  if (event.kind === 'throw') { const e = new Error('bad lead'); e.name = 'InvalidInputError'; throw e; }
  return { echo: event };
};
`,
    );
    return new FunctionPool(
      {
        logicalId: 'Toy',
        name: 'toy',
        file,
        exportName: 'handler',
        environment: { TABLE_NAME: 'leads-table' },
        timeoutSeconds,
        memoryMb: 128,
      },
      {
        maxConcurrency: 2,
        logFile: join(dir, 'toy.log'),
        fetchRedirects: [['https://hooks.slack.com/services/', `${slackUrl}/slack/`]],
      },
    );
  }

  test('runs the bundle with its own environment, on plain Node, and reports errors by name', async () => {
    const pool = toyFunction();
    try {
      const env = await pool.invoke({ kind: 'env' });
      expect(env).toMatchObject({ ok: true, coldStart: true });
      // No tsx or vitest hooks leak into the function's environment.
      expect(env.result).toEqual({ table: 'leads-table', fn: 'toy', execArgv: [] });
      expect(await pool.invoke({ kind: 'echo', n: 1 })).toMatchObject({
        ok: true,
        coldStart: false,
        result: { echo: { kind: 'echo', n: 1 } },
      });
      expect(await pool.invoke({ kind: 'throw' })).toMatchObject({
        ok: false,
        error: { errorType: 'InvalidInputError', errorMessage: 'bad lead' },
      });
    } finally {
      await pool.close();
    }
  });

  test('sends Slack webhook calls to the local recorder', async () => {
    const pool = toyFunction();
    try {
      expect((await pool.invoke({ kind: 'slack' })).result).toEqual({ status: 200, text: 'ok' });
      expect(posts).toEqual(['/slack/T1/B1/x hello']);
    } finally {
      await pool.close();
    }
  });

  test('times out like Lambda, discarding the environment', async () => {
    const pool = toyFunction(1);
    try {
      const result = await pool.invoke({ kind: 'hang' });
      expect(result).toMatchObject({ ok: false, error: { errorType: 'Sandbox.Timedout' } });
      expect(pool.environmentCount).toBe(0);
      expect(await pool.invoke({ kind: 'echo' })).toMatchObject({ ok: true, coldStart: true });
    } finally {
      await pool.close();
    }
  });

  test('a slow cold start (init) does not count against the function timeout, as in Lambda', async () => {
    const pool = toyFunction(1, 1500);
    try {
      expect(await pool.invoke({ kind: 'echo' })).toMatchObject({ ok: true, coldStart: true });
      // The timeout still holds for the handler itself.
      expect(await pool.invoke({ kind: 'hang' })).toMatchObject({
        ok: false,
        error: { errorType: 'Sandbox.Timedout' },
      });
    } finally {
      await pool.close();
    }
  });

  test('close() ends running invocations and leaves no worker behind', async () => {
    const pool = toyFunction(30);
    const hanging = pool.invoke({ kind: 'hang' });
    // The second runs in a second environment, the third waits for a free one.
    const queued = Promise.allSettled([pool.invoke({ kind: 'hang' }), pool.invoke({ kind: 'echo' })]);
    await new Promise((r) => setTimeout(r, 300));
    await pool.close();
    expect(await hanging).toMatchObject({ ok: false, error: { errorType: 'Runtime.Shutdown' } });
    const [second, third] = await queued;
    expect(second).toMatchObject({
      status: 'fulfilled',
      value: { ok: false, error: { errorType: 'Runtime.Shutdown' } },
    });
    expect(third).toMatchObject({ status: 'rejected' });
    expect(pool.environmentCount).toBe(0);
    await expect(pool.invoke({ kind: 'echo' })).rejects.toThrow(/shut down/);
  });
});
