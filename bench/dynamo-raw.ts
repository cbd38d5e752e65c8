import { Agent } from 'node:http';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';

/**
 * DynamoDB Local's raw speed on this machine: `concurrency` loops doing PutItem then GetItem of
 * a lead-sized item (about 1.5 KB) for `seconds`, with the SDK, against the same DynamoDB Local
 * the pipeline used (a scratch table, dropped afterwards). The pipeline's DynamoDB rate is read
 * as a share of this.
 */
export async function rawDynamoOpsPerSecond(
  endpoint: string,
  options: { concurrency: number; seconds: number },
): Promise<{
  opsPerSecond: number;
  operations: number;
  errors: number;
  concurrency: number;
  seconds: number;
}> {
  const concurrency = Math.max(1, Math.round(options.concurrency));
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: concurrency }) },
  });
  const table = `bench-raw-${Date.now().toString(36)}`;
  await client.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
    }),
  );
  const payload = 'x'.repeat(1400);
  let operations = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const key = { pk: { S: `LEAD#${worker}-${i}` }, sk: { S: 'PROFILE' } };
        try {
          await client.send(new PutItemCommand({ TableName: table, Item: { ...key, data: { S: payload } } }));
          operations += 1;
          await client.send(new GetItemCommand({ TableName: table, Key: key }));
          operations += 1;
        } catch {
          errors += 1;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await client.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
  client.destroy();
  return { opsPerSecond: operations / seconds, operations, errors, concurrency, seconds };
}
