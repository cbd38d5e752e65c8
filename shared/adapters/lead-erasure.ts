import { keys } from '../contracts/table-design';
import type { Lead } from '../domain/lead';
import { type ItemMeaning, isOpen, LeadTable, type TransactItem } from './lead-table';

/**
 * Erasing a lead from the table: its whole partition is read and deleted, then the profile with
 * every pointer to it in one last transaction.
 */
export class LeadErasure extends LeadTable {
  /** Every item in the lead's partition (profile, activities, score history, notes...), for export and erasure. */
  async listLeadPartition(leadId: string): Promise<Record<string, unknown>[]> {
    return this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.leadPartition(leadId) },
    });
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
}
