import { InvokeCommand, LambdaClient, paginateListFunctions } from '@aws-sdk/client-lambda';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';

/**
 * Redrive of a deployed stack's dead-letter queues: every message is replayed to the target
 * that failed it, then deleted. Which target that is depends on who wrote the message:
 *
 * - an EventBridge rule target's DLQ: the `TARGET_ARN` message attribute names it, and the body
 *   is the original event (a state machine target receives its `detail`, as the rule's input
 *   path gives it, see `consumeWithStateMachine`);
 * - a Lambda function's asynchronous-invocation DLQ: the body is the invocation payload, and the
 *   target is the function whose `DeadLetterConfig` points at the queue.
 *
 * A Lambda is invoked asynchronously (`Event`): it retries and dead-letters again by itself if it
 * still fails. A state machine execution is named after the message, so a replay interrupted
 * between start and delete starts nothing twice. Consumers remember handled events longer than a
 * DLQ keeps them (`shared/config/retention.ts`), so a replay never repeats an effect, and a second
 * run finds empty queues.
 */

/** What a redrive did with one queue. */
export interface QueueRedrive {
  readonly queue: string;
  readonly replayed: number;
  /** Messages left in the queue: no known target, or the replay failed (with why). */
  readonly left: ReadonlyArray<{ readonly messageId: string; readonly reason: string }>;
}

export interface RedriveClients {
  readonly sqs: SQSClient;
  readonly lambda: LambdaClient;
  readonly sfn: SFNClient;
}

/** Dead-letter queues of a pipeline stack: its queues whose generated name holds `Dlq`. */
export async function stackDeadLetterQueues(sqs: SQSClient, stackName: string): Promise<string[]> {
  const urls: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: stackName, NextToken }));
    urls.push(...(page.QueueUrls ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return urls.filter((url) => /Dlq/.test(url.split('/').pop() ?? ''));
}

/** Replays every message of the stack's DLQs; see the module comment. */
export async function redriveStack(stackName: string, clients: RedriveClients): Promise<QueueRedrive[]> {
  const functionByDlq = new Map<string, string>();
  for await (const page of paginateListFunctions({ client: clients.lambda }, {})) {
    for (const fn of page.Functions ?? []) {
      if (fn.DeadLetterConfig?.TargetArn && fn.FunctionArn)
        functionByDlq.set(fn.DeadLetterConfig.TargetArn, fn.FunctionArn);
    }
  }
  const reports: QueueRedrive[] = [];
  for (const queueUrl of await stackDeadLetterQueues(clients.sqs, stackName)) {
    const attributes = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const queueArn = attributes.Attributes?.QueueArn ?? '';
    let replayed = 0;
    const left: Array<{ messageId: string; reason: string }> = [];
    const seen = new Set<string>();
    for (;;) {
      const batch = await clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ['All'],
          // Long enough to replay a batch; a message that fails stays hidden until the run ends.
          VisibilityTimeout: 300,
          WaitTimeSeconds: 1,
        }),
      );
      const messages = (batch.Messages ?? []).filter((m) => !seen.has(m.MessageId ?? ''));
      if (messages.length === 0) break;
      for (const message of messages) {
        seen.add(message.MessageId ?? '');
        try {
          await replay(message, functionByDlq.get(queueArn), clients);
          await clients.sqs.send(
            new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
          );
          replayed++;
        } catch (error) {
          left.push({ messageId: message.MessageId ?? '?', reason: (error as Error).message });
        }
      }
    }
    reports.push({ queue: queueUrl.split('/').pop() ?? queueUrl, replayed, left });
  }
  return reports;
}

async function replay(message: Message, queueOwner: string | undefined, clients: RedriveClients) {
  const target = message.MessageAttributes?.TARGET_ARN?.StringValue ?? queueOwner;
  const body = message.Body ?? '{}';
  if (!target) throw new Error('no target: neither a TARGET_ARN attribute nor a function using this queue');
  if (target.includes(':states:')) {
    const event = JSON.parse(body) as { detail?: unknown };
    try {
      await clients.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: target,
          name: `redrive-${message.MessageId}`.slice(0, 80),
          input: JSON.stringify(event.detail ?? event),
        }),
      );
    } catch (error) {
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
    }
    return;
  }
  if (target.includes(':function:')) {
    const answer = await clients.lambda.send(
      new InvokeCommand({ FunctionName: target, InvocationType: 'Event', Payload: Buffer.from(body) }),
    );
    if (answer.StatusCode !== 202) throw new Error(`Lambda answered ${answer.StatusCode}`);
    return;
  }
  throw new Error(`unsupported target ${target}`);
}

/** Default SDK clients (credentials and region from the environment). */
export function defaultRedriveClients(): RedriveClients {
  return { sqs: new SQSClient({}), lambda: new LambdaClient({}), sfn: new SFNClient({}) };
}
