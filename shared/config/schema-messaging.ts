import { z } from 'zod';
import { EmailTemplateSchema, SmsTemplateSchema } from './schema-nurture';
import { email, hhmm } from './schema-primitives';
/** What the client's stack sends people: SMS, the auto-response, email settings, and the reps' alerts. */

/** SMS through AWS End User Messaging SMS. */
export const SmsSchema = z.strictObject({
  /** Off: no SMS step may be used and no reminder is sent. @default false */
  enabled: z.boolean().default(false),
  /**
   * The origination identity SendTextMessage sends from: a phone number, sender id, pool id or
   * their ARN, as configured in End User Messaging SMS. Required when enabled.
   */
  originationIdentity: z.string().min(1).max(256).optional(),
  /** Optional configuration set (delivery events). */
  configurationSet: z.string().min(1).max(256).optional(),
  /** Form field that records SMS consent, separate from email consent ("yes", "true", "on" or "1"). @default "sms_consent" */
  consentField: z.string().min(1).max(64).default('sms_consent'),
  /** No SMS in these local hours of the lead (wraps midnight when start > end). @default 21:00-08:00 */
  quietHours: z
    .strictObject({ start: hhmm, end: hhmm })
    .refine((q) => q.start !== q.end, { message: 'start and end must differ', path: ['end'] })
    .default({ start: '21:00', end: '08:00' }),
  /** The reminder of a booked meeting goes this many hours before it starts (or at once when it is sooner). @default 24 */
  meetingReminderHours: z.number().min(0.25).max(168).default(24),
  /** The reminder text; `{{firstName}}`, `{{meetingTime}}` (the lead's local time). */
  meetingReminder: SmsTemplateSchema.default({
    text: 'Hi {{firstName}}, a reminder of your meeting on {{meetingTime}}.',
  }),
});

export const AutoResponseSchema = z.strictObject({
  /** @default true */
  enabled: z.boolean().default(true),
  /** Template per source channel; `default` covers the rest. */
  templates: z
    .record(z.string(), EmailTemplateSchema)
    .refine((t) => 'default' in t, { message: 'a "default" template is required' }),
});

export const EmailSchema = z.strictObject({
  /** Verified SES identity (a domain or address) the stack creates. */
  identity: z.string().min(3),
  from: email,
  fromName: z.string().min(1).max(80),
  replyTo: email.optional(),
  /** Postal address shown in every marketing email (CAN-SPAM). */
  postalAddress: z.string().min(5).max(300),
});

export const AlertsSchema = z.strictObject({
  slack: z.strictObject({
    /** @default true */
    enabled: z.boolean().default(true),
    /** Channel mentioned in the README and alerts; the webhook URL itself lives in Secrets Manager. */
    channel: z.string().regex(/^#[\w-]{1,80}$/, 'a channel such as "#sales-leads"'),
    /** How many score reasons to show. @default 3 */
    topReasons: z.number().int().min(1).max(10).default(3),
  }),
  sns: z.strictObject({
    /** @default true */
    enabled: z.boolean().default(true),
  }),
});
