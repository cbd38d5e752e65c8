import type { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../contracts/table-design';
import { DependencyUnavailableError } from '../domain/errors';
import type { Activity } from '../domain/lead';
import type { OutboxEntry } from '../ports/outbox';
import { errorName, rethrowAsDomain } from './aws-errors';
import { LeadTable, StoredActivity } from './lead-table';
import { outboxItem } from './outbox-store';

/** Marks a tracked activity whose `Activity Recorded` event is not confirmed published yet. */
const UNPUBLISHED_ATTRIBUTE = 'unpublished';

/**
 * A lead's activity timeline and score history: activities recorded once each (conditional on
 * their key), with or without the lead's own transaction, and the marks that make a recorded
 * activity double as the outbox of its event.
 */
export class LeadActivities extends LeadTable {
  /**
   * Records activities. Each put is conditional on the activity id, so a redelivered event
   * (same activity id) is recorded once.
   * @returns the activities that were new.
   */
  async addActivities(activities: readonly Activity[]): Promise<Activity[]> {
    const added: Activity[] = [];
    for (const activity of activities) {
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: this.activityItem(activity),
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        added.push(activity);
      } catch (error) {
        if (errorName(error) === 'ConditionalCheckFailedException') continue;
        rethrowAsDomain('DynamoDB', error);
      }
    }
    return added;
  }

  /**
   * Records an activity of an existing lead in one transaction: a condition that the lead's
   * profile exists, a put conditional on the activity id, and the outbox entry announcing it.
   */
  async recordLeadActivity(
    activity: Activity,
    outbox?: OutboxEntry,
  ): Promise<'recorded' | 'repeated' | 'lead-missing'> {
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.tableName,
                Key: keys.lead(activity.leadId),
                ConditionExpression: 'attribute_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: this.activityItem(activity),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            ...(outbox ? [{ Put: { TableName: this.tableName, Item: outboxItem(outbox) } }] : []),
          ],
        }),
      );
      return 'recorded';
    } catch (error) {
      if (errorName(error) === 'TransactionCanceledException') {
        const [lead, put] = ((error as TransactionCanceledException).CancellationReasons ?? []).map(
          (r) => r.Code,
        );
        if (lead === 'ConditionalCheckFailed') return 'lead-missing';
        if (put === 'ConditionalCheckFailed') return 'repeated';
        if (lead !== 'TransactionConflict' && put !== 'TransactionConflict')
          return rethrowAsDomain('DynamoDB', error);
        throw new DependencyUnavailableError('DynamoDB', error);
      }
      return rethrowAsDomain('DynamoDB', error);
    }
  }

  /** The lead's activity timeline, oldest first. */
  async listActivities(leadId: string): Promise<Activity[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.leadPartition(leadId), ':prefix': keys.activityPrefix },
    });
    return items.map((item) => StoredActivity.parse(item));
  }

  /** One activity, or undefined. */
  async getActivity(leadId: string, at: string, activityId: string): Promise<Activity | undefined> {
    const out = await this.send(() =>
      this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: keys.activity(leadId, at, activityId),
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item ? StoredActivity.parse(out.Item) : undefined;
  }

  /**
   * Marks an activity's events as published (`data.announced = true`). The activity was written
   * with the change it records, so it doubles as an outbox: a retry that finds it unannounced
   * publishes again; one that finds it announced does nothing.
   */
  async markActivityAnnounced(leadId: string, at: string, activityId: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.activity(leadId, at, activityId),
          UpdateExpression: 'SET #data.#announced = :true',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#data': 'data', '#announced': 'announced' },
          ExpressionAttributeValues: { ':true': true },
        }),
      );
    } catch (error) {
      // Erased in the meantime: nothing left to mark.
      if (errorName(error) === 'ConditionalCheckFailedException') return;
      rethrowAsDomain('DynamoDB', error);
    }
  }

  /**
   * Records tracked behaviour activities once each, for the track function. Like
   * {@link addActivities} each put is conditional on the activity's key (the id is derived from
   * the event, so a retried POST maps to the same item), and in addition the item is marked
   * `unpublished` until {@link markActivitiesPublished} clears the mark. A retry after a failed
   * publish therefore finds the mark and publishes again, instead of losing the activity for
   * scoring; a retry after a complete request finds no mark and publishes nothing.
   * @returns the activities whose `Activity Recorded` must be published: new ones and earlier
   * ones whose publish never completed.
   */
  async recordTrackedActivities(activities: readonly Activity[]): Promise<Activity[]> {
    const toPublish: Activity[] = [];
    for (const activity of activities) {
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...this.activityItem(activity), [UNPUBLISHED_ATTRIBUTE]: true },
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        toPublish.push(activity);
      } catch (error) {
        if (errorName(error) !== 'ConditionalCheckFailedException') rethrowAsDomain('DynamoDB', error);
        // The document client does not unmarshall error payloads: the old item is raw AttributeValues.
        const old = (error as { Item?: Record<string, { BOOL?: boolean } | boolean> }).Item;
        const mark = old?.[UNPUBLISHED_ATTRIBUTE];
        if (mark === true || (typeof mark === 'object' && mark.BOOL === true)) toPublish.push(activity);
      }
    }
    return toPublish;
  }

  /** Clears the `unpublished` mark once `Activity Recorded` is on the bus (an erased activity is skipped). */
  async markActivitiesPublished(activities: readonly Activity[]): Promise<void> {
    for (const activity of activities) {
      try {
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.activity(activity.leadId, activity.at, activity.id),
            UpdateExpression: 'REMOVE #unpublished',
            // Never resurrect an activity deleted in between (erasure) as a bare key.
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: { '#unpublished': UNPUBLISHED_ATTRIBUTE },
          }),
        );
      } catch (error) {
        if (errorName(error) === 'ConditionalCheckFailedException') continue;
        rethrowAsDomain('DynamoDB', error);
      }
    }
  }

  /** Appends a score to the lead's score history. */
  async appendScoreHistory(leadId: string, at: string, score: unknown): Promise<void> {
    await this.send(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.scoreHistory(leadId, at), entity: 'score', leadId, at, score },
        }),
      ),
    );
  }
}
