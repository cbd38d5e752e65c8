import type { ChartConfiguration } from 'chart.js';
import { useMemo } from 'preact/hooks';
import type { BookingsReport } from '../../../shared/domain/report-bookings';
import type { FunnelReport, SourcesReport } from '../../../shared/domain/report-funnel';
import type { NurtureReport } from '../../../shared/domain/report-nurture';
import type { PipelineReport } from '../../../shared/domain/report-pipeline';
import type { SlaReport, SpeedToLeadReport } from '../../../shared/domain/report-speed';
import { ChartCanvas } from '../chart';
import {
  ErrorNote,
  money,
  percent,
  repName,
  Section,
  seconds,
  TableScroll,
  usePolled,
  type ViewProps,
} from '../ui';

/** What `GET /reports/summary` computes (shared/domain/reports.ts `computeReport`). */
interface Summary {
  readonly sources: SourcesReport;
  readonly funnel: FunnelReport;
  readonly speedToLead: SpeedToLeadReport;
  readonly sla: SlaReport;
  readonly pipeline: PipelineReport;
  readonly nurture: NurtureReport;
  readonly bookings: BookingsReport;
}

/** Days of speed-to-lead trend (one report per day: the reports API's own numbers, day by day). */
const TREND_DAYS = 14;
const BLUE = '#1d4ed8';
const ORANGE = '#b45309';

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

