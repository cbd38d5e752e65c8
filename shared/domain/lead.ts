import { z } from 'zod';
import {
  type ActivityType,
  ActivityTypeSchema,
  CONSENT_TEXT_MAX,
  PrioritySchema,
} from '../config/schema-vocabulary';

/**
 * The lead model: what a stored lead and its activities look like. Normalisation
 * (`normalise.ts`) turns a raw submission into a {@link LeadProfile}; scoring and routing read
 * {@link LeadFacts}, the flat view built by {@link leadFacts}.
 */

/** Limits on untrusted free text. Everything a visitor types is cut to these lengths. */
export const TEXT_LIMITS = {
  name: 100,
  email: 254,
  phone: 40,
  company: 200,
  jobTitle: 150,
  industry: 100,
  message: 5000,
  url: 2048,
  utm: 200,
  extraKey: 64,
  extraValue: 500,
  short: 100,
} as const;

/** Lifecycle stages set by score thresholds; `opportunity` and `customer` are set by people. */
export const LIFECYCLE_STAGES = ['lead', 'MQL', 'SQL', 'opportunity', 'customer'] as const;
export const LifecycleStageSchema = z.enum(LIFECYCLE_STAGES);
export type LifecycleStage = z.output<typeof LifecycleStageSchema>;

/** Rank of a lifecycle stage, for "never moves backwards" comparisons. */
export function stageRank(stage: LifecycleStage): number {
  return LIFECYCLE_STAGES.indexOf(stage);
}

/** Where a lead is in the sales team's work. */
export const LEAD_STATUSES = [
  'new', // captured, not routed yet
  'pending', // waiting for fields from a provider (e.g. Meta without an access token)
  'held', // routed to a team but waiting for the next working hour
  'assigned', // owned by a rep, SLA clock running
  'contacted', // first touch done
  'working', // in conversation / opportunity
  'nurturing', // in a nurture sequence, no owner
  'unworked', // SLA ladder exhausted with no contact
  'converted', // won
  'disqualified', // lost or junk
] as const;
export const LeadStatusSchema = z.enum(LEAD_STATUSES);
export type LeadStatus = z.output<typeof LeadStatusSchema>;

/** Statuses that count against a rep's capacity. */
export const OPEN_STATUSES: readonly LeadStatus[] = ['assigned', 'contacted', 'working'];

export const UtmSchema = z.strictObject({
  source: z.string().max(TEXT_LIMITS.utm).optional(),
  medium: z.string().max(TEXT_LIMITS.utm).optional(),
  campaign: z.string().max(TEXT_LIMITS.utm).optional(),
  term: z.string().max(TEXT_LIMITS.utm).optional(),
  content: z.string().max(TEXT_LIMITS.utm).optional(),
});

/** Source attribution. `channel` is derived (e.g. `paid_search`, `organic`, `google_ads`, `web`). */
export const LeadSourceSchema = z.strictObject({
  channel: z.string().max(TEXT_LIMITS.short),
  /** Webhook provider or `form` / `api`. */
  provider: z.string().max(TEXT_LIMITS.short),
  utm: UtmSchema.default({}),
  referrer: z.string().max(TEXT_LIMITS.url).optional(),
  landingPage: z.string().max(TEXT_LIMITS.url).optional(),
  formId: z.string().max(TEXT_LIMITS.short).optional(),
  /** Provider's own id (Google lead_id, Meta leadgen_id, Typeform token...). */
  externalId: z.string().max(TEXT_LIMITS.short).optional(),
});
export type LeadSource = z.output<typeof LeadSourceSchema>;

export const ConsentSchema = z.strictObject({
  marketing: z.boolean(),
  /** ISO timestamp when consent was given or withdrawn. */
  at: z.iso.datetime(),
  /** Where it was recorded (form field, provider). */
  via: z.string().max(TEXT_LIMITS.short),
  /** For an opt-in: the wording the person agreed to (`client.consentText`). */
  text: z.string().max(CONSENT_TEXT_MAX).optional(),
});
export type Consent = z.output<typeof ConsentSchema>;

/**
 * The normalised person and company, as produced by `normaliseSubmission`. Every field is
 * already trimmed, length-limited and canonical (email lower-case, phone E.164 when parseable).
 */
