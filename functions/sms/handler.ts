import { SnsNotificationSchema } from '@aws-lambda-powertools/parser/schemas/sns';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { DynamoSmsOptOuts } from '../../shared/adapters/sms-opt-outs';
import { EndUserMessagingSms } from '../../shared/adapters/sms-sender';
import { clientConfig } from '../../shared/config/runtime';
import type { ClientConfig } from '../../shared/config/schema';
import { env } from '../../shared/contracts/function-env';
import { RETRYABLE_ERRORS } from '../../shared/contracts/task-errors';
import type { Activity, Lead } from '../../shared/domain/lead';
import { DETAIL_SCHEMAS } from '../../shared/events/catalogue';
import type { SmsSender } from '../../shared/ports/sms';
import { type ConsumerLogLine, consumer, retryableTaskError } from '../../shared/runtime/consumer';
import { lazyHandler } from '../../shared/runtime/handler';
import type { SendClaimStore } from '../../shared/services/lead-email';
import {
  handleInboundSms,
  leadTimezone,
  meetingTimeText,
  REMINDER_SEQUENCE,
  reminderTime,
  type SmsOptOutStore,
  sendSmsOnce,
} from '../../shared/services/sms';

/**
 * The SMS function, for both directions of the two-way channel:
 *
 * - **Inbound** (SNS): End User Messaging SMS publishes every reply to the two-way channel's SNS
 *   topic (the pipeline stack's `SmsInbound`). STOP, UNSUBSCRIBE and the other opt-out keywords
 *   put the number on the opt-out list before the function returns; START takes it off.
 * - **Meeting reminders** (the `SmsReminderWorkflow` tasks, started by `Meeting Booked`):
 *   `plan-reminder` answers when the reminder goes (`{ remindAt }`, or `{}` when none can go
 *   before the meeting), `send-reminder` sends it once, after re-checking consent and opt-out.
 *
 * Transient failures are thrown as {@link SmsRetryableError} for the state machine's Retry
 * (nothing was sent); SNS retries an inbound delivery that failed.
 */

/** The name the reminder workflow's `Retry` matches (`shared/contracts/task-errors.ts`). */
export const SMS_RETRYABLE_ERROR = RETRYABLE_ERRORS.sms;
const SmsRetryableError = retryableTaskError(SMS_RETRYABLE_ERROR);

/** The SNS notifications of the two-way channel's topic (the fields this function reads). */
const NotificationSchema = z.object({
  Records: z.array(z.object({ Sns: SnsNotificationSchema.pick({ MessageId: true, Message: true }) })),
});

/** The inbound message End User Messaging SMS publishes (the fields this function reads). */
const InboundSchema = z.object({
  originationNumber: z.string().regex(/^\+[1-9]\d{6,14}$/, 'an E.164 number'),
  messageBody: z.string().max(1600),
  inboundMessageId: z.string().max(200).optional(),
});

const TaskSchema = z.object({
  action: z.enum(['plan-reminder', 'send-reminder']),
  /** The `Meeting Booked` detail the reminder workflow started for. */
  meeting: DETAIL_SCHEMAS['Meeting Booked'],
  executionArn: z.string().min(1).max(2048),
  plan: z.object({ remindAt: z.iso.datetime().optional() }).optional(),
});

export interface Deps {
  readonly leads: {
    getLead(leadId: string): Promise<Lead | undefined>;
    listActivities(leadId: string): Promise<Activity[]>;
  } & SendClaimStore;
  readonly optOuts: SmsOptOutStore;
  readonly sender: SmsSender;
  readonly config: Pick<ClientConfig, 'sms' | 'client'>;
  readonly now: () => Date;
}

type Answer = { remindAt?: string } | { outcome: string; reason?: string; messageId?: string } | undefined;

/** What inbound replies did: how many were opt-outs, opt-ins, other messages, unreadable. */
type InboundSummary = Record<'opt-out' | 'opt-in' | 'message' | 'unreadable', number>;

