import { cleanText } from './clean-text';
import type { FieldProblem } from './errors';
import { type LeadSource, TEXT_LIMITS } from './lead';
import { compactKey, FIELD_ALIASES, type SubmissionField } from './submission';

/**
 * Pure rules of the capture endpoint (landing-page forms posting leads): which submissions are
 * bots, where a browser may be sent afterwards, what the form told us about its source beyond
 * the lead's own fields. The pages a plain form post is answered with are in `shared/http/pages.ts`.
 *
 * Nothing here does I/O; `functions/capture/handler.ts` wires these rules to the intake use case.
 */

// ---------------------------------------------------------------------------------------------
// Form plumbing

/** Names of the fields a landing-page form uses for plumbing rather than lead data. */
export const FORM_FIELDS = {
  /** Where to send the browser after a successful post (must be on the allow-list). */
  redirect: 'redirect',
  /** Salesforce Web-to-Lead's name for `redirect`, honoured the same way. */
  returnUrl: 'retURL',
  /** Where to send the browser when fields are invalid (must be on the allow-list). */
  errorRedirect: 'error_redirect',
  /** Epoch milliseconds when the form was rendered, for the time-to-submit bot check. */
  renderedAt: '_ts',
  /** The anonymous visitor id set by the first-party tracking script. */
  visitorId: '_vid',
  /** The signed visitor token this browser was given when it became a lead (tracking script). */
  visitorToken: '_vtoken',
} as const;

/** Fragment parameter carrying the visitor token to the thank-you page. */
export const TOKEN_FRAGMENT_PARAM = 'lp_token';

/** What an anonymous visitor id set by the tracking script looks like. */
export const VISITOR_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

/** Longest redirect target considered; anything longer is refused rather than parsed. */
const MAX_REDIRECT_LENGTH = TEXT_LIMITS.url;

/**
 * A field's single value: repeated form keys arrive as arrays (first one wins), numbers (JSON)
 * become text. Anything else (objects, null) is no value.
 */
export function fieldText(value: unknown): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  if (typeof first === 'string') return first;
  if (typeof first === 'number' && Number.isFinite(first)) return String(first);
  return undefined;
}

/**
 * The submission without the capture plumbing (`redirect`, `error_redirect`, `_ts`, `_vid`, the
 * honeypot), so none of it ends up in the lead's `extra` fields. Lead fields are left untouched.
 */
export function withoutPlumbing(
  fields: Record<string, unknown>,
  honeypotField: string,
): Record<string, unknown> {
  const plumbing = new Set(
    [FORM_FIELDS.redirect, FORM_FIELDS.returnUrl, FORM_FIELDS.errorRedirect, honeypotField].map((k) =>
      compactKey(k),
    ),
  );
  return Object.fromEntries(
    Object.entries(fields).filter(
      ([key]) =>
        key !== FORM_FIELDS.renderedAt &&
        key !== FORM_FIELDS.visitorId &&
        key !== FORM_FIELDS.visitorToken &&
        !plumbing.has(compactKey(key)),
    ),
  );
}

/** The form's redirect target: `redirect`, else Salesforce's `retURL`. */
export function redirectField(fields: Record<string, unknown>): unknown {
  return fieldText(fields[FORM_FIELDS.redirect])?.trim()
    ? fields[FORM_FIELDS.redirect]
    : fields[FORM_FIELDS.returnUrl];
}

/** Outcome of reading the `_vid` field. */
export type VisitorIdReading =
  | { readonly kind: 'absent' }
  | { readonly kind: 'valid'; readonly visitorId: string }
  | { readonly kind: 'invalid' };

/**
 * Reads the anonymous visitor id (`_vid`). A malformed id is reported as `invalid` so the caller
 * can ignore it: a broken tracking cookie must never cost us the lead.
 */
export function readVisitorId(fields: Record<string, unknown>): VisitorIdReading {
  const raw = fieldText(fields[FORM_FIELDS.visitorId])?.trim();
  if (raw === undefined || raw === '') return { kind: 'absent' };
  return VISITOR_ID_PATTERN.test(raw) ? { kind: 'valid', visitorId: raw } : { kind: 'invalid' };
}

/** Longest visitor token read from a submission (tokens are a few hundred characters). */
const VISITOR_TOKEN_MAX = 1024;

/**
 * The visitor token (`_vtoken`) posted with a submission, unverified; the handler checks its
 * signature. Anything that cannot be a token is treated as absent: it must never cost the lead.
 */
export function readVisitorToken(fields: Record<string, unknown>): string | undefined {
  const raw = fieldText(fields[FORM_FIELDS.visitorToken])?.trim();
  return raw && raw.length <= VISITOR_TOKEN_MAX ? raw : undefined;
}

