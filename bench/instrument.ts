import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BusEvent, LocalRuntime } from '../local/runtime';

/**
 * What the benchmark observes inside a running {@link LocalRuntime}, without changing what the
 * pipeline does:
 *
 * - every Lambda invocation per function (count, handler duration, errors, cold starts), its
 *   `action` for workflow tasks, and the first event each function received (replayed by the
 *   cold-start measurement);
 * - every AWS call at the local endpoints attributed to the function that made it: each
 *   function's SDK clients are given `AWS_SDK_UA_APP_ID=<function>`, which the SDK puts in its
 *   user agent (`app/<function>`);
 * - DynamoDB capacity: requests pass through the runtime's counting proxy, where the harness
 *   asks DynamoDB Local for `ReturnConsumedCapacity: INDEXES` (unless the function asked itself)
 *   and adds up the read and write units it answers, table and indexes apart. DynamoDB Local
 *   computes them as DynamoDB does (1 KB write units, 4 KB read units, transactions double,
 *   index writes, updates that move an index key count twice);
 * - Step Functions state transitions per state machine, from the emulator's event log
 *   (`StateEntered`, `StateRetried`), and the bytes those events would log at `Level: ALL`;
 * - every lead created (`Lead Captured`), when it was scored and routed, and when its first
 *   Slack and SNS alerts arrived.
 *
 * The hooks reach into the runtime's private members (`aws.handle`, `aws.dynamoProxy`,
 * `stepFunctions.machines`); each is optional, and a missing one is reported in
 * {@link Instrumentation.warnings} rather than breaking the run.
 */

/** Per-function Lambda counters. */
export interface LambdaCounters {
  invocations: number;
  durationMs: number;
  errors: number;
  coldStarts: number;
  /** Invocations that found a warm environment, and their handler time. */
  warmInvocations: number;
  warmDurationMs: number;
}

/** DynamoDB capacity per function (request units as DynamoDB bills them on demand). */
export interface CapacityCounters {
  readUnits: number;
  writeUnits: number;
  /** Part of `writeUnits` spent on global secondary indexes. */
  indexWriteUnits: number;
  /** Write requests refused by a condition or a cancelled transaction (billed, units unknown). */
  failedWrites: number;
  /** Part of `failedWrites` that were transactions. */
  failedTransactions: number;
  /** Items in refused transactions (each billed as attempted: 2 units per KB). */
  failedTransactionItems: number;
}

/** Step Functions counters per state machine. */
export interface MachineCounters {
  executions: number;
  transitions: number;
  retries: number;
  /** JSON bytes of the state events (what `Level: ALL` with execution data would log). */
  logBytes: number;
}

/** A point-in-time copy of every counter, for differences between phases. */
export interface Snapshot {
  readonly at: number;
  readonly lambda: Record<string, LambdaCounters>;
  readonly actions: Record<string, number>;
  readonly awsByFunction: Record<string, Record<string, number>>;
  readonly capacity: Record<string, CapacityCounters>;
  readonly machines: Record<string, MachineCounters>;
  readonly awsCalls: Record<string, number>;
  readonly busAccepted: number;
  /** Leads created so far (`Lead Captured` events seen). */
  readonly capturedLeads: number;
  readonly customEvents: number;
  /** Custom events by detail-type. */
  readonly customEventsByType: Record<string, number>;
  readonly serviceEvents: number;
  readonly deadLetters: number;
}

/** What the harness knows about one lead from the bus and the alert recorders. */
export interface LeadTrace {
  capturedAt?: number;
  scoredAt?: number;
  stage?: string;
  routedAs?: 'Lead Assigned' | 'Lead Held' | 'Lead Nurtured';
  assignedAt?: number;
  sequenceId?: string;
  slackAt?: number;
  snsAt?: number;
}

const UNATTRIBUTED = '(unattributed)';
const ROUTING_EVENTS = new Set(['Lead Assigned', 'Lead Held', 'Lead Nurtured']);
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const READ_OPERATIONS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);

type Handle = (req: IncomingMessage, res: ServerResponse) => Promise<void>;
type DynamoProxy = (req: IncomingMessage, target: string, body: string, res: ServerResponse) => Promise<void>;
interface TappableMachine {
  run: (input: unknown, options?: unknown) => { eventLogs?: AsyncIterable<{ type?: string }> };
}

