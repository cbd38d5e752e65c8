import { ZodError } from 'zod';
import { LeadStateConflictError, PreconditionFailedError } from '../domain/access';
import {
  DuplicateLeadError,
  InvalidInputError,
  LeadNotFoundError,
  LeadPipelineError,
  NotAllowedError,
  RepAtCapacityError,
  SubmittedDetailsNotFoundError,
  TaskNotFoundError,
} from '../domain/errors';
import { fieldProblems } from '../domain/input';

/**
 * The one table from typed errors to HTTP answers. A handler (or the HTTP middleware) lets a
 * typed error escape and gets its status here, by class, never by comparing `error.code`
 * strings: a new error class gets its status by adding one row.
 */

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

/** No verified identity on the request (the route is not behind the authorizer, or claims are missing). Maps to 401. */
export class NotAuthenticatedError extends LeadPipelineError {
  readonly code = 'NOT_AUTHENTICATED';
  constructor(reason: string) {
    super(`Not authenticated: ${reason}`);
  }
}

/** An HTTP problem: the status, the JSON body and any extra headers. */
export interface Problem {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;
}

// biome-ignore lint/suspicious/noExplicitAny: a constructor of any arity, matched with instanceof.
type ErrorClass<E> = abstract new (...args: any[]) => E;

interface Row<E extends LeadPipelineError> {
  readonly type: ErrorClass<E>;
  readonly status: number;
  /** Fields added to `{ error, message }` for this class. */
  readonly extra?: (error: E) => Record<string, unknown>;
}

/** A row typed by its class (its `extra` reads that class's fields); rows are matched with `instanceof`. */
const row = <E extends LeadPipelineError>(r: Row<E>): Row<LeadPipelineError> =>
  r as unknown as Row<LeadPipelineError>;

/** Typed error → status, most specific first. Other retryable errors are 503, other typed errors 409. */
export const ERROR_STATUS: readonly Row<LeadPipelineError>[] = [
  row({
    type: InvalidInputError,
    status: 400,
    extra: (e) => ({
      message: 'Some fields are missing or invalid',
      fields: e.problems.map((p) => ({ field: p.field, reason: p.reason })),
    }),
  }),
  row({ type: NotAuthenticatedError, status: 401 }),
  row({ type: NotAllowedError, status: 403 }),
  row({ type: LeadNotFoundError, status: 404 }),
  row({ type: TaskNotFoundError, status: 404 }),
  row({ type: SubmittedDetailsNotFoundError, status: 404 }),
  row({ type: DuplicateLeadError, status: 409 }),
  row({ type: LeadStateConflictError, status: 409 }),
  // A manual reassignment to a full rep: the caller picks another rep (or forces it), so 409, not 503.
  row({
    type: RepAtCapacityError,
    status: 409,
    extra: (e) => ({
      message: `${e.message}: pick another rep, or (admins) send "force": true`,
      repId: e.repId,
    }),
  }),
  row({ type: PreconditionFailedError, status: 412, extra: (e) => ({ currentVersion: e.actualVersion }) }),
  row({ type: BodyTooLargeError, status: 413 }),
  row({ type: UnsupportedMediaTypeError, status: 415 }),
];

/** Seconds a client should wait before retrying a 503. */
const RETRY_AFTER_SECONDS = '2';

/**
 * The HTTP problem for an error a handler let escape, or `undefined` for an unknown error (which
 * must reach Lambda as a failure). A `ZodError` is bad input (see `fieldProblems`).
 */
export function problemFor(error: unknown): Problem | undefined {
  const typed = error instanceof ZodError ? new InvalidInputError(fieldProblems(error)) : error;
  if (!(typed instanceof LeadPipelineError)) return undefined;
  const match = ERROR_STATUS.find((r) => typed instanceof r.type);
  const status = match?.status ?? (typed.retryable ? 503 : 409);
  return {
    status,
    body: { error: typed.code, message: typed.message, ...match?.extra?.(typed) },
    headers: status === 503 ? { 'retry-after': RETRY_AFTER_SECONDS } : {},
  };
}
