import { createHash } from 'node:crypto';
import { z } from 'zod';
import { EMAIL_TAGS } from './email-render';
import type { Activity, ActivityType } from './lead';

/**
 * SES sending events (published by the configuration set to the default EventBridge bus) turned
 * into lead activities, with machine opens and clicks told apart from people.
 *
 * The EventBridge event carries the SES event record as `detail`: `eventType`, `mail` (with the
 * message tags the pipeline set, so `mail.tags.lead_id[0]` names the lead) and one object per
 * type (`delivery`, `open`, `click`, `bounce`, `complaint`...). Pure: no I/O, no clock.
 */

/** `detail-type` values SES uses on EventBridge, and the activity each one becomes. */
export const SES_ACTIVITY_TYPES: Readonly<Record<string, ActivityType>> = {
  'Email Delivered': 'email_delivered',
  'Email Opened': 'email_opened',
  'Email Clicked': 'email_clicked',
  'Email Bounced': 'email_bounced',
  'Email Complaint Received': 'email_complained',
};

const text = z.string().max(4096);
const optionalText = text.nullish().transform((v) => v ?? undefined);
const time = z.string().refine((v) => Number.isFinite(Date.parse(v)), 'an ISO timestamp');
const recipients = z.array(z.object({ emailAddress: text }).loose()).default([]);

/** The parts of an SES EventBridge event the pipeline reads; everything else is ignored. */
export const SesEventSchema = z
  .object({
    id: z.string().min(1).max(256),
    'detail-type': z.string(),
    source: z.literal('aws.ses'),
    time,
    detail: z
      .object({
        eventType: z.string(),
        mail: z
          .object({
            messageId: z.string().min(1),
            timestamp: time,
            destination: z.array(text).default([]),
            tags: z.record(z.string(), z.array(z.string())).default({}),
          })
          .loose(),
        delivery: z.object({ timestamp: time }).loose().optional(),
        open: z.object({ timestamp: time, userAgent: optionalText }).loose().optional(),
        click: z
          .object({
            timestamp: time,
            userAgent: optionalText,
            link: optionalText,
            linkTags: z.record(z.string(), z.array(z.string())).nullish(),
          })
          .loose()
          .optional(),
        bounce: z
          .object({
            bounceType: z.string(),
            bounceSubType: optionalText,
            bouncedRecipients: recipients,
            timestamp: time,
          })
          .loose()
          .optional(),
        complaint: z
          .object({
            complainedRecipients: recipients,
            timestamp: time,
            complaintFeedbackType: optionalText,
            complaintSubType: optionalText,
          })
          .loose()
          .optional(),
      })
      .loose(),
  })
  .loose();
export type SesEvent = z.output<typeof SesEventSchema>;

/** Why an open or click was judged automatic rather than a person's. */
export type MachineReason =
  | 'apple-privacy-proxy'
  | 'image-proxy-prefetch'
  | 'opened-on-delivery'
  | 'security-scanner'
  | 'clicked-on-delivery'
  | 'click-burst';

/**
 * Detection thresholds, in milliseconds. People rarely open an email within 3 s of its arrival
 * and cannot click within 2 s; link scanners and privacy proxies do it on delivery. When the
 * delivery event has not been seen yet (SES events arrive in any order), the send time is the
 * reference and {@link SEND_TO_DELIVERY_ALLOWANCE_MS} is added for the delivery itself.
 */
export const MACHINE_WINDOWS = {
  openAfterDeliveryMs: 3_000,
  proxyOpenAfterDeliveryMs: 60_000,
  clickAfterDeliveryMs: 2_000,
  /** Two different links of one message clicked within this window: a scanner following every link. */
  clickBurstMs: 1_000,
} as const;
export const SEND_TO_DELIVERY_ALLOWANCE_MS = 3_000;

/**
 * Apple Mail Privacy Protection fetches every image of every message on delivery through a
 * proxy that sends the bare user agent `Mozilla/5.0`; no real browser or mail client does.
 */
const APPLE_PROXY_UA = /^Mozilla\/5\.0$/;

/**
 * Image proxies that fetch when the person opens the message but may also prefetch on arrival
 * (Gmail, Yahoo): automatic only when close to delivery.
 */
const IMAGE_PROXY_UA = /GoogleImageProxy|ggpht\.com|YahooMailProxy/i;

