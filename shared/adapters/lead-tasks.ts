import type { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../contracts/table-design';
import { DependencyUnavailableError, TaskNotFoundError } from '../domain/errors';
import type { Lead } from '../domain/lead';
import { type LeadNote, type LeadTask, LeadTaskSchema } from '../domain/lead-tasks';
import { errorName, rethrowAsDomain } from './aws-errors';
import { LeadTable, StoredLead, type TransactItem } from './lead-table';

/** A task as stored: under its lead, sorted by due time. */
function taskItem(task: LeadTask): Record<string, unknown> {
  return { ...keys.task(task.leadId, task.dueAt, task.id), entity: 'task', ...task };
}

/** A lead's tasks and notes, in the lead's partition. */
export class LeadTasks extends LeadTable {
  /** Stores a note unless one with its id and time exists. @returns whether it was new. */
  async putNote(note: LeadNote): Promise<boolean> {
    return this.putOnce({ ...keys.note(note.leadId, note.at, note.id), entity: 'note', ...note });
  }

  /** Stores a task unless one with its id and due time exists. @returns whether it was new. */
  async putTask(task: LeadTask): Promise<boolean> {
    return this.putOnce(taskItem(task));
  }

  /**
   * The lead and its tasks in one strongly consistent Query: the profile (`PROFILE`) sorts before
   * the tasks (`TASK#...`) in the lead's partition; the few items between them (score history,
   * send claims, stale-deal markers) are read and skipped.
   */
  async getLeadWithTasks(leadId: string): Promise<{ lead: Lead; tasks: LeadTask[] } | undefined> {
    const profile = keys.lead(leadId);
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': profile.pk,
        ':from': profile.sk,
        ':to': `${keys.taskPrefix}\uffff`,
      },
      ConsistentRead: true,
    });
    const leadItem = items.find((item) => item.sk === profile.sk);
    if (!leadItem) return undefined;
    const tasks = items.flatMap((item) => {
      if (!String(item.sk).startsWith(keys.taskPrefix)) return [];
      const task = LeadTaskSchema.safeParse(item);
      return task.success ? [task.data] : [];
    });
    return { lead: StoredLead.parse(leadItem), tasks };
  }

  /**
   * Creates (only if absent) and closes (only if still there) tasks of one lead in one
   * transaction, optionally guarded by the lead still being uncontacted and owned by the same
   * assignment. @returns false when a condition failed: re-read and plan again.
   */
  async writeTasks(
    plan: { readonly create: readonly LeadTask[]; readonly close: readonly LeadTask[] },
    guard?: { readonly leadId: string; readonly owner: string; readonly assignedAt: string },
  ): Promise<boolean> {
    const items: TransactItem[] = [
      ...(guard
        ? [
            {
              ConditionCheck: {
                TableName: this.tableName,
                Key: keys.lead(guard.leadId),
                ConditionExpression:
                  'attribute_not_exists(firstTouchAt) AND #owner = :owner AND assignedAt = :assignedAt',
                ExpressionAttributeNames: { '#owner': 'owner' },
                ExpressionAttributeValues: { ':owner': guard.owner, ':assignedAt': guard.assignedAt },
              },
            },
          ]
        : []),
      ...plan.create.map((task) => ({
        Put: {
          TableName: this.tableName,
          Item: taskItem(task),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      })),
      ...plan.close.map((task) => ({
        Put: { TableName: this.tableName, Item: taskItem(task), ConditionExpression: 'attribute_exists(pk)' },
      })),
    ];
    if (items.length === 0) return true;
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: items }));
      return true;
    } catch (error) {
      if (errorName(error) !== 'TransactionCanceledException') return rethrowAsDomain('DynamoDB', error);
      const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
      if (reasons.some((r) => r.Code === 'ConditionalCheckFailed')) return false;
      throw new DependencyUnavailableError('DynamoDB', error);
    }
  }

  /** The lead's tasks, by due time (one query on its partition). Unreadable items are skipped. */
  async listTasks(leadId: string): Promise<LeadTask[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.leadPartition(leadId), ':prefix': keys.taskPrefix },
    });
    return items.flatMap((item) => {
      const task = LeadTaskSchema.safeParse(item);
      return task.success ? [task.data] : [];
    });
  }

  /**
   * Saves a changed task (title, done) in place; its key (due time, id) never changes.
   * @throws TaskNotFoundError when the task was deleted (the lead erased) in the meantime.
   */
  async saveTask(task: LeadTask): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: taskItem(task),
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
    } catch (error) {
      if (errorName(error) === 'ConditionalCheckFailedException')
        throw new TaskNotFoundError(task.leadId, task.id);
      rethrowAsDomain('DynamoDB', error);
    }
  }
}
