import type { ClientConfig } from '../config/schema';
import { earnsBookingOffer } from './booking';
import {
  type Activity,
  type Lead,
  type LeadStatus,
  LIFECYCLE_STAGES,
  type LifecycleStage,
  stageRank,
} from './lead';
import { assignmentDeadline } from './sla';

/**
 * Sales KPIs as pure computations over a cohort of leads (those captured in the report's date
 * range) and, for email stats, their activities and send records. No I/O, no clock: `now` is
 * passed in. Test leads must be removed by the caller (see {@link reportableLeads}).
 *
 * Conventions used everywhere:
 * - Rates and shares are fractions (0.25 = 25 %) rounded to 4 decimals, `null` when the
 *   denominator is 0 (a rate of nothing is unknown, not 0).
 * - Money is rounded to cents.
 * - Median is the middle value (mean of the two middle values for an even count); p90 is the
 *   nearest-rank percentile: the smallest value with at least 90 % of values at or below it.
 */

/** Every report the API serves. */
export const REPORT_NAMES = [
  'sources',
  'funnel',
  'speed-to-lead',
  'sla',
  'pipeline',
  'nurture',
  'bookings',
  'summary',
] as const;
export type ReportName = (typeof REPORT_NAMES)[number];

/** Reports that read activities and send records as well as leads. */
export const REPORTS_NEEDING_EMAILS: readonly ReportName[] = ['nurture', 'bookings', 'summary'];

/** A fraction rounded to 4 decimals, or null for a zero denominator. */
export function rate(numerator: number, denominator: number): number | null {
  if (denominator === 0) return null;
  return Math.round((numerator / denominator) * 10_000) / 10_000;
}

/** Rounds money to cents. */
export function money(amount: number): number {
  return Math.round(amount * 100) / 100;
}

