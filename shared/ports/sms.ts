import { LeadPipelineError } from '../domain/errors';
import type { DeliveryFailure } from './delivery';

/**
 * Sending one SMS, and the two ways it can fail. Services depend on this;
 * `shared/adapters/sms-sender.ts` implements it on End User Messaging SMS.
 */

/** One text message to one number. */
export interface OutgoingSms {
  /** E.164 destination. */
  readonly to: string;
  readonly body: string;
  /** Where it came from, for the delivery records (lead, sequence or reminder, step). */
  readonly context: Readonly<Record<string, string>>;
}

/** Sends one SMS; implemented by `EndUserMessagingSms`. */
export interface SmsSender {
  /** @returns the service's message id. */
  send(sms: OutgoingSms): Promise<{ messageId: string }>;
}

/** The service answered with an error: the message was NOT sent. */
export class SmsNotSentError extends LeadPipelineError {
  readonly code = 'SMS_NOT_SENT';
  override readonly retryable: boolean;
  constructor(
    readonly smsError: string,
    retryable: boolean,
    override readonly cause?: unknown,
  ) {
    super(`SMS not sent (${smsError}): ${cause instanceof Error ? cause.message : String(cause)}`);
    this.retryable = retryable;
  }
}

/** No answer from the service: the message may or may not have been sent. */
export class SmsOutcomeUnknownError extends LeadPipelineError {
  readonly code = 'SMS_OUTCOME_UNKNOWN';
  constructor(override readonly cause?: unknown) {
    super(`No answer from End User Messaging SMS; the SMS may have been sent: ${String(cause)}`);
  }
}

/** The {@link DeliveryFailure} of an {@link SmsSender} error, for `deliverOnce`. */
export function classifySmsFailure(error: unknown): DeliveryFailure {
  if (error instanceof SmsOutcomeUnknownError) return { kind: 'unknown', message: error.message };
  if (error instanceof SmsNotSentError)
    return { kind: 'not-sent', retryable: error.retryable, code: error.smsError };
  return undefined;
}
