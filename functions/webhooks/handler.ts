import { randomBytes } from 'node:crypto';
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyInconsistentStateError,
  IdempotencyPersistenceLayerError,
} from '@aws-lambda-powertools/idempotency';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { EventPublisher } from '../../shared/adapters/event-publisher';
import { DynamoDBStepRunner, type StepRunner } from '../../shared/adapters/idempotent-steps';
import { SecretsManagerIntegrations } from '../../shared/adapters/integrations-secret';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { LinkedInApiClient, type LinkedInLeadFetcher } from '../../shared/adapters/linkedin-api';
import { MetaGraphClient, type MetaLeadFetcher } from '../../shared/adapters/meta-graph';
import { clientConfig } from '../../shared/config/runtime';
import type { ClientConfig } from '../../shared/config/schema';
import { env } from '../../shared/contracts/function-env';
import type { IntegrationsSecret } from '../../shared/contracts/integration-secrets';
import { DependencyUnavailableError, LeadPipelineError } from '../../shared/domain/errors';
import {
  type ApiEvent,
  type ApiResult,
  BodyTooLargeError,
  errorResponse,
  invalid,
  json,
  mediaType,
} from '../../shared/http/api';
import { httpRoute } from '../../shared/http/middleware';
import type { IntegrationsSecretReader } from '../../shared/ports/integrations-secret';
import type { PendingLeadStore } from '../../shared/ports/pending-leads';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger, metrics } from '../../shared/runtime/observability';
import type { IntakePublisher, IntakeStore } from '../../shared/services/intake';
import {
  recordBooking,
  takeInLinkedInLead,
  takeInMetaLead,
  takeInWebhookLead,
} from '../../shared/services/webhook-intake';
import {
  isProviderEnabled,
  resolveProvider,
  WEBHOOK_ADAPTERS,
  WEBHOOK_PROVIDERS,
} from '../../shared/webhooks';
import type { MetaLeadChange, WebhookAdapter, WebhookRequest } from '../../shared/webhooks/common';
import { linkedInValidation } from '../../shared/webhooks/linkedin';
import { metaHandshake } from '../../shared/webhooks/meta';

/**
 * `GET|POST /webhooks/{provider}`: leads and bookings pushed by ad platforms, form builders and
 * scheduling tools. Each delivery is authenticated by its provider's own scheme (see
 * `shared/webhooks/`), parsed, and taken in exactly once: intake claims a lead's provider id in
 * the lead's own transaction and stores its announcement in the outbox, so a redelivery is
 * "already received"; a booking is one idempotent unit keyed on the provider's booking id.
 *
 * Answers: 200 when everything was stored (including "already received"); 400 naming the field
 * for a malformed payload; 401 for a failed signature (also when the provider's secret is not
 * configured, so outsiders cannot probe the configuration; the log says which key is missing);
 * 404 for an unknown or disabled provider; 503 with Retry-After when storage is unavailable,
 * so the provider redelivers and nothing accepted is lost.
 */

/** Leadgen changes of one Meta batch processed at once (Graph calls and DynamoDB writes overlap). */
const META_CONCURRENCY = 10;

/** Largest webhook body read (Typeform payloads carry the whole form definition). */
export const MAX_WEBHOOK_BODY_BYTES = 256 * 1024;

/** What the handler needs; injectable in tests. */
export interface Deps {
  readonly config: ClientConfig;
  /** `LeadRepository` in production. */
  readonly store: IntakeStore & Pick<PendingLeadStore, 'rememberPendingLead'>;
  /** `EventPublisher` in production. */
  readonly publisher: IntakePublisher;
  readonly secrets: IntegrationsSecretReader;
  readonly metaFetcher: MetaLeadFetcher;
  readonly linkedinFetcher: LinkedInLeadFetcher;
  /** Exactly-once units for bookings, keyed on the provider's booking id. */
  readonly steps: StepRunner;
  readonly now: () => Date;
  readonly newId?: () => string;
}

