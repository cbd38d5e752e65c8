import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { EventPublisher } from '../../shared/adapters/event-publisher';
import { SecretsManagerIntegrations } from '../../shared/adapters/integrations-secret';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { clientConfig } from '../../shared/config/runtime';
import type { ClientConfig } from '../../shared/config/schema';
import { env } from '../../shared/contracts/function-env';
import type { IntegrationsSecret } from '../../shared/contracts/integration-secrets';
import { NEXT_STEP_POLL_MS, nextStepJson, nextStepUrl, signNextStepToken } from '../../shared/domain/booking';
import {
  allowedRedirect,
  detectSpam,
  errorLocation,
  FORM_FIELDS,
  readVisitorId,
  readVisitorToken,
  redirectField,
  type SpamReason,
  sourceHints,
  submittedField,
  successLocation,
  withoutPlumbing,
} from '../../shared/domain/capture';
import {
  DependencyUnavailableError,
  IdempotencyKeyReusedError,
  InvalidInputError,
  LeadPipelineError,
} from '../../shared/domain/errors';
import { vendorSubmissionFields } from '../../shared/domain/form-vendors';
import { signToken, verifyToken } from '../../shared/domain/tokens';
import {
  type ApiEvent,
  type ApiResult,
  BodyTooLargeError,
  header,
  html,
  invalid,
  isFormPost,
  json,
  readBody,
  redirect,
  UnsupportedMediaTypeError,
} from '../../shared/http/api';
import { httpRoute, lowerCaseHeaders } from '../../shared/http/middleware';
import { renderMessagePage, renderProblemsPage } from '../../shared/http/pages';
import type { IntegrationsSecretReader } from '../../shared/ports/integrations-secret';
import type { RequestClaim } from '../../shared/ports/lead-store';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger as sharedLogger, metrics as sharedMetrics } from '../../shared/runtime/observability';
import {
  type IntakePublisher,
  type IntakeResult,
  type IntakeStore,
  intakeLead,
} from '../../shared/services/intake';

/**
 * CAPTURE: `POST /leads` on the HTTP API (payload format 2.0). Landing pages post leads here,
 * as plain HTML forms (`application/x-www-form-urlencoded`, answered with a 303 redirect or an
 * HTML page) or as JSON (answered with JSON).
 *
 * Order of work, and why:
 * 1. Read the body (413 / 415 / 400 for malformed JSON): nothing can be decided without it.
 * 2. Bot checks (honeypot, time to submit): a bot gets exactly what a person would get, and
 *    nothing is stored, not even an idempotency record.
 * 3. Intake (`intakeLead`): normalise, dedupe (merge into an existing lead), write the lead, its
 *    `captured` activity, its `Lead Captured` outbox entry and the request's claim in one
 *    transaction, then publish. A bus that refuses leaves the entry for the relay, so a 2xx
 *    always means the lead will be processed, even while the bus is down.
 *
 * Exactly once per request, by the lead's own write: the request is claimed (keyed by the
 * `Idempotency-Key` header, or else the raw body: identical posts are one submission) in the
 * same transaction that creates or updates the lead, and looked up in the same read as the
 * dedupe key. A repeated post (double click, client retry), even a concurrent one, finds the
 * claim and gets the first answer (same lead id, same token) with nothing written or
 * published again; the same key with another body is refused with 422. A failure stores
 * nothing, so a retry after a 503 or a corrected form really runs again. No separate
 * idempotency record (before: a Powertools Put and Update around every request).
 */

/** Seconds a client should wait before retrying after a 503. */
const RETRY_AFTER_SECONDS = '5';

/** What the capture handler needs; everything is injectable for tests. */
export interface CaptureDeps {
  readonly config: ClientConfig;
  /** Lead storage (the `LeadRepository`). */
  readonly store: IntakeStore;
  /** Event bus (the `EventPublisher`). */
  readonly publisher: IntakePublisher;
  /** The integrations secret (signing key of visitor tokens). */
  readonly secrets: IntegrationsSecretReader;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metrics: Pick<Metrics, 'singleMetric'>;
  readonly now: () => Date;
  /** Lead and activity ids. @default randomUUID */
  readonly newId?: () => string;
  /** Public API base URL (`API_URL`), for the next-step URL of the thank-you page. @default - none offered */
  readonly apiUrl?: string;
}

