import { randomUUID } from 'node:crypto';
import type { BusEvent, LocalEventBus } from './event-bus';
import { LOCAL_ACCOUNT, LOCAL_REGION } from './template';

/**
 * SES's event publishing, locally. `aws-ses-v2-local` stores and shows the emails but emits no
 * events, so the SES endpoint the functions call is a thin proxy: it forwards each SendEmail to
 * the emulator, remembers the message's tags and configuration set, and then publishes the
 * events SES would put on the account's default bus (Send, Delivery; Bounce or Complaint for
 * SES's mailbox-simulator addresses). Opens and clicks can be simulated on request, so
 * engagement scoring can be demonstrated and tested.
 */

export interface SentEmail {
  readonly messageId: string;
  readonly from: string;
  readonly to: string[];
  readonly subject: string;
  readonly tags: Record<string, string[]>;
  readonly configurationSet?: string;
  readonly headers: Array<{ name: string; value: string }>;
  readonly html?: string;
  readonly text?: string;
  readonly at: string;
}

/** What `aws-ses-v2-local` wants to see in `Authorization` (any AWS-style value). */
export const EMULATOR_AUTHORIZATION =
  'AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=local';

/** SES mailbox-simulator addresses and what SES does with them. */
const SIMULATOR: Record<string, 'bounce' | 'complaint' | 'suppressed'> = {
  'bounce@simulator.amazonses.com': 'bounce',
  'complaint@simulator.amazonses.com': 'complaint',
  'suppressionlist@simulator.amazonses.com': 'suppressed',
};

export class SesEventSimulator {
  readonly sent: SentEmail[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly bus: LocalEventBus,
    readonly emulatorUrl: string,
    private readonly timeScale: number,
  ) {}

  /** SES events still to come: deliveries, bounces and complaints of emails already sent. */
  get pending(): number {
    return this.timers.size;
  }

  /** Forwards a SESv2 SendEmail request to the emulator and schedules its events. */
  async sendEmail(body: string): Promise<{ status: number; body: string }> {
    const response = await fetch(`${this.emulatorUrl}/v2/email/outbound-emails`, {
      method: 'POST',
      // The emulator only checks that some AWS signature is present.
      headers: { 'content-type': 'application/json', authorization: EMULATOR_AUTHORIZATION },
      body,
    });
    const text = await response.text();
    if (!response.ok) return { status: response.status, body: text };
    const request = JSON.parse(body) as {
      FromEmailAddress?: string;
      Destination?: { ToAddresses?: string[] };
      EmailTags?: Array<{ Name: string; Value: string }>;
      ConfigurationSetName?: string;
      Content?: {
        Simple?: {
          Subject?: { Data?: string };
          Body?: { Html?: { Data?: string }; Text?: { Data?: string } };
          Headers?: Array<{ Name: string; Value: string }>;
        };
      };
    };
    const { MessageId } = JSON.parse(text) as { MessageId: string };
    const tags: Record<string, string[]> = {};
    for (const tag of request.EmailTags ?? []) tags[tag.Name] = [tag.Value];
    if (request.ConfigurationSetName) tags['ses:configuration-set'] = [request.ConfigurationSetName];
    const simple = request.Content?.Simple;
    const email: SentEmail = {
      messageId: MessageId,
      from: request.FromEmailAddress ?? '',
      to: request.Destination?.ToAddresses ?? [],
      subject: simple?.Subject?.Data ?? '',
      tags,
      ...(request.ConfigurationSetName ? { configurationSet: request.ConfigurationSetName } : {}),
      headers: (simple?.Headers ?? []).map((h) => ({ name: h.Name, value: h.Value })),
      ...(simple?.Body?.Html?.Data ? { html: simple.Body.Html.Data } : {}),
      ...(simple?.Body?.Text?.Data ? { text: simple.Body.Text.Data } : {}),
      at: new Date().toISOString(),
    };
    this.sent.push(email);
    if (email.configurationSet) this.afterSend(email);
    return { status: response.status, body: text };
  }

  /** Simulates a recipient opening the email (a human, unless `userAgent` says otherwise). */
  open(
    messageId: string,
    userAgent = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15',
  ): boolean {
    const email = this.sent.find((e) => e.messageId === messageId);
    if (!email) return false;
    this.emit(email, 'Email Opened', 'Open', {
      open: { ipAddress: '203.0.113.10', timestamp: new Date().toISOString(), userAgent },
    });
    return true;
  }

  /** Simulates a click on a link of the email. */
  click(
    messageId: string,
    link: string,
    userAgent = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)',
  ): boolean {
    const email = this.sent.find((e) => e.messageId === messageId);
    if (!email) return false;
    this.emit(email, 'Email Clicked', 'Click', {
      click: {
        ipAddress: '203.0.113.10',
        link,
        linkTags: {},
        timestamp: new Date().toISOString(),
        userAgent,
      },
    });
    return true;
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private afterSend(email: SentEmail): void {
    this.emit(email, 'Email Sent', 'Send', { send: {} });
    const outcome = email.to.map((a) => SIMULATOR[a.toLowerCase()]).find(Boolean);
    // Delivery takes a moment at SES; scaled like every other wait.
    const delay = Math.max(10, 1500 / this.timeScale);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const now = new Date().toISOString();
      if (outcome === 'bounce' || outcome === 'suppressed') {
        this.emit(email, 'Email Bounced', 'Bounce', {
          bounce: {
            bounceType: 'Permanent',
            bounceSubType: outcome === 'suppressed' ? 'OnAccountSuppressionList' : 'General',
            bouncedRecipients: email.to.map((emailAddress) => ({
              emailAddress,
              action: 'failed',
              status: '5.1.1',
              diagnosticCode: 'smtp; 550 5.1.1 user unknown',
            })),
            timestamp: now,
            feedbackId: randomUUID(),
            reportingMTA: 'dsn; local-ses',
          },
        });
        return;
      }
      this.emit(email, 'Email Delivered', 'Delivery', {
        delivery: {
          timestamp: now,
          processingTimeMillis: 120,
          recipients: email.to,
          smtpResponse: '250 2.6.0 Message received',
          reportingMTA: 'local-ses',
        },
      });
      if (outcome === 'complaint') {
        this.emit(email, 'Email Complaint Received', 'Complaint', {
          complaint: {
            complainedRecipients: email.to.map((emailAddress) => ({ emailAddress })),
            timestamp: now,
            feedbackId: randomUUID(),
            complaintFeedbackType: 'abuse',
          },
        });
      }
    }, delay);
    this.timers.add(timer);
  }

  private emit(
    email: SentEmail,
    detailType: string,
    eventType: string,
    extra: Record<string, unknown>,
  ): void {
    const event: BusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': detailType,
      source: 'aws.ses',
      account: LOCAL_ACCOUNT,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: LOCAL_REGION,
      resources: email.configurationSet
        ? [`arn:aws:ses:${LOCAL_REGION}:${LOCAL_ACCOUNT}:configuration-set/${email.configurationSet}`]
        : [],
      detail: {
        eventType,
        mail: {
          timestamp: email.at,
          source: email.from,
          sendingAccountId: LOCAL_ACCOUNT,
          messageId: email.messageId,
          destination: email.to,
          headersTruncated: false,
          headers: email.headers,
          commonHeaders: {
            from: [email.from],
            to: email.to,
            messageId: email.messageId,
            subject: email.subject,
          },
          tags: email.tags,
        },
        ...extra,
      },
    };
    this.bus.publish(event, 'default');
  }
}
