import { randomUUID } from 'node:crypto';
import { smsParts } from '../shared/domain/sms';

/**
 * AWS End User Messaging SMS, locally: `SendTextMessage` (JSON 1.0, `PinpointSMSVoiceV2.*`) is
 * answered and recorded, and a reply typed on the recorder page (`/_local/sms`) goes where the
 * two-way channel sends it when deployed: to the inbound SNS topic, whose Lambda subscribers
 * (read from the template) receive it as an SNS event with the message End User Messaging SMS
 * publishes. So a STOP typed here opts the number out exactly as a handset's would.
 */

/** One text message a function sent. */
export interface SmsRecord {
  readonly messageId: string;
  readonly to: string;
  readonly from: string;
  readonly body: string;
  readonly parts: number;
  readonly encoding: string;
  readonly context: Record<string, string>;
  readonly at: string;
}

/** One reply sent from the recorder. */
export interface SmsReplyRecord {
  readonly from: string;
  readonly to: string;
  readonly body: string;
  readonly at: string;
  /** Whether every subscriber took it. */
  readonly delivered: boolean;
}

/** Delivers an SNS notification to the topic's subscribers; resolves false when one failed. */
export type SnsDelivery = (topicArn: string, message: string) => Promise<boolean>;

export class LocalSmsChannel {
  readonly sent: SmsRecord[] = [];
  readonly replies: SmsReplyRecord[] = [];

  constructor(
    /** Topics End User Messaging SMS would publish replies to (the stack's inbound topic). */
    private readonly inboundTopics: () => readonly string[],
    private readonly deliver: SnsDelivery,
  ) {}

  /** Answers a `PinpointSMSVoiceV2.<operation>` request. */
  api(operation: string, input: Record<string, unknown>): { status: number; body: unknown } {
    if (operation !== 'SendTextMessage')
      return { status: 400, body: { __type: 'ValidationException', message: `unsupported ${operation}` } };
    const to = String(input.DestinationPhoneNumber ?? '');
    const body = String(input.MessageBody ?? '');
    if (!/^\+[1-9]\d{6,14}$/.test(to) || body === '')
      return {
        status: 400,
        body: {
          __type: 'ValidationException',
          message: 'DestinationPhoneNumber and MessageBody are required',
        },
      };
    const parts = smsParts(body);
    const record: SmsRecord = {
      messageId: randomUUID(),
      to,
      from: String(input.OriginationIdentity ?? ''),
      body,
      parts: parts.parts,
      encoding: parts.encoding,
      context: (input.Context as Record<string, string> | undefined) ?? {},
      at: new Date().toISOString(),
    };
    this.sent.push(record);
    return { status: 200, body: { MessageId: record.messageId } };
  }

  /** A reply from `from` (the lead's handset) to the number that texted it. */
  async reply(from: string, body: string): Promise<SmsReplyRecord> {
    const to = [...this.sent].reverse().find((s) => s.to === from)?.from ?? '';
    const message = JSON.stringify({
      originationNumber: from,
      destinationNumber: to,
      messageKeyword: 'KEYWORD_LOCAL',
      messageBody: body,
      inboundMessageId: randomUUID(),
      previousPublishedMessageId: [...this.sent].reverse().find((s) => s.to === from)?.messageId ?? '',
    });
    let delivered = true;
    for (const topic of this.inboundTopics()) delivered = (await this.deliver(topic, message)) && delivered;
    const record = { from, to, body, at: new Date().toISOString(), delivered };
    this.replies.push(record);
    return record;
  }

  /** The recorder page: what was sent, newest first, with a reply form per number. */
  page(): string {
    const esc = (s: string) =>
      s.replace(
        /[&<>"']/g,
        (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
      );
    const rows = [...this.sent]
      .reverse()
      .map(
        (s) =>
          `<tr><td>${esc(s.at)}</td><td>${esc(s.to)}</td><td>${esc(s.body)}</td><td>${s.parts} (${esc(s.encoding)})</td>` +
          `<td><form method="post" action="/_local/sms/reply"><input type="hidden" name="from" value="${esc(s.to)}">` +
          `<input name="body" value="STOP" aria-label="Reply from ${esc(s.to)}"> <button>Reply</button></form></td></tr>`,
      )
      .join('');
    const replies = [...this.replies]
      .reverse()
      .map(
        (r) => `<li>${esc(r.at)} ${esc(r.from)}: ${esc(r.body)}${r.delivered ? '' : ' (not delivered)'}</li>`,
      )
      .join('');
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>SMS recorder</title></head><body>
<h1>SMS sent</h1><table border="1" cellpadding="4"><thead><tr><th>At</th><th>To</th><th>Text</th><th>Parts</th><th>Reply</th></tr></thead><tbody>${rows}</tbody></table>
<h2>Replies</h2><ul>${replies}</ul><p>JSON: <a href="/_local/sms.json">/_local/sms.json</a></p></body></html>`;
  }
}
