import { randomUUID } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import { JSONPath } from 'jsonpath-plus';
import type { InvokeResult } from './lambda-runner';

/**
 * Step Functions, locally: runs the synthesized ASL definitions with `aws-local-stepfunctions`.
 *
 * - Lambda tasks (`arn:aws:states:::lambda:invoke` with `{FunctionName, Payload}`, or a function
 *   ARN as the resource) are overridden to invoke the local function, emulating the
 *   `{Payload, StatusCode}` envelope, and a function error becomes a task error with the
 *   function's error type (so `Retry`/`Catch` behave as in AWS).
 * - Wait states are overridden to wait the same duration divided by the time scale, so a
 *   5-minute SLA passes in seconds (`--time-scale`). The duration is computed from the state's
 *   own `Seconds`/`Timestamp`/`SecondsPath`/`TimestampPath` on the live input.
 * - No timeout AWS would not apply: the emulator gives a Task without `TimeoutSeconds` a 60 s
 *   timeout, where AWS applies none (99999999 s). Every such Task, and every Wait run as a Task,
 *   gets the longest timeout the emulator's timer can hold instead, so a 72-hour nurture wait
 *   (72 minutes at ×60) or a Lambda queued behind a backlog never fails with `States.Timeout`.
 */

export type LambdaInvoker = (functionArn: string, payload: unknown) => Promise<InvokeResult>;

export interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly input: unknown;
  readonly startDate: Date;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  stopDate?: Date;
  output?: unknown;
  error?: string;
  cause?: string;
  abort?: () => void;
}

/** Thrown for StartExecution with a name already used by a running or finished execution. */
export class ExecutionAlreadyExistsError extends Error {
  override readonly name = 'ExecutionAlreadyExists';
}

type AslState = Record<string, unknown> & { Type: string };
type AslDefinition = { States: Record<string, AslState>; StartAt: string } & Record<string, unknown>;

class LambdaTaskError extends Error {
  constructor(type: string, message: string) {
    super(message);
    this.name = type;
  }
}

export class LocalStepFunctions {
  private readonly machines = new Map<string, { definition: AslDefinition; machine: StateMachine }>();
  readonly executions = new Map<string, ExecutionRecord>();
  private readonly listeners = new Set<(e: ExecutionRecord) => void>();
  /** Scaled waits in progress, each with what ends it early (stop); none outlives the runtime. */
  private readonly waits = new Map<NodeJS.Timeout, { record: ExecutionRecord; end: () => void }>();

  constructor(
    private readonly invoke: LambdaInvoker,
    private readonly timeScale: number,
  ) {}

  /** Registers a state machine (definition already resolved to local ARNs). */
  register(stateMachineArn: string, definition: AslDefinition): void {
    const machine = new StateMachine(withScaledWaits(definition) as never, {
      validationOptions: { checkPaths: false, checkArn: false },
    });
    this.machines.set(stateMachineArn, { definition, machine });
  }

