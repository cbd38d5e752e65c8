import { z } from 'zod';
import { ActivityTypeSchema, PrioritySchema } from '../config/schema-vocabulary';
import { LifecycleStageSchema } from '../domain/lead';

/**
 * The event catalogue: every event the pipeline publishes on its EventBridge bus, with one zod
 * schema per detail-type. Producers validate before publishing and consumers parse on receipt,
 * so a change here is a reviewed change to the contract between functions. The stack's rules
 * are built from {@link DetailType} too, so a pattern can never name an event that does not exist.
 */

/** `source` of every pipeline event. */
export const EVENT_SOURCE = 'lead-pipeline';

const leadId = z.string().min(1).max(64);
const repId = z.string().min(1).max(64);
const isoTime = z.iso.datetime();

/** An overdue task as an alert lists it (titles are the client file's or a rep's, never a visitor's). */
const overdueTask = z.object({
  id: z.string().min(1).max(64),
  title: z.string().min(1).max(200),
  dueAt: isoTime,
});

/** Fields carried by every detail, for tracing and for the per-lead log line. */
const envelope = {
  leadId,
  occurredAt: isoTime,
  /** Test leads (e.g. Google Ads `is_test`) flow through but are never alerted or emailed. */
  isTest: z.boolean().default(false),
};

const DETAIL_SCHEMA_BUILDERS = {
  'Lead Captured': () =>
    z.object({
      ...envelope,
      provider: z.string(),
      channel: z.string(),
      /** `pending`: the provider's fields must still be fetched (Meta without a token). */
      pending: z.boolean().default(false),
    }),
  'Lead Enriched': () =>
    z.object({
      ...envelope,
      /** Fields the enrichment filled or changed. */
      fields: z.array(z.string()),
      providerUsed: z.boolean(),
    }),
  'Activity Recorded': () =>
    z.object({
      ...envelope,
      activityId: z.string(),
      type: ActivityTypeSchema,
    }),
  'Lead Scored': () =>
    z.object({
      ...envelope,
      total: z.number(),
      fit: z.number(),
      engagement: z.number(),
      stage: LifecycleStageSchema,
      previousStage: LifecycleStageSchema,
      /** What caused the recompute. */
      trigger: z.enum(['captured', 'enriched', 'activity', 'manual']),
      /** True when routing should look at the lead: first score, or a threshold crossed. */
      routable: z.boolean(),
    }),
  'Lead Assigned': () =>
    z.object({
      ...envelope,
      repId,
      teamId: z.string(),
      ruleId: z.string(),
      via: z.enum(['returning-owner', 'round-robin', 'team-backup', 'default-owner', 'escalation', 'manual']),
      priority: PrioritySchema,
      assignedAt: isoTime,
      /** Set when the lead moved from another rep (SLA escalation or a manager's reassignment). */
      previousOwner: repId.optional(),
      /** Index of the SLA ladder step that caused this assignment (0 = first assignment). */
      ladderStep: z.number().int().min(0).default(0),
    }),
  'Lead Held': () =>
    z.object({
      ...envelope,
      teamId: z.string(),
      ruleId: z.string(),
      until: isoTime,
    }),
  'Lead Nurtured': () =>
    z.object({
      ...envelope,
      sequenceId: z.string(),
      ruleId: z.string(),
    }),
  'Lead Contacted': () =>
    z.object({
      ...envelope,
      repId,
      /** Seconds from capture to first touch (speed to lead). */
      secondsToFirstTouch: z.number().nonnegative(),
    }),
  'Lead Escalated': () =>
    z.object({
      ...envelope,
      fromRepId: repId,
      toRepId: repId.optional(),
      ladderStep: z.number().int().min(1),
      to: z.enum(['team', 'teamBackup', 'manager']),
      minutesWithoutContact: z.number().nonnegative(),
    }),
  'Lead Unworked': () =>
    z.object({
      ...envelope,
      lastOwner: repId,
      managerId: repId,
      minutesWithoutContact: z.number().nonnegative(),
    }),
  'Lead Stage Changed': () =>
    z.object({
      ...envelope,
      from: z.string().optional(),
      to: z.string(),
      by: z.string(),
    }),
  /**
   * A meeting was booked through a scheduling tool (Calendly, Cal.com) by a lead: published once
   * per booking (a reschedule is a new booking with `rescheduled: true`, after a
   * `Meeting Canceled` of the old one). Carries the meeting time so reminders (SMS, email) can
   * be scheduled without reading the activity; the phone number and consent stay on the lead.
   */
  'Meeting Booked': () =>
    z.object({
      ...envelope,
      /** The lead's `meeting_booked` activity (stable per provider booking). */
      activityId: z.string().min(1).max(64),
      provider: z.enum(['calendly', 'calcom']),
      /** The provider's booking id (Calendly invitee URI, Cal.com booking uid), as stored. */
      bookingId: z.string().min(1).max(200),
      /** When the meeting starts and ends (ISO, UTC), when the provider said. */
      startTime: isoTime.optional(),
      endTime: isoTime.optional(),
      /** Event type name or booking title ("30 Minute Demo"). */
      meetingName: z.string().max(200).optional(),
      /** The lead's owner when the booking arrived, if any. */
      repId: repId.optional(),
      /**
       * `instant-offer`: booked from the link the thank-you page offered right after the form;
       * `rep-outreach`: any other booking (a link the rep sent, the scheduling page itself).
       */
      via: z.enum(['instant-offer', 'rep-outreach']),
      /** The booking replaces an earlier one. */
      rescheduled: z.boolean().default(false),
    }),
  /** A booked meeting was cancelled (or moved: then a `Meeting Booked` with `rescheduled` follows). */
  'Meeting Canceled': () =>
    z.object({
      ...envelope,
      activityId: z.string().min(1).max(64),
      provider: z.enum(['calendly', 'calcom']),
      bookingId: z.string().min(1).max(200),
      startTime: isoTime.optional(),
      rescheduled: z.boolean().default(false),
    }),
  'Lead Unsubscribed': () =>
    z.object({
      ...envelope,
      via: z.enum(['link', 'one-click', 'complaint', 'bounce', 'admin']),
    }),
  'Stale Deal Found': () =>
    z.object({
      ...envelope,
      repId,
      pipelineStage: z.string(),
      daysInStage: z.number().int().nonnegative(),
      /** The deal's overdue tasks, oldest first (at most 10), so one daily message says it all. */
      overdueTasks: z.array(overdueTask).max(10).default([]),
    }),
  /** The daily sweep found overdue tasks on an open deal that is not (yet) stale. */
  'Tasks Overdue': () =>
    z.object({
      ...envelope,
      repId,
      pipelineStage: z.string(),
      /** Oldest first, at most 10. */
      tasks: z.array(overdueTask).min(1).max(10),
    }),
  /**
   * An admin asked to erase a person. Only the job id travels (the archive keeps events for
   * replay, and must not keep the address); the `erase` function reads the job.
   */
  'Erasure Requested': () =>
    z.object({
      erasureId: z.string().min(1).max(64),
      occurredAt: isoTime,
    }),
} as const;

