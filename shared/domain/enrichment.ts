import { cleanText } from './clean-text';
import { defaultTimezone, normaliseCountry } from './country';
import { domainFromWebsite, emailFacts, isFreeMailDomain } from './email';
import { type LeadProfile, TEXT_LIMITS } from './lead';
import { isInternationalFormat, normalisePhone } from './phone';
import { parseCompanySize } from './submission';

/**
 * Built-in enrichment: what can be derived from the lead's own profile without calling anyone,
 * plus the (optional) facts an enrichment provider returned.
 *
 * Pure and idempotent: enriching an enriched profile changes nothing, so a redelivered event
 * recomputes the same values.
 *
 * What the lead told us always wins over what we derive or look up; derived and provider
 * values only fill gaps. The order for the lead's country is: the country they gave, then the
 * country of their (valid) phone number, then the provider's company country. The phone comes
 * before the provider because territory routing is about where the PERSON is, and a provider
 * reports where the company is registered.
 */

/** Company facts an enrichment provider may return, already normalised (see {@link providerFacts}). */
export interface ProviderFacts {
  readonly company?: string;
  readonly companySize?: number;
  readonly industry?: string;
  /** ISO alpha-2. */
  readonly country?: string;
}

/** The result of {@link enrichProfile}. */
export interface EnrichmentResult {
  readonly profile: LeadProfile;
  /** Profile fields that were filled or changed, in a stable order; empty when nothing changed. */
  readonly changed: string[];
}

/** Fields enrichment may set, in the order they are reported. */
const ENRICHED_FIELDS = [
  'isFreeMail',
  'isDisposable',
  'companyDomain',
  'phoneCountry',
  'company',
  'companySize',
  'industry',
  'country',
  'timezone',
] as const satisfies readonly (keyof LeadProfile)[];

/**
 * Enriches a profile: free-mail and disposable flags from the email, the company domain (email,
 * then website), the phone's country, provider company facts, the country (given, else phone,
 * else provider) and the time zone from the country.
 */
export function enrichProfile(profile: LeadProfile, provider?: ProviderFacts): EnrichmentResult {
  const next: LeadProfile = { ...profile };

  // The free-mail and disposable lists ship with the code; re-deriving keeps old leads current.
  const email = profile.email === undefined ? undefined : emailFacts(profile.email);
  if (email) {
    next.isFreeMail = email.isFreeMail;
    next.isDisposable = email.isDisposable;
  }
  // A company domain is never a free-mail one, even if it was stored before the lists knew it.
  if (email?.isFreeMail && next.companyDomain === email.domain) delete next.companyDomain;
  if (next.companyDomain === undefined) {
    const fromWebsite = profile.website === undefined ? undefined : domainFromWebsite(profile.website);
    const derived =
      email?.companyDomain ??
      (fromWebsite !== undefined && !isFreeMailDomain(fromWebsite) ? fromWebsite : undefined);
    if (derived !== undefined) next.companyDomain = derived;
  }

  if (
    next.phoneCountry === undefined &&
    next.phone !== undefined &&
    next.phoneValid !== false &&
    (next.phoneRaw === undefined || isInternationalFormat(next.phoneRaw))
  ) {
    // A valid number is stored in E.164, which carries its own country; but a number typed
    // without one and valid only under the client's default country says nothing about the lead.
    const parsed = normalisePhone(next.phone);
    if (parsed?.phoneValid && parsed.phoneCountry !== undefined) next.phoneCountry = parsed.phoneCountry;
  }

  if (provider) {
    if (next.company === undefined && provider.company !== undefined) next.company = provider.company;
    if (next.companySize === undefined && provider.companySize !== undefined)
      next.companySize = provider.companySize;
    if (next.industry === undefined && provider.industry !== undefined) next.industry = provider.industry;
  }

  next.country ??= next.phoneCountry ?? provider?.country;
  if (next.timezone === undefined && next.country !== undefined) {
    const timezone = defaultTimezone(next.country);
    if (timezone !== undefined) next.timezone = timezone;
  }

  const changed = ENRICHED_FIELDS.filter((field) => next[field] !== profile[field]);
  return { profile: changed.length === 0 ? profile : next, changed };
}

/**
 * Normalises the raw fields of a provider response into {@link ProviderFacts}: texts cleaned
 * and cut to the profile's limits, a company size read like a form answer ("201-500" → 201),
 * a country name or code turned into ISO alpha-2. Values that cannot be read are left out.
 */
export function providerFacts(raw: {
  company?: string | undefined;
  companySize?: number | string | undefined;
  industry?: string | undefined;
  country?: string | undefined;
}): ProviderFacts {
  const company = raw.company === undefined ? undefined : cleanText(raw.company, TEXT_LIMITS.company);
  const industry = raw.industry === undefined ? undefined : cleanText(raw.industry, TEXT_LIMITS.industry);
  // Numbers go through the same reader as strings, so both get the same upper bound; beyond
  // 1e15 `String()` switches to exponent notation, which is not a head count anyway.
  const companySize =
    typeof raw.companySize === 'number'
      ? Number.isFinite(raw.companySize) && raw.companySize >= 0 && raw.companySize < 1e15
        ? parseCompanySize(String(Math.floor(raw.companySize)))
        : undefined
      : raw.companySize === undefined
        ? undefined
        : parseCompanySize(raw.companySize);
  const country = raw.country === undefined ? undefined : normaliseCountry(raw.country);
  return {
    ...(company ? { company } : {}),
    ...(companySize !== undefined ? { companySize } : {}),
    ...(industry ? { industry } : {}),
    ...(country !== undefined ? { country } : {}),
  };
}
