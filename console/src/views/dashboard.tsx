import { useMemo } from 'preact/hooks';
import type { SpeedToLeadReport } from '../../../shared/domain/report-speed';
import { ErrorNote, money, percent, seconds, usePolled, type ViewProps } from '../ui';
import {
  BookingsCard,
  FunnelCard,
  NurtureCard,
  PipelineCard,
  RepsCard,
  SlaCard,
  SourcesCard,
  SpeedTrendCard,
  type Summary,
} from './dashboard-sections';

/** Days of speed-to-lead trend (one report per day: the reports API's own numbers, day by day). */
const TREND_DAYS = 14;

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** A figure with its exact value in `data-value`, so a test can hold it against the API's. */
function Kpi({
  label,
  value,
  shown,
  id,
}: {
  label: string;
  value: number | null;
  shown: string;
  id: string;
}) {
  return (
    <div class="kpi">
      <dt>{label}</dt>
      <dd data-kpi={id} data-value={value === null ? '' : String(value)}>
        {shown}
      </dd>
    </div>
  );
}

/** The headline figures: live pipeline, speed to lead and SLA breaches. */
function Kpis({ s, currency }: { s: Summary; currency: string }) {
  const kpis: ReadonlyArray<Parameters<typeof Kpi>[0]> = [
    {
      id: 'pipeline.open.deals',
      label: 'Live opportunities',
      value: s.pipeline.open.deals,
      shown: String(s.pipeline.open.deals),
    },
    {
      id: 'pipeline.open.weightedAmount',
      label: 'Weighted pipeline',
      value: s.pipeline.open.weightedAmount,
      shown: money(s.pipeline.open.weightedAmount, currency),
    },
    {
      id: 'speedToLead.medianSeconds',
      label: 'Speed to lead, median',
      value: s.speedToLead.medianSeconds,
      shown: seconds(s.speedToLead.medianSeconds),
    },
    {
      id: 'speedToLead.p90Seconds',
      label: 'Speed to lead, p90',
      value: s.speedToLead.p90Seconds,
      shown: seconds(s.speedToLead.p90Seconds),
    },
    {
      id: 'speedToLead.within5MinutesShare',
      label: 'Contacted within 5 min',
      value: s.speedToLead.within5MinutesShare,
      shown: percent(s.speedToLead.within5MinutesShare),
    },
    {
      id: 'sla.breached',
      label: 'SLA breaches',
      value: s.sla.breached,
      shown: `${s.sla.breached} (${percent(s.sla.breachRate)})`,
    },
  ];
  return (
    <dl class="kpis">
      {kpis.map((k) => (
        <Kpi key={k.id} {...k} />
      ))}
    </dl>
  );
}

/** The manager's dashboard: the last 30 days' summary and a 14-day speed-to-lead trend. */
export function DashboardView({ api, workspace }: ViewProps) {
  const range = useMemo(() => {
    const to = new Date();
    return { from: isoDay(new Date(to.getTime() - 29 * 86_400_000)), to: isoDay(to) };
  }, []);
  const summary = usePolled(() => api.report<Summary>('summary', range), 30_000);
  const trend = usePolled(async () => {
    const days = Array.from({ length: TREND_DAYS }, (_, i) =>
      isoDay(new Date(Date.now() - (TREND_DAYS - 1 - i) * 86_400_000)),
    );
    const reports = await Promise.all(
      days.map((day) => api.report<SpeedToLeadReport>('speed-to-lead', { from: day, to: day })),
    );
    return days.map((day, i) => ({ day, report: reports[i]?.data }));
  }, 60_000);
  const s = summary.data?.data;

  return (
    <>
      <h1>Dashboard</h1>
      <p class="muted">
        Leads captured {range.from} to {range.to}
        {summary.data
          ? ` · ${summary.data.leads} leads · scope ${summary.data.scope.kind === 'teams' ? summary.data.scope.teamIds.join(', ') : summary.data.scope.kind}`
          : ''}
        . Figures are the reports API's.
      </p>
      <ErrorNote error={summary.error ?? trend.error} />
      {!s ? (
        <p role="status">Loading…</p>
      ) : (
        <>
          <Kpis s={s} currency={workspace.client.currency} />
          <div class="grid">
            <SpeedTrendCard days={trend.data} trendDays={TREND_DAYS} />
            <FunnelCard s={s} workspace={workspace} />
            <PipelineCard s={s} workspace={workspace} />
            <SourcesCard s={s} workspace={workspace} />
            <RepsCard s={s} workspace={workspace} />
            <SlaCard s={s} workspace={workspace} />
            <NurtureCard s={s} workspace={workspace} />
            <BookingsCard s={s} workspace={workspace} />
          </div>
        </>
      )}
    </>
  );
}