export const LeadProfileSchema = z.strictObject({
  email: z.string().max(TEXT_LIMITS.email).optional(),
  /** Identity used for dedupe: gmail dots and +tags folded; `phone:+E164` when there is no email. */
  dedupeKey: z.string().min(3).max(300),
  firstName: z.string().max(TEXT_LIMITS.name).optional(),
  lastName: z.string().max(TEXT_LIMITS.name).optional(),
  /** E.164 when it could be parsed, otherwise the raw (trimmed) value. */
  phone: z.string().max(TEXT_LIMITS.phone).optional(),
  phoneValid: z.boolean().optional(),
  /** Country of the phone number (ISO alpha-2), when the number or the lead's country said it. */
  phoneCountry: z.string().length(2).optional(),
  /** The phone number as typed, when it differs from `phone` (kept for the rep to read). */
  phoneRaw: z.string().max(TEXT_LIMITS.phone).optional(),
  company: z.string().max(TEXT_LIMITS.company).optional(),
  companyDomain: z.string().max(253).optional(),
  companySize: z.number().int().nonnegative().optional(),
  industry: z.string().max(TEXT_LIMITS.industry).optional(),
  jobTitle: z.string().max(TEXT_LIMITS.jobTitle).optional(),
  /** ISO alpha-2, upper-case. */
  country: z.string().length(2).optional(),
  city: z.string().max(TEXT_LIMITS.short).optional(),
  website: z.string().max(TEXT_LIMITS.url).optional(),
  message: z.string().max(TEXT_LIMITS.message).optional(),
  isFreeMail: z.boolean().default(false),
  isDisposable: z.boolean().default(false),
  /** IANA zone guessed from the country (enrichment). */
  timezone: z.string().max(64).optional(),
  /** Unknown form fields, bounded in count and size; never dropped silently. */
  extra: z.record(z.string().max(TEXT_LIMITS.extraKey), z.string().max(TEXT_LIMITS.extraValue)).default({}),
  /** Names of extra fields that did not fit the bounds, so the loss is visible. */
  droppedFields: z.array(z.string().max(TEXT_LIMITS.extraKey)).max(50).default([]),
});
export type LeadProfile = z.output<typeof LeadProfileSchema>;

/** One rule's contribution to a score. */
export const ScoreReasonSchema = z.strictObject({
  ruleId: z.string(),
  label: z.string(),
  kind: z.enum(['fit', 'engagement']),
  points: z.number(),
  /** For engagement: occurrences counted, and points before decay and caps. */
  occurrences: z.number().int().optional(),
  detail: z.string().optional(),
  /** The stage this rule guarantees (the rule's `minStage`), whatever the points. */
  minStage: z.enum(['MQL', 'SQL']).optional(),
});
export type ScoreReason = z.output<typeof ScoreReasonSchema>;

export const LeadScoreSchema = z.strictObject({
  total: z.number(),
  fit: z.number(),
  engagement: z.number(),
  stage: LifecycleStageSchema,
  reasons: z.array(ScoreReasonSchema),
  /** The instant the engagement decay was computed at. */
  asOf: z.iso.datetime(),
});
export type LeadScore = z.output<typeof LeadScoreSchema>;

/** The stored lead. */
export const LeadSchema = z.strictObject({
  id: z.string().min(1).max(64),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  profile: LeadProfileSchema,
  source: LeadSourceSchema,
  consent: ConsentSchema.optional(),
  isTest: z.boolean().default(false),
  status: LeadStatusSchema,
  stage: LifecycleStageSchema.default('lead'),
  score: LeadScoreSchema.optional(),
  priority: PrioritySchema.default('normal'),
  owner: z.string().optional(),
  team: z.string().optional(),
  assignedAt: z.iso.datetime().optional(),
  /** While `held`: when routing tries again (the next working hour of the team). */
  heldUntil: z.iso.datetime().optional(),
  firstTouchAt: z.iso.datetime().optional(),
  nurtureSequence: z.string().optional(),
  /** Sales pipeline (opportunity) fields, set by reps. */
  pipelineStage: z.string().optional(),
  pipelineStageAt: z.iso.datetime().optional(),
  amount: z.number().nonnegative().optional(),
  lostReason: z.string().max(TEXT_LIMITS.short).optional(),
  unsubscribed: z.boolean().default(false),
  /**
   * The last change the SLA ladder made (an escalation or marking the lead unworked), written in
   * the same transaction as the change. A retried Step Functions task recognises its own write
   * by `execution` and `ladderStep`, so it neither reassigns twice nor announces twice.
   */
  slaProgress: z
    .strictObject({
      /** The SLA ladder (its name, `slaExecutionName`) that made the change. */
      execution: z.string().min(1).max(2048),
      /** Ladder steps applied so far (1-based step number of the escalation; unchanged for `unworked`). */
      ladderStep: z.number().int().min(0),
      action: z.enum(['escalate', 'unworked']),
      /** The rep who was given or told about the lead (the manager for `unworked`). */
      to: z.string().min(1).max(64),
      at: z.iso.datetime(),
      /**
       * Always written `false` now: a step's events are re-derived from this record and published
       * again on a retry, so no second write marks them published (records from before said so).
       */
      announced: z.boolean(),
    })
    .optional(),
  /**
   * The event whose re-scoring last changed the score, and the stage before it, written with the
   * score. A retried score run that finds its own write (it died before its idempotency record
   * was completed, so nothing was published) still announces the crossing it caused.
   */
  scoredBy: z
    .strictObject({
      key: z.string().min(1).max(256),
      previousStage: LifecycleStageSchema,
    })
    .optional(),
  /** Incremented on every write; used for optimistic concurrency. */
  version: z.number().int().nonnegative(),
});
export type Lead = z.output<typeof LeadSchema>;

