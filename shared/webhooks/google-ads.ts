import { z } from 'zod';
import {
  bodyText,
  boundedId,
  definedOnly,
  ProviderIdSchema,
  parseJsonObject,
  parseWith,
  type SignatureCheck,
  safeEqual,
  type WebhookAdapter,
  type WebhookLead,
  type WebhookPayload,
  type WebhookRequest,
} from './common';

/**
 * Google Ads lead form assets (formerly lead form extensions). Google POSTs one JSON lead per
 * request and authenticates it with the `google_key` the advertiser typed into the form's
 * webhook settings, carried in the body (there is no signature header). Google expects HTTP 200;
 * anything else is a failed delivery. Test leads sent from the Google Ads UI carry `is_test`.
 *
 * @see https://developers.google.com/google-ads/webhook/docs/implementation
 */

const ColumnSchema = z.looseObject({
  column_id: z.string().optional(),
  column_name: z.string().optional(),
  string_value: z.string().optional(),
});

/** The documented `WebhookLead` message; unknown properties are tolerated (Google adds fields over time). */
export const GoogleAdsLeadSchema = z.looseObject({
  lead_id: ProviderIdSchema,
  user_column_data: z.array(ColumnSchema).default([]),
  api_version: z.string().optional(),
  form_id: ProviderIdSchema.optional(),
  campaign_id: ProviderIdSchema.optional(),
  adgroup_id: ProviderIdSchema.optional(),
  creative_id: ProviderIdSchema.optional(),
  google_key: z.string().optional(),
  is_test: z.boolean().optional(),
  gcl_id: z.string().optional(),
});
export type GoogleAdsLead = z.output<typeof GoogleAdsLeadSchema>;

/**
 * Field name for each standard column id. The order matters: when a form asks for both a work
 * and a personal address, the first non-empty one becomes the lead's email (B2B: the work one)
 * and the other is kept in `extra`.
 */
const COLUMN_FIELDS: ReadonlyArray<readonly [columnId: string, field: string]> = [
  ['WORK_EMAIL', 'work_email'],
  ['EMAIL', 'email'],
  ['FULL_NAME', 'full_name'],
  ['FIRST_NAME', 'first_name'],
  ['LAST_NAME', 'last_name'],
  ['PHONE_NUMBER', 'phone'],
  ['WORK_PHONE', 'telephone'],
  ['COMPANY_NAME', 'company'],
  ['JOB_TITLE', 'job_title'],
  ['COUNTRY', 'country'],
  ['CITY', 'city'],
  ['REGION', 'region'],
  ['POSTAL_CODE', 'postal_code'],
  ['STREET_ADDRESS', 'street_address'],
];
const FIELD_BY_COLUMN = new Map(COLUMN_FIELDS);
const COLUMN_RANK = new Map(COLUMN_FIELDS.map(([id], i) => [id, i]));

/** Checks `google_key` against the configured key, in constant time. */
export function verifyGoogleAds(request: WebhookRequest, googleAdsKey: string): SignatureCheck {
  let key: unknown;
  try {
    key = parseJsonObject(bodyText(request)).google_key;
  } catch {
    return { ok: false, reason: 'missing google_key' };
  }
  if (typeof key !== 'string' || key === '') return { ok: false, reason: 'missing google_key' };
  return safeEqual(key, googleAdsKey) ? { ok: true } : { ok: false, reason: 'google_key does not match' };
}

/** Reads a Google Ads lead. @throws InvalidInputError naming the bad field. */
export function parseGoogleAds(request: WebhookRequest): WebhookPayload {
  const lead = parseWith(GoogleAdsLeadSchema, parseJsonObject(bodyText(request)));
  return { kind: 'leads', leads: [googleAdsLead(lead)] };
}

/** Maps a Google Ads lead to intake fields. */
export function googleAdsLead(lead: GoogleAdsLead): WebhookLead {
  const columns = [...lead.user_column_data].sort(
    (a, b) => rank(a.column_id) - rank(b.column_id), // stable: custom questions keep their order
  );
  const fields: Record<string, unknown> = {};
  for (const column of columns) {
    const value = column.string_value;
    if (value === undefined || value.trim() === '') continue;
    const id = column.column_id?.trim() ?? '';
    // Custom questions have no standard id: their human-readable name makes the better extra key.
    const field = FIELD_BY_COLUMN.get(id.toUpperCase()) ?? column.column_name?.trim() ?? id.toLowerCase();
    if (field === '' || field in fields) continue;
    fields[field] = value;
  }
  Object.assign(
    fields,
    definedOnly({
      form_id: lead.form_id,
      gclid: lead.gcl_id,
      google_campaign_id: lead.campaign_id,
      google_adgroup_id: lead.adgroup_id,
      google_creative_id: lead.creative_id,
    }),
  );
  return definedOnly({
    fields,
    externalId: boundedId(lead.lead_id),
    isTest: lead.is_test === true ? true : undefined,
  });
}

function rank(columnId: string | undefined): number {
  return COLUMN_RANK.get(columnId?.trim().toUpperCase() ?? '') ?? COLUMN_FIELDS.length;
}

/** The google-ads adapter, listed once in the registry (`index.ts`). */
export const googleAdsAdapter = {
  provider: 'google_ads',
  configKey: 'googleAds',
  secret: 'googleAdsKey',
  bindsBody: false,
  verify: (request, secret) => verifyGoogleAds(request, secret),
  parse: (request) => parseGoogleAds(request),
  sign: (body, secret) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    // Google Ads has no header: the key travels in the JSON body, so only an object can carry it.
    const withKey =
      parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
        ? JSON.stringify({ ...parsed, google_key: secret })
        : body;
    return { body: withKey, headers: {} };
  },
} as const satisfies WebhookAdapter;
