import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import {
  DependencyUnavailableError,
  DuplicateLeadError,
  InvalidInputError,
  LeadChangedError,
  LeadNotFoundError,
  RepAtCapacityError,
  RoundRobinMovedError,
  StepAlreadySentError,
  TaskNotFoundError,
} from '../domain/errors';
import {
  type Activity,
  ActivitySchema,
  type Lead,
  LeadSchema,
  leadMatches,
  OPEN_STATUSES,
  stillInScope,
} from '../domain/lead';
import { type LeadNote, type LeadTask, LeadTaskSchema } from '../domain/lead-tasks';
import type { HeldLeadEntry, LeadQuery, SaveLeadOptions, StoredCursor } from '../ports/lead-store';
import type { OutboxEntry } from '../ports/outbox';
import type { Page } from '../ports/page';
import type { SendClaimExtra } from '../services/lead-email';
import { errorName, rethrowAsDomain } from './aws-errors';
import { dynamoDocumentClient } from './clients';
import { DynamoOutbox, outboxItem } from './outbox-store';
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

const HeldLeadEntrySchema = z.object({ leadId: z.string().min(1), until: z.iso.datetime() });

/** Marks a tracked activity whose `Activity Recorded` event is not confirmed published yet. */
const UNPUBLISHED_ATTRIBUTE = 'unpublished';

/** A send claim as stored: under its lead, one per sequence step (see `claimSend`). */
function sendClaimItem(
  leadId: string,
  sequenceId: string,
  stepId: string,
  at: string,
  extra?: SendClaimExtra,
): Record<string, unknown> {
  return {
    ...keys.send(leadId, sequenceId, stepId),
    entity: 'send',
    leadId,
    sequenceId,
    stepId,
    at,
    ...extra,
  };
}

