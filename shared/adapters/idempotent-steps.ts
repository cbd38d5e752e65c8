import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { EVENT_IDEMPOTENCY_TTL_SECONDS } from '../config/retention';
import { TABLE_KEYS, TTL_ATTRIBUTE } from '../contracts/table-design';
import type { StepRunner } from '../ports/steps';

/** Exactly-once steps on Powertools idempotency: see the {@link StepRunner} port (`shared/ports/steps.ts`). */

/**
 * How long a completed step is remembered: longer than EventBridge's retry window (4 h) and
 * than a DLQ keeps the event, so a redrive on the queue's last day repeats nothing.
 */
export const STEP_RECORD_TTL_SECONDS = EVENT_IDEMPOTENCY_TTL_SECONDS;

/** Options of {@link DynamoDBStepRunner}. */
export interface DynamoDBStepRunnerOptions {
  readonly tableName: string;
  /** Stable logical function name (`route`, not the deployed name): records live under `IDEMPOTENCY#<name>`. */
  readonly functionName: string;
  /** Raw DynamoDB client (tests inject a mocked one). */
  readonly client?: DynamoDBClient;
  readonly expiresAfterSeconds?: number;
}

type StepFn = (payload: { key: string }, work: () => Promise<unknown>) => Promise<unknown>;

/** {@link StepRunner} storing its records in the lead table (`pk = IDEMPOTENCY#<function>`, TTL `expiresAt`). */
export class DynamoDBStepRunner implements StepRunner {
  private readonly client: DynamoDBClient;
  private readonly steps = new Map<string, { fn: StepFn; config: IdempotencyConfig }>();
  private context: Context | undefined;

  constructor(private readonly options: DynamoDBStepRunnerOptions) {
    this.client = options.client ?? new DynamoDBClient({ maxAttempts: 4 });
  }

  useLambdaContext(context: Context | undefined): void {
    this.context = context;
    if (context) for (const { config } of this.steps.values()) config.registerLambdaContext(context);
  }

  async once<T>(step: string, key: string, work: () => Promise<T>): Promise<T> {
    const result = await this.stepFn(step)({ key }, async () => toJson(await work()));
    return result as T;
  }

  /**
   * One Powertools wrapper (and persistence layer) per step: the key prefix is per layer and
   * mutated on every call, so sharing one layer between steps would race under concurrency.
   */
  private stepFn(step: string): StepFn {
    const existing = this.steps.get(step);
    if (existing) return existing.fn;
    const config = new IdempotencyConfig({
      eventKeyJmesPath: 'key',
      throwOnNoIdempotencyKey: true,
      expiresAfterSeconds: this.options.expiresAfterSeconds ?? STEP_RECORD_TTL_SECONDS,
    });
    if (this.context) config.registerLambdaContext(this.context);
    const persistenceStore = new DynamoDBPersistenceLayer({
      tableName: this.options.tableName,
      keyAttr: TABLE_KEYS.partitionKey,
      sortKeyAttr: TABLE_KEYS.sortKey,
      staticPkValue: `IDEMPOTENCY#${this.options.functionName}`,
      expiryAttr: TTL_ATTRIBUTE,
      awsSdkV3Client: this.client,
    });
    const fn: StepFn = makeIdempotent((_payload: { key: string }, work: () => Promise<unknown>) => work(), {
      persistenceStore,
      config,
      keyPrefix: step,
      dataIndexArgument: 0,
    });
    this.steps.set(step, { fn, config });
    return fn;
  }
}

export type { Decision, EventSink } from '../ports/events';
export type { StepRunner } from '../ports/steps';

/** Plain JSON (no `undefined`, no class instances): what DynamoDB stores and returns for a step. */
function toJson<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
