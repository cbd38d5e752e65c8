import type { ClientConfig } from '../config/schema';
import { type Caller, managedTeamsOf, ROLES, type Role } from '../domain/access';
import { NotAllowedError } from '../domain/errors';
import { NotAuthenticatedError } from './errors';

export { NotAuthenticatedError } from './errors';

import type { ApiEvent } from './api';

/**
 * Who is calling the reps' API. API Gateway's JWT authorizer has already verified the Cognito
 * token (signature, issuer, audience, expiry) and passes its claims in
 * `requestContext.authorizer.jwt.claims`; this module only reads them. Roles come from the
 * `cognito:groups` claim; the caller's rep is the configured rep named by the token's
 * {@link REP_ID_CLAIM}. That attribute is written by admins only (the reps' app client cannot write
 * it), so a rep cannot become a colleague. The `email` claim is never used to pick the rep: a
 * user may change their own email, and a changed address would otherwise name someone else.
 */

/** The Cognito custom attribute naming a login's rep (`reps[].id` in the client file); admin-written only. */
export const REP_ID_ATTRIBUTE = 'repId';
/** The token claim of {@link REP_ID_ATTRIBUTE}, as Cognito puts custom attributes in ID tokens. */
export const REP_ID_CLAIM = `custom:${REP_ID_ATTRIBUTE}`;

/**
 * Parses the `cognito:groups` claim. The HTTP API JWT authorizer flattens array claims into a
 * string such as `[admin rep]`; other paths deliver a real array, a JSON array string
 * (`["admin","rep"]`) or a comma-separated list. All of them give the same group names.
 */
export function parseGroupsClaim(claim: unknown): string[] {
  if (Array.isArray(claim))
    return claim.filter((g): g is string => typeof g === 'string').map((g) => g.trim());
  if (typeof claim !== 'string') return [];
  const text = claim.trim();
  if (text.startsWith('[') && text.includes('"')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) return parseGroupsClaim(parsed);
    } catch {
      // Not JSON after all: fall through to the flattened form.
    }
  }
  return text
    .replace(/^\[|\]$/g, '')
    .split(/[\s,]+/)
    .map((g) => g.replace(/^["']|["']$/g, '').trim())
    .filter((g) => g.length > 0);
}

/** The verified JWT claims API Gateway passes to the function, or undefined. */
export function jwtClaims(event: ApiEvent): Record<string, unknown> | undefined {
  const context = event.requestContext as unknown as {
    authorizer?: { jwt?: { claims?: Record<string, unknown> } };
  };
  const claims = context.authorizer?.jwt?.claims;
  return claims && typeof claims === 'object' ? claims : undefined;
}

/**
 * Resolves the caller from the request's claims and the client config.
 * @throws NotAuthenticatedError without claims or a subject; NotAllowedError when the caller is
 * in none of the pipeline's groups, or is in the `rep` / `manager` group without a configured rep.
 */
export function callerFromEvent(event: ApiEvent, config: Pick<ClientConfig, 'reps' | 'teams'>): Caller {
  const claims = jwtClaims(event);
  if (!claims) throw new NotAuthenticatedError('the request carries no verified token claims');
  return callerFromClaims(claims, config);
}

/** {@link callerFromEvent} for already-extracted claims. */
export function callerFromClaims(
  claims: Record<string, unknown>,
  config: Pick<ClientConfig, 'reps' | 'teams'>,
): Caller {
  const subject = typeof claims.sub === 'string' ? claims.sub : undefined;
  if (!subject) throw new NotAuthenticatedError('the token has no "sub" claim');
  const roles = parseGroupsClaim(claims['cognito:groups']).filter((g): g is Role =>
    (ROLES as readonly string[]).includes(g),
  );
  if (roles.length === 0)
    throw new NotAllowedError(
      `Your login is in none of the groups ${ROLES.join(', ')}: ask an admin to add you`,
    );
  const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : undefined;
  const claimed = claims[REP_ID_CLAIM];
  const claimedRepId = typeof claimed === 'string' && claimed.trim() !== '' ? claimed.trim() : undefined;
  const rep = claimedRepId ? config.reps.find((r) => r.id === claimedRepId) : undefined;
  if (claimedRepId && !rep)
    throw new NotAllowedError(`Your login names rep "${claimedRepId}", which is not in the client config`);
  if (!rep && !roles.includes('admin'))
    throw new NotAllowedError(
      `Your login has no ${REP_ID_CLAIM} attribute naming a rep in the client config: ask an admin to set it`,
    );
  return {
    subject,
    ...(email ? { email } : {}),
    roles,
    ...(rep ? { repId: rep.id, teamId: rep.team } : {}),
    managedTeams: managedTeamsOf(rep, roles, config),
  };
}
