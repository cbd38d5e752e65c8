import { z } from 'zod';
import { normaliseCountry } from './country';
import { canonicalEmail, domainFromWebsite, emailFacts, isFreeMailDomain, LeadEmailSchema } from './email';
import { type Consent, type LeadProfile, type LeadSource, TEXT_LIMITS } from './lead';
import { MIN_PHONE_DIGITS, normalisePhone, phoneDedupeKey } from './phone';

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
// Text cleaning

/** Format characters (zero-width space/joiners, BOM, bidi overrides, soft hyphen) and lone surrogates. */
const INVISIBLE = /[\p{Cf}\p{Cs}]/gu;
/** Control characters that are not whitespace (NUL, ESC, DEL...). */
const CONTROL_NOT_SPACE = /[^\P{Cc}\t\n\v\f\r]/gu;
/** Control characters other than newline and tab, for multi-line text. */
const CONTROL_NOT_NEWLINE = /[^\P{Cc}\t\n]/gu;

/**
 * Cuts `text` to at most `max` UTF-16 code units (the unit zod's `.max()` counts) without
 * leaving half a surrogate pair behind, then trims what the cut exposed.
 */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return cut.trim();
}

/**
 * Makes untrusted text safe to store and compare: removes control characters and invisible
 * format characters (zero-width space, zero-width joiners, BOM, bidi overrides: they spoof
 * names in alerts and split dedupe), NFC-normalises (so "Zoë" typed two ways is one string),
 * collapses whitespace, trims, and cuts to `maxLength`.
 *
 * Zero-width joiners are removed too, although emoji sequences and Persian spelling use them:
 * the visible result is the same letters, and invisible differences in names cost more.
 *
 * `multiline` keeps line breaks (messages): runs of spaces collapse within a line and more than
 * one blank line collapses to one. Idempotent. Case is never changed.
 */
export function cleanText(value: string, maxLength: number, multiline = false): string {
  let text = value.replace(INVISIBLE, '');
  if (multiline) {
    text = text
      .replace(/\r\n?|[\u2028\u2029\v\f]/g, '\n')
      .replace(CONTROL_NOT_NEWLINE, '')
      .normalize('NFC')
      .split('\n')
      .map((line) => line.replace(/\s+/g, ' ').trim())
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
  } else {
    text = text.replace(CONTROL_NOT_SPACE, '').normalize('NFC').replace(/\s+/g, ' ').trim();
  }
  return truncate(text, maxLength);
}

// ---------------------------------------------------------------------------------------------
// Field aliases

/**
 * A key as compared against aliases: accents stripped, lower-case, letters and digits only, so
 * "First Name", "first_name", "firstName" and "FIRST-NAME" are all `firstname`.
 */
