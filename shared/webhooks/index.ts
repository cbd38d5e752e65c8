import type { ClientConfig } from '../config/schema';
import { compactKey } from '../domain/submission';
import { parseCalcom, verifyCalcom } from './calcom';
import { parseCalendly, verifyCalendly } from './calendly';
import type { SignatureCheck, WebhookPayload, WebhookRequest } from './common';
import { parseGeneric, verifyGeneric } from './generic';
import { parseGoogleAds, verifyGoogleAds } from './google-ads';
import { parseLinkedIn, verifyLinkedIn } from './linkedin';
import { parseMeta, verifyMeta } from './meta';
import { parseTypeform, verifyTypeform } from './typeform';
import { parseUnbounce, verifyUnbounce } from './unbounce';

/**
 * The webhook providers the pipeline accepts at `POST /webhooks/{provider}`, each with one pure
 * adapter: how a delivery is authenticated, which key of the integrations secret that takes,
 * and how the body becomes leads or a booking. The handler does the I/O around them.
 */

export * from './calcom';
export * from './calendly';
export * from './common';
export * from './generic';
export * from './google-ads';
export * from './linkedin';
export * from './meta';
export * from './typeform';
export * from './unbounce';

/** Provider ids: the URL path segment, and the lead's `source.provider`. */
export const WEBHOOK_PROVIDERS = [
  'google_ads',
  'meta',
  'typeform',
  'unbounce',
  'calendly',
  'calcom',
  'linkedin',
  'generic',
] as const;
export type WebhookProvider = (typeof WEBHOOK_PROVIDERS)[number];

/** Key of the integrations secret that authenticates a provider's deliveries. */
export type WebhookSecretName =
  | 'googleAdsKey'
  | 'metaAppSecret'
  | 'typeformSecret'
  | 'calendlySigningKey'
  | 'calcomSecret'
  | 'linkedinClientSecret'
  | 'signingKey';

type WebhooksConfig = ClientConfig['webhooks'];

/** One provider's adapter. */
export interface WebhookAdapter {
  readonly provider: WebhookProvider;
  /** Its switch in `clients/<name>.yaml`: `webhooks.<configKey>.enabled`. */
  readonly configKey: keyof WebhooksConfig;
  /** The integrations-secret key its deliveries are verified with. */
  readonly secret: WebhookSecretName;
  /** Is this delivery authentic? Constant-time; `secret` is never empty here. */
  verify(request: WebhookRequest, secret: string, now: Date): SignatureCheck;
  /** What the (verified) delivery says. @throws InvalidInputError naming the bad field. */
  parse(request: WebhookRequest, config: WebhooksConfig): WebhookPayload;
}

/** Every adapter, by provider. */
export const WEBHOOK_ADAPTERS: Readonly<Record<WebhookProvider, WebhookAdapter>> = {
  google_ads: {
    provider: 'google_ads',
    configKey: 'googleAds',
    secret: 'googleAdsKey',
    verify: (request, secret) => verifyGoogleAds(request, secret),
    parse: (request) => parseGoogleAds(request),
  },
  meta: {
    provider: 'meta',
    configKey: 'meta',
    secret: 'metaAppSecret',
    verify: (request, secret) => verifyMeta(request, secret),
    parse: (request) => parseMeta(request),
  },
  typeform: {
    provider: 'typeform',
    configKey: 'typeform',
    secret: 'typeformSecret',
    verify: (request, secret) => verifyTypeform(request, secret),
    parse: (request) => parseTypeform(request),
  },
  unbounce: {
    provider: 'unbounce',
    configKey: 'unbounce',
    secret: 'signingKey',
    verify: (request, secret) => verifyUnbounce(request, secret),
    parse: (request) => parseUnbounce(request),
  },
  calendly: {
    provider: 'calendly',
    configKey: 'calendly',
    secret: 'calendlySigningKey',
    verify: (request, secret, now) => verifyCalendly(request, secret, now),
    parse: (request) => parseCalendly(request),
  },
  calcom: {
    provider: 'calcom',
    configKey: 'calcom',
    secret: 'calcomSecret',
    verify: (request, secret) => verifyCalcom(request, secret),
    parse: (request) => parseCalcom(request),
  },
  linkedin: {
    provider: 'linkedin',
    configKey: 'linkedin',
    // The app's client secret: it signs deliveries and the endpoint validation.
    secret: 'linkedinClientSecret',
    verify: (request, secret) => verifyLinkedIn(request, secret),
    parse: (request) => parseLinkedIn(request),
  },
  generic: {
    provider: 'generic',
    configKey: 'generic',
    secret: 'signingKey',
    verify: (request, secret) => verifyGeneric(request, secret),
    parse: (request, config) => parseGeneric(request, config.generic.fieldMap),
  },
};

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
