import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { FieldProblem } from '../domain/errors';
import { InvalidInputError, LeadPipelineError } from '../domain/errors';

/** Escapes text for HTML element and attribute content (defined with the domain's email rules). */
export { escapeHtml } from '../domain/html';

/**
 * Small helpers for API Gateway HTTP API (payload format 2.0) handlers: reading bodies of the
 * content types browsers and webhooks send, and answering with consistent JSON problems.
 */

export type ApiEvent = APIGatewayProxyEventV2;
export type ApiResult = APIGatewayProxyStructuredResultV2;

/** A request body that is too large: answered with 413. */
export class BodyTooLargeError extends LeadPipelineError {
  readonly code = 'BODY_TOO_LARGE';
  constructor(readonly limit: number) {
    super(`Request body is larger than ${limit} bytes`);
  }
}

/** A body in a content type we do not read: answered with 415. */
export class UnsupportedMediaTypeError extends LeadPipelineError {
  readonly code = 'UNSUPPORTED_MEDIA_TYPE';
  constructor(readonly contentType: string) {
    super(
      `Unsupported content type "${contentType}": send application/json or application/x-www-form-urlencoded`,
    );
  }
}

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
  return json(400, {
    error: 'INVALID_INPUT',
    message: 'Some fields are missing or invalid',
    fields: problems.map((p) => ({ field: p.field, reason: p.reason })),
  });
}

/**
 * Maps the errors a handler may let escape to HTTP answers: bad input 4xx with the reason,
 * transient dependency failures 503 with Retry-After (the client may retry; nothing was
 * promised), anything else re-thrown so Lambda records the error.
 */
export function errorResponse(error: unknown): ApiResult {
  if (error instanceof InvalidInputError) return invalid(error.problems);
  if (error instanceof BodyTooLargeError) return json(413, { error: error.code, message: error.message });
  if (error instanceof UnsupportedMediaTypeError)
    return json(415, { error: error.code, message: error.message });
  if (error instanceof LeadPipelineError) {
    const status =
      error.code === 'LEAD_NOT_FOUND' || error.code === 'TASK_NOT_FOUND' || error.code === 'DETAILS_NOT_FOUND'
        ? 404
        : error.code === 'NOT_ALLOWED'
          ? 403
          : error.code === 'DUPLICATE_LEAD'
            ? 409
            : error.retryable
              ? 503
              : 409;
    return json(
      status,
      { error: error.code, message: error.message },
      status === 503 ? { 'retry-after': '2' } : {},
    );
  }
  throw error;
}
