import type { ClientConfig } from '../config/schema';
import type { Lead } from './lead';
import { pipelineStage } from './pipeline';
/** Stale deals: open deals that sat in their stage longer than `pipeline.staleAfterDays`. */

// ------------------------------------------------------------------------------------ stale deals

/** Ids of the stages whose deals are still open (outcome `open`). */
export function openStageIds(config: Pick<ClientConfig, 'pipeline'>): string[] {
  return config.pipeline.stages.filter((s) => s.outcome === 'open').map((s) => s.id);
}

/** The instant before which an unchanged stage makes a deal stale. */
export function staleCutoff(config: Pick<ClientConfig, 'pipeline'>, now: Date): Date {
  return new Date(now.getTime() - config.pipeline.staleAfterDays * 86_400_000);
}

/** A deal stuck in its stage. */
export interface StaleDeal {
  readonly lead: Lead;
  readonly repId: string;
  readonly pipelineStage: string;
  readonly daysInStage: number;
}

/** Whole days the deal has been in its pipeline stage. */
export function daysInStage(lead: Pick<Lead, 'pipelineStageAt' | 'updatedAt'>, now: Date): number {
  return Math.floor((now.getTime() - Date.parse(lead.pipelineStageAt ?? lead.updatedAt)) / 86_400_000);
}

/** Whether the deal sits in an open pipeline stage unchanged for at least `staleAfterDays` whole days. */
export function isStaleDeal(
  lead: Pick<Lead, 'pipelineStage' | 'pipelineStageAt' | 'updatedAt'>,
  config: Pick<ClientConfig, 'pipeline'>,
  now: Date,
): boolean {
  return (
    pipelineStage(config, lead.pipelineStage)?.outcome === 'open' &&
    daysInStage(lead, now) >= config.pipeline.staleAfterDays
  );
}

/**
 * The stale deals among candidate leads: an open pipeline stage unchanged for at least
 * `staleAfterDays` whole days. Deals without an owner go to their team's manager; deals with
 * neither are skipped (nobody to tell).
 */
export function findStaleDeals(
  leads: readonly Lead[],
  config: Pick<ClientConfig, 'pipeline' | 'teams'>,
  now: Date,
): StaleDeal[] {
  const deals: StaleDeal[] = [];
  for (const lead of leads) {
    if (lead.pipelineStage === undefined || !isStaleDeal(lead, config, now)) continue;
    const repId = lead.owner ?? config.teams.find((t) => t.id === lead.team)?.manager;
    if (repId === undefined) continue;
    deals.push({ lead, repId, pipelineStage: lead.pipelineStage, daysInStage: daysInStage(lead, now) });
  }
  return deals;
}
