import { readFileSync } from 'node:fs';
import type { CapacityCounters } from './instrument';

/**
 * The benchmark's cost model: billable quantities ({@link Usage}) measured at the local
 * endpoints, priced with `bench/pricing.json`.
 */

export interface Price {
  readonly usd: number;
  readonly per: number;
  readonly unit: string;
  readonly source: string;
}

export interface Pricing {
  readonly region: string;
  readonly asOf: string;
  readonly status: string;
  readonly prices: Record<PriceKey, Price>;
  readonly assumptions: { lambdaPlatformLogBytesPerInvocation: number; notPriced: string[] };
}

export type PriceKey =
  | 'apiGatewayHttpRequest'
  | 'lambdaRequest'
  | 'lambdaGbSecondArm64'
  | 'lambdaGbSecondX86'
  | 'dynamoDbWriteRequestUnit'
  | 'dynamoDbReadRequestUnit'
  | 'eventBridgeCustomEvent'
  | 'stepFunctionsStandardTransition'
  | 'stepFunctionsExpressRequest'
  | 'stepFunctionsExpressGbSecond'
  | 'schedulerInvocation'
  | 'sesEmail'
  | 'snsPublish'
  | 'secretsManagerApiCall'
  | 'cloudWatchLogsIngestedGb';

/** Billable quantities. */
export interface Usage {
  apiRequests: number;
  lambdaRequests: number;
  lambdaGbSecondsArm64: number;
  lambdaGbSecondsX86: number;
  dynamoWriteUnits: number;
  dynamoReadUnits: number;
  customEvents: number;
  /** Step Functions Standard state transitions. */
  transitions: number;
  /** Step Functions Express executions started. */
  expressRequests: number;
  /** Step Functions Express duration, GB-seconds (100 ms increments, 64 MB minimum). */
  expressGbSeconds: number;
  /** EventBridge Scheduler schedules that fired. */
  schedulerInvocations: number;
  emails: number;
  snsPublishes: number;
  secretsCalls: number;
  /** Lambda and Step Functions log bytes ingested by CloudWatch Logs. */
  logBytes: number;
}

/** Which price each usage field is billed at, and how the table names it. */
const LINES: ReadonlyArray<{ field: keyof Usage; price: PriceKey; label: string; scale?: number }> = [
  { field: 'apiRequests', price: 'apiGatewayHttpRequest', label: 'API Gateway HTTP API requests' },
  { field: 'lambdaRequests', price: 'lambdaRequest', label: 'Lambda requests' },
  { field: 'lambdaGbSecondsArm64', price: 'lambdaGbSecondArm64', label: 'Lambda duration (GB-s, arm64)' },
  { field: 'lambdaGbSecondsX86', price: 'lambdaGbSecondX86', label: 'Lambda duration (GB-s, x86)' },
  { field: 'dynamoWriteUnits', price: 'dynamoDbWriteRequestUnit', label: 'DynamoDB write request units' },
  { field: 'dynamoReadUnits', price: 'dynamoDbReadRequestUnit', label: 'DynamoDB read request units' },
  { field: 'customEvents', price: 'eventBridgeCustomEvent', label: 'EventBridge custom events' },
  {
    field: 'transitions',
    price: 'stepFunctionsStandardTransition',
    label: 'Step Functions Standard transitions',
  },
  {
    field: 'expressRequests',
    price: 'stepFunctionsExpressRequest',
    label: 'Step Functions Express executions',
  },
  {
    field: 'expressGbSeconds',
    price: 'stepFunctionsExpressGbSecond',
    label: 'Step Functions Express duration (GB-s)',
  },
  { field: 'schedulerInvocations', price: 'schedulerInvocation', label: 'EventBridge Scheduler invocations' },
  { field: 'emails', price: 'sesEmail', label: 'SES emails' },
  { field: 'snsPublishes', price: 'snsPublish', label: 'SNS publishes' },
  { field: 'secretsCalls', price: 'secretsManagerApiCall', label: 'Secrets Manager API calls' },
  {
    field: 'logBytes',
    price: 'cloudWatchLogsIngestedGb',
    label: 'CloudWatch Logs ingestion (GB)',
    scale: 1e-9,
  },
];

/** One priced line. */
export interface CostLine {
  readonly label: string;
  readonly quantity: number;
  readonly usd: number;
}

export function loadPricing(file: string): Pricing {
  return JSON.parse(readFileSync(file, 'utf8')) as Pricing;
}

export function emptyUsage(): Usage {
  return {
    apiRequests: 0,
    lambdaRequests: 0,
    lambdaGbSecondsArm64: 0,
    lambdaGbSecondsX86: 0,
    dynamoWriteUnits: 0,
    dynamoReadUnits: 0,
    customEvents: 0,
    transitions: 0,
    expressRequests: 0,
    expressGbSeconds: 0,
    schedulerInvocations: 0,
    emails: 0,
    snsPublishes: 0,
    secretsCalls: 0,
    logBytes: 0,
  };
}

/** `a + factor × b`, field by field (a new object). */
export function addUsage(a: Usage, b: Usage, factor = 1): Usage {
  const out = { ...a };
  for (const key of Object.keys(out) as Array<keyof Usage>) out[key] = a[key] + factor * b[key];
  return out;
}

