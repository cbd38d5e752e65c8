import { describe, expect, it } from 'vitest';
import { loadClientConfig } from '../../shared/config/load';
import type { ClientConfig } from '../../shared/config/schema';
import type { Activity, Lead } from '../../shared/domain/lead';
import { funnelReport, sourcesReport } from '../../shared/domain/report-funnel';
import { type LeadEmailHistory, nurtureReport } from '../../shared/domain/report-nurture';
import { pipelineReport } from '../../shared/domain/report-pipeline';
import { slaReport, speedToLeadReport } from '../../shared/domain/report-speed';
import { furthestStage, median, percentile, rate, reportableLeads } from '../../shared/domain/report-stats';
import { computeReport } from '../../shared/domain/reports';
import { mapLimit } from '../../shared/services/map-limit';
import { daysBetween, reportRange } from '../../shared/services/reports';

const config: ClientConfig = loadClientConfig('example', 'clients');
const now = new Date('2026-03-10T12:00:00.000Z');

function lead(id: string, fields: Partial<Lead>): Lead {
  return {
    id,
    createdAt: '2026-03-02T09:00:00.000Z',
    updatedAt: '2026-03-02T09:00:00.000Z',
    profile: {
      dedupeKey: `${id}@x.example`,
      isFreeMail: false,
      isDisposable: false,
      extra: {},
      droppedFields: [],
    },
    source: { channel: 'organic', provider: 'form', utm: {} },
    isTest: false,
    status: 'new',
    stage: 'lead',
    priority: 'normal',
    unsubscribed: false,
    version: 1,
    ...fields,
  };
}

const sla = (ladderStep: number, action: 'escalate' | 'unworked') => ({
  execution: 'arn:aws:states:eu-west-1:1:execution:Sla:x',
  ladderStep,
  action,
  to: 'ana',
  at: '2026-03-05T09:20:00.000Z',
  announced: true,
});

/**
 * The cohort every expectation below is computed from by hand (2026-03-02 is a Monday; Dublin is
 * UTC+0, New York UTC-5 and Chicago UTC-6 on these dates).
 */
const cohort: Lead[] = [
  lead('a1', {
    createdAt: '2026-03-02T09:00:00.000Z',
    source: { channel: 'paid_search', provider: 'google_ads', utm: {} },
    stage: 'SQL',
    status: 'working',
    owner: 'liam',
    team: 'emea',
    assignedAt: '2026-03-02T09:00:30.000Z', // deadline 09:05:30 (Dublin hours)
    firstTouchAt: '2026-03-02T09:03:00.000Z', // 180 s, met
    pipelineStage: 'demo',
    amount: 10_000,
  }),
  lead('a2', {
    createdAt: '2026-03-02T10:00:00.000Z',
    stage: 'MQL',
    status: 'contacted',
    owner: 'liam',
    team: 'emea',
    assignedAt: '2026-03-02T10:00:00.000Z', // deadline 10:05
    firstTouchAt: '2026-03-02T10:10:00.000Z', // 600 s, late
  }),
  lead('a3', {
    createdAt: '2026-03-03T09:00:00.000Z',
    source: { channel: 'paid_search', provider: 'google_ads', utm: {} },
    stage: 'customer',
    status: 'converted',
    owner: 'jordan',
    team: 'na',
    assignedAt: '2026-03-03T09:00:00.000Z', // 04:00 New York: deadline 06:05 NY = 11:05Z
    firstTouchAt: '2026-03-03T09:30:00.000Z', // 1800 s, met
    pipelineStage: 'won',
    amount: 20_000,
  }),
  lead('a4', {
    createdAt: '2026-03-03T11:00:00.000Z',
    status: 'disqualified',
    owner: 'jordan',
    team: 'na',
    assignedAt: '2026-03-03T11:00:00.000Z', // 06:00 NY: deadline 11:05Z
    firstTouchAt: '2026-03-03T13:00:00.000Z', // 7200 s, late
    pipelineStage: 'lost',
    lostReason: 'No budget',
    amount: 5_000,
  }),
  lead('a5', {
    createdAt: '2026-03-04T08:00:00.000Z',
    source: { channel: 'referral', provider: 'form', utm: {} },
    stage: 'MQL',
    status: 'assigned',
    owner: 'priya',
    team: 'na',
    assignedAt: '2026-03-04T08:00:00.000Z', // 02:00 Chicago: deadline 15:05Z, overdue now
  }),
  lead('a6', {
    createdAt: '2026-03-04T09:00:00.000Z',
    source: { channel: 'paid_social', provider: 'meta', utm: {} },
    status: 'nurturing',
  }),
  lead('a7', { isTest: true, firstTouchAt: '2026-03-02T09:00:01.000Z', owner: 'liam' }),
  lead('a8', {
    createdAt: '2026-03-05T09:00:00.000Z',
    source: { channel: 'paid_search', provider: 'google_ads', utm: {} },
    stage: 'SQL',
    status: 'unworked',
    owner: 'maya',
    team: 'na',
    assignedAt: '2026-03-05T09:10:00.000Z',
    slaProgress: sla(2, 'unworked'),
  }),
  lead('a9', {
    createdAt: '2026-03-05T10:00:00.000Z',
    stage: 'opportunity',
    status: 'working',
    owner: 'liam',
    team: 'emea',
    assignedAt: '2026-03-05T10:00:30.000Z',
    firstTouchAt: '2026-03-05T10:01:00.000Z', // 60 s, after one escalation
    slaProgress: sla(1, 'escalate'),
    pipelineStage: 'proposal',
    amount: 8_000,
  }),
];
const leads = reportableLeads(cohort);

