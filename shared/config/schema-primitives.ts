import { z } from 'zod';
/** Value shapes every part of the client file uses: ids, slugs, time zones, times, URLs. */

export const slug = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,30}[a-z0-9]$/, 'lower-case letters, digits and dashes, 3-32 characters');
export const id = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, "_" and "-"');

/** Validates an IANA time zone name with the runtime's own ICU data. */
export const TimeZoneSchema = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'an IANA time zone such as "Europe/Berlin" or "America/New_York"' },
);

export const countryCode = z
  .string()
  .regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 country code in capitals, such as "DE"');
export const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a 24-hour time such as "09:00"');
export const url = z.url({ protocol: /^https?$/, message: 'an http(s) URL' });
export const httpsOrigin = z
  .string()
  .regex(/^https?:\/\/[^/\s]+$/, 'an origin such as "https://www.example.com" (no path, no trailing slash)');
export const email = z.email();