/** User-agent fragments of link scanners, security gateways and link-preview bots. */
export const SCANNER_UA_FRAGMENTS = [
  // `bot/` rather than `bot`: "Googlebot/2.1" yes, a "CUBOT" phone's browser no.
  'bot/',
  'crawler',
  'spider',
  'scanner',
  'preview',
  'headless',
  'phantomjs',
  'python-requests',
  'python-urllib',
  'go-http-client',
  'curl/',
  'wget',
  'java/',
  'okhttp',
  'libwww',
  'barracuda',
  'mimecast',
  'proofpoint',
  'ppops',
  'safelinks',
  'symantec',
  'messagelabs',
  'trendmicro',
  'forcepoint',
  'sophos',
  'fireeye',
  'ironport',
  'zscaler',
  'checkpoint',
  'urlscan',
  'virustotal',
  'facebookexternalhit',
  'slackbot',
] as const;

/** What is known about the message from the lead's earlier activities. */
export interface MessageHistory {
  /** When the message was delivered, if the delivery event was already recorded. */
  readonly deliveredAt?: string;
  /** Clicks already recorded on this message (link and time). */
  readonly clicks: ReadonlyArray<{ readonly at: string; readonly link?: string }>;
}

/** The history of one message, from a lead's activity timeline. */
export function messageHistory(activities: readonly Activity[], messageId: string): MessageHistory {
  let deliveredAt: string | undefined;
  const clicks: Array<{ at: string; link?: string }> = [];
  for (const a of activities) {
    if (a.data.messageId !== messageId) continue;
    if (a.type === 'email_delivered' && (deliveredAt === undefined || a.at < deliveredAt)) deliveredAt = a.at;
    if (a.type === 'email_clicked') {
      clicks.push({ at: a.at, ...(typeof a.data.link === 'string' ? { link: a.data.link } : {}) });
    }
  }
  return { ...(deliveredAt ? { deliveredAt } : {}), clicks };
}

/** Milliseconds from delivery (or send + allowance) to `at`. */
function sinceDelivery(at: string, sentAt: string, history: MessageHistory): number {
  const reference = history.deliveredAt
    ? Date.parse(history.deliveredAt)
    : Date.parse(sentAt) + SEND_TO_DELIVERY_ALLOWANCE_MS;
  return Date.parse(at) - reference;
}

/** Whether an open was a proxy or prefetch rather than a person, and why. */
export function machineOpen(
  open: { at: string; userAgent?: string },
  sentAt: string,
  history: MessageHistory,
): MachineReason | undefined {
  const ua = open.userAgent?.trim() ?? '';
  if (APPLE_PROXY_UA.test(ua)) return 'apple-privacy-proxy';
  const elapsed = sinceDelivery(open.at, sentAt, history);
  if (IMAGE_PROXY_UA.test(ua) && elapsed <= MACHINE_WINDOWS.proxyOpenAfterDeliveryMs)
    return 'image-proxy-prefetch';
  if (elapsed <= MACHINE_WINDOWS.openAfterDeliveryMs) return 'opened-on-delivery';
  return undefined;
}

/** Whether a click was a link scanner rather than a person, and why. */
export function machineClick(
  click: { at: string; userAgent?: string; link?: string },
  sentAt: string,
  history: MessageHistory,
): MachineReason | undefined {
  const ua = (click.userAgent ?? '').toLowerCase();
  if (ua.trim() === '' || SCANNER_UA_FRAGMENTS.some((f) => ua.includes(f))) return 'security-scanner';
  if (sinceDelivery(click.at, sentAt, history) <= MACHINE_WINDOWS.clickAfterDeliveryMs)
    return 'clicked-on-delivery';
  const at = Date.parse(click.at);
  const burst = history.clicks.some(
    (c) => c.link !== click.link && Math.abs(Date.parse(c.at) - at) <= MACHINE_WINDOWS.clickBurstMs,
  );
  return burst ? 'click-burst' : undefined;
}

/** The pipeline's tags on the message (first value of each). */
export function messageTags(event: SesEvent): {
  leadId?: string;
  sequence?: string;
  step?: string;
  kind?: string;
} {
  const tag = (name: string) => event.detail.mail.tags[name]?.[0];
  const values = {
    leadId: tag(EMAIL_TAGS.leadId),
    sequence: tag(EMAIL_TAGS.sequence),
    step: tag(EMAIL_TAGS.step),
    kind: tag(EMAIL_TAGS.kind),
  };
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== ''));
}

