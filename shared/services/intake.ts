import { randomUUID } from 'node:crypto';
import type { ClientConfig } from '../config/schema';
import { deriveChannel } from '../domain/attribution';
import { cleanText } from '../domain/clean-text';
import { consentStatement, nextConsent } from '../domain/consent';
import { enrichProfile } from '../domain/enrichment';
import {
  DuplicateLeadError,
  IdempotencyKeyReusedError,
  InvalidInputError,
  LeadChangedError,
  RequestAlreadyTakenError,
} from '../domain/errors';
import {
  type Activity,
  type Consent,
  type Lead,
  type LeadProfile,
  type LeadSource,
  TEXT_LIMITS,
} from '../domain/lead';
import { normaliseSubmission } from '../domain/normalise';
import { mergeProfiles } from '../domain/profile-merge';
import { type DetailType, type PipelineEvent, pipelineEvent } from '../events/catalogue';
import type { RequestClaim, TakenRequest } from '../ports/lead-store';
import type { OutboxEntry } from '../ports/outbox';
import { announce } from './announce';

/**
 * Intake: the one way a lead enters the system, shared by the capture endpoint and every
 * webhook adapter. It normalises the submission, claims the person's dedupe key, creates the
 * lead with its `captured` activity in one transaction (or merges into the existing lead and
 * records `resubmitted`), with the built-in enrichment (company domain, free-mail and disposable
 * flags, phone country, time zone) applied before the write, so `Lead Captured` names a lead
 * that scoring can use at once, attaches the visitor's earlier anonymous events (to an existing lead only
 * when the visitor's signed token names that lead), and publishes
 * `Lead Captured`. It resolves only once the event is on the bus, so a caller that answers 2xx
 * afterwards has a lead that will be processed even if a later step fails.
 */

/** The storage operations intake needs (implemented by `LeadRepository`). */
export interface IntakeStore {
  getLead(leadId: string): Promise<Lead | undefined>;
  findLeadIdByDedupeKey(dedupeKey: string): Promise<string | undefined>;
  /** The lead holding a dedupe key and the unexpired claim of a request's key, in one read. */
  findSubmission(
    dedupeKey: string,
    requestKey: string | undefined,
    now: Date,
  ): Promise<{ leadId: string | undefined; request: TakenRequest | undefined }>;
  findTakenRequest(requestKey: string, now: Date): Promise<TakenRequest | undefined>;
  findLeadIdByExternalId(provider: string, externalId: string): Promise<string | undefined>;
  claimExternalId(provider: string, externalId: string, leadId: string): Promise<void>;
  createLead(
    lead: Lead,
    activities: readonly Activity[],
    externalId?: { provider: string; id: string },
    outbox?: OutboxEntry,
    request?: TakenRequest,
  ): Promise<void>;
  saveLead(
    previous: Lead,
    next: Lead,
    options?: { activities?: readonly Activity[]; outbox?: OutboxEntry; request?: TakenRequest },
  ): Promise<Lead>;
  clearOutbox(entry: Pick<OutboxEntry, 'id' | 'at'>): Promise<void>;
  getOutboxEntry(entry: Pick<OutboxEntry, 'id' | 'at'>): Promise<OutboxEntry | undefined>;
  addActivities(activities: readonly Activity[]): Promise<Activity[]>;
  listVisitorEvents(visitorId: string): Promise<Array<Omit<Activity, 'leadId'>>>;
}

/** Publishes catalogue events (implemented by `EventPublisher`). */
export interface IntakePublisher {
  publish(...events: ReadonlyArray<PipelineEvent<DetailType>>): Promise<void>;
}

export interface IntakeDeps {
  readonly store: IntakeStore;
  readonly publisher: IntakePublisher;
  readonly config: ClientConfig;
  readonly now?: () => Date;
  readonly newId?: () => string;
}

