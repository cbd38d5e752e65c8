import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { isTransient } from '../../shared/adapters/aws-errors';
import { EventPublisher } from '../../shared/adapters/event-publisher';
import { SecretsManagerIntegrations } from '../../shared/adapters/integrations-secret';
import { LeadRepository } from '../../shared/adapters/lead-repository';
import { clientConfig } from '../../shared/config/runtime';
import type { ClientConfig } from '../../shared/config/schema';
import { env } from '../../shared/contracts/function-env';
import { DependencyUnavailableError } from '../../shared/domain/errors';
import type { Activity } from '../../shared/domain/lead';
import { verifyToken } from '../../shared/domain/tokens';
import {
  anonymousExpiry,
  hasPrivacySignal,
  mayStore,
  parseTrackingRequest,
  TRACKING_MAX_BODY_BYTES,
  type TrackEvent,
  trackedActivity,
} from '../../shared/domain/tracking';
import { pipelineEvent } from '../../shared/events/catalogue';
import { type ApiResult, invalid, json } from '../../shared/http/api';
import { type HttpEvent, httpRoute } from '../../shared/http/middleware';
import type { IntegrationsSecretReader } from '../../shared/ports/integrations-secret';
import { lazyHandler } from '../../shared/runtime/handler';
import { logger, metrics } from '../../shared/runtime/observability';
import { renderTrackingScript, trackingApiBase } from '../../shared/tracking/script';

/**
 * Behaviour tracking for landing pages.
 *
 * `GET /t.js` serves the first-party tracking script (see `shared/tracking/script.ts`) pointed
 * at the API it was loaded from. `POST /events` takes one event or `{ events: [...] }` (up to 20),
 * as JSON or as the `text/plain` JSON that `sendBeacon` sends without a CORS preflight, and
 * answers `202 { accepted, stored }`.
 *
 * Identification: the signed visitor token issued at capture names the lead, else the event is
 * the anonymous `visitorId`'s. Nothing a stranger can type attributes an event to a lead: an
 * `email` or `leadId` in the body is ignored (see `shared/domain/tracking.ts`). A token that is
 * invalid or expired is not an error: the script keeps tokens for a year and beacons never read
 * answers, so a 401 would only lose the event; the event falls back to its `visitorId`, or is
 * dropped. Every well-formed request gets the same `202 { accepted, stored }`, whoever it names,
 * so the answer tells nothing about which people are leads (`stored` counts the events that
 * passed the consent check). Known leads get activities (once per deterministic id) and an
 * `Activity Recorded` event each for scoring; anonymous visitors get a visitor event that expires
 * unless capture attaches it on conversion (the `_vid` field).
 */

/** The repository operations tracking uses (`LeadRepository`). */
export type TrackingStore = Pick<
  LeadRepository,
  'getLead' | 'recordTrackedActivities' | 'markActivitiesPublished' | 'putVisitorEvent'
>;

export interface Deps {
  readonly leads: TrackingStore;
  readonly publisher: Pick<EventPublisher, 'publish'>;
  /** Source of the signing key for visitor tokens; read only when an event carries a token. */
  readonly secrets: IntegrationsSecretReader;
  readonly config: ClientConfig;
  readonly now: () => Date;
  /** The stack's `API_URL`, used for the script when the request has no usable host. */
  readonly apiUrl?: string;
}

/** A lead the event is attributed to. */
interface KnownLead {
  readonly leadId: string;
  readonly isTest: boolean;
}

type Subject =
  | { readonly kind: 'lead'; readonly lead: KnownLead }
  | { readonly kind: 'visitor'; readonly visitorId: string };

/** Resolves who events are about, caching lookups for the request (a batch shares one identity). */
class Identifier {
  private readonly cache = new Map<string, Promise<KnownLead | undefined>>();
  private signingKey: Promise<string> | undefined;

  constructor(
    private readonly deps: Deps,
    private readonly now: Date,
  ) {}

  async subjectOf(event: TrackEvent): Promise<Subject | undefined> {
    if (event.token) {
      const leadId = await this.leadIdFromToken(event.token);
      const lead = leadId === undefined ? undefined : await this.lead(leadId);
      if (lead) return { kind: 'lead', lead };
    }
    return event.visitorId ? { kind: 'visitor', visitorId: event.visitorId } : undefined;
  }

  private async leadIdFromToken(token: string): Promise<string | undefined> {
    const verified = verifyToken(token, 'visitor', await this.key(), this.now);
    if (verified.ok) return verified.leadId;
    logger.info('Visitor token ignored; the event falls back to its other identifiers', {
      problem: verified.problem,
    });
    return undefined;
  }

  /** The lead if it exists (an erased or unknown lead makes the event anonymous). */
  private lead(leadId: string): Promise<KnownLead | undefined> {
    return this.cached(`lead:${leadId}`, async () => {
      const lead = await this.deps.leads.getLead(leadId);
      return lead ? { leadId: lead.id, isTest: lead.isTest } : undefined;
    });
  }

  private cached(key: string, load: () => Promise<KnownLead | undefined>): Promise<KnownLead | undefined> {
    let found = this.cache.get(key);
    if (!found) {
      found = load();
      this.cache.set(key, found);
    }
    return found;
  }

  private key(): Promise<string> {
    this.signingKey ??= this.deps.secrets.read().then(
      (secret) => secret.signingKey,
      (error: unknown) => {
        // Powertools wraps the SDK error; a throttled or unreachable Secrets Manager is transient.
        if (isTransient(error) || isTransient((error as { cause?: unknown }).cause)) {
          throw new DependencyUnavailableError('Secrets Manager', error);
        }
        throw error;
      },
    );
    return this.signingKey;
  }
}

