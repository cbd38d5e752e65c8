import type { ClientConfig } from '../config/schema';
import type { Lead } from './lead';
import { countBy, money, rate } from './report-stats';
/** The open pipeline: deals per stage and weighted value. */

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
