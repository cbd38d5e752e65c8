import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './stats';

/**
 * Cold starts of the bundled handlers, measured as Lambda pays them: a FRESH Node 22 process
 * (the `node` package's binary, the version the functions run on) imports the bundle and runs
 * its first invocation with a representative event (`cold-start-driver.mjs`). The function's
 * own environment is used, so its SDK clients reach the running local endpoints and the source
 * map is loaded only when the function's `NODE_OPTIONS` asks, as in Lambda. Each is compared with
 * an empty handler measured the same way.
 */

/** One function to measure. */
export interface ColdStartTarget {
  readonly name: string;
  readonly file: string;
  readonly exportName: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly event: unknown;
}

/** One run, as the driver reports it (ms). */
interface DriverResult {
  readonly bootMs: number;
  readonly importMs?: number;
  readonly invokeMs?: number;
  readonly totalMs: number;
  readonly ok?: boolean;
  readonly error?: string;
  readonly timedOut?: boolean;
}

/** Medians of one function's runs. */
export interface ColdStartResult {
  readonly name: string;
  /** Size of the bundle: every `.mjs` file of the asset (`index.mjs` and any chunk it loads), bytes. */
  readonly bundleBytes: number;
  /** Size of its source map, bytes (shipped; loaded only with `--enable-source-maps`). */
  readonly sourceMapBytes: number;
  /** Size of the data files shipped next to it (`data/`: domain lists, phone metadata), bytes. */
  readonly dataBytes: number;
  readonly runs: number;
  /** Median ms to import the bundle. */
  readonly importMs: number;
  /** Median ms of the first invocation. */
  readonly firstInvokeMs: number;
  /** Median ms from process start to the first invocation's return (Node boot included). */
  readonly totalMs: number;
  /** `totalMs` divided by the empty handler's. */
  readonly ratio: number;
  /** How the first invocation ended in the last run (a fast failure is fine). */
  readonly outcome: string;
}

const DRIVER = fileURLToPath(new URL('./cold-start-driver.mjs', import.meta.url));
const EMPTY_HANDLER = fileURLToPath(new URL('./empty-handler.mjs', import.meta.url));
const NODE_22 = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));

/** The Node binary used for cold starts and its version. */
export function coldStartNode(): { path: string; version: string } {
  const path = existsSync(NODE_22) ? NODE_22 : process.execPath;
  const version = spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout.trim();
  return { path, version };
}

/**
 * Measures every target `runs` times (interleaved, so drift in the machine's load touches every
 * function alike) plus the empty handler, and returns medians.
 */
export async function measureColdStarts(
  targets: readonly ColdStartTarget[],
  runs: number,
  options: { timeoutMs?: number; onProgress?: (line: string) => void } = {},
): Promise<{ node: string; empty: { totalMs: number; importMs: number }; functions: ColdStartResult[] }> {
  const node = coldStartNode();
  const work = mkdtempSync(join(tmpdir(), 'lead-bench-cold-'));
  const timeoutMs = options.timeoutMs ?? 20_000;
  try {
    const baseEnv = { PATH: process.env.PATH ?? '' };
    const empty: DriverResult[] = [];
    const samples = new Map<string, DriverResult[]>(targets.map((t) => [t.name, []]));
    for (let run = 0; run < runs; run++) {
      empty.push(
        await runDriver(node.path, work, {
          file: EMPTY_HANDLER,
          exportName: 'handler',
          event: {},
          env: { ...baseEnv, NODE_OPTIONS: '--enable-source-maps' },
          timeoutMs,
        }),
      );
      for (const target of targets) {
        samples.get(target.name)?.push(
          await runDriver(node.path, work, {
            file: target.file,
            exportName: target.exportName,
            event: target.event,
            env: { ...baseEnv, ...target.environment, AWS_SDK_UA_APP_ID: 'cold-start' },
            timeoutMs,
          }),
        );
      }
      options.onProgress?.(`cold starts: run ${run + 1}/${runs} done`);
    }
    const emptyTotal = median(empty.map((r) => r.totalMs)) ?? Number.NaN;
    const functions = targets.map((target): ColdStartResult => {
      const results = samples.get(target.name) ?? [];
      const last = results[results.length - 1];
      const totalMs = median(results.map((r) => r.totalMs)) ?? Number.NaN;
      const map = `${target.file}.map`;
      return {
        name: target.name,
        bundleBytes: javaScriptSize(dirname(target.file)),
        sourceMapBytes: existsSync(map) ? statSync(map).size : 0,
        dataBytes: dataSize(join(dirname(target.file), 'data')),
        runs: results.length,
        importMs: median(results.map((r) => r.importMs ?? Number.NaN)) ?? Number.NaN,
        firstInvokeMs: median(results.map((r) => r.invokeMs ?? Number.NaN)) ?? Number.NaN,
        totalMs,
        ratio: totalMs / emptyTotal,
        outcome: !last
          ? 'not run'
          : last.timedOut
            ? `timed out after ${timeoutMs} ms`
            : last.ok
              ? 'returned'
              : `threw ${last.error ?? ''}`,
      };
    });
    return {
      node: node.version,
      empty: { totalMs: emptyTotal, importMs: median(empty.map((r) => r.importMs ?? Number.NaN)) ?? 0 },
      functions,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The JavaScript a function loads: every `.mjs` file of its asset folder. Splitting a bundle
 * into lazily loaded chunks may speed a cold start but must not shrink the size reported.
 */
export function javaScriptSize(dir: string): number {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.mjs'))
    .reduce((sum, file) => sum + statSync(join(dir, file)).size, 0);
}

/** Total size of the files in a folder (0 when it does not exist). */
function dataSize(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).reduce((sum, file) => sum + statSync(join(dir, file)).size, 0);
}

let sequence = 0;

function runDriver(
  nodePath: string,
  work: string,
  input: { file: string; exportName: string; event: unknown; env: Record<string, string>; timeoutMs: number },
): Promise<DriverResult> {
  sequence += 1;
  const config = join(work, `config-${sequence}.json`);
  const out = join(work, `out-${sequence}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      file: input.file,
      exportName: input.exportName,
      event: input.event,
      timeoutMs: input.timeoutMs,
    }),
  );
  return new Promise((resolve) => {
    // Asynchronous on purpose: the handler calls the local endpoints served by this process.
    const child = spawn(nodePath, [DRIVER, config, out], {
      env: input.env,
      cwd: dirname(input.file),
      stdio: 'ignore',
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), input.timeoutMs + 5000);
    child.on('exit', () => {
      clearTimeout(killer);
      try {
        resolve(JSON.parse(readFileSync(out, 'utf8')) as DriverResult);
      } catch {
        resolve({ bootMs: Number.NaN, totalMs: Number.NaN, ok: false, error: 'the driver wrote no result' });
      }
    });
  });
}
