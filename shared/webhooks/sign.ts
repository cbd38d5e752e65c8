import type { WebhookSigner } from './common';
import { WEBHOOK_ADAPTERS, WEBHOOK_PROVIDERS, type WebhookProvider } from './index';

/**
 * The sending side of each provider's authentication, for the offline demo, the tests and the
 * chaos harness: each is the mirror of the adapter's `verify`, so a delivery signed here is the
 * one the vendor would send. Each adapter declares its own `sign`, so a new provider without a
 * signer does not compile.
 */
export const WEBHOOK_SIGNERS = Object.fromEntries(
  WEBHOOK_PROVIDERS.map((provider) => [provider, WEBHOOK_ADAPTERS[provider].sign]),
) as Readonly<Record<WebhookProvider, WebhookSigner>>;
