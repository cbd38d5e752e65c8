import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HMAC-signed tokens tied to a lead: unsubscribe links and the visitor token issued at capture.
 * A token is `<base64url(payload)>.<base64url(hmac-sha256)>`; the payload names its purpose so
 * an unsubscribe token can never be replayed as a visitor token and vice versa.
 */

/** `next`: the short-lived next-step URL of the thank-you page (instant booking). */
export type TokenPurpose = 'unsubscribe' | 'visitor' | 'next';

export interface TokenPayload {
  /** What the token may be used for. */
  readonly p: TokenPurpose;
  /** The lead it belongs to. */
  readonly l: string;
  /** Expiry, epoch seconds; absent for tokens that never expire (unsubscribe links must keep working). */
  readonly e?: number;
}

/** Why a token was refused; no detail is given to the caller beyond this. */
export type TokenProblem = 'malformed' | 'bad-signature' | 'wrong-purpose' | 'expired';

export type VerifiedToken = { ok: true; leadId: string } | { ok: false; problem: TokenProblem };

function mac(payload: string, key: string): Buffer {
  return createHmac('sha256', key).update(payload).digest();
}

/** Signs a token for `leadId`. `ttlSeconds` omitted means no expiry. */
export function signToken(
  purpose: TokenPurpose,
  leadId: string,
  key: string,
  now: Date,
  ttlSeconds?: number,
): string {
  const payload: TokenPayload = {
    p: purpose,
    l: leadId,
    ...(ttlSeconds !== undefined ? { e: Math.floor(now.getTime() / 1000) + ttlSeconds } : {}),
  };
  const encoded = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  return `${encoded}.${mac(encoded, key).toString('base64url')}`;
}

/** Verifies signature (constant time), purpose and expiry. */
export function verifyToken(token: string, purpose: TokenPurpose, key: string, now: Date): VerifiedToken {
  const [encoded, signature, ...rest] = token.split('.');
  if (!encoded || !signature || rest.length > 0 || token.length > 1024)
    return { ok: false, problem: 'malformed' };
  const expected = mac(encoded, key);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, problem: 'bad-signature' };
  }
  let payload: Partial<TokenPayload>;
  try {
    payload = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as Partial<TokenPayload>;
  } catch {
    return { ok: false, problem: 'malformed' };
  }
  if (payload.p !== purpose) return { ok: false, problem: 'wrong-purpose' };
  if (typeof payload.l !== 'string' || payload.l.length === 0) return { ok: false, problem: 'malformed' };
  if (payload.e !== undefined && typeof payload.e !== 'number') return { ok: false, problem: 'malformed' };
  if (payload.e !== undefined && payload.e * 1000 < now.getTime()) return { ok: false, problem: 'expired' };
  return { ok: true, leadId: payload.l };
}

/**
 * The expiry (epoch seconds) of a token that {@link verifyToken} accepted; `undefined` for a
 * token without one. Read only after verifying: an unverified payload says nothing.
 */
export function tokenExpiry(verifiedToken: string): number | undefined {
  const [encoded] = verifiedToken.split('.');
  try {
    const payload = JSON.parse(
      Buffer.from(encoded ?? '', 'base64url').toString('utf8'),
    ) as Partial<TokenPayload>;
    return typeof payload.e === 'number' ? payload.e : undefined;
  } catch {
    return undefined;
  }
}

/** SHA-256 of a canonical email, used on the suppression list so erased people stay suppressed without their address. */
export function emailHash(canonicalEmail: string): string {
  return createHash('sha256').update(canonicalEmail.trim().toLowerCase()).digest('hex');
}

/**
 * Verifies a hex HMAC-SHA256 signature of a raw body in constant time (webhook providers).
 * Pass the body as the exact bytes received when you have them: providers sign bytes, and a
 * decode/re-encode round trip is not guaranteed to reproduce them. Strings are signed as UTF-8.
 */
export function verifyHmacHex(
  body: string | Uint8Array,
  key: string,
  signatureHex: string,
  algorithm = 'sha256',
): boolean {
  const expected = createHmac(algorithm, key).update(bodyBytes(body)).digest();
  const given = Buffer.from(signatureHex, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Verifies a base64 HMAC-SHA256 signature of a raw body (bytes, or text signed as UTF-8) in constant time (e.g. Typeform). */
export function verifyHmacBase64(body: string | Uint8Array, key: string, signatureBase64: string): boolean {
  const expected = createHmac('sha256', key).update(bodyBytes(body)).digest();
  const given = Buffer.from(signatureBase64, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function bodyBytes(body: string | Uint8Array): Uint8Array {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}