/** Builds the handler around its dependencies. */
export function createHandler(deps: Deps) {
  const intakeDeps = {
    store: deps.store,
    publisher: deps.publisher,
    config: deps.config,
    now: deps.now,
    ...(deps.newId ? { newId: deps.newId } : {}),
  };

  return httpRoute(async (event, context) => {
    const segment = event.pathParameters?.provider;
    const provider = resolveProvider(segment);
    if (!provider) {
      return json(404, {
        error: 'UNKNOWN_PROVIDER',
        message: `No webhook provider "${segment ?? ''}". Supported: ${WEBHOOK_PROVIDERS.join(', ')}`,
        supported: WEBHOOK_PROVIDERS,
      });
    }
    const adapter = WEBHOOK_ADAPTERS[provider];
    if (!isProviderEnabled(deps.config.webhooks, provider)) {
      return json(404, {
        error: 'PROVIDER_DISABLED',
        message: `Webhook provider "${provider}" is not enabled for this client (webhooks.${adapter.configKey}.enabled)`,
      });
    }
    const method = event.requestContext.http.method.toUpperCase();
    // Meta and LinkedIn check the endpoint with a GET handshake before delivering.
    const allowed = provider === 'meta' || provider === 'linkedin' ? 'GET, POST' : 'POST';
    if (!allowed.split(', ').includes(method)) {
      return json(
        405,
        { error: 'METHOD_NOT_ALLOWED', message: `${provider} webhooks accept ${allowed}` },
        { allow: allowed },
      );
    }
    logger.appendKeys({ provider });
    deps.steps.useLambdaContext(context);
    try {
      const request = webhookRequest(event);
      const secret = await readSecret(deps.secrets);
      if (method === 'GET') {
        return provider === 'linkedin'
          ? linkedInEndpointCheck(request, secret)
          : metaSubscription(request, secret);
      }
      const key = secret[adapter.secret];
      if (!key) {
        // Refused exactly like a wrong signature (checked against a random key), so a caller
        // cannot tell an unconfigured provider from a bad signature; the log tells the admin.
        reportMissingSecret(adapter);
        const check = adapter.verify(request, randomBytes(32).toString('hex'), deps.now());
        return unauthorized(check.ok ? 'signature does not match the request body' : check.reason);
      }
      const check = adapter.verify(request, key, deps.now());
      if (!check.ok) {
        logger.warn('Webhook refused: bad signature', { reason: check.reason });
        return unauthorized(check.reason);
      }
      const payload = adapter.parse(request, deps.config.webhooks);
      switch (payload.kind) {
        case 'ignored':
          logger.info('Webhook ignored', { reason: payload.reason });
          return json(200, { received: true, ignored: payload.reason });
        case 'leads': {
          const results = [];
          for (const lead of payload.leads) {
            // Exactly once without a record of its own: the provider id is claimed in the lead's
            // transaction, so a redelivery is "already received" (and announces a lead whose
            // announcement is still waiting in the outbox).
            const result = await takeInWebhookLead(provider, lead, intakeDeps);
            logger.info('Webhook lead taken in', {
              externalId: lead.externalId,
              outcome: result.outcome,
              leadId: result.leadId,
              warnings: result.warnings,
            });
            results.push({ outcome: result.outcome, leadId: result.leadId });
          }
          return json(200, { received: true, results });
        }
        case 'booking': {
          const { booking } = payload;
          const result = await once(deps.steps, `${provider}:${booking.action}:${booking.bookingId}`, () =>
            recordBooking(provider, booking, intakeDeps),
          );
          logger.info('Booking webhook processed', { action: booking.action, ...result });
          return json(200, { received: true, ...result });
        }
        case 'meta':
          // Nothing readable at all: a redelivery would not help, say what is wrong.
          if (payload.changes.length === 0) return invalid(payload.rejected);
          if (payload.rejected.length > 0) {
            logger.error('Meta leadgen changes could not be read and were skipped', {
              problems: payload.rejected,
            });
          }
          return await metaBatch(payload.changes, secret, deps, intakeDeps);
        case 'linkedin': {
          const context = { fetcher: deps.linkedinFetcher, accessToken: secret.linkedinAccessToken };
          const results = [];
          for (const notice of payload.leads) {
            const result = await takeInLinkedInLead(notice, context, intakeDeps);
            if (result.pending) {
              logger.warn('LinkedIn lead stored as pending', {
                responseId: notice.responseId,
                leadId: result.leadId,
                problem: result.problem,
              });
            }
            results.push({ outcome: result.outcome, leadId: result.leadId, pending: result.pending });
          }
          return json(200, { received: true, results });
        }
      }
    } catch (error) {
      if (error instanceof LeadPipelineError && !error.retryable) {
        logger.warn('Webhook rejected', { code: error.code, message: error.message });
      } else {
        logger.error('Webhook failed', { error: error as Error });
      }
      return errorResponse(error);
    } finally {
      logger.removeKeys(['provider']);
    }
  });
}

