import {
  type SignatureCheck,
  verifyWebhookToken,
  WEBHOOK_TOKEN_HEADER,
  type WebhookRequest,
  type WebhookSigner,
  webhookToken,
} from './common';

/**
 * How webhook adapters check that a delivery is the provider's: a signature in one header, or
 * (for senders that cannot sign) the shared token derived for the provider.
 */

/**
 * A provider that signs each delivery in one header (Cal.com, LinkedIn, Meta, Typeform): the
 * header, the form its value must take, and how its digest is checked against the signed bytes.
 */
export interface SignatureHeader {
  /** The header's name, lower-case (as requests carry it). */
  readonly header: string;
  /** The header's name as the provider documents it, for the refusal's reason. */
  readonly shownAs: string;
  /** The whole (trimmed) value, its digest in the first group; anything else is malformed. */
  readonly format: RegExp;
  /** Whether `digest` is the signature of this request's bytes under `secret`, in constant time. */
  readonly matches: (body: Uint8Array, secret: string, digest: string) => boolean;
}

/**
 * Checks a request signed in one header: missing, malformed, or not matching the body each
 * refused with a short reason safe to show the caller.
 */
export function verifySignatureHeader(
  request: WebhookRequest,
  secret: string,
  signature: SignatureHeader,
): SignatureCheck {
  const value = request.headers[signature.header];
  if (!value) return { ok: false, reason: `missing ${signature.shownAs} header` };
  const digest = signature.format.exec(value.trim())?.[1];
  if (!digest) return { ok: false, reason: `malformed ${signature.shownAs} header` };
  return signature.matches(request.body, secret, digest)
    ? { ok: true }
    : { ok: false, reason: 'signature does not match the request body' };
}

/**
 * The derived shared token of one provider (`webhookToken(signingKey, provider)`), for senders
 * that sign nothing (generic JSON, Unbounce): the check, and the delivery a sender would make.
 */
export function sharedToken(provider: string): {
  readonly verify: (request: WebhookRequest, signingKey: string) => SignatureCheck;
  readonly sign: WebhookSigner;
} {
  return {
    verify: (request, signingKey) => verifyWebhookToken(request, signingKey, provider),
    sign: (body, signingKey) => ({
      body,
      headers: { [WEBHOOK_TOKEN_HEADER]: webhookToken(signingKey, provider) },
    }),
  };
}
