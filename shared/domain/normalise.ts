import type { z } from 'zod';
import { deriveChannel } from './attribution';
import { cleanText } from './clean-text';
import { normaliseCountry } from './country';
import { domainFromWebsite, emailFacts, isFreeMailDomain } from './email';
import { ExtraCollector, extraKey, extraValue } from './extra-fields';
import { type Consent, type LeadProfile, type LeadSource, TEXT_LIMITS } from './lead';
import { MIN_PHONE_DIGITS, normalisePhone, phoneDedupeKey } from './phone';
import {
  canonicalTimezone,
  compactKey,
  DERIVED_KEYS,
  fieldForKey,
  INTERNAL_KEYS,
  parseCompanySize,
  parseConsent,
  type Submission,
  type SubmissionField,
  SubmissionSchema,
  splitFullName,
} from './submission';

/**
 * Lead normalisation: a raw submission (an HTML form post, a JSON body, a webhook payload already
 * flattened by its adapter) becomes a canonical {@link LeadProfile}, its {@link LeadSource} and
 * optional {@link Consent}.
 *
 * Everything here treats input as untrusted: every text is stripped of control and invisible
 * characters, NFC-normalised, trimmed and cut to {@link TEXT_LIMITS}. Nothing is HTML-escaped:
 * escaping depends on where text ends up (Slack mrkdwn, HTML email, CSV) and belongs to that
 * output, and escaping here would double-escape there and corrupt names like "O'Brien & Co".
 *
 * Normalisation is idempotent: feeding a produced profile back in as a raw record yields the
 * same profile, so re-processing a stored lead (replays, merges, backfills) never drifts.
 */

// ---------------------------------------------------------------------------------------------
// normaliseSubmission

/** One problem with one field, phrased for the person who filled in the form. */
export type FieldError = { field: string; reason: string };

/** Outcome of {@link normaliseSubmission}. */
export type NormaliseResult =
  | { ok: true; profile: LeadProfile; source: LeadSource; consent?: Consent; warnings: string[] }
  | { ok: false; errors: FieldError[] };

/** Context for {@link normaliseSubmission}. */
export interface NormaliseOptions {
  /** Country for phone numbers without `+country` when the lead gave none (`client.defaultCountry`). */
  defaultCountry: string;
  /** Bound on `extra` (`capture.maxExtraFields`). */
  maxExtraFields: number;
  /** Time of capture: the consent timestamp. */
  now: Date;
  /** Webhook provider that delivered the lead; `form` when absent. */
  provider?: string;
  /**
   * The form's honeypot field (`capture.honeypotField`): never lead data, skipped. The bot check
   * itself is the handler's job. Note the default honeypot name is `website`, so for such a form
   * a company website must arrive as `url` (or another alias).
   */
  honeypotField?: string;
}

const IDENTITY_REQUIRED = 'an email address or a phone number is required';

