import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { EVENT_IDEMPOTENCY_TTL_SECONDS } from '../config/retention';
import type { AlertChannel, AlertLedger } from '../ports/alert-ledger';
import { errorName, rethrowAsDomain } from './aws-errors';
import { dynamoDocumentClient } from './clients';
import { keys, TTL_ATTRIBUTE } from './table-design';

/**
 * {@link AlertLedger} in the lead table: one item per alert under the `alert` function's own
 * partition (`IDEMPOTENCY#alert`, the only partition it may write), sk = the alert key, kept for
 * {@link EVENT_IDEMPOTENCY_TTL_SECONDS} (longer than retries and DLQ redrives).
 */
export class DynamoAlertLedger implements AlertLedger {
  private readonly client: DynamoDBDocumentClient;

  constructor(
    private readonly tableName: string,
    client?: DynamoDBDocumentClient,
    private readonly now: () => number = Date.now,
  ) {
    this.client = client ?? dynamoDocumentClient();
  }

  async claim(alertKey: string): Promise<{ readonly delivered: readonly AlertChannel[] } | undefined> {
    try {
      // One write: taken when new or released; the old item (if any) says what went out before.
      const out = await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...this.key(alertKey),
            entity: 'alert',
            claimedAt: new Date(this.now()).toISOString(),
            [TTL_ATTRIBUTE]: Math.floor(this.now() / 1000) + EVENT_IDEMPOTENCY_TTL_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(pk) OR attribute_exists(releasedAt)',
          ReturnValues: 'ALL_OLD',
        }),
      );
      const delivered = out.Attributes?.delivered;
      return { delivered: Array.isArray(delivered) ? (delivered as AlertChannel[]) : [] };
    } catch (error) {
      if (errorName(error) === 'ConditionalCheckFailedException') return undefined;
      return rethrowAsDomain('DynamoDB', error);
    }
  }

  async release(alertKey: string, delivered: readonly AlertChannel[]): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(alertKey),
          UpdateExpression: 'SET delivered = :delivered, releasedAt = :at',
          ExpressionAttributeValues: {
            ':delivered': [...delivered],
            ':at': new Date(this.now()).toISOString(),
          },
        }),
      );
    } catch (error) {
      rethrowAsDomain('DynamoDB', error);
    }
  }

  private key(alertKey: string) {
    return { pk: keys.idempotencyPartition('alert'), sk: alertKey };
  }
}
