import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { LeadQuery } from '../adapters/lead-repository';
import type { ClientConfig } from '../config/schema';
import { canonicalEmail, emailDedupeKey, LeadEmailSchema } from '../domain/email';
import { InvalidInputError, LeadChangedError, LeadNotFoundError, TaskNotFoundError } from '../domain/errors';
import { digestTasks } from '../domain/follow-up';
import { parseInput } from '../domain/input';
import {
  type Activity,
  type Lead,
  LeadStatusSchema,
  LifecycleStageSchema,
  type ScoreReason,
} from '../domain/lead';
import {
  actorName,
  assignmentActivityId,
  type Caller,
  changeTask,
  firstTouchActivityId,
  isStaleDeal,
  type LeadAccess,
  type LeadNote,
  type LeadTask,
  LeadTaskSchema,
  type LeadUpdate,
  listScope,
  MANUAL_STATUSES,
  NOTE_MAX_LENGTH,
  PreconditionFailedError,
  pipelineStage,
  planFirstTouch,
  planLeadUpdate,
  planReassignment,
  requireAdmin,
  requireLeadAccess,
  stageChangeActivityId,
  TASK_TITLE_MAX_LENGTH,
} from '../domain/pipeline';
import { topReasons } from '../domain/scoring';
import { assignmentDeadline, slaExecutionName } from '../domain/sla';
import { emailHash } from '../domain/tokens';
import { type DetailType, type PipelineEvent, pipelineEvent } from '../events/catalogue';
import type { Page } from '../ports/page';
import { mapLimit } from './map-limit';

/**
 * The reps' and managers' use cases behind the leads API: list and read leads, mark the first
 * touch, move leads through the pipeline, reassign, notes and tasks, and the admin's export and
 * erasure of a person. Rules live in `domain/pipeline.ts`; this module reads, decides, writes
 * and announces.
 *
 * Announcing is an outbox: the activity that records a change (`contacted`, `assigned`,
 * `stage_changed`) is written in the same transaction as the lead with `data.announced = false`,
 * the event is published, then the activity is marked announced. A retry of a request whose
 * publish failed finds the change already made and the activity unannounced, and publishes then.
 */

// ------------------------------------------------------------------------------------ ports

/** Storage used here (implemented by `LeadRepository`). */
export interface LeadsStore {
  getLead(leadId: string): Promise<Lead | undefined>;
  requireLead(leadId: string): Promise<Lead>;
  saveLead(
    previous: Lead,
    next: Lead,
    options?: { activities?: readonly Activity[]; capacity?: number },
  ): Promise<Lead>;
  findLeads(query: LeadQuery): Promise<Page<Lead>>;
  listLeadPartition(leadId: string): Promise<Record<string, unknown>[]>;
  getActivity(leadId: string, at: string, activityId: string): Promise<Activity | undefined>;
  markActivityAnnounced(leadId: string, at: string, activityId: string): Promise<void>;
  putNote(note: LeadNote): Promise<boolean>;
  putTask(task: LeadTask): Promise<boolean>;
  saveTask(task: LeadTask): Promise<void>;
  listTasks(leadId: string): Promise<LeadTask[]>;
  findLeadIdByDedupeKey(dedupeKey: string): Promise<string | undefined>;
  getSuppression(emailHash: string): Promise<{ reason?: string; at?: string } | undefined>;
  suppress(emailHash: string, reason: string, at: string): Promise<void>;
  deleteItems(itemKeys: ReadonlyArray<{ pk: string; sk: string }>): Promise<void>;
  deleteLeadAndPointers(lead: Lead, alsoDedupeKeys?: readonly string[]): Promise<number>;
}

/** Publishes catalogue events (implemented by `EventPublisher`). */
export interface LeadsPublisher {
  publish(...events: ReadonlyArray<PipelineEvent<DetailType>>): Promise<void>;
}

/** Ends a running SLA ladder execution (Step Functions `StopExecution`). */
export interface SlaClock {
  stop(executionArn: string, cause: string): Promise<void>;
  /** The ARN of the SLA execution with this name (see `slaExecutionName`). */
  executionArn(name: string): string;
}

export interface LeadsDeps {
  readonly store: LeadsStore;
  readonly publisher: LeadsPublisher;
  readonly sla: SlaClock;
  readonly config: ClientConfig;
  readonly now?: () => Date;
  readonly newId?: () => string;
  /** Told about best-effort steps that failed without failing the request. */
  readonly warn?: (message: string, details: Record<string, unknown>) => void;
}

/** Task reads in flight at once while listing leads. */
const TASK_READS_IN_PARALLEL = 8;

/** Attempts of a read-modify-write before a concurrent writer wins (answered 503, retry). */
const MAX_ATTEMPTS = 3;

// ------------------------------------------------------------------------------------ input

