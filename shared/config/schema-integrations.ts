import { z } from 'zod';
import { WEBHOOK_CONFIG_KEYS, type WebhookConfigKey } from '../contracts/webhook-providers';
import { fieldPathSegments } from '../domain/field-path';
import { httpsOrigin, url } from './schema-primitives';
/** How leads come in: capture forms, webhook providers, enrichment and the tracking script. */

export const CaptureSchema = z.strictObject({
  /** Origins allowed to call the API from the browser (CORS). */
  allowedOrigins: z.array(httpsOrigin).min(1),
  /**
   * Where a plain HTML form is sent after a successful post. Without one, the API serves the
   * thank-you page itself (`GET /next/{token}`), which can offer a sales-ready lead its rep's
   * scheduling page. @default - the API's own thank-you page
   */
  thankYouUrl: url.optional(),
  /** URL prefixes a form's `redirect` field may point at; anything else falls back to `thankYouUrl`. */
  redirectAllowList: z.array(url).default([]),
  /** Hidden field that humans leave empty; not the name of a real field. @default "hp_website" */
  honeypotField: z.string().min(1).default('hp_website'),
  /** Forms submitted faster than this after render (field `_ts`) are treated as bots. @default 3 */
  minSecondsToSubmit: z.number().min(0).max(600).default(3),
  /** Largest accepted body. @default 16384 */
  maxBodyBytes: z
    .number()
    .int()
    .min(1024)
    .max(256 * 1024)
    .default(16_384),
  /** Unknown fields kept per lead in `extra`. @default 25 */
  maxExtraFields: z.number().int().min(0).max(100).default(25),
  /** Identical submissions within this window return the first response. @default 24 */
  idempotencyHours: z.number().int().min(1).max(168).default(24),
  /**
   * Posted field name → the lead field it holds (`companySize`, `jobTitle`...) or the `extra`
   * key to keep it under (`budget_range`), for names no alias covers, such as Salesforce
   * Web-to-Lead custom fields (`00N5e00000AbCdE: budget_range`). @default {}
   */
  fieldMap: z
    .record(
      z.string().min(1).max(100),
      z
        .string()
        .regex(
          /^[A-Za-z][A-Za-z0-9_]{0,39}$/,
          'a lead field such as "companySize", or an extra key such as "budget_range" (letters, digits, _)',
        ),
    )
    .default({}),
});

/**
 * What a provider's switch holds besides `enabled`, for the providers that need more. Every other
 * provider of `WEBHOOK_PROVIDER_IDS` (`shared/contracts/webhook-providers.ts`) gets `{ enabled }` alone, so a new provider adds no
 * line here.
 */
const WEBHOOK_SETTINGS = {
  meta: {
    /** Graph API version used to fetch lead fields. @default "v21.0" */
    graphApiVersion: z
      .string()
      .regex(/^v\d+\.\d+$/)
      .default('v21.0'),
  },
  linkedin: {
    /** `LinkedIn-Version` of the Lead Sync API calls (YYYYMM). @default "202509" */
    apiVersion: z
      .string()
      .regex(/^\d{6}$/, 'a LinkedIn API version such as "202509" (YYYYMM)')
      .default('202509'),
  },
  /**
   * Generic JSON webhooks: lead field → path in the posted body, dotted (`contact.email`) or a
   * list of segments; a dot inside a key is escaped (`1\\.3`) or the path written as a list
   * (`["1.3"]`), for senders such as Gravity Forms whose keys contain dots.
   */
  generic: {
    fieldMap: z
      .record(
        z.string().min(1),
        z
          .union([z.string(), z.array(z.string())], {
            error: 'a path: dotted text such as "contact.email", or a list of keys such as ["1.3"]',
          })
          .superRefine((path, ctx) => {
            const reading = fieldPathSegments(path);
            if (!reading.ok) ctx.addIssue({ code: 'custom', message: reading.reason });
          }),
      )
      .default({}),
  },
} as const satisfies Partial<Record<WebhookConfigKey, z.ZodRawShape>>;

/** One provider's switch: off unless the client file turns it on, its settings defaulted. */
function webhookSwitch<const S extends z.ZodRawShape>(settings: S) {
  const section = z.strictObject({ enabled: z.boolean().default(false), ...settings });
  // Every setting has a default, so `{}` is a valid input; the compiler cannot see that through `S`.
  return section.prefault({} as z.input<typeof section>);
}

type SettingsOf<K extends WebhookConfigKey> = K extends keyof typeof WEBHOOK_SETTINGS
  ? (typeof WEBHOOK_SETTINGS)[K]
  : Record<never, never>;

/**
 * The `webhooks` section: one switch per provider of `WEBHOOK_PROVIDER_IDS` (`shared/contracts/webhook-providers.ts`), and no other
 * key (a client file that turns on a provider the pipeline does not have fails naming it).
 */
export const WebhooksSchema = z.strictObject(
  Object.fromEntries(
    WEBHOOK_CONFIG_KEYS.map((key) => [
      key,
      webhookSwitch((WEBHOOK_SETTINGS as Partial<Record<WebhookConfigKey, z.ZodRawShape>>)[key] ?? {}),
    ]),
  ) as { [K in WebhookConfigKey]: ReturnType<typeof webhookSwitch<SettingsOf<K>>> },
);

export const EnrichmentSchema = z.strictObject({
  /** Optional HTTP enrichment provider (e.g. a Clearbit-style company lookup). Off unless configured. */
  provider: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** `{domain}` and `{email}` are replaced. */
      urlTemplate: url,
      /** @default 1500 */
      timeoutMs: z.number().int().min(100).max(10_000).default(1500),
    })
    .optional(),
});

export const TrackingSchema = z.strictObject({
  /** Lifetime of the visitor token issued at capture. @default 365 */
  tokenTtlDays: z.number().int().min(1).max(730).default(365),
  /** Events from visitors who never convert are deleted after this. @default 30 */
  anonymousRetentionDays: z.number().int().min(1).max(365).default(30),
  /** Paths that count as the pricing page. @default ["/pricing"] */
  pricingPaths: z.array(z.string().startsWith('/')).default(['/pricing']),
});