/** The activity id of an SES event: stable, so a redelivered event is recorded once. */
export function sesActivityId(eventId: string): string {
  const safe = /^[A-Za-z0-9-]{1,56}$/.test(eventId)
    ? eventId
    : createHash('sha256').update(eventId).digest('hex').slice(0, 56);
  return `ses-${safe}`;
}

/** A bare address from `Name <address>` or `address`. */
function bareAddress(value: string): string {
  const match = /<([^<>]+)>\s*$/.exec(value);
  return (match?.[1] ?? value).trim();
}

/** What one SES event means for the pipeline. */
export interface SesEventMeaning {
  /** The lead the message was sent to (from the `lead_id` tag), if the message carries one. */
  readonly leadId?: string;
  /** The activity to record, or `undefined` for events that are not lead activities (Sent, Rejected...). */
  readonly activity?: Omit<Activity, 'leadId'>;
  /** Set for machine opens/clicks: recorded with `data.machine = true`, never scored. */
  readonly machine?: MachineReason;
  /** Addresses to put on the suppression list, and why (permanent bounce, complaint). */
  readonly suppress?: { readonly reason: 'bounce' | 'complaint'; readonly addresses: readonly string[] };
}

/**
 * Interprets one SES event. `history` (the lead's earlier events on the same message) is read
 * only for opens and clicks; pass an empty history when the lead is unknown.
 */
export function interpretSesEvent(event: SesEvent, history: MessageHistory): SesEventMeaning {
  const type = SES_ACTIVITY_TYPES[event['detail-type']];
  const { detail } = event;
  const mail = detail.mail;
  const tags = messageTags(event);
  const base: Record<string, unknown> = {
    messageId: mail.messageId,
    ...(tags.kind ? { kind: tags.kind } : {}),
    ...(tags.sequence ? { sequence: tags.sequence } : {}),
    ...(tags.step ? { step: tags.step } : {}),
  };
  const lead = tags.leadId ? { leadId: tags.leadId } : {};
  if (!type) return lead;
  const activity = (at: string | undefined, data: Record<string, unknown>) => ({
    id: sesActivityId(event.id),
    type,
    at: new Date(Date.parse(at ?? event.time)).toISOString(),
    data: Object.fromEntries(Object.entries({ ...base, ...data }).filter(([, v]) => v !== undefined)),
  });

  switch (type) {
    case 'email_opened': {
      const open = detail.open;
      const at = open?.timestamp ?? event.time;
      const machine = machineOpen({ at, userAgent: open?.userAgent }, mail.timestamp, history);
      return {
        ...lead,
        activity: activity(at, machine ? { machine: true, machineReason: machine } : {}),
        ...(machine ? { machine } : {}),
      };
    }
    case 'email_clicked': {
      const click = detail.click;
      const at = click?.timestamp ?? event.time;
      const link = click?.link;
      const machine = machineClick({ at, userAgent: click?.userAgent, link }, mail.timestamp, history);
      return {
        ...lead,
        activity: activity(at, { link, ...(machine ? { machine: true, machineReason: machine } : {}) }),
        ...(machine ? { machine } : {}),
      };
    }
    case 'email_bounced': {
      const bounce = detail.bounce;
      const permanent = bounce?.bounceType === 'Permanent';
      const addresses = bounce?.bouncedRecipients.map((r) => bareAddress(r.emailAddress)) ?? [];
      return {
        ...lead,
        activity: activity(bounce?.timestamp, {
          bounceType: bounce?.bounceType,
          bounceSubType: bounce?.bounceSubType,
        }),
        ...(permanent
          ? {
              suppress: {
                reason: 'bounce',
                addresses: addresses.length > 0 ? addresses : mail.destination.map(bareAddress),
              },
            }
          : {}),
      };
    }
    case 'email_complained': {
      const complaint = detail.complaint;
      const addresses = complaint?.complainedRecipients.map((r) => bareAddress(r.emailAddress)) ?? [];
      return {
        ...lead,
        activity: activity(complaint?.timestamp, { feedbackType: complaint?.complaintFeedbackType }),
        suppress: {
          reason: 'complaint',
          addresses: addresses.length > 0 ? addresses : mail.destination.map(bareAddress),
        },
      };
    }
    default:
      return { ...lead, activity: activity(detail.delivery?.timestamp, {}) };
  }
}
