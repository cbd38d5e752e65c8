import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, ScanCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TTL_ATTRIBUTE } from '../contracts/table-design';
import type { OutboxEntry } from '../ports/outbox';
import type { ErasureRecord, ErasureResult, ErasureStore } from '../services/erasure';
import { rethrowAsDomain } from './aws-errors';
import { dynamoDocumentClient } from './clients';
import { outboxItem } from './outbox-store';

/** Key of an erasure job's item: pk `ERASURE#<id>`, sk `ERASURE` (expires after the audit period). */
export const erasureKey = (id: string) => ({ pk: `ERASURE#${id}`, sk: 'ERASURE' });

/** Items per Scan page: small pages keep each request short and the job's memory flat. */
const SCAN_PAGE = 500;

/** Erasure jobs in the lead table, and the full-table read the job searches with. */
export class DynamoErasureStore implements ErasureStore {
  private readonly client: DynamoDBDocumentClient;

  constructor(
    private readonly tableName: string,
    client?: DynamoDBDocumentClient,
  ) {
    this.client = client ?? dynamoDocumentClient();
  }

  async createErasure(record: ErasureRecord, expiresAtEpoch: number, outbox: OutboxEntry): Promise<void> {
    await this.send(() =>
      this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...erasureKey(record.id),
                  entity: 'erasure',
                  ...record,
                  [TTL_ATTRIBUTE]: expiresAtEpoch,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            { Put: { TableName: this.tableName, Item: outboxItem(outbox) } },
          ],
        }),
      ),
    );
  }

  async getErasure(id: string): Promise<ErasureRecord | undefined> {
    const out = await this.send(() =>
      this.client.send(
        new GetCommand({ TableName: this.tableName, Key: erasureKey(id), ConsistentRead: true }),
      ),
    );
    if (!out.Item) return undefined;
    const { pk: _pk, sk: _sk, entity: _entity, [TTL_ATTRIBUTE]: _ttl, ...record } = out.Item;
    return record as ErasureRecord;
  }

  async completeErasure(id: string, completedAt: string, result: ErasureResult): Promise<void> {
    await this.send(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: erasureKey(id),
          UpdateExpression: 'SET #status = :done, completedAt = :at, #result = :result REMOVE email',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#status': 'status', '#result': 'result' },
          ExpressionAttributeValues: { ':done': 'completed', ':at': completedAt, ':result': result },
        }),
      ),
    );
  }

  async scanTable(
    visit: (items: readonly Record<string, unknown>[]) => Promise<void> | void,
  ): Promise<number> {
    let start: Record<string, unknown> | undefined;
    let read = 0;
    do {
      const out = await this.send(() =>
        this.client.send(
          new ScanCommand({
            TableName: this.tableName,
            // Strongly consistent: an item written just before the job started is seen.
            ConsistentRead: true,
            Limit: SCAN_PAGE,
            ExclusiveStartKey: start,
          }),
        ),
      );
      const items = out.Items ?? [];
      read += items.length;
      await visit(items);
      start = out.LastEvaluatedKey;
    } while (start);
    return read;
  }

  private async send<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      return rethrowAsDomain('DynamoDB', error);
    }
  }
}
