import type { SignatureCheck, WebhookRequest } from './common';

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
