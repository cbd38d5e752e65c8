// One cold start, in a fresh Node process: `node cold-start-driver.mjs <config.json> <out.json>`.
// Imports a bundled handler, runs its first invocation with a representative event and writes
// the timings. Plain JavaScript (no tsx loader), so the process is what Lambda would start.
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const started = performance.now(); // ms since the process started (Node bootstrap before this)
const [configFile, outFile] = process.argv.slice(2);
const { file, exportName, event, timeoutMs } = JSON.parse(readFileSync(configFile, 'utf8'));

const finish = (result) => {
  writeFileSync(outFile, JSON.stringify({ bootMs: started, ...result, totalMs: performance.now() }));
  process.exit(0);
};
setTimeout(() => finish({ timedOut: true }), timeoutMs).unref();

const context = {
  functionName: 'cold-start',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:cold-start',
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '512',
  awsRequestId: 'cold-start',
  logGroupName: '/aws/lambda/cold-start',
  logStreamName: 'local',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => timeoutMs,
  done() {},
  fail() {},
  succeed() {},
};

const t0 = performance.now();
const mod = await import(pathToFileURL(file).href);
const t1 = performance.now();
let ok = true;
let error;
try {
  await mod[exportName](event, context);
} catch (e) {
  ok = false;
  error = `${e?.name ?? 'Error'}: ${e?.message ?? String(e)}`.slice(0, 300);
}
const t2 = performance.now();
finish({ importMs: t1 - t0, invokeMs: t2 - t1, ok, ...(error ? { error } : {}) });