/** How the caller wants to be answered: a browser navigating (`page`) or a script (`json`). */
type AnswerStyle = 'page' | 'json';

/** One parsed submission. */
interface CaptureRequest {
  /** Lower-cased header names (local tools do not lower-case them as API Gateway does). */
  readonly headers: Record<string, string>;
  /** The body exactly as received: the request's key when it sends no `Idempotency-Key`. */
  readonly body: string;
  readonly fields: Record<string, unknown>;
  readonly style: AnswerStyle;
  readonly referer: string | undefined;
  readonly receivedAt: Date;
}

/** Builds the `POST /leads` handler. */
export function createHandler(deps: CaptureDeps) {
  const { config, logger } = deps;
  const capture = config.capture;
  const newId = deps.newId ?? randomUUID;

  return httpRoute(async (event) => {
    const receivedAt = deps.now();
    const style = answerStyle(event);
    const referer = header(event, 'referer');

    let fields: Record<string, unknown>;
    try {
      // Vendors' shapes (HubSpot's field list, Salesforce's opt-out) become plain fields first.
      fields = vendorSubmissionFields(readBody(event, capture.maxBodyBytes), capture.fieldMap);
    } catch (error) {
      return bodyProblem(error, style, config, referer);
    }

    const spam = detectSpam(fields, capture, receivedAt);
    if (spam) return decoy(spam, fields, style, receivedAt, deps, newId);

    const request: CaptureRequest = {
      headers: lowerCaseHeaders(event.headers),
      body: event.body ?? '',
      fields,
      style,
      referer,
      receivedAt,
    };
    try {
      return await takeIn(request, deps);
    } catch (error) {
      return failure(error, request, config, logger);
    }
  });
}

/**
 * The request's claim: hashes of its key (the `Idempotency-Key` header, else the body) and of its
 * body, kept for `capture.idempotencyHours`.
 */
function requestClaim(request: CaptureRequest, idempotencyHours: number): RequestClaim {
  const key = request.headers['idempotency-key'];
  return {
    // Prefixed, so a header equal to some body cannot collide with that body's claim.
    key: sha256(key === undefined ? `body:${request.body}` : `key:${key}`),
    fingerprint: sha256(request.body),
    receivedAt: request.receivedAt.toISOString(),
    expiresAt: Math.floor(request.receivedAt.getTime() / 1000) + idempotencyHours * 3600,
  };
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url');
}

/** Intake and the success answer. Every failure is thrown, never returned. */
async function takeIn(request: CaptureRequest, deps: CaptureDeps): Promise<ApiResult> {
  const { config, logger } = deps;
  const { fields, receivedAt } = request;
  // Read before any write: if Secrets Manager is down the post fails with nothing stored.
  const secret = await readSecret(deps.secrets);

  // How it was posted: a form body (browser form, or a script posting one) or a JSON API call.
  const provider = isFormEncoded(request.headers) ? 'form' : 'api';
  const visitor = readVisitorId(fields);
  if (visitor.kind === 'invalid') logger.info('Ignoring a malformed _vid visitor id');
  // The lead this browser was signed in as, if any: only then may its anonymous history join an
  // existing lead. A bad token is no reason to lose the submission, so it is simply not used.
  const visitorToken = readVisitorToken(fields);
  const verified = visitorToken
    ? verifyToken(visitorToken, 'visitor', secret.signingKey, receivedAt)
    : undefined;

  const result = await intakeLead(
    {
      fields: withoutPlumbing(fields, config.capture.honeypotField),
      provider,
      source: sourceHints(fields, request.referer),
      ...(visitor.kind === 'valid' ? { visitorId: visitor.visitorId } : {}),
      ...(verified?.ok ? { visitorLeadId: verified.leadId } : {}),
      claim: requestClaim(request, config.capture.idempotencyHours),
    },
    {
      store: deps.store,
      publisher: deps.publisher,
      config,
      now: () => receivedAt,
      ...(deps.newId ? { newId: deps.newId } : {}),
    },
  );

  if (result.replayOf) {
    // The first answer again, as of the first request (so the token and the next-step URL match).
    logger.info('Request replayed', { leadId: result.leadId, outcome: result.outcome, provider });
    return success(request, result, config, secret, new Date(result.replayOf), deps.apiUrl);
  }
  logger.info('Lead taken in', {
    leadId: result.leadId,
    outcome: result.outcome,
    provider,
    warnings: result.warnings,
  });
  if (result.outcome === 'created') count(deps.metrics, 'LeadCaptured', { provider });
  else count(deps.metrics, 'LeadResubmitted', {});

  return success(request, result, config, secret, receivedAt, deps.apiUrl);
}

