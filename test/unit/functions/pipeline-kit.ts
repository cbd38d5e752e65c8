/**
 * Test kit for the EventBridge-driven pipeline functions (enrich, score, route): an in-memory
 * single table behind mocked SDK clients, so the REAL adapters run unchanged (LeadRepository on
 * a mocked DynamoDBDocumentClient, Powertools' DynamoDBPersistenceLayer on a mocked
 * DynamoDBClient, EventPublisher on a mocked EventBridgeClient).
 *
 * The fake evaluates DynamoDB condition and key expressions with a small parser, so conditional
 * writes (versions, capacity, cursors, idempotency records) behave as they do in DynamoDB.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { EventPublisher } from '../../../shared/adapters/event-publisher';
import { DynamoDBStepRunner } from '../../../shared/adapters/idempotent-steps';
import { LeadRepository } from '../../../shared/adapters/lead-repository';
import { keys } from '../../../shared/contracts/table-design';
import type { Activity, Lead, LeadProfile } from '../../../shared/domain/lead';
import { type DetailType, EVENT_SOURCE, type EventDetailInput } from '../../../shared/events/catalogue';
import { logger } from '../../../shared/runtime/observability';

process.env.AWS_REGION ??= 'eu-west-1';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
logger.setLogLevel('SILENT');

export const TABLE = 'leads';
export const BUS = 'pipeline';

type Item = Record<string, unknown>;

// ------------------------------------------------------------------------------ expressions

type Token = { text: string };

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(<>|<=|>=|[()=<>,]|[#:]?[A-Za-z_][A-Za-z0-9_]*)/y;
  let index = 0;
  while (index < expression.length) {
    re.lastIndex = index;
    const match = re.exec(expression);
    if (!match?.[1]) {
      if (expression.slice(index).trim() === '') break;
      throw new Error(`FakeTable: cannot parse "${expression}" at ${index}`);
    }
    const text = match[1];
    tokens.push({ text });
    index = re.lastIndex;
  }
  return tokens;
}

interface Scope {
  readonly item: Item | undefined;
  readonly names: Record<string, string>;
  readonly values: Item;
}

/** Evaluates a condition or key-condition expression against an item (undefined: no item). */
export function evaluate(expression: string, scope: Scope): boolean {
  const tokens = tokenize(expression);
  let pos = 0;
  const peek = () => tokens[pos]?.text;
  const next = () => {
    const t = tokens[pos++];
    if (!t) throw new Error(`FakeTable: unexpected end of "${expression}"`);
    return t.text;
  };
  const expect = (text: string) => {
    const t = next();
    if (t !== text) throw new Error(`FakeTable: expected ${text} in "${expression}", got ${t}`);
  };
  const attributeName = (word: string) => (word.startsWith('#') ? (scope.names[word] ?? word) : word);
  const operand = (word: string): unknown => {
    if (word.startsWith(':')) {
      if (!(word in scope.values)) throw new Error(`FakeTable: missing value ${word}`);
      return scope.values[word];
    }
    return scope.item?.[attributeName(word)];
  };
  const compare = (a: unknown, op: string, b: unknown): boolean => {
    if (a === undefined || b === undefined) return op === '<>' && a !== b;
    const x = a as number | string;
    const y = b as number | string;
    switch (op) {
      case '=':
        return x === y;
      case '<>':
        return x !== y;
      case '<':
        return x < y;
      case '<=':
        return x <= y;
      case '>':
        return x > y;
      case '>=':
        return x >= y;
    }
    throw new Error(`FakeTable: unknown comparator ${op}`);
  };
  const primary = (): boolean => {
    const word = next();
    if (word === '(') {
      const value = orExpr();
      expect(')');
      return value;
    }
    if (word === 'NOT') return !primary();
    if (word === 'attribute_exists' || word === 'attribute_not_exists') {
      expect('(');
      const name = attributeName(next());
      expect(')');
      const exists = scope.item !== undefined && scope.item[name] !== undefined;
      return word === 'attribute_exists' ? exists : !exists;
    }
    if (word === 'begins_with') {
      expect('(');
      const a = operand(next());
      expect(',');
      const b = operand(next());
      expect(')');
      return typeof a === 'string' && typeof b === 'string' && a.startsWith(b);
    }
    const left = operand(word);
    const op = next();
    if (op === 'BETWEEN') {
      const low = operand(next());
      expect('AND');
      const high = operand(next());
      return compare(left, '>=', low) && compare(left, '<=', high);
    }
    return compare(left, op, operand(next()));
  };
  const andExpr = (): boolean => {
    let value = primary();
    while (peek() === 'AND') {
      next();
      const rhs = primary();
      value = value && rhs;
    }
    return value;
  };
  const orExpr = (): boolean => {
    let value = andExpr();
    while (peek() === 'OR') {
      next();
      const rhs = andExpr();
      value = value || rhs;
    }
    return value;
  };
  const result = orExpr();
  if (pos !== tokens.length) throw new Error(`FakeTable: trailing tokens in "${expression}"`);
  return result;
}

