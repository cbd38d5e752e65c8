// One Lambda execution environment: imports a bundled handler once (cold start) and runs one
// invocation at a time, like Lambda. Runs in a worker thread whose process.env is the
// function's own environment, so module-scope code sees exactly what Lambda would give it.

import { openSync, writeSync } from 'node:fs';
import module from 'node:module';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const { file, exportName, functionName, memoryMb, fetchRedirects = [], logFile } = workerData;
let handlerPromise;

// The function's log lines go straight to its log file, appended by this thread: a worker's
// stdout would otherwise pass every line through the runtime's main thread (a message, a stream,
// a file write), which also serves the API, the bus and the AWS endpoints. Each write is one
// append (O_APPEND), so the lines of several environments of a function do not interleave.
if (logFile) {
  const fd = openSync(logFile, 'a');
  for (const stream of [process.stdout, process.stderr]) {
    stream.write = (chunk, encoding, callback) => {
      const done = typeof encoding === 'function' ? encoding : callback;
      writeSync(fd, typeof chunk === 'string' ? chunk : Buffer.from(chunk));
      if (typeof done === 'function') queueMicrotask(done);
      return true;
    };
  }
}

// Outbound HTTPS calls to third parties the local runtime stands in for (the Slack incoming
// webhook) go to its local recorder instead: the secret holds a real-looking https URL, so the
// handler's own checks run unchanged, and nothing leaves the machine.
if (fetchRedirects.length > 0) {
  const realFetch = globalThis.fetch;
  const redirect = (url) => {
    for (const [from, to] of fetchRedirects) if (url.startsWith(from)) return to + url.slice(from.length);
    return undefined;
  };
  globalThis.fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const target = redirect(url);
    if (target === undefined) return realFetch(input, init);
    return realFetch(input instanceof Request ? new Request(target, input) : target, init);
  };
}

// V8's code cache for the bundle, on disk (Node 22): the first environment of a function compiles
// it, the next ones (scale-out under load, restarts) load the cached code, about a third less
// CPU per cold start. What the handler does is unchanged; the benchmark's cold-start figures come
// from fresh processes without it (bench/cold-start.ts).
module.enableCompileCache?.();

function load() {
  handlerPromise ??= import(pathToFileURL(file).href).then((mod) => {
    const fn = mod[exportName];
    if (typeof fn !== 'function') throw new Error(`${file} does not export a function "${exportName}"`);
    return fn;
  });
  return handlerPromise;
}

parentPort.on('message', async ({ id, event, timeoutMs, requestId }) => {
  // Lambda's init phase (the import, on a cold start) has its own limit; the function's timeout
  // counts from when the handler is called, so the clock starts once the bundle is loaded.
  let handler;
  const cold = handlerPromise === undefined;
  try {
    handler = await load();
  } catch (error) {
    handler = () => {
      throw error;
    };
  }
  // Only a cold start has an init phase to end; a warm invocation's clock already runs.
  if (cold) parentPort.postMessage({ id, initialized: true });
  const started = performance.now();
  const deadline = Date.now() + timeoutMs;
  const context = {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
  try {
    const result = await handler(event, context);
    parentPort.postMessage({ id, ok: true, result, durationMs: performance.now() - started });
  } catch (error) {
    parentPort.postMessage({
      id,
      ok: false,
      error: {
        errorType: error?.name ?? 'Error',
        errorMessage: error?.message ?? String(error),
        stack: typeof error?.stack === 'string' ? error.stack.split('\n').slice(0, 8) : [],
      },
      durationMs: performance.now() - started,
    });
  }
});
