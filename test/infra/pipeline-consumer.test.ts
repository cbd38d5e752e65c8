import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { Pass, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import type { LeadFunction } from '../../infra/constructs/lead-function';
import { PipelineConsumer, TARGET_RETRY } from '../../infra/constructs/pipeline-consumer';
import { type ConsumerRow, consumerTarget } from '../../infra/lib/pipeline-consumers';
import { EVENT_SOURCE } from '../../shared/events/catalogue';

/** A consumer row in a bare stack: a state machine target keeps synth fast (no bundling). */
function synth(props: Partial<ConstructorParameters<typeof PipelineConsumer>[2]>) {
  const stack = new Stack(new App(), 'S');
  const bus = new EventBus(stack, 'Bus');
  const target = new StateMachine(stack, 'Machine', { definition: new Pass(stack, 'P') });
  new PipelineConsumer(stack, 'NurtureRule', {
    target,
    bus,
    deadLetterQueue: new Queue(stack, 'Dlq'),
    description: 'a consumer',
    ...props,
  });
  return Template.fromStack(stack);
}

describe('PipelineConsumer', () => {
  it('is one rule with the pipeline pattern, the retry policy and the DLQ, under the logical id it had as a bare rule', () => {
    const template = synth({ on: ['Lead Nurtured'], detail: { isTest: [false] } });
    const rules = template.findResources('AWS::Events::Rule');
    // `NurtureRule` + the hash of that one path component: the id `new Rule(stack, 'NurtureRule')` had.
    expect(Object.keys(rules)).toEqual([expect.stringMatching(/^NurtureRule[0-9A-F]{8}$/)]);
    const [rule] = Object.values(rules) as Array<{ Properties: Record<string, unknown> }>;
    expect(rule?.Properties.EventPattern).toEqual({
      source: [EVENT_SOURCE],
      'detail-type': ['Lead Nurtured'],
      detail: { isTest: [false] },
    });
    const [target] = (rule?.Properties.Targets ?? []) as Array<Record<string, unknown>>;
    expect(target).toMatchObject({
      InputPath: '$.detail',
      RetryPolicy: {
        MaximumEventAgeInSeconds: TARGET_RETRY.maxEventAge.toSeconds(),
        MaximumRetryAttempts: TARGET_RETRY.retryAttempts,
      },
      DeadLetterConfig: { Arn: expect.anything() },
    });
    // What the same rule had as a bare `new Rule(stack, 'NurtureRule')`.
    const bare = new Stack(new App(), 'S');
    const plain = new Rule(bare, 'NurtureRule', { schedule: Schedule.expression('rate(1 minute)') });
    expect(Object.keys(rules)[0]).toBe(bare.getLogicalId(plain.node.defaultChild as never));
  });

  it('runs on a schedule instead', () => {
    const template = synth({ schedule: Schedule.expression('rate(1 minute)') });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
  });

  it('needs exactly one of on, pattern or schedule', () => {
    expect(() => synth({})).toThrow(/exactly one of on, pattern or schedule/);
    expect(() => synth({ on: ['Lead Nurtured'], schedule: Schedule.expression('rate(1 minute)') })).toThrow(
      /exactly one/,
    );
  });
});

describe('a consumer row', () => {
  const score = { functionName: 'score' } as LeadFunction;
  const functions = { score };
  const row = (props: Partial<ConsumerRow>): ConsumerRow => ({
    consumer: 'score',
    on: ['Lead Captured'],
    description: 'a consumer',
    ...props,
  });

  it("runs its own function, another row's, or its state machine", () => {
    const stack = new Stack(new App(), 'S');
    const machine = new StateMachine(stack, 'Machine', { definition: new Pass(stack, 'P') });
    expect(consumerTarget(row({ access: {} }), functions)).toBe(score);
    expect(consumerTarget(row({ consumer: 'rescore', runs: 'score' }), functions)).toBe(score);
    expect(consumerTarget(row({ consumer: 'nurture', workflow: machine }), functions)).toBe(machine);
  });

  it('declares exactly one thing to run, and only functions some row declares', () => {
    expect(() => consumerTarget(row({}), functions)).toThrow(
      'consumer score: set exactly one of access, runs or workflow (got 0)',
    );
    expect(() => consumerTarget(row({ access: {}, runs: 'score' }), functions)).toThrow(/got 2/);
    expect(() => consumerTarget(row({ consumer: 'win-back', runs: 'win-bak' }), functions)).toThrow(
      'consumer win-back: runs the function "win-bak", which no row declares',
    );
  });
});
