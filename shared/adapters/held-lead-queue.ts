import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { keys } from '../contracts/table-design';
import type { HeldLeadEntry } from '../ports/lead-store';
import { LeadTable } from './lead-table';

const HeldLeadEntrySchema = z.object({ leadId: z.string().min(1), until: z.iso.datetime() });

/** The held-lead queue: leads waiting for their next routing attempt, by due time. */
export class HeldLeadQueue extends LeadTable {
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
}
