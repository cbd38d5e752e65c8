import { PinpointSMSVoiceV2Client, SendTextMessageCommand } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { LeadPipelineError } from '../domain/errors';
import type { DeliveryFailure } from '../services/lead-email';
import { errorName } from './aws-errors';

/**
 * Sends SMS with AWS End User Messaging SMS (`SendTextMessage`, the `pinpoint-sms-voice-v2`
 * API) from the client's configured origination identity (`sms.originationIdentity`).
 *
 * Like the mailer, never twice: the SDK's own retries are off (`SendTextMessage` is not
 * idempotent) and failures come back typed: {@link SmsNotSentError} when the service answered
 * with an error (nothing was sent), {@link SmsOutcomeUnknownError} when it did not answer.
 */

/** One text message to one number. */
export interface OutgoingSms {
  /** E.164 destination. */
  readonly to: string;
  readonly body: string;
  /** Where it came from, for the delivery records (lead, sequence or reminder, step). */
  readonly context: Readonly<Record<string, string>>;
}

/** Sends one SMS; implemented by {@link EndUserMessagingSms}. */
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

/** Errors that refuse this message for good (opted-out number, bad request, spend limit reached). */
const REFUSED = new Set([
  'ValidationException',
  'ConflictException',
  'ResourceNotFoundException',
  'AccessDeniedException',
]);

/** The {@link DeliveryFailure} of an {@link SmsSender} error, for `deliverOnce`. */
export function classifySmsFailure(error: unknown): DeliveryFailure {
  if (error instanceof SmsOutcomeUnknownError) return { kind: 'unknown', message: error.message };
  if (error instanceof SmsNotSentError)
    return { kind: 'not-sent', retryable: error.retryable, code: error.smsError };
  return undefined;
}

/** {@link SmsSender} on End User Messaging SMS. */
export class EndUserMessagingSms implements SmsSender {
  private readonly client: PinpointSMSVoiceV2Client;

  constructor(
    private readonly originationIdentity: string,
    private readonly configurationSetName?: string,
    client?: PinpointSMSVoiceV2Client,
  ) {
    this.client = client ?? new PinpointSMSVoiceV2Client({ maxAttempts: 1 });
  }

  async send(sms: OutgoingSms): Promise<{ messageId: string }> {
    try {
      const out = await this.client.send(
        new SendTextMessageCommand({
          DestinationPhoneNumber: sms.to,
          OriginationIdentity: this.originationIdentity,
          MessageBody: sms.body,
          MessageType: 'TRANSACTIONAL',
          ...(this.configurationSetName ? { ConfigurationSetName: this.configurationSetName } : {}),
          Context: { ...sms.context },
        }),
      );
      if (!out.MessageId) throw new SmsOutcomeUnknownError(new Error('accepted without a message id'));
      return { messageId: out.MessageId };
    } catch (error) {
      if (error instanceof SmsOutcomeUnknownError) throw error;
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === undefined || status < 300) throw new SmsOutcomeUnknownError(error);
      const name = errorName(error) ?? 'Error';
      throw new SmsNotSentError(name, !REFUSED.has(name), error);
    }
  }
}
