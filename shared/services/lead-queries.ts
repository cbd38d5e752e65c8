import { z } from 'zod';
import type { ClientConfig } from '../config/schema';
import { type Caller, type LeadAccess, listScope, requireLeadAccess } from '../domain/access';
import { InvalidInputError } from '../domain/errors';
import { digestTasks } from '../domain/follow-up';
import {
  type Activity,
  type Lead,
  LeadStatusSchema,
  LifecycleStageSchema,
  type ScoreReason,
} from '../domain/lead';
import { type LeadNote, type LeadTask, LeadTaskSchema } from '../domain/lead-tasks';
import { pipelineStage } from '../domain/pipeline';
import { topReasons } from '../domain/scoring';
import { assignmentDeadline } from '../domain/sla';
import { isStaleDeal } from '../domain/stale-deals';
import { clock, type LeadsDeps, parseInput } from './leads';
import { mapLimit } from './map-limit';

/**
 * What reps and managers read: their lead lists (`GET /leads`), one lead with its timeline and
 * score explanation (`GET /leads/{id}`), and the workspace the console draws (`GET /me`).
 */

/** Task reads in flight at once while listing leads. */
const TASK_READS_IN_PARALLEL = 8;

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

export const NoteItem = z.object({
  id: z.string(),
  leadId: z.string(),
  at: z.string(),
  by: z.string(),
  text: z.string(),
});
export const TaskItem = LeadTaskSchema;
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

function definedOnly<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Partial<T>;
}
