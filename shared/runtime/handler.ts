import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, metrics } from './observability';

/**
 * Wraps a handler with the middleware every function uses: Powertools context logging and
 * metrics flushing. Handlers stay thin: they parse, call the domain, and use adapters.
 *
 * No Powertools Tracer: Lambda's active tracing already records each invocation's segment (and
 * Step Functions and API Gateway theirs), and the Tracer's AWS-call subsegments cost every bundle
 * the X-Ray SDK (about 110 KB minified with its dependencies) and 20-40 ms of cold start.
 */
export function lambdaHandler<TEvent, TResult>(fn: (event: TEvent, context: Context) => Promise<TResult>) {
  return middy(fn)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}

/**
 * {@link lambdaHandler} for a handler whose adapters need the function's environment: `build`
 * runs on the first invocation (not at import, so tests can import the module without the
 * stack's environment variables), and its handler is reused for the life of the instance.
 */
export function lazyHandler<TEvent, TResult>(
  build: () => (event: TEvent, context: Context) => Promise<TResult>,
) {
  let live: ((event: TEvent, context: Context) => Promise<TResult>) | undefined;
  return lambdaHandler((event: TEvent, context: Context) => {
    live ??= build();
    return live(event, context);
  });
}
