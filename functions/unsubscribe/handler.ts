import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { EventPublisher } from '../../shared/adapters/event-publisher';
import { SecretsManagerIntegrations } from '../../shared/adapters/integrations-secret';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { clientConfig } from '../../shared/config/runtime';
import type { ClientConfig } from '../../shared/config/schema';
import { env } from '../../shared/contracts/function-env';
import { verifyToken } from '../../shared/domain/tokens';
import { type ApiEvent, type ApiResult, escapeHtml, html, mediaType, rawBody } from '../../shared/http/api';
import type { Problem } from '../../shared/http/errors';
import { httpRoute } from '../../shared/http/middleware';
import { htmlPage } from '../../shared/http/pages';
import type { IntegrationsSecretReader } from '../../shared/ports/integrations-secret';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger, metrics } from '../../shared/runtime/observability';
import { readSigningKey } from '../../shared/services/lead-email';
import {
  type UnsubscribePublisher,
  type UnsubscribeStore,
  unsubscribeByLink,
} from '../../shared/services/unsubscribe';

/**
 * UNSUBSCRIBE: `GET` and `POST /unsubscribe?token=…` (public), the link in every email's footer
 * and its `List-Unsubscribe` header.
 *
 * - `GET` only shows a confirmation page with a button: link-following security scanners and
 *   prefetchers open every URL in an email, so a GET must never unsubscribe anyone.
 * - `POST` (the button, or a mailbox provider's RFC 8058 one-click POST with the body
 *   `List-Unsubscribe=One-Click`) verifies the HMAC token and unsubscribes: suppression list,
 *   `lead.unsubscribed`, consent withdrawn, an `unsubscribed` activity, `Lead Unsubscribed`
 *   (`via: link` or `one-click`). Repeating it shows the same confirmation and publishes nothing.
 *
 * The token travels in the query string (`?token=`) or, for the form, a `token` field. A bad
 * token answers 400 "this link is not valid" without saying why. Pages are self-contained
 * (inline style, no scripts, images or external resources) and every value is escaped; the
 * token-bearing URL is kept out of Referer headers and caches.
 */

export interface Deps {
  readonly repository: UnsubscribeStore;
  readonly publisher: UnsubscribePublisher;
  readonly secrets: IntegrationsSecretReader;
  readonly config: Pick<ClientConfig, 'client' | 'email'>;
  readonly now: () => Date;
  readonly newId?: () => string;
}

/** Largest body read; the real ones are a few dozen bytes. */
const MAX_BODY_BYTES = 8 * 1024;

/** Headers on every page: no caching or indexing of token URLs, no Referer leaking the token. */
const PAGE_HEADERS = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-robots-tag': 'noindex, nofollow',
  'x-frame-options': 'DENY',
};

function footer(config: Deps['config']): string {
  return `<p><small>${escapeHtml(config.email.fromName)} &middot; ${escapeHtml(config.email.postalAddress)}</small></p>`;
}

/** The GET page: a form that POSTs the token back. */
export function confirmPage(token: string, config: Deps['config']): string {
  const name = escapeHtml(config.client.displayName);
  return htmlPage(
    'Unsubscribe',
    `<p>Do you want to stop receiving emails from ${name}?</p>
<form method="post" action="">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<button type="submit">Unsubscribe</button>
</form>
${footer(config)}`,
  );
}

/** The page after a POST, the first time and every time after. */
export function donePage(config: Deps['config']): string {
  const name = escapeHtml(config.client.displayName);
  return htmlPage(
    'You are unsubscribed',
    `<p>You will not receive any more marketing emails from ${name}. If you write to us or book a meeting, we will still reply.</p>
${footer(config)}`,
  );
}

/** The page for a link that does not verify; deliberately silent about why. */
export function invalidLinkPage(config: Deps['config']): string {
  return htmlPage(
    'This link is not valid',
    `<p>We could not read this unsubscribe link. Please use the link in the most recent email from ${escapeHtml(config.client.displayName)}, or reply to that email and ask us to unsubscribe you.</p>
${footer(config)}`,
  );
}

function unavailablePage(config: Deps['config']): string {
  return htmlPage(
    'Please try again',
    `<p>We could not complete your request just now. Please try again in a minute.</p>
${footer(config)}`,
  );
}

/** The body's fields: form-encoded, or the `name`/value pairs of a multipart body (RFC 8058 allows both). */
function bodyFields(event: ApiEvent): Map<string, string> {
  const fields = new Map<string, string>();
  const text = rawBody(event, MAX_BODY_BYTES);
  const type = mediaType(event);
  if (type === 'multipart/form-data') {
    for (const m of text.matchAll(/name="([^"]{1,100})"\r?\n(?:[^\r\n]*\r?\n)*?\r?\n([^\r\n]*)/g)) {
      if (m[1] !== undefined && m[2] !== undefined) fields.set(m[1], m[2].trim());
    }
    return fields;
  }
  for (const [key, value] of new URLSearchParams(text)) if (!fields.has(key)) fields.set(key, value);
  return fields;
}

export function createHandler(deps: Deps) {
  const respond = (status: number, body: string, extra: Record<string, string> = {}) =>
    html(status, body, { ...PAGE_HEADERS, ...extra });
  // Every answer is a page. A dependency failure says "try again" (the person can retry; 5 s
  // because a person, not a program, retries); any other problem (a body over the limit) shows
  // the same page as a link that does not verify, and says nothing about why.
  const page = (problem: Problem): ApiResult => {
    if (problem.status !== 503) return respond(problem.status, invalidLinkPage(deps.config));
    logger.warn('Unsubscribe failed on a dependency; the person can retry', { problem: problem.body });
    return respond(503, unavailablePage(deps.config), { 'retry-after': '5' });
  };
  return httpRoute(
    async (event) => {
      const method = event.requestContext?.http?.method?.toUpperCase() ?? 'GET';
      if (method !== 'GET' && method !== 'POST')
        return respond(405, invalidLinkPage(deps.config), { allow: 'GET, POST' });
      const fields = method === 'POST' ? bodyFields(event) : new Map<string, string>();
      const token = event.queryStringParameters?.token ?? fields.get('token') ?? '';
      const signingKey = await readSigningKey(deps.secrets);
      const verified = verifyToken(token, 'unsubscribe', signingKey, deps.now());
      if (!verified.ok) {
        logger.warn('Unsubscribe link refused', { problem: verified.problem, method });
        metrics.addMetric('UnsubscribeLinkInvalid', MetricUnit.Count, 1);
        return respond(400, invalidLinkPage(deps.config));
      }
      if (method === 'GET') return respond(200, confirmPage(token, deps.config));

      const via = fields.get('List-Unsubscribe') === 'One-Click' ? 'one-click' : 'link';
      const result = await unsubscribeByLink(verified.leadId, via, {
        store: deps.repository,
        publisher: deps.publisher,
        now: deps.now,
        ...(deps.newId ? { newId: deps.newId } : {}),
      });
      logger.info('Unsubscribe handled', { leadId: verified.leadId, via, ...result });
      if (result.outcome === 'unsubscribed') metrics.addMetric('LeadsUnsubscribed', MetricUnit.Count, 1);
      return respond(200, donePage(deps.config));
    },
    { page },
  );
}

function defaultDeps(): Deps {
  return {
    repository: new LeadRepository(env.tableName),
    publisher: new EventPublisher(env.eventBusName),
    secrets: SecretsManagerIntegrations.fromEnvironment(),
    config: clientConfig(),
    now: () => new Date(),
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => createHandler(defaultDeps()));