/** One submission to take in. */
export interface IntakeRequest {
  /** Raw fields as posted (any alias spelling); see `normaliseSubmission`. */
  readonly fields: Record<string, unknown>;
  /** `form`, `api`, or the webhook provider (`google_ads`, `meta`...). */
  readonly provider: string;
  /** The provider's own id of this lead; a redelivered webhook with the same id is a no-op. */
  readonly externalId?: string;
  /** Provider test leads: stored flagged, never alerted or emailed. */
  readonly isTest?: boolean;
  /**
   * The provider's fields are not available yet (Meta without an access token): store the
   * lead as `pending` under its external id instead of rejecting it.
   */
  readonly pending?: boolean;
  /** Anonymous visitor whose tracked events should be attached to the lead. */
  readonly visitorId?: string;
  /**
   * The lead named by the visitor's verified token, if it sent one. A submission that merges into
   * an existing lead attaches the visitor's history only when this is that lead: anyone can post
   * a known address with a `_vid` whose history they made up.
   */
  readonly visitorLeadId?: string;
  /**
   * Source attribution known to the caller (a landing page from the Referer header, a webhook's
   * form id). Overrides what the submission says; values are cleaned and cut to the lead
   * schema's limits, and the channel is derived again from the result unless given here.
   */
  readonly source?: Partial<LeadSource>;
  /**
   * The caller's request, claimed in the lead's own transaction (capture: its `Idempotency-Key`
   * or body). A replay within the claim's lifetime writes and publishes nothing and gets the
   * first outcome back ({@link IntakeResult} `replayOf`); the same key with another body is
   * refused with {@link IdempotencyKeyReusedError}. Only a request that was taken in is claimed,
   * so a retry after an error really runs again.
   */
  readonly claim?: RequestClaim;
}

export type IntakeResult = (
  | { readonly outcome: 'created'; readonly leadId: string; readonly warnings: readonly string[] }
  | {
      readonly outcome: 'updated';
      readonly leadId: string;
      readonly changed: readonly string[];
      readonly warnings: readonly string[];
    }
  | { readonly outcome: 'already-received'; readonly leadId: string; readonly warnings: readonly string[] }
) & {
  /**
   * `false` when the bus refused the events just now: they are stored in the outbox and the
   * relay publishes them, so the lead is still processed (log it, do not fail the caller).
   */
  readonly announced?: boolean;
  /** Set when this answers a replay of a claimed request: the ISO time the first one was received. */
  readonly replayOf?: string;
};

const MAX_MERGE_ATTEMPTS = 3;

/**
 * Visitor events written in a new lead's transaction. DynamoDB allows 100 items per
 * transaction; the lead, its dedupe claim, the provider id claim, the `captured` activity and the
 * outbox entry take at most 5.
 */
const HISTORY_IN_TRANSACTION = 90;

