import { PinpointSMSVoiceV2Client, SendTextMessageCommand } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandler, SMS_RETRYABLE_ERROR } from '../../../functions/sms/handler';
import { DynamoSmsOptOuts } from '../../../shared/adapters/sms-opt-outs';
import { EndUserMessagingSms } from '../../../shared/adapters/sms-sender';
import { loadClientConfig } from '../../../shared/config/load';
import type { Lead } from '../../../shared/domain/lead';
import { OPT_OUT_LINE } from '../../../shared/domain/sms';
import { activity, Harness, makeLead, TABLE, throttling } from './pipeline-kit';

const example = loadClientConfig('example', 'clients');
const NOW = new Date('2026-03-02T10:00:00.000Z');
const NUMBER = '+447700900456';
const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:SmsReminder:x';

let h: Harness;
const smsClient = new PinpointSMSVoiceV2Client({ region: 'eu-west-1' });
const smsMock = mockClient(smsClient);
let handler: ReturnType<typeof createHandler>;

beforeEach(() => {
  h = new Harness();
  smsMock.reset();
  let n = 0;
  smsMock.on(SendTextMessageCommand).callsFake(async () => ({ MessageId: `sms-${++n}` }));
  handler = createHandler({
    leads: h.repository,
    optOuts: new DynamoSmsOptOuts(TABLE, h.docClient),
    sender: new EndUserMessagingSms('+447700900123', undefined, smsClient),
    config: example,
    now: () => NOW,
  });
});
afterEach(() => {
  h.restore();
});

function lead(extra: Record<string, string> = { sms_consent: 'yes' }): Lead {
  return makeLead({
    profile: { firstName: 'Jane', phone: NUMBER, phoneValid: true, timezone: 'Europe/London', extra },
  });
}

const meeting = (startTime: string, bookingId = 'booking-1') => ({
  leadId: 'lead-1',
  occurredAt: NOW.toISOString(),
  isTest: false,
  activityId: `act-${bookingId}`,
  provider: 'calendly',
  bookingId,
  startTime,
  via: 'rep-outreach',
});

const task = (
  action: 'plan-reminder' | 'send-reminder',
  startTime = '2026-03-04T15:00:00.000Z',
  bookingId?: string,
) => handler({ action, meeting: meeting(startTime, bookingId), executionArn: EXECUTION });

const inbound = (body: string, from = NUMBER) =>
  handler({
    Records: [
      {
        EventSource: 'aws:sns',
        Sns: {
          MessageId: 'm-1',
          TopicArn: 'arn:aws:sns:eu-west-1:123456789012:SmsInbound',
          Message: JSON.stringify({
            originationNumber: from,
            destinationNumber: '+447700900123',
            messageBody: body,
          }),
        },
      },
    ],
  });

describe('meeting reminders', () => {
  it('plans the reminder 24 hours before the meeting, outside quiet hours, or none once it is too late', async () => {
    h.table.putLead(lead());
    expect(await task('plan-reminder', '2026-03-04T15:00:00.000Z')).toEqual({
      remindAt: '2026-03-03T15:00:00.000Z',
    });
    // 24 hours before a 07:30 meeting is 07:30, inside quiet hours: 08:00 that day instead.
    expect(await task('plan-reminder', '2026-03-04T07:30:00.000Z')).toEqual({
      remindAt: '2026-03-03T08:00:00.000Z',
    });
    // A meeting sooner than 24 hours away: at once.
    expect(await task('plan-reminder', '2026-03-02T16:00:00.000Z')).toEqual({ remindAt: NOW.toISOString() });
    expect(await task('plan-reminder', '2026-03-02T09:00:00.000Z')).toEqual({});
  });

  it('texts the reminder once, with the meeting time in the lead zone and the opt-out line', async () => {
    h.table.putLead(lead());
    expect(await task('send-reminder')).toEqual({ outcome: 'sent', messageId: 'sms-1' });
    expect(await task('send-reminder')).toEqual({ outcome: 'already-claimed' });
    const calls = smsMock.commandCalls(SendTextMessageCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toMatchObject({
      DestinationPhoneNumber: NUMBER,
      OriginationIdentity: '+447700900123',
      MessageBody: `Hi Jane, see you Wed 4 Mar, 15:00 for your Northwind demo. ${OPT_OUT_LINE}`,
    });
    expect(h.table.get({ pk: 'LEAD#lead-1', sk: 'SEND#sms-reminder#booking-1' })).toMatchObject({
      channel: 'sms',
      status: 'sent',
    });
  });

  it('sends nothing for a meeting cancelled since it was booked', async () => {
    h.table.putLead(lead());
    h.table.putActivities([
      activity('lead-1', 'note', '2026-03-02T09:30:00.000Z', {
        kind: 'meeting_canceled',
        bookingId: 'booking-1',
      }),
    ]);
    expect(await task('send-reminder')).toEqual({ outcome: 'skipped', reason: 'meeting-canceled' });
    // Another booking of the same lead still gets its reminder.
    expect(await task('send-reminder', '2026-03-04T15:00:00.000Z', 'booking-2')).toMatchObject({
      outcome: 'sent',
    });
    expect(smsMock.commandCalls(SendTextMessageCommand)).toHaveLength(1);
  });

  it('sends nothing without SMS consent (email consent does not count)', async () => {
    h.table.putLead({ ...lead({}), consent: { marketing: true, at: NOW.toISOString(), via: 'form' } });
    expect(await task('send-reminder')).toEqual({ outcome: 'skipped', reason: 'no-sms-consent' });
    expect(smsMock.commandCalls(SendTextMessageCommand)).toHaveLength(0);
  });

  it('turns a throttled send into the retryable error the workflow retries, with nothing sent', async () => {
    h.table.putLead(lead());
    smsMock
      .on(SendTextMessageCommand)
      .rejects(Object.assign(throttling(), { $metadata: { httpStatusCode: 429 } }));
    await expect(task('send-reminder')).rejects.toMatchObject({ name: SMS_RETRYABLE_ERROR });
    expect(h.table.get({ pk: 'LEAD#lead-1', sk: 'SEND#sms-reminder#booking-1' })).toBeUndefined();
  });
});

describe('replies on the two-way channel', () => {
  it('opts the number out on STOP at once: no SMS is sent to it again, START opts it back in', async () => {
    h.table.putLead(lead());
    await inbound('Stop');
    expect(await task('send-reminder')).toEqual({ outcome: 'skipped', reason: 'sms-opted-out' });
    expect(smsMock.commandCalls(SendTextMessageCommand)).toHaveLength(0);
    await inbound('START');
    expect(await task('send-reminder')).toMatchObject({ outcome: 'sent' });
  });

  it('ignores ordinary replies and unreadable messages', async () => {
    h.table.putLead(lead());
    await inbound('Can we move it to 4pm?');
    await handler({ Records: [{ EventSource: 'aws:sns', Sns: { MessageId: 'm-2', Message: 'not json' } }] });
    expect(await task('send-reminder')).toMatchObject({ outcome: 'sent' });
  });
});
