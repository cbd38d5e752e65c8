import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** A function as the local runtime runs it, read from the synthesized template. */
export interface LocalFunctionSpec {
  /** Logical id in the template (stable across synths). */
  readonly logicalId: string;
  /** Local function name (used in ARNs and logs). */
  readonly name: string;
  /** Absolute path of the bundled handler file (`index.mjs` in the cdk.out asset). */
  readonly file: string;
  readonly exportName: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
}

export interface InvokeResult {
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: { errorType: string; errorMessage: string; stack: string[] };
  readonly durationMs: number;
  readonly coldStart: boolean;
}

/** Lambda's limit on the init phase (loading the bundle on a cold start), separate from the timeout. */
const INIT_LIMIT_MS = 10_000;

/** Thrown when an invocation runs past the function's timeout (the environment is recycled, as in Lambda). */
export class FunctionTimeoutError extends Error {
  override readonly name = 'FunctionTimeoutError';
}

const WORKER_FILE = fileURLToPath(new URL('./lambda-worker.mjs', import.meta.url));

interface Environment {
  worker: Worker;
  busy: boolean;
  warm: boolean;
  pending?: {
    resolve: (r: InvokeResult) => void;
    timer: NodeJS.Timeout;
    id: string;
    /** The handler is loaded: the function's timeout starts now. */
    initialized: () => void;
  };
}

/**
 * Runs one function's bundle in worker threads, one invocation per environment at a time,
 * scaling out to `maxConcurrency` environments like Lambda does. Logs (Powertools JSON) go to
 * a file per function so the terminal shows only the pipeline's readable story.
 */
export class FunctionPool {
  private readonly environments: Environment[] = [];
  private readonly queue: Array<() => void> = [];
  private readonly log: WriteStream | undefined;
  private closed = false;
  /** Invocations served, for benchmarks. */
  invocations = 0;
  /**
   * Fault injection: the share (0..1) of invocations that throw before the handler runs, as a
   * crashed init or an out-of-memory environment would. See `LocalRuntime.faults`.
   */
  failureShare = 0;
  /** Invocations failed by {@link failureShare}, for the chaos report. */
  injectedFailures = 0;

  /** Execution environments (worker threads) alive now; 0 once closed. */
  get environmentCount(): number {
    return this.environments.length;
  }

  constructor(
    readonly spec: LocalFunctionSpec,
    private readonly options: {
      maxConcurrency?: number;
      logFile?: string;
      /** URL prefixes whose `fetch` calls go elsewhere (`[from, to]`), e.g. Slack to its local recorder. */
      fetchRedirects?: ReadonlyArray<readonly [string, string]>;
    } = {},
  ) {
    this.log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
    // Every environment pipes its stdout and stderr into this one file (2 listeners each): more
    // than 5 environments is expected, not a leak.
    this.log?.setMaxListeners(0);
  }

  /** Invokes the function and resolves with its result or error (never rejects for handler errors). */
  async invoke(event: unknown): Promise<InvokeResult> {
    if (this.closed) throw new Error(`${this.spec.name} is shut down`);
    if (this.failureShare > 0 && Math.random() < this.failureShare) {
      this.injectedFailures += 1;
      return {
        ok: false,
        error: { errorType: 'InjectedFault', errorMessage: `${this.spec.name}: injected failure`, stack: [] },
        durationMs: 0,
        coldStart: false,
      };
    }
    const env = await this.acquire();
    this.invocations += 1;
    const id = randomUUID();
    const coldStart = !env.warm;
    try {
      return await new Promise<InvokeResult>((resolve) => {
        const timeoutMs = this.spec.timeoutSeconds * 1000;
        const timeOut = () => {
          // Like Lambda, a timed-out environment is discarded.
          env.pending = undefined;
          this.discard(env);
          resolve({
            ok: false,
            error: {
              errorType: 'Sandbox.Timedout',
              errorMessage: `Task timed out after ${this.spec.timeoutSeconds} seconds`,
              stack: [],
            },
            durationMs: timeoutMs,
            coldStart,
          });
        };
        // Until the environment says the handler is loaded, Lambda's init limit applies as well
        // (a slow cold start does not eat into the function's own timeout); see `initialized`.
        const timer = setTimeout(timeOut, timeoutMs + (coldStart ? INIT_LIMIT_MS : 0));
        env.pending = {
          resolve: (r) => resolve({ ...r, coldStart }),
          timer,
          id,
          initialized: () => {
            if (!env.pending || env.pending.id !== id) return;
            clearTimeout(env.pending.timer);
            env.pending.timer = setTimeout(timeOut, timeoutMs);
          },
        };
        env.worker.postMessage({ id, event, requestId: id, timeoutMs });
      });
    } finally {
      env.warm = true;
      this.release(env);
    }
  }

