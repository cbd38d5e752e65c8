import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import {
  EmailNotSentError,
  EmailOutcomeUnknownError,
  type Mailer,
  type OutgoingEmail,
} from '../ports/mailer';
import { errorName } from './aws-errors';

/**
 * Sends lead emails with SES v2 `SendEmail`, always through the client's configuration set
 * (`CONFIGURATION_SET_NAME`) so SES publishes delivery, open, click, bounce and complaint events
 * for them, and always with the message tags that name the lead.
 *
 * Why `Content.Simple` (subject, HTML and text rendered by `domain/email-render.ts`) and not
 * `Content.Template` with inline `TemplateContent` + `TemplateData`: both exist in the SDK and
 * both are accepted by the local emulator (`aws-ses-v2-local`, which also keeps `Headers`), but
 * an SES template escapes values in the subject and text part too, fails asynchronously (a
 * "Rendering Failure" event, no email) on missing data, and renders differently from the
 * emulator's Handlebars. Rendering ourselves keeps escaping per part, fallbacks for missing
 * names and identical bytes in both places. `Headers` (List-Unsubscribe) work on Simple content.
 *
 * Never twice: `SendEmail` is not idempotent, so the SDK's own retries are OFF (a retried
 * request after a timeout may deliver the same email twice). This adapter retries only what
 * SES answered with "too many requests" (the email certainly did not go out) and reports
 * everything else as one of two typed errors: {@link EmailNotSentError} (SES answered with an
 * error: the email did not go out) or {@link EmailOutcomeUnknownError} (no answer: it may have).
 */

/** SES errors that refuse this message for good: retrying the same request cannot succeed. */
const REFUSED = new Set(['MessageRejected', 'BadRequestException']);
/** SES errors meaning "slow down now": retried in-process with backoff. */
const THROTTLED = new Set(['TooManyRequestsException', 'ThrottlingException', 'Throttling']);
/** In-process attempts for a throttled send. */
const MAX_ATTEMPTS = 3;

function httpStatus(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata
    ?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** {@link Mailer} on SES v2. */
export class SesMailer implements Mailer {
  private readonly client: SESv2Client;

  constructor(
    private readonly configurationSetName: string,
    client?: SESv2Client,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    // maxAttempts 1: no blind SDK retries of a non-idempotent send (see the module comment).
    this.client = client ?? new SESv2Client({ maxAttempts: 1 });
  }

  async send(email: OutgoingEmail): Promise<{ messageId: string }> {
    const command = new SendEmailCommand({
      FromEmailAddress: email.from,
      Destination: { ToAddresses: [email.to] },
      ...(email.replyTo && email.replyTo.length > 0 ? { ReplyToAddresses: [...email.replyTo] } : {}),
      Content: {
        Simple: {
          Subject: { Data: email.subject, Charset: 'UTF-8' },
          Body: {
            Html: { Data: email.html, Charset: 'UTF-8' },
            Text: { Data: email.text, Charset: 'UTF-8' },
          },
          Headers: email.headers.map((h) => ({ Name: h.name, Value: h.value })),
        },
      },
      EmailTags: email.tags.map((t) => ({ Name: t.name, Value: t.value })),
      ConfigurationSetName: this.configurationSetName,
    });
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await this.client.send(command);
        if (!out.MessageId)
          throw new EmailOutcomeUnknownError(new Error('SES accepted the request without a message id'));
        return { messageId: out.MessageId };
      } catch (error) {
        if (error instanceof EmailOutcomeUnknownError) throw error;
        const name = errorName(error) ?? 'Error';
        const status = httpStatus(error);
        // No HTTP status: the request never got an answer, so SES may have accepted it. A 2xx
        // whose body could not be read is an acceptance we could not confirm.
        if (status === undefined || status < 300) throw new EmailOutcomeUnknownError(error);
        const throttled = THROTTLED.has(name) || status === 429;
        if (throttled && attempt < MAX_ATTEMPTS) {
          await this.sleep(100 * 2 ** attempt + Math.floor(Math.random() * 100));
          continue;
        }
        throw new EmailNotSentError(name, !REFUSED.has(name), error);
      }
    }
  }
}
