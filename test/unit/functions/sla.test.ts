import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

import { createHandler, SLA_RETRYABLE_ERROR, SlaRetryableError } from '../../../functions/sla/handler';
import { EventPublisher } from '../../../shared/adapters/event-publisher';
import { LeadRepository } from '../../../shared/adapters/lead-repository';
import { loadClientConfig } from '../../../shared/config/load';
import type { ClientConfig } from '../../../shared/config/schema';
import { keys } from '../../../shared/contracts/table-design';
import { InvalidInputError } from '../../../shared/domain/errors';
import { type Lead, LeadSchema } from '../../../shared/domain/lead';
import { assessLead, type SlaAssessment, type SlaTimer } from '../../../shared/domain/sla';
import { parseDetail } from '../../../shared/events/catalogue';
import { planFirstTouch, type SlaDeps, type UnworkedResult } from '../../../shared/services/sla';

const config: ClientConfig = loadClientConfig('example', 'clients');
const TABLE = 'leads-table';
const BUS = 'lead-bus';
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:SlaWorkflow:lead-1-assigned';

const docClient = mockClient(DynamoDBDocumentClient);
const eventBridge = mockClient(EventBridgeClient);

// ---------------------------------------------------------------- a small DynamoDB behind the mock

type Item = Record<string, unknown>;
type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Items by `pk|sk`. */
let table: Map<string, Item>;
/** Runs before each transaction; may change the table (a concurrent writer) or throw. */
let beforeTransact: Array<(items: TransactItem[]) => void>;
let transactions: TransactItem[][];
let events: PutEventsRequestEntry[];

const k = (key: { pk?: unknown; sk?: unknown }) => `${String(key.pk)}|${String(key.sk)}`;

function conditionHolds(condition: string | undefined, existing: Item | undefined, values: Item): boolean {
  if (!condition) return true;
  switch (condition) {
    case 'attribute_not_exists(pk)':
      return existing === undefined;
    case '#version = :version':
      return existing?.version === values[':version'];
    case '#version = :version AND attribute_not_exists(#owner)':
      return existing?.version === values[':version'] && existing?.owner === undefined;
    case 'attribute_not_exists(pk) OR #version = :expected':
      return existing === undefined || existing.version === values[':expected'];
    case '(attribute_not_exists(openLeads) AND :capacity > :zero) OR openLeads < :capacity':
      return existing?.openLeads === undefined
        ? Number(values[':capacity']) > 0
        : Number(existing.openLeads) < Number(values[':capacity']);
    default:
      throw new Error(`the fake table does not understand ${condition}`);
  }
}

function transact(items: TransactItem[]): void {
  for (const hook of beforeTransact.splice(0, 1)) hook(items);
  const reasons = items.map((item) => {
    const op = item.Put ?? item.Update ?? item.Delete ?? item.ConditionCheck;
    const key = item.Put ? { pk: item.Put.Item?.pk, sk: item.Put.Item?.sk } : (op as { Key: Item }).Key;
    const ok = conditionHolds(
      op?.ConditionExpression,
      table.get(k(key)),
      op?.ExpressionAttributeValues ?? {},
    );
    return { Code: ok ? 'None' : 'ConditionalCheckFailed' };
  });
  if (reasons.some((r) => r.Code !== 'None'))
    throw new TransactionCanceledException({
      message: 'Transaction cancelled',
      $metadata: {},
      CancellationReasons: reasons,
    });
  for (const item of items) {
    if (item.Put?.Item) table.set(k(item.Put.Item), structuredClone(item.Put.Item));
    if (item.Update) {
      const key = k(item.Update.Key ?? {});
      const current = { ...(table.get(key) ?? item.Update.Key) };
      const delta = Number(item.Update.ExpressionAttributeValues?.[':delta'] ?? 0);
      current.openLeads = Number(current.openLeads ?? 0) + delta;
      current.entity = 'counters';
      table.set(key, current);
    }
  }
  transactions.push(items);
}