  /**
   * Stops every environment. Invocations still running or queued resolve with a
   * `Runtime.Shutdown` error, so nothing waits on a worker that is gone.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const env of this.environments) {
      const pending = env.pending;
      env.pending = undefined;
      if (pending) {
        clearTimeout(pending.timer);
        pending.resolve({
          ok: false,
          error: {
            errorType: 'Runtime.Shutdown',
            errorMessage: `${this.spec.name} was shut down`,
            stack: [],
          },
          durationMs: 0,
          coldStart: false,
        });
      }
    }
    // Queued invocations wake up, see the pool closed and fail.
    for (const wake of this.queue.splice(0)) wake();
    const workers = this.environments.splice(0).map((e) => e.worker);
    await Promise.all(workers.map((w) => w.terminate()));
    await new Promise<void>((resolve) => (this.log ? this.log.end(resolve) : resolve()));
  }

  private async acquire(): Promise<Environment> {
    if (this.closed) throw new Error(`${this.spec.name} is shut down`);
    const idle = this.environments.find((e) => !e.busy);
    if (idle) {
      idle.busy = true;
      return idle;
    }
    if (this.environments.length < (this.options.maxConcurrency ?? 4)) {
      const env = this.spawn();
      env.busy = true;
      return env;
    }
    await new Promise<void>((resolve) => this.queue.push(resolve));
    return this.acquire();
  }

  private release(env: Environment): void {
    env.busy = false;
    this.queue.shift()?.();
  }

  private spawn(): Environment {
    const worker = new Worker(WORKER_FILE, {
      workerData: {
        file: this.spec.file,
        exportName: this.spec.exportName,
        functionName: this.spec.name,
        memoryMb: this.spec.memoryMb,
        fetchRedirects: this.options.fetchRedirects ?? [],
        // The environment appends its own log lines (see lambda-worker.mjs).
        logFile: this.options.logFile,
      },
      env: { ...this.spec.environment },
      // Not the host's flags: under tsx or vitest they would load their module hooks into every
      // environment (a second of cold start each), and Lambda runs the bundle on plain Node.
      execArgv: [],
      stdout: true,
      stderr: true,
    });
    if (this.log) {
      worker.stdout.pipe(this.log, { end: false });
      worker.stderr.pipe(this.log, { end: false });
    } else {
      worker.stdout.resume();
      worker.stderr.resume();
    }
    const env: Environment = { worker, busy: false, warm: false };
    worker.on('message', (message: { id: string; initialized?: true } & Omit<InvokeResult, 'coldStart'>) => {
      const pending = env.pending;
      if (!pending || pending.id !== message.id) return;
      if (message.initialized) return pending.initialized();
      clearTimeout(pending.timer);
      env.pending = undefined;
      pending.resolve({ ...message, coldStart: false });
    });
    const fail = (message: string) => {
      const pending = env.pending;
      env.pending = undefined;
      this.discard(env);
      if (pending) {
        clearTimeout(pending.timer);
        pending.resolve({
          ok: false,
          error: { errorType: 'Runtime.ExitError', errorMessage: message, stack: [] },
          durationMs: 0,
          coldStart: false,
        });
      }
    };
    worker.on('error', (error) => fail(error.message));
    // A handler that calls process.exit() ends its environment, as in Lambda.
    worker.on('exit', (code) => fail(`the environment exited with code ${code}`));
    this.environments.push(env);
    return env;
  }

  private discard(env: Environment): void {
    const index = this.environments.indexOf(env);
    if (index >= 0) this.environments.splice(index, 1);
    void env.worker.terminate();
  }
}