  /** Called whenever an execution finishes. */
  onFinished(listener: (e: ExecutionRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * StartExecution. Names are unique per state machine, as in AWS (which makes starts
   * idempotent): starting a running execution again with the same name and input returns it;
   * any other reuse of a name is `ExecutionAlreadyExists`.
   */
  start(stateMachineArn: string, input: unknown, name: string = randomUUID()): ExecutionRecord {
    const registered = this.machines.get(stateMachineArn);
    if (!registered) throw new Error(`StateMachineDoesNotExist: ${stateMachineArn}`);
    const executionArn = executionArnOf(stateMachineArn, name);
    const existing = this.executions.get(executionArn);
    if (existing) {
      if (existing.status === 'RUNNING' && JSON.stringify(existing.input) === JSON.stringify(input)) {
        return existing;
      }
      throw new ExecutionAlreadyExistsError(`Execution already exists: ${executionArn}`);
    }
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn,
      name,
      input,
      startDate: new Date(),
      status: 'RUNNING',
    };
    this.executions.set(executionArn, record);
    const overrides = this.overrides(registered.definition, record);
    const run = registered.machine.run(input as never, {
      overrides,
      noThrowOnAbort: true,
      context: {
        Execution: { Id: executionArn, Name: name, Input: input, StartTime: record.startDate.toISOString() },
        StateMachine: { Id: stateMachineArn, Name: stateMachineArn.split(':').pop() },
      } as never,
    });
    record.abort = run.abort;
    run.result.then(
      (output) => this.finish(record, record.status === 'ABORTED' ? 'ABORTED' : 'SUCCEEDED', { output }),
      (error: Error & { cause?: unknown }) => {
        // The emulator wraps the failure (a task's error, a Fail state) in an ExecutionError;
        // AWS reports the original error name and cause.
        const original = error.cause instanceof Error ? error.cause : error;
        this.finish(record, 'FAILED', { error: original.name, cause: original.message });
      },
    );
    return record;
  }

  /** StopExecution. */
  stop(executionArn: string, error?: string, cause?: string): ExecutionRecord {
    const record = this.describe(executionArn);
    if (record.status === 'RUNNING') {
      record.status = 'ABORTED';
      record.stopDate = new Date();
      if (error) record.error = error;
      if (cause) record.cause = cause;
      record.abort?.();
      // End its scaled wait now rather than when the wait would have ended.
      for (const [timer, wait] of this.waits) {
        if (wait.record === record) {
          clearTimeout(timer);
          this.waits.delete(timer);
          wait.end();
        }
      }
    }
    return record;
  }

  /** DescribeExecution: by execution ARN (which AWS derives from the machine and the name). */
  describe(executionArn: string): ExecutionRecord {
    const record = this.executions.get(executionArn);
    if (!record) throw new Error(`ExecutionDoesNotExist: ${executionArn}`);
    return record;
  }

  /** Stops every running execution (shutdown). */
  stopAll(): void {
    for (const record of this.executions.values())
      if (record.status === 'RUNNING') this.stop(record.executionArn);
    // The aborted executions' waits never resume.
    for (const [timer, wait] of this.waits) {
      clearTimeout(timer);
      wait.end();
    }
    this.waits.clear();
  }

  get running(): number {
    let n = 0;
    for (const r of this.executions.values()) if (r.status === 'RUNNING') n++;
    return n;
  }

  private finish(
    record: ExecutionRecord,
    status: ExecutionRecord['status'],
    extra: Partial<ExecutionRecord>,
  ): void {
    if (record.status === 'RUNNING') record.status = status;
    record.stopDate ??= new Date();
    Object.assign(record, extra);
    for (const listener of this.listeners) listener(record);
  }

  /** Builds the task and wait overrides for every state of a definition, nested ones included. */
  private overrides(definition: AslDefinition, record: ExecutionRecord) {
    const taskResourceLocalHandlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    const retryIntervalOverrides: Record<string, number> = {};
    const visit = (states: Record<string, AslState>) => {
      for (const [name, state] of Object.entries(states)) {
        if (state.Type === 'Task') {
          taskResourceLocalHandlers[name] = (input) => this.runTask(String(state.Resource), input);
          if (state.Retry) retryIntervalOverrides[name] = Math.max(10, Math.round(1000 / this.timeScale));
        }
        if (state.Type === 'Wait') {
          // withScaledWaits turned this Wait into a Task; it sleeps the state's own duration, scaled.
          taskResourceLocalHandlers[name] = async (input) => {
            await this.sleep(this.waitMs(state, input) / this.timeScale, record);
            return input;
          };
        }
        const nested = [
          ...((state.Iterator as AslDefinition | undefined) ? [state.Iterator as AslDefinition] : []),
          ...((state.ItemProcessor as AslDefinition | undefined)
            ? [state.ItemProcessor as AslDefinition]
            : []),
          ...((state.Branches as AslDefinition[] | undefined) ?? []),
        ];
        for (const sub of nested) visit(sub.States);
      }
    };
    visit(definition.States);
    return { taskResourceLocalHandlers, retryIntervalOverrides } as never;
  }

  /**
   * Sleeps `ms` (in slices a Node timer can hold), ending early once the execution is no longer
   * running (StopExecution), so a stopped ladder leaves no timer behind.
   */
  private sleep(ms: number, record: ExecutionRecord): Promise<void> {
    const until = Date.now() + Math.max(0, ms);
    return new Promise((resolve) => {
      const next = () => {
        const left = until - Date.now();
        if (left <= 0 || record.status !== 'RUNNING') return resolve();
        const timer = setTimeout(
          () => {
            this.waits.delete(timer);
            next();
          },
          Math.min(left, MAX_TIMER_MS),
        );
        this.waits.set(timer, { record, end: resolve });
      };
      next();
    });
  }

  /**
   * The duration of a Wait state on its live input, from whichever of `Seconds`, `SecondsPath`,
   * `Timestamp` or `TimestampPath` it has. A path that finds no number or timestamp fails the
   * execution with `States.Runtime`, as in AWS.
   */
  private waitMs(state: AslState, input: unknown): number {
    const read = (path: unknown) => JSONPath({ path: String(path), json: input as object, wrap: false });
    const fail = (field: string, value: unknown): never => {
      throw new LambdaTaskError(
        'States.Runtime',
        `The ${field} of Wait state did not resolve to a valid value: ${JSON.stringify(value)}`,
      );
    };
    if (state.Seconds !== undefined || state.SecondsPath !== undefined) {
      const field = state.Seconds !== undefined ? 'Seconds' : 'SecondsPath';
      const seconds = state.Seconds ?? read(state.SecondsPath);
      if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) fail(field, seconds);
      return Number(seconds) * 1000;
    }
    if (state.Timestamp !== undefined || state.TimestampPath !== undefined) {
      const field = state.Timestamp !== undefined ? 'Timestamp' : 'TimestampPath';
      const timestamp = state.Timestamp ?? read(state.TimestampPath);
      const at = typeof timestamp === 'string' ? Date.parse(timestamp) : Number.NaN;
      if (Number.isNaN(at)) fail(field, timestamp);
      return Math.max(0, at - Date.now());
    }
    return 0;
  }