export function createHandler(deps: Deps) {
  const inbound = consumer({
    schema: NotificationSchema,
    decide: async ({ Records }): Promise<InboundSummary> => {
      const summary: InboundSummary = { 'opt-out': 0, 'opt-in': 0, message: 0, unreadable: 0 };
      for (const { Sns } of Records) {
        let message: z.output<typeof InboundSchema>;
        try {
          message = InboundSchema.parse(JSON.parse(Sns.Message));
        } catch {
          // Not a reply we can read: nothing to apply, and a retry cannot make it readable.
          summary.unreadable++;
          continue;
        }
        const { intent } = await handleInboundSms(message, deps.now(), deps);
        summary[intent]++;
      }
      return summary;
    },
    describe: (summary): ConsumerLogLine => ({
      message: 'Inbound SMS',
      level: summary.unreadable > 0 ? 'warn' : 'info',
      keys: { ...summary },
      count: { SmsOptOuts: summary['opt-out'], SmsOptIns: summary['opt-in'] },
    }),
  });

  const task = consumer({
    schema: TaskSchema,
    keys: ({ meeting, action }) => ({ leadId: meeting.leadId, action }),
    decide: (reminder) => remind(reminder, deps),
    describe: (answer, { action }): ConsumerLogLine =>
      action === 'plan-reminder'
        ? { message: 'Meeting reminder planned', keys: { ...answer } }
        : {
            message: 'Meeting reminder',
            keys: { ...answer },
            count: { SmsRemindersSent: answer && 'outcome' in answer && answer.outcome === 'sent' ? 1 : 0 },
          },
    retryAs: (error) => new SmsRetryableError(error),
  });

  // One function for both directions: SNS brings `Records`, the reminder workflow a task.
  return (event: unknown, context?: Partial<Context>): Promise<Answer> =>
    typeof event === 'object' && event !== null && 'Records' in event
      ? inbound(event, context).then(() => undefined)
      : task(event, context);
}

/** Plans (`plan-reminder`) or sends (`send-reminder`) a booked meeting's reminder. */
async function remind(reminder: z.output<typeof TaskSchema>, deps: Deps): Promise<Answer> {
  const { action, meeting } = reminder;
  const lead = await deps.leads.getLead(meeting.leadId);
  if (!lead || meeting.isTest || !meeting.startTime) return action === 'plan-reminder' ? {} : undefined;
  const now = deps.now();
  if (action === 'plan-reminder') {
    const at = reminderTime(meeting.startTime, lead, deps.config, now);
    return at ? { remindAt: at.toISOString() } : {};
  }
  if (Date.parse(meeting.startTime) <= now.getTime())
    return { outcome: 'skipped', reason: 'meeting-started' };
  // A booking cancelled since (the webhook records it as a note with the same booking id).
  const canceled = (await deps.leads.listActivities(lead.id)).some(
    (a) => a.data.kind === 'meeting_canceled' && a.data.bookingId === meeting.bookingId,
  );
  if (canceled) return { outcome: 'skipped', reason: 'meeting-canceled' };
  const result = await sendSmsOnce(
    lead,
    {
      sequenceId: REMINDER_SEQUENCE,
      stepId: (meeting.bookingId ?? meeting.activityId).replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 100),
      text: deps.config.sms.meetingReminder.text,
      values: { meetingTime: meetingTimeText(meeting.startTime, leadTimezone(lead, deps.config)) },
    },
    now,
    { ...deps, claims: deps.leads },
  );
  return result.status === 'sent'
    ? { outcome: 'sent', messageId: result.messageId }
    : { outcome: result.status, ...('reason' in result ? { reason: result.reason } : {}) };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => {
  const config = clientConfig();
  const table = env.tableName;
  return createHandler({
    leads: new LeadRepository(table),
    optOuts: new DynamoSmsOptOuts(table),
    // A client without SMS never starts the reminder machine; the placeholder identity is unused.
    sender: new EndUserMessagingSms(config.sms.originationIdentity ?? 'unset', config.sms.configurationSet),
    config,
    now: () => new Date(),
  });
});