export function DashboardView({ api, workspace }: ViewProps) {
  const currency = workspace.client.currency;
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

  const trendChart = useMemo<ChartConfiguration | undefined>(() => {
    if (!trend.data) return undefined;
    const minutes = (v: number | null | undefined) =>
      v === null || v === undefined ? null : Math.round((v / 60) * 10) / 10;
    return {
      type: 'line',
      data: {
        labels: trend.data.map((d) => d.day.slice(5)),
        datasets: [
          {
            label: 'Median (min)',
            data: trend.data.map((d) => minutes(d.report?.medianSeconds)),
            borderColor: BLUE,
            backgroundColor: BLUE,
            spanGaps: true,
          },
          {
            label: 'p90 (min)',
            data: trend.data.map((d) => minutes(d.report?.p90Seconds)),
            borderColor: ORANGE,
            backgroundColor: ORANGE,
            spanGaps: true,
          },
        ],
      },
      options: { scales: { y: { beginAtZero: true, title: { display: true, text: 'minutes' } } } },
    };
  }, [trend.data]);

  const funnelChart = useMemo<ChartConfiguration | undefined>(() => {
    if (!s) return undefined;
    return {
      type: 'bar',
      data: {
        labels: s.funnel.stages.map((st) => st.stage),
        datasets: [
          {
            label: 'Leads reaching the stage',
            data: s.funnel.stages.map((st) => st.reached),
            backgroundColor: BLUE,
          },
        ],
      },
      options: { indexAxis: 'y', plugins: { legend: { display: false } } },
    };
  }, [s]);

  const pipelineChart = useMemo<ChartConfiguration | undefined>(() => {
    if (!s) return undefined;
    const open = s.pipeline.byStage.filter((st) => st.outcome === 'open');
    return {
      type: 'bar',
      data: {
        labels: open.map((st) => st.name),
        datasets: [
          { label: `Amount (${currency})`, data: open.map((st) => st.amount), backgroundColor: '#93c5fd' },
          {
            label: `Weighted (${currency})`,
            data: open.map((st) => st.weightedAmount),
            backgroundColor: BLUE,
          },
        ],
      },
    };
  }, [s, currency]);

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
          <dl class="kpis">
            <Kpi
              id="pipeline.open.deals"
              label="Live opportunities"
              value={s.pipeline.open.deals}
              shown={String(s.pipeline.open.deals)}
            />
            <Kpi
              id="pipeline.open.weightedAmount"
              label="Weighted pipeline"
              value={s.pipeline.open.weightedAmount}
              shown={money(s.pipeline.open.weightedAmount, currency)}
            />
            <Kpi
              id="speedToLead.medianSeconds"
              label="Speed to lead, median"
              value={s.speedToLead.medianSeconds}
              shown={seconds(s.speedToLead.medianSeconds)}
            />
            <Kpi
              id="speedToLead.p90Seconds"
              label="Speed to lead, p90"
              value={s.speedToLead.p90Seconds}
              shown={seconds(s.speedToLead.p90Seconds)}
            />
            <Kpi
              id="speedToLead.within5MinutesShare"
              label="Contacted within 5 min"
              value={s.speedToLead.within5MinutesShare}
              shown={percent(s.speedToLead.within5MinutesShare)}
            />
            <Kpi
              id="sla.breached"
              label="SLA breaches"
              value={s.sla.breached}
              shown={`${s.sla.breached} (${percent(s.sla.breachRate)})`}
            />
          </dl>
          <div class="grid">
            <Section title="Speed to lead over time">
              {trendChart && (
                <ChartCanvas
                  config={trendChart}
                  label={`Median and p90 minutes to first contact, per day, last ${TREND_DAYS} days`}
                />
              )}
              <TableScroll label="Speed to lead per day">
                <table class="compact">
                  <caption class="visually-hidden">Speed to lead per day</caption>
                  <thead>
                    <tr>
                      <th scope="col">Day</th>
                      <th scope="col" class="num">
                        Contacted
                      </th>
                      <th scope="col" class="num">
                        Median
                      </th>
                      <th scope="col" class="num">
                        p90
                      </th>
                      <th scope="col" class="num">
                        ≤ 5 min
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {trend.data
                      ?.filter((d) => (d.report?.contacted ?? 0) > 0)
                      .map((d) => (
                        <tr key={d.day}>
                          <td>{d.day}</td>
                          <td class="num">{d.report?.contacted}</td>
                          <td class="num">{seconds(d.report?.medianSeconds)}</td>
                          <td class="num">{seconds(d.report?.p90Seconds)}</td>
                          <td class="num">{percent(d.report?.within5MinutesShare)}</td>
                        </tr>
                      ))}
                  </tbody>
                </table>
              </TableScroll>
            </Section>
            <Section title="Funnel">
              {funnelChart && (
                <ChartCanvas config={funnelChart} label="Leads reaching each lifecycle stage" />
              )}
              <TableScroll label="Funnel with drop-off">
                <table>
                  <caption class="visually-hidden">Funnel with drop-off</caption>
                  <thead>
                    <tr>
                      <th scope="col">Stage</th>
                      <th scope="col" class="num">
                        Reached
                      </th>
                      <th scope="col" class="num">
                        From previous
                      </th>
                      <th scope="col" class="num">
                        Drop-off
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {s.funnel.stages.map((st) => (
                      <tr key={st.stage}>
                        <th scope="row">{st.stage}</th>
                        <td class="num" data-funnel={st.stage} data-value={st.reached}>
                          {st.reached}
                        </td>
                        <td class="num">{percent(st.conversionFromPrevious)}</td>
                        <td class="num">{percent(st.dropOffFromPrevious)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableScroll>
            </Section>
            <Section title="Pipeline value">
              {pipelineChart && (
                <ChartCanvas config={pipelineChart} label="Amount and weighted value per open stage" />
              )}
              <TableScroll label="Pipeline by stage">
                <table>
                  <caption class="visually-hidden">Pipeline by stage</caption>
                  <thead>
                    <tr>
                      <th scope="col">Stage</th>
                      <th scope="col" class="num">
                        Deals
                      </th>
                      <th scope="col" class="num">
                        Amount
                      </th>
                      <th scope="col" class="num">
                        Weighted
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {s.pipeline.byStage.map((st) => (
                      <tr key={st.stage}>
                        <th scope="row">{st.name}</th>
                        <td class="num">{st.deals}</td>
                        <td class="num">{money(st.amount, currency)}</td>
                        <td class="num">{money(st.weightedAmount, currency)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableScroll>
              <p class="muted">
                Won {s.pipeline.won.deals} ({money(s.pipeline.won.amount, currency)}) · lost{' '}
                {s.pipeline.lost.deals} · win rate {percent(s.pipeline.winRate)}
              </p>
            </Section>
            <Section title="By source">
              <TableScroll label="Funnel by source channel">
                <table>
                  <caption class="visually-hidden">Funnel by source channel</caption>
                  <thead>
                    <tr>
                      <th scope="col">Channel</th>
                      <th scope="col" class="num">
                        Leads
                      </th>
                      <th scope="col" class="num">
                        MQL
                      </th>
                      <th scope="col" class="num">
                        SQL
                      </th>
                      <th scope="col" class="num">
                        Customers
                      </th>
                      <th scope="col" class="num">
                        Median speed
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {s.sources.byChannel.map((c) => (
                      <tr key={c.channel}>
                        <th scope="row">{c.channel}</th>
                        <td class="num">{c.leads}</td>
                        <td class="num">{c.mql}</td>
                        <td class="num">{c.sql}</td>
                        <td class="num">{c.customers}</td>
                        <td class="num">
                          {seconds(
                            s.speedToLead.bySource.find((b) => b.channel === c.channel)?.medianSeconds,
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableScroll>
            </Section>
            <Section title="By rep">
              <TableScroll label="Speed to lead and SLA by rep">
                <table>
                  <caption class="visually-hidden">Speed to lead and SLA by rep</caption>
                  <thead>
                    <tr>
                      <th scope="col">Rep</th>
                      <th scope="col" class="num">
                        Assigned
                      </th>
                      <th scope="col" class="num">
                        Contacted
                      </th>
                      <th scope="col" class="num">
                        Median
                      </th>
                      <th scope="col" class="num">
                        ≤ 5 min
                      </th>
                      <th scope="col" class="num">
                        SLA breaches
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {s.sla.byRep.map((r) => {
                      const speed = s.speedToLead.byRep.find((b) => b.repId === r.repId);
                      return (
                        <tr key={r.repId}>
                          <th scope="row">{repName(workspace, r.repId)}</th>
                          <td class="num">{r.assigned}</td>
                          <td class="num">{speed?.contacted ?? 0}</td>
                          <td class="num">{seconds(speed?.medianSeconds)}</td>
                          <td class="num">{percent(speed?.within5MinutesShare)}</td>
                          <td class="num">
                            {r.breached} ({percent(r.breachRate)})
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </TableScroll>
            </Section>
            <Section title="SLA breaches">
              <dl class="facts">
                <dt>Assigned</dt>
                <dd>{s.sla.assigned}</dd>
                <dt>Met the SLA</dt>
                <dd>{s.sla.metSla}</dd>
                <dt>Escalated</dt>
                <dd>
                  {s.sla.escalatedLeads} leads ({s.sla.escalations} steps)
                </dd>
                <dt>Unworked</dt>
                <dd>{s.sla.unworked}</dd>
                <dt>Late first touch</dt>
                <dd>{s.sla.late}</dd>
                <dt>Overdue now</dt>
                <dd>{s.sla.overdueNow}</dd>
              </dl>
              <ul class="plain">
                {s.sla.breaches.slice(0, 8).map((b) => (
                  <li key={b.leadId}>
                    <a href={`#/leads/${encodeURIComponent(b.leadId)}`}>{b.leadId.slice(0, 8)}</a>{' '}
                    {repName(workspace, b.owner)} · {b.kinds.join(', ')}
                  </li>
                ))}
              </ul>
            </Section>
            <Section title="Nurture">
              <p>
                {s.nurture.emailedLeads} leads emailed · open rate {percent(s.nurture.openRate)} · click rate{' '}
                {percent(s.nurture.clickRate)} · unsubscribed {percent(s.nurture.unsubscribeRate)}
              </p>
              <TableScroll label="Emails by sequence">
                <table>
                  <caption class="visually-hidden">Emails by sequence</caption>
                  <thead>
                    <tr>
                      <th scope="col">Sequence</th>
                      <th scope="col" class="num">
                        Sent
                      </th>
                      <th scope="col" class="num">
                        Delivered
                      </th>
                      <th scope="col" class="num">
                        Opened
                      </th>
                      <th scope="col" class="num">
                        Clicked
                      </th>
                      <th scope="col" class="num">
                        Bounced
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {s.nurture.bySequence.map((q) => (
                      <tr key={q.sequenceId}>
                        <th scope="row">{q.sequenceId}</th>
                        <td class="num">{q.sent}</td>
                        <td class="num">{q.delivered}</td>
                        <td class="num">{q.opened}</td>
                        <td class="num">{q.clicked}</td>
                        <td class="num">{q.bounced}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableScroll>
              <TableScroll label="Nurture by step and branch">
                <table>
                  <caption class="visually-hidden">Nurture by step and branch</caption>
                  <thead>
                    <tr>
                      <th scope="col">Step</th>
                      <th scope="col">Reached by</th>
                      <th scope="col" class="num">
                        Sent
                      </th>
                      <th scope="col" class="num">
                        Opened
                      </th>
                      <th scope="col" class="num">
                        Clicked
                      </th>
                      <th scope="col" class="num">
                        MQL
                      </th>
                      <th scope="col" class="num">
                        SQL
                      </th>
                      <th scope="col" class="num">
                        Unsubscribed
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {s.nurture.bySteps.map((q) => (
                      <tr
                        key={`${q.sequenceId}/${q.stepId}/${q.branch ?? ''}`}
                        data-nurture-step={`${q.sequenceId}/${q.stepId}/${q.branch ?? ''}`}
                        data-value={[
                          q.sent,
                          q.opened,
                          q.clicked,
                          q.convertedMql,
                          q.convertedSql,
                          q.unsubscribed,
                        ].join(',')}
                      >
                        <th scope="row">
                          {q.sequenceId} / {q.stepId}
                          {q.channel === 'sms' ? ' (SMS)' : ''}
                        </th>
                        <td>{q.branch ? `branch ${q.branch.split('/').pop()}` : 'sequence'}</td>
                        <td class="num">{q.sent}</td>
                        <td class="num">{q.opened}</td>
                        <td class="num">{q.clicked}</td>
                        <td class="num">{q.convertedMql}</td>
                        <td class="num">{q.convertedSql}</td>
                        <td class="num">{q.unsubscribed}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableScroll>
            </Section>
            <Section title="Meetings booked">
              <p>
                {s.bookings.instantOffer} from the instant offer · {s.bookings.repOutreach} from rep outreach
                · {s.bookings.offered} leads offered a booking ({percent(s.bookings.offerBookingRate)} booked
                from it)
              </p>
              <TableScroll label="Meetings booked by rep">
                <table id="bookings-by-rep">
                  <caption class="visually-hidden">Meetings booked by rep</caption>
                  <thead>
                    <tr>
                      <th scope="col">Rep</th>
                      <th scope="col" class="num">
                        Offered
                      </th>
                      <th scope="col" class="num">
                        Instant offer
                      </th>
                      <th scope="col" class="num">
                        Rep outreach
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {s.bookings.byRep.map((r) => (
                      <tr key={r.repId}>
                        <th scope="row">{repName(workspace, r.repId)}</th>
                        <td class="num">{r.offered}</td>
                        <td class="num">{r.instantOffer}</td>
                        <td class="num">{r.repOutreach}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableScroll>
            </Section>
          </div>
        </>
      )}
    </>
  );
}