/** Parses input with a zod schema; a bad field is answered 400 naming it (`shared/domain/input.ts`). */
export { parseInput };

const isoDate = z.iso.date();
const dateOrTime = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  error: 'a date (YYYY-MM-DD) or an ISO timestamp',
});

/** Query parameters of `GET /leads`. */
export const ListLeadsQuerySchema = z
  .strictObject({
    owner: z.string().min(1).max(64).optional(),
    team: z.string().min(1).max(64).optional(),
    status: LeadStatusSchema.optional(),
    stage: LifecycleStageSchema.optional(),
    pipelineStage: z.string().min(1).max(64).optional(),
    minScore: z.coerce.number().min(-100_000).max(100_000).optional(),
    maxScore: z.coerce.number().min(-100_000).max(100_000).optional(),
    source: z.string().min(1).max(100).optional(),
    from: dateOrTime.optional(),
    to: dateOrTime.optional(),
    limit: z.coerce.number().int().min(1).max(100).default(25),
    nextToken: z.string().min(1).max(4096).optional(),
  })
  .refine((q) => q.minScore === undefined || q.maxScore === undefined || q.minScore <= q.maxScore, {
    message: 'must not be below minScore',
    path: ['maxScore'],
  })
  .refine((q) => q.from === undefined || q.to === undefined || lowerBound(q.from) <= upperBound(q.to), {
    message: 'must not be before from',
    path: ['to'],
  });
export type ListLeadsQuery = z.input<typeof ListLeadsQuerySchema>;

/** Body of `PATCH /leads/{id}`. */
export const LeadUpdateSchema = z
  .strictObject({
    status: z
      .enum(MANUAL_STATUSES, {
        error: `one of ${MANUAL_STATUSES.join(', ')} (contact, win and loss have their own actions)`,
      })
      .optional(),
    pipelineStage: z.string().min(1).max(64).optional(),
    amount: z.number().nonnegative().max(1e12).optional(),
    lostReason: z.string().min(1).max(80).optional(),
    marketingConsent: z
      .literal(false, { error: 'only false (an opt-out); an opt-in must come from the person' })
      .optional(),
  })
  .refine((u) => Object.keys(u).length > 0, {
    message: 'give at least one of status, pipelineStage, amount, lostReason, marketingConsent',
  });

/** Body of `POST /leads/{id}/reassign`. */
export const ReassignSchema = z.strictObject({
  repId: z.string().min(1).max(64),
  force: z.boolean().optional(),
});

/** Body of `POST /leads/{id}/notes`. */
export const NoteSchema = z.strictObject({
  text: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(NOTE_MAX_LENGTH, `at most ${NOTE_MAX_LENGTH} characters`),
});

/** Body of `POST /leads/{id}/tasks`. */
export const TaskSchema = z.strictObject({
  title: z.string().trim().min(1, 'must not be empty').max(TASK_TITLE_MAX_LENGTH),
  dueAt: z.iso.datetime({ offset: true, error: 'an ISO timestamp such as 2025-06-30T09:00:00Z' }),
  done: z.boolean().default(false),
});

/** Body of `PATCH /leads/{id}/tasks/{taskId}`: mark done or open again, or rename. */
export const TaskUpdateSchema = z
  .strictObject({
    title: z.string().trim().min(1, 'must not be empty').max(TASK_TITLE_MAX_LENGTH).optional(),
    done: z.boolean().optional(),
  })
  .refine((u) => u.title !== undefined || u.done !== undefined, {
    message: 'give "done" and/or "title"',
  });

/** Start of a `from` bound: a bare date means its first instant (UTC). */
export function lowerBound(value: string): string {
  return isoDate.safeParse(value).success ? `${value}T00:00:00.000Z` : new Date(value).toISOString();
}

/** End of a `to` bound: a bare date means its last instant (UTC), so `to` is inclusive. */
export function upperBound(value: string): string {
  return isoDate.safeParse(value).success ? `${value}T23:59:59.999Z` : new Date(value).toISOString();
}

// ------------------------------------------------------------------------------------ views

/** A lead as a list shows it. */
export interface LeadSummary {
  readonly id: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly name?: string;
  readonly email?: string;
  readonly phone?: string;
  readonly company?: string;
  readonly status: Lead['status'];
  readonly stage: Lead['stage'];
  readonly pipelineStage?: string;
  readonly amount?: number;
  readonly score?: number;
  readonly priority: Lead['priority'];
  readonly owner?: string;
  readonly team?: string;
  readonly source: { readonly channel: string; readonly provider: string };
  readonly firstTouchAt?: string;
  /** When the lead was (last) assigned. */
  readonly assignedAt?: string;
  /** When the lead entered its pipeline stage (a deal is stale after `pipeline.staleAfterDays`). */
  readonly pipelineStageAt?: string;
  /** While the owner has not made contact: when the SLA escalates (set by {@link listLeads}). */
  readonly slaDueAt?: string;
  /** Open tasks, those past due, and the earliest due time (set by {@link listLeads}). */
  readonly openTasks?: number;
  readonly overdueTasks?: number;
  readonly nextTaskDueAt?: string;
  /** Set when the deal sat in its open stage for `pipeline.staleAfterDays` (set by {@link listLeads}). */
  readonly stale?: true;
  readonly isTest: boolean;
  readonly version: number;
}

