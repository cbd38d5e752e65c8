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

/** Thrown when an invocation runs past the function's timeout (the environment is recycled, as in Lambda). */
export class FunctionTimeoutError extends Error {
  override readonly name = 'FunctionTimeoutError';
}

const WORKER_FILE = fileURLToPath(new URL('./lambda-worker.mjs', import.meta.url));

interface Environment {
  worker: Worker;
  busy: boolean;
  warm: boolean;
  pending?: { resolve: (r: InvokeResult) => void; timer: NodeJS.Timeout; id: string };
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

  constructor(
    readonly spec: LocalFunctionSpec,
    private readonly options: { maxConcurrency?: number; logFile?: string } = {},
  ) {
    this.log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  }

  /** Invokes the function and resolves with its result or error (never rejects for handler errors). */
  async invoke(event: unknown): Promise<InvokeResult> {
    if (this.closed) throw new Error(`${this.spec.name} is shut down`);
    const env = await this.acquire();
    this.invocations += 1;
    const id = randomUUID();
    const coldStart = !env.warm;
    try {
      return await new Promise<InvokeResult>((resolve) => {
        const timer = setTimeout(() => {
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
            durationMs: this.spec.timeoutSeconds * 1000,
            coldStart,
          });
        }, this.spec.timeoutSeconds * 1000);
        env.pending = { resolve: (r) => resolve({ ...r, coldStart }), timer, id };
        env.worker.postMessage({
          id,
          event,
          requestId: id,
          deadline: Date.now() + this.spec.timeoutSeconds * 1000,
        });
      });
    } finally {
      env.warm = true;
      this.release(env);
    }
  }

  /** Stops every environment. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.environments.map((e) => e.worker.terminate()));
    this.environments.length = 0;
    this.log?.end();
  }

  private async acquire(): Promise<Environment> {
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
      },
      env: { ...this.spec.environment },
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
    worker.on('message', (message: { id: string } & Omit<InvokeResult, 'coldStart'>) => {
      const pending = env.pending;
      if (!pending || pending.id !== message.id) return;
      clearTimeout(pending.timer);
      env.pending = undefined;
      pending.resolve({ ...message, coldStart: false });
    });
    worker.on('error', (error) => {
      const pending = env.pending;
      env.pending = undefined;
      this.discard(env);
      if (pending) {
        clearTimeout(pending.timer);
        pending.resolve({
          ok: false,
          error: { errorType: 'Runtime.ExitError', errorMessage: error.message, stack: [] },
          durationMs: 0,
          coldStart: false,
        });
      }
    });
    this.environments.push(env);
    return env;
  }

  private discard(env: Environment): void {
    const index = this.environments.indexOf(env);
    if (index >= 0) this.environments.splice(index, 1);
    void env.worker.terminate();
  }
}
