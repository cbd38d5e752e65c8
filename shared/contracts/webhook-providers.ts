/**
 * The webhook providers, as the client file knows them: each provider's switch
 * (`webhooks.<key>` in `clients/<name>.yaml`) and the provider id it turns on (the URL segment of
 * `POST /webhooks/{provider}` and the lead's `source.provider`).
 *
 * A contract between the client-file schema (`shared/config/schema-integrations.ts`, which builds
 * one `webhooks.<key>` section per entry and refuses any other key) and the webhooks registry
 * (`shared/webhooks/index.ts`, which must hold exactly one adapter per entry, with this id and
 * this switch: the compiler checks both ways). It lives here, not in the registry, because the
 * config layer may not import the adapters.
 */
export const WEBHOOK_PROVIDER_IDS = {
  googleAds: 'google_ads',
  meta: 'meta',
  typeform: 'typeform',
  unbounce: 'unbounce',
  calendly: 'calendly',
  calcom: 'calcom',
  linkedin: 'linkedin',
  generic: 'generic',
} as const;

/** A provider's switch in the client file: `webhooks.<key>.enabled`. */
export type WebhookConfigKey = keyof typeof WEBHOOK_PROVIDER_IDS;

/** Every switch, in the order of {@link WEBHOOK_PROVIDER_IDS}. */
export const WEBHOOK_CONFIG_KEYS = Object.keys(WEBHOOK_PROVIDER_IDS) as WebhookConfigKey[];
