import { useMemo } from 'preact/hooks';
import type { BookingsReport } from '../../../shared/domain/report-bookings';
import type { FunnelReport, SourcesReport } from '../../../shared/domain/report-funnel';
import type { NurtureReport } from '../../../shared/domain/report-nurture';
import type { PipelineReport } from '../../../shared/domain/report-pipeline';
import type { SlaReport, SpeedToLeadReport } from '../../../shared/domain/report-speed';
import type { Workspace } from '../api';
import { ChartCanvas } from '../chart';
import { DataTable } from '../data-table';
import { money, percent, repName, Section, seconds } from '../ui';
import { funnelChart, pipelineChart, type TrendDay, trendChart } from './dashboard-charts';

/** The dashboard's cards, one per idea, each a chart and/or a table of the reports API's figures. */

/** What `GET /reports/summary` computes (shared/domain/reports.ts `computeReport`). */
export interface Summary {
  readonly sources: SourcesReport;
  readonly funnel: FunnelReport;
  readonly speedToLead: SpeedToLeadReport;
  readonly sla: SlaReport;
  readonly pipeline: PipelineReport;
  readonly nurture: NurtureReport;
  readonly bookings: BookingsReport;
}

/** What every card reads. */
interface CardProps {
  readonly s: Summary;
  readonly workspace: Workspace;
}

export function SpeedTrendCard({
  days,
  trendDays,
}: {
  days: readonly TrendDay[] | undefined;
  trendDays: number;
}) {
  const chart = useMemo(() => (days ? trendChart(days) : undefined), [days]);
  return (
    <Section title="Speed to lead over time">
      {chart && (
        <ChartCanvas
          config={chart}
          label={`Median and p90 minutes to first contact, per day, last ${trendDays} days`}
        />
      )}
      <DataTable
        label="Speed to lead per day"
        compact
        rows={(days ?? []).filter((d) => (d.report?.contacted ?? 0) > 0)}
        rowKey={(d) => d.day}
        columns={[
          { header: 'Day', cell: (d) => d.day },
          { header: 'Contacted', num: true, cell: (d) => d.report?.contacted },
          { header: 'Median', num: true, cell: (d) => seconds(d.report?.medianSeconds) },
          { header: 'p90', num: true, cell: (d) => seconds(d.report?.p90Seconds) },
          { header: '≤ 5 min', num: true, cell: (d) => percent(d.report?.within5MinutesShare) },
        ]}
      />
    </Section>
  );
}

export function FunnelCard({ s }: CardProps) {
  const chart = useMemo(() => funnelChart(s.funnel), [s]);
  return (
    <Section title="Funnel">
      <ChartCanvas config={chart} label="Leads reaching each lifecycle stage" />
      <DataTable
        label="Funnel with drop-off"
        rows={s.funnel.stages}
        rowKey={(st) => st.stage}
        columns={[
          { header: 'Stage', rowHeader: true, cell: (st) => st.stage },
          {
            header: 'Reached',
            num: true,
            cell: (st) => st.reached,
            attributes: (st) => ({ 'data-funnel': st.stage, 'data-value': st.reached }),
          },
          { header: 'From previous', num: true, cell: (st) => percent(st.conversionFromPrevious) },
          { header: 'Drop-off', num: true, cell: (st) => percent(st.dropOffFromPrevious) },
        ]}
      />
    </Section>
  );
}

export function PipelineCard({ s, workspace }: CardProps) {
  const currency = workspace.client.currency;
  const chart = useMemo(() => pipelineChart(s.pipeline, currency), [s, currency]);
  return (
    <Section title="Pipeline value">
      <ChartCanvas config={chart} label="Amount and weighted value per open stage" />
      <DataTable
        label="Pipeline by stage"
        rows={s.pipeline.byStage}
        rowKey={(st) => st.stage}
        columns={[
          { header: 'Stage', rowHeader: true, cell: (st) => st.name },
          { header: 'Deals', num: true, cell: (st) => st.deals },
          { header: 'Amount', num: true, cell: (st) => money(st.amount, currency) },
          { header: 'Weighted', num: true, cell: (st) => money(st.weightedAmount, currency) },
        ]}
      />
      <p class="muted">
        Won {s.pipeline.won.deals} ({money(s.pipeline.won.amount, currency)}) · lost {s.pipeline.lost.deals} ·
        win rate {percent(s.pipeline.winRate)}
      </p>
    </Section>
  );
}