function installTable(): void {
  docClient.on(GetCommand).callsFake((input) => ({ Item: structuredClone(table.get(k(input.Key))) }));
  docClient.on(BatchGetCommand).callsFake((input) => ({
    Responses: {
      [TABLE]: (input.RequestItems[TABLE].Keys as Item[])
        .map((key) => table.get(k(key)))
        .filter((item): item is Item => item !== undefined)
        .map((item) => structuredClone(item)),
    },
  }));
  docClient.on(TransactWriteCommand).callsFake((input) => {
    transact(input.TransactItems);
    return {};
  });
  eventBridge.on(PutEventsCommand).callsFake((input) => {
    events.push(...input.Entries);
    return {
      FailedEntryCount: 0,
      Entries: input.Entries.map((_: unknown, i: number) => ({ EventId: `e${i}` })),
    };
  });
}

// ---------------------------------------------------------------- fixtures

const ASSIGNED_AT = '2025-11-24T14:50:00.000Z'; // Monday; Dublin 14:50, New York 09:50

function putLead(overrides: Record<string, unknown> = {}): void {
  const lead = LeadSchema.parse({
    id: 'lead-1',
    createdAt: '2025-11-24T14:40:00.000Z',
    updatedAt: ASSIGNED_AT,
    profile: { dedupeKey: 'jane@acme.example', email: 'jane@acme.example', firstName: 'Jane' },
    source: { channel: 'paid_search', provider: 'google_ads' },
    status: 'assigned',
    stage: 'SQL',
    priority: 'high',
    owner: 'liam',
    team: 'emea',
    assignedAt: ASSIGNED_AT,
    version: 4,
    ...overrides,
  });
  table.set(k(keys.lead('lead-1')), { ...lead, ...keys.lead('lead-1'), entity: 'lead' });
}

function lead(): Lead {
  const item = table.get(k(keys.lead('lead-1')));
  if (!item) throw new Error('no lead');
  return LeadSchema.parse(
    Object.fromEntries(Object.entries(item).filter(([key]) => key in LeadSchema.shape)),
  );
}

const counter = (repId: string) => Number(table.get(k(keys.repCounters(repId)))?.openLeads ?? 0);
const setCounter = (repId: string, openLeads: number) =>
  table.set(k(keys.repCounters(repId)), { ...keys.repCounters(repId), entity: 'counters', openLeads });

const assignment = {
  leadId: 'lead-1',
  occurredAt: ASSIGNED_AT,
  isTest: false,
  repId: 'liam',
  teamId: 'emea',
  ruleId: 'sales-ready',
  via: 'round-robin',
  priority: 'high',
  assignedAt: ASSIGNED_AT,
  ladderStep: 0,
};

const task = (action: string, timer?: SlaTimer) => ({
  action,
  assignment,
  executionArn: EXECUTION,
  ...(timer ? { timer } : {}),
});

let clock: Date;
function handlerFor(cfg: ClientConfig = config) {
  const deps: SlaDeps = {
    store: new LeadRepository(TABLE),
    publisher: new EventPublisher(BUS, undefined, async () => {}),
    config: cfg,
    now: () => clock,
  };
  const handler = createHandler(deps);
  return {
    // The first timer comes with the execution input (sla-start); the check is the assessment
    // each escalate and unworked task makes first.
    plan: async (a: typeof assignment = assignment) =>
      planFirstTouch(deps, { assignment: parseDetail('Lead Assigned', a) }),
    check: async (t: SlaTimer): Promise<SlaAssessment> =>
      assessLead(await deps.store.getLead(assignment.leadId), t, cfg.sla),
    escalate: (t: SlaTimer) => handler(task('escalate', t)) as Promise<SlaTimer>,
    unworked: (t: SlaTimer) => handler(task('unworked', t)) as Promise<UnworkedResult>,
    raw: handler,
  };
}

const published = () =>
  events.map((e) => ({
    type: e.DetailType,
    detail: JSON.parse(e.Detail ?? '{}') as Record<string, unknown>,
  }));

beforeEach(() => {
  docClient.reset();
  eventBridge.reset();
  table = new Map();
  beforeTransact = [];
  transactions = [];
  events = [];
  installTable();
  putLead();
  setCounter('liam', 1);
  clock = new Date(ASSIGNED_AT);
});

