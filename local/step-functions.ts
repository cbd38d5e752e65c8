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
  /** Scaled waits in progress; cleared on {@link stopAll} so no timer outlives the runtime. */
  private readonly waits = new Set<NodeJS.Timeout>();

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

  /** StartExecution. Names are unique per state machine, as in AWS (which makes starts idempotent). */
  start(stateMachineArn: string, input: unknown, name: string = randomUUID()): ExecutionRecord {
    const registered = this.machines.get(stateMachineArn);
    if (!registered) throw new Error(`StateMachineDoesNotExist: ${stateMachineArn}`);
    const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    if (this.executions.has(executionArn)) {
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
    const overrides = this.overrides(registered.definition);
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
    const record = this.executions.get(executionArn);
    if (!record) throw new Error(`ExecutionDoesNotExist: ${executionArn}`);
    if (record.status === 'RUNNING') {
      record.status = 'ABORTED';
      record.stopDate = new Date();
      if (error) record.error = error;
      if (cause) record.cause = cause;
      record.abort?.();
    }
    return record;
  }

  /** Stops every running execution (shutdown). */
  stopAll(): void {
    for (const record of this.executions.values())
      if (record.status === 'RUNNING') this.stop(record.executionArn);
    // The aborted executions' waits never resume.
    for (const timer of this.waits) clearTimeout(timer);
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
  private overrides(definition: AslDefinition) {
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
            await this.sleep(this.waitMs(state, input) / this.timeScale);
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

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          this.waits.delete(timer);
          resolve();
        },
        Math.max(0, ms),
      );
      this.waits.add(timer);
    });
  }

  private waitMs(state: AslState, input: unknown): number {
    const read = (path: unknown) => JSONPath({ path: String(path), json: input as object, wrap: false });
    if (typeof state.Seconds === 'number') return state.Seconds * 1000;
    if (state.SecondsPath) return Number(read(state.SecondsPath)) * 1000;
    const timestamp = state.Timestamp ?? (state.TimestampPath ? read(state.TimestampPath) : undefined);
    if (timestamp !== undefined) return Math.max(0, Date.parse(String(timestamp)) - Date.now());
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
          next = { ...rest, Type: 'Task', Resource: LOCAL_WAIT_RESOURCE };
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
