/**
 * How long failed events wait in a dead-letter queue, and how long consumers remember the
 * events they already handled, defined together so they cannot drift apart.
 *
 * A redrive replays what a DLQ holds, possibly on the queue's last day. If a consumer had
 * already forgotten that it handled the event (its idempotency record expired), the replay
 * would repeat the effect: a second Slack alert, a second email. So every idempotency window
 * that guards an event consumer is derived from the DLQ retention, plus a margin for the
 * redrive itself and its retries.
 */

/** Days a dead-letter queue keeps a message: the SQS maximum (14 days). */
export const DLQ_RETENTION_DAYS = 14;

/** Extra days an idempotency record outlives the DLQ, for a redrive started on its last day. */
export const REDRIVE_MARGIN_DAYS = 1;

const DAY_SECONDS = 86_400;

/** Seconds an event consumer remembers an event it handled (idempotency record TTL). */
export const EVENT_IDEMPOTENCY_TTL_SECONDS = (DLQ_RETENTION_DAYS + REDRIVE_MARGIN_DAYS) * DAY_SECONDS;

/** Seconds a DLQ keeps a message (for the queue's `retentionPeriod`). */
export const DLQ_RETENTION_SECONDS = DLQ_RETENTION_DAYS * DAY_SECONDS;