/** Something a lead did or that happened to it. */
export const ActivitySchema = z.strictObject({
  id: z.string().min(1).max(64),
  leadId: z.string().min(1).max(64),
  type: ActivityTypeSchema,
  at: z.iso.datetime(),
  /** Type-specific data, e.g. `{ path: "/pricing" }` for a page view; read by engagement rule conditions. */
  data: z.record(z.string(), z.unknown()).default({}),
});
export type Activity = z.output<typeof ActivitySchema>;
export type { ActivityType };

/**
 * The flat, read-only view of a lead that scoring and routing conditions address by dotted path:
 * every profile field at the top level (`jobTitle`, `companySize`, `isFreeMail`...), plus
 * `source.*`, `extra.*`, `score`, `fitScore`, `engagementScore`, `stage`, `status`, `priority`,
 * `owner` and `isTest`.
 */
export type LeadFacts = Readonly<Record<string, unknown>>;

/**
 * An extra field as conditions read it: a list answer (a multi-select, stored as a JSON list of
 * texts such as `["Dashboards","Alerts"]`) is the list, so `in` and `equals` match any option.
 */
function extraFact(value: string): string | string[] {
  if (!value.startsWith('[') || !value.endsWith(']')) return value;
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) && parsed.every((v) => typeof v === 'string') ? parsed : value;
  } catch {
    return value;
  }
}

/** Builds {@link LeadFacts} from a profile and optional lead state. */
export function leadFacts(
  profile: LeadProfile,
  state: Partial<Pick<Lead, 'source' | 'stage' | 'status' | 'priority' | 'owner' | 'isTest' | 'score'>> = {},
): LeadFacts {
  return {
    ...profile,
    extra: Object.fromEntries(Object.entries(profile.extra).map(([key, value]) => [key, extraFact(value)])),
    source: state.source,
    stage: state.stage ?? 'lead',
    status: state.status,
    priority: state.priority,
    owner: state.owner,
    isTest: state.isTest ?? false,
    score: state.score?.total ?? 0,
    fitScore: state.score?.fit ?? 0,
    engagementScore: state.score?.engagement ?? 0,
  };
}

// ------------------------------------------------------------------------------------ lists

/** Filters of a lead list (`GET /leads`); every one is optional and they combine with AND. */
export interface LeadFilter {
  readonly status?: LeadStatus;
  readonly stage?: LifecycleStage;
  readonly pipelineStage?: string;
  readonly minScore?: number;
  readonly maxScore?: number;
  /** Matches the source channel (`paid_search`) or provider (`google_ads`, `form`). */
  readonly source?: string;
  /** Inclusive ISO bounds on `createdAt`. */
  readonly createdFrom?: string;
  readonly createdTo?: string;
  /** Only leads without an owner. */
  readonly unassignedOnly?: boolean;
}

/** Whose leads a list reads from an index: one owner's (`byOwner`) or one team's (`byTeam`). */
export type LeadIndexScope =
  | { readonly kind: 'owner'; readonly repId: string }
  | { readonly kind: 'team'; readonly teamId: string };

/**
 * Whether a lead, as stored now, still belongs to the owner or team whose index entry pointed at
 * it. Index entries follow the lead's writes with a delay, so right after a reassignment the old
 * owner's index may still list the lead: it must not be shown to them.
 */
export function stillInScope(lead: Pick<Lead, 'owner' | 'team'>, scope: LeadIndexScope): boolean {
  return scope.kind === 'owner' ? lead.owner === scope.repId : lead.team === scope.teamId;
}

/** Whether a lead passes every filter that is set (the ones the index key did not already apply). */
export function leadMatches(lead: Lead, filter: LeadFilter): boolean {
  if (filter.status !== undefined && lead.status !== filter.status) return false;
  if (filter.createdFrom !== undefined && lead.createdAt < filter.createdFrom) return false;
  if (filter.createdTo !== undefined && lead.createdAt > filter.createdTo) return false;
  if (filter.stage !== undefined && lead.stage !== filter.stage) return false;
  if (filter.pipelineStage !== undefined && lead.pipelineStage !== filter.pipelineStage) return false;
  const total = lead.score?.total;
  if (filter.minScore !== undefined && (total === undefined || total < filter.minScore)) return false;
  if (filter.maxScore !== undefined && (total === undefined || total > filter.maxScore)) return false;
  if (
    filter.source !== undefined &&
    lead.source.channel !== filter.source &&
    lead.source.provider !== filter.source
  )
    return false;
  if (filter.unassignedOnly === true && lead.owner !== undefined) return false;
  return true;
}