export class Instrumentation {
  readonly lambda: Record<string, LambdaCounters> = {};
  /** `<function>:<action>` for invocations whose event has an `action` (workflow tasks). */
  readonly actions: Record<string, number> = {};
  readonly awsByFunction: Record<string, Record<string, number>> = {};
  readonly capacity: Record<string, CapacityCounters> = {};
  readonly machines: Record<string, MachineCounters> = {};
  /** The first event each function received. */
  readonly firstEvents = new Map<string, unknown>();
  readonly leads = new Map<string, LeadTrace>();
  readonly warnings: string[] = [];
  customEvents = 0;
  /** Custom events by detail-type: which steps make up the events per lead. */
  readonly customEventsByType: Record<string, number> = {};
  serviceEvents = 0;
  /** Leads created (`Lead Captured`), whether or not their client saw the answer. */
  capturedLeads = 0;
  /** Function invocations running or waiting for an environment (API requests included). */
  invocationsInFlight = 0;
  /** DynamoDB requests in flight at the proxy, now and at most. */
  dynamoInFlight = 0;
  dynamoInFlightPeak = 0;
  private dynamoInFlightArea = 0;
  private dynamoInFlightSince = Date.now();
  private dynamoInFlightLast = Date.now();
  private readonly appIds = new Map<string, string>();

  constructor(private readonly runtime: LocalRuntime) {}

  /** Installs every hook. Call right after `runtime.start()`, before sending traffic. */
  install(): void {
    this.wrapFunctions();
    this.tapAwsEndpoints();
    this.tapStepFunctions();
    this.runtime.bus.subscribe((event) => this.onEvent(event));
    this.runtime.aws.onRecord((kind, record) => {
      const at = Date.now();
      const text = JSON.stringify(kind === 'slack' ? (record as { body: unknown }).body : record);
      for (const id of new Set(text.match(UUID) ?? [])) {
        const trace = this.leads.get(id);
        if (!trace) continue;
        if (kind === 'slack') trace.slackAt ??= at;
        else trace.snsAt ??= at;
      }
    });
  }

  /** Copies every counter. */
  snapshot(): Snapshot {
    return structuredClone({
      at: Date.now(),
      lambda: this.lambda,
      actions: this.actions,
      awsByFunction: this.awsByFunction,
      capacity: this.capacity,
      machines: this.machines,
      awsCalls: { ...this.runtime.aws.calls },
      busAccepted: this.runtime.bus.accepted,
      capturedLeads: this.capturedLeads,
      customEvents: this.customEvents,
      customEventsByType: this.customEventsByType,
      serviceEvents: this.serviceEvents,
      deadLetters: this.runtime.bus.deadLetters.length,
    });
  }

  /** Mean number of DynamoDB requests in flight since the last call (time-weighted). */
  takeMeanDynamoInFlight(): number {
    this.accumulateInFlight();
    const elapsed = Date.now() - this.dynamoInFlightSince;
    const mean = elapsed > 0 ? this.dynamoInFlightArea / elapsed : 0;
    this.dynamoInFlightArea = 0;
    this.dynamoInFlightSince = Date.now();
    return mean;
  }

  /** The function a request came from, by the `app/<id>` its SDK put in the user agent. */
  functionOf(req: IncomingMessage): string {
    const agent = `${req.headers['x-amz-user-agent'] ?? ''} ${req.headers['user-agent'] ?? ''}`;
    const token = /(?:^|\s)app\/([^\s]+)/.exec(agent)?.[1];
    if (!token) return UNATTRIBUTED;
    const exact = this.appIds.get(token);
    if (exact) return exact;
    // Powertools appends its own marker to the app id (`app/<id>-PT-...`): longest prefix wins.
    let best: string | undefined;
    for (const id of this.appIds.keys()) {
      if (token.startsWith(`${id}-`) && (!best || id.length > best.length)) best = id;
    }
    return (best && this.appIds.get(best)) ?? UNATTRIBUTED;
  }

