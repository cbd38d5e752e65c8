import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { FieldProblem } from '../domain/errors';
import { InvalidInputError } from '../domain/errors';
import { BodyTooLargeError, type Problem, problemFor, UnsupportedMediaTypeError } from './errors';

/** Escapes text for HTML element and attribute content (defined with the domain's email rules). */
export { escapeHtml } from '../domain/html';
export { BodyTooLargeError, UnsupportedMediaTypeError } from './errors';

/**
 * Small helpers for API Gateway HTTP API (payload format 2.0) handlers: reading bodies of the
 * content types browsers and webhooks send, and answering with consistent JSON problems.
 */

export type ApiEvent = APIGatewayProxyEventV2;
export type ApiResult = APIGatewayProxyStructuredResultV2;

/** A header value, case-insensitively (API Gateway lower-cases them, local tools may not). */
export function header(event: ApiEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/** The raw body as bytes-decoded text, enforcing a size limit. */
export function rawBody(event: ApiEvent, maxBytes: number): string {
  if (!event.body) return '';
  const buffer = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (buffer.byteLength > maxBytes) throw new BodyTooLargeError(maxBytes);
  // A leading byte order mark (Windows tools and .NET clients send one) is not content: JSON.parse
  // would refuse it, and a form's first key would carry it.
  const text = buffer.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** The media type without parameters, lower-case (`application/json`). */
export function mediaType(event: ApiEvent): string {
  return (header(event, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** True when the request came from a plain HTML form (so the answer should be a page or redirect). */
export function isFormPost(event: ApiEvent): boolean {
  const type = mediaType(event);
  return type === 'application/x-www-form-urlencoded' || type === 'multipart/form-data';
}

/**
 * Reads a JSON or form-encoded body into a flat record. Repeated form keys become arrays.
 * @throws InvalidInputError for malformed JSON, UnsupportedMediaTypeError, BodyTooLargeError.
 */
export function readBody(event: ApiEvent, maxBytes: number): Record<string, unknown> {
  const text = rawBody(event, maxBytes);
  const type = mediaType(event);
  if (type === 'application/x-www-form-urlencoded') {
    const record: Record<string, unknown> = {};
    for (const [key, value] of new URLSearchParams(text)) {
      const existing = record[key];
      if (existing === undefined) record[key] = value;
      else record[key] = Array.isArray(existing) ? [...existing, value] : [existing, value];
    }
    return record;
  }
  if (type === 'application/json' || type === '' || type.endsWith('+json') || type === 'text/plain') {
    if (text.trim() === '')
      throw new InvalidInputError([{ field: 'body', reason: 'the request body is empty' }]);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new InvalidInputError([
        { field: 'body', reason: `not valid JSON (${(error as Error).message})` },
      ]);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new InvalidInputError([{ field: 'body', reason: 'expected a JSON object' }]);
    }
    return parsed as Record<string, unknown>;
  }
  throw new UnsupportedMediaTypeError(type);
}

/** A JSON response. */
export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

/** A redirect (303 See Other, so the browser follows with GET). */
export function redirect(location: string, statusCode = 303): ApiResult {
  return { statusCode, headers: { location, 'cache-control': 'no-store' }, body: '' };
}

/** An HTML page. */
export function html(statusCode: number, body: string, headers: Record<string, string> = {}): ApiResult {
  return {
    statusCode,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
      'x-content-type-options': 'nosniff',
      ...headers,
    },
    body,
  };
}

/** A 400 problem listing every bad field and why. */
export function invalid(problems: readonly FieldProblem[]): ApiResult {
  return errorResponse(new InvalidInputError(problems));
}

/** The JSON answer of an HTTP problem (see `shared/http/errors.ts`). */
export function problemResponse(problem: Problem): ApiResult {
  return json(problem.status, problem.body, { ...problem.headers });
}

/**
 * Maps the errors a handler may let escape to HTTP answers, by class (`ERROR_STATUS` in
 * `shared/http/errors.ts`): bad input 4xx with the reason, transient dependency failures 503
 * with Retry-After (the client may retry; nothing was promised), anything else re-thrown so
 * Lambda records the error.
 */
export function errorResponse(error: unknown): ApiResult {
  const problem = problemFor(error);
  if (problem === undefined) throw error;
  return problemResponse(problem);
}
