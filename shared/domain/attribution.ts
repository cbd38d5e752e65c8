/** Channel attribution: which marketing channel a lead came through, from its provider, UTM tags, referrer and landing page. */

import { compactKey } from './submission';

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
 * 6. nothing → `direct`, except for imported lists (`import`), whose channel nothing says: `other`.
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
  return provider === 'import' ? 'other' : 'direct';
}
