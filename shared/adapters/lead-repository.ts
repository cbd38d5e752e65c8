import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import {
  DependencyUnavailableError,
  DuplicateLeadError,
  LeadChangedError,
  LeadNotFoundError,
  RepAtCapacityError,
  RoundRobinMovedError,
  StepAlreadySentError,
} from '../domain/errors';
import { type Activity, ActivitySchema, type Lead, LeadSchema, OPEN_STATUSES } from '../domain/lead';
import { errorName, rethrowAsDomain } from './aws-errors';
import { dynamoDocumentClient } from './clients';
import { INDEXES, type IndexName, indexKeys, keys, TTL_ATTRIBUTE } from './table-design';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** What each item of a transaction stands for, so a cancellation maps to the right domain error. */
type ItemMeaning =
  | { kind: 'lead'; leadId: string }
  | { kind: 'dedupe'; key: string }
  | { kind: 'external'; key: string }
  | { kind: 'counter'; repId: string }
  | { kind: 'cursor'; teamId: string }
  | { kind: 'send'; leadId: string; stepKey: string }
  | { kind: 'other' };

// Stored items carry key and index attributes next to the lead's own fields; parsing with a
// non-strict copy of the schema drops them.
const StoredLead = z.object(LeadSchema.shape);
const StoredActivity = z.object(ActivitySchema.shape);

/** A team's round-robin cursor as stored: an opaque routing value plus a write version. */
export interface StoredCursor {
  readonly value: unknown;
  readonly version: number;
}

/** A page of query results with an opaque continuation token. */
export interface Page<T> {
  readonly items: T[];
  readonly nextToken?: string;
}

/** Options for {@link LeadRepository.saveLead}. */
export interface SaveLeadOptions {
  /** Activities written in the same transaction. */
  readonly activities?: readonly Activity[];
  /**
   * When the owner changes to a rep, refuse the write if it would take that rep past this
   * capacity. Omit for the last-resort default owner, who takes leads even when full.
   */
  readonly capacity?: number;
  /** Advance a team's round-robin cursor in the same transaction (conditional on its version). */
  readonly cursor?: { readonly teamId: string; readonly value: unknown; readonly expectedVersion: number };
  /** Require the lead to have no owner at write time (first assignment). */
  readonly requireUnassigned?: boolean;
}

function encodeToken(key: Record<string, unknown> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key), 'utf8').toString('base64url') : undefined;
}

function decodeToken(token: string | undefined): Record<string, unknown> | undefined {
  if (!token) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new Error('Invalid pagination token');
}

function isOpen(lead: Pick<Lead, 'owner' | 'status'>): boolean {
  return lead.owner !== undefined && OPEN_STATUSES.includes(lead.status);
}

/**
 * Reads and writes leads, activities and the routing state in the single table described in
 * `table-design.ts`. Every multi-item change is one DynamoDB transaction, and SDK failures are
 * translated into domain errors (a failed condition on the lead becomes {@link LeadChangedError},
 * on a rep counter {@link RepAtCapacityError}, and so on).
 */
export class LeadRepository {
  private readonly client: DynamoDBDocumentClient;

  constructor(
    private readonly tableName: string,
    client?: DynamoDBDocumentClient,
  ) {
    this.client = client ?? dynamoDocumentClient();
  }

  // ---------------------------------------------------------------- leads

  /** The lead, or `undefined` when it does not exist. */
  async getLead(leadId: string): Promise<Lead | undefined> {
    const out = await this.send(() =>
      this.client.send(
        new GetCommand({ TableName: this.tableName, Key: keys.lead(leadId), ConsistentRead: true }),
      ),
    );
    return out.Item ? StoredLead.parse(out.Item) : undefined;
  }

  /** The lead, or {@link LeadNotFoundError}. */
  async requireLead(leadId: string): Promise<Lead> {
    const lead = await this.getLead(leadId);
    if (!lead) throw new LeadNotFoundError(leadId);
    return lead;
  }

  /** The id of the lead holding this dedupe key, if any. */
  async findLeadIdByDedupeKey(dedupeKey: string): Promise<string | undefined> {
    return this.pointer(keys.dedupe(dedupeKey));
  }

  /** The id of the lead created from this provider's record (e.g. a Meta leadgen_id), if any. */
  async findLeadIdByExternalId(provider: string, externalId: string): Promise<string | undefined> {
    return this.pointer(keys.external(provider, externalId));
  }

