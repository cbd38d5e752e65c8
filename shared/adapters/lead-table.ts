import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { keys } from '../contracts/table-design';
import {
  DependencyUnavailableError,
  DuplicateLeadError,
  LeadChangedError,
  RepAtCapacityError,
  RequestAlreadyTakenError,
  RoundRobinMovedError,
  StepAlreadySentError,
} from '../domain/errors';
import { type Activity, ActivitySchema, type Lead, LeadSchema, OPEN_STATUSES } from '../domain/lead';
import { errorName, rethrowAsDomain } from './aws-errors';
import { dynamoDocumentClient } from './clients';

/** One item of a `TransactWriteItems` request. */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** What each item of a transaction stands for, so a cancellation maps to the right domain error. */
export type ItemMeaning =
  | { kind: 'lead'; leadId: string }
  | { kind: 'dedupe'; key: string }
  | { kind: 'external'; key: string }
  | { kind: 'counter'; repId: string }
  | { kind: 'cursor'; teamId: string }
  | { kind: 'send'; leadId: string; stepKey: string }
  | { kind: 'request'; key: string }
  | { kind: 'other' };

// Stored items carry key and index attributes next to the lead's own fields; parsing with a
// non-strict copy of the schema drops them.
export const StoredLead = z.object(LeadSchema.shape);
export const StoredActivity = z.object(ActivitySchema.shape);

/** Whether the lead counts against its owner's open-lead capacity. */
export function isOpen(lead: Pick<Lead, 'owner' | 'status'>): boolean {
  return lead.owner !== undefined && OPEN_STATUSES.includes(lead.status);
}

/**
 * The table core every aggregate of the lead table builds on: the document client, the table
 * name, paged reads, transactions and the translation of SDK failures into domain errors (a
 * failed condition on the lead becomes {@link LeadChangedError}, on a rep counter
 * {@link RepAtCapacityError}, and so on). The key layout is in `table-design.ts`.
 */
export abstract class LeadTable {
  protected readonly client: DynamoDBDocumentClient;

  constructor(
    protected readonly tableName: string,
    client?: DynamoDBDocumentClient,
  ) {
    this.client = client ?? dynamoDocumentClient();
  }

  protected activityItem(activity: Activity): Record<string, unknown> {
    return { ...activity, ...keys.activity(activity.leadId, activity.at, activity.id), entity: 'activity' };
  }

  protected counterUpdate(repId: string, delta: 1 | -1, capacity?: number): TransactItem {
    const base = {
      TableName: this.tableName,
      Key: keys.repCounters(repId),
      UpdateExpression: 'ADD openLeads :delta SET entity = :entity',
      ExpressionAttributeValues: { ':delta': delta, ':entity': 'counters' } as Record<string, unknown>,
    };
    if (delta > 0 && capacity !== undefined) {
      base.ExpressionAttributeValues[':capacity'] = capacity;
      return {
        Update: {
          ...base,
          ConditionExpression:
            '(attribute_not_exists(openLeads) AND :capacity > :zero) OR openLeads < :capacity',
          ExpressionAttributeValues: { ...base.ExpressionAttributeValues, ':zero': 0 },
        },
      };
    }
    return { Update: base };
  }

