import type { ClientConfig } from '../config/schema';
import { type Lead, LIFECYCLE_STAGES, type LifecycleStage, stageRank } from './lead';
/** The arithmetic every report shares: rates, money, medians, percentiles, which leads count, how far a lead got. */

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

export function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
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

export function reached(lead: Lead, stage: LifecycleStage, config: Pick<ClientConfig, 'pipeline'>): boolean {
  return stageRank(furthestStage(lead, config)) >= stageRank(stage);
}