/** Records the events of one `POST /events`. */
async function recordEvents(event: HttpEvent, deps: Deps): Promise<ApiResult> {
  const now = deps.now();
  const { config } = deps;
  const parsed = parseTrackingRequest(event.parsedBody, now);
  if (!parsed.ok) return invalid(parsed.problems);
  const accepted = parsed.events.length;

  const privacySignal = hasPrivacySignal({ dnt: event.headers.dnt, secGpc: event.headers['sec-gpc'] });
  const storable = parsed.events.filter((e) => mayStore(e, config.client.consentMode, privacySignal));
  metrics.addMetric('TrackedEventsWithoutConsent', MetricUnit.Count, accepted - storable.length);
  if (storable.length === 0) return json(202, { accepted, stored: 0 });

  const identifier = new Identifier(deps, now);
  const subjects = await Promise.all(storable.map((e) => identifier.subjectOf(e)));
  const activities: Activity[] = [];
  const isTest = new Map<string, boolean>();
  const anonymous: Array<{ visitorId: string; activity: Omit<Activity, 'leadId'> }> = [];
  let unattributed = 0;
  storable.forEach((e, i) => {
    const subject = subjects[i];
    if (!subject) {
      // A token that no longer verifies and no visitor id: nobody to attribute it to. The answer
      // stays the same, so it tells nothing about the token or the lead.
      unattributed++;
      return;
    }
    const pricingPaths = config.tracking.pricingPaths;
    if (subject.kind === 'lead') {
      // The browser's visitor id keys the activity when known, so an anonymous event attached at
      // conversion and the same event re-posted with the lead's token stay one activity.
      const activity = trackedActivity(
        e,
        e.visitorId ? { visitorId: e.visitorId } : { leadId: subject.lead.leadId },
        pricingPaths,
      );
      activities.push({ ...activity, leadId: subject.lead.leadId });
      isTest.set(subject.lead.leadId, subject.lead.isTest);
    } else {
      anonymous.push({
        visitorId: subject.visitorId,
        activity: trackedActivity(e, { visitorId: subject.visitorId }, pricingPaths),
      });
    }
  });
  if (unattributed > 0) logger.info('Tracked events without a visitor dropped', { count: unattributed });

  const expiresAt = anonymousExpiry(now, config.tracking.anonymousRetentionDays);
  await Promise.all(anonymous.map((a) => deps.leads.putVisitorEvent(a.visitorId, a.activity, expiresAt)));
  const toPublish = await deps.leads.recordTrackedActivities(activities);
  if (toPublish.length > 0) {
    await deps.publisher.publish(
      ...toPublish.map((a) =>
        pipelineEvent('Activity Recorded', {
          leadId: a.leadId,
          occurredAt: a.at,
          isTest: isTest.get(a.leadId) ?? false,
          activityId: a.id,
          type: a.type,
        }),
      ),
    );
    try {
      await deps.leads.markActivitiesPublished(toPublish);
    } catch (error) {
      // The events are out; a mark left behind only means a retried POST publishes them again,
      // which scoring tolerates. Refusing the request now would invite exactly that retry.
      logger.warn('Could not clear the unpublished mark of tracked activities', { error });
    }
  }

  metrics.addMetric('TrackedEventsStored', MetricUnit.Count, storable.length);
  metrics.addMetric('ActivitiesRecorded', MetricUnit.Count, toPublish.length);
  return json(202, { accepted, stored: storable.length });
}

/** Serves the tracking script pointed at the API the request came to. */
function serveScript(event: HttpEvent, deps: Deps): ApiResult {
  const apiUrl = trackingApiBase(
    {
      host: event.requestContext?.domainName ?? event.headers.host,
      proto: event.headers['x-forwarded-proto'],
      rawPath: event.rawPath,
      stage: event.requestContext?.stage,
    },
    deps.apiUrl,
  );
  return {
    statusCode: 200,
    headers: {
      'content-type': 'application/javascript; charset=utf-8',
      'cache-control': 'public, max-age=300',
      'x-content-type-options': 'nosniff',
      // Landing pages on other origins load it with <script>; nothing else needs to read it.
      'cross-origin-resource-policy': 'cross-origin',
    },
    body: renderTrackingScript({ apiUrl, consentMode: deps.config.client.consentMode }),
  };
}

/** Builds the handler around its dependencies (injected in tests). */
export function createHandler(deps: Deps) {
  return httpRoute(
    async (event) => {
      const method = event.requestContext?.http?.method?.toUpperCase();
      const path = event.rawPath ?? '';
      if (method === 'GET' && path.endsWith('/t.js')) return serveScript(event, deps);
      if (method === 'POST' && path.endsWith('/events')) return await recordEvents(event, deps);
      return json(404, { error: 'NOT_FOUND', message: `No route for ${method ?? '?'} ${path}` });
    },
    { maxBodyBytes: TRACKING_MAX_BODY_BYTES },
  );
}

/** Adapters from the environment, built once per function instance (on first use). */
function defaultDeps(): Deps {
  return {
    leads: new LeadRepository(env.tableName),
    publisher: new EventPublisher(env.eventBusName),
    secrets: SecretsManagerIntegrations.fromEnvironment(),
    config: clientConfig(),
    now: () => new Date(),
    apiUrl: env.optional.apiUrl,
  };
}

/** Adapters are built on the first invocation (they need the function's environment), then reused. */
export const handler = lazyHandler(() => createHandler(defaultDeps()));
