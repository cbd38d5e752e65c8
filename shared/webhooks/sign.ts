import { createHmac } from 'node:crypto';
import { CALCOM_SIGNATURE_HEADER } from './calcom';
import { CALENDLY_SIGNATURE_HEADER } from './calendly';
import { WEBHOOK_TOKEN_HEADER, webhookToken } from './common';
import { GENERIC_PROVIDER } from './generic';
import type { WebhookProvider } from './index';
import { LINKEDIN_SIGNATURE_HEADER } from './linkedin';
import { META_SIGNATURE_HEADER } from './meta';
import { TYPEFORM_SIGNATURE_HEADER } from './typeform';
import { UNBOUNCE_PROVIDER } from './unbounce';

/** A delivery as the vendor would send it: the body (Google Ads carries its key inside) and headers. */
export interface SignedDelivery {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Signs `body` the way `provider` does, with `secret` (the key the adapter verifies with). */
export type WebhookSigner = (body: string, secret: string, now: Date) => SignedDelivery;

const hmac = (secret: string, data: string, encoding: 'hex' | 'base64') =>
  createHmac('sha256', secret).update(data, 'utf8').digest(encoding);

/**
 * The sending side of each provider's authentication, for the offline demo, the tests and the
 * chaos harness: each is the mirror of the adapter's `verify`, so a delivery signed here is the
 * one the vendor would send. Keyed by provider, so a new provider without a signer does not
 * compile.
 */
export const WEBHOOK_SIGNERS: Readonly<Record<WebhookProvider, WebhookSigner>> = {
  google_ads: (body, secret) => {
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
  meta: (body, secret) => ({
    body,
    headers: { [META_SIGNATURE_HEADER]: `sha256=${hmac(secret, body, 'hex')}` },
  }),
  typeform: (body, secret) => ({
    body,
    headers: { [TYPEFORM_SIGNATURE_HEADER]: `sha256=${hmac(secret, body, 'base64')}` },
  }),
  unbounce: (body, secret) => ({
    body,
    headers: { [WEBHOOK_TOKEN_HEADER]: webhookToken(secret, UNBOUNCE_PROVIDER) },
  }),
  calendly: (body, secret, now) => {
    const t = Math.floor(now.getTime() / 1000);
    return {
      body,
      headers: { [CALENDLY_SIGNATURE_HEADER]: `t=${t},v1=${hmac(secret, `${t}.${body}`, 'hex')}` },
    };
  },
  calcom: (body, secret) => ({ body, headers: { [CALCOM_SIGNATURE_HEADER]: hmac(secret, body, 'hex') } }),
  linkedin: (body, secret) => ({
    body,
    headers: { [LINKEDIN_SIGNATURE_HEADER]: hmac(secret, `hmacsha256=${body}`, 'hex') },
  }),
  generic: (body, secret) => ({
    body,
    headers: { [WEBHOOK_TOKEN_HEADER]: webhookToken(secret, GENERIC_PROVIDER) },
  }),
};
