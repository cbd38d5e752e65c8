import type { MessageHeader } from '../domain/email-render';
import { LeadPipelineError } from '../domain/errors';

/**
 * Sending one email to one lead, and the two ways it can fail: refused (not sent) or no answer
 * (maybe sent). Services depend on this; `shared/adapters/mailer.ts` implements it on SES v2.
 */

/** One email to one lead. */
export interface OutgoingEmail {
  /** Recipient address (the lead's canonical email). */
  readonly to: string;
  /** `"Name" <address>`, see `formatMailbox`. */
  readonly from: string;
  readonly replyTo?: readonly string[];
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  /** Extra headers (List-Unsubscribe, List-Unsubscribe-Post). */
  readonly headers: readonly MessageHeader[];
  /** SES message tags; they come back on every SES event for this message. */
  readonly tags: ReadonlyArray<{ readonly name: string; readonly value: string }>;
}

/** Sends one email; implemented by `SesMailer`. */
export interface Mailer {
  /** @returns the SES message id. */
  send(email: OutgoingEmail): Promise<{ messageId: string }>;
}

/**
 * SES answered the request with an error, so the email was NOT sent. `retryable`: a later
 * attempt can succeed (throttling, quota, sending paused); otherwise the message or recipient is
 * refused (`MessageRejected`, a bad request) and retrying cannot help.
 */
export class EmailNotSentError extends LeadPipelineError {
  readonly code = 'EMAIL_NOT_SENT';
  override readonly retryable: boolean;
  constructor(
    readonly sesError: string,
    retryable: boolean,
    override readonly cause?: unknown,
  ) {
    super(
      `SES did not send the email (${sesError}): ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.retryable = retryable;
  }
}

/** The request failed without an answer from SES (timeout, connection reset): it may or may not have been sent. */
export class EmailOutcomeUnknownError extends LeadPipelineError {
  readonly code = 'EMAIL_OUTCOME_UNKNOWN';
  constructor(override readonly cause?: unknown) {
    super(
      `No answer from SES; the email may have been sent: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
}
