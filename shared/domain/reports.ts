import type { ClientConfig } from '../config/schema';
import type { Lead } from './lead';
import { bookingsReport } from './report-bookings';
import { funnelReport, sourcesReport } from './report-funnel';
import { type LeadEmailHistory, nurtureReport } from './report-nurture';
import { pipelineReport } from './report-pipeline';
import { slaReport, speedToLeadReport } from './report-speed';

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