export function compactKey(key: string): string {
  return key
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

/** Raw keys (in {@link compactKey} form) recognised for each field of {@link SubmissionSchema}. */
export const FIELD_ALIASES = {
  email: ['email', 'emailaddress', 'mail', 'youremail', 'workemail', 'businessemail'],
  phone: [
    'phone',
    'tel',
    'telephone',
    'mobile',
    'phonenumber',
    'cell',
    'cellphone',
    'mobilephone',
    'mobilenumber',
    'telefon',
  ],
  firstName: ['firstname', 'fname', 'givenname', 'forename'],
  lastName: ['lastname', 'lname', 'surname', 'familyname'],
  fullName: ['fullname', 'name', 'yourname', 'contactname'],
  company: ['company', 'organization', 'organisation', 'companyname', 'businessname'],
  jobTitle: ['jobtitle', 'title', 'position', 'role'],
  message: ['message', 'comments', 'comment', 'description', 'notes', 'note', 'enquiry', 'inquiry'],
  companySize: ['companysize', 'employees', 'employeecount', 'numberofemployees', 'headcount'],
  industry: ['industry', 'sector'],
  country: ['country', 'countrycode', 'countryname'],
  city: ['city', 'town'],
  website: ['website', 'url', 'companywebsite', 'websiteurl', 'homepage'],
  companyDomain: ['companydomain', 'domain'],
  timezone: ['timezone', 'tz'],
  consent: [
    'consent',
    'marketingconsent',
    'gdpr',
    'gdprconsent',
    'optin',
    'emailoptin',
    'newsletter',
    'acceptsmarketing',
  ],
  utmSource: ['utmsource'],
  utmMedium: ['utmmedium'],
  utmCampaign: ['utmcampaign'],
  utmTerm: ['utmterm'],
  utmContent: ['utmcontent'],
  referrer: ['referrer', 'referer', 'documentreferrer'],
  landingPage: ['landingpage', 'pageurl', 'landingpageurl'],
  formId: ['formid', 'formname'],
  externalId: ['externalid', 'leadid', 'leadgenid'],
} as const satisfies Record<string, readonly string[]>;

/** A field of the inbound submission after alias resolution. */
export type SubmissionField = keyof typeof FIELD_ALIASES;

const ALIAS_INDEX: ReadonlyMap<string, SubmissionField> = new Map(
  (Object.entries(FIELD_ALIASES) as [SubmissionField, readonly string[]][]).flatMap(([field, aliases]) =>
    aliases.map((alias) => [alias, field] as const),
  ),
);

/**
 * Keys that are form plumbing, not lead data: render timestamp, redirect target, idempotency
 * key, captcha tokens, the submit button. Keys starting with `_` (`_ts`, `_gotcha`, `_next`)
 * are plumbing by convention too. Skipped without a trace.
 */
const INTERNAL_KEYS = new Set([
  'redirect',
  'idempotencykey',
  'grecaptcharesponse',
  'hcaptcharesponse',
  'cfturnstileresponse',
  'submit',
]);

/**
 * Profile fields computed by normalisation. When a stored profile is fed back in they are
 * recomputed from the fields they derive from, not taken as input.
 */
const DERIVED_KEYS = new Set(['dedupekey', 'phonevalid', 'phonecountry', 'isfreemail', 'isdisposable']);

// ---------------------------------------------------------------------------------------------
// Submission schema

/** Numbers and booleans arrive as text from some providers and as JSON values from others. */
function scalarToString(value: unknown): unknown {
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
}

/** An empty string means "not given". */
const emptyToUndefined = (s: string): string | undefined => (s.length > 0 ? s : undefined);

function describeType(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

const rawText = z.preprocess(
  scalarToString,
  z.string({ error: (issue) => `expected text, got ${describeType(issue.input)}` }),
);

/** Single-line (or `multiline`) free text, cleaned and cut to `max`; empty becomes absent. */
function text(max: number, multiline = false) {
  return rawText.transform((s) => emptyToUndefined(cleanText(s, max, multiline))).optional();
}

const email = rawText
  .transform((s) => emptyToUndefined(canonicalEmail(s)))
  .pipe(LeadEmailSchema.optional())
  .optional();

const flag = z
  .union([z.boolean(), z.number(), z.string()], {
    error: (issue) => `expected yes/no, got ${describeType(issue.input)}`,
  })
  .transform((v) => emptyToUndefined(cleanText(String(v), TEXT_LIMITS.short)))
  .optional();

const submissionShape = {
  email,
  // Generous here; `normalisePhone` cuts the kept value to TEXT_LIMITS.phone.
  phone: text(TEXT_LIMITS.short),
  firstName: text(TEXT_LIMITS.name),
  lastName: text(TEXT_LIMITS.name),
  fullName: text(TEXT_LIMITS.name * 2),
  company: text(TEXT_LIMITS.company),
  jobTitle: text(TEXT_LIMITS.jobTitle),
  message: text(TEXT_LIMITS.message, true),
  companySize: text(TEXT_LIMITS.short),
  industry: text(TEXT_LIMITS.industry),
  country: text(TEXT_LIMITS.short),
  city: text(TEXT_LIMITS.short),
  website: text(TEXT_LIMITS.url),
  companyDomain: text(TEXT_LIMITS.short * 3),
  timezone: text(TEXT_LIMITS.short),
  consent: flag,
  utmSource: text(TEXT_LIMITS.utm),
  utmMedium: text(TEXT_LIMITS.utm),
  utmCampaign: text(TEXT_LIMITS.utm),
  utmTerm: text(TEXT_LIMITS.utm),
  utmContent: text(TEXT_LIMITS.utm),
  referrer: text(TEXT_LIMITS.url),
  landingPage: text(TEXT_LIMITS.url),
  formId: text(TEXT_LIMITS.short),
  externalId: text(TEXT_LIMITS.short),
} satisfies Record<SubmissionField, z.ZodType>;

/**
 * The inbound submission after alias resolution: every field optional, texts cleaned and cut,
 * the email canonical and validated. Values that need context to interpret (phone: the country;
 * company size, country, time zone: may not parse and then go to `extra`) stay cleaned text here
 * and are interpreted by {@link normaliseSubmission}.
 */
export const SubmissionSchema = z.object(submissionShape);

/** A validated, cleaned submission. */
export type Submission = z.output<typeof SubmissionSchema>;

// ---------------------------------------------------------------------------------------------
// Value interpretation

/** Largest believable head count; anything above is a typo or junk (Walmart has ~2.1M staff). */
const MAX_COMPANY_SIZE = 10_000_000;

/**
 * Reads a company size as forms send it: "500", "1,000", "1.000", "10k", "500+", "201-500",
 * "1000 - 5000 employees", "<10".
 *
 * A range yields its LOWER bound. Size pick-lists are buckets (1-10, 11-50, 51-200, 201-500...),
 * and fit rules are written against bucket edges ("companySize >= 200"); the lower bound keeps
 * every answer inside the bucket the visitor chose and never overstates a company. An upper
 * bound would push "201-500" past a "<= 250" rule the visitor's company may well satisfy.
 *
 * @returns a non-negative integer, or `undefined` when no number of employees can be read.
 */
export function parseCompanySize(value: string): number | undefined {
  const s = value.toLowerCase().replace(/\s+/g, ' ');
  // Exponent notation ("5e2", or a JSON number such as 1e308 turned into "1e+308") is read whole:
  // the pattern below would otherwise find the exponent and take it for the size.
  const exponent = /^\s*(\d+(?:\.\d+)?e[+-]?\d+)\s*$/.exec(s);
  if (exponent?.[1]) {
    const n = Math.floor(Number(exponent[1]));
    return Number.isFinite(n) && n >= 0 && n <= MAX_COMPANY_SIZE ? n : undefined;
  }
  // A number: thousands separated by , . ' or a (non-breaking) space, or a plain decimal; optional k/m.
  const match =
    /(?<![a-z\d])(\d{1,3}(?:[,.' \u00a0]\d{3})+(?!\d)|\d+(?:[.,]\d+)?)\s*(k|m|thousand|million)?\b/.exec(s);
  if (!match?.[1]) return undefined;
  const [, digits, unit] = match;
  let n: number;
  if (/^\d{1,3}(?:[,.' \u00a0]\d{3})+$/.test(digits)) n = Number(digits.replace(/[,.' \u00a0]/g, ''));
  else n = Number(digits.replace(',', '.'));
  if (unit === 'k' || unit === 'thousand') n *= 1_000;
  if (unit === 'm' || unit === 'million') n *= 1_000_000;
  n = Math.floor(n);
  return Number.isFinite(n) && n >= 0 && n <= MAX_COMPANY_SIZE ? n : undefined;
}

const CONSENT_YES = new Set([
  'on',
  'yes',
  'y',
  'true',
  '1',
  'checked',
  'agreed',
  'accepted',
  'granted',
  'optin',
]);
const CONSENT_NO = new Set(['off', 'no', 'n', 'false', '0', 'unchecked', 'declined', 'denied', 'optout']);

/**
 * Reads a consent checkbox or provider flag. Truthy: "on" (a checked HTML checkbox), "yes",
 * "true", "1" and a few synonyms; falsy: "off", "no", "false", "0"...
 *
 * @returns `undefined` for anything else. Consent must be unambiguous (GDPR art. 4(11)), so
 * {@link normaliseSubmission} records an unrecognised value as NO consent, with a warning.
 */
export function parseConsent(value: string): boolean | undefined {
  const key = compactKey(value);
  if (CONSENT_YES.has(key)) return true;
  if (CONSENT_NO.has(key)) return false;
  return undefined;
}

/** The runtime's canonical spelling of an IANA zone ("europe/berlin" → "Europe/Berlin"), if valid. */
function canonicalTimezone(tz: string): string | undefined {
  try {
    const resolved = new Intl.DateTimeFormat('en', { timeZone: tz }).resolvedOptions().timeZone;
    return resolved.length <= 64 ? resolved : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Splits a full name into first and last name: "Núñez, Zoë" (comma form) is last-then-first;
 * otherwise the first word is the first name and the rest the last name ("Anna van der Berg" →
 * "Anna" / "van der Berg"). A single word (including names written without spaces, such as
 * "李雷") is a first name only: guessing where a CJK family name ends would be wrong too often.
 */
export function splitFullName(fullName: string): { firstName?: string; lastName?: string } {
  const name = fullName.trim();
  const comma = name.indexOf(',');
  let first: string;
  let last: string;
  if (comma >= 0) {
    last = name.slice(0, comma);
    first = name.slice(comma + 1);
  } else {
    const space = name.indexOf(' ');
    first = space < 0 ? name : name.slice(0, space);
    last = space < 0 ? '' : name.slice(space + 1);
  }
  const firstName = emptyToUndefined(cleanText(first, TEXT_LIMITS.name));
  const lastName = emptyToUndefined(cleanText(last, TEXT_LIMITS.name));
  return { ...(firstName ? { firstName } : {}), ...(lastName ? { lastName } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Channel

/** Marketing channels a lead's source is classified into. */
export const CHANNELS = [
  'paid_search',
  'paid_social',
  'display',
  'email',
  'social',
  'organic_search',
  'affiliate',
  'referral',
  'direct',
  'other',
] as const;
export type Channel = (typeof CHANNELS)[number];

/** What {@link deriveChannel} looks at. */
export interface ChannelInput {
  /** Webhook provider (`google_ads`, `meta`, `linkedin`...) or `form` / `api`. */
  provider?: string;
  utmSource?: string;
  utmMedium?: string;
  referrer?: string;
  landingPage?: string;
}

const PAID_SEARCH_PROVIDERS = new Set(['googleads', 'google', 'adwords', 'microsoftads', 'bingads']);
const PAID_SOCIAL_PROVIDERS = new Set([
  'meta',
  'facebook',
  'facebookleads',
  'instagram',
  'linkedin',
  'linkedinads',
  'tiktok',
]);
const SOCIAL_SOURCES = new Set([
  'facebook',
  'fb',
  'meta',
  'instagram',
  'ig',
  'linkedin',
  'li',
  'twitter',
  'x',
  'tiktok',
  'pinterest',
  'reddit',
  'snapchat',
  'youtube',
  'xing',
  'threads',
  'bluesky',
]);
const SEARCH_SOURCES = new Set([
  'google',
  'bing',
  'yahoo',
  'duckduckgo',
  'baidu',
  'yandex',
  'ecosia',
  'qwant',
]);
const EMAIL_SOURCES = new Set([
  'email',
  'newsletter',
  'mailchimp',
  'hubspot',
  'brevo',
  'sendgrid',
  'klaviyo',
]);
const PAID_MEDIA = new Set(['cpc', 'ppc', 'paid', 'paidsearch', 'sem', 'cpv', 'paidads', 'ads']);
const PAID_SOCIAL_MEDIA = new Set(['paidsocial', 'socialpaid', 'sponsored', 'socialads']);
const DISPLAY_MEDIA = new Set(['display', 'banner', 'cpm', 'programmatic', 'retargeting']);
const EMAIL_MEDIA = new Set(['email', 'mail', 'newsletter']);
const SOCIAL_MEDIA = new Set(['social', 'socialmedia', 'sm', 'socialnetwork', 'organicsocial']);

const SOCIAL_HOSTS =
  /(^|\.)(facebook\.com|fb\.com|instagram\.com|linkedin\.com|lnkd\.in|t\.co|twitter\.com|x\.com|reddit\.com|youtube\.com|youtu\.be|tiktok\.com|pinterest\.[a-z.]+|xing\.com|threads\.net|bsky\.app|news\.ycombinator\.com)$/;
const SEARCH_HOSTS =
  /(^|\.)(google\.[a-z.]+|bing\.com|duckduckgo\.com|yahoo\.[a-z.]+|yandex\.[a-z.]+|baidu\.com|ecosia\.org|qwant\.com|startpage\.com|search\.brave\.com|naver\.com|seznam\.cz)$/;
const WEBMAIL_HOSTS =
  /^(mail\.google\.com|outlook\.live\.com|outlook\.office\.com|outlook\.office365\.com|mail\.yahoo\.com|mail\.proton\.me)$/;
/** Ad click ids the ad platforms append to landing page URLs (auto-tagging). */
const PAID_SEARCH_CLICK_IDS = ['gclid', 'gbraid', 'wbraid', 'dclid', 'msclkid'];
const PAID_SOCIAL_CLICK_IDS = ['li_fat_id', 'ttclid'];

/** Host of a URL (or of a bare host name), lower-case, without `www.`. */
function hostOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`;
    const host = new URL(withScheme).hostname.replace(/^www\./, '');
    return host.length > 0 ? host : undefined;
  } catch {
    return undefined;
  }
}

function queryParams(url: string | undefined): URLSearchParams | undefined {
  if (!url) return undefined;
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `https://${url}`).searchParams;
  } catch {
    return undefined;
  }
}

/**
 * Classifies where a lead came from, first match wins:
 *
 * 1. the webhook provider: lead-form ads are paid by definition (`google_ads` → `paid_search`;
 *    `meta`, `linkedin`, `tiktok` → `paid_social`);
 * 2. `utm_medium`: cpc / ppc / paid → `paid_search`, or `paid_social` when `utm_source` is a
 *    social network (facebook, linkedin, instagram...); paid_social, display, email, social,
 *    organic (→ `organic_search`), referral, affiliate; any other medium → `other`;
 * 3. an ad click id on the landing page (gclid, msclkid → `paid_search`; li_fat_id, ttclid →
 *    `paid_social`), for ad accounts with auto-tagging and no UTM template;
 * 4. `utm_source` alone: a social network → `social`, a search engine → `organic_search`, an
 *    email tool → `email`, else `other`;
 * 5. the referrer: webmail → `email`, social → `social`, search engine → `organic_search`, the
 *    site itself → `direct`, any other site → `referral`;
 * 6. nothing → `direct`.
 */
export function deriveChannel(input: ChannelInput): Channel {
  const provider = compactKey(input.provider ?? '');
  if (PAID_SEARCH_PROVIDERS.has(provider)) return 'paid_search';
  if (PAID_SOCIAL_PROVIDERS.has(provider)) return 'paid_social';

  const source = compactKey(input.utmSource ?? '');
  const medium = compactKey(input.utmMedium ?? '');
  if (medium) {
    if (PAID_MEDIA.has(medium)) return SOCIAL_SOURCES.has(source) ? 'paid_social' : 'paid_search';
    if (PAID_SOCIAL_MEDIA.has(medium)) return 'paid_social';
    if (DISPLAY_MEDIA.has(medium)) return 'display';
    if (EMAIL_MEDIA.has(medium)) return 'email';
    if (SOCIAL_MEDIA.has(medium)) return 'social';
    if (medium === 'organic') return 'organic_search';
    if (medium === 'referral') return 'referral';
    if (medium === 'affiliate' || medium === 'affiliates') return 'affiliate';
    return 'other';
  }

  const params = queryParams(input.landingPage);
  if (params) {
    if (PAID_SEARCH_CLICK_IDS.some((id) => params.has(id))) return 'paid_search';
    if (PAID_SOCIAL_CLICK_IDS.some((id) => params.has(id))) return 'paid_social';
  }

  if (source) {
    if (SOCIAL_SOURCES.has(source)) return 'social';
    if (SEARCH_SOURCES.has(source)) return 'organic_search';
    if (EMAIL_SOURCES.has(source)) return 'email';
    return 'other';
  }

  const referrer = hostOf(input.referrer);
  if (referrer) {
    if (WEBMAIL_HOSTS.test(referrer)) return 'email';
    if (SOCIAL_HOSTS.test(referrer)) return 'social';
    if (SEARCH_HOSTS.test(referrer)) return 'organic_search';
    if (referrer === hostOf(input.landingPage)) return 'direct';
    return 'referral';
  }
  return 'direct';
}

// ---------------------------------------------------------------------------------------------
// Extra fields

/** 32-bit FNV-1a, for a stable key when a field name has no Latin letters or digits at all. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * The key an unknown field is stored under in `extra`: snake_case ASCII, at most
 * TEXT_LIMITS.extraKey characters ("How did you hear?" → `how_did_you_hear`, "budgetRange" →
 * `budget_range`), so scoring and routing conditions can address it as `extra.how_did_you_hear`.
 * A name with no Latin letters or digits ("预算") gets a stable `field_<hash>`. Idempotent.
 */
export function extraKey(key: string): string {
  const slug = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, TEXT_LIMITS.extraKey)
    .replace(/_+$/, '');
  return slug.length > 0 ? slug : `field_${fnv1a(key)}`;
}

/** An extra field's value as text: strings as given, anything else as JSON; cleaned and cut. */
function extraValue(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  let s: string;
  if (typeof value === 'string') s = value;
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    s = String(value);
  else {
    if (Array.isArray(value) && value.length === 0) return undefined;
    if (typeof value === 'object' && Object.keys(value).length === 0) return undefined;
    try {
      s = JSON.stringify(value) ?? '';
    } catch {
      // Functions, cycles: not JSON-able, so not data from a form. Still record that it came.
      s = String(value);
    }
  }
  return emptyToUndefined(cleanText(s, TEXT_LIMITS.extraValue, true));
}

/** Most field names listed in `droppedFields` (the schema's bound). */
const MAX_DROPPED_FIELDS = 50;

/** Default bound on `extra` when merging profiles, matching `capture.maxExtraFields`'s default. */
export const DEFAULT_MAX_EXTRA_FIELDS = 25;

/** Collects `extra` entries under a bound, recording what did not fit. */
class ExtraCollector {
  readonly extra = new Map<string, string>();
  /** `droppedFields`: carried over from the input, then this submission's overflow. */
  readonly dropped: string[] = [];
  /** Names of this submission's fields that did not fit, for the warning (not bounded by the list). */
  readonly overflowed: string[] = [];

  constructor(private readonly max: number) {}

  /** Adds a field; a different field whose key folds to the same name gets `_2`, `_3`... */
  add(rawKey: string, value: string): void {
    const base = extraKey(rawKey);
    let key = base;
    for (let n = 2; this.extra.has(key); n++) {
      const suffix = `_${n}`;
      key = `${base.slice(0, TEXT_LIMITS.extraKey - suffix.length)}${suffix}`;
    }
    if (this.extra.size < this.max) {
      this.extra.set(key, value);
    } else {
      this.overflowed.push(key);
      this.drop(key);
    }
  }

  /** Lists a field name in `droppedFields` (once, and only while the list has room). */
  drop(name: string): void {
    const key = extraKey(name);
    if (!this.dropped.includes(key) && this.dropped.length < MAX_DROPPED_FIELDS) this.dropped.push(key);
  }
}

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
  const honeypot = options.honeypotField ? compactKey(options.honeypotField) : undefined;

  for (const [key, value] of Object.entries(raw)) {
    const compact = compactKey(key);
    if (key.startsWith('_') || INTERNAL_KEYS.has(compact) || DERIVED_KEYS.has(compact)) continue;
    if (honeypot !== undefined && compact === honeypot) continue;
    if (compact === 'extra' && isPlainObject(value)) {
      unknown.push(...Object.entries(value));
      continue;
    }
    if (compact === 'droppedfields' && Array.isArray(value)) {
      for (const name of value) if (typeof name === 'string') carriedDropped.push(name);
      continue;
    }
    const field = ALIAS_INDEX.get(compact);
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
  const phone =
    sub.phone === undefined ? undefined : normalisePhone(sub.phone, country ?? options.defaultCountry);
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

// ---------------------------------------------------------------------------------------------
// mergeProfiles

/** Profile fields that travel with the email: only taken from an incoming profile that has one. */
const EMAIL_DERIVED = ['isFreeMail', 'isDisposable'] as const;
/** Fields that travel with the phone number. */
const PHONE_DERIVED = ['phoneValid', 'phoneCountry'] as const;

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/**
 * Merges a resubmission into a stored lead's profile (dedupe hit).
 *
 * Incoming non-empty values win (people correct typos and change jobs); empty or absent incoming
 * values never erase stored ones. `isFreeMail` / `isDisposable` follow the email and
 * `phoneValid` / `phoneCountry` follow the phone, so a phone-only resubmission does not reset
 * the email's flags. `dedupeKey` never changes: it is the stored lead's identity, and the caller
 * decides whether to index the incoming key as well. `extra` maps merge key by key (incoming
 * wins) under `maxExtraFields`; keys that no longer fit join `droppedFields`.
 *
 * @returns the merged profile (inputs are not modified) and the names of the fields that changed.
 */
export function mergeProfiles(
  existing: LeadProfile,
  incoming: LeadProfile,
  maxExtraFields: number = DEFAULT_MAX_EXTRA_FIELDS,
): { profile: LeadProfile; changed: string[] } {
  const merged: Record<string, unknown> = { ...existing };
  const changed: string[] = [];
  const skip = new Set<string>(['dedupeKey', 'extra', 'droppedFields', ...EMAIL_DERIVED, ...PHONE_DERIVED]);

  const take = (field: string, value: unknown) => {
    if (isBlank(value) || merged[field] === value) return;
    merged[field] = value;
    changed.push(field);
  };

  for (const [field, value] of Object.entries(incoming)) {
    if (!skip.has(field)) take(field, value);
  }
  if (!isBlank(incoming.email)) for (const field of EMAIL_DERIVED) take(field, incoming[field]);
  if (!isBlank(incoming.phone)) {
    for (const field of PHONE_DERIVED) take(field, incoming[field]);
    // A new number without a country (invalid) must not inherit the old number's country.
    if (incoming.phoneCountry === undefined && merged.phoneCountry !== undefined) {
      delete merged.phoneCountry;
      changed.push('phoneCountry');
    }
  }

  const extra = new Map(Object.entries(existing.extra));
  const dropped = [...existing.droppedFields];
  let extraChanged = false;
  for (const [key, value] of Object.entries(incoming.extra)) {
    if (isBlank(value) || extra.get(key) === value) continue;
    if (extra.has(key) || extra.size < maxExtraFields) {
      extra.set(key, value);
      extraChanged = true;
    } else if (!dropped.includes(key) && dropped.length < MAX_DROPPED_FIELDS) {
      dropped.push(key);
    }
  }
  for (const key of incoming.droppedFields) {
    if (!dropped.includes(key) && dropped.length < MAX_DROPPED_FIELDS) dropped.push(key);
  }
  if (extraChanged) {
    merged.extra = Object.fromEntries(extra);
    changed.push('extra');
  }
  if (dropped.length !== existing.droppedFields.length) {
    merged.droppedFields = dropped;
    changed.push('droppedFields');
  }
  return { profile: merged as LeadProfile, changed };
}
