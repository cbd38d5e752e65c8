import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SNSEvent } from 'aws-lambda';
import { z } from 'zod';
import { requireEnv } from '../../shared/adapters/clients';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { DynamoSmsOptOuts } from '../../shared/adapters/sms-opt-outs';
import { EndUserMessagingSms } from '../../shared/adapters/sms-sender';
import { clientConfig } from '../../shared/config/runtime';
import type { ClientConfig } from '../../shared/config/schema';
import { InvalidInputError, LeadPipelineError } from '../../shared/domain/errors';
import type { Activity, Lead } from '../../shared/domain/lead';
import { parseDetail } from '../../shared/events/catalogue';
import type { SmsSender } from '../../shared/ports/sms';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger, metrics } from '../../shared/runtime/observability';
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

export const SMS_RETRYABLE_ERROR = 'SmsRetryableError';

/** A transient failure, named so a Step Functions `Retry` can match it. */
export class SmsRetryableError extends Error {
  override readonly name = SMS_RETRYABLE_ERROR;
  constructor(override readonly cause: LeadPipelineError) {
    super(`${cause.code}: ${cause.message}`);
  }
}

/** The inbound message End User Messaging SMS publishes (the fields this function reads). */
const InboundSchema = z.object({
  originationNumber: z.string().regex(/^\+[1-9]\d{6,14}$/, 'an E.164 number'),
  messageBody: z.string().max(1600),
  inboundMessageId: z.string().max(200).optional(),
});

const TaskSchema = z.object({
  action: z.enum(['plan-reminder', 'send-reminder']),
  meeting: z.unknown(),
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

export function createHandler(deps: Deps) {
  const inbound = async (event: SNSEvent) => {
    for (const record of event.Records) {
      let message: z.output<typeof InboundSchema>;
      try {
        message = InboundSchema.parse(JSON.parse(record.Sns.Message));
      } catch (error) {
        // Not a reply we can read: nothing to apply, and a retry cannot make it readable.
        logger.warn('Unreadable inbound SMS ignored', { messageId: record.Sns.MessageId, error });
        continue;
      }
      const { intent } = await handleInboundSms(message, deps.now(), deps);
      if (intent !== 'message')
        metrics.addMetric(intent === 'opt-out' ? 'SmsOptOuts' : 'SmsOptIns', MetricUnit.Count, 1);
      logger.info('Inbound SMS', { intent, inboundMessageId: message.inboundMessageId });
    }
  };

  const task = async (event: unknown): Promise<Answer> => {
    const parsed = TaskSchema.safeParse(event);
    if (!parsed.success)
      throw new InvalidInputError(
        parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'event', reason: i.message })),
      );
    const meeting = parseDetail('Meeting Booked', parsed.data.meeting);
    const lead = await deps.leads.getLead(meeting.leadId);
    if (!lead || meeting.isTest || !meeting.startTime)
      return parsed.data.action === 'plan-reminder' ? {} : undefined;
    const now = deps.now();
    if (parsed.data.action === 'plan-reminder') {
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
    if (result.status === 'sent') metrics.addMetric('SmsRemindersSent', MetricUnit.Count, 1);
    logger.info('Meeting reminder', { leadId: lead.id, status: result.status });
    return result.status === 'sent'
      ? { outcome: 'sent', messageId: result.messageId }
      : { outcome: result.status, ...('reason' in result ? { reason: result.reason } : {}) };
  };

  return async (event: unknown): Promise<Answer> => {
    try {
      if (typeof event === 'object' && event !== null && 'Records' in event) {
        await inbound(event as SNSEvent);
        return undefined;
      }
      return await task(event);
    } catch (error) {
      if (error instanceof LeadPipelineError && error.retryable) throw new SmsRetryableError(error);
      throw error;
    }
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => {
  const config = clientConfig();
  const table = requireEnv('TABLE_NAME');
  return createHandler({
    leads: new LeadRepository(table),
    optOuts: new DynamoSmsOptOuts(table),
    // A client without SMS never starts the reminder machine; the placeholder identity is unused.
    sender: new EndUserMessagingSms(config.sms.originationIdentity ?? 'unset', config.sms.configurationSet),
    config,
    now: () => new Date(),
  });
});