  /**
   * Creates a lead with its first activities, claiming its dedupe key (and provider id) in the
   * same transaction, so two concurrent submissions of one person can never make two leads.
   * @throws DuplicateLeadError when the dedupe key or provider id is already taken.
   */
  async createLead(
    lead: Lead,
    activities: readonly Activity[],
    externalId?: { provider: string; id: string },
  ) {
    const items: TransactItem[] = [];
    const meanings: ItemMeaning[] = [];
    items.push({
      Put: {
        TableName: this.tableName,
        Item: this.leadItem(lead),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    });
    meanings.push({ kind: 'lead', leadId: lead.id });
    items.push({
      Put: {
        TableName: this.tableName,
        Item: { ...keys.dedupe(lead.profile.dedupeKey), leadId: lead.id, entity: 'dedupe' },
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
    meanings.push({ kind: 'dedupe', key: lead.profile.dedupeKey });
    if (externalId) {
      const key = `${externalId.provider}:${externalId.id}`;
      items.push({
        Put: {
          TableName: this.tableName,
          Item: { ...keys.external(externalId.provider, externalId.id), leadId: lead.id, entity: 'external' },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      });
      meanings.push({ kind: 'external', key });
    }
    for (const activity of activities) {
      items.push({ Put: { TableName: this.tableName, Item: this.activityItem(activity) } });
      meanings.push({ kind: 'other' });
    }
    await this.transact(items, meanings);
  }

  /**
   * Replaces a lead after a read-modify-write, conditional on the version that was read, and
   * keeps the reps' open-lead counters in step with the owner and status change.
   * @returns the saved lead (version + 1).
   * @throws LeadChangedError when the lead changed since `previous` was read.
   * @throws RepAtCapacityError when `options.capacity` would be exceeded for a new owner.
   * @throws RoundRobinMovedError when `options.cursor` moved since it was read.
   */
  async saveLead(previous: Lead, next: Lead, options: SaveLeadOptions = {}): Promise<Lead> {
    const saved: Lead = { ...next, version: previous.version + 1 };
    const items: TransactItem[] = [];
    const meanings: ItemMeaning[] = [];
    const names: Record<string, string> = { '#version': 'version' };
    let condition = '#version = :version';
    if (options.requireUnassigned) {
      condition += ' AND attribute_not_exists(#owner)';
      names['#owner'] = 'owner';
    }
    items.push({
      Put: {
        TableName: this.tableName,
        Item: this.leadItem(saved),
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':version': previous.version },
      },
    });
    meanings.push({ kind: 'lead', leadId: previous.id });

    const wasOpen = isOpen(previous);
    const nowOpen = isOpen(saved);
    const ownerChanged = previous.owner !== saved.owner;
    if (wasOpen && previous.owner && (ownerChanged || !nowOpen)) {
      items.push(this.counterUpdate(previous.owner, -1));
      meanings.push({ kind: 'other' });
    }
    if (nowOpen && saved.owner && (ownerChanged || !wasOpen)) {
      items.push(this.counterUpdate(saved.owner, +1, options.capacity));
      meanings.push({ kind: 'counter', repId: saved.owner });
    }
    if (options.cursor) {
      const { teamId, value, expectedVersion } = options.cursor;
      items.push({
        Put: {
          TableName: this.tableName,
          Item: { ...keys.teamCursor(teamId), entity: 'cursor', value, version: expectedVersion + 1 },
          ConditionExpression: 'attribute_not_exists(pk) OR #version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':expected': expectedVersion },
        },
      });
      meanings.push({ kind: 'cursor', teamId });
    }
    for (const activity of options.activities ?? []) {
      items.push({ Put: { TableName: this.tableName, Item: this.activityItem(activity) } });
      meanings.push({ kind: 'other' });
    }
    await this.transact(items, meanings);
    return saved;
  }

  // ---------------------------------------------------------------- activities

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

  /** The lead's activity timeline, oldest first. */
  async listActivities(leadId: string): Promise<Activity[]> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.leadPartition(leadId), ':prefix': keys.activityPrefix },
    });
    return items.map((item) => StoredActivity.parse(item));
  }