  private wrapFunctions(): void {
    for (const [name, pool] of this.runtime.functions) {
      // Read by the SDK when the environment (worker) starts, so set before any invocation.
      const appId = name.slice(0, 50);
      (pool.spec.environment as Record<string, string>).AWS_SDK_UA_APP_ID = appId;
      this.appIds.set(appId, name);
      const counters: LambdaCounters = {
        invocations: 0,
        durationMs: 0,
        errors: 0,
        coldStarts: 0,
        warmInvocations: 0,
        warmDurationMs: 0,
      };
      this.lambda[name] = counters;
      const invoke = pool.invoke.bind(pool);
      pool.invoke = async (event: unknown) => {
        if (!this.firstEvents.has(name)) this.firstEvents.set(name, structuredClone(event));
        const action = (event as { action?: unknown } | null)?.action;
        if (typeof action === 'string') {
          const key = `${name}:${action}`;
          this.actions[key] = (this.actions[key] ?? 0) + 1;
        }
        this.invocationsInFlight += 1;
        const result = await invoke(event).finally(() => {
          this.invocationsInFlight -= 1;
        });
        counters.invocations += 1;
        counters.durationMs += result.durationMs;
        if (!result.ok) counters.errors += 1;
        if (result.coldStart) counters.coldStarts += 1;
        else {
          counters.warmInvocations += 1;
          counters.warmDurationMs += result.durationMs;
        }
        return result;
      };
    }
    if ([...this.runtime.functions.values()].some((p) => p.invocations > 0)) {
      this.warnings.push(
        'some functions ran before the harness attached (scheduled rules): their first environments ' +
          'are not attributed and show as "(unattributed)" AWS calls',
      );
    }
  }

  private tapAwsEndpoints(): void {
    const endpoints = this.runtime.aws as unknown as { handle?: Handle; dynamoProxy?: DynamoProxy };
    const handle = endpoints.handle;
    if (typeof handle !== 'function') {
      this.warnings.push('could not attribute AWS calls to functions (LocalAwsEndpoints.handle changed)');
    } else {
      endpoints.handle = (req, res) => {
        const operation = operationOf(req);
        if (operation) {
          const fn = this.functionOf(req);
          const calls = this.awsByFunction[fn] ?? {};
          this.awsByFunction[fn] = calls;
          calls[operation] = (calls[operation] ?? 0) + 1;
        }
        return handle.call(this.runtime.aws, req, res);
      };
    }
    const proxy = endpoints.dynamoProxy;
    if (typeof proxy !== 'function') {
      this.warnings.push(
        'could not measure DynamoDB capacity (LocalAwsEndpoints.dynamoProxy changed): units are estimated',
      );
      return;
    }
    endpoints.dynamoProxy = (req, target, body, res) => {
      const operation = target.split('.')[1] ?? target;
      const fn = this.functionOf(req);
      let input: Record<string, unknown> | undefined;
      let forwarded = body;
      try {
        input = JSON.parse(body) as Record<string, unknown>;
        if (!input.ReturnConsumedCapacity || input.ReturnConsumedCapacity === 'NONE') {
          forwarded = JSON.stringify({ ...input, ReturnConsumedCapacity: 'INDEXES' });
        }
      } catch {
        input = undefined;
      }
      const chunks: Buffer[] = [];
      const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
      const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
      res.write = ((chunk: unknown, ...rest: unknown[]) => {
        if (chunk) chunks.push(Buffer.from(chunk as Buffer));
        return write(chunk, ...rest);
      }) as typeof res.write;
      res.end = ((...args: unknown[]) => {
        const [chunk] = args;
        if (chunk && typeof chunk !== 'function') chunks.push(Buffer.from(chunk as Buffer));
        this.recordCapacity(fn, operation, input, res.statusCode, Buffer.concat(chunks).toString('utf8'));
        return end(...args);
      }) as typeof res.end;
      this.accumulateInFlight();
      this.dynamoInFlight += 1;
      this.dynamoInFlightPeak = Math.max(this.dynamoInFlightPeak, this.dynamoInFlight);
      res.once('close', () => {
        this.accumulateInFlight();
        this.dynamoInFlight -= 1;
      });
      return proxy.call(this.runtime.aws, req, target, forwarded, res);
    };
  }

  private accumulateInFlight(): void {
    const now = Date.now();
    this.dynamoInFlightArea += this.dynamoInFlight * (now - this.dynamoInFlightLast);
    this.dynamoInFlightLast = now;
  }

  private recordCapacity(
    fn: string,
    operation: string,
    input: Record<string, unknown> | undefined,
    status: number,
    body: string,
  ): void {
    const counters = this.capacity[fn] ?? {
      readUnits: 0,
      writeUnits: 0,
      indexWriteUnits: 0,
      failedWrites: 0,
      failedTransactions: 0,
      failedTransactionItems: 0,
    };
    this.capacity[fn] = counters;
    const isRead = READ_OPERATIONS.has(operation);
    if (status >= 300) {
      if (!isRead && /ConditionalCheckFailed|TransactionCanceled/.test(body)) {
        counters.failedWrites += 1;
        if (operation === 'TransactWriteItems') {
          counters.failedTransactions += 1;
          counters.failedTransactionItems += Array.isArray(input?.TransactItems)
            ? input.TransactItems.length
            : 0;
        }
      }
      return;
    }
    let consumed: unknown;
    try {
      consumed = (JSON.parse(body) as { ConsumedCapacity?: unknown }).ConsumedCapacity;
    } catch {
      return;
    }
    for (const entry of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
      const c = entry as {
        CapacityUnits?: number;
        ReadCapacityUnits?: number;
        WriteCapacityUnits?: number;
        GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
      };
      const units = c.CapacityUnits ?? 0;
      if (isRead) counters.readUnits += units;
      else {
        counters.writeUnits += units;
        for (const index of Object.values(c.GlobalSecondaryIndexes ?? {}))
          counters.indexWriteUnits += index.CapacityUnits ?? 0;
      }
    }
  }