/** The list view of a lead. */
export function summarise(lead: Lead): LeadSummary {
  const name = [lead.profile.firstName, lead.profile.lastName].filter(Boolean).join(' ');
  return {
    id: lead.id,
    createdAt: lead.createdAt,
    updatedAt: lead.updatedAt,
    ...(name ? { name } : {}),
    ...(lead.profile.email ? { email: lead.profile.email } : {}),
    ...(lead.profile.phone ? { phone: lead.profile.phone } : {}),
    ...(lead.profile.company ? { company: lead.profile.company } : {}),
    status: lead.status,
    stage: lead.stage,
    ...(lead.pipelineStage !== undefined ? { pipelineStage: lead.pipelineStage } : {}),
    ...(lead.amount !== undefined ? { amount: lead.amount } : {}),
    ...(lead.score ? { score: lead.score.total } : {}),
    priority: lead.priority,
    ...(lead.owner !== undefined ? { owner: lead.owner } : {}),
    ...(lead.team !== undefined ? { team: lead.team } : {}),
    source: { channel: lead.source.channel, provider: lead.source.provider },
    ...(lead.firstTouchAt !== undefined ? { firstTouchAt: lead.firstTouchAt } : {}),
    ...(lead.assignedAt !== undefined ? { assignedAt: lead.assignedAt } : {}),
    ...(lead.pipelineStageAt !== undefined ? { pipelineStageAt: lead.pipelineStageAt } : {}),
    isTest: lead.isTest,
    version: lead.version,
  };
}

/**
 * When the owner of a lead awaiting first contact must have touched it: the same deadline the
 * SLA ladder waits for (working minutes in the owner's calendar when the client counts them).
 * Undefined once contacted, or for leads without an owner.
 */
export function slaDueAt(lead: Lead, config: Pick<ClientConfig, 'sla' | 'reps'>): string | undefined {
  if (lead.status !== 'assigned' || lead.firstTouchAt !== undefined) return undefined;
  if (lead.owner === undefined || lead.assignedAt === undefined) return undefined;
  const owner = config.reps.find((r) => r.id === lead.owner);
  const step = lead.slaProgress?.action === 'escalate' ? lead.slaProgress.ladderStep : 0;
  return assignmentDeadline(config.sla, owner, new Date(lead.assignedAt), step).toISOString();
}

/** One entry of a lead's timeline, newest first. */
export type TimelineEntry =
  | { readonly kind: 'activity'; readonly at: string; readonly activity: Activity }
  | { readonly kind: 'note'; readonly at: string; readonly note: LeadNote }
  | { readonly kind: 'task'; readonly at: string; readonly task: LeadTask };

/** A lead's score as the rep sees it: totals plus the reasons, biggest first. */
export interface ScoreExplanation {
  readonly total: number;
  readonly fit: number;
  readonly engagement: number;
  readonly stage: Lead['stage'];
  readonly asOf: string;
  readonly reasons: readonly ScoreReason[];
}

/** Everything a rep sees on one lead. */
export interface LeadDetail {
  readonly lead: Lead;
  /** What the caller may do with it. */
  readonly access: LeadAccess;
  readonly timeline: readonly TimelineEntry[];
  readonly score?: ScoreExplanation;
  readonly scoreHistory: ReadonlyArray<{
    readonly at: string;
    readonly total?: number;
    readonly fit?: number;
    readonly engagement?: number;
    readonly stage?: string;
  }>;
  readonly openTasks: number;
}

const NoteItem = z.object({
  id: z.string(),
  leadId: z.string(),
  at: z.string(),
  by: z.string(),
  text: z.string(),
});
const TaskItem = LeadTaskSchema;
const ActivityItem = z.object({
  id: z.string(),
  leadId: z.string(),
  type: z.string(),
  at: z.string(),
  data: z.record(z.string(), z.unknown()).default({}),
});
const ScoreHistoryItem = z.object({
  at: z.string(),
  score: z
    .object({
      total: z.number().optional(),
      fit: z.number().optional(),
      engagement: z.number().optional(),
      stage: z.string().optional(),
    })
    .loose()
    .optional(),
});