/** Shortens a raw value for a warning message. */
function quote(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

/**
 * Normalises a raw submission into a lead profile, its source and its consent.
 *
 * Keys are matched against {@link FIELD_ALIASES} ignoring case, spacing and punctuation. When two
 * keys name the same field, the first non-empty one wins and a warning names the other. Form
 * plumbing (`_ts`, `redirect`, `idempotency_key`, captcha tokens, the honeypot) is skipped.
 * Unknown fields go to `extra` (see {@link extraKey}) up to `maxExtraFields`; the rest are named
 * in `droppedFields` and in a warning. A value that cannot be interpreted (a company size of
 * "lots", an unknown country) is never dropped either: it is kept in `extra` with a warning.
 *
 * A stored profile can be fed back in as it is: derived fields (`dedupeKey`, `isFreeMail`...)
 * are recomputed, a nested `extra` object is taken as extra fields, and `droppedFields` carries
 * over.
 *
 * @returns `ok: false` with one {@link FieldError} per bad field when the email is invalid, a
 * known field has the wrong type, or the lead has neither a valid email nor a usable phone
 * number (then both `email` and `phone` are named).
 */
export function normaliseSubmission(
  raw: Record<string, unknown>,
  options: NormaliseOptions,
): NormaliseResult {
  const warnings: string[] = [];
  const resolved: Partial<Record<SubmissionField, unknown>> = {};
  const resolvedFrom: Partial<Record<SubmissionField, string>> = {};
  const unknown: [string, unknown][] = [];
  const carriedDropped: string[] = [];
  /** A stored profile's phone as originally typed: read again instead of its E.164 form. */
  let carriedPhoneRaw: string | undefined;
  const honeypot = options.honeypotField ? compactKey(options.honeypotField) : undefined;

  for (const [key, value] of Object.entries(raw)) {
    const compact = compactKey(key);
    if (key.startsWith('_') || INTERNAL_KEYS.has(compact) || DERIVED_KEYS.has(compact)) continue;
    if (honeypot !== undefined && compact === honeypot) continue;
    if (compact === 'extra' && isPlainObject(value)) {
      unknown.push(...Object.entries(value));
      continue;
    }
    if (compact === 'phoneraw') {
      if (typeof value === 'string') carriedPhoneRaw = value;
      continue;
    }
    if (compact === 'droppedfields' && Array.isArray(value)) {
      for (const name of value) if (typeof name === 'string') carriedDropped.push(name);
      continue;
    }
    const field = fieldForKey(key);
    if (!field) {
      unknown.push([key, value]);
      continue;
    }
    if (isEmpty(value)) continue;
    const previous = resolvedFrom[field];
    if (previous === undefined) {
      resolved[field] = value;
      resolvedFrom[field] = key;
    } else if (!sameValue(resolved[field], value)) {
      // Two different values for one field: the first wins, the other is kept for a human to see.
      warnings.push(
        `"${key}" also names ${field} (first given as "${previous}"); kept in extra.${extraKey(key)}`,
      );
      unknown.push([key, value]);
    }
  }

  const parsed = SubmissionSchema.safeParse(resolved);
  const errors: FieldError[] = parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({
        field: String(issue.path[0] ?? 'submission'),
        reason: issue.message,
      }));
  const sub: Partial<Submission> = parsed.success ? parsed.data : partialParse(resolved);

  // Identity: a valid email, else a phone number with enough digits to tell people apart.
  const country = sub.country === undefined ? undefined : normaliseCountry(sub.country);
  // The lead's own country first, then the client's default (which never sets the lead's country).
  const phone =
    sub.phone === undefined
      ? undefined
      : normalisePhone(carriedPhoneRaw ?? sub.phone, country, options.defaultCountry);
  const phoneKey = phone ? phoneDedupeKey(phone) : undefined;
  const emailInvalid = errors.some((e) => e.field === 'email');
  if (sub.email === undefined && phoneKey === undefined) {
    if (!emailInvalid) errors.push({ field: 'email', reason: IDENTITY_REQUIRED });
    if (!errors.some((e) => e.field === 'phone')) {
      errors.push({
        field: 'phone',
        reason: phone
          ? `not a usable phone number (fewer than ${MIN_PHONE_DIGITS} digits); ${IDENTITY_REQUIRED}`
          : IDENTITY_REQUIRED,
      });
    }
  }
  if (errors.length > 0) return { ok: false, errors };

  const extras = new ExtraCollector(options.maxExtraFields);
  for (const name of carriedDropped) extras.drop(name);
  for (const [key, value] of unknown) {
    const v = extraValue(value);
    if (v !== undefined) extras.add(key, v);
  }
  /** Keeps a value we could not interpret in `extra`, under the key it arrived with. */
  const keepUninterpreted = (field: SubmissionField, value: string, why: string) => {
    const key = resolvedFrom[field] ?? field;
    warnings.push(`${field} ${quote(value)} ${why}; kept in extra.${extraKey(key)}`);
    extras.add(key, cleanText(value, TEXT_LIMITS.extraValue));
  };

  if (sub.country !== undefined && country === undefined) {
    keepUninterpreted('country', sub.country, 'is not a recognised country');
  }

  if (sub.phone !== undefined && phone === undefined) {
    keepUninterpreted('phone', sub.phone, 'is not a phone number');
  }

  let companySize: number | undefined;
  if (sub.companySize !== undefined) {
    companySize = parseCompanySize(sub.companySize);
    if (companySize === undefined)
      keepUninterpreted('companySize', sub.companySize, 'is not a number of employees');
  }

  let timezone: string | undefined;
  if (sub.timezone !== undefined) {
    timezone = canonicalTimezone(sub.timezone);
    if (timezone === undefined) keepUninterpreted('timezone', sub.timezone, 'is not an IANA time zone');
  }

  // Names: separate fields win; a full name fills whichever part is missing.
  let { firstName, lastName } = sub;
  if (sub.fullName !== undefined && (firstName === undefined || lastName === undefined)) {
    const split = splitFullName(sub.fullName);
    if (firstName === undefined && lastName === undefined) {
      ({ firstName, lastName } = split);
    } else if (firstName === undefined) {
      firstName = split.firstName;
    } else if (split.lastName !== undefined) {
      lastName = split.lastName;
    }
  }

  // Company domain: an explicit one, else the email's (unless free-mail), else the website's.
  const facts = sub.email === undefined ? undefined : emailFacts(sub.email);
  let companyDomain: string | undefined;
  if (sub.companyDomain !== undefined) {
    const explicit = domainFromWebsite(sub.companyDomain);
    if (explicit === undefined) keepUninterpreted('companyDomain', sub.companyDomain, 'is not a domain name');
    else if (!isFreeMailDomain(explicit)) companyDomain = explicit;
  }
  companyDomain ??= facts?.companyDomain;
  if (companyDomain === undefined && sub.website !== undefined) {
    const fromWebsite = domainFromWebsite(sub.website);
    if (fromWebsite !== undefined && !isFreeMailDomain(fromWebsite)) companyDomain = fromWebsite;
  }

  let consent: Consent | undefined;
  if (sub.consent !== undefined) {
    let marketing = parseConsent(sub.consent);
    if (marketing === undefined) {
      keepUninterpreted('consent', sub.consent, 'is not a clear yes or no, so it was recorded as no consent');
      marketing = false;
    }
    const via = `${options.provider ?? 'form'}:${resolvedFrom.consent ?? 'consent'}`;
    consent = { marketing, at: options.now.toISOString(), via: cleanText(via, TEXT_LIMITS.short) };
  }

  const dedupeKey = facts?.dedupeKey ?? phoneKey;
  // Unreachable: identity was checked above. Kept as a typed guard rather than a `!`.
  if (dedupeKey === undefined) return { ok: false, errors: [{ field: 'email', reason: IDENTITY_REQUIRED }] };

  if (extras.overflowed.length > 0) {
    const names = extras.overflowed.slice(0, 10).join(', ');
    const more = extras.overflowed.length > 10 ? ` and ${extras.overflowed.length - 10} more` : '';
    warnings.push(
      `only ${options.maxExtraFields} extra fields are kept; dropped ${names}${more} (see droppedFields)`,
    );
  }

  const profile: LeadProfile = withoutUndefined({
    email: facts?.email,
    dedupeKey,
    firstName,
    lastName,
    phone: phone?.phone,
    phoneValid: phone?.phoneValid,
    phoneCountry: phone?.phoneCountry,
    phoneRaw: phone?.phoneRaw,
    company: sub.company,
    companyDomain,
    companySize,
    industry: sub.industry,
    jobTitle: sub.jobTitle,
    country,
    city: sub.city,
    website: sub.website,
    message: sub.message,
    isFreeMail: facts?.isFreeMail ?? false,
    isDisposable: facts?.isDisposable ?? false,
    timezone,
    extra: Object.fromEntries(extras.extra),
    droppedFields: extras.dropped,
  });

  const provider = cleanText(options.provider ?? 'form', TEXT_LIMITS.short) || 'form';
  const source: LeadSource = withoutUndefined({
    channel: deriveChannel({
      provider,
      utmSource: sub.utmSource,
      utmMedium: sub.utmMedium,
      referrer: sub.referrer,
      landingPage: sub.landingPage,
    }),
    provider,
    utm: withoutUndefined({
      source: sub.utmSource,
      medium: sub.utmMedium,
      campaign: sub.utmCampaign,
      term: sub.utmTerm,
      content: sub.utmContent,
    }),
    referrer: sub.referrer,
    landingPage: sub.landingPage,
    formId: sub.formId,
    externalId: sub.externalId,
  });

  return consent ? { ok: true, profile, source, consent, warnings } : { ok: true, profile, source, warnings };
}

/**
 * When the submission as a whole fails, still parse each field on its own so the identity
 * check can run on the good ones and every bad field gets reported in one response.
 */
function partialParse(resolved: Partial<Record<SubmissionField, unknown>>): Partial<Submission> {
  const out: Record<string, unknown> = {};
  for (const [field, schema] of Object.entries(SubmissionSchema.shape)) {
    const r = (schema as z.ZodType).safeParse(resolved[field as SubmissionField]);
    if (r.success && r.data !== undefined) out[field] = r.data;
  }
  return out as Partial<Submission>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value === 'string') return cleanText(value, TEXT_LIMITS.message).length === 0;
  return Array.isArray(value) && value.length === 0;
}

/** Whether two raw values say the same thing (case and spacing aside). */
function sameValue(a: unknown, b: unknown): boolean {
  const show = (v: unknown) =>
    cleanText(typeof v === 'string' ? v : (JSON.stringify(v) ?? ''), TEXT_LIMITS.message).toLowerCase();
  return show(a) === show(b);
}

/** Drops `undefined` properties, so stored items and `toEqual` see absent fields as absent. */
function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