// ---------------------------------------------------------------- tests

describe('sla ladder: the first timer', () => {
  it('waits firstTouchMinutes of the owner’s working time', async () => {
    expect(await handlerFor().plan()).toEqual({
      waitUntil: '2025-11-24T14:55:00Z',
      ladderStep: 0,
      owner: 'liam',
      assignedAt: ASSIGNED_AT,
      involved: ['liam'],
      exhausted: false,
    });
  });

  it('carries the deadline across the weekend when assigned just before Friday’s close', async () => {
    const friday = { ...assignment, assignedAt: '2025-11-28T17:28:00.000Z' };
    const timer = await handlerFor().plan(friday);
    // Liam works 09:00-17:30 in Dublin: 2 minutes on Friday, 3 on Monday.
    expect(timer.waitUntil).toBe('2025-12-01T09:03:00Z');
  });

  it('rejects a payload that breaks the contract, naming each field', async () => {
    const h = handlerFor();
    const timer = await h.plan();
    const noArn = await h.raw({ action: 'escalate', assignment, timer }).catch((e: unknown) => e);
    expect(noArn).toBeInstanceOf(InvalidInputError);
    expect((noArn as InvalidInputError).problems.map((p) => p.field)).toEqual(['executionArn']);

    const badAssignment = await h
      .raw({
        action: 'escalate',
        assignment: { ...assignment, repId: undefined },
        executionArn: EXECUTION,
        timer,
      })
      .catch((e: unknown) => e);
    expect((badAssignment as InvalidInputError).problems.map((p) => p.field)).toEqual(['assignment.repId']);

    // `plan` and `check` are gone: the first timer comes with the input, escalate checks first.
    for (const action of ['plan', 'check']) {
      const unknownAction = await h
        .raw({ action, assignment, executionArn: EXECUTION, timer })
        .catch((e: unknown) => e);
      expect((unknownAction as InvalidInputError).problems.map((p) => p.field)).toEqual(['action']);
    }

    const noTimer = await h
      .raw({ action: 'unworked', assignment, executionArn: EXECUTION })
      .catch((e: unknown) => e);
    expect((noTimer as InvalidInputError).problems.map((p) => p.field)).toEqual(['timer']);
  });
});

describe('sla ladder: the assessment before each step', () => {
  it('ends the ladder when the rep made the first touch', async () => {
    const h = handlerFor();
    const timer = await h.plan();
    putLead({ status: 'contacted', firstTouchAt: '2025-11-24T14:53:00.000Z' });
    clock = new Date(timer.waitUntil);
    expect(await h.check(timer)).toEqual({
      outcome: 'contacted',
      reason: 'the lead was contacted (status contacted)',
    });
  });

  it('closes when a manager reassigned the lead by hand (that started its own execution)', async () => {
    const h = handlerFor();
    const timer = await h.plan();
    putLead({ owner: 'priya', assignedAt: '2025-11-24T14:52:00.000Z' });
    expect((await h.check(timer)).outcome).toBe('closed');
  });

  it('escalates a lead nobody touched', async () => {
    const h = handlerFor();
    expect((await h.check(await h.plan())).outcome).toBe('escalate');
  });
});

