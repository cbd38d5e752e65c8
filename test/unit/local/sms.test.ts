import { describe, expect, it } from 'vitest';
import { LocalSmsChannel } from '../../../local/sms';

describe('local SMS channel', () => {
  it('records SendTextMessage with its parts and refuses a request without a number or text', () => {
    const channel = new LocalSmsChannel(
      () => [],
      async () => true,
    );
    const answer = channel.api('SendTextMessage', {
      DestinationPhoneNumber: '+447911123456',
      OriginationIdentity: '+447700900123',
      MessageBody: `Hi Jane ${'x'.repeat(160)}`,
      Context: { leadId: 'lead-1' },
    });
    expect(answer.status).toBe(200);
    expect(channel.sent).toEqual([
      expect.objectContaining({
        to: '+447911123456',
        from: '+447700900123',
        parts: 2,
        encoding: 'GSM-7',
        context: { leadId: 'lead-1' },
      }),
    ]);
    expect(answer.body).toEqual({ MessageId: channel.sent[0]?.messageId });
    expect(channel.api('SendTextMessage', { DestinationPhoneNumber: '07911', MessageBody: 'x' }).status).toBe(
      400,
    );
    expect(channel.api('SendVoiceMessage', {}).status).toBe(400);
  });

  it('delivers a reply to the inbound topics as the two-way channel publishes it', async () => {
    const delivered: Array<{ topic: string; message: Record<string, unknown> }> = [];
    const channel = new LocalSmsChannel(
      () => ['arn:aws:sns:us-east-1:000000000000:SmsInbound'],
      async (topic, message) => {
        delivered.push({ topic, message: JSON.parse(message) });
        return true;
      },
    );
    channel.api('SendTextMessage', {
      DestinationPhoneNumber: '+447911123456',
      OriginationIdentity: '+447700900123',
      MessageBody: 'Hi',
    });
    const reply = await channel.reply('+447911123456', 'STOP');
    expect(reply).toMatchObject({
      from: '+447911123456',
      to: '+447700900123',
      body: 'STOP',
      delivered: true,
    });
    expect(delivered).toEqual([
      {
        topic: 'arn:aws:sns:us-east-1:000000000000:SmsInbound',
        message: expect.objectContaining({
          originationNumber: '+447911123456',
          destinationNumber: '+447700900123',
          messageBody: 'STOP',
        }),
      },
    ]);
  });

  it('shows what was sent, escaped, with a reply form per text', () => {
    const channel = new LocalSmsChannel(
      () => [],
      async () => true,
    );
    channel.api('SendTextMessage', {
      DestinationPhoneNumber: '+447911123456',
      MessageBody: 'Hi <b>Jane</b>',
    });
    const page = channel.page();
    expect(page).toContain('Hi &lt;b&gt;Jane&lt;/b&gt;');
    expect(page).toContain('<form method="post" action="/_local/sms/reply">');
    expect(page).toContain('name="from" value="+447911123456"');
  });
});
