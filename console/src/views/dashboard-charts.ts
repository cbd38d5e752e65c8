import type { ChartConfiguration } from 'chart.js';
import type { FunnelReport } from '../../../shared/domain/report-funnel';
import type { PipelineReport } from '../../../shared/domain/report-pipeline';
import type { SpeedToLeadReport } from '../../../shared/domain/report-speed';

/** The dashboard's charts, as Chart.js configurations built from the reports API's figures. */

const BLUE = '#1d4ed8';
const ORANGE = '#b45309';
const LIGHT_BLUE = '#93c5fd';

/** One day of the speed-to-lead trend. */
export interface TrendDay {
  readonly day: string;
  readonly report: SpeedToLeadReport | undefined;
}

function minutes(value: number | null | undefined): number | null {
  return value === null || value === undefined ? null : Math.round((value / 60) * 10) / 10;
}

/** Median and p90 minutes to first contact, per day. */
export function trendChart(days: readonly TrendDay[]): ChartConfiguration {
  return {
    type: 'line',
    data: {
      labels: days.map((d) => d.day.slice(5)),
      datasets: [
        {
          label: 'Median (min)',
          data: days.map((d) => minutes(d.report?.medianSeconds)),
          borderColor: BLUE,
          backgroundColor: BLUE,
          spanGaps: true,
        },
        {
          label: 'p90 (min)',
          data: days.map((d) => minutes(d.report?.p90Seconds)),
          borderColor: ORANGE,
          backgroundColor: ORANGE,
          spanGaps: true,
        },
      ],
    },
    options: { scales: { y: { beginAtZero: true, title: { display: true, text: 'minutes' } } } },
  };
}

/** Leads reaching each lifecycle stage. */
export function funnelChart(funnel: FunnelReport): ChartConfiguration {
  return {
    type: 'bar',
    data: {
      labels: funnel.stages.map((st) => st.stage),
      datasets: [
        {
          label: 'Leads reaching the stage',
          data: funnel.stages.map((st) => st.reached),
          backgroundColor: BLUE,
        },
      ],
    },
    options: { indexAxis: 'y', plugins: { legend: { display: false } } },
  };
}

/** Amount and weighted value per open stage. */
export function pipelineChart(pipeline: PipelineReport, currency: string): ChartConfiguration {
  const open = pipeline.byStage.filter((st) => st.outcome === 'open');
  return {
    type: 'bar',
    data: {
      labels: open.map((st) => st.name),
      datasets: [
        { label: `Amount (${currency})`, data: open.map((st) => st.amount), backgroundColor: LIGHT_BLUE },
        { label: `Weighted (${currency})`, data: open.map((st) => st.weightedAmount), backgroundColor: BLUE },
      ],
    },
  };
}
