import { PinpointSMSVoiceV2Client, SendTextMessageCommand } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { type OutgoingSms, SmsNotSentError, SmsOutcomeUnknownError, type SmsSender } from '../ports/sms';
import { errorName } from './aws-errors';

/**
 * Sends SMS with AWS End User Messaging SMS (`SendTextMessage`, the `pinpoint-sms-voice-v2`
 * API) from the client's configured origination identity (`sms.originationIdentity`).
 *
 * Like the mailer, never twice: the SDK's own retries are off (`SendTextMessage` is not
 * idempotent) and failures come back typed: {@link SmsNotSentError} when the service answered
 * with an error (nothing was sent), {@link SmsOutcomeUnknownError} when it did not answer.
 */

/** Errors that refuse this message for good (opted-out number, bad request, spend limit reached). */
const REFUSED = new Set([
  'ValidationException',
  'ConflictException',
  'ResourceNotFoundException',
  'AccessDeniedException',
]);

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