describe('sla handler: the whole ladder', () => {
  it('escalates to a backup-team rep, then the manager, then marks the lead unworked', async () => {
    const h = handlerFor();
    const first = await h.plan();

    // 14:56 UTC: 09:56 in New York, so the North America backup team is on shift.
    clock = new Date('2025-11-24T14:56:00.000Z');
    expect((await h.check(first)).outcome).toBe('escalate');
    const second = await h.escalate(first);
    expect(second).toEqual({
      waitUntil: '2025-11-24T15:01:00Z', // Jordan's 5 minutes, in his hours
      ladderStep: 1,
      owner: 'jordan',
      assignedAt: '2025-11-24T14:56:00.000Z',
      involved: ['liam', 'jordan'],
      exhausted: false,
    });
    expect(lead()).toMatchObject({
      owner: 'jordan',
      team: 'emea',
      status: 'assigned',
      assignedAt: '2025-11-24T14:56:00.000Z',
      slaProgress: { execution: EXECUTION, ladderStep: 1, action: 'escalate', to: 'jordan' },
    });
    expect(counter('liam')).toBe(0);
    expect(counter('jordan')).toBe(1);
    // The backup team's round-robin cursor moved in the same transaction.
    expect(table.get(k(keys.teamCursor('na')))?.version).toBe(1);
    expect(published()).toEqual([
      {
        type: 'Lead Assigned',
        detail: {
          leadId: 'lead-1',
          occurredAt: '2025-11-24T14:56:00.000Z',
          isTest: false,
          repId: 'jordan',
          teamId: 'emea',
          ruleId: 'sales-ready',
          via: 'escalation',
          priority: 'high',
          assignedAt: '2025-11-24T14:56:00.000Z',
          previousOwner: 'liam',
          ladderStep: 1,
        },
      },
    ]);

    clock = new Date('2025-11-24T15:02:00.000Z');
    expect((await h.check(second)).outcome).toBe('escalate');
    const third = await h.escalate(second);
    expect(third).toMatchObject({ ladderStep: 2, owner: 'ana', waitUntil: '2025-11-24T15:12:00Z' });
    expect(lead().owner).toBe('ana');
    expect(counter('jordan')).toBe(0);
    expect(counter('ana')).toBe(1);
    // A reassigning step is announced by its Lead Assigned alone.
    expect(published().at(-1)).toMatchObject({
      type: 'Lead Assigned',
      detail: { repId: 'ana', previousOwner: 'jordan', via: 'escalation', ladderStep: 2 },
    });

    clock = new Date('2025-11-24T15:13:00.000Z');
    expect(await h.check(third)).toEqual({
      outcome: 'unworked',
      reason: 'all 2 ladder steps passed without contact',
    });
    expect(await h.unworked(third)).toEqual({ outcome: 'unworked', managerId: 'ana', lastOwner: 'ana' });
    expect(lead().status).toBe('unworked');
    expect(counter('ana')).toBe(0);
    expect(published().at(-1)).toEqual({
      type: 'Lead Unworked',
      detail: {
        leadId: 'lead-1',
        occurredAt: '2025-11-24T15:13:00.000Z',
        isTest: false,
        lastOwner: 'ana',
        managerId: 'ana',
        minutesWithoutContact: 23,
      },
    });
    expect(published().map((e) => e.type)).toEqual(['Lead Assigned', 'Lead Assigned', 'Lead Unworked']);
  });

  it('announces a step that only notifies with Lead Escalated, leaving the owner', async () => {
    const notifyOnly: ClientConfig = {
      ...config,
      sla: { ...config.sla, ladder: [{ to: 'manager', afterMinutes: 10, reassign: false }] },
    };
    const h = handlerFor(notifyOnly);
    clock = new Date('2025-11-24T14:56:00.000Z');
    await h.escalate(await h.plan());
    expect(lead().owner).toBe('liam');
    expect(published()).toEqual([
      {
        type: 'Lead Escalated',
        detail: expect.objectContaining({ fromRepId: 'liam', toRepId: 'ana', ladderStep: 1, to: 'manager' }),
      },
    ]);
  });

  it('writes each escalation and the unworked verdict to the lead timeline, once each', async () => {
    const h = handlerFor();
    const first = await h.plan();
    clock = new Date('2025-11-24T14:56:00.000Z');
    const second = await h.escalate(first);
    await h.escalate(first); // a retried task: no second entry
    clock = new Date('2025-11-24T15:02:00.000Z');
    const third = await h.escalate(second);
    clock = new Date('2025-11-24T15:13:00.000Z');
    await h.unworked(third);
    await h.unworked(third);
    const timeline = [...table.values()]
      .filter((item) => item.pk === 'LEAD#lead-1' && String(item.sk).startsWith('ACT#'))
      .filter((item) => String(item.type).startsWith('sla_'))
      .map((item) => ({ type: item.type, at: item.at, data: item.data }));
    expect(timeline).toEqual([
      {
        type: 'sla_escalated',
        at: '2025-11-24T14:56:00.000Z',
        data: {
          ladderStep: 1,
          action: 'reassign',
          to: 'jordan',
          fromRepId: 'liam',
          minutesWithoutContact: 6,
        },
      },
      {
        type: 'sla_escalated',
        at: '2025-11-24T15:02:00.000Z',
        data: {
          ladderStep: 2,
          action: 'reassign',
          to: 'ana',
          fromRepId: 'jordan',
          minutesWithoutContact: 12,
        },
      },
      {
        type: 'sla_unworked',
        at: '2025-11-24T15:13:00.000Z',
        data: { managerId: 'ana', lastOwner: 'ana', minutesWithoutContact: 23 },
      },
    ]);
  });

  it('goes straight to unworked when nobody is left to escalate to', async () => {
    const managerOnly: ClientConfig = {
      ...config,
      sla: { ...config.sla, ladder: [{ to: 'manager', afterMinutes: 10, reassign: true }] },
    };
    putLead({ owner: 'ana' }); // the owner is the team's manager already
    setCounter('ana', 1);
    const h = handlerFor(managerOnly);
    const timer = await h.plan({ ...assignment, repId: 'ana' });
    clock = new Date('2025-11-24T15:00:00.000Z');
    const exhausted = await h.escalate(timer);
    expect(exhausted).toMatchObject({
      exhausted: true,
      ladderStep: 0,
      waitUntil: '2025-11-24T15:00:00Z',
    });
    expect(transactions).toHaveLength(0);
    expect(await h.check(exhausted)).toEqual({
      outcome: 'unworked',
      reason: 'nobody is left to escalate to',
    });
    expect(await h.unworked(exhausted)).toEqual({ outcome: 'unworked', managerId: 'ana', lastOwner: 'ana' });
    expect(published().map((e) => e.type)).toEqual(['Lead Unworked']);
  });

  it('leaves a lead that was contacted between the check and the escalation alone', async () => {
    const h = handlerFor();
    const timer = await h.plan();
    clock = new Date('2025-11-24T14:56:00.000Z');
    putLead({ status: 'contacted', firstTouchAt: '2025-11-24T14:55:30.000Z' });
    const next = await h.escalate(timer);
    expect(next).toEqual({ ...timer, waitUntil: '2025-11-24T14:56:00Z' });
    expect(transactions).toHaveLength(0);
    expect(events).toHaveLength(0);
    expect((await h.check(next)).outcome).toBe('contacted');
  });
});

