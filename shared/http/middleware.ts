import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { type ApiEvent, type ApiResult, problemResponse, readBody } from './api';
import { type Problem, problemFor } from './errors';

/**
 * The HTTP routes' middleware (middy), so every route handler is only its route logic:
 *
 * - header names lower-cased (API Gateway does it; local tools, tests and proxies may not), so
 *   `event.headers['content-type']` is the one way to read a header;
 * - the body, JSON or form-urlencoded, parsed on first read of `event.parsedBody` with the
 *   route's size limit (a route that never reads it never refuses a body it ignores);
 * - the answer to an error taken from its class (`ERROR_STATUS` in `./errors.ts`), as JSON or,
 *   for routes that answer browsers, as the page `page` renders; an unknown error is left to
 *   reach Lambda (a 500, logged and alarmed).
 */

/** A request after {@link httpApi}'s `before`: lower-case headers and a lazily parsed body. */
export interface HttpEvent extends ApiEvent {
  readonly headers: Record<string, string | undefined>;
  /**
   * The body as a flat record (JSON object, or form fields with repeated keys as arrays).
   * @throws InvalidInputError, UnsupportedMediaTypeError or BodyTooLargeError on first read.
   */
  readonly parsedBody: Record<string, unknown>;
}

/** Options of {@link httpApi}. */
export interface HttpApiOptions {
  /** Largest body the route reads, in bytes, or a choice per request. @default 16384 */
  readonly maxBodyBytes?: number | ((event: ApiEvent) => number);
  /**
   * An HTML answer for a problem, for routes a browser opens; `undefined` answers JSON.
   * @default - every problem is answered as JSON
   */
  readonly page?: (problem: Problem, event: ApiEvent) => ApiResult | undefined;
}

const DEFAULT_MAX_BODY_BYTES = 16 * 1024;

/** Copies `headers` with lower-case names (the first value wins when a name repeats in two casings). */
export function lowerCaseHeaders(headers: ApiEvent['headers'] | undefined): Record<string, string> {
  const lower: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const key = name.toLowerCase();
    if (value !== undefined && !(key in lower)) lower[key] = value;
  }
  return lower;
}

/** The middy middleware object; {@link httpRoute} applies it. */
export function httpApi(options: HttpApiOptions = {}): MiddlewareObj<ApiEvent, ApiResult> {
  return {
    before: (request) => {
      const event: ApiEvent = { ...request.event, headers: lowerCaseHeaders(request.event.headers) };
      const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
      let parsed: Record<string, unknown> | undefined;
      Object.defineProperty(event, 'parsedBody', {
        enumerable: false,
        get: () => {
          parsed ??= readBody(event, typeof limit === 'number' ? limit : limit(event));
          return parsed;
        },
      });
      request.event = event;
    },
    onError: (request) => {
      const problem = problemFor(request.error);
      // Unknown errors stay errors: middy rethrows them to Lambda.
      if (problem === undefined) return;
      request.response = options.page?.(problem, request.event) ?? problemResponse(problem);
    },
  };
}

/** Stands in for "no Lambda context" (a test's call), which middy would replace with `{}`. */
const NO_CONTEXT = Object.freeze({}) as Context;

/**
 * An HTTP route handler wrapped in {@link httpApi}. Returns a plain function of the event, so
 * tests call it like the handler it wraps, and the Lambda entry wraps it once more in
 * `lambdaHandler` (logging, metrics). The route gets the Lambda context as given, `undefined`
 * when there is none.
 */
export function httpRoute(
  route: (event: HttpEvent, context: Context | undefined) => Promise<ApiResult>,
  options: HttpApiOptions = {},
): (event: ApiEvent, context?: Context) => Promise<ApiResult> {
  const wrapped = middy((event: ApiEvent, context: Context) =>
    route(event as HttpEvent, context === NO_CONTEXT ? undefined : context),
  ).use(httpApi(options));
  return (event, context) => wrapped(event, context ?? NO_CONTEXT);
}