/**
 * Processes a Meta batch: every change on its own (a few at a time, so Graph timeouts overlap),
 * so one failure never loses the others. If any change could not be stored, the answer is 503 and
 * Meta redelivers the whole batch; the changes already stored are no-ops then (intake knows
 * the leadgen id). A Graph timeout or 5xx fails its change too, so Meta delivers it again.
 */
async function metaBatch(
  changes: readonly MetaLeadChange[],
  secret: IntegrationsSecret,
  deps: Deps,
  intakeDeps: Parameters<typeof takeInMetaLead>[2],
): Promise<ApiResult> {
  const leadContext = {
    fetcher: deps.metaFetcher,
    accessToken: secret.metaAccessToken,
    appSecret: secret.metaAppSecret,
  };
  const settled: PromiseSettledResult<Awaited<ReturnType<typeof takeInMetaLead>>>[] = [];
  for (let i = 0; i < changes.length; i += META_CONCURRENCY) {
    const slice = changes.slice(i, i + META_CONCURRENCY);
    settled.push(
      ...(await Promise.allSettled(slice.map((change) => takeInMetaLead(change, leadContext, intakeDeps)))),
    );
  }
  const results = settled.map((outcome, i) => {
    const leadgenId = changes[i]?.leadgenId;
    if (outcome.status === 'fulfilled') {
      const { outcome: result, leadId, pending, problem } = outcome.value;
      if (pending) logger.warn('Meta lead stored as pending', { leadgenId, leadId, problem });
      return { leadgenId, outcome: result, leadId, pending };
    }
    const error = outcome.reason as Error;
    logger.error('Meta lead could not be stored', { leadgenId, error });
    return { leadgenId, outcome: 'failed' as const, error: error.message };
  });
  logger.info('Meta batch processed', { results });
  const failed = results.filter((r) => r.outcome === 'failed').length;
  if (failed > 0) {
    return json(
      503,
      {
        error: 'DEPENDENCY_UNAVAILABLE',
        message: `${failed} of ${results.length} leads could not be stored; redeliver the batch`,
        results,
      },
      { 'retry-after': '2' },
    );
  }
  return json(200, { received: true, results });
}

/** Meta's subscription handshake: echo `hub.challenge` when `hub.verify_token` matches. */
function metaSubscription(request: WebhookRequest, secret: IntegrationsSecret): ApiResult {
  if (!secret.metaVerifyToken) {
    reportMissingSecret(WEBHOOK_ADAPTERS.meta, 'metaVerifyToken');
    return json(403, { error: 'FORBIDDEN', message: 'hub.verify_token does not match' });
  }
  const handshake = metaHandshake(request.query, secret.metaVerifyToken);
  if (!handshake.ok) {
    logger.warn('Meta subscription refused', { reason: handshake.reason });
    return json(403, { error: 'FORBIDDEN', message: handshake.reason });
  }
  return {
    statusCode: 200,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' },
    body: handshake.challenge,
  };
}