/** Takes a submission in. @throws InvalidInputError listing every bad field. */
export async function intakeLead(request: IntakeRequest, deps: IntakeDeps): Promise<IntakeResult> {
  const now = (deps.now ?? (() => new Date()))();
  const newId = deps.newId ?? randomUUID;
  const { store, config } = deps;

  if (request.externalId) {
    const existing = await store.findLeadIdByExternalId(request.provider, request.externalId);
    if (existing) return alreadyReceived(existing, deps);
  }

  const normalised = request.pending ? pendingProfile(request) : normaliseRequest(request, config, now);
  if (!normalised.ok) throw new InvalidInputError(normalised.errors);
  // A provider's test lead must never merge into (or receive) a real person's lead.
  if (request.isTest) {
    normalised.profile = { ...normalised.profile, dedupeKey: `test:${normalised.profile.dedupeKey}` };
  }
  const source = mergeSource(normalised.source, request);
  const at = now.toISOString();
  const consent = consentStatement(normalised.consent, config.client.consentText);

  // A known person (found now, or by a concurrent submission that won the race below).
  const merge = (leadId: string) =>
    mergeInto(leadId, normalised.profile, consent, source, normalised.warnings, request, deps, now);
  // Independent reads, one round trip: whether the person is known, and the visitor's history
  // (attached to a new lead in its own transaction below).
  const [known, visitorEvents] = await Promise.all([
    store.findSubmission(normalised.profile.dedupeKey, request.claim?.key, now),
    request.visitorId ? store.listVisitorEvents(request.visitorId) : Promise.resolve([]),
  ]);
  if (known.request && request.claim) return replay(known.request, request.claim);
  if (known.leadId) return merge(known.leadId);

  const leadId = newId();
  const lead: Lead = {
    id: leadId,
    createdAt: at,
    updatedAt: at,
    // Built-in enrichment is pure and fast (no network), so it runs before the lead is stored
    // rather than as its own hop; a third-party provider stays asynchronous (the enrich
    // function). A resubmission is enriched after the merge, so derived values never conflict.
    profile: request.pending ? normalised.profile : enrichProfile(normalised.profile).profile,
    source,
    ...(consent ? { consent } : {}),
    isTest: request.isTest ?? false,
    status: request.pending ? 'pending' : 'new',
    stage: 'lead',
    priority: 'normal',
    unsubscribed: false,
    version: 0,
  };
  const captured: Activity = {
    id: `${leadId}-captured`,
    leadId,
    type: 'captured',
    at,
    data: definedOnly({
      provider: request.provider,
      channel: source.channel,
      formId: source.formId,
      landingPage: source.landingPage,
    }),
  };
  const outbox: OutboxEntry = { ...capturedEntryKey(lead), events: [capturedEvent(lead)] };
  // The visitor's history goes into the lead's own transaction, so the first score already counts
  // it; whatever does not fit in one transaction is attached right after, still before the
  // announcement.
  const history = visitorEvents.map((e) => ({ ...e, leadId }));
  const inTransaction = history.slice(0, HISTORY_IN_TRANSACTION);
  try {
    await store.createLead(
      lead,
      [captured, ...inTransaction],
      request.externalId ? { provider: request.provider, id: request.externalId } : undefined,
      outbox,
      request.claim && { ...request.claim, leadId, outcome: 'created' },
    );
  } catch (error) {
    // The same request, taken in concurrently by another invocation: answer as it did.
    if (error instanceof RequestAlreadyTakenError && request.claim)
      return replayTaken(request.claim, error, deps, now);
    // Lost a race with a concurrent submission of the same person: merge into theirs.
    if (error instanceof DuplicateLeadError) {
      // The same provider record delivered twice at once: the other delivery stored it.
      const sameRecord =
        request.externalId && (await store.findLeadIdByExternalId(request.provider, request.externalId));
      if (sameRecord) return alreadyReceived(sameRecord, deps);
      const winner =
        error.existingLeadId ?? (await store.findLeadIdByDedupeKey(normalised.profile.dedupeKey));
      if (winner && error.key === normalised.profile.dedupeKey) return merge(winner);
      if (winner) return alreadyReceived(winner, deps);
    }
    throw error;
  }
  if (history.length > inTransaction.length) await store.addActivities(history.slice(inTransaction.length));
  const announced = await announce(outbox, { publisher: deps.publisher, outbox: outboxOf(store) });
  return { outcome: 'created', leadId, warnings: normalised.warnings, announced: announced.published };
}

/**
 * A replay of a claimed request: the first outcome, or {@link IdempotencyKeyReusedError} when the
 * key came with another body.
 */
function replay(taken: TakenRequest, claim: RequestClaim): IntakeResult {
  if (taken.fingerprint !== claim.fingerprint) throw new IdempotencyKeyReusedError();
  return {
    outcome: taken.outcome,
    leadId: taken.leadId,
    warnings: [],
    changed: [],
    replayOf: taken.receivedAt,
  };
}

/** A transaction found the request's claim taken by a concurrent invocation: answer from the claim. */
async function replayTaken(
  claim: RequestClaim,
  taken: RequestAlreadyTakenError,
  deps: IntakeDeps,
  now: Date,
): Promise<IntakeResult> {
  const stored = await deps.store.findTakenRequest(claim.key, now);
  // Claimed, then gone (it expired in between): retryable, and the retry takes the request in afresh.
  if (!stored) throw taken;
  return replay(stored, claim);
}

/**
 * A provider's redelivery of a lead already stored. If the lead's `Lead Captured` is still in
 * the outbox (the bus refused it, and the relay has not run yet), it is announced now. If the
 * bus still refuses, the error is thrown, so the provider retries; nothing new was stored.
 */
