import { z } from 'zod';
import type { ClientConfig } from '../config/schema';
import { type Caller, hasRole, teamOfLead } from '../domain/access';
import { InvalidInputError, NotAllowedError } from '../domain/errors';
import { type Activity, ActivitySchema, type Lead } from '../domain/lead';
import type { LeadEmailHistory, SendRecord } from '../domain/report-nurture';
import { reportableLeads } from '../domain/report-stats';
import { computeReport, REPORT_NAMES, REPORTS_NEEDING_EMAILS, type ReportName } from '../domain/reports';
import type { LeadQuery } from '../ports/lead-store';
import type { Page } from '../ports/page';
import { parseInput } from './leads';
import { mapLimit } from './map-limit';

/**
 * The reports use case: resolve who may see which numbers, read the cohort of leads captured in
 * the date range, add email history when the report needs it, and hand everything to the pure
 * computations in `domain/reports.ts`. The cohort is read within the caller's scope: a rep's
 * report reads that rep's leads (byOwner index), a manager's their teams' (byTeam, by creation
 * time); only an admin's whole-company report reads every lead of each day (byDay). So a rep's
 * 366-day report costs what their own leads cost, not a pass over everyone's.
 */

/** Storage used here (implemented by `LeadRepository`). */
export interface ReportsStore {
  listLeadsCapturedOn(day: string): Promise<Lead[]>;
  findLeads(query: LeadQuery): Promise<Page<Lead>>;
  listLeadPartition(leadId: string): Promise<Record<string, unknown>[]>;
}

export interface ReportsDeps {
  readonly store: ReportsStore;
  readonly config: ClientConfig;
  readonly now?: () => Date;
  /** Parallel reads against the table. @default 8 */
  readonly concurrency?: number;
  /** Most leads whose email history is read for one report; beyond it the email stats are partial. @default 5000 */
  readonly emailHistoryLimit?: number;
}

/** Longest report range, in days (inclusive). */
export const MAX_RANGE_DAYS = 366;
/** Range used when `from` is omitted: the last 30 days up to `to`. */
export const DEFAULT_RANGE_DAYS = 30;

const DAY_MS = 86_400_000;

/** Path parameter and query string of `GET /reports/{report}`. */
export const ReportRequestSchema = z
  .strictObject({
    report: z.enum(REPORT_NAMES, { error: `one of ${REPORT_NAMES.join(', ')}` }),
    from: z.iso.date({ error: 'a date such as 2025-01-31' }).optional(),
    to: z.iso.date({ error: 'a date such as 2025-01-31' }).optional(),
    team: z.string().min(1).max(64).optional(),
    owner: z.string().min(1).max(64).optional(),
  })
  .refine((q) => q.team === undefined || q.owner === undefined, {
    message: 'give either owner or team, not both',
    path: ['team'],
  });

/** Who the numbers are about. */
export type ReportScope =
  | { readonly kind: 'all' }
  | { readonly kind: 'teams'; readonly teamIds: readonly string[] }
  | { readonly kind: 'owner'; readonly repId: string };

/**
 * Resolves the scope: admins see everything (or one team / rep); managers their teams (or one
 * of their teams / reps); reps only their own numbers.
 */
export function reportScope(
  caller: Caller,
  requested: { readonly team?: string; readonly owner?: string },
  config: Pick<ClientConfig, 'reps' | 'teams'>,
): ReportScope {
  const admin = hasRole(caller, 'admin');
  const manager = hasRole(caller, 'manager');
  if (requested.team !== undefined) {
    if (!config.teams.some((t) => t.id === requested.team))
      throw new InvalidInputError([{ field: 'team', reason: `unknown team "${requested.team}"` }]);
    if (admin || (manager && caller.managedTeams.includes(requested.team)))
      return { kind: 'teams', teamIds: [requested.team] };
    throw new NotAllowedError(`You may not see the reports of team ${requested.team}`);
  }
  if (requested.owner !== undefined) {
    const owner = requested.owner === 'me' ? caller.repId : requested.owner;
    const rep = config.reps.find((r) => r.id === owner);
    if (!rep) throw new InvalidInputError([{ field: 'owner', reason: `unknown rep "${requested.owner}"` }]);
    if (admin || rep.id === caller.repId || (manager && caller.managedTeams.includes(rep.team)))
      return { kind: 'owner', repId: rep.id };
    throw new NotAllowedError(`You may not see the reports of ${rep.id}`);
  }
  if (admin) return { kind: 'all' };
  if (manager && caller.managedTeams.length > 0) return { kind: 'teams', teamIds: caller.managedTeams };
  if (caller.repId !== undefined) return { kind: 'owner', repId: caller.repId };
  throw new NotAllowedError('Your login is not linked to a rep, so there are no numbers of yours to show');
}

function inScope(lead: Lead, scope: ReportScope, config: Pick<ClientConfig, 'reps'>): boolean {
  if (scope.kind === 'all') return true;
  if (scope.kind === 'owner') return lead.owner === scope.repId;
  const team = teamOfLead(lead, config);
  return team !== undefined && scope.teamIds.includes(team);
}

/** Leads per index page while reading a scoped cohort. */
const COHORT_PAGE = 100;