/** LinkedIn's endpoint validation: JSON `{challengeCode, challengeResponse}` keyed with the client secret. */
function linkedInEndpointCheck(request: WebhookRequest, secret: IntegrationsSecret): ApiResult {
  if (!secret.linkedinClientSecret) {
    reportMissingSecret(WEBHOOK_ADAPTERS.linkedin);
    return json(403, { error: 'FORBIDDEN', message: 'the endpoint cannot answer the challenge' });
  }
  const validation = linkedInValidation(request.query, secret.linkedinClientSecret);
  if (!validation.ok) return json(400, { error: 'INVALID_INPUT', message: validation.reason });
  return json(200, {
    challengeCode: validation.challengeCode,
    challengeResponse: validation.challengeResponse,
  });
}

/**
 * Runs one unit (a lead, a booking) at most once per key. Idempotency-store trouble, or the same
 * unit running in a concurrent delivery right now, is transient: the provider should retry.
 */
async function once<T>(steps: StepRunner, key: string, work: () => Promise<T>): Promise<T> {
  try {
    return await steps.once('webhook', key, work);
  } catch (error) {
    if (
      error instanceof IdempotencyAlreadyInProgressError ||
      error instanceof IdempotencyPersistenceLayerError ||
      error instanceof IdempotencyInconsistentStateError
    ) {
      throw new DependencyUnavailableError('Idempotency store', error);
    }
    throw error;
  }
}

function unauthorized(reason: string): ApiResult {
  return json(401, { error: 'BAD_SIGNATURE', message: reason });
}

/**
 * A provider is enabled but its secret is empty: every delivery fails until an admin fills the
 * key. Logged as an error with the fix, and counted, so an alarm can catch it.
 */
function reportMissingSecret(adapter: WebhookAdapter, key: string = adapter.secret): void {
  logger.error('Webhook provider is enabled but its secret is not configured', {
    code: 'WEBHOOK_SECRET_MISSING',
    provider: adapter.provider,
    secretKey: key,
    fix: `Set "${key}" in the provider's integration secret (see the README, Deploying a client), or turn off webhooks.${adapter.configKey}.enabled`,
  });
  metrics.addMetric('WebhookSecretMissing', MetricUnit.Count, 1);
}

async function readSecret(reader: IntegrationsSecretReader): Promise<IntegrationsSecret> {
  try {
    return await reader.read();
  } catch (error) {
    // Unreadable or invalid: retryable from the provider's side, and nothing is accepted meanwhile.
    throw error instanceof DependencyUnavailableError
      ? error
      : new DependencyUnavailableError('Secrets Manager', error);
  }
}

/** The request as adapters see it: the exact body bytes, lower-case headers. */
function webhookRequest(event: ApiEvent): WebhookRequest {
  const body = event.body
    ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8')
    : Buffer.alloc(0);
  if (body.byteLength > MAX_WEBHOOK_BODY_BYTES) throw new BodyTooLargeError(MAX_WEBHOOK_BODY_BYTES);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  return {
    method: event.requestContext.http.method.toUpperCase(),
    headers,
    query: { ...(event.queryStringParameters ?? {}) },
    body,
    contentType: mediaType(event),
  };
}

/** Production dependencies, built once per container on first use (they need the environment). */
function defaultDeps(): Deps {
  const config = clientConfig();
  const tableName = env.tableName;
  return {
    config,
    store: new LeadRepository(tableName),
    publisher: new EventPublisher(env.eventBusName),
    secrets: SecretsManagerIntegrations.fromEnvironment(),
    metaFetcher: new MetaGraphClient({ version: config.webhooks.meta.graphApiVersion }),
    linkedinFetcher: new LinkedInApiClient({ version: config.webhooks.linkedin.apiVersion }),
    steps: new DynamoDBStepRunner({
      tableName,
      functionName: 'webhooks',
      expiresAfterSeconds: config.capture.idempotencyHours * 3600,
    }),
    now: () => new Date(),
  };
}

export const handler = lazyHandler(() => createHandler(defaultDeps()));
