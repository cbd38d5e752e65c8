import {
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  DynamoDBClient,
  type KeysAndAttributes,
} from '@aws-sdk/client-dynamodb';

/**
 * The "lost" check: every lead the API accepted (2xx with a lead id) must be stored, scored and
 * routed once the pipeline is quiet. Reads the lead items straight from DynamoDB Local (not
 * through the counting proxy, so the check costs the pipeline nothing).
 */

/** Why a lead counts as lost. */
export type LostReason = 'not stored' | 'not scored' | 'not routed';

export interface LeadCheck {
  readonly checked: number;
  readonly lost: number;
  readonly byReason: Record<LostReason, number>;
  /** Every lost lead. */
  readonly lostIds: string[];
  /** Up to 20 lost leads, for the report. */
  readonly examples: Array<{ leadId: string; reason: LostReason; status?: string }>;
  /** Leads by stored status (`assigned`, `held`, `nurturing`, `unworked`...). */
  readonly statuses: Record<string, number>;
  /** Whether each stored lead gave marketing consent (nurture email needs it under `consent-required`). */
  readonly marketingConsent: Map<string, boolean>;
}

/** Statuses that mean routing has not happened yet. */
const UNROUTED = new Set(['new', 'pending']);

export async function checkLeads(
  endpoint: string,
  table: string,
  leadIds: readonly string[],
): Promise<LeadCheck> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const found = new Map<string, { status?: string; scored: boolean }>();
  const marketingConsent = new Map<string, boolean>();
  try {
    for (let i = 0; i < leadIds.length; i += 100) {
      let request: Record<string, KeysAndAttributes> | undefined = {
        [table]: {
          Keys: leadIds.slice(i, i + 100).map((id) => ({ pk: { S: `LEAD#${id}` }, sk: { S: 'PROFILE' } })),
          ProjectionExpression: 'id, #status, score, consent',
          ExpressionAttributeNames: { '#status': 'status' },
        },
      };
      while (request && Object.keys(request).length > 0) {
        const out: BatchGetItemCommandOutput = await client.send(
          new BatchGetItemCommand({ RequestItems: request }),
        );
        for (const item of out.Responses?.[table] ?? []) {
          const id = item.id?.S;
          if (!id) continue;
          found.set(id, { ...(item.status?.S ? { status: item.status.S } : {}), scored: !!item.score });
          marketingConsent.set(id, item.consent?.M?.marketing?.BOOL === true);
        }
        request = out.UnprocessedKeys;
      }
    }
  } finally {
    client.destroy();
  }
  const byReason: Record<LostReason, number> = { 'not stored': 0, 'not scored': 0, 'not routed': 0 };
  const examples: LeadCheck['examples'] = [];
  const lostIds: string[] = [];
  const statuses: Record<string, number> = {};
  for (const leadId of leadIds) {
    const lead = found.get(leadId);
    const reason: LostReason | undefined = !lead
      ? 'not stored'
      : !lead.scored
        ? 'not scored'
        : !lead.status || UNROUTED.has(lead.status)
          ? 'not routed'
          : undefined;
    if (lead?.status) statuses[lead.status] = (statuses[lead.status] ?? 0) + 1;
    if (!reason) continue;
    byReason[reason] += 1;
    lostIds.push(leadId);
    if (examples.length < 20)
      examples.push({ leadId, reason, ...(lead?.status ? { status: lead.status } : {}) });
  }
  const lost = byReason['not stored'] + byReason['not scored'] + byReason['not routed'];
  return { checked: leadIds.length, lost, byReason, lostIds, examples, statuses, marketingConsent };
}