/** Applies `SET a = :v, ...` and `ADD n :d` clauses to an item (the forms the adapters use). */
function applyUpdate(item: Item, expression: string, names: Record<string, string>, values: Item): Item {
  const result = { ...item };
  const name = (w: string) => (w.startsWith('#') ? (names[w] ?? w) : w);
  for (const clause of expression.split(/\b(?=SET |ADD )/)) {
    const [keyword, ...rest] = clause.trim().split(/\s+/);
    const body = rest.join(' ');
    if (keyword === 'SET') {
      for (const assignment of body.split(',')) {
        const [lhs, rhs] = assignment.split('=').map((s) => s.trim());
        if (!lhs || !rhs) throw new Error(`FakeTable: bad SET ${assignment}`);
        result[name(lhs)] = values[rhs];
      }
    } else if (keyword === 'ADD') {
      const [lhs, rhs] = body.split(/\s+/);
      if (!lhs || !rhs) throw new Error(`FakeTable: bad ADD ${body}`);
      result[name(lhs)] = Number(result[name(lhs)] ?? 0) + Number(values[rhs]);
    } else if (keyword) throw new Error(`FakeTable: unsupported update ${clause}`);
  }
  return result;
}

// ------------------------------------------------------------------------------ the table

/** A throttling error as the SDK throws it. */
export function throttling(): Error {
  return Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
    name: 'ThrottlingException',
    $metadata: { httpStatusCode: 400 },
  });
}

/** A cancelled transaction with the given per-item reason codes. */
export function transactionCanceled(codes: string[]): TransactionCanceledException {
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
}

type CommandName =
  | 'GetCommand'
  | 'PutCommand'
  | 'DeleteCommand'
  | 'QueryCommand'
  | 'ScanCommand'
  | 'BatchGetCommand'
  | 'TransactWriteCommand'
  | 'UpdateCommand'
  | 'PutItemCommand'
  | 'GetItemCommand'
  | 'UpdateItemCommand'
  | 'DeleteItemCommand';

/**
 * The single table in memory. `failNext` injects an SDK failure for the next call of a
 * command; `beforeNext` runs a function just before the next call (a concurrent writer).
 */
export class FakeTable {
  readonly items = new Map<string, Item>();
  private readonly failures = new Map<CommandName, Array<() => unknown>>();
  private readonly interleaved = new Map<CommandName, Array<() => void>>();
  readonly calls: CommandName[] = [];

  static id(key: Item): string {
    return `${String(key.pk)}|${String(key.sk)}`;
  }

  /** The next call of `command` fails with `error` (after running nothing). */
  failNext(command: CommandName, error: unknown): this {
    const list = this.failures.get(command) ?? [];
    list.push(() => error);
    this.failures.set(command, list);
    return this;
  }

  /** Runs `fn` right before the next call of `command` is applied (simulates a concurrent writer). */
  beforeNext(command: CommandName, fn: () => void): this {
    const list = this.interleaved.get(command) ?? [];
    list.push(fn);
    this.interleaved.set(command, list);
    return this;
  }

  private enter(command: CommandName): void {
    this.calls.push(command);
    this.interleaved.get(command)?.shift()?.();
    const failure = this.failures.get(command)?.shift();
    if (failure) throw failure();
  }

  get(key: Item): Item | undefined {
    const item = this.items.get(FakeTable.id(key));
    return item ? structuredClone(item) : undefined;
  }

