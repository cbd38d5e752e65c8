import type { ClientConfig } from '../config/schema';
import type { Lead, LeadStatus } from './lead';
import { countBy, median, percentile, rate } from './report-stats';
import { assignmentDeadline } from './sla';
/** How fast leads are worked: speed to lead and SLA breaches. */

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