/** Prices a usage; lines with no quantity are left out. */
export function priceUsage(usage: Usage, pricing: Pricing): CostLine[] {
  const lines: CostLine[] = [];
  for (const line of LINES) {
    const quantity = usage[line.field] * (line.scale ?? 1);
    if (quantity <= 0) continue;
    const price = pricing.prices[line.price];
    lines.push({ label: line.label, quantity, usd: (quantity / price.per) * price.usd });
  }
  return lines;
}

/** Sum of a priced usage. */
export function totalUsd(lines: readonly CostLine[]): number {
  return lines.reduce((sum, l) => sum + l.usd, 0);
}

/** What one function did during the measured window. */
export interface FunctionActivity {
  readonly invocations: number;
  /** Sum of handler durations, ms. */
  readonly durationMs: number;
  readonly memoryMb: number;
  readonly architecture: 'arm64' | 'x86_64';
  /** Its calls at the local AWS endpoints, by `Service.Operation`. */
  readonly calls: Readonly<Record<string, number>>;
  /** Its DynamoDB capacity, when measured. */
  readonly capacity?: CapacityCounters;
  /** Bytes it logged (Powertools JSON). */
  readonly logBytes: number;
}

const DYNAMO_READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);

/**
 * The billable usage of one function: its requests and duration (each invocation billed to the
 * next millisecond, at the configured memory), the AWS calls it made and the logs it wrote.
 * @param eventsPerPutEvents custom events per `PutEvents` call (entries are billed, not calls)
 * @param platformLogBytes START/END/REPORT lines Lambda logs per invocation
 */
export function functionUsage(
  activity: FunctionActivity,
  eventsPerPutEvents: number,
  platformLogBytes: number,
): Usage {
  const usage = emptyUsage();
  usage.lambdaRequests = activity.invocations;
  // Rounded up to the millisecond per invocation: add half a millisecond on average.
  const gbSeconds = ((activity.durationMs + 0.5 * activity.invocations) / 1000) * (activity.memoryMb / 1024);
  if (activity.architecture === 'arm64') usage.lambdaGbSecondsArm64 = gbSeconds;
  else usage.lambdaGbSecondsX86 = gbSeconds;
  usage.logBytes = activity.logBytes + platformLogBytes * activity.invocations;
  let dynamoReads = 0;
  let dynamoWrites = 0;
  for (const [operation, count] of Object.entries(activity.calls)) {
    const [service, op = ''] = operation.split('.');
    if (service === 'DynamoDB') {
      if (DYNAMO_READS.has(op)) dynamoReads += count;
      else dynamoWrites += count;
    } else if (operation === 'EventBridge.PutEvents') usage.customEvents += count * eventsPerPutEvents;
    else if (operation === 'SESv2.SendEmail') usage.emails += count;
    else if (operation === 'SNS.Publish') usage.snsPublishes += count;
    else if (service === 'SecretsManager') usage.secretsCalls += count;
  }
  const capacity = activity.capacity;
  if (capacity) {
    usage.dynamoReadUnits = capacity.readUnits;
    // Refused conditional writes are billed (at least 1 unit); a cancelled transaction as attempted.
    usage.dynamoWriteUnits =
      capacity.writeUnits +
      (capacity.failedWrites - capacity.failedTransactions) +
      2 * capacity.failedTransactionItems;
  } else {
    // Not measured: one unit per request (an underestimate for transactions and indexed items).
    usage.dynamoReadUnits = dynamoReads;
    usage.dynamoWriteUnits = dynamoWrites;
  }
  return usage;
}

/** Express workflows are billed per execution in 100 ms increments, at 64 MB at least. */
const EXPRESS_INCREMENT_MS = 100;
const EXPRESS_MIN_GB = 64 / 1024;

/** The billed GB-seconds of one Express execution that ran `durationMs`. */
export function expressGbSeconds(durationMs: number): number {
  return (
    (Math.max(1, Math.ceil(durationMs / EXPRESS_INCREMENT_MS)) * EXPRESS_INCREMENT_MS * EXPRESS_MIN_GB) / 1000
  );
}

/** What the SLA ladder of one assignment costs when nobody answers, by its rungs. */
export interface SlaLadderModel {
  /** Escalation steps of the client's ladder. */
  readonly ladderSteps: number;
  /** Mean warm time of one `sla` task, ms. */
  readonly slaTaskMs: number;
  /** Mean warm time of one `sla-start` task, ms. */
  readonly schedulerTaskMs: number;
}

/**
 * The usage of one SLA ladder nobody answers (the bench never contacts a lead): rung 0 (the
 * rule's start: one `sla-start` task), one rung per escalation step (an `sla` and an `sla-start`
 * task), then the unworked check (an `sla` task); a schedule fires for each rung after 0. No
 * Standard transition. The tasks' Lambda usage is measured separately. A lead worked before its
 * first deadline costs rung 0 and one deleted schedule.
 */
export function slaLadderUsage(model: SlaLadderModel): Usage {
  const usage = emptyUsage();
  usage.expressRequests = model.ladderSteps + 2;
  usage.schedulerInvocations = model.ladderSteps + 1;
  usage.expressGbSeconds =
    expressGbSeconds(model.schedulerTaskMs) +
    model.ladderSteps * expressGbSeconds(model.slaTaskMs + model.schedulerTaskMs) +
    expressGbSeconds(model.slaTaskMs);
  return usage;
}