export function SourcesCard({ s }: CardProps) {
  return (
    <Section title="By source">
      <DataTable
        label="Funnel by source channel"
        rows={s.sources.byChannel}
        rowKey={(c) => c.channel}
        columns={[
          { header: 'Channel', rowHeader: true, cell: (c) => c.channel },
          { header: 'Leads', num: true, cell: (c) => c.leads },
          { header: 'MQL', num: true, cell: (c) => c.mql },
          { header: 'SQL', num: true, cell: (c) => c.sql },
          { header: 'Customers', num: true, cell: (c) => c.customers },
          {
            header: 'Median speed',
            num: true,
            cell: (c) => seconds(s.speedToLead.bySource.find((b) => b.channel === c.channel)?.medianSeconds),
          },
        ]}
      />
    </Section>
  );
}

export function RepsCard({ s, workspace }: CardProps) {
  const speed = (repId: string) => s.speedToLead.byRep.find((b) => b.repId === repId);
  return (
    <Section title="By rep">
      <DataTable
        label="Speed to lead and SLA by rep"
        rows={s.sla.byRep}
        rowKey={(r) => r.repId}
        columns={[
          { header: 'Rep', rowHeader: true, cell: (r) => repName(workspace, r.repId) },
          { header: 'Assigned', num: true, cell: (r) => r.assigned },
          { header: 'Contacted', num: true, cell: (r) => speed(r.repId)?.contacted ?? 0 },
          { header: 'Median', num: true, cell: (r) => seconds(speed(r.repId)?.medianSeconds) },
          { header: '≤ 5 min', num: true, cell: (r) => percent(speed(r.repId)?.within5MinutesShare) },
          { header: 'SLA breaches', num: true, cell: (r) => `${r.breached} (${percent(r.breachRate)})` },
        ]}
      />
    </Section>
  );
}

export function SlaCard({ s, workspace }: CardProps) {
  return (
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
  );
}

/** A nurture step (or branch) by its sequence, step and branch. */
const stepKey = (q: NurtureReport['bySteps'][number]) => `${q.sequenceId}/${q.stepId}/${q.branch ?? ''}`;

export function NurtureCard({ s }: CardProps) {
  const n = s.nurture;
  return (
    <Section title="Nurture">
      <p>
        {n.emailedLeads} leads emailed · open rate {percent(n.openRate)} · click rate {percent(n.clickRate)} ·
        unsubscribed {percent(n.unsubscribeRate)}
      </p>
      <DataTable
        label="Emails by sequence"
        rows={n.bySequence}
        rowKey={(q) => q.sequenceId}
        columns={[
          { header: 'Sequence', rowHeader: true, cell: (q) => q.sequenceId },
          { header: 'Sent', num: true, cell: (q) => q.sent },
          { header: 'Delivered', num: true, cell: (q) => q.delivered },
          { header: 'Opened', num: true, cell: (q) => q.opened },
          { header: 'Clicked', num: true, cell: (q) => q.clicked },
          { header: 'Bounced', num: true, cell: (q) => q.bounced },
        ]}
      />
      <DataTable
        label="Nurture by step and branch"
        rows={n.bySteps}
        rowKey={stepKey}
        rowAttributes={(q) => ({
          'data-nurture-step': stepKey(q),
          'data-value': [q.sent, q.opened, q.clicked, q.convertedMql, q.convertedSql, q.unsubscribed].join(
            ',',
          ),
        })}
        columns={[
          {
            header: 'Step',
            rowHeader: true,
            cell: (q) => (
              <>
                {q.sequenceId} / {q.stepId}
                {q.channel === 'sms' ? ' (SMS)' : ''}
              </>
            ),
          },
          {
            header: 'Reached by',
            cell: (q) => (q.branch ? `branch ${q.branch.split('/').pop()}` : 'sequence'),
          },
          { header: 'Sent', num: true, cell: (q) => q.sent },
          { header: 'Opened', num: true, cell: (q) => q.opened },
          { header: 'Clicked', num: true, cell: (q) => q.clicked },
          { header: 'MQL', num: true, cell: (q) => q.convertedMql },
          { header: 'SQL', num: true, cell: (q) => q.convertedSql },
          { header: 'Unsubscribed', num: true, cell: (q) => q.unsubscribed },
        ]}
      />
    </Section>
  );
}

export function BookingsCard({ s, workspace }: CardProps) {
  const b = s.bookings;
  return (
    <Section title="Meetings booked">
      <p>
        {b.instantOffer} from the instant offer · {b.repOutreach} from rep outreach · {b.offered} leads
        offered a booking ({percent(b.offerBookingRate)} booked from it)
      </p>
      <DataTable
        id="bookings-by-rep"
        label="Meetings booked by rep"
        rows={b.byRep}
        rowKey={(r) => r.repId}
        columns={[
          { header: 'Rep', rowHeader: true, cell: (r) => repName(workspace, r.repId) },
          { header: 'Offered', num: true, cell: (r) => r.offered },
          { header: 'Instant offer', num: true, cell: (r) => r.instantOffer },
          { header: 'Rep outreach', num: true, cell: (r) => r.repOutreach },
        ]}
      />
    </Section>
  );
}