describe('sla handler: retries', () => {
  it('a retried escalate that already took effect is a no-op returning the same timer', async () => {
    const h = handlerFor();
    const timer = await h.plan();
    clock = new Date('2025-11-24T14:56:00.000Z');
    const first = await h.escalate(timer);
    const writes = transactions.length;

    clock = new Date('2025-11-24T14:56:40.000Z'); // Step Functions retries a little later
    const again = await h.escalate(timer);
    expect(again).toEqual(first);
    expect(transactions).toHaveLength(writes);
    // The same event again, derived from the stored step (same times): the alert keys it by the
    // assignment, so nobody is alerted twice.
    expect(published()).toHaveLength(2);
    expect(published()[1]).toEqual(published()[0]);
    expect(counter('jordan')).toBe(1);
    expect(counter('liam')).toBe(0);
  });

  it('a retry after the reassignment was saved but not announced publishes once and never reassigns again', async () => {
    const h = handlerFor();
    const timer = await h.plan();
    clock = new Date('2025-11-24T14:56:00.000Z');
    eventBridge.on(PutEventsCommand).rejectsOnce(
      Object.assign(new Error('internal'), {
        name: 'InternalException',
        $metadata: { httpStatusCode: 500 },
      }),
    );

    const error = await h.escalate(timer).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlaRetryableError);
    expect((error as Error).name).toBe(SLA_RETRYABLE_ERROR);
    expect(lead().slaProgress).toMatchObject({ ladderStep: 1, to: 'jordan', announced: false });

    installTable(); // EventBridge is back
    clock = new Date('2025-11-24T14:57:00.000Z');
    const retried = await h.escalate(timer);
    expect(retried).toMatchObject({ ladderStep: 1, owner: 'jordan', assignedAt: '2025-11-24T14:56:00.000Z' });
    expect(published().map((e) => e.type)).toEqual(['Lead Assigned']);
    expect(published()[0]?.detail.occurredAt).toBe('2025-11-24T14:56:00.000Z');
    expect(counter('jordan')).toBe(1);
    expect(counter('liam')).toBe(0);
  });

  it('reloads and retries when the reassignment hits ConditionalCheckFailed on the lead', async () => {
    const h = handlerFor();
    const timer = await h.plan();
    clock = new Date('2025-11-24T14:56:00.000Z');
    // Someone saves the lead (say, a note) between the escalation's read and its write.
    beforeTransact.push(() => putLead({ version: 5, updatedAt: '2025-11-24T14:55:50.000Z' }));

    const next = await h.escalate(timer);
    expect(next).toMatchObject({ ladderStep: 1, owner: 'jordan' });
    expect(lead()).toMatchObject({ owner: 'jordan', version: 6 }); // 5, +1 reassignment (one write)
    expect(counter('jordan')).toBe(1);
    expect(published().map((e) => e.type)).toEqual(['Lead Assigned']);
  });

  it('picks the next rep when the chosen one fills up between the read and the write', async () => {
    const h = handlerFor();
    const timer = await h.plan();
    // 15:05 UTC: both Jordan (New York) and Priya (Chicago, from 09:00) are on shift.
    clock = new Date('2025-11-24T15:05:00.000Z');
    beforeTransact.push(() => setCounter('jordan', 30));

    const next = await h.escalate(timer);
    expect(next.owner).toBe('priya');
    expect(counter('jordan')).toBe(30);
    expect(counter('priya')).toBe(1);
  });

  it('marks unworked once even when the first attempt failed after its write', async () => {
    putLead({ owner: 'ana', assignedAt: '2025-11-24T15:02:00.000Z' });
    setCounter('ana', 1);
    const h = handlerFor();
    const timer: SlaTimer = {
      waitUntil: '2025-11-24T15:12:00Z',
      ladderStep: 2,
      owner: 'ana',
      assignedAt: '2025-11-24T15:02:00.000Z',
      involved: ['liam', 'jordan', 'ana'],
      exhausted: false,
    };
    clock = new Date('2025-11-24T15:13:00.000Z');
    eventBridge
      .on(PutEventsCommand)
      .rejectsOnce(Object.assign(new Error('timeout'), { name: 'TimeoutError' }));
    await expect(h.unworked(timer)).rejects.toBeInstanceOf(SlaRetryableError);
    expect(lead().status).toBe('unworked');
    expect(counter('ana')).toBe(0);

    installTable();
    clock = new Date('2025-11-24T15:14:00.000Z');
    expect(await h.unworked(timer)).toEqual({ outcome: 'unworked', managerId: 'ana', lastOwner: 'ana' });
    expect(await h.unworked(timer)).toEqual({ outcome: 'unworked', managerId: 'ana', lastOwner: 'ana' });
    // One verdict: each retry re-publishes the same event (its first time), which the alert
    // keys by the verdict.
    expect(new Set(published().map((e) => JSON.stringify(e))).size).toBe(1);
    expect(published()[0]?.detail.occurredAt).toBe('2025-11-24T15:13:00.000Z');
    expect(counter('ana')).toBe(0);
  });

  it('turns DynamoDB throttling into the retryable error the state machine matches', async () => {
    docClient.on(BatchGetCommand).rejects(
      Object.assign(new Error('slow down'), {
        name: 'ProvisionedThroughputExceededException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const h = handlerFor();
    const error = await h.escalate(await h.plan()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlaRetryableError);
    expect((error as SlaRetryableError).name).toBe('SlaRetryableError');
    expect((error as Error).message).toContain('DEPENDENCY_UNAVAILABLE');
  });
});