  put(item: Item): void {
    // Like the document client's removeUndefinedValues.
    this.items.set(FakeTable.id(item), JSON.parse(JSON.stringify(item)) as Item);
  }

  delete(key: Item): void {
    this.items.delete(FakeTable.id(key));
  }

  /** Every item whose pk starts with `prefix`. */
  byPk(prefix: string): Item[] {
    return [...this.items.values()].filter((i) => String(i.pk).startsWith(prefix));
  }

  // -- convenience for tests

  putLead(lead: Lead): void {
    this.put({ ...lead, ...keys.lead(lead.id), entity: 'lead' });
  }

  putActivities(activities: readonly Activity[]): void {
    for (const a of activities)
      this.put({ ...a, ...keys.activity(a.leadId, a.at, a.id), entity: 'activity' });
  }

  lead(leadId: string): Lead {
    const item = this.get(keys.lead(leadId));
    if (!item) throw new Error(`no lead ${leadId}`);
    return item as unknown as Lead;
  }

  activities(leadId: string): Activity[] {
    return this.byPk(`LEAD#${leadId}`).filter((i) => i.entity === 'activity') as unknown as Activity[];
  }

  scoreHistory(leadId: string): Item[] {
    return this.byPk(`LEAD#${leadId}`).filter((i) => i.entity === 'score');
  }

  openLeads(repId: string): number {
    return Number(this.get(keys.repCounters(repId))?.openLeads ?? 0);
  }

  setOpenLeads(repId: string, openLeads: number): void {
    this.put({ ...keys.repCounters(repId), entity: 'counters', openLeads });
  }

  cursor(teamId: string): Item | undefined {
    return this.get(keys.teamCursor(teamId));
  }

  // -- document client commands

  private condition(expression: string | undefined, item: Item | undefined, input: Item): boolean {
    if (!expression) return true;
    return evaluate(expression, {
      item,
      names: (input.ExpressionAttributeNames as Record<string, string>) ?? {},
      values: (input.ExpressionAttributeValues as Item) ?? {},
    });
  }

  handleDoc(command: CommandName, input: Item): unknown {
    this.enter(command);
    switch (command) {
      case 'GetCommand':
        return { Item: this.get(input.Key as Item) };
      case 'PutCommand': {
        const item = input.Item as Item;
        if (!this.condition(input.ConditionExpression as string, this.get(item), input))
          throw new ConditionalCheckFailedException({
            message: 'The conditional request failed',
            $metadata: {},
          });
        this.put(item);
        return {};
      }
      case 'DeleteCommand':
        this.delete(input.Key as Item);
        return {};
      case 'QueryCommand': {
        if (input.IndexName) throw new Error('FakeTable: index queries are not used by these functions');
        let rows = [...this.items.values()]
          .filter((item) => this.condition(input.KeyConditionExpression as string, item, input))
          .sort((a, b) => (String(a.sk) < String(b.sk) ? -1 : String(a.sk) > String(b.sk) ? 1 : 0));
        if (input.ScanIndexForward === false) rows.reverse();
        if (typeof input.Limit === 'number') rows = rows.slice(0, input.Limit);
        return { Items: rows.map((r) => structuredClone(r)) };
      }
      case 'ScanCommand':
        // One page holding every item (the erasure job pages until no LastEvaluatedKey).
        return { Items: [...this.items.values()].map((r) => structuredClone(r)) };
      case 'BatchGetCommand': {
        const requests = input.RequestItems as Record<string, { Keys: Item[] }>;
        const responses: Record<string, Item[]> = {};
        for (const [table, request] of Object.entries(requests)) {
          responses[table] = request.Keys.map((k) => this.get(k)).filter((i): i is Item => i !== undefined);
        }
        return { Responses: responses, UnprocessedKeys: {} };
      }
      case 'UpdateCommand': {
        const existing = this.get(input.Key as Item);
        if (!this.condition(input.ConditionExpression as string, existing, input))
          throw new ConditionalCheckFailedException({
            message: 'The conditional request failed',
            $metadata: {},
          });
        this.put(
          applyUpdate(
            { ...(existing ?? {}), ...(input.Key as Item) },
            input.UpdateExpression as string,
            (input.ExpressionAttributeNames as Record<string, string>) ?? {},
            (input.ExpressionAttributeValues as Item) ?? {},
          ),
        );
        return {};
      }
      case 'TransactWriteCommand':
        this.transact(input as TransactWriteCommandInput);
        return {};
      default:
        throw new Error(`FakeTable: unexpected document command ${command}`);
    }
  }