/** The items of a lead partition, by kind (sort-key prefix). */
export interface LeadPartition {
  readonly profile?: Record<string, unknown>;
  readonly activities: Record<string, unknown>[];
  readonly scoreHistory: Record<string, unknown>[];
  readonly notes: Record<string, unknown>[];
  readonly tasks: Record<string, unknown>[];
  readonly sends: Record<string, unknown>[];
  readonly other: Record<string, unknown>[];
}

/** Sorts a lead partition's items by their sort-key prefix. */
export function splitPartition(items: readonly Record<string, unknown>[]): LeadPartition {
  const parts: { -readonly [K in keyof LeadPartition]: LeadPartition[K] } = {
    activities: [],
    scoreHistory: [],
    notes: [],
    tasks: [],
    sends: [],
    other: [],
  };
  for (const item of items) {
    const sk = String(item.sk ?? '');
    if (sk === 'PROFILE') parts.profile = item;
    else if (sk.startsWith('ACT#')) parts.activities.push(item);
    else if (sk.startsWith('SCORE#')) parts.scoreHistory.push(item);
    else if (sk.startsWith('NOTE#')) parts.notes.push(item);
    else if (sk.startsWith('TASK#')) parts.tasks.push(item);
    else if (sk.startsWith('SEND#')) parts.sends.push(item);
    else parts.other.push(item);
  }
  return parts;
}

// ------------------------------------------------------------------------------------ reading

/** `GET /leads`: the caller's leads or a team's, filtered and paged. */
export async function listLeads(
  caller: Caller,
  rawQuery: Record<string, string | undefined>,
  deps: LeadsDeps,
): Promise<{ items: LeadSummary[]; nextToken?: string; scope: ReturnType<typeof listScope> }> {
  const query = parseInput(ListLeadsQuerySchema, definedOnly(rawQuery));
  if (query.pipelineStage !== undefined && !pipelineStage(deps.config, query.pipelineStage))
    throw new InvalidInputError([
      {
        field: 'pipelineStage',
        reason: `unknown stage; one of ${deps.config.pipeline.stages.map((s) => s.id).join(', ')}`,
      },
    ]);
  const scope = listScope(caller, { owner: query.owner, team: query.team }, deps.config);
  const page = await deps.store.findLeads({
    scope:
      scope.kind === 'owner' ? { kind: 'owner', repId: scope.repId } : { kind: 'team', teamId: scope.teamId },
    filter: definedOnly({
      status: query.status,
      stage: query.stage,
      pipelineStage: query.pipelineStage,
      minScore: query.minScore,
      maxScore: query.maxScore,
      source: query.source,
      createdFrom: query.from === undefined ? undefined : lowerBound(query.from),
      createdTo: query.to === undefined ? undefined : upperBound(query.to),
      unassignedOnly: scope.kind === 'team' && scope.unassignedOnly ? true : undefined,
    }),
    limit: query.limit,
    ...(query.nextToken !== undefined ? { nextToken: query.nextToken } : {}),
  });
  const now = clock(deps)();
  // One query per listed lead (its TASK# items): lists are short pages, and a task index
  // would be one more write on every task for the same answer.
  const tasks = await mapLimit(page.items, TASK_READS_IN_PARALLEL, (lead) => deps.store.listTasks(lead.id));
  return {
    items: page.items.map((lead, i) => {
      const due = slaDueAt(lead, deps.config);
      const digest = digestTasks(tasks[i] ?? [], now);
      return {
        ...summarise(lead),
        ...(due !== undefined ? { slaDueAt: due } : {}),
        ...(digest.openTasks > 0 ? digest : {}),
        ...(isStaleDeal(lead, deps.config, now) ? { stale: true as const } : {}),
      };
    }),
    ...(page.nextToken !== undefined ? { nextToken: page.nextToken } : {}),
    scope,
  };
}

/** `GET /leads/{id}`: the lead, its timeline, score explanation and history. */
export async function getLeadDetail(caller: Caller, leadId: string, deps: LeadsDeps): Promise<LeadDetail> {
  const lead = await deps.store.requireLead(leadId);
  const access = requireLeadAccess(caller, lead, 'view', 'read this lead', deps.config);
  const parts = splitPartition(await deps.store.listLeadPartition(lead.id));
  const timeline: TimelineEntry[] = [];
  for (const item of parts.activities) {
    const a = ActivityItem.safeParse(item);
    if (a.success) timeline.push({ kind: 'activity', at: a.data.at, activity: a.data as Activity });
  }
  for (const item of parts.notes) {
    const n = NoteItem.safeParse(item);
    if (n.success) timeline.push({ kind: 'note', at: n.data.at, note: n.data });
  }
  let openTasks = 0;
  for (const item of parts.tasks) {
    const t = TaskItem.safeParse(item);
    if (!t.success) continue;
    if (!t.data.done) openTasks++;
    timeline.push({ kind: 'task', at: t.data.createdAt, task: t.data });
  }
  timeline.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  const scoreHistory = parts.scoreHistory
    .map((item) => ScoreHistoryItem.safeParse(item))
    .flatMap((r) => (r.success ? [r.data] : []))
    .map(({ at, score }) => ({
      at,
      ...(score?.total !== undefined ? { total: score.total } : {}),
      ...(score?.fit !== undefined ? { fit: score.fit } : {}),
      ...(score?.engagement !== undefined ? { engagement: score.engagement } : {}),
      ...(score?.stage !== undefined ? { stage: score.stage } : {}),
    }))
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return {
    lead,
    access,
    timeline,
    ...(lead.score
      ? {
          score: {
            total: lead.score.total,
            fit: lead.score.fit,
            engagement: lead.score.engagement,
            stage: lead.score.stage,
            asOf: lead.score.asOf,
            reasons: topReasons(lead.score, lead.score.reasons.length),
          },
        }
      : {}),
    scoreHistory,
    openTasks,
  };
}

