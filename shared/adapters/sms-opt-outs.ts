import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../contracts/table-design';
import type { SmsOptOutStore } from '../services/sms';
import { rethrowAsDomain } from './aws-errors';
import { dynamoDocumentClient } from './clients';

/**
 * The SMS opt-out list in the leads table: one item per number that replied STOP, keyed by the
 * number's hash (`keys.smsOptOut`). Kept apart from the email suppression list: an SMS opt-out
 * says nothing about email, and the reverse.
 */
export class DynamoSmsOptOuts implements SmsOptOutStore {
  constructor(
    private readonly tableName: string,
    private readonly client = dynamoDocumentClient(),
  ) {}

  async isOptedOut(phoneHash: string): Promise<boolean> {
    try {
      const out = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: keys.smsOptOut(phoneHash), ConsistentRead: true }),
      );
      return out.Item !== undefined && out.Item.optedOut === true;
    } catch (error) {
      return rethrowAsDomain('DynamoDB', error);
    }
  }

  async record(phoneHash: string, optedOut: boolean, at: string, keyword: string): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.smsOptOut(phoneHash),
            entity: 'smsOptOut',
            optedOut,
            at,
            keyword: keyword.slice(0, 40),
          },
          // The newest statement wins; an older one arriving late changes nothing.
          ConditionExpression: 'attribute_not_exists(pk) OR #at <= :at',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':at': at },
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return;
      rethrowAsDomain('DynamoDB', error);
    }
  }
}
