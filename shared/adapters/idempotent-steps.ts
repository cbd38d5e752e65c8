import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { EVENT_IDEMPOTENCY_TTL_SECONDS } from '../config/retention';
import type { Decision, EventSink } from '../ports/events';
import { TABLE_KEYS, TTL_ATTRIBUTE } from './table-design';

/**
 * Exactly-once steps for event handlers, on Powertools idempotency. The lead's hot path (score,
 * route) no longer uses them: its steps are exactly once by their own conditional writes (see
 * `shared/runtime/consumer.ts`), nor do the SES-events consumer and the alert any more. What
 * still uses them: the optional third-party enrichment, the meetings consumer and the webhooks'
 * provider records.
 *
 * An event handler that changes state and then publishes events has two effects, and a retry
 * may come between them: the save worked, the publish was throttled, the platform redelivers.
 * Guarding the whole handler with one idempotency record does not help there (a failed run
 * deletes its record, and the re-run finds the state already changed, so it would publish
 * nothing). Instead each effect is its own step, keyed by the triggering event:
 *
 * 1. `decide` changes the state and RETURNS the events it caused; Powertools stores them.
 * 2. `publish` publishes those events.
 *
 * A redelivery after a failed publish gets the stored events from step 1 without redoing it and
 * publishes them; a redelivery after complete success does nothing at all. A run that fails
 * inside a step leaves no record, so the step runs again on retry.
 *
 * Residual window: if the Lambda dies after a step's own write succeeded but before Powertools
 * marked the step complete, the step runs again when its in-progress record expires (the
 * invocation's remaining time, see {@link StepRunner.useLambdaContext}). Steps are written to
 * be idempotent against their own earlier writes, so this never doubles an effect; at worst the
 * re-run finds the work done and has no event to publish, unless the step can recover the event
 * from its own write (routing does: its activity id is derived from the trigger key).
 */
export interface StepRunner {
  /**
   * Runs `work` at most once per `(step, key)` and returns its result; a repeat returns the
   * stored result of the first successful run. The result must be JSON-serialisable; it is
   * returned after a JSON round trip either way, so callers see the same shape on both paths.
   * @throws IdempotencyAlreadyInProgressError while another invocation runs the same step.
   */
  once<T>(step: string, key: string, work: () => Promise<T>): Promise<T>;
  /** Lets an in-progress record expire with the invocation, so a crashed run can be retried. */
  useLambdaContext(context: Context | undefined): void;
}

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

/**
 * The two-step pattern described above: runs `decide` once per `key`, then publishes the events
 * it returned once per `key`. Returns the decision (the stored one on a redelivery).
 */
export async function decideThenPublish<D extends Decision>(
  steps: StepRunner,
  publisher: EventSink,
  key: string,
  decide: () => Promise<D>,
): Promise<D> {
  const decision = await steps.once('decide', key, decide);
  if (decision.events.length > 0) {
    await steps.once('publish', key, async () => {
      await publisher.publish(...decision.events);
      return { published: decision.events.length };
    });
  }
  return decision;
}

/** Plain JSON (no `undefined`, no class instances): what DynamoDB stores and returns for a step. */
function toJson<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
