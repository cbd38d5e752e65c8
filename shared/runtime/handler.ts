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
 * The one way a function wires its dependencies:
 *
 * ```ts
 * export function createHandler(deps: Deps) { ... }          // pure of the environment; tests inject deps
 * function defaultDeps(): Deps { ... }                        // adapters from the environment
 * export const handler = lazyHandler(() => createHandler(defaultDeps()));
 * ```
 *
 * `createHandler` takes the dependencies themselves (not a function producing them), and
 * `defaultDeps` builds every adapter eagerly: `lazyHandler` calls it once, on the first
 * invocation, so importing a handler module (a test, the bundler) needs no environment and an
 * instance builds its clients once. `defaultDeps` reads the environment by role through `env`
 * (`shared/contracts/function-env.ts`), the names `LeadFunction` sets. Inside `createHandler`,
 * HTTP routes wrap their route logic in `httpRoute` (`shared/http/middleware.ts`) and event
 * consumers (rules, schedules, Step Functions tasks, SNS) are specs for `eventConsumer` or
 * `consumer` (`./consumer.ts`), so tests exercise the same middleware. No handler uses
 * {@link lambdaHandler} directly or takes a factory of its dependencies.
 *
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