  private tapStepFunctions(): void {
    const machines = (this.runtime.stepFunctions as unknown as { machines?: unknown }).machines;
    if (!(machines instanceof Map)) {
      this.warnings.push(
        'could not count Step Functions transitions (LocalStepFunctions.machines changed): ' +
          'transitions come from the definitions only',
      );
      return;
    }
    for (const [arn, entry] of machines as Map<string, { machine?: TappableMachine }>) {
      const machine = entry.machine;
      if (!machine || typeof machine.run !== 'function') continue;
      const name = String(arn).split(':').pop() ?? String(arn);
      const counters: MachineCounters = { executions: 0, transitions: 0, retries: 0, logBytes: 0 };
      this.machines[name] = counters;
      const run = machine.run.bind(machine);
      machine.run = (input, options) => {
        const execution = run(input, options);
        counters.executions += 1;
        const logs = execution.eventLogs;
        if (logs) {
          void (async () => {
            for await (const event of logs) {
              if (event.type === 'StateEntered') counters.transitions += 1;
              if (event.type === 'StateRetried') counters.retries += 1;
              if (event.type?.startsWith('State')) counters.logBytes += JSON.stringify(event).length;
            }
          })().catch(() => undefined);
        }
        return execution;
      };
    }
  }

  private onEvent(event: BusEvent): void {
    if (event.source.startsWith('aws.')) this.serviceEvents += 1;
    else {
      this.customEvents += 1;
      this.customEventsByType[event['detail-type']] =
        (this.customEventsByType[event['detail-type']] ?? 0) + 1;
    }
    const detail = event.detail as { leadId?: unknown; stage?: unknown; sequenceId?: unknown } | null;
    const leadId = typeof detail?.leadId === 'string' ? detail.leadId : undefined;
    if (!leadId) return;
    const type = event['detail-type'];
    const now = Date.now();
    let trace = this.leads.get(leadId);
    if (!trace && type === 'Lead Captured') {
      trace = { capturedAt: now };
      this.leads.set(leadId, trace);
      this.capturedLeads += 1;
    }
    if (!trace) return;
    if (type === 'Lead Scored') {
      trace.scoredAt ??= now;
      if (typeof detail?.stage === 'string') trace.stage = detail.stage;
    }
    if (ROUTING_EVENTS.has(type) && !trace.routedAs) {
      trace.routedAs = type as LeadTrace['routedAs'];
      if (type === 'Lead Assigned') trace.assignedAt = now;
      if (typeof detail?.sequenceId === 'string') trace.sequenceId = detail.sequenceId;
    }
  }
}

/** `Service.Operation` of a request to the local AWS endpoints, or `undefined` for the harness's own. */
function operationOf(req: IncomingMessage): string | undefined {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (path.startsWith('/_local/')) return undefined;
  if (path.startsWith('/slack/')) return 'Slack.IncomingWebhook';
  if (path === '/v2/email/outbound-emails') return 'SESv2.SendEmail';
  if (path.startsWith('/v2/email/') || path.startsWith('/v1/email/')) return `SES.${req.method} ${path}`;
  const target = String(req.headers['x-amz-target'] ?? '');
  if (target) {
    const [prefix = '', operation = ''] = target.split('.');
    const service = prefix.startsWith('DynamoDB')
      ? 'DynamoDB'
      : prefix === 'AWSEvents'
        ? 'EventBridge'
        : prefix === 'AWSStepFunctions'
          ? 'StepFunctions'
          : prefix === 'secretsmanager'
            ? 'SecretsManager'
            : prefix;
    return `${service}.${operation}`;
  }
  // The query protocol (SNS) names its action in the body; Publish is the only one used.
  if (String(req.headers['content-type'] ?? '').includes('x-www-form-urlencoded')) return 'SNS.Publish';
  return `other.${req.method}`;
}
