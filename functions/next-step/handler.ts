import type { Logger } from '@aws-lambda-powertools/logger';
import { SecretsManagerIntegrations } from '../../shared/adapters/integrations-secret';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { clientConfig } from '../../shared/config/runtime';
import type { ClientConfig } from '../../shared/config/schema';
import { env } from '../../shared/contracts/function-env';
import { type NextStep, nextStep, nextStepJson, verifyNextStepToken } from '../../shared/domain/booking';
import type { Lead } from '../../shared/domain/lead';
import { type ApiEvent, type ApiResult, header, html, json } from '../../shared/http/api';
import type { Problem } from '../../shared/http/errors';
import { httpRoute } from '../../shared/http/middleware';
import { renderNextStepPage } from '../../shared/http/pages';
import type { IntegrationsSecretReader } from '../../shared/ports/integrations-secret';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger as sharedLogger } from '../../shared/runtime/observability';

/**
 * NEXT STEP: `GET /next/{token}`, the thank-you page's short-lived status URL. Capture hands it
 * out with every new lead (in the 303's fragment, and as `next.statusUrl` in its JSON answer)
 * because scoring and routing finish after capture has answered. It answers with the booking
 * offer once the lead earns one (SQL, assigned to a rep with a scheduling page), `pending` while
 * routing has not decided and the token's few seconds of waiting have not run out, else the
 * normal thanks.
 *
 * Read-only: one GetItem of the lead. It reveals only what the visitor typed (their first name,
 * and their name and email inside the prefilled booking link) and the rep's name, and only to
 * the holder of a token signed for that lead, valid for {@link NEXT_STEP_TTL_SECONDS}.
 * Browsers get an HTML page that reloads itself while pending (no script, so no CSP to satisfy);
 * callers asking for `application/json` (or `?format=json`) get the `next` object.
 */

export interface NextStepDeps {
  readonly config: ClientConfig;
  readonly store: { getLead(leadId: string): Promise<Lead | undefined> };
  readonly secrets: IntegrationsSecretReader;
  readonly logger: Pick<Logger, 'info'>;
  readonly now: () => Date;
  /** Public API base URL (`API_URL`: the WAF's distribution when on), for `statusUrl`. @default - the request's own host */
  readonly apiUrl?: string;
}

/** Builds the `GET /next/{token}` handler. */
export function createHandler(deps: NextStepDeps) {
  const { config } = deps;
  // A failure the caller may retry (the table throttled): a person still gets the polite thanks page.
  const page = (problem: Problem, event: ApiEvent): ApiResult | undefined =>
    wantsJson(event)
      ? undefined
      : html(problem.status, renderNextStepPage({ state: 'thanks' }, config), {
          ...NO_STORE,
          ...problem.headers,
        });
  return httpRoute(
    async (event) => {
      const now = deps.now();
      const asJson = wantsJson(event);
      const token = event.pathParameters?.token ?? '';
      let signingKey: string;
      try {
        ({ signingKey } = await deps.secrets.read());
      } catch (error) {
        deps.logger.info('Next step unavailable: the signing key cannot be read', { error: String(error) });
        // The page gives up waiting and thanks the visitor; a JSON caller may retry.
        if (asJson)
          return json(503, { error: 'TEMPORARILY_UNAVAILABLE', message: 'Retry shortly' }, NO_STORE);
        return html(503, renderNextStepPage({ state: 'thanks' }, config), {
          ...NO_STORE,
          'retry-after': '2',
        });
      }
      const verified = verifyNextStepToken(token, signingKey, now);
      if (!verified.ok) {
        deps.logger.info('Next-step token refused', { problem: verified.problem });
        const status = verified.problem === 'expired' ? 410 : 404;
        const message =
          status === 410
            ? 'This link has expired'
            : 'No such next step: the link is incomplete or was changed';
        if (asJson)
          return json(status, { error: status === 410 ? 'EXPIRED' : 'NOT_FOUND', message }, NO_STORE);
        // A person still gets a polite page, the same one as when nothing is offered.
        return html(status, renderNextStepPage({ state: 'thanks' }, config), NO_STORE);
      }
      const lead = await deps.store.getLead(verified.leadId);
      const step: NextStep = nextStep(lead, config, now, verified.waitUntil);
      deps.logger.info('Next step', { leadId: verified.leadId, state: step.state });
      const self = deps.apiUrl ? `${deps.apiUrl.replace(/\/+$/, '')}${event.rawPath ?? ''}` : selfUrl(event);
      if (asJson) return json(200, nextStepJson(step, self), NO_STORE);
      return html(200, renderNextStepPage(step, config), NO_STORE);
    },
    { page },
  );
}

/** The answer depends on the moment it is asked: never cached, never stored. */
const NO_STORE = { 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' };

function wantsJson(event: ApiEvent): boolean {
  if (event.queryStringParameters?.format === 'json') return true;
  const accept = (header(event, 'accept') ?? '').toLowerCase();
  return accept.includes('application/json') && !accept.includes('text/html');
}

/** The URL this request was made to (its own status URL), without the query. */
function selfUrl(event: ApiEvent): string {
  const host = header(event, 'host') ?? event.requestContext?.domainName ?? 'localhost';
  const proto = (header(event, 'x-forwarded-proto') ?? 'https').split(',')[0]?.trim() || 'https';
  return `${proto}://${host}${event.rawPath ?? ''}`;
}

/** Production dependencies, from the environment the stack sets. */
function defaultDeps(): NextStepDeps {
  return {
    config: clientConfig(),
    store: new LeadRepository(env.tableName),
    secrets: SecretsManagerIntegrations.fromEnvironment(),
    logger: sharedLogger,
    now: () => new Date(),
    ...(env.optional.apiUrl ? { apiUrl: env.optional.apiUrl } : {}),
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => createHandler(defaultDeps()));