  private transact(input: TransactWriteCommandInput): void {
    const entries = input.TransactItems ?? [];
    const reasons = entries.map((entry) => {
      const op = (entry.Put ?? entry.Update ?? entry.Delete ?? entry.ConditionCheck) as Item | undefined;
      if (!op) throw new Error('FakeTable: empty transaction item');
      const key = (entry.Put ? entry.Put.Item : op.Key) as Item;
      return this.condition(op.ConditionExpression as string, this.get(key), op)
        ? 'None'
        : 'ConditionalCheckFailed';
    });
    if (reasons.some((r) => r !== 'None')) throw transactionCanceled(reasons);
    for (const entry of entries) {
      if (entry.Put) this.put(entry.Put.Item as Item);
      else if (entry.Delete) this.delete(entry.Delete.Key as Item);
      else if (entry.Update) {
        const existing = this.get(entry.Update.Key as Item);
        this.put(
          applyUpdate(
            { ...(existing ?? {}), ...(entry.Update.Key as Item) },
            entry.Update.UpdateExpression as string,
            (entry.Update.ExpressionAttributeNames as Record<string, string>) ?? {},
            (entry.Update.ExpressionAttributeValues as Item) ?? {},
          ),
        );
      }
    }
  }

  // -- raw client commands (Powertools idempotency records)

  handleRaw(command: CommandName, input: Item): unknown {
    this.enter(command);
    const values = input.ExpressionAttributeValues
      ? unmarshall(input.ExpressionAttributeValues as Parameters<typeof unmarshall>[0])
      : {};
    const names = (input.ExpressionAttributeNames as Record<string, string>) ?? {};
    switch (command) {
      case 'PutItemCommand': {
        const item = unmarshall(input.Item as Parameters<typeof unmarshall>[0]);
        const existing = this.get(item);
        if (
          input.ConditionExpression &&
          !evaluate(input.ConditionExpression as string, { item: existing, names, values })
        ) {
          throw new ConditionalCheckFailedException({
            message: 'The conditional request failed',
            $metadata: {},
            ...(existing ? { Item: marshall(existing) } : {}),
          });
        }
        this.put(item);
        return {};
      }
      case 'GetItemCommand': {
        const item = this.get(unmarshall(input.Key as Parameters<typeof unmarshall>[0]));
        return { Item: item ? marshall(item) : undefined };
      }
      case 'UpdateItemCommand': {
        const key = unmarshall(input.Key as Parameters<typeof unmarshall>[0]);
        this.put(
          applyUpdate({ ...(this.get(key) ?? {}), ...key }, input.UpdateExpression as string, names, values),
        );
        return {};
      }
      case 'DeleteItemCommand':
        this.delete(unmarshall(input.Key as Parameters<typeof unmarshall>[0]));
        return {};
      default:
        throw new Error(`FakeTable: unexpected raw command ${command}`);
    }
  }
}

// ------------------------------------------------------------------------------ the harness

/** Published entries, parsed. */
export interface Published {
  readonly detailType: string;
  readonly detail: Record<string, unknown>;
}

/**
 * Mocked clients wired to one {@link FakeTable}, plus the real adapters built on them.
 * Call {@link Harness.restore} in `afterEach`.
 */
export class Harness {
  readonly table = new FakeTable();
  readonly docClient = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
  readonly rawClient = new DynamoDBClient({});
  readonly eventBridgeClient = new EventBridgeClient({});
  readonly docMock = mockClient(this.docClient);
  readonly rawMock = mockClient(this.rawClient);
  readonly ebMock = mockClient(this.eventBridgeClient);
  readonly published: Published[] = [];
  private readonly ebFailures: unknown[] = [];

  readonly repository = new LeadRepository(TABLE, this.docClient);
  readonly publisher = new EventPublisher(BUS, this.eventBridgeClient, async () => {});

