import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { EVENT_IDEMPOTENCY_TTL_SECONDS } from '../config/retention';
import { keys, TTL_ATTRIBUTE } from '../contracts/table-design';
import type { AlertChannel, AlertLedger } from '../ports/alert-ledger';
import { errorName, rethrowAsDomain } from './aws-errors';
import { dynamoDocumentClient } from './clients';

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

  async claim(
    alertKey: string,
    leaseMs: number,
  ): Promise<{ readonly delivered: readonly AlertChannel[] } | undefined> {
    const now = this.now();
    try {
      // One write: taken when new, released, or abandoned (never completed, lease run out); the
      // old item (if any) says what went out before.
      const out = await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...this.key(alertKey),
            entity: 'alert',
            claimedAt: new Date(now).toISOString(),
            leaseUntil: now + leaseMs,
            [TTL_ATTRIBUTE]: Math.floor(now / 1000) + EVENT_IDEMPOTENCY_TTL_SECONDS,
          },
          ConditionExpression:
            'attribute_not_exists(pk) OR attribute_exists(releasedAt) OR (attribute_not_exists(completedAt) AND leaseUntil < :now)',
          ExpressionAttributeValues: { ':now': now },
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

  async complete(alertKey: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(alertKey),
          UpdateExpression: 'SET completedAt = :at',
          ExpressionAttributeValues: { ':at': new Date(this.now()).toISOString() },
        }),
      );
    } catch (error) {
      rethrowAsDomain('DynamoDB', error);
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
