import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, metrics, tracer } from './observability';

/**
 * Wraps a handler with the middleware every function uses: Powertools context logging,
 * metrics flushing and X-Ray tracing. Handlers stay thin: they parse, call the domain, and use
 * adapters.
 */
export function lambdaHandler<TEvent, TResult>(fn: (event: TEvent, context: Context) => Promise<TResult>) {
  return middy(fn)
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}
