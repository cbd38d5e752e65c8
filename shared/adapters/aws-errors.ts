import { DependencyUnavailableError } from '../domain/errors';

/** SDK error names that mean "try again later" rather than "you asked for something wrong". */
const TRANSIENT = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException', // SNS
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'InternalServerError',
  'InternalFailure',
  'InternalServerException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'TransactionInProgressException',
  'TransactionConflictException',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
]);

/** The SDK error name (or Node network code) of an unknown error. */
export function errorName(error: unknown): string | undefined {
  if (error && typeof error === 'object') {
    const e = error as { name?: unknown; code?: unknown };
    if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
    if (typeof e.code === 'string') return e.code;
  }
  return undefined;
}

/** True for throttling, timeouts, 5xx and connection failures. */
export function isTransient(error: unknown): boolean {
  const name = errorName(error);
  if (name && TRANSIENT.has(name)) return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
  if (typeof status === 'number' && (status >= 500 || status === 429)) return true;
  return (error as { $retryable?: unknown } | undefined)?.$retryable !== undefined;
}

/**
 * Re-throws transient SDK failures as {@link DependencyUnavailableError} so handlers can answer
 * 503 / let the platform retry; anything else is re-thrown unchanged (it is a bug or bad input).
 */
export function rethrowAsDomain(dependency: string, error: unknown): never {
  if (isTransient(error)) throw new DependencyUnavailableError(dependency, error);
  throw error;
}
