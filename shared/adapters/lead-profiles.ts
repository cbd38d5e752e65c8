import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { indexKeys, keys, TTL_ATTRIBUTE } from '../contracts/table-design';
import { LeadNotFoundError } from '../domain/errors';
import type { Activity, Lead } from '../domain/lead';
import type { SaveLeadOptions, StoredCursor, TakenRequest } from '../ports/lead-store';
import type { OutboxEntry } from '../ports/outbox';
import { errorName, rethrowAsDomain } from './aws-errors';
import {
  type ItemMeaning,
  isOpen,
  LeadTable,
  StoredActivity,
  StoredLead,
  type TransactItem,
} from './lead-table';
import { DynamoOutbox, outboxItem } from './outbox-store';

/**
 * The leads aggregate: a lead's profile, its dedupe and provider-id pointers, and the changes
 * that create or save it together with their activities, counters, round-robin cursor and outbox
 * entry in one transaction; plus the routing state read with the lead.
 */
export class LeadProfiles extends LeadTable {
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

  /**
   * Who a submission is and whether it was taken in before, in one strongly consistent
   * BatchGetItem: the lead holding the dedupe key, and the unexpired claim of the request's key.
   */
  async findSubmission(
    dedupeKey: string,
    requestKey: string | undefined,
    now: Date,
  ): Promise<{ leadId: string | undefined; request: TakenRequest | undefined }> {
    const dedupe = keys.dedupe(dedupeKey);
    const claim = requestKey ? keys.captureRequest(requestKey) : undefined;
    const items = await this.batchGet(claim ? [dedupe, claim] : [dedupe]);
    const pointer = items.find((item) => item.pk === dedupe.pk);
    const taken = claim && items.find((item) => item.pk === claim.pk);
    return {
      leadId: typeof pointer?.leadId === 'string' ? pointer.leadId : undefined,
      request: taken ? unexpiredRequest(taken, now) : undefined,
    };
  }

  /** The unexpired claim of a request's key, if any (see {@link RequestClaim}). */
  async findTakenRequest(requestKey: string, now: Date): Promise<TakenRequest | undefined> {
    const out = await this.send(() =>
      this.client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: keys.captureRequest(requestKey),
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item ? unexpiredRequest(out.Item, now) : undefined;
  }

  /** The id of the lead created from this provider's record (e.g. a Meta leadgen_id), if any. */
  async findLeadIdByExternalId(provider: string, externalId: string): Promise<string | undefined> {
    return this.pointer(keys.external(provider, externalId));
  }

  /**
   * Creates a lead with its first activities, claiming its dedupe key (and provider id) and
   * storing the events to announce it (`outbox`) in the same transaction, so two concurrent submissions of one person can never make two leads.
   * The caller's `request`, if given, is claimed in the same transaction.
   * @throws RequestAlreadyTakenError when the request's key is claimed (whatever else failed).
   * @throws DuplicateLeadError when the dedupe key or provider id is already taken.
   */
  async createLead(
    lead: Lead,
    activities: readonly Activity[],
    externalId?: { provider: string; id: string },
    outbox?: OutboxEntry,
    request?: TakenRequest,
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
    if (request) this.claimRequest(request, items, meanings);
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
    if (options.request) this.claimRequest(options.request, items, meanings);
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

  /**
   * The request's claim as a transaction item: taken only if no unexpired claim has its key (an
   * expired one, not yet deleted by TTL, is overwritten).
   */
  private claimRequest(request: TakenRequest, items: TransactItem[], meanings: ItemMeaning[]): void {
    items.push({
      Put: {
        TableName: this.tableName,
        Item: {
          ...keys.captureRequest(request.key),
          entity: 'request',
          ...request,
          [TTL_ATTRIBUTE]: request.expiresAt,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR #expires < :now',
        ExpressionAttributeNames: { '#expires': TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ':now': Math.floor(Date.parse(request.receivedAt) / 1000) },
      },
    });
    meanings.push({ kind: 'request', key: request.key });
  }

  private leadItem(lead: Lead): Record<string, unknown> {
    // Index keys change only when what they index changes: a key that moved on every save (the
    // lifecycle stage sorted by `updatedAt`) cost a delete and a put in the index per save, two
    // write units each time. Only pipeline stages are read by time (stale deals); a lifecycle
    // stage sorts by capture time.
    const stageAt = lead.pipelineStageAt ?? lead.createdAt;
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

  private async pointer(key: { pk: string; sk: string }): Promise<string | undefined> {
    const out = await this.send(() =>
      this.client.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })),
    );
    return typeof out.Item?.leadId === 'string' ? out.Item.leadId : undefined;
  }
}

/** A stored request claim, unless it has expired (TTL deletes items late, up to days after). */
function unexpiredRequest(item: Record<string, unknown>, now: Date): TakenRequest | undefined {
  if (Number(item[TTL_ATTRIBUTE]) * 1000 <= now.getTime()) return undefined;
  const { key, fingerprint, receivedAt, expiresAt, leadId, outcome } = item;
  if (typeof leadId !== 'string' || (outcome !== 'created' && outcome !== 'updated')) return undefined;
  return {
    key: String(key),
    fingerprint: String(fingerprint),
    receivedAt: String(receivedAt),
    expiresAt: Number(expiresAt),
    leadId,
    outcome,
  };
}