/** The leads captured in `range`, read only within `scope` (see the module comment). */
async function readCohort(
  scope: ReportScope,
  range: { from: string; to: string },
  concurrency: number,
  store: ReportsStore,
): Promise<Lead[]> {
  if (scope.kind === 'all') {
    const perDay = await mapLimit(daysBetween(range.from, range.to), concurrency, (day) =>
      store.listLeadsCapturedOn(day),
    );
    return perDay.flat();
  }
  const filter = { createdFrom: `${range.from}T00:00:00.000Z`, createdTo: `${range.to}T23:59:59.999Z` };
  const scopes: LeadQuery['scope'][] =
    scope.kind === 'owner'
      ? [{ kind: 'owner', repId: scope.repId }]
      : scope.teamIds.map((teamId) => ({ kind: 'team', teamId }));
  const perScope = await mapLimit(scopes, concurrency, async (indexScope) => {
    const leads: Lead[] = [];
    let nextToken: string | undefined;
    do {
      const page = await store.findLeads({
        scope: indexScope,
        filter,
        limit: COHORT_PAGE,
        ...(nextToken ? { nextToken } : {}),
      });
      leads.push(...page.items);
      nextToken = page.nextToken;
    } while (nextToken);
    return leads;
  });
  return perScope.flat();
}

/** The UTC days from `from` to `to`, inclusive. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS)
    days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/** Resolves and checks the date range: `to` defaults to today (UTC), `from` to 30 days before it. */
export function reportRange(
  from: string | undefined,
  to: string | undefined,
  now: Date,
): { from: string; to: string } {
  const end = to ?? now.toISOString().slice(0, 10);
  const start =
    from ??
    new Date(Date.parse(`${end}T00:00:00Z`) - (DEFAULT_RANGE_DAYS - 1) * DAY_MS).toISOString().slice(0, 10);
  if (start > end)
    throw new InvalidInputError([{ field: 'to', reason: `must not be before from (${start})` }]);
  const days = (Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / DAY_MS + 1;
  if (days > MAX_RANGE_DAYS)
    throw new InvalidInputError([
      { field: 'from', reason: `the range is ${days} days; at most ${MAX_RANGE_DAYS} days per report` },
    ]);
  return { from: start, to: end };
}

const StoredActivity = z.object(ActivitySchema.shape);
const StoredSend = z.object({
  sequenceId: z.string(),
  stepId: z.string(),
  at: z.string().optional(),
  channel: z.enum(['email', 'sms']).optional(),
  via: z.string().optional(),
});
/** A score history item: when the score put the lead at a stage. */
const StoredScore = z.object({ at: z.string(), score: z.object({ stage: z.string() }) });

/** A lead's activities and send records from its partition items. */
export function emailHistory(items: readonly Record<string, unknown>[]): LeadEmailHistory {
  const activities: Activity[] = [];
  const sends: SendRecord[] = [];
  const stages: Array<{ at: string; stage: string }> = [];
  for (const item of items) {
    const sk = String(item.sk ?? '');
    if (sk.startsWith('ACT#')) {
      const parsed = StoredActivity.safeParse(item);
      if (parsed.success) activities.push(parsed.data);
    } else if (sk.startsWith('SEND#')) {
      const parsed = StoredSend.safeParse(item);
      if (parsed.success) sends.push(parsed.data);
    } else if (sk.startsWith('SCORE#')) {
      const parsed = StoredScore.safeParse(item);
      if (parsed.success) stages.push({ at: parsed.data.at, stage: parsed.data.score.stage });
    }
  }
  return { activities, sends, stages };
}

/** The answer of `GET /reports/{report}`. */
export interface ReportResult {
  readonly report: ReportName;
  readonly from: string;
  readonly to: string;
  readonly scope: ReportScope;
  readonly generatedAt: string;
  /** Leads in the cohort (captured in the range, in scope, test leads excluded). */
  readonly leads: number;
  /** Set when email stats cover only the first `emailHistoryLimit` leads. */
  readonly partial?: { readonly emailHistoryOf: number; readonly of: number };
  readonly data: unknown;
}

/** `GET /reports/{report}`: validates, scopes, reads the cohort and computes the report. */
export async function runReport(
  caller: Caller,
  input: Record<string, string | undefined>,
  deps: ReportsDeps,
): Promise<ReportResult> {
  const request = parseInput(
    ReportRequestSchema,
    Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
  );
  const now = (deps.now ?? (() => new Date()))();
  const scope = reportScope(caller, request, deps.config);
  const range = reportRange(request.from, request.to, now);
  const concurrency = deps.concurrency ?? 8;
  const cohort = await readCohort(scope, range, concurrency, deps.store);
  const leads = reportableLeads(cohort).filter((l) => inScope(l, scope, deps.config));
  let emails: Map<string, LeadEmailHistory> | undefined;
  let partial: ReportResult['partial'];
  if (REPORTS_NEEDING_EMAILS.includes(request.report)) {
    const limit = deps.emailHistoryLimit ?? 5000;
    const read = leads.slice(0, limit);
    const histories = await mapLimit(read, concurrency, async (lead) =>
      emailHistory(await deps.store.listLeadPartition(lead.id)),
    );
    emails = new Map(read.map((lead, i) => [lead.id, histories[i] ?? { activities: [], sends: [] }]));
    if (leads.length > limit) partial = { emailHistoryOf: limit, of: leads.length };
  }
  return {
    report: request.report,
    ...range,
    scope,
    generatedAt: now.toISOString(),
    leads: leads.length,
    ...(partial ? { partial } : {}),
    data: computeReport(request.report, { leads, ...(emails ? { emails } : {}), now }, deps.config),
  };
}