/** `GET /me`: who the caller is and what the console needs to draw the client's pipeline. */
export interface Workspace {
  readonly me: {
    readonly roles: readonly string[];
    readonly repId?: string;
    readonly name?: string;
    readonly teamId?: string;
    readonly managedTeams: readonly string[];
  };
  readonly client: { readonly name: string; readonly displayName: string; readonly currency: string };
  readonly pipeline: Pick<ClientConfig['pipeline'], 'stages' | 'lostReasons' | 'staleAfterDays'>;
  readonly sla: { readonly firstTouchMinutes: number };
  readonly teams: ReadonlyArray<{ readonly id: string; readonly name: string; readonly manager?: string }>;
  readonly reps: ReadonlyArray<{ readonly id: string; readonly name: string; readonly team: string }>;
}

/** The caller and the parts of the client file a console shows (no emails, hours or secrets). */
export function workspace(caller: Caller, config: ClientConfig): Workspace {
  const rep = config.reps.find((r) => r.id === caller.repId);
  return {
    me: {
      roles: caller.roles,
      ...(caller.repId !== undefined ? { repId: caller.repId } : {}),
      ...(rep ? { name: rep.name } : {}),
      ...(caller.teamId !== undefined ? { teamId: caller.teamId } : {}),
      managedTeams: caller.managedTeams,
    },
    client: {
      name: config.client.name,
      displayName: config.client.displayName,
      currency: config.client.currency,
    },
    pipeline: {
      stages: config.pipeline.stages,
      lostReasons: config.pipeline.lostReasons,
      staleAfterDays: config.pipeline.staleAfterDays,
    },
    sla: { firstTouchMinutes: config.sla.firstTouchMinutes },
    teams: config.teams.map((t) => ({
      id: t.id,
      name: t.name,
      ...(t.manager ? { manager: t.manager } : {}),
    })),
    reps: config.reps.map((r) => ({ id: r.id, name: r.name, team: r.team })),
  };
}

// ------------------------------------------------------------------------------------ first touch

/** Result of {@link markContacted}. */
export interface ContactedResult {
  readonly lead: LeadSummary;
  readonly firstTouchAt: string;
  readonly secondsToFirstTouch: number;
  /** True when the first touch had been recorded before this call. */
  readonly alreadyContacted: boolean;
}

/**
 * `POST /leads/{id}/contacted`: records the first touch once, publishes `Lead Contacted` with
 * the speed to lead, and ends the SLA ladder. Idempotent: a repeat answers with the original
 * first touch (and publishes only if the first call's publish had failed).
 */
export async function markContacted(
  caller: Caller,
  leadId: string,
  deps: LeadsDeps,
): Promise<ContactedResult> {
  const now = clock(deps)();
  for (let attempt = 1; ; attempt++) {
    const lead = await deps.store.requireLead(leadId);
    requireLeadAccess(caller, lead, 'work', 'mark a lead contacted', deps.config);
    const plan = planFirstTouch(lead, caller, now);
    if (plan.outcome === 'already-contacted') {
      const activity = await deps.store.getActivity(
        lead.id,
        plan.firstTouchAt,
        firstTouchActivityId(lead.id),
      );
      if (activity && activity.data.announced !== true) await announceContacted(lead, activity, deps);
      return {
        lead: summarise(lead),
        firstTouchAt: plan.firstTouchAt,
        secondsToFirstTouch: numberOr(
          activity?.data.secondsToFirstTouch,
          secondsBetween(lead.createdAt, plan.firstTouchAt),
        ),
        alreadyContacted: true,
      };
    }
    let saved: Lead;
    try {
      saved = await deps.store.saveLead(lead, plan.lead, { activities: [plan.activity] });
    } catch (error) {
      if (error instanceof LeadChangedError && attempt < MAX_ATTEMPTS) continue;
      throw error;
    }
    await announceContacted(saved, plan.activity, deps);
    return {
      lead: summarise(saved),
      firstTouchAt: plan.activity.at,
      secondsToFirstTouch: plan.secondsToFirstTouch,
      alreadyContacted: false,
    };
  }
}