  private async runTask(resource: string, input: unknown): Promise<unknown> {
    const isInvokeIntegration = resource.startsWith('arn:aws:states:::lambda:invoke');
    const request = input as { FunctionName?: string; Payload?: unknown } | undefined;
    const functionArn = isInvokeIntegration ? String(request?.FunctionName) : resource;
    const payload = isInvokeIntegration ? request?.Payload : input;
    if (!functionArn.includes(':function:') && !isInvokeIntegration) {
      throw new LambdaTaskError('States.Runtime', `unsupported task resource ${resource}`);
    }
    const result = await this.invoke(functionArn, payload);
    if (!result.ok) {
      throw new LambdaTaskError(
        result.error?.errorType ?? 'Error',
        result.error?.errorMessage ?? 'function failed',
      );
    }
    return isInvokeIntegration
      ? { Payload: result.result ?? null, StatusCode: 200, ExecutedVersion: '$LATEST' }
      : result.result;
  }
}

/** The longest delay a Node timer holds (2^31 - 1 ms, about 24.8 days); longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * "No timeout" for the emulator, which always arms a timer for a Task: the longest one a Node
 * timer holds. At the default ×60 a wait that long is 4 years of pipeline time, beyond the
 * 1-year limit of a Standard execution.
 */
const NO_TIMEOUT_SECONDS = Math.floor(MAX_TIMER_MS / 1000);

/** The ARN of an execution: AWS derives it from the state machine's ARN and the execution name. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

const LOCAL_WAIT_RESOURCE = 'arn:aws:lambda:us-east-1:000000000000:function:local-scaled-wait';

/**
 * The emulator's wait overrides are fixed per state, but our waits are computed (SLA deadlines),
 * so each Wait is replaced by a Task with the same transitions; its local handler (see
 * `overrides`) computes the real duration from the original Wait's fields and sleeps it scaled.
 */
function withScaledWaits(definition: AslDefinition): AslDefinition {
  const convert = (states: Record<string, AslState>): Record<string, AslState> =>
    Object.fromEntries(
      Object.entries(states).map(([name, state]) => {
        let next: AslState = { ...state };
        if (state.Type === 'Wait') {
          const { Seconds, SecondsPath, Timestamp, TimestampPath, Type, ...rest } = state;
          void Seconds;
          void SecondsPath;
          void Timestamp;
          void TimestampPath;
          void Type;
          next = { ...rest, Type: 'Task', Resource: LOCAL_WAIT_RESOURCE, TimeoutSeconds: NO_TIMEOUT_SECONDS };
        } else if (
          state.Type === 'Task' &&
          state.TimeoutSeconds === undefined &&
          state.TimeoutSecondsPath === undefined
        ) {
          // AWS applies no timeout to a Task without one; the emulator would apply 60 s.
          next.TimeoutSeconds = NO_TIMEOUT_SECONDS;
        }
        for (const key of ['Iterator', 'ItemProcessor'] as const) {
          const sub = state[key] as AslDefinition | undefined;
          if (sub) next[key] = { ...sub, States: convert(sub.States) };
        }
        if (Array.isArray(state.Branches)) {
          next.Branches = (state.Branches as AslDefinition[]).map((b) => ({
            ...b,
            States: convert(b.States),
          }));
        }
        return [name, next];
      }),
    );
  return { ...definition, States: convert(definition.States) };
}
