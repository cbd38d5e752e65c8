import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { keys, TTL_ATTRIBUTE } from '../contracts/table-design';
import type { Activity } from '../domain/lead';
import { LeadTable, StoredActivity } from './lead-table';

/** Events of anonymous visitors, kept (with a TTL) until the visitor becomes a lead. */
export class VisitorEvents extends LeadTable {
  /** Stores an event of a not-yet-identified visitor; it expires unless the visitor converts. */
  async putVisitorEvent(visitorId: string, activity: Omit<Activity, 'leadId'>, expiresAtEpoch: number) {
    await this.send(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.visitorEvent(visitorId, activity.at, activity.id),
            entity: 'visitorEvent',
            visitorId,
            ...activity,
            [TTL_ATTRIBUTE]: expiresAtEpoch,
          },
        }),
      ),
    );
  }

  /** Events recorded for an anonymous visitor, oldest first. */
  async listVisitorEvents(visitorId: string): Promise<Array<Omit<Activity, 'leadId'>>> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `VISITOR#${visitorId}` },
    });
    return items.map((item) => StoredActivity.omit({ leadId: true }).parse(item));
  }
}
