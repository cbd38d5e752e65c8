import { InvokeCommand, LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { redriveStack } from '../../infra/lib/redrive';

const sqs = mockClient(SQSClient);
const lambda = mockClient(LambdaClient);
const sfn = mockClient(SFNClient);
const clients = { sqs: new SQSClient({}), lambda: new LambdaClient({}), sfn: new SFNClient({}) };

const STACK = 'LeadPipeline-acme-Pipeline';
const ROUTE_DLQ = `https://sqs/1/${STACK}-RouteDlqQueue1-abc`;
const SLA_DLQ = `https://sqs/1/${STACK}-SlaDlqQueue2-def`;
const ROUTE_FN = 'arn:aws:lambda:eu-west-1:1:function:route';
const SLA_MACHINE = 'arn:aws:states:eu-west-1:1:stateMachine:sla';
const event = { id: 'e1', 'detail-type': 'Lead Assigned', detail: { leadId: 'L1' } };

describe('redriveStack', () => {
  beforeEach(() => {
    for (const m of [sqs, lambda, sfn]) m.reset();
    sqs
      .on(ListQueuesCommand)
      .resolves({ QueueUrls: [ROUTE_DLQ, SLA_DLQ, `https://sqs/1/${STACK}-WorkQueue-x`] });
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: ROUTE_DLQ })
      .resolves({ Attributes: { QueueArn: 'arn:q:route' } });
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: SLA_DLQ })
      .resolves({ Attributes: { QueueArn: 'arn:q:sla' } });
    lambda.on(ListFunctionsCommand).resolves({
      Functions: [{ FunctionArn: ROUTE_FN, DeadLetterConfig: { TargetArn: 'arn:q:route' } }],
    });
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'x' });
  });

  it('replays a Lambda DLQ message to its function and an EventBridge DLQ message to the named target, then deletes both', async () => {
    sqs
      .on(ReceiveMessageCommand, { QueueUrl: ROUTE_DLQ })
      .resolvesOnce({ Messages: [{ MessageId: 'm1', ReceiptHandle: 'r1', Body: JSON.stringify(event) }] })
      .resolves({});
    sqs
      .on(ReceiveMessageCommand, { QueueUrl: SLA_DLQ })
      .resolvesOnce({
        Messages: [
          {
            MessageId: 'm2',
            ReceiptHandle: 'r2',
            Body: JSON.stringify(event),
            MessageAttributes: { TARGET_ARN: { DataType: 'String', StringValue: SLA_MACHINE } },
          },
        ],
      })
      .resolves({});

    const reports = await redriveStack(STACK, clients);

    expect(reports.map((r) => [r.replayed, r.left.length])).toEqual([
      [1, 0],
      [1, 0],
    ]);
    const invoke = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(invoke?.FunctionName).toBe(ROUTE_FN);
    expect(invoke?.InvocationType).toBe('Event');
    expect(JSON.parse(Buffer.from(invoke?.Payload as Uint8Array).toString())).toEqual(event);
    const start = sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(start).toMatchObject({ stateMachineArn: SLA_MACHINE, name: 'redrive-m2' });
    expect(JSON.parse(start?.input ?? '')).toEqual(event.detail);
    expect(sqs.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input.ReceiptHandle)).toEqual([
      'r1',
      'r2',
    ]);
  });

  it('counts an execution already started by an interrupted run as replayed, and keeps a message whose replay failed', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    lambda.on(InvokeCommand).rejects(new Error('throttled'));
    sqs
      .on(ReceiveMessageCommand, { QueueUrl: ROUTE_DLQ })
      .resolves({ Messages: [{ MessageId: 'm1', ReceiptHandle: 'r1', Body: '{}' }] });
    sqs
      .on(ReceiveMessageCommand, { QueueUrl: SLA_DLQ })
      .resolvesOnce({
        Messages: [
          {
            MessageId: 'm2',
            ReceiptHandle: 'r2',
            Body: JSON.stringify(event),
            MessageAttributes: { TARGET_ARN: { DataType: 'String', StringValue: SLA_MACHINE } },
          },
        ],
      })
      .resolves({});

    const reports = await redriveStack(STACK, clients);

    expect(reports[0]).toMatchObject({ replayed: 0, left: [{ messageId: 'm1', reason: 'throttled' }] });
    expect(reports[1]).toMatchObject({ replayed: 1, left: [] });
    expect(sqs.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input.ReceiptHandle)).toEqual(['r2']);
  });

  it('finds nothing to replay on a second run', async () => {
    sqs.on(ReceiveMessageCommand).resolves({});
    const reports = await redriveStack(STACK, clients);
    expect(reports.map((r) => r.replayed)).toEqual([0, 0]);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });
});
