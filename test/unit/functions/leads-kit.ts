/**
 * Test kit for the leads API, reports API and stale-deals sweep: the shared {@link Harness}
 * (in-memory table behind mocked SDK clients, REAL adapters) extended with what these functions
 * use and the EventBridge consumers do not: GSI queries with filter expressions, `Limit` and
 * `ExclusiveStartKey` as DynamoDB applies them (limit before filter), nested attribute paths
 * (`#score.#total`, `SET #data.#announced`), plus an EventBridge Scheduler mock (the SLA ladder's rungs) and API Gateway JWT events.
 */
import {
  DeleteScheduleCommand,
  type DeleteScheduleCommandInput,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { loadClientConfig } from '../../../shared/config/load';
import type { ClientConfig } from '../../../shared/config/schema';
import { INDEXES, type IndexName } from '../../../shared/contracts/table-design';
import type { Lead } from '../../../shared/domain/lead';
import { REP_ID_CLAIM } from '../../../shared/http/auth';
import { evaluate, FakeTable, Harness } from './pipeline-kit';

export { activity, makeLead, TABLE, throttling, transactionCanceled } from './pipeline-kit';

export const config: ClientConfig = loadClientConfig('example', 'clients');
/** The schedule group of the SLA ladders' rungs. */
export const SLA_SCHEDULE_GROUP = 'SlaRungs';
/** A ladder's id is its name (`slaExecutionName`): its rungs are `<name>-r<k>`. */
export const slaExecution = (name: string) => name;

type Item = Record<string, unknown>;

/** `#a.#b` paths become one synthetic name over a flattened item, so the kit's evaluator reads them. */
function withPaths(
  expression: string,
  names: Record<string, string>,
): { expression: string; names: Record<string, string> } {
  const all = { ...names };
  const rewritten = expression.replace(/(#\w+)\.(#\w+)/g, (_m, a: string, b: string) => {
    const synthetic = `${a}__${b.slice(1)}`;
    all[synthetic] = `${names[a] ?? a}.${names[b] ?? b}`;
    return synthetic;
  });
  return { expression: rewritten, names: all };
}

function flatten(item: Item): Item {
  const flat: Item = { ...item };
  for (const [key, value] of Object.entries(item)) {
    if (value && typeof value === 'object' && !Array.isArray(value))
      for (const [sub, v] of Object.entries(value as Item)) flat[`${key}.${sub}`] = v;
  }
  return flat;
}

function holds(expression: string | undefined, item: Item, input: Item): boolean {
  if (!expression) return true;
  const { expression: e, names } = withPaths(
    expression,
    (input.ExpressionAttributeNames as Record<string, string>) ?? {},
  );
  return evaluate(e, { item: flatten(item), names, values: (input.ExpressionAttributeValues as Item) ?? {} });
}

/** The {@link Harness} plus index queries, nested updates and the SFN mock. */
export class LeadsHarness extends Harness {
  readonly schedulerClient = new SchedulerClient({});
  readonly schedulerMock = mockClient(this.schedulerClient);
  /** Rung schedules deleted (`DeleteSchedule`), in order. */
  readonly deletedRungs: DeleteScheduleCommandInput[] = [];
  readonly queries: Item[] = [];
  private readonly queryFailures: unknown[] = [];
  private readonly schedulerFailures: unknown[] = [];

  constructor() {
    super();
    this.docMock.on(QueryCommand).callsFake(async (input: Item) => this.query(input));
    this.docMock.on(UpdateCommand).callsFake(async (input: Item) => {
      if (!String(input.UpdateExpression).includes('.')) return this.table.handleDoc('UpdateCommand', input);
      return this.nestedUpdate(input);
    });
    this.schedulerMock.on(DeleteScheduleCommand).callsFake(async (input: DeleteScheduleCommandInput) => {
      const failure = this.schedulerFailures.shift();
      if (failure) throw failure;
      this.deletedRungs.push(input);
      return {};
    });
  }

  /** Ladders cancelled: those whose first rung was deleted, as `{ executionArn: ladder }`. */
  get stopped(): Array<{ executionArn: string }> {
    return this.deletedRungs
      .filter((d) => d.GroupName === SLA_SCHEDULE_GROUP && d.Name?.endsWith('-r1'))
      .map((d) => ({ executionArn: String(d.Name).slice(0, -'-r1'.length) }));
  }

  /** The next Query call fails with `error`. */
  failNextQuery(error: unknown): this {
    this.queryFailures.push(error);
    return this;
  }

  /** The next DeleteSchedule call fails with `error`. */
  failNextStop(error: unknown): this {
    this.schedulerFailures.push(error);
    return this;
  }

  /** Stores a lead the way the repository does (with its index attributes and dedupe pointer). */
  async seed(...leads: Lead[]): Promise<void> {
    for (const lead of leads) {
      await this.repository.createLead(
        lead,
        [],
        lead.source.externalId ? { provider: lead.source.provider, id: lead.source.externalId } : undefined,
      );
    }
  }

  /** Items of a lead partition by sort-key prefix. */
  partition(leadId: string, prefix = ''): Item[] {
    return this.table.byPk(`LEAD#${leadId}`).filter((i) => String(i.sk).startsWith(prefix));
  }

  override restore(): void {
    super.restore();
    this.schedulerMock.restore();
  }

  private query(input: Item): Item {
    this.queries.push(input);
    const failure = this.queryFailures.shift();
    if (failure) throw failure;
    const index = input.IndexName
      ? INDEXES[input.IndexName as IndexName]
      : { partitionKey: 'pk', sortKey: 'sk' };
    let rows = [...this.table.items.values()]
      .filter((item) => item[index.partitionKey] !== undefined)
      .filter((item) => holds(input.KeyConditionExpression as string, item, input))
      .sort((a, b) => {
        const x = String(a[index.sortKey] ?? '');
        const y = String(b[index.sortKey] ?? '');
        return x < y ? -1 : x > y ? 1 : FakeTable.id(a).localeCompare(FakeTable.id(b));
      });
    if (input.ScanIndexForward === false) rows.reverse();
    const start = input.ExclusiveStartKey as Item | undefined;
    if (start) {
      const position = rows.findIndex((r) => r.pk === start.pk && r.sk === start.sk);
      rows = position < 0 ? [] : rows.slice(position + 1);
    }
    const limit = typeof input.Limit === 'number' ? input.Limit : undefined;
    const page = limit === undefined ? rows : rows.slice(0, limit);
    const more = limit !== undefined && rows.length > limit;
    const last = page.at(-1);
    const keyAttributes = ['pk', 'sk', ...(input.IndexName ? [index.partitionKey, index.sortKey] : [])];
    // The indexes project keys only (KEYS_ONLY), as in the stack: readers must fetch the leads.
    const project = (item: Item): Item =>
      input.IndexName ? Object.fromEntries(keyAttributes.map((k) => [k, item[k]])) : structuredClone(item);
    return {
      Items: page
        .filter((item) => holds(input.FilterExpression as string | undefined, item, input))
        .map(project),
      ...(more && last
        ? { LastEvaluatedKey: Object.fromEntries(keyAttributes.map((k) => [k, last[k]])) }
        : {}),
    };
  }

  private nestedUpdate(input: Item): Item {
    const key = input.Key as Item;
    const existing = this.table.get(key);
    if (
      !holds(input.ConditionExpression as string, existing ?? {}, input) ||
      (!existing && input.ConditionExpression)
    )
      throw Object.assign(new Error('The conditional request failed'), {
        name: 'ConditionalCheckFailedException',
      });
    const names = (input.ExpressionAttributeNames as Record<string, string>) ?? {};
    const values = (input.ExpressionAttributeValues as Item) ?? {};
    const item = structuredClone(existing ?? { ...key });
    const body = String(input.UpdateExpression).replace(/^SET\s+/, '');
    for (const assignment of body.split(',')) {
      const [lhs = '', rhs = ''] = assignment.split('=').map((s) => s.trim());
      const path = lhs.split('.').map((p) => names[p] ?? p);
      let target = item;
      for (const part of path.slice(0, -1)) {
        target[part] ??= {};
        target = target[part] as Item;
      }
      target[path.at(-1) as string] = values[rhs];
    }
    this.table.put(item);
    return {};
  }
}

/** Claims for a configured rep (named by the admin-written rep id) in the given groups, as the HTTP API JWT authorizer flattens them. */
export function claimsFor(repId: string | undefined, groups: string[], extra: Record<string, unknown> = {}) {
  const rep = config.reps.find((r) => r.id === repId);
  return {
    sub: `sub-${repId ?? 'admin'}`,
    ...(rep ? { email: rep.email, [REP_ID_CLAIM]: rep.id } : { email: 'ops-admin@northwind.example' }),
    'cognito:groups': `[${groups.join(' ')}]`,
    ...extra,
  };
}

/** An HTTP API (payload 2.0) request on a JWT route. */
export function apiEvent(
  routeKey: string,
  options: {
    claims?: Record<string, unknown>;
    pathParameters?: Record<string, string>;
    query?: Record<string, string>;
    body?: unknown;
    headers?: Record<string, string>;
  } = {},
): APIGatewayProxyEventV2 {
  const [method = 'GET', path = '/'] = routeKey.split(' ');
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.headers ?? {}),
    },
    ...(options.query ? { queryStringParameters: options.query } : {}),
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'vitest' },
      requestId: 'req-1',
      routeKey,
      stage: '$default',
      time: '10/Mar/2026:12:00:00 +0000',
      timeEpoch: 1_773_144_000_000,
      ...(options.claims ? { authorizer: { jwt: { claims: options.claims, scopes: [] } } } : {}),
    },
  } as unknown as APIGatewayProxyEventV2;
}

/** The JSON body of a response. */
export function body<T = Record<string, unknown>>(result: { body?: string }): T {
  return JSON.parse(result.body ?? 'null') as T;
}
