import type { LocalAwsEndpoints } from './aws-endpoints';
import type { LocalEventBus } from './event-bus';
import type { FunctionPool } from './lambda-runner';

/**
 * Fault injection, for the chaos harness and tests: each fault is what the real service does
 * when it fails, so the pipeline's own retries, dead-letter queues and idempotency are what get
 * exercised.
 */

/** Faults {@link LocalRuntime.faults} can inject. */
export interface RuntimeFaults {
  /** The bus refuses every PutEvents entry (`InternalFailure`) for `seconds`. */
  refuseEvents(seconds: number): void;
  /** SES answers 500 to this share (0..1) of sends; 0 turns it off. */
  failSesSends(share: number): void;
  /** The Slack webhook answers 429 (with `Retry-After`) `rateLimited` times, then 500 `serverErrors` times. */
  slackOutage(plan: { rateLimited: number; retryAfterSeconds?: number; serverErrors: number }): void;
  /** The function (local name, or logical id prefix such as `Score`) fails this share (0..1) of invocations. */
  failInvocations(functionName: string, share: number): void;
  /** Kills DynamoDB Local, keeps it down `downSeconds`, restarts it on its data (needs `inMemory: false`). */
  restartDynamoDb(downSeconds: number): Promise<void>;
  /**
   * The named function fails every invocation for `seconds`, and retries meanwhile do not back
   * off: its events exhaust their retry policy and land in the dead-letter record, to be redriven.
   * If no event has reached the dead-letter record by then (nothing invoked the function in the
   * window: on a slow machine the traffic can lag behind), the outage goes on until one has, for
   * at most {@link FUNCTION_DOWN_MAX_EXTENSION_MS} more.
   */
  functionDown(functionName: string, seconds: number): void;
  /** Turns every fault off (a restart already done stays done). */
  clear(): void;
  /** How many faults were injected so far, by kind. */
  injected(): Record<string, number>;
}

/** The runtime's parts a fault acts on (read when the fault is injected: they exist once started). */
export interface FaultTargets {
  readonly bus: () => LocalEventBus;
  readonly aws: () => LocalAwsEndpoints;
  readonly functions: ReadonlyMap<string, FunctionPool>;
  readonly restartDynamoDb: (downSeconds: number) => Promise<void>;
  readonly dynamoDbRestarts: () => number;
}

/** How much longer {@link RuntimeFaults.functionDown} may last waiting for its first dead letter. */
export const FUNCTION_DOWN_MAX_EXTENSION_MS = 60_000;

/** The faults of one runtime. */
export function runtimeFaults(targets: FaultTargets): RuntimeFaults {
  let functionOutages = 0;
  /** The function pools a fault names (a function name, or the start of its logical id). */
  const poolsNamed = (functionName: string) => {
    const pools = [...targets.functions.values()].filter(
      (p) =>
        p.spec.name === functionName || p.spec.logicalId.toLowerCase().startsWith(functionName.toLowerCase()),
    );
    if (pools.length === 0) throw new Error(`no local function matches "${functionName}"`);
    return pools;
  };
  return {
    refuseEvents: (seconds) => {
      targets.bus().refuseUntil = Date.now() + seconds * 1000;
    },
    failSesSends: (share) => {
      targets.aws().sesFailureShare = share;
    },
    slackOutage: ({ rateLimited, retryAfterSeconds = 1, serverErrors }) => {
      targets.aws().slackRateLimitNext = rateLimited;
      targets.aws().slackRetryAfterSeconds = retryAfterSeconds;
      targets.aws().slackServerErrorNext = serverErrors;
    },
    failInvocations: (functionName, share) => {
      for (const pool of poolsNamed(functionName)) pool.failureShare = share;
    },
    restartDynamoDb: (downSeconds) => targets.restartDynamoDb(downSeconds),
    functionDown: (functionName, seconds) => {
      const pools = poolsNamed(functionName).map((pool) => ({ pool, share: pool.failureShare }));
      const bus = targets.bus();
      const deadLettersBefore = bus.deadLetters.length;
      const ends = Date.now() + seconds * 1000;
      const latest = ends + FUNCTION_DOWN_MAX_EXTENSION_MS;
      for (const { pool } of pools) pool.failureShare = 1;
      bus.exhaustRetriesUntil = ends;
      functionOutages++;
      // Back to what it was (another fault may have set a share), unless cleared meanwhile; kept
      // down past `seconds` until the outage has dead-lettered an event (bounded).
      const check = () => {
        const cleared = pools.every(({ pool }) => pool.failureShare !== 1);
        const deadLettered = bus.deadLetters.length > deadLettersBefore;
        if (!cleared && !deadLettered && Date.now() < latest) {
          bus.exhaustRetriesUntil = Date.now() + 1000;
          setTimeout(check, 250).unref();
          return;
        }
        for (const { pool, share } of pools) if (pool.failureShare === 1) pool.failureShare = share;
      };
      setTimeout(check, seconds * 1000).unref();
    },
    clear: () => {
      targets.bus().refuseUntil = 0;
      targets.bus().exhaustRetriesUntil = 0;
      targets.aws().sesFailureShare = 0;
      targets.aws().slackRateLimitNext = 0;
      targets.aws().slackServerErrorNext = 0;
      for (const pool of targets.functions.values()) pool.failureShare = 0;
    },
    injected: () => ({
      putEventsRefused: targets.bus().refused,
      sesSendsFailed: targets.aws().injected.ses,
      slack429: targets.aws().injected.slack429,
      slack500: targets.aws().injected.slack500,
      invocationsFailed: [...targets.functions.values()].reduce((n, p) => n + p.injectedFailures, 0),
      dynamoDbRestarts: targets.dynamoDbRestarts(),
      functionOutages,
    }),
  };
}