/**
 * The success answer. A visitor token is issued for a newly created lead only: a resubmission
 * proves no more than knowing someone's address, and a token would let that browser's tracked
 * visits be attached to the existing person's lead.
 */
function success(
  request: CaptureRequest,
  result: IntakeResult,
  config: ClientConfig,
  secret: IntegrationsSecret,
  now: Date,
  apiUrl?: string,
): ApiResult {
  const visitorToken =
    result.outcome === 'created'
      ? signToken('visitor', result.leadId, secret.signingKey, now, config.tracking.tokenTtlDays * 86_400)
      : undefined;
  // The instant booking offer, for a new lead only (like the visitor token, and for the same reason).
  const next =
    result.outcome === 'created' && apiUrl
      ? nextStepUrl(apiUrl, signNextStepToken(result.leadId, secret.signingKey, now))
      : undefined;
  if (request.style === 'page') return thanks(request.fields, config, visitorToken, next);
  if (visitorToken)
    return json(201, {
      leadId: result.leadId,
      status: 'created',
      visitorToken,
      ...(next ? { next: nextStepJson(PENDING, next) } : {}),
    });
  return json(200, { leadId: result.leadId, status: 'updated' });
}

/** What capture knows about the next step when it answers: scoring and routing run after it. */
const PENDING = { state: 'pending', retryAfterMs: NEXT_STEP_POLL_MS } as const;

/** The 303 to the thank-you page (or, with nowhere to go, a thank-you page of our own). */
function thanks(
  fields: Record<string, unknown>,
  config: ClientConfig,
  visitorToken: string | undefined,
  nextStepUrl: string | undefined,
): ApiResult {
  const location = successLocation(redirectField(fields), {
    allowList: config.capture.redirectAllowList,
    thankYouUrl: config.capture.thankYouUrl,
    ...(visitorToken ? { visitorToken } : {}),
    nextStepUrl,
  });
  if (location) return redirect(location);
  return html(200, renderMessagePage('Thank you!', '<p>We have your request and will be in touch soon.</p>'));
}

/**
 * What a bot gets: the same answer a person gets for a new lead (a made-up lead id and a token of
 * the right shape, signed with a throw-away key so it never verifies), and nothing is stored.
 */
function decoy(
  reason: SpamReason,
  fields: Record<string, unknown>,
  style: AnswerStyle,
  now: Date,
  deps: CaptureDeps,
  newId: () => string,
): ApiResult {
  const { config } = deps;
  deps.logger.info('Submission rejected as spam', { reason });
  count(deps.metrics, 'SpamRejected', { reason });
  const leadId = newId();
  const throwAway = randomBytes(32).toString('base64url');
  const visitorToken = signToken('visitor', leadId, throwAway, now, config.tracking.tokenTtlDays * 86_400);
  const next = deps.apiUrl ? nextStepUrl(deps.apiUrl, signNextStepToken(leadId, throwAway, now)) : undefined;
  if (style === 'page') return thanks(fields, config, visitorToken, next);
  return json(201, {
    leadId,
    status: 'created',
    visitorToken,
    ...(next ? { next: nextStepJson(PENDING, next) } : {}),
  });
}

/** Answers for bodies we cannot read: too large (413), wrong type (415), malformed JSON (400). */
function bodyProblem(error: unknown, style: AnswerStyle, config: ClientConfig, referer: string | undefined) {
  const back = allowedRedirect(referer, config.capture.redirectAllowList);
  if (error instanceof BodyTooLargeError) {
    if (style === 'json') return json(413, { error: error.code, message: error.message, limit: error.limit });
    return html(
      413,
      renderMessagePage(
        'Your message is too long',
        `The form sent more than ${error.limit} bytes. Please shorten your message and send it again.`,
        back,
      ),
    );
  }
  if (error instanceof UnsupportedMediaTypeError) {
    if (style === 'json') return json(415, { error: error.code, message: error.message });
    return html(415, renderMessagePage('This form cannot be sent', error.message, back));
  }
  if (error instanceof InvalidInputError) {
    return style === 'json' ? invalid(error.problems) : html(400, renderProblemsPage(error.problems, back));
  }
  throw error;
}