async function announceContacted(lead: Lead, activity: Activity, deps: LeadsDeps): Promise<void> {
  await deps.publisher.publish(
    pipelineEvent('Lead Contacted', {
      leadId: lead.id,
      occurredAt: activity.at,
      isTest: lead.isTest,
      repId: String(activity.data.repId ?? lead.owner),
      secondsToFirstTouch: numberOr(
        activity.data.secondsToFirstTouch,
        secondsBetween(lead.createdAt, activity.at),
      ),
    }),
  );
  await stopSlaLadder(lead, 'the lead was contacted', deps);
  await deps.store.markActivityAnnounced(lead.id, activity.at, activity.id);
}

/**
 * Stops the SLA ladder of the lead's current assignment at once. A ladder is started under a
 * name derived from the assignment (`slaExecutionName` of the lead and `assignedAt`); when an
 * escalation reassigned the lead, `assignedAt` is the escalation's and the ladder is the one it
 * recorded (`slaProgress.execution`). Best effort: a failure is reported, not thrown, and the
 * ladder then ends without effect at its next step, which sees the first touch (or the new owner).
 */
async function stopSlaLadder(lead: Lead, cause: string, deps: LeadsDeps): Promise<void> {
  const progress = lead.slaProgress;
  let execution: string | undefined;
  if (progress?.action === 'escalate' && progress.at === lead.assignedAt) execution = progress.execution;
  else if (lead.assignedAt) execution = deps.sla.executionArn(slaExecutionName(lead.id, lead.assignedAt));
  if (!execution) return;
  try {
    await deps.sla.stop(execution, cause);
  } catch (error) {
    deps.warn?.('Could not stop the SLA execution; it ends at its next step', {
      leadId: lead.id,
      execution,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

// ------------------------------------------------------------------------------------ status and stage

/** Result of {@link updateLead}. */
export interface UpdateResult {
  readonly lead: Lead;
  readonly changed: readonly string[];
}

/**
 * `PATCH /leads/{id}`: status, pipeline stage, amount, lost reason. With `expectedVersion`
 * (the `If-Match` header) the change applies only to that version (else
 * {@link PreconditionFailedError}); without it a concurrent write is retried from a fresh read.
 */
export async function updateLead(
  caller: Caller,
  leadId: string,
  body: unknown,
  expectedVersion: number | undefined,
  deps: LeadsDeps,
): Promise<UpdateResult> {
  const update: LeadUpdate = parseInput(LeadUpdateSchema, body);
  const now = clock(deps)();
  for (let attempt = 1; ; attempt++) {
    const lead = await deps.store.requireLead(leadId);
    requireLeadAccess(caller, lead, 'work', "change a lead's status or stage", deps.config);
    if (expectedVersion !== undefined && lead.version !== expectedVersion)
      throw new PreconditionFailedError(lead.id, expectedVersion, lead.version);
    const plan = planLeadUpdate(lead, update, deps.config, now, actorName(caller));
    if (plan.changed.length === 0) {
      // Same stage again: possibly the retry of a request whose announcement failed.
      if (update.pipelineStage !== undefined && lead.pipelineStageAt !== undefined) {
        const activity = await deps.store.getActivity(
          lead.id,
          lead.pipelineStageAt,
          stageChangeActivityId(lead.id, lead.pipelineStageAt),
        );
        if (activity && activity.data.announced !== true) await announceStageChange(lead, activity, deps);
      }
      return { lead, changed: [] };
    }
    let saved: Lead;
    try {
      saved = await deps.store.saveLead(lead, plan.lead, {
        activities: plan.stageChange ? [plan.stageChange.activity] : [],
      });
    } catch (error) {
      if (error instanceof LeadChangedError) {
        if (expectedVersion !== undefined) {
          const current = await deps.store.getLead(leadId);
          if (!current) throw new LeadNotFoundError(leadId);
          throw new PreconditionFailedError(leadId, expectedVersion, current.version);
        }
        if (attempt < MAX_ATTEMPTS) continue;
      }
      throw error;
    }
    if (plan.stageChange) await announceStageChange(saved, plan.stageChange.activity, deps);
    return { lead: saved, changed: plan.changed };
  }
}

async function announceStageChange(lead: Lead, activity: Activity, deps: LeadsDeps): Promise<void> {
  const from = typeof activity.data.from === 'string' ? activity.data.from : undefined;
  await deps.publisher.publish(
    pipelineEvent('Lead Stage Changed', {
      leadId: lead.id,
      occurredAt: activity.at,
      isTest: lead.isTest,
      ...(from !== undefined ? { from } : {}),
      to: String(activity.data.to),
      by: String(activity.data.by),
    }),
  );
  await deps.store.markActivityAnnounced(lead.id, activity.at, activity.id);
}

// ------------------------------------------------------------------------------------ reassignment

/** Result of {@link reassignLead}. */
export interface ReassignResult {
  readonly lead: LeadSummary;
  readonly previousOwner?: string;
  /** True when the lead already belonged to the rep. */
  readonly unchanged: boolean;
}

/**
 * `POST /leads/{id}/reassign`: moves the lead to another rep within their capacity (admins may
 * `force`), and publishes `Lead Assigned` via `manual` so the SLA rule starts the new owner's
 * clock. The previous owner's ladder ends when it sees the new owner (and is stopped now when its
 * execution is known).
 * @throws RepAtCapacityError naming the rep.
 */
export async function reassignLead(
  caller: Caller,
  leadId: string,
  body: unknown,
  deps: LeadsDeps,
): Promise<ReassignResult> {
  const request = parseInput(ReassignSchema, body);
  const now = clock(deps)();
  for (let attempt = 1; ; attempt++) {
    const lead = await deps.store.requireLead(leadId);
    const plan = planReassignment(lead, caller, request, deps.config, now);
    if (plan.outcome === 'unchanged') {
      if (lead.assignedAt !== undefined) {
        const activity = await deps.store.getActivity(
          lead.id,
          lead.assignedAt,
          assignmentActivityId(lead.id, lead.assignedAt),
        );
        if (activity && activity.data.via === 'manual' && activity.data.announced !== true)
          await announceAssignment(lead, lead, activity, deps);
      }
      return { lead: summarise(lead), unchanged: true };
    }
    let saved: Lead;
    try {
      saved = await deps.store.saveLead(lead, plan.lead, {
        activities: [plan.activity],
        ...(plan.capacity !== undefined ? { capacity: plan.capacity } : {}),
      });
    } catch (error) {
      if (error instanceof LeadChangedError && attempt < MAX_ATTEMPTS) continue;
      throw error;
    }
    await announceAssignment(lead, saved, plan.activity, deps);
    return {
      lead: summarise(saved),
      ...(plan.previousOwner !== undefined ? { previousOwner: plan.previousOwner } : {}),
      unchanged: false,
    };
  }
}

async function announceAssignment(
  before: Lead,
  lead: Lead,
  activity: Activity,
  deps: LeadsDeps,
): Promise<void> {
  const previousOwner =
    typeof activity.data.previousOwner === 'string' ? activity.data.previousOwner : undefined;
  await deps.publisher.publish(
    pipelineEvent('Lead Assigned', {
      leadId: lead.id,
      occurredAt: activity.at,
      isTest: lead.isTest,
      repId: String(activity.data.repId),
      teamId: String(activity.data.teamId),
      ruleId: 'manual',
      via: 'manual',
      priority: lead.priority,
      assignedAt: activity.at,
      ...(previousOwner !== undefined ? { previousOwner } : {}),
      ladderStep: 0,
    }),
  );
  await stopSlaLadder(before, 'the lead was reassigned by hand', deps);
  await deps.store.markActivityAnnounced(lead.id, activity.at, activity.id);
}

// ------------------------------------------------------------------------------------ notes and tasks

/**
 * An id derived from the client's `Idempotency-Key` header, so a retried POST finds what the
 * first one stored instead of adding it twice.
 */
function idFromKey(leadId: string, kind: string, idempotencyKey: string): string {
  return createHash('sha256')
    .update(`${kind}\u0000${leadId}\u0000${idempotencyKey}`)
    .digest('hex')
    .slice(0, 32);
}

/** `POST /leads/{id}/notes`. @returns the note and whether it was new (false: a retry with the same Idempotency-Key). */
export async function addNote(
  caller: Caller,
  leadId: string,
  body: unknown,
  idempotencyKey: string | undefined,
  deps: LeadsDeps,
): Promise<{ note: LeadNote; created: boolean }> {
  const { text } = parseInput(NoteSchema, body);
  const lead = await deps.store.requireLead(leadId);
  requireLeadAccess(caller, lead, 'work', 'add notes to this lead', deps.config);
  const id = idempotencyKey ? idFromKey(lead.id, 'note', idempotencyKey) : (deps.newId ?? randomUUID)();
  if (idempotencyKey) {
    const existing = splitPartition(await deps.store.listLeadPartition(lead.id))
      .notes.map((item) => NoteItem.safeParse(item))
      .find((r) => r.success && r.data.id === id);
    if (existing?.success) return { note: existing.data, created: false };
  }
  const note: LeadNote = {
    id,
    leadId: lead.id,
    at: clock(deps)().toISOString(),
    by: actorName(caller),
    text,
  };
  const created = await deps.store.putNote(note);
  return { note, created };
}

/** `POST /leads/{id}/tasks`. @returns the task and whether it was new. */
export async function addTask(
  caller: Caller,
  leadId: string,
  body: unknown,
  idempotencyKey: string | undefined,
  deps: LeadsDeps,
): Promise<{ task: LeadTask; created: boolean }> {
  const input = parseInput(TaskSchema, body);
  const lead = await deps.store.requireLead(leadId);
  requireLeadAccess(caller, lead, 'work', 'add tasks to this lead', deps.config);
  const id = idempotencyKey ? idFromKey(lead.id, 'task', idempotencyKey) : (deps.newId ?? randomUUID)();
  if (idempotencyKey) {
    const existing = await findTask(lead.id, id, deps);
    if (existing) return { task: existing, created: false };
  }
  const task: LeadTask = {
    id,
    leadId: lead.id,
    createdAt: clock(deps)().toISOString(),
    by: actorName(caller),
    title: input.title,
    dueAt: new Date(input.dueAt).toISOString(),
    done: input.done,
  };
  const created = await deps.store.putTask(task);
  return { task, created };
}

/**
 * `PATCH /leads/{id}/tasks/{taskId}`: marks a task done (recording when and by whom), opens it
 * again, or renames it. Setting what is already set changes nothing, so a retry is harmless.
 * @throws TaskNotFoundError when the lead has no such task.
 */
export async function updateTask(
  caller: Caller,
  leadId: string,
  taskId: string,
  body: unknown,
  deps: LeadsDeps,
): Promise<{ task: LeadTask; changed: boolean }> {
  const change = parseInput(TaskUpdateSchema, body);
  const lead = await deps.store.requireLead(leadId);
  requireLeadAccess(caller, lead, 'work', 'update tasks of this lead', deps.config);
  const before = await findTask(lead.id, taskId, deps);
  if (!before) throw new TaskNotFoundError(lead.id, taskId);
  const task = changeTask(before, change, clock(deps)().toISOString(), actorName(caller));
  const changed = task.done !== before.done || task.title !== before.title;
  if (changed) await deps.store.saveTask(task);
  return { task, changed };
}

/** A lead's task by id, from the lead's partition. */
async function findTask(leadId: string, taskId: string, deps: LeadsDeps): Promise<LeadTask | undefined> {
  const found = splitPartition(await deps.store.listLeadPartition(leadId))
    .tasks.map((item) => TaskItem.safeParse(item))
    .find((r) => r.success && r.data.id === taskId);
  return found?.success ? found.data : undefined;
}

// ------------------------------------------------------------------------------------ privacy

/** The canonical address in a `/admin/people/{email}` path (400 naming `email` when it is not one). */
export function personEmail(raw: string): string {
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // Already decoded (API Gateway decodes path parameters) and contains a literal '%'.
  }
  const email = canonicalEmail(decoded);
  parseInput(z.object({ email: LeadEmailSchema }), { email });
  return email;
}

/** `GET /admin/people/{email}`: everything held about a person, as JSON. */
export async function exportPerson(caller: Caller, rawEmail: string, deps: LeadsDeps) {
  requireAdmin(caller, 'export personal data');
  const email = personEmail(rawEmail);
  const dedupeKey = emailDedupeKey(email);
  const leadId = await deps.store.findLeadIdByDedupeKey(dedupeKey);
  const lead = leadId === undefined ? undefined : await deps.store.getLead(leadId);
  const hash = emailHash(email);
  const suppression = await deps.store.getSuppression(hash);
  const base = {
    email,
    exportedAt: clock(deps)().toISOString(),
    suppression: suppression ? { suppressed: true, ...suppression } : { suppressed: false },
  };
  if (!lead) return { ...base, found: false as const };
  const parts = splitPartition(await deps.store.listLeadPartition(lead.id));
  return {
    ...base,
    found: true as const,
    leadId: lead.id,
    lead,
    activities: parts.activities,
    scoreHistory: parts.scoreHistory,
    notes: parts.notes,
    tasks: parts.tasks,
    sends: parts.sends,
    other: parts.other,
    pointers: {
      dedupeKey: lead.profile.dedupeKey,
      ...(lead.source.externalId !== undefined
        ? { external: { provider: lead.source.provider, id: lead.source.externalId } }
        : {}),
    },
  };
}

// ------------------------------------------------------------------------------------ helpers

function clock(deps: Pick<LeadsDeps, 'now'>): () => Date {
  return deps.now ?? (() => new Date());
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function secondsBetween(from: string, to: string): number {
  return Math.max(0, Math.floor((Date.parse(to) - Date.parse(from)) / 1000));
}

function definedOnly<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Partial<T>;
}