  protected async putOnce(item: Record<string, unknown>): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (errorName(error) === 'ConditionalCheckFailedException') return false;
      return rethrowAsDomain('DynamoDB', error);
    }
  }

  protected async batchGet(
    itemKeys: ReadonlyArray<{ pk: string; sk: string }>,
    options: { consistent?: boolean } = {},
  ): Promise<Record<string, unknown>[]> {
    const results: Record<string, unknown>[] = [];
    for (let i = 0; i < itemKeys.length; i += 100) {
      let pending: Array<Record<string, unknown>> = itemKeys.slice(i, i + 100).map((k) => ({ ...k }));
      for (let attempt = 0; pending.length > 0 && attempt < 5; attempt++) {
        const out = await this.send(() =>
          this.client.send(
            new BatchGetCommand({
              RequestItems: {
                [this.tableName]: { Keys: pending, ConsistentRead: options.consistent ?? true },
              },
            }),
          ),
        );
        results.push(...(out.Responses?.[this.tableName] ?? []));
        pending = out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
      if (pending.length > 0)
        rethrowAsDomain(
          'DynamoDB',
          Object.assign(new Error('unprocessed keys'), { name: 'ThrottlingException' }),
        );
    }
    return results;
  }

  protected async queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.send(() =>
        this.client.send(new QueryCommand({ ...input, ExclusiveStartKey: start })),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  protected async transact(items: TransactItem[], meanings: ItemMeaning[]): Promise<void> {
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      if (
        error instanceof TransactionCanceledException ||
        errorName(error) === 'TransactionCanceledException'
      ) {
        const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
        // A conflict with another in-flight transaction or throttling is transient: retry later.
        if (
          reasons.some(
            (r) =>
              r.Code === 'TransactionConflict' ||
              r.Code === 'ThrottlingError' ||
              r.Code === 'ProvisionedThroughputExceeded',
          )
        ) {
          throw new DependencyUnavailableError('DynamoDB', error);
        }
        // A replayed request explains every other failed condition (its own earlier write).
        reasons.forEach((reason, index) => {
          const meaning = meanings[index];
          if (reason.Code === 'ConditionalCheckFailed' && meaning?.kind === 'request')
            throw new RequestAlreadyTakenError(meaning.key);
        });
        reasons.forEach((reason, index) => {
          if (reason.Code !== 'ConditionalCheckFailed') return;
          const meaning = meanings[index];
          if (!meaning) return;
          switch (meaning.kind) {
            case 'lead':
              throw new LeadChangedError(meaning.leadId);
            case 'dedupe':
            case 'external': {
              const existing = reason.Item?.leadId;
              throw new DuplicateLeadError(
                existing && 'S' in existing && typeof existing.S === 'string' ? existing.S : undefined,
                meaning.key,
              );
            }
            case 'counter':
              throw new RepAtCapacityError(meaning.repId);
            case 'cursor':
              throw new RoundRobinMovedError(meaning.teamId);
            case 'send':
              throw new StepAlreadySentError(meaning.leadId, meaning.stepKey);
            case 'request':
              throw new RequestAlreadyTakenError(meaning.key);
            case 'other':
              return;
          }
        });
      }
      rethrowAsDomain('DynamoDB', error);
    }
  }

  protected async send<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      return rethrowAsDomain('DynamoDB', error);
    }
  }
}

/** An aggregate of the lead table, built like the table core. */
export type LeadTableAggregate = new (tableName: string, client?: DynamoDBDocumentClient) => LeadTable;

/** The intersection of a union of types (`A | B` → `A & B`). */
type AllOf<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/**
 * One class with the methods of several aggregates over the same table core, for callers that use
 * more than one of them: each method is defined once, in its aggregate, and copied onto the
 * composed prototype (there is no delegation layer to keep in step). Two aggregates defining the
 * same member name is a programming error, refused when the module loads.
 */
export function composeAggregates<const A extends readonly LeadTableAggregate[]>(
  aggregates: A,
): new (
  tableName: string,
  client?: DynamoDBDocumentClient,
) => AllOf<InstanceType<A[number]>> {
  class Composed extends LeadTable {}
  for (const aggregate of aggregates) {
    for (const name of Object.getOwnPropertyNames(aggregate.prototype)) {
      if (name === 'constructor') continue;
      if (Object.hasOwn(Composed.prototype, name))
        throw new Error(`${aggregate.name}.${name} is already defined by another aggregate`);
      const descriptor = Object.getOwnPropertyDescriptor(aggregate.prototype, name);
      if (descriptor) Object.defineProperty(Composed.prototype, name, descriptor);
    }
  }
  return Composed as unknown as new (
    tableName: string,
    client?: DynamoDBDocumentClient,
  ) => AllOf<InstanceType<A[number]>>;
}