// ---------------------------------------------------------------------------------------------
// Spam

/** Why a submission was taken for a bot. */
export type SpamReason = 'honeypot' | 'too-fast';

/** The bot checks of a client (`capture.honeypotField`, `capture.minSecondsToSubmit`). */
export interface SpamPolicy {
  readonly honeypotField: string;
  readonly minSecondsToSubmit: number;
}

function isFilled(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (typeof value === 'string') return value.trim() !== '';
  if (Array.isArray(value)) return value.some(isFilled);
  return true;
}

/**
 * The form's render time from `_ts` (epoch milliseconds), or `undefined` when it is absent or
 * not a plain non-negative integer.
 */
export function parseRenderedAt(value: unknown): number | undefined {
  const text = fieldText(value)?.trim();
  if (text === undefined || !/^\d{1,16}$/.test(text)) return undefined;
  const ms = Number(text);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/**
 * Decides whether a submission is a bot:
 *
 * - `honeypot`: the hidden honeypot field (matched like lead fields: case, spacing and
 *   punctuation aside) has a value. People never see it; form-filling bots fill everything.
 * - `too-fast`: `_ts` says the form was rendered less than `minSecondsToSubmit` ago.
 *
 * A `_ts` that cannot be read or lies in the future is ignored rather than held against the
 * visitor: it comes from the visitor's clock or a cached page, and losing a real lead to a
 * skewed clock costs more than letting one bot through to the other checks.
 *
 * @returns the reason, or `undefined` for a submission that looks human.
 */
export function detectSpam(
  fields: Record<string, unknown>,
  policy: SpamPolicy,
  now: Date,
): SpamReason | undefined {
  const honeypot = compactKey(policy.honeypotField);
  for (const [key, value] of Object.entries(fields)) {
    if (compactKey(key) === honeypot && isFilled(value)) return 'honeypot';
  }
  const renderedAt = parseRenderedAt(fields[FORM_FIELDS.renderedAt]);
  if (renderedAt !== undefined && policy.minSecondsToSubmit > 0) {
    const elapsed = now.getTime() - renderedAt;
    if (elapsed >= 0 && elapsed < policy.minSecondsToSubmit * 1000) return 'too-fast';
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Redirects

/** An absolute http(s) URL of a sane length, or `undefined`. */
export function parseHttpUrl(text: string): URL | undefined {
  if (text.length === 0 || text.length > MAX_REDIRECT_LENGTH) return undefined;
  let url: URL;
  try {
    // No base: relative and scheme-relative targets (`/x`, `//evil.com`) do not parse.
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  return url;
}

/** True when `path` is `prefix` or lies below it (segment-wise: `/thanks` does not cover `/thanks-evil`). */
function pathWithin(path: string, prefix: string): boolean {
  if (prefix.endsWith('/')) return path.startsWith(prefix);
  return path === prefix || path.startsWith(`${prefix}/`);
}

/**
 * Checks a redirect target from the form against the allow-list and returns its canonical form.
 *
 * Both sides are parsed as URLs (WHATWG rules, as browsers do) rather than compared as text:
 * the scheme, host and port must equal an entry's exactly and the path must lie within the
 * entry's path. Relative and scheme-relative targets (`//evil.com`), other schemes
 * (`javascript:`, `data:`), credentials (`https://www.site@evil.com`) and look-alike hosts
 * (`https://www.site.evil.com`) never match. Dot segments are resolved before the path check.
 *
 * @returns the serialised URL to put in `Location` (never the raw input), or `undefined`.
 */
export function allowedRedirect(candidate: unknown, allowList: readonly string[]): string | undefined {
  const text = fieldText(candidate)?.trim();
  if (text === undefined) return undefined;
  const target = parseHttpUrl(text);
  if (!target) return undefined;
  for (const entry of allowList) {
    const allowed = parseHttpUrl(entry);
    if (allowed && allowed.origin === target.origin && pathWithin(target.pathname, allowed.pathname)) {
      return target.href;
    }
  }
  return undefined;
}

/** `url` with its fragment replaced by `#lp_token=<token>` (fragments never reach servers or Referer). */
export function withVisitorToken(url: string, token: string): string {
  const target = new URL(url);
  target.hash = `${TOKEN_FRAGMENT_PARAM}=${encodeURIComponent(token)}`;
  return target.href;
}

/** Fragment parameter carrying the next-step URL (instant booking offer) to the thank-you page. */
export const NEXT_STEP_FRAGMENT_PARAM = 'lp_next';

/**
 * Where a successful form post sends the browser: the form's `redirect` when the allow-list
 * covers it, else the client's thank-you page, else the API's own thank-you page (the next-step
 * URL); with the visitor token and the next-step URL in the fragment when issued.
 * @returns `undefined` when there is nowhere to send the browser.
 */
export function successLocation(
  redirectField: unknown,
  options: {
    readonly allowList: readonly string[];
    readonly thankYouUrl?: string | undefined;
    readonly visitorToken?: string;
    readonly nextStepUrl?: string | undefined;
  },
): string | undefined {
  const target =
    allowedRedirect(redirectField, options.allowList) ?? options.thankYouUrl ?? options.nextStepUrl;
  if (target === undefined) return undefined;
  if (options.visitorToken === undefined) return new URL(target).href;
  const url = new URL(withVisitorToken(target, options.visitorToken));
  if (options.nextStepUrl)
    url.hash += `&${NEXT_STEP_FRAGMENT_PARAM}=${encodeURIComponent(options.nextStepUrl)}`;
  return url.href;
}

/**
 * Where an invalid form post sends the browser when the form names an allowed `error_redirect`:
 * that URL with `lp_error=invalid&lp_fields=<field,field>` in its query (earlier `lp_*`
 * parameters replaced), so the landing page can highlight the fields itself.
 * @returns `undefined` when there is no allowed `error_redirect`.
 */
export function errorLocation(
  errorRedirectField: unknown,
  allowList: readonly string[],
  problems: readonly FieldProblem[],
): string | undefined {
  const allowed = allowedRedirect(errorRedirectField, allowList);
  if (!allowed) return undefined;
  const url = new URL(allowed);
  url.searchParams.delete('lp_error');
  url.searchParams.delete('lp_fields');
  const fields = [...new Set(problems.map((p) => p.field))].map(encodeURIComponent).join(',');
  const params = `lp_error=invalid&lp_fields=${fields}`;
  url.search = url.search.length > 1 ? `${url.search}&${params}` : `?${params}`;
  return url.href;
}

// ---------------------------------------------------------------------------------------------
// Source attribution

const UTM_FIELDS = [
  ['utmSource', 'source'],
  ['utmMedium', 'medium'],
  ['utmCampaign', 'campaign'],
  ['utmTerm', 'term'],
  ['utmContent', 'content'],
] as const satisfies ReadonlyArray<readonly [SubmissionField, keyof LeadSource['utm']]>;

/** The first non-empty value the submission gives for a lead field, under any of its aliases. */
export function submittedField(fields: Record<string, unknown>, field: SubmissionField): string | undefined {
  const aliases: readonly string[] = FIELD_ALIASES[field];
  for (const [key, value] of Object.entries(fields)) {
    if (!aliases.includes(compactKey(key))) continue;
    const text = fieldText(value)?.trim();
    if (text) return text;
  }
  return undefined;
}

/**
 * Source attribution the request carries beyond the lead's own fields, for `IntakeRequest.source`.
 * Only what the submission does not already say is returned, so the form's fields always win:
 *
 * - `landingPage`: the `Referer` header when the form sends no `landing_page` / `page_url`. A
 *   form post's `Referer` is the page holding the form, i.e. the landing page; it is NOT the
 *   visitor's referrer (that is `document.referrer`, which only the form's `referrer` field
 *   can carry), so it is never used as one.
 * - `utm.*`: `utm_*` parameters in the landing page's query string, for each one the form does
 *   not post itself (pages that forget to copy UTM tags into hidden fields).
 *
 * Browsers' default `Referrer-Policy` (`strict-origin-when-cross-origin`) sends only the origin
 * to a cross-origin API, so the `Referer` fallback is usually just the site's home page; forms
 * that want full attribution post `landing_page` (e.g. `location.href`) as a hidden field.
 */
export function sourceHints(
  fields: Record<string, unknown>,
  referer: string | undefined,
): Partial<LeadSource> {
  const hints: { landingPage?: string; utm?: LeadSource['utm'] } = {};
  let landingPage = submittedField(fields, 'landingPage');
  if (landingPage === undefined && referer !== undefined) {
    const url = parseHttpUrl(referer.trim());
    if (url) {
      landingPage = cleanText(url.href, TEXT_LIMITS.url);
      hints.landingPage = landingPage;
    }
  }
  const query = landingPage ? parseHttpUrl(landingPage)?.searchParams : undefined;
  if (query) {
    const utm: Record<string, string> = {};
    for (const [field, key] of UTM_FIELDS) {
      if (submittedField(fields, field) !== undefined) continue;
      const value = cleanText(query.get(`utm_${key}`) ?? '', TEXT_LIMITS.utm);
      if (value) utm[key] = value;
    }
    if (Object.keys(utm).length > 0) hints.utm = utm;
  }
  return hints;
}
