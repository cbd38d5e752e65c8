import { DeleteCommand, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { keys } from '../contracts/table-design';
import type { Lead } from '../domain/lead';
import type { PendingLead, PendingLeadStore } from '../ports/pending-leads';
import { logger } from '../runtime/observability';
import { errorName, rethrowAsDomain } from './aws-errors';
import { LeadTable } from './lead-table';

const StoredPendingLead = z.object({
  provider: z.enum(['meta', 'linkedin']),
  externalId: z.string().min(1),
  leadId: z.string().min(1),
  reference: z.record(z.string(), z.unknown()),
  since: z.string().min(1),
  attempts: z.number().int().nonnegative(),
  nextAttemptAt: z.string().min(1),
  lastProblem: z.string().optional(),
});

/**
 * Ad-platform leads stored `pending`, in one partition (`PENDING`, sorted by provider id): there
 * are few (a missing token or a refused read), and the relay reads them all on each run. Also
 * the dedupe claim a completed lead takes, and the removal of a stub merged into a known lead.
 */
export class PendingLeads extends LeadTable implements PendingLeadStore {
  async rememberPendingLead(entry: PendingLead): Promise<void> {
    await this.putOnce({
      ...keys.pendingLead(entry.provider, entry.externalId),
      entity: 'pending',
      ...entry,
    });
  }

  async listPendingLeads(limit: number): Promise<PendingLead[]> {
    const out = await this.send(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': keys.pendingPartition },
          Limit: limit,
        }),
      ),
    );
    return (out.Items ?? []).flatMap((item) => {
      const parsed = StoredPendingLead.safeParse(item);
      if (parsed.success) return [parsed.data as PendingLead];
      // Left in place for an operator rather than dropped: it names a lead still pending.
      logger.error('Pending-lead marker does not parse; left for an operator', {
        sk: item.sk,
        error: parsed.error,
      });
      return [];
    });
  }

  async reschedulePendingLead(
    entry: PendingLead,
    next: Pick<PendingLead, 'attempts' | 'nextAttemptAt' | 'lastProblem'>,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.pendingLead(entry.provider, entry.externalId),
          UpdateExpression: 'SET attempts = :attempts, nextAttemptAt = :next, lastProblem = :problem',
          ConditionExpression: 'attempts = :read',
          ExpressionAttributeValues: {
            ':attempts': next.attempts,
            ':next': next.nextAttemptAt,
            ':problem': next.lastProblem ?? '',
            ':read': entry.attempts,
          },
        }),
      );
      return true;
    } catch (error) {
      if (errorName(error) === 'ConditionalCheckFailedException') return false;
      rethrowAsDomain('DynamoDB', error);
    }
  }

  async forgetPendingLead(entry: Pick<PendingLead, 'provider' | 'externalId'>): Promise<void> {
    await this.send(() =>
      this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keys.pendingLead(entry.provider, entry.externalId),
        }),
      ),
    );
  }

  /**
   * Claims a dedupe key for a lead completed from pending (a no-op when it already holds it).
   * @returns the lead that holds the key now: `leadId`, or the known person's lead.
   */
  async claimDedupeKey(dedupeKey: string, leadId: string): Promise<string> {
    if (await this.putOnce({ ...keys.dedupe(dedupeKey), leadId, entity: 'dedupe' })) return leadId;
    const out = await this.send(() =>
      this.client.send(
        new GetCommand({ TableName: this.tableName, Key: keys.dedupe(dedupeKey), ConsistentRead: true }),
      ),
    );
    const owner = out.Item?.leadId;
    return typeof owner === 'string' ? owner : leadId;
  }

  async retirePendingLead(stub: Lead, intoLeadId: string, entry: PendingLead): Promise<void> {
    await this.transact(
      [
        {
          Delete: {
            TableName: this.tableName,
            Key: keys.lead(stub.id),
            ConditionExpression: '#status = :pending AND #version = :version',
            ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
            ExpressionAttributeValues: { ':pending': 'pending', ':version': stub.version },
          },
        },
        {
          Delete: {
            TableName: this.tableName,
            Key: keys.activity(stub.id, stub.createdAt, `${stub.id}-captured`),
          },
        },
        { Delete: { TableName: this.tableName, Key: keys.dedupe(stub.profile.dedupeKey) } },
        {
          Put: {
            TableName: this.tableName,
            Item: {
              ...keys.external(entry.provider, entry.externalId),
              leadId: intoLeadId,
              entity: 'external',
            },
          },
        },
        { Delete: { TableName: this.tableName, Key: keys.pendingLead(entry.provider, entry.externalId) } },
      ],
      [{ kind: 'lead', leadId: stub.id }],
    );
  }
}
