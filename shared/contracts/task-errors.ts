/**
 * Error names the Step Functions task functions throw for transient failures (throttling, a lost
 * optimistic-concurrency race): the workflows' `Retry` matches them (`infra/constructs/`), and
 * the handlers re-throw a retryable failure under them (`retryableTaskError` in
 * `shared/runtime/consumer.ts`). Nothing was sent or changed when one is thrown, so a retry is safe.
 */
export const RETRYABLE_ERRORS = {
  sla: 'SlaRetryableError',
  nurture: 'NurtureRetryableError',
  sms: 'SmsRetryableError',
} as const;
