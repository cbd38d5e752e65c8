import { z } from 'zod';
import { cleanText } from './clean-text';
import { canonicalEmail, LeadEmailSchema } from './email';
import { TEXT_LIMITS } from './lead';
/**
 * What a submission may say: the field aliases every form, ad platform and CRM export spells
 * differently, the schema of the resolved fields, and how their values are read (company size,
 * consent, time zone, full name).
 */

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
    'yourphone',
  ],
  firstName: ['firstname', 'fname', 'givenname', 'forename'],
  lastName: ['lastname', 'lname', 'surname', 'familyname'],
  fullName: ['fullname', 'name', 'yourname', 'contactname'],
  company: ['company', 'organization', 'organisation', 'companyname', 'businessname'],
  jobTitle: ['jobtitle', 'title', 'position', 'role'],
  message: [
    'message',
    'comments',
    'comment',
    'description',
    'notes',
    'note',
    'enquiry',
    'inquiry',
    'yourmessage',
  ],
  companySize: [
    'companysize',
    'employees',
    'employeecount',
    'numberofemployees',
    'headcount',
    // HubSpot's contact property.
    'numemployees',
  ],
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
 * Contact Form 7 names the fields an author adds after the form-tag and a number (`tel-417`,
 * `email-202`); its default form uses `your-name`, `your-email`, `your-subject`, `your-message`.
 */
const NUMBERED_FORM_TAGS: ReadonlyArray<readonly [RegExp, SubmissionField]> = [
  [/^tel\d+$/, 'phone'],
  [/^email\d+$/, 'email'],
];

/** The submission field a raw key names (an alias, or a numbered form-tag), if any. */
export function fieldForKey(key: string): SubmissionField | undefined {
  const compact = compactKey(key);
  return ALIAS_INDEX.get(compact) ?? NUMBERED_FORM_TAGS.find(([pattern]) => pattern.test(compact))?.[1];
}

/** Words of a key as people write questions: "What's your work phone number?" → what, s, your, work, phone, number. */
function keyWords(key: string): Set<string> {
  return new Set(
    key
      .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
      .normalize('NFKD')
      .replace(/\p{M}/gu, '')
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter((w) => w.length > 0),
  );
}

/**
 * The standard field a question key most likely asks for, when the key is not an alias: ad
 * platforms let advertisers rename even their standard questions (`mobile_for_callback`,
 * `what_is_your_work_email?`), and an answer we can score and route on beats one in `extra`.
 * Only the unambiguous words count: phone / mobile / telephone, e-mail, first / last / full
 * name, company name, job title. Used by provider adapters, not for plain form posts.
 */
export function guessFieldFromQuestion(key: string): SubmissionField | undefined {
  const known = fieldForKey(key);
  if (known) return known;
  const w = keyWords(key);
  const has = (...words: string[]) => words.every((word) => w.has(word));
  if (has('phone') || has('mobile') || has('telephone') || has('cell')) return 'phone';
  if (has('email') || has('mail', 'address') || has('e', 'mail')) return 'email';
  if (has('first', 'name') || has('given', 'name')) return 'firstName';
  if (has('last', 'name') || has('surname') || has('family', 'name')) return 'lastName';
  if (has('full', 'name')) return 'fullName';
  if (has('company', 'name') || has('organisation', 'name') || has('organization', 'name')) return 'company';
  if (has('job', 'title')) return 'jobTitle';
  return undefined;
}

/**
 * Keys that are form plumbing, not lead data: render timestamp, redirect target, idempotency
 * key, captcha tokens, the submit button. Keys starting with `_` (`_ts`, `_gotcha`, `_next`)
 * are plumbing by convention too. Skipped without a trace.
 */
export const INTERNAL_KEYS = new Set([
  'redirect',
  // Salesforce Web-to-Lead: the return URL, the org id and its debug switches.
  'returl',
  'oid',
  'debug',
  'debugemail',
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
export const DERIVED_KEYS = new Set([
  'dedupekey',
  'phonevalid',
  'phonecountry',
  'isfreemail',
  'isdisposable',
]);

// ---------------------------------------------------------------------------------------------
// Submission schema

/** Numbers and booleans arrive as text from some providers and as JSON values from others. */
function scalarToString(value: unknown): unknown {
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
}

/** An empty string means "not given". */
export const emptyToUndefined = (s: string): string | undefined => (s.length > 0 ? s : undefined);

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
export function canonicalTimezone(tz: string): string | undefined {
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