/** A task as stored: under its lead, sorted by due time. */
function taskItem(task: LeadTask): Record<string, unknown> {
  return { ...keys.task(task.leadId, task.dueAt, task.id), entity: 'task', ...task };
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

  /**
   * Records that a provider's record (e.g. a webhook lead merged into an existing person) belongs
   * to a lead, so a redelivery of it is recognised. Idempotent: an existing claim is kept.
   */
  async claimExternalId(provider: string, externalId: string, leadId: string): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.external(provider, externalId), leadId, entity: 'external' },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (errorName(error) === 'ConditionalCheckFailedException') return;
      rethrowAsDomain('DynamoDB', error);
    }
  }

  /** The id of the lead created from this provider's record (e.g. a Meta leadgen_id), if any. */
  async findLeadIdByExternalId(provider: string, externalId: string): Promise<string | undefined> {
    return this.pointer(keys.external(provider, externalId));
  }

  /**
   * Creates a lead with its first activities, claiming its dedupe key (and provider id) and
   * storing the events to announce it (`outbox`) in the same transaction, so two concurrent submissions of one person can never make two leads.
   * @throws DuplicateLeadError when the dedupe key or provider id is already taken.
   */
  async createLead(
    lead: Lead,
    activities: readonly Activity[],
    externalId?: { provider: string; id: string },
    outbox?: OutboxEntry,
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
    if (outbox) {
      items.push({ Put: { TableName: this.tableName, Item: outboxItem(outbox) } });
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
    if (options.outbox) {
      items.push({ Put: { TableName: this.tableName, Item: outboxItem(options.outbox) } });
      meanings.push({ kind: 'other' });
    }
    if (options.scoreHistory) {
      const { at, score } = options.scoreHistory;
      items.push({
        Put: {
          TableName: this.tableName,
          Item: { ...keys.scoreHistory(previous.id, at), entity: 'score', leadId: previous.id, at, score },
        },
      });
      meanings.push({ kind: 'other' });
    }
    await this.transact(items, meanings);
    return saved;
  }

  /**
   * The lead and its activity timeline in one strongly consistent Query: the profile item
   * (`PROFILE`) sorts after the activities (`ACT#...`) in the lead's partition, so one key range
   * holds both (and the lead's notes, which sort between them and are skipped).
   */
  async getLeadWithActivities(leadId: string): Promise<{ lead: Lead; activities: Activity[] } | undefined> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': keys.leadPartition(leadId),
        ':from': keys.activityPrefix,
        ':to': keys.lead(leadId).sk,
      },
      ConsistentRead: true,
    });
    const profile = items.find((item) => item.sk === keys.lead(leadId).sk);
    if (!profile) return undefined;
    const activities = items
      .filter((item) => String(item.sk).startsWith(keys.activityPrefix))
      .map((item) => StoredActivity.parse(item));
    return { lead: StoredLead.parse(profile), activities };
  }

  /** Clears an outbox entry whose events are on the bus (see `ports/outbox.ts`). */
  async clearOutbox(entry: Pick<OutboxEntry, 'id' | 'at'>): Promise<void> {
    await new DynamoOutbox(this.tableName, this.client).clear(entry);
  }

  /** An outbox entry still waiting to be published, if any. */
  async getOutboxEntry(entry: Pick<OutboxEntry, 'id' | 'at'>): Promise<OutboxEntry | undefined> {
    return new DynamoOutbox(this.tableName, this.client).get(entry);
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

  /**
   * What routing reads, in one strongly consistent BatchGetItem: the lead, the reps' open-lead
   * counters (missing reps have 0) and the teams' round-robin cursors (missing teams have none).
   */
  async getRoutingState(
    leadId: string,
    repIds: readonly string[],
    teamIds: readonly string[],
  ): Promise<{ lead: Lead | undefined; counts: Map<string, number>; cursors: Map<string, StoredCursor> }> {
    const leadKey = keys.lead(leadId);
    const items = await this.batchGet([
      leadKey,
      ...repIds.map((id) => keys.repCounters(id)),
      ...teamIds.map((id) => keys.teamCursor(id)),
    ]);
    const counts = new Map<string, number>(repIds.map((id) => [id, 0]));
    const cursors = new Map<string, StoredCursor>();
    let lead: Lead | undefined;
    for (const item of items) {
      const pk = String(item.pk);
      if (pk === leadKey.pk && item.sk === leadKey.sk) lead = StoredLead.parse(item);
      else if (pk.startsWith('REP#')) counts.set(pk.slice('REP#'.length), Number(item.openLeads ?? 0));
      else if (pk.startsWith('TEAM#'))
        cursors.set(pk.slice('TEAM#'.length), { value: item.value, version: Number(item.version ?? 0) });
    }
    return { lead, counts, cursors };
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
  async claimSend(
    leadId: string,
    sequenceId: string,
    stepId: string,
    at: string,
    extra?: SendClaimExtra,
  ): Promise<void> {
    await this.transact(
      [
        {
          Put: {
            TableName: this.tableName,
            Item: sendClaimItem(leadId, sequenceId, stepId, at, extra),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ],
      [{ kind: 'send', leadId, stepKey: `${sequenceId}/${stepId}` }],
    );
  }

  /**
   * The auto-response's three checks in one transaction: the address is not suppressed, the
   * address was not auto-answered today for another lead (the day's claim is taken), and the
   * lead's send is new (the send claim is taken). @returns `claimed`, or the first reason not to send.
   */
  async claimAutoResponse(claim: {
    readonly leadId: string;
    readonly sequenceId: string;
    readonly stepId: string;
    readonly at: string;
    readonly suppressionHash: string;
    readonly addressHash: string;
    readonly day: string;
    readonly expiresAt: number;
  }): Promise<'claimed' | 'already-sent' | 'suppressed' | 'address-mailed-today'> {
    const { leadId } = claim;
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: sendClaimItem(leadId, claim.sequenceId, claim.stepId, claim.at),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              ConditionCheck: {
                TableName: this.tableName,
                Key: keys.suppression(claim.suppressionHash),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...keys.autoResponseDay(claim.addressHash, claim.day),
                  entity: 'autoResponseDay',
                  leadId,
                  [TTL_ATTRIBUTE]: claim.expiresAt,
                },
                ConditionExpression: 'attribute_not_exists(pk) OR leadId = :leadId',
                ExpressionAttributeValues: { ':leadId': leadId },
              },
            },
          ],
        }),
      );
      return 'claimed';
    } catch (error) {
      if (errorName(error) !== 'TransactionCanceledException') return rethrowAsDomain('DynamoDB', error);
      const [send, suppression, day] = (
        (error as TransactionCanceledException).CancellationReasons ?? []
      ).map((r) => r.Code === 'ConditionalCheckFailed');
      if (send) return 'already-sent';
      if (suppression) return 'suppressed';
      if (day) return 'address-mailed-today';
      throw new DependencyUnavailableError('DynamoDB', error);
    }
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

  // ---------------------------------------------------------------- nurture, auto-respond: email sends

  /**
   * Completes a claim made with {@link claimSend} once the send's outcome is known: `sent` with
   * the SES message id, or `unconfirmed` when the request failed without an answer (SES may or
   * may not have accepted it). Either way the claim stays, so the step is never sent again.
   * A claim erased in between (lead erasure) is not recreated.
   */
  async recordSendResult(
    leadId: string,
    sequenceId: string,
    stepId: string,
    result:
      | { status: 'sent'; messageId: string; at: string }
      | { status: 'unconfirmed'; error: string; at: string },
  ): Promise<void> {
    const values: Record<string, unknown> = { ':status': result.status, ':at': result.at };
    let update = 'SET #status = :status, #resultAt = :at';
    if (result.status === 'sent') {
      update += ', #messageId = :messageId';
      values[':messageId'] = result.messageId;
    } else {
      update += ', #error = :error';
      values[':error'] = result.error.slice(0, 500);
    }
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.send(leadId, sequenceId, stepId),
          UpdateExpression: update,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: {
            '#status': 'status',
            '#resultAt': 'resultAt',
            ...(result.status === 'sent' ? { '#messageId': 'messageId' } : { '#error': 'error' }),
          },
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (errorName(error) === 'ConditionalCheckFailedException') return;
      rethrowAsDomain('DynamoDB', error);
    }
  }

  /**
   * Releases a claim whose send SES refused outright (throttled, paused, rejected), so a retry
   * may claim and send the step again. Conditional on no message id being recorded: a send that
   * went out is never released.
   */
  async releaseSendClaim(leadId: string, sequenceId: string, stepId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keys.send(leadId, sequenceId, stepId),
          ConditionExpression: 'attribute_not_exists(#messageId)',
          ExpressionAttributeNames: { '#messageId': 'messageId' },
        }),
      );
    } catch (error) {
      if (errorName(error) === 'ConditionalCheckFailedException') return;
      rethrowAsDomain('DynamoDB', error);
    }
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

  // ---------------------------------------------------------------- track: behaviour activities

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

  // ---------------------------------------------------------------- queries

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

  // ---------------------------------------------------------------- route: held leads

  /**
   * Queues a held lead to be routed again at `until` (ISO time). Idempotent: one entry per lead
   * and time. The route function writes it BEFORE saving the lead as held, so every held lead
   * has an entry; an entry whose lead is no longer held by then is dropped by the sweep.
   */
  async queueHeldLead(leadId: string, until: string): Promise<void> {
    await this.send(() =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.heldLead(until, leadId), entity: 'held', leadId, until },
        }),
      ),
    );
  }

  /** Held-lead entries due at or before `now` (ISO time), earliest first, at most `limit`. */
  async listHeldLeadsDue(now: string, limit = 100): Promise<HeldLeadEntry[]> {
    const out = await this.send(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk <= :upper',
          // Sort keys are `<until>#<leadId>`: everything up to `<now>#` plus any lead id is due.
          ExpressionAttributeValues: { ':pk': keys.heldPartition, ':upper': `${now}#\uffff` },
          ScanIndexForward: true,
          Limit: limit,
        }),
      ),
    );
    return (out.Items ?? []).map((item) => HeldLeadEntrySchema.parse(item));
  }

  /** Removes a held-lead entry (idempotent). */
  async removeHeldLead(leadId: string, until: string): Promise<void> {
    await this.send(() =>
      this.client.send(new DeleteCommand({ TableName: this.tableName, Key: keys.heldLead(until, leadId) })),
    );
  }

  // ---------------------------------------------------------------- leads-api, reports-api, stale-deals

  /**
   * One page of an owner's or a team's leads, newest first within the index order. The indexes
   * hold keys only (see `table-design.ts`), so each index read is followed by one BatchGet of the
   * leads, and the filters are applied to those current leads. A page may hold fewer than
   * `limit` leads while more exist: the end of the list is a page without `nextToken`. The token
   * is opaque and bound to the owner or team it was issued for.
   * @throws InvalidInputError naming `nextToken` when the token is malformed or from another list.
   */
  async findLeads(query: LeadQuery): Promise<Page<Lead>> {
    const { scope, filter } = query;
    const index: IndexName = scope.kind === 'owner' ? 'byOwner' : 'byTeam';
    const partition = scope.kind === 'owner' ? `OWNER#${scope.repId}` : `TEAM#${scope.teamId}`;
    const { partitionKey, sortKey } = INDEXES[index];
    const names: Record<string, string> = { '#ipk': partitionKey, '#isk': sortKey };
    const values: Record<string, unknown> = { ':ipk': partition };
    const createdFrom = filter.createdFrom ?? '';
    const createdTo = filter.createdTo ?? '\uffff';
    let keyCondition = '#ipk = :ipk';
    if (scope.kind === 'owner' && filter.status !== undefined) {
      // byOwner sorts by `<status>#<createdAt>#<id>`: status and dates are both key conditions.
      keyCondition += ' AND #isk BETWEEN :skFrom AND :skTo';
      values[':skFrom'] = `${filter.status}#${createdFrom}`;
      values[':skTo'] = `${filter.status}#${createdTo}\uffff`;
    } else if (
      scope.kind === 'team' &&
      (filter.createdFrom !== undefined || filter.createdTo !== undefined)
    ) {
      keyCondition += ' AND #isk BETWEEN :skFrom AND :skTo';
      values[':skFrom'] = createdFrom;
      values[':skTo'] = `${createdTo}\uffff`;
    } else {
      delete names['#isk'];
    }

    const keyAttributes = ['pk', 'sk', partitionKey, sortKey];
    let startKey = decodeListToken(query.nextToken, partition);
    const found: Lead[] = [];
    for (let read = 0; read < LIST_MAX_READS; read++) {
      const out = await this.send(() =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: index,
            KeyConditionExpression: keyCondition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ScanIndexForward: false,
            Limit: Math.max(query.limit, LIST_READ_SIZE),
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      const entries = out.Items ?? [];
      const leads = await this.leadsAt(entries);
      for (const [i, entry] of entries.entries()) {
        const lead = leads[i];
        // The index may lag a reassignment: only leads that are the owner's or team's now count.
        if (!lead || !stillInScope(lead, scope) || !leadMatches(lead, filter)) continue;
        found.push(lead);
        if (found.length === query.limit) {
          // Full page: continue after this entry (also when it was the read's last one, since
          // DynamoDB's LastEvaluatedKey may point further than the entry we stopped at).
          const more = i < entries.length - 1 || out.LastEvaluatedKey !== undefined;
          const last = Object.fromEntries(keyAttributes.map((k) => [k, entry[k]]));
          return { items: found, ...(more ? { nextToken: encodeListToken(last, partition) } : {}) };
        }
      }
      startKey = out.LastEvaluatedKey;
      if (!startKey) break;
    }
    return { items: found, ...(startKey ? { nextToken: encodeListToken(startKey, partition) } : {}) };
  }

  /** Every lead captured on a UTC day (`yyyy-mm-dd`), via the byDay index. */
  async listLeadsCapturedOn(day: string): Promise<Lead[]> {
    const { partitionKey } = INDEXES.byDay;
    const items = await this.queryAll({
      TableName: this.tableName,
      IndexName: 'byDay',
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': partitionKey },
      ExpressionAttributeValues: { ':pk': `DAY#${day}` },
    });
    return (await this.leadsAt(items)).filter((lead): lead is Lead => lead !== undefined);
  }

  /** Leads whose stage (pipeline stage, else lifecycle stage) is `stage` and was entered before `before` (ISO). */
  async listLeadsInStageSince(stage: string, before: string): Promise<Lead[]> {
    const { partitionKey, sortKey } = INDEXES.byStage;
    const items = await this.queryAll({
      TableName: this.tableName,
      IndexName: 'byStage',
      KeyConditionExpression: '#pk = :pk AND #sk < :before',
      ExpressionAttributeNames: { '#pk': partitionKey, '#sk': sortKey },
      ExpressionAttributeValues: { ':pk': `STAGE#${stage}`, ':before': before },
    });
    return (await this.leadsAt(items)).filter((lead): lead is Lead => lead !== undefined);
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

  /**
   * Claims today's stale-deal alert for a lead (a marker with TTL). @returns false when the
   * alert was already claimed for that day.
   */
  async claimStaleDealAlert(leadId: string, day: string, expiresAtEpoch: number): Promise<boolean> {
    return this.putOnce({
      ...keys.staleDealAlert(leadId, day),
      entity: 'staleDealAlert',
      leadId,
      day,
      [TTL_ATTRIBUTE]: expiresAtEpoch,
    });
  }

  /** Releases a claim whose event could not be published, so the retry publishes it. */
  async releaseStaleDealAlert(leadId: string, day: string): Promise<void> {
    await this.send(() =>
      this.client.send(
        new DeleteCommand({ TableName: this.tableName, Key: keys.staleDealAlert(leadId, day) }),
      ),
    );
  }

  /** The suppression entry of a hashed address, or undefined. */
  async getSuppression(emailHash: string): Promise<{ reason?: string; at?: string } | undefined> {
    const out = await this.send(() =>
      this.client.send(
        new GetCommand({ TableName: this.tableName, Key: keys.suppression(emailHash), ConsistentRead: true }),
      ),
    );
    if (!out.Item) return undefined;
    const { reason, at } = out.Item;
    return {
      ...(typeof reason === 'string' ? { reason } : {}),
      ...(typeof at === 'string' ? { at } : {}),
    };
  }

  /**
   * The last step of erasing a lead: deletes the profile (conditional on the version read, so a
   * concurrent change makes the caller re-read) together with every pointer to it (its dedupe
   * key and `alsoDedupeKeys`, its provider id, its held-queue entry), and gives back the owner's
   * capacity when the lead was open, in one transaction. Delete the rest of the partition first:
   * until this succeeds the pointers still lead a retry to the lead.
   * @returns the number of pointers deleted.
   * @throws LeadChangedError when the lead changed since it was read.
   */
  async deleteLeadAndPointers(lead: Lead, alsoDedupeKeys: readonly string[] = []): Promise<number> {
    const items: TransactItem[] = [
      {
        Delete: {
          TableName: this.tableName,
          Key: keys.lead(lead.id),
          ConditionExpression: '#version = :version',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':version': lead.version },
        },
      },
    ];
    const meanings: ItemMeaning[] = [{ kind: 'lead', leadId: lead.id }];
    if (isOpen(lead) && lead.owner) {
      items.push(this.counterUpdate(lead.owner, -1));
      meanings.push({ kind: 'other' });
    }
    const pointers = new Map<string, { pk: string; sk: string }>();
    for (const key of [
      ...[lead.profile.dedupeKey, ...alsoDedupeKeys].map((k) => keys.dedupe(k)),
      ...(lead.source.externalId !== undefined
        ? [keys.external(lead.source.provider, lead.source.externalId)]
        : []),
      ...(lead.heldUntil !== undefined ? [keys.heldLead(lead.heldUntil, lead.id)] : []),
    ])
      pointers.set(`${key.pk}\u0000${key.sk}`, key);
    for (const key of pointers.values()) {
      items.push({ Delete: { TableName: this.tableName, Key: key } });
      meanings.push({ kind: 'other' });
    }
    await this.transact(items, meanings);
    return pointers.size;
  }

  private async putOnce(item: Record<string, unknown>): Promise<boolean> {
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

  /**
   * The leads an index read pointed at, in the same order (`undefined` where a lead was erased
   * since). Eventually consistent, like the index read itself, at half the read units.
   */
  private async leadsAt(entries: ReadonlyArray<Record<string, unknown>>): Promise<Array<Lead | undefined>> {
    const wanted = entries.map((e) => ({ pk: String(e.pk), sk: String(e.sk) }));
    const byKey = new Map(
      (await this.batchGet(wanted, { consistent: false })).map((item) => [
        `${item.pk}\u0000${item.sk}`,
        item,
      ]),
    );
    return wanted.map((k) => {
      const item = byKey.get(`${k.pk}\u0000${k.sk}`);
      return item ? StoredLead.parse(item) : undefined;
    });
  }

  private async batchGet(
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

// ---------------------------------------------------------------- leads-api: list queries

// The port types, for callers that still import them from here.
export type { HeldLeadEntry, LeadQuery, Page, SaveLeadOptions, StoredCursor };

/** Index reads per list page before a short page is returned with a token. */
const LIST_MAX_READS = 5;
/** Index entries read (and leads fetched) per read of a list page; filters apply to those leads. */
const LIST_READ_SIZE = 100;

function encodeListToken(key: Record<string, unknown>, partition: string): string {
  return Buffer.from(JSON.stringify({ p: partition, k: key }), 'utf8').toString('base64url');
}

function decodeListToken(token: string | undefined, partition: string): Record<string, unknown> | undefined {
  if (token === undefined) return undefined;
  const bad = (reason: string) => new InvalidInputError([{ field: 'nextToken', reason }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw bad('not a token this API issued');
  }
  const { p, k } = (parsed ?? {}) as { p?: unknown; k?: unknown };
  if (typeof p !== 'string' || !k || typeof k !== 'object' || Array.isArray(k))
    throw bad('not a token this API issued');
  if (p !== partition) throw bad('the token belongs to another list: repeat the same owner/team');
  return k as Record<string, unknown>;
}
