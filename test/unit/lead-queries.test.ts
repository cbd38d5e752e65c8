import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { LeadQueries } from '../../shared/adapters/lead-queries';
import { keys } from '../../shared/contracts/table-design';
import { janeDoeLead } from './jane-doe-lead';

const TABLE = 'leads';
const ddb = mockClient(DynamoDBDocumentClient);
const docClient = DynamoDBDocumentClient.from(new DynamoDBClient({}));

beforeEach(() => ddb.reset());

describe('the leads captured on a day (the reports cohort)', () => {
  it('fetches a busy day with its BatchGetItem requests in flight together, in index order', async () => {
    const ids = Array.from({ length: 250 }, (_, i) => `lead-${String(i).padStart(3, '0')}`);
    ddb.on(QueryCommand).resolves({ Items: ids.map((id) => ({ ...keys.lead(id) })) });
    let inFlight = 0;
    let peak = 0;
    ddb
      .on(BatchGetCommand)
      .callsFake(async (input: { RequestItems: Record<string, { Keys: Array<{ pk: string }> }> }) => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight -= 1;
        const wanted = input.RequestItems[TABLE]?.Keys ?? [];
        // Answer in reverse, as DynamoDB may: the result must still follow the index.
        const items = wanted
          .map((k) => ({ ...k, ...janeDoeLead({ id: k.pk.slice('LEAD#'.length) }) }))
          .reverse();
        return { Responses: { [TABLE]: items } };
      });

    const leads = await new LeadQueries(TABLE, docClient).listLeadsCapturedOn('2025-11-24');

    expect(leads.map((l) => l.id)).toEqual(ids);
    const batches = ddb
      .commandCalls(BatchGetCommand)
      .map((c) => c.args[0].input.RequestItems?.[TABLE]?.Keys?.length);
    expect(batches).toEqual([100, 100, 50]);
    expect(peak).toBe(3);
  });
});
