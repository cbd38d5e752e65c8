import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { keys, TTL_ATTRIBUTE } from '../contracts/table-design';
import { errorName, rethrowAsDomain } from './aws-errors';
import { dynamoDocumentClient } from './clients';

/**
 * Remembers the signed Slack requests already served, so one captured and replayed within the
 * five-minute timestamp tolerance is refused: a conditional put keyed by the signature's hash,
 * removed by DynamoDB TTL once the tolerance has passed.
 */
export class SlackRequestLog {
  private readonly client: DynamoDBDocumentClient;

  constructor(
    private readonly tableName: string,
    client?: DynamoDBDocumentClient,
  ) {
    this.client = client ?? dynamoDocumentClient();
  }

  /** @returns true the first time a signature is seen, false for a replay. */
  async claim(signature: string, expiresAtEpoch: number): Promise<boolean> {
    const hash = createHash('sha256').update(signature).digest('hex');
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.slackRequest(hash), entity: 'slackRequest', [TTL_ATTRIBUTE]: expiresAtEpoch },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (errorName(error) === 'ConditionalCheckFailedException') return false;
      return rethrowAsDomain('DynamoDB', error);
    }
  }
}
