import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { keys } from '../contracts/table-design';
import { DETAIL_TYPES, type DetailType, type PipelineEvent } from '../events/catalogue';
import type { Outbox, OutboxEntry } from '../ports/outbox';
import { logger } from '../runtime/observability';
import { rethrowAsDomain } from './aws-errors';
import { dynamoDocumentClient } from './clients';

/** The outbox item of an entry, for a change's transaction (see `LeadRepository`). */
export function outboxItem(entry: OutboxEntry): Record<string, unknown> {
  return {
    ...keys.outbox(entry.at, entry.id),
    entity: 'outbox',
    entryId: entry.id,
    at: entry.at,
    events: entry.events.map((e) => ({ detailType: e.detailType, detail: e.detail })),
  };
}

const StoredEntry = z.object({
  entryId: z.string().min(1),
  at: z.string().min(1),
  events: z.array(
    z.object({ detailType: z.enum(DETAIL_TYPES as [DetailType, ...DetailType[]]), detail: z.unknown() }),
  ),
});

/** {@link Outbox} in the single table: pk `OUTBOX`, sk `<at>#<entryId>`. */
export class DynamoOutbox implements Outbox {
  private readonly client: DynamoDBDocumentClient;

  constructor(
    private readonly tableName: string,
    client?: DynamoDBDocumentClient,
  ) {
    this.client = client ?? dynamoDocumentClient();
  }

  async clear(entry: Pick<OutboxEntry, 'id' | 'at'>): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({ TableName: this.tableName, Key: keys.outbox(entry.at, entry.id) }),
      );
    } catch (error) {
      rethrowAsDomain('DynamoDB', error);
    }
  }

  /** The entry, if it is still waiting to be published (strongly consistent). */
  async get(entry: Pick<OutboxEntry, 'id' | 'at'>): Promise<OutboxEntry | undefined> {
    let item: Record<string, unknown> | undefined;
    try {
      const out = await this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: keys.outbox(entry.at, entry.id),
          ConsistentRead: true,
        }),
      );
      item = out.Item;
    } catch (error) {
      rethrowAsDomain('DynamoDB', error);
    }
    return item ? toEntry(item) : undefined;
  }

  async listDue(before: string, limit: number): Promise<OutboxEntry[]> {
    try {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk <= :before',
          ExpressionAttributeValues: { ':pk': keys.outboxPartition, ':before': `${before}#~` },
          Limit: limit,
        }),
      );
      return (out.Items ?? []).map(toEntry).filter((e): e is OutboxEntry => e !== undefined);
    } catch (error) {
      rethrowAsDomain('DynamoDB', error);
    }
  }
}

/** A stored entry; one that does not parse is reported and left in place, never dropped. */
function toEntry(item: Record<string, unknown>): OutboxEntry | undefined {
  const stored = StoredEntry.safeParse(item);
  if (!stored.success) {
    logger.error('Outbox entry does not parse; left for an operator', { sk: item.sk, error: stored.error });
    return undefined;
  }
  return {
    id: stored.data.entryId,
    at: stored.data.at,
    events: stored.data.events.map(
      (e) => ({ detailType: e.detailType, detail: e.detail }) as PipelineEvent<DetailType>,
    ),
  };
}
