import type { ClientConfig } from '../config/schema';
import { type Lead, LIFECYCLE_STAGES, type LifecycleStage, stageRank } from './lead';
import { countBy, rate, reached } from './report-stats';
/** Where leads come from and how far they get: the sources and funnel reports. */

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