describe('statistics', () => {
  it('rounds rates to 4 decimals and has no rate of nothing', () => {
    expect(rate(2, 3)).toBe(0.6667);
    expect(rate(0, 0)).toBeNull();
  });

  it('takes the middle value (mean of the middle two) and the nearest-rank percentile', () => {
    expect(median([7200, 60, 600, 180, 1800])).toBe(600);
    expect(median([1800, 7200])).toBe(4500);
    expect(median([])).toBeUndefined();
    expect(percentile([60, 180, 600, 1800, 7200], 90)).toBe(7200);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(percentile([5], 90)).toBe(5);
  });

  it('excludes test leads', () => {
    expect(leads.map((l) => l.id)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a8', 'a9']);
  });

  it('places each lead at the furthest stage it reached', () => {
    expect(leads.map((l) => furthestStage(l, config))).toEqual([
      'opportunity',
      'MQL',
      'customer',
      'opportunity',
      'MQL',
      'lead',
      'SQL',
      'opportunity',
    ]);
  });
});

describe('sources', () => {
  it('counts leads by channel (with MQL, SQL and customers), by source and by both', () => {
    expect(sourcesReport(leads, config)).toEqual({
      total: 8,
      byChannel: [
        { channel: 'organic', leads: 3, share: 0.375, mql: 3, sql: 2, customers: 0 },
        { channel: 'paid_search', leads: 3, share: 0.375, mql: 3, sql: 3, customers: 1 },
        { channel: 'paid_social', leads: 1, share: 0.125, mql: 0, sql: 0, customers: 0 },
        { channel: 'referral', leads: 1, share: 0.125, mql: 1, sql: 0, customers: 0 },
      ],
      bySource: [
        { source: 'form', leads: 4, share: 0.5 },
        { source: 'google_ads', leads: 3, share: 0.375 },
        { source: 'meta', leads: 1, share: 0.125 },
      ],
      byChannelAndSource: [
        { channel: 'organic', source: 'form', leads: 3 },
        { channel: 'paid_search', source: 'google_ads', leads: 3 },
        { channel: 'paid_social', source: 'meta', leads: 1 },
        { channel: 'referral', source: 'form', leads: 1 },
      ],
    });
  });
});

describe('funnel', () => {
  it('computes MQL and SQL rates and the conversion and drop-off of every stage', () => {
    expect(funnelReport(leads, config)).toEqual({
      total: 8,
      mqlRate: 0.875,
      sqlRate: 0.625,
      mqlToSqlRate: 0.7143,
      stages: [
        { stage: 'lead', reached: 8, conversionFromPrevious: null, dropOffFromPrevious: null },
        { stage: 'MQL', reached: 7, conversionFromPrevious: 0.875, dropOffFromPrevious: 0.125 },
        { stage: 'SQL', reached: 5, conversionFromPrevious: 0.7143, dropOffFromPrevious: 0.2857 },
        { stage: 'opportunity', reached: 4, conversionFromPrevious: 0.8, dropOffFromPrevious: 0.2 },
        { stage: 'customer', reached: 1, conversionFromPrevious: 0.25, dropOffFromPrevious: 0.75 },
      ],
      pipelineStages: [
        { stage: 'discovery', name: 'Discovery', leads: 0 },
        { stage: 'demo', name: 'Demo', leads: 1 },
        { stage: 'proposal', name: 'Proposal', leads: 1 },
        { stage: 'decision', name: 'Decision', leads: 0 },
        { stage: 'won', name: 'Closed won', leads: 1 },
        { stage: 'lost', name: 'Closed lost', leads: 1 },
      ],
    });
  });
});

describe('speed to lead', () => {
  it('computes median, p90, the 5-minute share and bands, per rep and per source, and lists the waiting', () => {
    expect(speedToLeadReport(leads, now)).toEqual({
      contacted: 5,
      medianSeconds: 600,
      p90Seconds: 7200,
      within5MinutesShare: 0.4,
      bands: [
        { band: '0-5', leads: 2, share: 0.4 },
        { band: '5-15', leads: 1, share: 0.2 },
        { band: '15-60', leads: 1, share: 0.2 },
        { band: '60+', leads: 1, share: 0.2 },
      ],
      byRep: [
        { repId: 'liam', contacted: 3, medianSeconds: 180, p90Seconds: 600, within5MinutesShare: 0.6667 },
        { repId: 'jordan', contacted: 2, medianSeconds: 4500, p90Seconds: 7200, within5MinutesShare: 0 },
      ],
      bySource: [
        {
          channel: 'organic',
          contacted: 3,
          medianSeconds: 600,
          p90Seconds: 7200,
          within5MinutesShare: 0.3333,
        },
        {
          channel: 'paid_search',
          contacted: 2,
          medianSeconds: 990,
          p90Seconds: 1800,
          within5MinutesShare: 0.5,
        },
      ],
      notContacted: {
        count: 2,
        leads: [
          {
            leadId: 'a5',
            owner: 'priya',
            status: 'assigned',
            channel: 'referral',
            createdAt: '2026-03-04T08:00:00.000Z',
            minutesWaiting: 8880,
          },
          {
            leadId: 'a8',
            owner: 'maya',
            status: 'unworked',
            channel: 'paid_search',
            createdAt: '2026-03-05T09:00:00.000Z',
            minutesWaiting: 7380,
          },
        ],
      },
    });
  });

  it('puts exactly 5 and 15 minutes in the lower band', () => {
    const edge = [
      lead('e1', { firstTouchAt: '2026-03-02T09:05:00.000Z' }),
      lead('e2', { firstTouchAt: '2026-03-02T09:15:00.000Z' }),
      lead('e3', { firstTouchAt: '2026-03-02T09:15:01.000Z' }),
    ];
    expect(speedToLeadReport(edge, now).bands.map((b) => b.leads)).toEqual([1, 1, 1, 0]);
  });
});

describe('SLA', () => {
  it('counts escalations, unworked leads, late and overdue first touches', () => {
    expect(slaReport(leads, config, now)).toEqual({
      assigned: 7,
      metSla: 2,
      breached: 5,
      breachRate: 0.7143,
      escalations: 3,
      escalatedLeads: 2,
      unworked: 1,
      late: 2,
      overdueNow: 1,
      byRep: [
        { repId: 'liam', assigned: 3, breached: 2, breachRate: 0.6667 },
        { repId: 'jordan', assigned: 2, breached: 1, breachRate: 0.5 },
        { repId: 'maya', assigned: 1, breached: 1, breachRate: 1 },
        { repId: 'priya', assigned: 1, breached: 1, breachRate: 1 },
      ],
      breaches: [
        {
          leadId: 'a2',
          owner: 'liam',
          status: 'contacted',
          kinds: ['late'],
          ladderStep: 0,
          createdAt: '2026-03-02T10:00:00.000Z',
        },
        {
          leadId: 'a4',
          owner: 'jordan',
          status: 'disqualified',
          kinds: ['late'],
          ladderStep: 0,
          createdAt: '2026-03-03T11:00:00.000Z',
        },
        {
          leadId: 'a5',
          owner: 'priya',
          status: 'assigned',
          kinds: ['overdue'],
          ladderStep: 0,
          createdAt: '2026-03-04T08:00:00.000Z',
        },
        {
          leadId: 'a8',
          owner: 'maya',
          status: 'unworked',
          kinds: ['escalated', 'unworked'],
          ladderStep: 2,
          createdAt: '2026-03-05T09:00:00.000Z',
        },
        {
          leadId: 'a9',
          owner: 'liam',
          status: 'working',
          kinds: ['escalated'],
          ladderStep: 1,
          createdAt: '2026-03-05T10:00:00.000Z',
        },
      ],
    });
  });

  it('is not overdue before the deadline in the owner’s working hours', () => {
    const early = new Date('2026-03-04T15:04:00.000Z');
    expect(slaReport([leads[4] as Lead], config, early).overdueNow).toBe(0);
    expect(slaReport([leads[4] as Lead], config, new Date('2026-03-04T15:06:00.000Z')).overdueNow).toBe(1);
  });
});

describe('pipeline', () => {
  it('weights open deals by stage probability and computes the win rate', () => {
    expect(pipelineReport(leads, config)).toEqual({
      currency: 'EUR',
      open: { deals: 2, amount: 18_000, weightedAmount: 6_500 },
      byStage: [
        {
          stage: 'discovery',
          name: 'Discovery',
          outcome: 'open',
          probability: 0.1,
          deals: 0,
          amount: 0,
          weightedAmount: 0,
        },
        {
          stage: 'demo',
          name: 'Demo',
          outcome: 'open',
          probability: 0.25,
          deals: 1,
          amount: 10_000,
          weightedAmount: 2_500,
        },
        {
          stage: 'proposal',
          name: 'Proposal',
          outcome: 'open',
          probability: 0.5,
          deals: 1,
          amount: 8_000,
          weightedAmount: 4_000,
        },
        {
          stage: 'decision',
          name: 'Decision',
          outcome: 'open',
          probability: 0.75,
          deals: 0,
          amount: 0,
          weightedAmount: 0,
        },
        {
          stage: 'won',
          name: 'Closed won',
          outcome: 'won',
          probability: 1,
          deals: 1,
          amount: 20_000,
          weightedAmount: 20_000,
        },
        {
          stage: 'lost',
          name: 'Closed lost',
          outcome: 'lost',
          probability: 0,
          deals: 1,
          amount: 5_000,
          weightedAmount: 0,
        },
      ],
      won: { deals: 1, amount: 20_000 },
      lost: { deals: 1, amount: 5_000, byReason: [{ reason: 'No budget', deals: 1 }] },
      winRate: 0.5,
    });
  });

  it('has no win rate without closed deals', () => {
    expect(pipelineReport([], config).winRate).toBeNull();
  });
});

describe('nurture', () => {
  const act = (
    leadId: string,
    type: Activity['type'],
    messageId: string,
    data: Record<string, unknown> = {},
    n = 0,
  ): Activity => ({
    id: `${type}-${messageId}-${n}`,
    leadId,
    type,
    at: '2026-03-06T10:00:00.000Z',
    data: { messageId, ...data },
  });
  const history = new Map<string, LeadEmailHistory>([
    [
      'a6',
      {
        sends: [
          { sequenceId: 'education', stepId: 'step-1' },
          { sequenceId: 'education', stepId: 'step-2' },
        ],
        activities: [
          act('a6', 'email_delivered', 'm1', { sequence: 'education' }),
          act('a6', 'email_delivered', 'm2', { sequence: 'education' }),
          act('a6', 'email_opened', 'm1', { sequence: 'education' }, 1),
          act('a6', 'email_opened', 'm1', { sequence: 'education' }, 2),
          act('a6', 'email_opened', 'm2', { sequence: 'education', machine: true }),
          act('a6', 'email_clicked', 'm1', { sequence: 'education' }),
          { id: 'u1', leadId: 'a6', type: 'unsubscribed', at: '2026-03-07T10:00:00.000Z', data: {} },
        ],
      },
    ],
    [
      'a2',
      {
        sends: [{ sequenceId: 'auto-response', stepId: 'ack' }],
        activities: [
          act('a2', 'email_delivered', 'm3', { sequence: 'auto-response' }),
          act('a2', 'email_complained', 'm3', { sequence: 'auto-response' }),
        ],
      },
    ],
    [
      'a5',
      {
        sends: [{ sequenceId: 'education', stepId: 'step-1' }],
        activities: [act('a5', 'email_bounced', 'm4', { sequence: 'education' })],
      },
    ],
  ]);

  it('counts sends, and deliveries, opens, clicks, bounces and complaints once per message without machine opens', () => {
    expect(nurtureReport(leads, history)).toEqual({
      sent: 4,
      delivered: 3,
      opened: 1,
      clicked: 1,
      bounced: 1,
      complained: 1,
      deliveryRate: 0.75,
      openRate: 0.3333,
      clickRate: 0.3333,
      bounceRate: 0.25,
      emailedLeads: 3,
      unsubscribed: 1,
      unsubscribeRate: 0.3333,
      complaintRate: 0.3333,
      clickToOpenRate: 1,
      machineOpens: 1,
      machineClicks: 0,
      bySequence: [
        {
          sequenceId: 'education',
          sent: 3,
          delivered: 2,
          opened: 1,
          clicked: 1,
          bounced: 1,
          complained: 0,
          deliveryRate: 0.6667,
          openRate: 0.5,
          clickRate: 0.5,
          bounceRate: 0.3333,
        },
        {
          sequenceId: 'auto-response',
          sent: 1,
          delivered: 1,
          opened: 0,
          clicked: 0,
          bounced: 0,
          complained: 1,
          deliveryRate: 1,
          openRate: 0,
          clickRate: 0,
          bounceRate: 0,
        },
      ],
      // By step and branch: see the next test.
      bySteps: expect.any(Array),
    });
  });

  it('counts each nurture step by the branch that led to it: sends, human opens and clicks, conversions and unsubscribes after it', () => {
    const at = (day: number, hour = 10) =>
      `2026-03-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00.000Z`;
    const ev = (
      leadId: string,
      type: Activity['type'],
      when: string,
      data: Record<string, unknown> = {},
    ): Activity => ({
      id: `${leadId}-${type}-${when}-${JSON.stringify(data)}`,
      leadId,
      type,
      at: when,
      data,
    });
    const steps = new Map<string, LeadEmailHistory>([
      [
        // Clicked the pricing link in the welcome guide, took the pricing branch, then became MQL and SQL.
        'a6',
        {
          sends: [
            { sequenceId: 'education', stepId: 'welcome-guide', at: at(2) },
            {
              sequenceId: 'education',
              stepId: 'pricing-faq',
              at: at(5),
              via: 'education/case-study/clicked-pricing',
            },
            { sequenceId: 'education', stepId: 'pricing-reminder', at: at(7), channel: 'sms' },
            { sequenceId: 'sms-reminder', stepId: 'booking-1', at: at(8), channel: 'sms' },
          ],
          activities: [
            ev('a6', 'email_opened', at(2, 11), { sequence: 'education', step: 'welcome-guide' }),
            ev('a6', 'email_opened', at(2, 12), { sequence: 'education', step: 'welcome-guide' }),
            ev('a6', 'email_clicked', at(2, 12), { sequence: 'education', step: 'welcome-guide', link: 'x' }),
            ev('a6', 'email_opened', at(5, 11), {
              sequence: 'education',
              step: 'pricing-faq',
              machine: true,
            }),
          ],
          stages: [
            { at: at(1), stage: 'lead' },
            { at: at(6), stage: 'MQL' },
            { at: at(6, 12), stage: 'MQL' },
            { at: at(9), stage: 'SQL' },
          ],
        },
      ],
      [
        // The default path: welcome guide, then the case study; unsubscribed after the case study.
        'a5',
        {
          sends: [
            { sequenceId: 'education', stepId: 'welcome-guide', at: at(2) },
            { sequenceId: 'education', stepId: 'case-study', at: at(5) },
          ],
          activities: [ev('a5', 'unsubscribed', at(6))],
          stages: [{ at: at(1), stage: 'lead' }],
        },
      ],
    ]);
    const row = (
      sequenceId: string,
      stepId: string,
      branch: string | null,
      counts: Record<string, unknown>,
    ) => ({
      sequenceId,
      stepId,
      branch,
      channel: 'email',
      sent: 1,
      opened: 0,
      clicked: 0,
      convertedMql: 0,
      convertedSql: 0,
      unsubscribed: 0,
      ...counts,
    });
    expect(nurtureReport(leads, steps).bySteps).toEqual([
      row('education', 'case-study', null, { unsubscribed: 1 }),
      row('education', 'pricing-faq', 'education/case-study/clicked-pricing', { convertedMql: 1 }),
      // The SQL crossing came after the SMS step, the last nurture touch (meeting reminders are not nurture).
      row('education', 'pricing-reminder', null, { channel: 'sms', convertedSql: 1 }),
      row('education', 'welcome-guide', null, { sent: 2, opened: 1, clicked: 1 }),
    ]);
  });

  it('bundles every report in the summary', () => {
    const summary = computeReport('summary', { leads, emails: history, now }, config) as Record<
      string,
      unknown
    >;
    expect(Object.keys(summary)).toEqual([
      'sources',
      'funnel',
      'speedToLead',
      'sla',
      'pipeline',
      'nurture',
      'bookings',
    ]);
    expect(summary.pipeline).toEqual(pipelineReport(leads, config));
    expect(summary.nurture).toEqual(nurtureReport(leads, history));
  });
});

describe('report ranges', () => {
  it('defaults to the 30 days up to today and caps the range at 366 days', () => {
    expect(reportRange(undefined, undefined, now)).toEqual({ from: '2026-02-09', to: '2026-03-10' });
    expect(reportRange('2025-03-10', '2026-03-10', now)).toEqual({ from: '2025-03-10', to: '2026-03-10' });
    expect(() => reportRange('2025-03-09', '2026-03-10', now)).toThrow(/from: the range is 367 days/);
    expect(() => reportRange('2026-03-11', '2026-03-10', now)).toThrow(/to: must not be before from/);
  });

  it('lists every UTC day, and maps with bounded concurrency in order', async () => {
    expect(daysBetween('2026-02-27', '2026-03-02')).toEqual([
      '2026-02-27',
      '2026-02-28',
      '2026-03-01',
      '2026-03-02',
    ]);
    let inFlight = 0;
    let most = 0;
    const out = await mapLimit([1, 2, 3, 4, 5, 6], 2, async (n) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await Promise.resolve();
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([10, 20, 30, 40, 50, 60]);
    expect(most).toBe(2);
  });
});