/** The median of the values (undefined when empty). */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** The nearest-rank percentile `p` (0 < p ≤ 100) of the values (undefined when empty). */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** Leads that count in reports: test leads flow through the pipeline but never into KPIs. */
export function reportableLeads(leads: readonly Lead[]): Lead[] {
  return leads.filter((l) => !l.isTest);
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/**
 * The furthest lifecycle stage a lead reached. Score thresholds set lead → MQL → SQL; a lead
 * with a pipeline stage was an opportunity (even if later lost); a won deal is a customer.
 */
export function furthestStage(
  lead: Pick<Lead, 'stage' | 'status' | 'pipelineStage'>,
  config: Pick<ClientConfig, 'pipeline'>,
): LifecycleStage {
  let rank = stageRank(lead.stage);
  if (lead.pipelineStage !== undefined) rank = Math.max(rank, stageRank('opportunity'));
  const outcome = config.pipeline.stages.find((s) => s.id === lead.pipelineStage)?.outcome;
  if (lead.status === 'converted' || outcome === 'won') rank = stageRank('customer');
  return LIFECYCLE_STAGES[rank] ?? 'lead';
}

function reached(lead: Lead, stage: LifecycleStage, config: Pick<ClientConfig, 'pipeline'>): boolean {
  return stageRank(furthestStage(lead, config)) >= stageRank(stage);
}

// ------------------------------------------------------------------------------------ sources

export interface SourcesReport {
  readonly total: number;
  readonly byChannel: ReadonlyArray<{
    readonly channel: string;
    readonly leads: number;
    readonly share: number | null;
    readonly mql: number;
    readonly sql: number;
    readonly customers: number;
  }>;
  readonly bySource: ReadonlyArray<{
    readonly source: string;
    readonly leads: number;
    readonly share: number | null;
  }>;
  readonly byChannelAndSource: ReadonlyArray<{
    readonly channel: string;
    readonly source: string;
    readonly leads: number;
  }>;
}

/** Leads by channel (with how many reached MQL, SQL, customer), by source (provider), and both. */
export function sourcesReport(leads: readonly Lead[], config: Pick<ClientConfig, 'pipeline'>): SourcesReport {
  const total = leads.length;
  const byChannel = [...countBy(leads, (l) => l.source.channel)]
    .map(([channel, group]) => ({
      channel,
      leads: group.length,
      share: rate(group.length, total),
      mql: group.filter((l) => reached(l, 'MQL', config)).length,
      sql: group.filter((l) => reached(l, 'SQL', config)).length,
      customers: group.filter((l) => reached(l, 'customer', config)).length,
    }))
    .sort((a, b) => b.leads - a.leads || a.channel.localeCompare(b.channel));
  const bySource = [...countBy(leads, (l) => l.source.provider)]
    .map(([source, group]) => ({ source, leads: group.length, share: rate(group.length, total) }))
    .sort((a, b) => b.leads - a.leads || a.source.localeCompare(b.source));
  const byChannelAndSource = [...countBy(leads, (l) => `${l.source.channel}\u0000${l.source.provider}`)]
    .map(([key, group]) => {
      const [channel = '', source = ''] = key.split('\u0000');
      return { channel, source, leads: group.length };
    })
    .sort(
      (a, b) => b.leads - a.leads || a.channel.localeCompare(b.channel) || a.source.localeCompare(b.source),
    );
  return { total, byChannel, bySource, byChannelAndSource };
}

// ------------------------------------------------------------------------------------ funnel

export interface FunnelReport {
  readonly total: number;
  /** Share of leads that reached MQL (or beyond). */
  readonly mqlRate: number | null;
  /** Share of leads that reached SQL (or beyond). */
  readonly sqlRate: number | null;
  /** Share of MQLs that reached SQL. */
  readonly mqlToSqlRate: number | null;
  /** Each lifecycle stage: leads that reached it, conversion from the previous stage and the drop-off. */
  readonly stages: ReadonlyArray<{
    readonly stage: LifecycleStage;
    readonly reached: number;
    readonly conversionFromPrevious: number | null;
    readonly dropOffFromPrevious: number | null;
  }>;
  /** Leads currently in each pipeline stage, in configured order. */
  readonly pipelineStages: ReadonlyArray<{
    readonly stage: string;
    readonly name: string;
    readonly leads: number;
  }>;
}

/** MQL and SQL rates and the stage-by-stage conversion funnel. */
export function funnelReport(leads: readonly Lead[], config: Pick<ClientConfig, 'pipeline'>): FunnelReport {
  const total = leads.length;
  const counts = LIFECYCLE_STAGES.map((stage) => leads.filter((l) => reached(l, stage, config)).length);
  const stages = LIFECYCLE_STAGES.map((stage, i) => {
    const count = counts[i] ?? 0;
    const previous = i === 0 ? undefined : (counts[i - 1] ?? 0);
    const conversion = previous === undefined ? null : rate(count, previous);
    return {
      stage,
      reached: count,
      conversionFromPrevious: conversion,
      dropOffFromPrevious: conversion === null ? null : Math.round((1 - conversion) * 10_000) / 10_000,
    };
  });
  const mql = counts[stageRank('MQL')] ?? 0;
  const sql = counts[stageRank('SQL')] ?? 0;
  return {
    total,
    mqlRate: rate(mql, total),
    sqlRate: rate(sql, total),
    mqlToSqlRate: rate(sql, mql),
    stages,
    pipelineStages: config.pipeline.stages.map((s) => ({
      stage: s.id,
      name: s.name,
      leads: leads.filter((l) => l.pipelineStage === s.id).length,
    })),
  };
}

// ------------------------------------------------------------------------------------ speed to lead

/** Speed-to-lead bands, in minutes: `[from, to]` with `to` inclusive; the last is open-ended. */
export const SPEED_BANDS = [
  { band: '0-5', upToSeconds: 5 * 60 },
  { band: '5-15', upToSeconds: 15 * 60 },
  { band: '15-60', upToSeconds: 60 * 60 },
  { band: '60+', upToSeconds: Number.POSITIVE_INFINITY },
] as const;

/** Statuses of leads waiting for sales to make contact. */
const AWAITING_CONTACT: readonly LeadStatus[] = ['held', 'assigned', 'unworked'];

export interface SpeedStats {
  readonly contacted: number;
  readonly medianSeconds: number | null;
  readonly p90Seconds: number | null;
  /** Share contacted within 5 minutes (300 s inclusive) of capture. */
  readonly within5MinutesShare: number | null;
}

export interface SpeedToLeadReport extends SpeedStats {
  readonly bands: ReadonlyArray<{
    readonly band: string;
    readonly leads: number;
    readonly share: number | null;
  }>;
  readonly byRep: ReadonlyArray<SpeedStats & { readonly repId: string }>;
  readonly bySource: ReadonlyArray<SpeedStats & { readonly channel: string }>;
  /** Leads with sales and no first touch yet, longest waiting first (at most `listLimit`). */
  readonly notContacted: {
    readonly count: number;
    readonly leads: ReadonlyArray<{
      readonly leadId: string;
      readonly owner?: string;
      readonly status: LeadStatus;
      readonly channel: string;
      readonly createdAt: string;
      readonly minutesWaiting: number;
    }>;
  };
}

/** Seconds from capture to first touch. */
export function secondsToFirstTouch(lead: Pick<Lead, 'createdAt' | 'firstTouchAt'>): number | undefined {
  if (lead.firstTouchAt === undefined) return undefined;
  return Math.max(0, Math.floor((Date.parse(lead.firstTouchAt) - Date.parse(lead.createdAt)) / 1000));
}

function speedStats(seconds: readonly number[]): SpeedStats {
  return {
    contacted: seconds.length,
    medianSeconds: median(seconds) ?? null,
    p90Seconds: percentile(seconds, 90) ?? null,
    within5MinutesShare: rate(seconds.filter((s) => s <= 300).length, seconds.length),
  };
}

/**
 * Capture → first touch: median, p90, share within 5 minutes and bands, overall, per rep (the
 * lead's owner) and per source channel; leads still waiting for contact are listed separately.
 */
export function speedToLeadReport(leads: readonly Lead[], now: Date, listLimit = 100): SpeedToLeadReport {
  const contacted = leads.filter((l) => l.firstTouchAt !== undefined);
  const seconds = (group: readonly Lead[]) => group.map((l) => secondsToFirstTouch(l) ?? 0);
  const all = seconds(contacted);
  const bands = SPEED_BANDS.map(({ band, upToSeconds }, i) => {
    const from = i === 0 ? -1 : (SPEED_BANDS[i - 1]?.upToSeconds ?? -1);
    const count = all.filter((s) => s > from && s <= upToSeconds).length;
    return { band, leads: count, share: rate(count, all.length) };
  });
  const byRep = [...countBy(contacted, (l) => l.owner ?? 'unassigned')]
    .map(([repId, group]) => ({ repId, ...speedStats(seconds(group)) }))
    .sort((a, b) => b.contacted - a.contacted || a.repId.localeCompare(b.repId));
  const bySource = [...countBy(contacted, (l) => l.source.channel)]
    .map(([channel, group]) => ({ channel, ...speedStats(seconds(group)) }))
    .sort((a, b) => b.contacted - a.contacted || a.channel.localeCompare(b.channel));
  const waiting = leads
    .filter(
      (l) => l.firstTouchAt === undefined && (l.owner !== undefined || AWAITING_CONTACT.includes(l.status)),
    )
    .filter((l) => l.status !== 'converted' && l.status !== 'disqualified' && l.status !== 'nurturing')
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  return {
    ...speedStats(all),
    bands,
    byRep,
    bySource,
    notContacted: {
      count: waiting.length,
      leads: waiting.slice(0, listLimit).map((l) => ({
        leadId: l.id,
        ...(l.owner !== undefined ? { owner: l.owner } : {}),
        status: l.status,
        channel: l.source.channel,
        createdAt: l.createdAt,
        minutesWaiting: Math.max(0, Math.floor((now.getTime() - Date.parse(l.createdAt)) / 60_000)),
      })),
    },
  };
}

// ------------------------------------------------------------------------------------ SLA

export type SlaBreachKind = 'escalated' | 'unworked' | 'late' | 'overdue';

export interface SlaReport {
  /** Leads that were given to a rep (and so had an SLA clock). */
  readonly assigned: number;
  /** First touch before the current assignment's deadline, without escalation. */
  readonly metSla: number;
  /** Leads with at least one breach kind. */
  readonly breached: number;
  readonly breachRate: number | null;
  /** Escalation steps applied by the SLA ladder, summed over leads. */
  readonly escalations: number;
  readonly escalatedLeads: number;
  /** Leads the ladder ended as unworked. */
  readonly unworked: number;
  /** Contacted after the deadline without an escalation. */
  readonly late: number;
  /** Still waiting for contact past the deadline now. */
  readonly overdueNow: number;
  readonly byRep: ReadonlyArray<{
    readonly repId: string;
    readonly assigned: number;
    readonly breached: number;
    readonly breachRate: number | null;
  }>;
  /** The breaching leads, oldest first (at most `listLimit`). */
  readonly breaches: ReadonlyArray<{
    readonly leadId: string;
    readonly owner?: string;
    readonly status: LeadStatus;
    readonly kinds: readonly SlaBreachKind[];
    readonly ladderStep: number;
    readonly createdAt: string;
  }>;
}

/**
 * The SLA's breaches: escalations (from the ladder's record on the lead, `slaProgress`), leads
 * marked unworked, and first touches after the deadline of the current assignment (working
 * minutes in the owner's calendar, as the ladder counts them) or still missing past it.
 */
export function slaReport(
  leads: readonly Lead[],
  config: Pick<ClientConfig, 'sla' | 'reps'>,
  now: Date,
  listLimit = 100,
): SlaReport {
  const assigned = leads.filter((l) => l.assignedAt !== undefined || l.status === 'unworked');
  const rows = assigned.map((lead) => {
    const ladderStep = lead.slaProgress?.ladderStep ?? 0;
    const kinds: SlaBreachKind[] = [];
    if (ladderStep >= 1) kinds.push('escalated');
    if (lead.status === 'unworked') kinds.push('unworked');
    if (lead.assignedAt !== undefined) {
      const rep = config.reps.find((r) => r.id === lead.owner);
      const deadline = assignmentDeadline(config.sla, rep, new Date(lead.assignedAt), ladderStep);
      if (lead.firstTouchAt !== undefined) {
        if (Date.parse(lead.firstTouchAt) > deadline.getTime() && ladderStep === 0) kinds.push('late');
      } else if (lead.status === 'assigned' && now.getTime() > deadline.getTime()) kinds.push('overdue');
    }
    return { lead, ladderStep, kinds };
  });
  const breaching = rows.filter((r) => r.kinds.length > 0);
  const byRep = [...countBy(rows, (r) => r.lead.owner ?? 'unassigned')]
    .map(([repId, group]) => {
      const breached = group.filter((r) => r.kinds.length > 0).length;
      return { repId, assigned: group.length, breached, breachRate: rate(breached, group.length) };
    })
    .sort((a, b) => b.breached - a.breached || a.repId.localeCompare(b.repId));
  return {
    assigned: rows.length,
    metSla: rows.filter((r) => r.kinds.length === 0 && r.lead.firstTouchAt !== undefined).length,
    breached: breaching.length,
    breachRate: rate(breaching.length, rows.length),
    escalations: rows.reduce((sum, r) => sum + r.ladderStep, 0),
    escalatedLeads: rows.filter((r) => r.kinds.includes('escalated')).length,
    unworked: rows.filter((r) => r.kinds.includes('unworked')).length,
    late: rows.filter((r) => r.kinds.includes('late')).length,
    overdueNow: rows.filter((r) => r.kinds.includes('overdue')).length,
    byRep,
    breaches: breaching
      .sort((a, b) => a.lead.createdAt.localeCompare(b.lead.createdAt) || a.lead.id.localeCompare(b.lead.id))
      .slice(0, listLimit)
      .map((r) => ({
        leadId: r.lead.id,
        ...(r.lead.owner !== undefined ? { owner: r.lead.owner } : {}),
        status: r.lead.status,
        kinds: r.kinds,
        ladderStep: r.ladderStep,
        createdAt: r.lead.createdAt,
      })),
  };
}

// ------------------------------------------------------------------------------------ pipeline

export interface PipelineReport {
  readonly currency: string;
  readonly open: { readonly deals: number; readonly amount: number; readonly weightedAmount: number };
  readonly byStage: ReadonlyArray<{
    readonly stage: string;
    readonly name: string;
    readonly outcome: 'open' | 'won' | 'lost';
    readonly probability: number;
    readonly deals: number;
    readonly amount: number;
    readonly weightedAmount: number;
  }>;
  readonly won: { readonly deals: number; readonly amount: number };
  readonly lost: {
    readonly deals: number;
    readonly amount: number;
    readonly byReason: ReadonlyArray<{ readonly reason: string; readonly deals: number }>;
  };
  /** Won deals over closed (won + lost) deals. */
  readonly winRate: number | null;
}

/** Weighted pipeline value (amount × stage probability) per stage and in total, won / lost and win rate. */
export function pipelineReport(
  leads: readonly Lead[],
  config: Pick<ClientConfig, 'pipeline' | 'client'>,
): PipelineReport {
  const byStage = config.pipeline.stages.map((s) => {
    const deals = leads.filter((l) => l.pipelineStage === s.id);
    const amount = deals.reduce((sum, l) => sum + (l.amount ?? 0), 0);
    return {
      stage: s.id,
      name: s.name,
      outcome: s.outcome,
      probability: s.probability,
      deals: deals.length,
      amount: money(amount),
      weightedAmount: money(amount * s.probability),
    };
  });
  const sum = (outcome: 'open' | 'won' | 'lost') => {
    const rows = byStage.filter((s) => s.outcome === outcome);
    return {
      deals: rows.reduce((n, s) => n + s.deals, 0),
      amount: money(rows.reduce((n, s) => n + s.amount, 0)),
      weightedAmount: money(rows.reduce((n, s) => n + s.weightedAmount, 0)),
    };
  };
  const open = sum('open');
  const won = sum('won');
  const lost = sum('lost');
  const lostStages = new Set(config.pipeline.stages.filter((s) => s.outcome === 'lost').map((s) => s.id));
  const lostLeads = leads.filter((l) => l.pipelineStage !== undefined && lostStages.has(l.pipelineStage));
  const byReason = [...countBy(lostLeads, (l) => l.lostReason ?? 'unknown')]
    .map(([reason, group]) => ({ reason, deals: group.length }))
    .sort((a, b) => b.deals - a.deals || a.reason.localeCompare(b.reason));
  return {
    currency: config.client.currency,
    open,
    byStage,
    won: { deals: won.deals, amount: won.amount },
    lost: { deals: lost.deals, amount: lost.amount, byReason },
    winRate: rate(won.deals, won.deals + lost.deals),
  };
}

// ------------------------------------------------------------------------------------ nurture (email)

/** A nurture or auto-response send record (`SEND#<sequence>#<step>`). */
export interface SendRecord {
  readonly sequenceId: string;
  readonly stepId: string;
  readonly at?: string;
  /** `sms` for a text message; email otherwise. */
  readonly channel?: 'email' | 'sms';
  /** The branch (`<sequence>/<step>/<branch>`) that led the lead to this step. */
  readonly via?: string;
}

/** A lead's email history: its activities and its send records. */
export interface LeadEmailHistory {
  readonly activities: readonly Activity[];
  readonly sends: readonly SendRecord[];
  /** When the lead's score reached each stage (its score history), for conversions after a send. */
  readonly stages?: ReadonlyArray<{ readonly at: string; readonly stage: string }>;
}

/**
 * One row of nurture performance: a step reached one way (by its sequence's default path, or
 * by a branch), with what the sends did. A conversion or unsubscribe counts for the last send
 * before it (the touch that preceded it).
 */
export interface NurtureStepCounts {
  readonly sequenceId: string;
  readonly stepId: string;
  /** The branch that led here (`<sequence>/<step>/<branch>`), or null for the default path. */
  readonly branch: string | null;
  readonly channel: 'email' | 'sms';
  readonly sent: number;
  /** Opened by a person (machine opens excluded), once per message. */
  readonly opened: number;
  /** Clicked by a person (scanners excluded), once per message. */
  readonly clicked: number;
  /** Reached MQL after this send and before the next one. */
  readonly convertedMql: number;
  /** Reached SQL after this send and before the next one. */
  readonly convertedSql: number;
  readonly unsubscribed: number;
}

export interface EmailCounts {
  readonly sent: number;
  readonly delivered: number;
  /** Messages opened by a person (machine opens by privacy proxies and scanners excluded). */
  readonly opened: number;
  readonly clicked: number;
  readonly bounced: number;
  readonly complained: number;
  readonly deliveryRate: number | null;
  readonly openRate: number | null;
  readonly clickRate: number | null;
  readonly bounceRate: number | null;
}

export interface NurtureReport extends EmailCounts {
  /** Leads with at least one send. */
  readonly emailedLeads: number;
  /** Leads that unsubscribed (activity or flag). */
  readonly unsubscribed: number;
  readonly unsubscribeRate: number | null;
  readonly complaintRate: number | null;
  readonly clickToOpenRate: number | null;
  readonly machineOpens: number;
  readonly machineClicks: number;
  /** Per sequence (`auto-response` for the acknowledgement email). */
  readonly bySequence: ReadonlyArray<EmailCounts & { readonly sequenceId: string }>;
  /** Per nurture step and the branch that led to it (auto-responses and reminders excluded). */
  readonly bySteps: readonly NurtureStepCounts[];
}

/** A stored stage's rank; an unknown value ranks below every stage. */
const LIFECYCLE_RANK = (stage: string) =>
  LIFECYCLE_STAGES.indexOf(stage as (typeof LIFECYCLE_STAGES)[number]);

/** Send records that are not nurture steps: the acknowledgement email and SMS meeting reminders. */
const NOT_NURTURE = new Set(['auto-response', 'sms-reminder']);

/** Nurture performance by step and branch (see {@link NurtureStepCounts}). */
export function nurtureStepCounts(
  leads: readonly Lead[],
  history: ReadonlyMap<string, LeadEmailHistory>,
): NurtureStepCounts[] {
  const rows = new Map<string, { -readonly [K in keyof NurtureStepCounts]: NurtureStepCounts[K] }>();
  for (const lead of leads) {
    const h = history.get(lead.id);
    if (!h) continue;
    const sends = h.sends
      .filter((s) => !NOT_NURTURE.has(s.sequenceId))
      .slice()
      .sort((a, b) => (a.at ?? '').localeCompare(b.at ?? ''));
    // When the lead first reached each stage (or a later one): a conversion happens once.
    const firstAt = (stage: 'MQL' | 'SQL') =>
      (h.stages ?? [])
        .filter((q) => LIFECYCLE_RANK(q.stage) >= LIFECYCLE_RANK(stage))
        .map((q) => q.at)
        .sort()[0];
    const mqlAt = firstAt('MQL');
    const sqlAt = firstAt('SQL');
    sends.forEach((send, i) => {
      const branch = send.via ?? null;
      const key = `${send.sequenceId}\u0000${send.stepId}\u0000${branch ?? ''}`;
      let row = rows.get(key);
      if (!row) {
        row = {
          sequenceId: send.sequenceId,
          stepId: send.stepId,
          branch,
          channel: send.channel ?? 'email',
          sent: 0,
          opened: 0,
          clicked: 0,
          convertedMql: 0,
          convertedSql: 0,
          unsubscribed: 0,
        };
        rows.set(key, row);
      }
      row.sent++;
      const ofThisSend = (a: Activity) =>
        a.data.machine !== true && a.data.sequence === send.sequenceId && a.data.step === send.stepId;
      if (h.activities.some((a) => a.type === 'email_opened' && ofThisSend(a))) row.opened++;
      if (h.activities.some((a) => a.type === 'email_clicked' && ofThisSend(a))) row.clicked++;
      const from = send.at ?? '';
      const until = sends[i + 1]?.at ?? '\uffff';
      const inWindow = (at: string) => at > from && at <= until;
      if (mqlAt !== undefined && inWindow(mqlAt)) row.convertedMql++;
      if (sqlAt !== undefined && inWindow(sqlAt)) row.convertedSql++;
      if (h.activities.some((a) => a.type === 'unsubscribed' && inWindow(a.at))) row.unsubscribed++;
    });
  }
  return [...rows.values()].sort(
    (a, b) =>
      a.sequenceId.localeCompare(b.sequenceId) ||
      a.stepId.localeCompare(b.stepId) ||
      (a.branch ?? '').localeCompare(b.branch ?? ''),
  );
}

const EMAIL_TYPES = {
  email_delivered: 'delivered',
  email_opened: 'opened',
  email_clicked: 'clicked',
  email_bounced: 'bounced',
  email_complained: 'complained',
} as const;
type EmailMetric = (typeof EMAIL_TYPES)[keyof typeof EMAIL_TYPES];

function emailCounts(sent: number, messages: Record<EmailMetric, Set<string>>): EmailCounts {
  const delivered = messages.delivered.size;
  return {
    sent,
    delivered,
    opened: messages.opened.size,
    clicked: messages.clicked.size,
    bounced: messages.bounced.size,
    complained: messages.complained.size,
    deliveryRate: rate(delivered, sent),
    openRate: rate(messages.opened.size, delivered),
    clickRate: rate(messages.clicked.size, delivered),
    bounceRate: rate(messages.bounced.size, sent),
  };
}

function emptyMessages(): Record<EmailMetric, Set<string>> {
  return {
    delivered: new Set(),
    opened: new Set(),
    clicked: new Set(),
    bounced: new Set(),
    complained: new Set(),
  };
}

/**
 * Email stats: sends from the send records; deliveries, opens, clicks, bounces and complaints
 * from SES activities, counted once per message (several opens of one email are one open) and
 * without machine opens/clicks; unsubscribes per lead.
 */
export function nurtureReport(
  leads: readonly Lead[],
  history: ReadonlyMap<string, LeadEmailHistory>,
): NurtureReport {
  const overall = emptyMessages();
  const perSequence = new Map<string, { sent: number; messages: Record<EmailMetric, Set<string>> }>();
  const sequence = (id: string) => {
    let entry = perSequence.get(id);
    if (!entry) {
      entry = { sent: 0, messages: emptyMessages() };
      perSequence.set(id, entry);
    }
    return entry;
  };
  let sent = 0;
  let emailedLeads = 0;
  let unsubscribed = 0;
  let machineOpens = 0;
  let machineClicks = 0;
  for (const lead of leads) {
    const h = history.get(lead.id) ?? { activities: [], sends: [] };
    sent += h.sends.length;
    if (h.sends.length > 0) emailedLeads++;
    for (const send of h.sends) sequence(send.sequenceId).sent++;
    if (lead.unsubscribed || h.activities.some((a) => a.type === 'unsubscribed')) unsubscribed++;
    for (const a of h.activities) {
      const metric = EMAIL_TYPES[a.type as keyof typeof EMAIL_TYPES] as EmailMetric | undefined;
      if (!metric) continue;
      if (a.data.machine === true) {
        if (metric === 'opened') machineOpens++;
        if (metric === 'clicked') machineClicks++;
        continue;
      }
      const message = `${lead.id}\u0000${typeof a.data.messageId === 'string' ? a.data.messageId : a.id}`;
      overall[metric].add(message);
      const seq = typeof a.data.sequence === 'string' ? a.data.sequence : undefined;
      if (seq !== undefined) sequence(seq).messages[metric].add(message);
    }
  }
  const counts = emailCounts(sent, overall);
  return {
    ...counts,
    emailedLeads,
    unsubscribed,
    unsubscribeRate: rate(unsubscribed, emailedLeads),
    complaintRate: rate(counts.complained, counts.delivered),
    clickToOpenRate: rate(counts.clicked, counts.opened),
    machineOpens,
    machineClicks,
    bySequence: [...perSequence]
      .map(([sequenceId, s]) => ({ sequenceId, ...emailCounts(s.sent, s.messages) }))
      .sort((a, b) => b.sent - a.sent || a.sequenceId.localeCompare(b.sequenceId)),
    bySteps: nurtureStepCounts(leads, history),
  };
}

// ------------------------------------------------------------------------------------ bookings

/** Meetings booked through a scheduling tool, by where the booking came from. */
export interface BookingCounts {
  /** Booked from the link the thank-you page offered (its marker came back with the booking). */
  readonly instantOffer: number;
  /** Any other booking: a link the rep sent, the scheduling page found some other way. */
  readonly repOutreach: number;
}

export interface BookingsReport extends BookingCounts {
  /** Leads that earned the instant offer (form leads, SQL, owner with a scheduling page). */
  readonly offered: number;
  /** Offered leads that booked from the offer. */
  readonly offerBookingRate: number | null;
  /** Cancelled bookings (either kind). */
  readonly canceled: number;
  /** Per owning rep. */
  readonly byRep: ReadonlyArray<BookingCounts & { readonly repId: string; readonly offered: number }>;
}

/**
 * Bookings from the instant offer against bookings from rep outreach: every `meeting_booked`
 * activity counts once (a reschedule is a new booking), by its `instantOffer` mark; offers are
 * counted with the same rule the thank-you page applies ({@link earnsBookingOffer}).
 */
export function bookingsReport(
  leads: readonly Lead[],
  history: ReadonlyMap<string, LeadEmailHistory>,
  config: Pick<ClientConfig, 'reps'>,
): BookingsReport {
  const perRep = new Map<string, { offered: number; instantOffer: number; repOutreach: number }>();
  const rep = (id: string) => {
    let entry = perRep.get(id);
    if (!entry) {
      entry = { offered: 0, instantOffer: 0, repOutreach: 0 };
      perRep.set(id, entry);
    }
    return entry;
  };
  let offered = 0;
  let instantOffer = 0;
  let repOutreach = 0;
  let canceled = 0;
  let offeredAndBooked = 0;
  for (const lead of leads) {
    const owner = lead.owner ?? 'unassigned';
    const earned = earnsBookingOffer(lead, config);
    if (earned) {
      offered++;
      rep(owner).offered++;
    }
    let fromOffer = false;
    for (const a of history.get(lead.id)?.activities ?? []) {
      if (a.type === 'note' && a.data.kind === 'meeting_canceled') canceled++;
      if (a.type !== 'meeting_booked') continue;
      if (a.data.instantOffer === true) {
        instantOffer++;
        rep(owner).instantOffer++;
        fromOffer = true;
      } else {
        repOutreach++;
        rep(owner).repOutreach++;
      }
    }
    if (earned && fromOffer) offeredAndBooked++;
  }
  return {
    offered,
    instantOffer,
    repOutreach,
    offerBookingRate: rate(offeredAndBooked, offered),
    canceled,
    byRep: [...perRep]
      .map(([repId, counts]) => ({ repId, ...counts }))
      .sort(
        (a, b) =>
          b.instantOffer + b.repOutreach - (a.instantOffer + a.repOutreach) || a.repId.localeCompare(b.repId),
      ),
  };
}

// ------------------------------------------------------------------------------------ all

/** Everything a report computation reads. */
export interface ReportData {
  /** The cohort: reportable leads captured in the range (see {@link reportableLeads}). */
  readonly leads: readonly Lead[];
  /** Email history per lead id; needed by `nurture` and `summary`. */
  readonly emails?: ReadonlyMap<string, LeadEmailHistory>;
  readonly now: Date;
}

/** Computes the named report. */
export function computeReport(
  name: ReportName,
  data: ReportData,
  config: Pick<ClientConfig, 'pipeline' | 'sla' | 'reps' | 'client'>,
): unknown {
  switch (name) {
    case 'sources':
      return sourcesReport(data.leads, config);
    case 'funnel':
      return funnelReport(data.leads, config);
    case 'speed-to-lead':
      return speedToLeadReport(data.leads, data.now);
    case 'sla':
      return slaReport(data.leads, config, data.now);
    case 'pipeline':
      return pipelineReport(data.leads, config);
    case 'nurture':
      return nurtureReport(data.leads, data.emails ?? new Map());
    case 'bookings':
      return bookingsReport(data.leads, data.emails ?? new Map(), config);
    case 'summary':
      return {
        sources: sourcesReport(data.leads, config),
        funnel: funnelReport(data.leads, config),
        speedToLead: speedToLeadReport(data.leads, data.now),
        sla: slaReport(data.leads, config, data.now),
        pipeline: pipelineReport(data.leads, config),
        nurture: nurtureReport(data.leads, data.emails ?? new Map()),
        bookings: bookingsReport(data.leads, data.emails ?? new Map(), config),
      };
  }
}
