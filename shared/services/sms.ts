import type { ClientConfig } from '../config/schema';
import type { Lead } from '../domain/lead';
import {
  hasSmsConsent,
  phoneHash,
  renderSms,
  replyIntent,
  type SmsReplyIntent,
  smsNumber,
  smsParts,
  smsSendTime,
} from '../domain/sms';
import { classifySmsFailure, type SmsSender } from '../ports/sms';
import { deliverOnce, type SendClaimStore, type SendOnceResult } from './lead-email';

/**
 * SMS use cases: sending one message at most once (nurture SMS steps and meeting reminders),
 * and the two-way channel's replies (STOP and friends opt the number out at once).
 *
 * Every send re-checks, on the fresh lead: SMS enabled, a valid number, SMS consent (its own
 * form field, never the email consent) and the number's opt-out. An opted-out number gets
 * nothing again, whichever lead or sequence would text it.
 */

/** The SMS opt-out list (implemented by `DynamoSmsOptOuts`). */
export interface SmsOptOutStore {
  isOptedOut(phoneHash: string): Promise<boolean>;
  /** Records the newest statement of the number: opted out (`true`) or back in. */
  record(phoneHash: string, optedOut: boolean, at: string, keyword: string): Promise<void>;
}

export interface SmsDeps {
  readonly sender: SmsSender;
  readonly optOuts: SmsOptOutStore;
  readonly claims: SendClaimStore;
  readonly config: Pick<ClientConfig, 'sms' | 'client'>;
}

/** Why an SMS was not sent (the step or reminder is skipped, nothing else stops). */
export type SmsSkipReason = 'sms-disabled' | 'no-number' | 'no-sms-consent' | 'sms-opted-out';

export type SmsSendResult =
  | (SendOnceResult & { readonly parts?: number })
  | { readonly status: 'skipped'; readonly reason: SmsSkipReason };

/** Why `lead` may not be texted now, or `undefined` when it may. */
export async function smsBlocker(
  lead: Lead,
  deps: Pick<SmsDeps, 'optOuts' | 'config'>,
): Promise<SmsSkipReason | undefined> {
  const { sms } = deps.config;
  if (!sms.enabled) return 'sms-disabled';
  const number = smsNumber(lead);
  if (!number) return 'no-number';
  if (!hasSmsConsent(lead, sms.consentField)) return 'no-sms-consent';
  if (await deps.optOuts.isOptedOut(phoneHash(number))) return 'sms-opted-out';
  return undefined;
}

/** The lead's time zone for quiet hours and send windows: its own, else the client's. */
export function leadTimezone(lead: Pick<Lead, 'profile'>, config: Pick<ClientConfig, 'client'>): string {
  return lead.profile.timezone ?? config.client.timezone;
}

/**
 * Sends `text` (placeholders filled, the opt-out line appended) to the lead once for
 * (`sequenceId`, `stepId`).
 * @throws DependencyUnavailableError / SmsNotSentError (retryable) on transient failures; nothing was sent.
 */
export async function sendSmsOnce(
  lead: Lead,
  message: {
    readonly sequenceId: string;
    readonly stepId: string;
    readonly text: string;
    readonly values?: Readonly<Record<string, string | undefined>>;
    readonly via?: string;
  },
  at: Date,
  deps: SmsDeps,
): Promise<SmsSendResult> {
  const blocker = await smsBlocker(lead, deps);
  if (blocker) return { status: 'skipped', reason: blocker };
  const to = smsNumber(lead) as string;
  const body = renderSms(message.text, {
    firstName: lead.profile.firstName,
    lastName: lead.profile.lastName,
    company: lead.profile.company,
    ...message.values,
  });
  const result = await deliverOnce(
    {
      leadId: lead.id,
      sequenceId: message.sequenceId,
      stepId: message.stepId,
      at: at.toISOString(),
      channel: 'sms',
      ...(message.via ? { via: message.via } : {}),
    },
    deps.claims,
    () =>
      deps.sender.send({
        to,
        body,
        context: { leadId: lead.id, sequence: message.sequenceId, step: message.stepId },
      }),
    classifySmsFailure,
  );
  return { ...result, parts: smsParts(body).parts };
}

// ------------------------------------------------------------------------ meeting reminders

/** The reminder's send record: one per booking, whichever path (retry, redelivery) sends it. */
export const REMINDER_SEQUENCE = 'sms-reminder';

/** When the reminder of a meeting starting at `startTime` goes out, or `undefined` when it cannot go before the meeting. */
export function reminderTime(
  startTime: string,
  lead: Pick<Lead, 'profile'>,
  config: Pick<ClientConfig, 'sms' | 'client'>,
  now: Date,
): Date | undefined {
  const start = Date.parse(startTime);
  if (!Number.isFinite(start) || start <= now.getTime()) return undefined;
  const due = new Date(Math.max(now.getTime(), start - config.sms.meetingReminderHours * 3_600_000));
  const at = smsSendTime(config.sms.quietHours, leadTimezone(lead, config), due);
  return at.getTime() < start ? at : undefined;
}

/** The meeting's start in the lead's words: "Thu 3 Dec, 15:00" in its time zone. */
export function meetingTimeText(startTime: string, timezone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(startTime));
}

// ------------------------------------------------------------------------ replies

/** An inbound SMS, as End User Messaging SMS publishes it on the two-way channel's SNS topic. */
export interface InboundSms {
  readonly originationNumber: string;
  readonly messageBody: string;
  readonly inboundMessageId?: string;
}

/**
 * Applies a reply: an opt-out keyword puts the number on the opt-out list at once (before any
 * other SMS can be sent), an opt-in keyword takes it off, anything else is just a message.
 */
export async function handleInboundSms(
  inbound: InboundSms,
  at: Date,
  deps: Pick<SmsDeps, 'optOuts'>,
): Promise<{ readonly intent: SmsReplyIntent }> {
  const intent = replyIntent(inbound.messageBody);
  if (intent === 'message') return { intent };
  await deps.optOuts.record(
    phoneHash(inbound.originationNumber),
    intent === 'opt-out',
    at.toISOString(),
    inbound.messageBody.trim().toUpperCase(),
  );
  return { intent };
}
