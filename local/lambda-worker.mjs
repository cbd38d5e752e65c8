// One Lambda execution environment: imports a bundled handler once (cold start) and runs one
// invocation at a time, like Lambda. Runs in a worker thread whose process.env is the
// function's own environment, so module-scope code sees exactly what Lambda would give it.

import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const { file, exportName, functionName, memoryMb, fetchRedirects = [] } = workerData;
let handlerPromise;

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
  try {
    handler = await load();
  } catch (error) {
    handler = () => {
      throw error;
    };
  }
  parentPort.postMessage({ id, initialized: true });
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
