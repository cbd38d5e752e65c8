import { describe, expect, it } from 'vitest';
import { type LeadFilter, leadMatches } from '../../shared/domain/lead';
import { makeLead } from './functions/pipeline-kit';

/** An assigned SQL from a Google Ads click, scored 72, created on 2 March. */
const lead = makeLead({
  status: 'assigned',
  stage: 'SQL',
  owner: 'liam',
  pipelineStage: 'demo',
  createdAt: '2026-03-02T09:00:00.000Z',
  source: { channel: 'paid_search', provider: 'google_ads', utm: {} },
  score: {
    total: 72,
    fit: 50,
    engagement: 22,
    stage: 'SQL',
    asOf: '2026-03-02T09:00:00.000Z',
    reasons: [],
  },
});

describe('leadMatches (list filters, applied to the leads an index read points at)', () => {
  it('passes with no filter, and with every filter the lead satisfies', () => {
    expect(leadMatches(lead, {})).toBe(true);
    expect(
      leadMatches(lead, {
        status: 'assigned',
        stage: 'SQL',
        pipelineStage: 'demo',
        minScore: 72,
        maxScore: 72,
        source: 'google_ads',
        createdFrom: '2026-03-02T00:00:00.000Z',
        createdTo: '2026-03-02T23:59:59.999Z',
      }),
    ).toBe(true);
    expect(leadMatches(lead, { source: 'paid_search' })).toBe(true);
  });

  it.each<[string, LeadFilter]>([
    ['another status', { status: 'contacted' }],
    ['another lifecycle stage', { stage: 'MQL' }],
    ['another pipeline stage', { pipelineStage: 'negotiation' }],
    ['a higher minimum score', { minScore: 73 }],
    ['a lower maximum score', { maxScore: 71 }],
    ['another source', { source: 'linkedin' }],
    ['created before the range', { createdFrom: '2026-03-03T00:00:00.000Z' }],
    ['created after the range', { createdTo: '2026-03-01T23:59:59.999Z' }],
    ['unassigned only', { unassignedOnly: true }],
  ])('fails on %s', (_label, filter) => {
    expect(leadMatches(lead, filter)).toBe(false);
  });

  it('never matches a score range for a lead without a score', () => {
    const { score: _score, ...unscored } = lead;
    expect(leadMatches(unscored, { minScore: 0 })).toBe(false);
    expect(leadMatches(unscored, { maxScore: 100 })).toBe(false);
    expect(leadMatches({ ...unscored, owner: undefined }, { unassignedOnly: true })).toBe(true);
  });
});