async function alreadyReceived(leadId: string, deps: IntakeDeps): Promise<IntakeResult> {
  const lead = await deps.store.getLead(leadId);
  const waiting = lead && (await deps.store.getOutboxEntry(capturedEntryKey(lead)));
  if (waiting) {
    await deps.publisher.publish(...waiting.events);
    await deps.store.clearOutbox(waiting);
    return { outcome: 'already-received', leadId, warnings: [], announced: true };
  }
  return { outcome: 'already-received', leadId, warnings: [] };
}

/** The outbox key of a new lead's `Lead Captured`: written with the lead, at its creation. */
function capturedEntryKey(lead: Pick<Lead, 'id' | 'createdAt'>): Pick<OutboxEntry, 'id' | 'at'> {
  return { id: `${lead.id}-captured`, at: lead.createdAt };
}

/** The store's outbox operations, as `announce` wants them. */
function outboxOf(store: IntakeStore) {
  return { clear: (entry: Pick<OutboxEntry, 'id' | 'at'>) => store.clearOutbox(entry) };
}

async function mergeInto(
  leadId: string,
  incoming: LeadProfile,
  statement: Consent | undefined,
  source: LeadSource,
  warnings: readonly string[],
  request: IntakeRequest,
  deps: IntakeDeps,
  now: Date,
): Promise<IntakeResult> {
  const { store, publisher } = deps;
  const at = now.toISOString();
  for (let attempt = 1; ; attempt++) {
    const existing = await store.getLead(leadId);
    if (!existing) throw new LeadChangedError(leadId);
    const merged = mergeProfiles(existing.profile, incoming, deps.config.capture.maxExtraFields);
    const { changed, conflicts } = merged;
    // A new phone or email changes what enrichment derives (the phone's country, the domain).
    const profile = enrichProfile(merged.profile).profile;
    const activity: Activity = {
      id: (deps.newId ?? randomUUID)(),
      leadId,
      type: 'resubmitted',
      at,
      data: definedOnly({
        provider: request.provider,
        channel: source.channel,
        changed,
        formId: source.formId,
        consent: statement === undefined ? undefined : statement.marketing ? 'given' : 'withdrawn',
      }),
    };
    // Values that contradict the lead's are not applied: they wait on the timeline for the owner.
    const offered: Activity[] =
      Object.keys(conflicts).length === 0
        ? []
        : [
            {
              id: `${activity.id}-details`,
              leadId,
              type: 'details_submitted',
              at,
              data: definedOnly({ provider: request.provider, formId: source.formId, details: conflicts }),
            },
          ];
    // An opt-out takes effect with this write; an opt-in is recorded with its wording and time.
    const consent = nextConsent(existing.consent, statement);
    const next: Lead = { ...existing, profile, ...(consent ? { consent } : {}), updatedAt: at };
    const events: PipelineEvent<DetailType>[] = [
      pipelineEvent('Activity Recorded', {
        leadId,
        occurredAt: at,
        isTest: existing.isTest,
        activityId: activity.id,
        type: 'resubmitted',
      }),
    ];
    // A lead that never got past `new` may have been stored before the outbox announced it:
    // publishing Lead Captured again lets it through; every consumer is idempotent.
    if (existing.status === 'new' && existing.score === undefined) events.push(capturedEvent(next));
    const outbox: OutboxEntry = { id: activity.id, at, events };
    try {
      await store.saveLead(existing, next, {
        activities: [activity, ...offered],
        outbox,
        ...(request.claim ? { request: { ...request.claim, leadId, outcome: 'updated' as const } } : {}),
      });
    } catch (error) {
      if (error instanceof RequestAlreadyTakenError && request.claim)
        return replayTaken(request.claim, error, deps, now);
      if (error instanceof LeadChangedError && attempt < MAX_MERGE_ATTEMPTS) continue;
      throw error;
    }
    if (request.visitorLeadId === leadId) await attachVisitorEvents(leadId, request.visitorId, store);
    const announced = await announce(outbox, { publisher, outbox: outboxOf(store) });
    // After the merge is saved (and its events stored), so a failed attempt is retried, not skipped.
    if (request.externalId) await store.claimExternalId(request.provider, request.externalId, leadId);
    return { outcome: 'updated', leadId, changed, warnings, announced: announced.published };
  }
}

