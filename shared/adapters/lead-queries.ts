import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { INDEXES, type IndexName } from '../contracts/table-design';
import { InvalidInputError } from '../domain/errors';
import { type Lead, leadMatches, stillInScope } from '../domain/lead';
import type { LeadQuery } from '../ports/lead-store';
import type { Page } from '../ports/page';
import { LeadTable, StoredLead } from './lead-table';

/** Keys per BatchGetItem request (DynamoDB's limit). */
const BATCH_GET_KEYS = 100;
/** BatchGetItem requests one index read's leads are fetched with at once. */
const PARALLEL_BATCH_GETS = 4;
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

/**
 * The leads lists: an owner's or a team's leads page by page, the leads captured on a day and
 * the leads sitting in a stage, read through the key-only indexes and then the leads themselves.
 */
export class LeadQueries extends LeadTable {
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

  /**
   * The leads an index read pointed at, in the same order (`undefined` where a lead was erased
   * since). Eventually consistent, like the index read itself, at half the read units.
   */
  private async leadsAt(entries: ReadonlyArray<Record<string, unknown>>): Promise<Array<Lead | undefined>> {
    const wanted = entries.map((e) => ({ pk: String(e.pk), sk: String(e.sk) }));
    // The index holds keys only: a day of a report's cohort is one BatchGetItem per 100 leads.
    // Read those in parallel (a few at a time) rather than one after another, so a busy day
    // costs one or two round trips instead of one per hundred leads.
    const chunks: Array<typeof wanted> = [];
    for (let i = 0; i < wanted.length; i += BATCH_GET_KEYS) chunks.push(wanted.slice(i, i + BATCH_GET_KEYS));
    const items: Record<string, unknown>[] = [];
    for (let i = 0; i < chunks.length; i += PARALLEL_BATCH_GETS) {
      const reads = chunks
        .slice(i, i + PARALLEL_BATCH_GETS)
        .map((keys) => this.batchGet(keys, { consistent: false }));
      for (const read of await Promise.all(reads)) items.push(...read);
    }
    const byKey = new Map(items.map((item) => [`${item.pk}\u0000${item.sk}`, item]));
    return wanted.map((k) => {
      const item = byKey.get(`${k.pk}\u0000${k.sk}`);
      return item ? StoredLead.parse(item) : undefined;
    });
  }
}