  /** Every item in the lead's partition (profile, activities, score history, notes...), for export and erasure. */
  async listLeadPartition(leadId: string): Promise<Record<string, unknown>[]> {
    return this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.leadPartition(leadId) },
    });
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

  // ---------------------------------------------------------------- routing state

  /** Open-lead counters for the given reps (missing reps have 0). */
  async getOpenLeadCounts(repIds: readonly string[]): Promise<Map<string, number>> {
    const result = new Map<string, number>(repIds.map((id) => [id, 0]));
    const items = await this.batchGet(repIds.map((id) => keys.repCounters(id)));
    for (const item of items) {
      const repId = String(item.pk).slice('REP#'.length);
      result.set(repId, Number(item.openLeads ?? 0));
    }
    return result;
  }

  /** Round-robin cursors for the given teams (missing teams have none). */
  async getCursors(teamIds: readonly string[]): Promise<Map<string, StoredCursor>> {
    const result = new Map<string, StoredCursor>();
    const items = await this.batchGet(teamIds.map((id) => keys.teamCursor(id)));
    for (const item of items) {
      const teamId = String(item.pk).slice('TEAM#'.length);
      result.set(teamId, { value: item.value, version: Number(item.version ?? 0) });
    }
    return result;
  }

  // ---------------------------------------------------------------- nurture and suppression

  /**
   * Claims a nurture step for a lead before it is sent, so a step is never sent twice even when
   * the state machine retries.
   * @throws StepAlreadySentError when the step was already claimed.
   */
  async claimSend(leadId: string, sequenceId: string, stepId: string, at: string): Promise<void> {
    await this.transact(
      [
        {
          Put: {
            TableName: this.tableName,
            Item: {
              ...keys.send(leadId, sequenceId, stepId),
              entity: 'send',
              leadId,
              sequenceId,
              stepId,
              at,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ],
      [{ kind: 'send', leadId, stepKey: `${sequenceId}/${stepId}` }],
    );
  }

  /** Whether the hashed address is on the suppression list. */
  async isSuppressed(emailHash: string): Promise<boolean> {
    const out = await this.send(() =>
      this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.suppression(emailHash) })),
    );
    return out.Item !== undefined;
  }

  /** Puts a hashed address on the suppression list (idempotent). */
  async suppress(emailHash: string, reason: string, at: string): Promise<void> {
    await this.send(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.suppression(emailHash), entity: 'suppression', reason, at },
        }),
      ),
    );
  }

  // ---------------------------------------------------------------- anonymous visitors

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

  // ---------------------------------------------------------------- queries

  /** Leads by index, newest first, one page at a time. */
  async queryIndex(
    index: IndexName,
    partition: string,
    options: { sortPrefix?: string; from?: string; to?: string; limit?: number; nextToken?: string } = {},
  ): Promise<Page<Lead>> {
    const { partitionKey, sortKey } = INDEXES[index];
    const names: Record<string, string> = { '#pk': partitionKey };
    const values: Record<string, unknown> = { ':pk': partition };
    let condition = '#pk = :pk';
    if (options.sortPrefix !== undefined) {
      names['#sk'] = sortKey;
      values[':prefix'] = options.sortPrefix;
      condition += ' AND begins_with(#sk, :prefix)';
    } else if (options.from !== undefined || options.to !== undefined) {
      names['#sk'] = sortKey;
      values[':from'] = options.from ?? '';
      values[':to'] = options.to ?? '\uffff';
      condition += ' AND #sk BETWEEN :from AND :to';
    }
    const out = await this.send(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index,
          KeyConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          Limit: options.limit ?? 50,
          ExclusiveStartKey: decodeToken(options.nextToken),
        }),
      ),
    );
    const nextToken = encodeToken(out.LastEvaluatedKey);
    return {
      items: (out.Items ?? []).map((item) => StoredLead.parse(item)),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  /** Deletes every item in a list of keys (used by erasure), in transactions of up to 100. */
  async deleteItems(itemKeys: ReadonlyArray<{ pk: string; sk: string }>): Promise<void> {
    for (let i = 0; i < itemKeys.length; i += 100) {
      const chunk = itemKeys.slice(i, i + 100);
      await this.transact(
        chunk.map((key) => ({ Delete: { TableName: this.tableName, Key: key } })),
        chunk.map(() => ({ kind: 'other' as const })),
      );
    }
  }

  // ---------------------------------------------------------------- internals

  private leadItem(lead: Lead): Record<string, unknown> {
    const stageAt = lead.pipelineStageAt ?? lead.updatedAt;
    return {
      ...lead,
      ...keys.lead(lead.id),
      entity: 'lead',
      ...(lead.owner ? indexKeys.byOwner(lead.owner, lead.status, lead.createdAt, lead.id) : {}),
      ...(lead.team ? indexKeys.byTeam(lead.team, lead.createdAt, lead.id) : {}),
      ...indexKeys.byStage(lead.pipelineStage ?? lead.stage, stageAt, lead.id),
      ...indexKeys.byDay(lead.createdAt, lead.id),
    };
  }

  private activityItem(activity: Activity): Record<string, unknown> {
    return { ...activity, ...keys.activity(activity.leadId, activity.at, activity.id), entity: 'activity' };
  }

  private counterUpdate(repId: string, delta: 1 | -1, capacity?: number): TransactItem {
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

  private async pointer(key: { pk: string; sk: string }): Promise<string | undefined> {
    const out = await this.send(() =>
      this.client.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })),
    );
    return typeof out.Item?.leadId === 'string' ? out.Item.leadId : undefined;
  }

  private async batchGet(
    itemKeys: ReadonlyArray<{ pk: string; sk: string }>,
  ): Promise<Record<string, unknown>[]> {
    const results: Record<string, unknown>[] = [];
    for (let i = 0; i < itemKeys.length; i += 100) {
      let pending: Array<Record<string, unknown>> = itemKeys.slice(i, i + 100).map((k) => ({ ...k }));
      for (let attempt = 0; pending.length > 0 && attempt < 5; attempt++) {
        const out = await this.send(() =>
          this.client.send(
            new BatchGetCommand({
              RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } },
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

  private async queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
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

  private async transact(items: TransactItem[], meanings: ItemMeaning[]): Promise<void> {
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
            case 'other':
              return;
          }
        });
      }
      rethrowAsDomain('DynamoDB', error);
    }
  }

  private async send<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      return rethrowAsDomain('DynamoDB', error);
    }
  }
}
