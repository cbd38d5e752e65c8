import { createHash } from 'node:crypto';
import type { ClientConfig } from '../config/schema';
import type { Lead } from './lead';
import { zonedTime } from './working-hours';

/**
 * SMS to leads: message parts, opt-out keywords, consent and quiet hours. Pure: no I/O, no clock.
 *
 * Sent through AWS End User Messaging SMS (`shared/adapters/sms-sender.ts`); inbound replies on
 * the two-way channel arrive through an SNS topic (`functions/sms`).
 */

// ------------------------------------------------------------------------ message parts

/** The GSM 03.38 default alphabet: one septet each. */
const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
/** The GSM 03.38 extension table: an escape plus one septet, two each. */
const GSM7_EXTENSION = '^{}\\[~]|€\f';
const BASIC = new Set(GSM7_BASIC);
const EXTENSION = new Set(GSM7_EXTENSION);

/** How a text is encoded and into how many billed parts it is split. */
export interface SmsParts {
  readonly encoding: 'GSM-7' | 'UCS-2';
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  readonly units: number;
  /** Billed message parts: 160/153 septets or 70/67 UCS-2 units per part (single/concatenated). */
  readonly parts: number;
}

/**
 * Counts the parts a text is sent in. GSM-7 when every character is in the GSM alphabet
 * (extension characters count twice and are never split across parts); otherwise UCS-2, where
 * characters outside the Basic Multilingual Plane (most emoji) take two units.
 */
export function smsParts(text: string): SmsParts {
  const chars = [...text];
  if (chars.every((c) => BASIC.has(c) || EXTENSION.has(c))) {
    const units = chars.reduce((n, c) => n + (EXTENSION.has(c) ? 2 : 1), 0);
    if (units <= 160) return { encoding: 'GSM-7', units, parts: units === 0 ? 0 : 1 };
    // Concatenated: 153 septets per part, an escape pair kept in one part.
    let parts = 1;
    let used = 0;
    for (const c of chars) {
      const size = EXTENSION.has(c) ? 2 : 1;
      if (used + size > 153) {
        parts++;
        used = 0;
      }
      used += size;
    }
    return { encoding: 'GSM-7', units, parts };
  }
  const units = text.length;
  if (units <= 70) return { encoding: 'UCS-2', units, parts: 1 };
  // Concatenated: 67 units per part, a surrogate pair kept in one part.
  let parts = 1;
  let used = 0;
  for (const c of chars) {
    if (used + c.length > 67) {
      parts++;
      used = 0;
    }
    used += c.length;
  }
  return { encoding: 'UCS-2', units, parts };
}

// ------------------------------------------------------------------------ keywords

/**
 * Replies that opt a number out, as carriers and End User Messaging SMS's default opt-out
 * keywords have them (matched on the whole reply, case and surrounding punctuation ignored).
 */
export const OPT_OUT_KEYWORDS = [
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'OPTOUT',
  'OPT-OUT',
  'OPT OUT',
  'REVOKE',
  'ARRET',
  'ARRÊT',
  'STOPP',
  'PARAR',
  'BAJA',
] as const;
/** Replies that opt a number back in (only after an opt-out by the same number). */
export const OPT_IN_KEYWORDS = ['START', 'UNSTOP', 'YES'] as const;

/** What an inbound reply means. */
export type SmsReplyIntent = 'opt-out' | 'opt-in' | 'message';

/** Reads a reply: an opt-out or opt-in keyword, or an ordinary message. */
export function replyIntent(body: string): SmsReplyIntent {
  const word = body
    .normalize('NFC')
    .trim()
    .replace(/^[\s.!,;:"'«»]+|[\s.!,;:"'«»]+$/g, '')
    .replace(/\s+/g, ' ')
    .toUpperCase();
  if ((OPT_OUT_KEYWORDS as readonly string[]).includes(word)) return 'opt-out';
  if ((OPT_IN_KEYWORDS as readonly string[]).includes(word)) return 'opt-in';
  return 'message';
}

// ------------------------------------------------------------------------ consent

const YES = new Set(['yes', 'true', 'on', '1', 'y']);

/**
 * Whether the lead agreed to SMS: the client's SMS consent field on its form (kept apart from
 * the email consent), answered yes. Email consent never implies SMS consent.
 */
export function hasSmsConsent(lead: Pick<Lead, 'profile'>, consentField: string): boolean {
  const answer = lead.profile.extra[consentField];
  return answer !== undefined && YES.has(answer.trim().toLowerCase());
}

/** The number an SMS goes to: the lead's phone when it is a valid E.164 number. */
export function smsNumber(lead: Pick<Lead, 'profile'>): string | undefined {
  const { phone, phoneValid } = lead.profile;
  return phone !== undefined && phoneValid !== false && /^\+[1-9]\d{6,14}$/.test(phone) ? phone : undefined;
}

// ------------------------------------------------------------------------ quiet hours

function minutes(hhmm: string): number {
  const [h = '0', m = '0'] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

/** Whether a local minute of the day falls in the quiet hours (which may wrap midnight). */
function isQuiet(quiet: { start: string; end: string }, minuteOfDay: number): boolean {
  const start = minutes(quiet.start);
  const end = minutes(quiet.end);
  return start < end ? minuteOfDay >= start && minuteOfDay < end : minuteOfDay >= start || minuteOfDay < end;
}

/**
 * When an SMS due at `now` may go out in the lead's time zone: `now` outside the quiet hours,
 * else the minute they end (found minute by minute from `now`, so DST changes are respected).
 */
export function smsSendTime(quiet: ClientConfig['sms']['quietHours'], timezone: string, now: Date): Date {
  let t = now.getTime();
  for (let i = 0; i < 24 * 60 + 120; i++) {
    if (!isQuiet(quiet, zonedTime(timezone, new Date(t)).minuteOfDay)) return new Date(t);
    // The next whole minute.
    t = Math.floor(t / 60_000) * 60_000 + 60_000;
  }
  return new Date(t);
}

/** Appended to every marketing or reminder SMS, so the way out is always in the message. */
export const OPT_OUT_LINE = 'Reply STOP to opt out.';

/** Fills `{{name}}` and `{{name|fallback}}` placeholders from `values` and appends the opt-out line. */
export function renderSms(text: string, values: Readonly<Record<string, string | undefined>>): string {
  const body = text.replace(
    /\{\{\s*([a-zA-Z]+)\s*(?:\|([^}]*))?\}\}/g,
    (_m, name: string, fallback?: string) => {
      const value = values[name]?.trim();
      return value ? value : (fallback ?? 'there');
    },
  );
  return `${body.trim()} ${OPT_OUT_LINE}`;
}

/** The opt-out list's key for a number: SHA-256 of its E.164 form (the list never holds the number). */
export function phoneHash(e164: string): string {
  return createHash('sha256').update(`sms:${e164.trim()}`).digest('hex');
}
