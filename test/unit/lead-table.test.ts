import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { HeldLeadQueue } from '../../shared/adapters/held-lead-queue';
import { LeadActivities } from '../../shared/adapters/lead-activities';
import { LeadErasure } from '../../shared/adapters/lead-erasure';
import { LeadProfiles } from '../../shared/adapters/lead-profiles';
import { LeadQueries } from '../../shared/adapters/lead-queries';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { composeAggregates, LeadTable } from '../../shared/adapters/lead-table';
import { LeadTasks } from '../../shared/adapters/lead-tasks';
import { SendLedger } from '../../shared/adapters/send-ledger';
import { VisitorEvents } from '../../shared/adapters/visitor-events';
import { LeadNotFoundError } from '../../shared/domain/errors';
import { janeDoeLead } from './jane-doe-lead';

const TABLE = 'leads';
const ddb = mockClient(DynamoDBDocumentClient);
const docClient = DynamoDBDocumentClient.from(new DynamoDBClient({}));

const AGGREGATES = [
  LeadProfiles,
  LeadActivities,
  LeadQueries,
  SendLedger,
  HeldLeadQueue,
  VisitorEvents,
  LeadTasks,
  LeadErasure,
];

/** The methods an aggregate defines itself (not the table core's). */
function ownMethods(aggregate: (typeof AGGREGATES)[number]): string[] {
  return Object.getOwnPropertyNames(aggregate.prototype).filter((name) => name !== 'constructor');
}

beforeEach(() => ddb.reset());

describe('the lead table split by aggregate', () => {
  it('gives LeadRepository every method of every aggregate, as the very function the aggregate defines', () => {
    const proto = LeadRepository.prototype as unknown as Record<string, unknown>;
    for (const aggregate of AGGREGATES) {
      const methods = ownMethods(aggregate);
      expect(methods.length, aggregate.name).toBeGreaterThan(0);
      const defined = aggregate.prototype as unknown as Record<string, unknown>;
      for (const name of methods) expect(proto[name], `${aggregate.name}.${name}`).toBe(defined[name]);
    }
    expect(new LeadRepository(TABLE, docClient)).toBeInstanceOf(LeadTable);
  });

  it('refuses two aggregates that define the same method', () => {
    class First extends LeadTable {
      async getLead() {
        return 'first';
      }
    }
    class Second extends LeadTable {
      async getLead() {
        return 'second';
      }
    }
    expect(() => composeAggregates([First, Second])).toThrow('Second.getLead is already defined');
  });

  it('runs a composed method on the shared table core (client, table name, error translation)', async () => {
    ddb.on(GetCommand).resolves({});
    await expect(new LeadRepository(TABLE, docClient).requireLead('lead-1')).rejects.toBeInstanceOf(
      LeadNotFoundError,
    );
    expect(ddb.commandCalls(GetCommand)[0]?.args[0].input).toMatchObject({
      TableName: TABLE,
      Key: { pk: 'LEAD#lead-1', sk: 'PROFILE' },
      ConsistentRead: true,
    });
  });

  it('lets a handler build one aggregate alone', async () => {
    ddb.on(PutCommand).resolves({});
    ddb.on(DeleteCommand).resolves({});
    const queue = new HeldLeadQueue(TABLE, docClient);
    await queue.queueHeldLead('lead-1', '2026-01-05T09:00:00.000Z');
    await queue.removeHeldLead('lead-1', '2026-01-05T09:00:00.000Z');
    const put = ddb.commandCalls(PutCommand)[0]?.args[0].input;
    const removed = ddb.commandCalls(DeleteCommand)[0]?.args[0].input;
    expect(put).toMatchObject({ TableName: TABLE, Item: { entity: 'held', leadId: 'lead-1' } });
    expect(removed?.Key).toEqual({ pk: put?.Item?.pk, sk: put?.Item?.sk });
  });
});

describe('the lead item’s index keys', () => {
  const INDEX_KEYS = ['ownerPk', 'ownerSk', 'teamPk', 'teamSk', 'stagePk', 'stageSk', 'dayPk', 'daySk'];
  const indexKeysOf = (call: number) => {
    const item = ddb.commandCalls(TransactWriteCommand)[call]?.args[0].input.TransactItems?.[0]?.Put?.Item;
    return Object.fromEntries(INDEX_KEYS.map((k) => [k, item?.[k]]));
  };

  it('stay put on a save that changes neither owner, status nor stage (no index write is billed)', async () => {
    ddb.on(TransactWriteCommand).resolves({});
    const profiles = new LeadProfiles(TABLE, docClient);
    const lead = janeDoeLead();
    await profiles.saveLead(lead, { ...lead, priority: 'normal', updatedAt: '2025-11-24T15:10:00.000Z' });
    await profiles.saveLead(lead, { ...lead, unsubscribed: true, updatedAt: '2025-11-25T09:00:00.000Z' });
    expect(indexKeysOf(1)).toEqual(indexKeysOf(0));
    // A lifecycle stage sorts by capture time; a pipeline stage by when the deal entered it.
    expect(indexKeysOf(0)).toMatchObject({ stagePk: 'STAGE#SQL', stageSk: `${lead.createdAt}#lead-1` });
    await profiles.saveLead(lead, {
      ...lead,
      pipelineStage: 'demo',
      pipelineStageAt: '2025-11-26T10:00:00.000Z',
      updatedAt: '2025-11-26T10:00:00.000Z',
    });
    expect(indexKeysOf(2)).toMatchObject({
      stagePk: 'STAGE#demo',
      stageSk: '2025-11-26T10:00:00.000Z#lead-1',
    });
  });
});