/** The schema of each detail-type, as {@link DETAIL_SCHEMA_BUILDERS} builds it. */
export type DetailSchemas = {
  readonly [K in keyof typeof DETAIL_SCHEMA_BUILDERS]: ReturnType<(typeof DETAIL_SCHEMA_BUILDERS)[K]>;
};

/**
 * One zod schema per detail-type, each built the first time it is used. A function handles two
 * or three of the eighteen types; building all of them at import was a measurable part of every
 * cold start (each `.min()`/`.max()` builds another schema).
 */
export const DETAIL_SCHEMAS: DetailSchemas = lazySchemas(DETAIL_SCHEMA_BUILDERS);

function lazySchemas<B extends Record<string, () => unknown>>(
  builders: B,
): { readonly [K in keyof B]: ReturnType<B[K]> } {
  const schemas = {} as { [K in keyof B]: ReturnType<B[K]> };
  for (const type of Object.keys(builders) as Array<keyof B>) {
    Object.defineProperty(schemas, type, {
      enumerable: true,
      configurable: true, // replaced by the built schema on first read
      get() {
        const schema = builders[type]?.() as ReturnType<B[typeof type]>;
        Object.defineProperty(schemas, type, { enumerable: true, value: schema });
        return schema;
      },
    });
  }
  return schemas;
}

/** Every detail-type the pipeline publishes. */
export type DetailType = keyof typeof DETAIL_SCHEMAS;
export const DETAIL_TYPES = Object.keys(DETAIL_SCHEMAS) as DetailType[];

/** The detail of a given event, after parsing (defaults applied). */
export type EventDetail<T extends DetailType> = z.output<(typeof DETAIL_SCHEMAS)[T]>;
/** The detail as a producer writes it (defaults optional). */
export type EventDetailInput<T extends DetailType> = z.input<(typeof DETAIL_SCHEMAS)[T]>;

/** A pipeline event ready to publish. */
export interface PipelineEvent<T extends DetailType = DetailType> {
  readonly detailType: T;
  readonly detail: EventDetail<T>;
}

/** Validates a detail for publishing; throws a ZodError naming the bad field. */
export function pipelineEvent<T extends DetailType>(
  detailType: T,
  detail: EventDetailInput<T>,
): PipelineEvent<T> {
  return { detailType, detail: DETAIL_SCHEMAS[detailType].parse(detail) as EventDetail<T> };
}

/** Parses a received detail of the given type. */
export function parseDetail<T extends DetailType>(detailType: T, detail: unknown): EventDetail<T> {
  return DETAIL_SCHEMAS[detailType].parse(detail) as EventDetail<T>;
}
