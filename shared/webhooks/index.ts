import { WEBHOOK_PROVIDER_IDS, type WebhookConfigKey } from '../contracts/webhook-providers';
import { compactKey } from '../domain/submission';
import { calcomAdapter } from './calcom';
import { calendlyAdapter } from './calendly';
import type { WebhookAdapter, WebhooksConfig } from './common';
import { genericAdapter } from './generic';
import { googleAdsAdapter } from './google-ads';
import { linkedinAdapter } from './linkedin';
import { metaAdapter } from './meta';
import { typeformAdapter } from './typeform';
import { unbounceAdapter } from './unbounce';

/**
 * The webhook providers the pipeline accepts at `POST /webhooks/{provider}`: the registry. Each
 * provider's adapter lives in its own file (how a delivery is authenticated, which key of the
 * integrations secret that takes, how the body becomes leads or a booking, how the vendor signs);
 * this list is the one place that names them all, and every other list derives from it. The
 * handler does the I/O around them.
 */
export const WEBHOOK_REGISTRY = [
  googleAdsAdapter,
  metaAdapter,
  typeformAdapter,
  unbounceAdapter,
  calendlyAdapter,
  calcomAdapter,
  linkedinAdapter,
  genericAdapter,
] as const;

/**
 * The registry and the client file's switches (`WEBHOOK_PROVIDER_IDS`, which the config schema
 * reads) name the same providers: every switch has exactly its adapter here, with the same id.
 * A switch without an adapter, or an adapter whose id is not its switch's, does not compile (and
 * an adapter whose `configKey` is no switch fails its own `satisfies WebhookAdapter`).
 */
WEBHOOK_PROVIDER_IDS satisfies {
  readonly [K in WebhookConfigKey]: Extract<(typeof WEBHOOK_REGISTRY)[number], { configKey: K }>['provider'];
};

/** Provider ids: the URL path segment, and the lead's `source.provider`. */
export type WebhookProvider = (typeof WEBHOOK_REGISTRY)[number]['provider'];

/** Key of the integrations secret that authenticates a provider's deliveries. */
export type WebhookSecretName = (typeof WEBHOOK_REGISTRY)[number]['secret'];

/** Provider ids, in registry order. */
export const WEBHOOK_PROVIDERS: readonly WebhookProvider[] = WEBHOOK_REGISTRY.map((a) => a.provider);

/** Every adapter, by provider. */
export const WEBHOOK_ADAPTERS = Object.fromEntries(
  WEBHOOK_REGISTRY.map((a): [string, WebhookAdapter] => [a.provider, a]),
) as Readonly<Record<WebhookProvider, WebhookAdapter<WebhookProvider, WebhookSecretName>>>;

/**
 * The provider a path segment names. Spelling is forgiving (`google_ads`, `google-ads` and
 * `googleAds` are one provider) because the URL is typed by hand into each vendor's console.
 */
export function resolveProvider(segment: string | undefined): WebhookProvider | undefined {
  if (!segment) return undefined;
  const wanted = compactKey(segment);
  return WEBHOOK_PROVIDERS.find((p) => compactKey(p) === wanted);
}

/** Whether the client turned the provider on (`webhooks.<provider>.enabled`). */
export function isProviderEnabled(config: WebhooksConfig, provider: WebhookProvider): boolean {
  return config[WEBHOOK_ADAPTERS[provider].configKey].enabled;
}