/** Longest value kept for each caller-supplied source field (the lead schema's limits). */
const SOURCE_LIMITS = {
  channel: TEXT_LIMITS.short,
  referrer: TEXT_LIMITS.url,
  landingPage: TEXT_LIMITS.url,
  formId: TEXT_LIMITS.short,
} as const;

/**
 * The lead's source: what the submission said, overlaid with what the caller knows
 * (`request.source`). Caller values are untrusted text too (a `Referer` header, a webhook's form
 * name), so they are cleaned and cut to the schema's limits; otherwise a long header would
 * store a lead that no longer parses. The channel is derived again from the combined
 * attribution (a caller's landing page may carry a `gclid` or UTM tags) unless the caller
 * names one or the lead is pending.
 */
function mergeSource(submitted: LeadSource, request: IntakeRequest): LeadSource {
  const given = request.source ?? {};
  const caller: Partial<Record<keyof typeof SOURCE_LIMITS, string>> = {};
  for (const key of Object.keys(SOURCE_LIMITS) as Array<keyof typeof SOURCE_LIMITS>) {
    const value = given[key];
    if (typeof value === 'string') caller[key] = cleanText(value, SOURCE_LIMITS[key]);
  }
  const callerUtm: Record<string, string> = {};
  for (const [key, value] of Object.entries(given.utm ?? {})) {
    if (typeof value === 'string') callerUtm[key] = cleanText(value, TEXT_LIMITS.utm);
  }
  const source: LeadSource = {
    ...submitted,
    ...definedOnly(caller),
    utm: { ...submitted.utm, ...definedOnly(callerUtm) },
    provider: request.provider,
    ...(request.externalId ? { externalId: request.externalId } : {}),
  };
  // A pending lead has no fields yet: keep the channel its provider implies.
  if (!caller.channel && !request.pending) {
    source.channel = deriveChannel({
      provider: source.provider,
      utmSource: source.utm.source,
      utmMedium: source.utm.medium,
      referrer: source.referrer,
      landingPage: source.landingPage,
    });
  }
  return source;
}

/** A submission's fields normalised with the client's capture settings. */
export function normaliseRequest(
  request: Pick<IntakeRequest, 'fields' | 'provider'>,
  config: ClientConfig,
  now: Date,
) {
  return normaliseSubmission(request.fields, {
    defaultCountry: config.client.defaultCountry,
    maxExtraFields: config.capture.maxExtraFields,
    now,
    provider: request.provider,
    honeypotField: config.capture.honeypotField,
  });
}

/** A lead's `Lead Captured` (`pending` while its fields are still to be read from its platform). */
export function capturedEvent(lead: Lead): PipelineEvent<'Lead Captured'> {
  return pipelineEvent('Lead Captured', {
    leadId: lead.id,
    occurredAt: lead.updatedAt,
    isTest: lead.isTest,
    provider: lead.source.provider,
    channel: lead.source.channel,
    pending: lead.status === 'pending',
  });
}

/** Copies a converting visitor's anonymous events onto the lead (ids kept, so re-runs add nothing). */
async function attachVisitorEvents(
  leadId: string,
  visitorId: string | undefined,
  store: IntakeStore,
): Promise<void> {
  if (!visitorId) return;
  const events = await store.listVisitorEvents(visitorId);
  if (events.length === 0) return;
  await store.addActivities(events.map((e) => ({ ...e, leadId })));
}

function pendingProfile(request: IntakeRequest) {
  if (!request.externalId) {
    throw new InvalidInputError([{ field: 'externalId', reason: 'a pending lead needs the provider id' }]);
  }
  const profile: LeadProfile = {
    dedupeKey: `ext:${request.provider}:${request.externalId}`,
    isFreeMail: false,
    isDisposable: false,
    extra: {},
    droppedFields: [],
  };
  return {
    ok: true as const,
    profile,
    source: {
      channel: request.source?.channel ?? 'paid_social',
      provider: request.provider,
      utm: {},
    } as LeadSource,
    consent: undefined,
    warnings: ['lead fields are pending: no provider access token is configured'],
  };
}

function definedOnly<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(record).filter(([, v]) => v !== undefined && v !== ''),
  ) as Partial<T>;
}