  constructor() {
    const doc: Array<[CommandName, new (input: never) => unknown]> = [
      ['GetCommand', GetCommand],
      ['PutCommand', PutCommand],
      ['DeleteCommand', DeleteCommand],
      ['QueryCommand', QueryCommand],
      ['ScanCommand', ScanCommand],
      ['BatchGetCommand', BatchGetCommand],
      ['TransactWriteCommand', TransactWriteCommand],
      ['UpdateCommand', UpdateCommand],
    ];
    for (const [name, command] of doc) {
      this.docMock.on(command as never).callsFake(async (input: Item) => this.table.handleDoc(name, input));
    }
    const raw: Array<[CommandName, new (input: never) => unknown]> = [
      ['PutItemCommand', PutItemCommand],
      ['GetItemCommand', GetItemCommand],
      ['UpdateItemCommand', UpdateItemCommand],
      ['DeleteItemCommand', DeleteItemCommand],
    ];
    for (const [name, command] of raw) {
      this.rawMock.on(command as never).callsFake(async (input: Item) => this.table.handleRaw(name, input));
    }
    this.ebMock.on(PutEventsCommand).callsFake(async (input: { Entries: PutEventsRequestEntry[] }) => {
      const failure = this.ebFailures.shift();
      if (failure) throw failure;
      for (const entry of input.Entries) {
        if (entry.Source !== EVENT_SOURCE || entry.EventBusName !== BUS)
          throw new Error('wrong bus or source');
        this.published.push({
          detailType: String(entry.DetailType),
          detail: JSON.parse(String(entry.Detail)) as Record<string, unknown>,
        });
      }
      return { FailedEntryCount: 0, Entries: input.Entries.map((_, i) => ({ EventId: `published-${i}` })) };
    });
  }

  /** The next PutEvents call fails with `error`. */
  failNextPublish(error: unknown): this {
    this.ebFailures.push(error);
    return this;
  }

  /** A real step runner on the mocked raw client, records under `IDEMPOTENCY#<functionName>`. */
  steps(functionName: string): DynamoDBStepRunner {
    return new DynamoDBStepRunner({ tableName: TABLE, functionName, client: this.rawClient });
  }

  ofType(detailType: string): Published[] {
    return this.published.filter((p) => p.detailType === detailType);
  }

  restore(): void {
    this.docMock.restore();
    this.rawMock.restore();
    this.ebMock.restore();
  }
}

/** A Lambda context: the step runner sets in-progress expiry from its remaining time. */
export function lambdaContext(remainingMs = 60_000): Context {
  return {
    functionName: 'lead-pipeline-test',
    awsRequestId: 'request-1',
    getRemainingTimeInMillis: () => remainingMs,
  } as unknown as Context;
}

/** An EventBridge event as a rule target receives it. */
export function eventBridgeEvent<T extends DetailType>(
  detailType: T,
  detail: EventDetailInput<T>,
  id = `evt-${Math.random().toString(36).slice(2)}`,
): Record<string, unknown> {
  return {
    version: '0',
    id,
    'detail-type': detailType,
    source: EVENT_SOURCE,
    account: '123456789012',
    time: '2026-03-02T09:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail,
  };
}

/** A stored lead with sensible defaults. */
export function makeLead(
  overrides: Omit<Partial<Lead>, 'profile'> & { profile?: Partial<LeadProfile> } = {},
): Lead {
  const { profile, ...rest } = overrides;
  return {
    id: 'lead-1',
    createdAt: '2026-03-02T08:00:00.000Z',
    updatedAt: '2026-03-02T08:00:00.000Z',
    profile: {
      email: 'jane.doe@acme-software.example',
      dedupeKey: 'jane.doe@acme-software.example',
      companyDomain: 'acme-software.example',
      isFreeMail: false,
      isDisposable: false,
      extra: {},
      droppedFields: [],
      ...profile,
    },
    source: { channel: 'organic', provider: 'form', utm: {} },
    isTest: false,
    status: 'new',
    stage: 'lead',
    priority: 'normal',
    unsubscribed: false,
    version: 0,
    ...rest,
  };
}

/** An activity of the lead. */
export function activity(
  leadId: string,
  type: Activity['type'],
  at: string,
  data: Activity['data'] = {},
  id = `${type}-${at}`,
): Activity {
  return { id, leadId, type, at, data };
}