/** Maps what escaped the idempotent part to an answer; unknown errors are re-thrown (Lambda error, alarm). */
function failure(
  error: unknown,
  request: CaptureRequest,
  config: ClientConfig,
  logger: CaptureDeps['logger'],
): ApiResult {
  const { style, fields } = request;
  const allowList = config.capture.redirectAllowList;
  if (error instanceof InvalidInputError) {
    if (style === 'json') return invalid(error.problems);
    const location = errorLocation(fields[FORM_FIELDS.errorRedirect], allowList, error.problems);
    if (location) return redirect(location);
    return html(400, renderProblemsPage(error.problems, backLink(request, config)));
  }
  if (error instanceof IdempotencyKeyReusedError) {
    return json(422, { error: error.code, message: error.message });
  }
  if (isTemporary(error)) {
    logger.warn('Lead not taken in: a dependency is unavailable, asking the client to retry', { error });
    if (style === 'json') {
      return json(
        503,
        {
          error: 'TEMPORARILY_UNAVAILABLE',
          message:
            'The submission could not be completed; please retry in a few seconds (a retry never creates a second lead)',
        },
        { 'retry-after': RETRY_AFTER_SECONDS },
      );
    }
    return html(
      503,
      renderMessagePage(
        'Please try again',
        // Storage may have failed after the lead was written (attaching the visit history), so
        // the page must not claim that nothing was saved; sending again merges, never duplicates.
        'We could not confirm your details just now. Please go back and send the form again in a minute; if they were saved already, you will not be contacted twice.',
        backLink(request, config),
      ),
      { 'retry-after': RETRY_AFTER_SECONDS },
    );
  }
  throw error;
}

/**
 * Transient failures answered with 503: unavailable dependencies and races that a retry resolves
 * (retryable domain errors, a dedupe claim lost without a winner).
 */
function isTemporary(error: unknown): boolean {
  if (error instanceof DependencyUnavailableError) return true;
  if (error instanceof LeadPipelineError) return error.retryable || error.code === 'DUPLICATE_LEAD';
  return false;
}

/** The page to send a visitor back to from an error page: the landing page, if it is on the allow-list. */
function backLink(request: CaptureRequest, config: ClientConfig): string | undefined {
  const allowList = config.capture.redirectAllowList;
  const landing = submittedField(request.fields, 'landingPage');
  return allowedRedirect(landing, allowList) ?? allowedRedirect(request.referer, allowList);
}

async function readSecret(secrets: IntegrationsSecretReader): Promise<IntegrationsSecret> {
  try {
    return await secrets.read();
  } catch (error) {
    throw new DependencyUnavailableError('SecretsManager', error);
  }
}

/** A browser form post wants a page; a script (JSON, or a form body with `Accept: application/json`) wants JSON. */
function answerStyle(event: ApiEvent): AnswerStyle {
  if (!isFormPost(event)) return 'json';
  const accept = (header(event, 'accept') ?? '').toLowerCase();
  return accept.includes('application/json') && !accept.includes('text/html') ? 'json' : 'page';
}

function isFormEncoded(headers: Record<string, string>): boolean {
  return (headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
}

/** Counts one occurrence as its own EMF record, so its dimensions do not leak onto other metrics. */
function count(metrics: CaptureDeps['metrics'], name: string, dimensions: Record<string, string>): void {
  const single = metrics.singleMetric();
  for (const [key, value] of Object.entries(dimensions)) single.addDimension(key, value);
  single.addMetric(name, MetricUnit.Count, 1);
}

/** Production dependencies, from the environment the stack sets. */
function defaultDeps(): CaptureDeps {
  const tableName = env.tableName;
  return {
    config: clientConfig(),
    store: new LeadRepository(tableName),
    publisher: new EventPublisher(env.eventBusName),
    secrets: SecretsManagerIntegrations.fromEnvironment(),
    logger: sharedLogger,
    metrics: sharedMetrics,
    now: () => new Date(),
    ...(env.optional.apiUrl ? { apiUrl: env.optional.apiUrl } : {}),
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => createHandler(defaultDeps()));
