import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadClientConfig } from '../../shared/config/load';
import type { ScoringModel } from '../../shared/config/schema';
import { ScoringSchema } from '../../shared/config/schema-scoring';
import { ACTIVITY_TYPES } from '../../shared/config/schema-vocabulary';
import {
  type Activity,
  type ActivityType,
  type LeadFacts,
  LeadProfileSchema,
  LIFECYCLE_STAGES,
  leadFacts,
  stageRank,
} from '../../shared/domain/lead';
import {
  crossedThreshold,
  decayFactor,
  type ScoreLeadInput,
  scoreLead,
  stageForScore,
  topReasons,
} from '../../shared/domain/scoring';

const DAY_MS = 86_400_000;
const AS_OF = new Date('2025-06-02T12:00:00.000Z');

let model: ScoringModel;
beforeAll(() => {
  model = loadClientConfig('example', 'clients').scoring;
});

let activityCounter = 0;
/** An activity `daysAgo` days before {@link AS_OF} (negative = in the future). */
function activity(
  type: ActivityType,
  daysAgo = 0,
  data: Record<string, unknown> = {},
  id = `act-${String(++activityCounter).padStart(4, '0')}`,
): Activity {
  return { id, leadId: 'lead-1', type, at: new Date(AS_OF.getTime() - daysAgo * DAY_MS).toISOString(), data };
}

function facts(profile: Record<string, unknown> = {}): LeadFacts {
  return leadFacts(LeadProfileSchema.parse({ dedupeKey: 'someone@acme.example', ...profile }));
}

function score(overrides: Partial<ScoreLeadInput> = {}) {
  return scoreLead({ facts: facts(), activities: [], model, asOf: AS_OF, ...overrides });
}

function reason(result: ReturnType<typeof scoreLead>, ruleId: string) {
  return result.reasons.find((r) => r.ruleId === ruleId);
}

/** A small model for one engagement rule, validated (defaults applied) like a client file. */
function engagementModel(rule: Record<string, unknown>, decayHalfLifeDays = 30): ScoringModel {
  return ScoringSchema.parse({
    thresholds: { mql: 40, sql: 70 },
    decayHalfLifeDays,
    engagement: [{ id: 'rule', label: 'Rule', activity: 'page_view', points: 5, ...rule }],
  });
}

describe('scoreLead with the example client', () => {
  it('gives +10 for the target industry and +5 for a pricing-page visit scored at its own time', () => {
    const result = score({
      facts: facts({ industry: 'SaaS' }),
      activities: [activity('pricing_page_view', 0)],
    });

    expect(reason(result, 'target-industry')).toEqual({
      ruleId: 'target-industry',
      label: 'Target industry (software, SaaS, fintech)',
      kind: 'fit',
      points: 10,
      detail: 'industry in ["software", "saas", "fintech", "information technology"]',
    });
    expect(reason(result, 'pricing-page')).toEqual({
      ruleId: 'pricing-page',
      label: 'Viewed pricing',
      kind: 'engagement',
      points: 5,
      occurrences: 1,
      detail: '1× pricing_page_view',
    });
    expect(result.fit).toBe(10);
    expect(result.engagement).toBe(5);
    expect(result.total).toBe(15);
    expect(result.asOf).toBe('2025-06-02T12:00:00.000Z');
  });

  it('makes a VP at a 500-person software company who reads pricing and asks for a demo an SQL', () => {
    const result = score({
      facts: facts({
        email: 'dana@acme.example',
        jobTitle: 'VP of Engineering',
        companySize: 500,
        industry: 'Software',
        country: 'US',
        isFreeMail: false,
      }),
      activities: [activity('demo_request', 1), activity('pricing_page_view', 2)],
    });

    // Fit 10 + 20 + 15 + 5; pricing 5 × 0.5^(2/30) = 4.77; the demo never decays.
    expect(result.fit).toBe(50);
    expect(result.engagement).toBe(34.8);
    expect(result.total).toBe(85);
    expect(result.total).toBeGreaterThanOrEqual(70);
    expect(result.stage).toBe('SQL');
    expect(result.reasons.map((r) => [r.ruleId, r.points])).toEqual([
      ['demo', 30],
      ['executive', 20],
      ['mid-market-or-enterprise', 15],
      ['target-industry', 10],
      ['served-country', 5],
      ['pricing-page', 4.8],
    ]);
    expect(reason(result, 'pricing-page')?.detail).toBe('1× pricing_page_view, decayed from 5 to 4.8');
  });

  it('keeps a junior at a small company on gmail who downloads a guide below MQL', () => {
    const result = score({
      facts: facts({
        email: 'sam@gmail.com',
        jobTitle: 'Junior Marketing Assistant',
        companySize: 8,
        country: 'GB',
        isFreeMail: true,
      }),
      activities: [activity('content_download', 0, { asset: 'starter-guide' })],
    });

    expect(result.fit).toBe(-20);
    expect(result.engagement).toBe(5);
    expect(result.total).toBe(-15);
    expect(result.total).toBeLessThan(40);
    expect(result.stage).toBe('lead');
    expect(result.reasons.map((r) => [r.ruleId, r.points])).toEqual([
      ['free-mail', -15],
      ['junior-role', -10],
      ['content', 5],
      ['served-country', 5],
    ]);
  });

  it('lists only the rules that fired', () => {
    const result = score({ facts: facts({ jobTitle: 'Engineer' }) });
    expect(result.reasons).toEqual([]);
    expect(result).toMatchObject({ total: 0, fit: 0, engagement: 0, stage: 'lead' });
  });
});

describe('engagement caps', () => {
  it('bounds a repeatable rule at its cap and says how many occurrences counted', () => {
    const views = [0, 0, 0, 0, 0].map(() => activity('pricing_page_view', 0));
    const r = reason(score({ activities: views }), 'pricing-page');
    expect(r).toMatchObject({ points: 15, occurrences: 5 });
    expect(r?.detail).toBe('5× pricing_page_view, capped at 15 (3 counted)');
  });

  it('counts the occurrence that reaches the cap partially', () => {
    const m = engagementModel({ points: 4, cap: 10 });
    const result = score({ model: m, activities: [0, 0, 0, 0].map(() => activity('page_view', 0)) });
    expect(result.engagement).toBe(10);
  });

  it('applies the cap newest-first before decay, so the oldest occurrences add nothing', () => {
    // Two fresh views, then 30 and 60 days old (half and quarter weight): the 60-day one is over the cap.
    const result = score({
      activities: [
        activity('pricing_page_view', 0, {}, 'b'),
        activity('pricing_page_view', 0, {}, 'a'),
        activity('pricing_page_view', 30),
        activity('pricing_page_view', 60),
      ],
    });
    const r = reason(result, 'pricing-page');
    // 5 × 1 + 5 × 1 + 5 × 0.5 = 12.5; the 60-day-old view is beyond the cap.
    expect(r?.points).toBe(12.5);
    expect(r?.occurrences).toBe(4);
    expect(r?.detail).toBe('4× pricing_page_view, capped at 15 (3 counted), decayed from 15 to 12.5');
  });

  it('caps a negative rule by absolute value', () => {
    const m = engagementModel({ activity: 'email_bounced', points: -4, cap: 10 });
    const result = score({ model: m, activities: [0, 0, 0, 0].map(() => activity('email_bounced', 0)) });
    expect(result.engagement).toBe(-10);
    expect(result.total).toBe(-10);
  });
});

describe('non-repeatable rules', () => {
  it('counts a repeated demo request once', () => {
    const result = score({
      activities: [activity('demo_request', 5), activity('demo_request', 2), activity('demo_request', 0)],
    });
    expect(reason(result, 'demo')).toMatchObject({
      points: 30,
      occurrences: 1,
      detail: '1× demo_request, counted once (first of 3)',
    });
  });

  it('scores the earliest occurrence, decayed by its age', () => {
    const m = engagementModel({ points: 10, repeatable: false });
    const result = score({ model: m, activities: [activity('page_view', 0), activity('page_view', 30)] });
    expect(result.engagement).toBe(5);
  });
});

describe('negative points', () => {
  it('subtracts for an unsubscribe, and the penalty fades with age like any engagement', () => {
    expect(score({ activities: [activity('unsubscribed', 0)] }).engagement).toBe(-20);
    expect(score({ activities: [activity('unsubscribed', 30)] }).engagement).toBe(-10);
    // Non-repeatable: a second unsubscribe changes nothing.
    expect(score({ activities: [activity('unsubscribed', 0), activity('unsubscribed', 0)] }).engagement).toBe(
      -20,
    );
  });

  it('rounds penalties like rewards (half away from zero)', () => {
    const m = engagementModel({ points: -5 });
    // -5 × 0.25 = -1.25 → -1.3 for the reason; total -1.
    const result = score({ model: m, activities: [activity('page_view', 60)] });
    expect(result.engagement).toBe(-1.3);
    expect(result.total).toBe(-1);
  });
});

describe('decay', () => {
  it('halves a pricing visit after one half-life (30 days) and quarters it after two', () => {
    expect(score({ activities: [activity('pricing_page_view', 30)] }).engagement).toBe(2.5);
    expect(score({ activities: [activity('pricing_page_view', 60)] }).engagement).toBe(1.3);
  });

  it('does not decay a noDecay rule (a demo request 90 days ago is still worth 30)', () => {
    const r = reason(score({ activities: [activity('demo_request', 90)] }), 'demo');
    expect(r).toMatchObject({ points: 30, detail: '1× demo_request' });
  });

  it('turns decay off with a half-life of 0', () => {
    const m = engagementModel({}, 0);
    expect(score({ model: m, activities: [activity('page_view', 365)] }).engagement).toBe(5);
  });

  it('counts future activities at full weight', () => {
    expect(score({ activities: [activity('pricing_page_view', -3)] }).engagement).toBe(5);
  });

  it('computes the decay factor from age and half-life', () => {
    expect(decayFactor(30, 30)).toBe(0.5);
    expect(decayFactor(60, 30)).toBe(0.25);
    expect(decayFactor(0, 30)).toBe(1);
    expect(decayFactor(-5, 30)).toBe(1);
    expect(decayFactor(100, 0)).toBe(1);
  });
});

describe('engagement conditions on activity data', () => {
  const m = () =>
    engagementModel({ when: [{ field: 'path', op: 'contains', value: '/pricing' }], points: 7 });

  it('counts only activities whose data match the rule', () => {
    const result = score({
      model: m(),
      activities: [
        activity('page_view', 0, { path: '/pricing/enterprise' }),
        activity('page_view', 0, { path: '/blog' }),
        activity('page_view', 0, {}),
      ],
    });
    expect(reason(result, 'rule')).toMatchObject({
      points: 7,
      occurrences: 1,
      detail: '1× page_view where path contains "/pricing"',
    });
  });

  it('survives activity data of unknown shape', () => {
    const odd = [null, 'text', 42, ['/pricing'], { path: { nested: true } }, { path: 12 }];
    const activities = odd.map((data) => ({ ...activity('page_view', 0), data }) as unknown as Activity);
    const result = score({ model: m(), activities });
    expect(result.engagement).toBe(0);
    expect(result.reasons).toEqual([]);
  });

  it('ignores activities whose time cannot be parsed and types no rule reads', () => {
    const result = score({
      activities: [{ ...activity('pricing_page_view', 0), at: 'yesterday' }, activity('note', 0)],
    });
    expect(result.reasons).toEqual([]);
  });
});

describe('stage', () => {
  it('follows the thresholds', () => {
    const t = { mql: 40, sql: 70 };
    expect(stageForScore(39, t)).toBe('lead');
    expect(stageForScore(40, t)).toBe('MQL');
    expect(stageForScore(69, t)).toBe('MQL');
    expect(stageForScore(70, t)).toBe('SQL');
    expect(stageForScore(-100, t)).toBe('lead');
  });

  it('never moves backwards on its own', () => {
    expect(score({ previousStage: 'SQL' })).toMatchObject({ total: 0, stage: 'SQL' });
    expect(score({ previousStage: 'MQL' }).stage).toBe('MQL');
    expect(score({ previousStage: 'opportunity' }).stage).toBe('opportunity');
    expect(score({ previousStage: 'customer' }).stage).toBe('customer');
  });

  it('moves forward when the score reaches a higher threshold', () => {
    // Content (5, cap 15) rather than a meeting: a meeting makes the lead SQL on its own.
    const hot = [
      activity('demo_request', 0),
      activity('content_download', 0),
      activity('content_download', 0),
      activity('content_download', 0),
      activity('webinar_attended', 0),
    ];
    expect(score({ activities: hot, previousStage: 'MQL' })).toMatchObject({ total: 55, stage: 'MQL' });
    const hotter = [
      ...hot,
      activity('webinar_attended', 0),
      activity('pricing_page_view', 0),
      activity('pricing_page_view', 0),
    ];
    expect(score({ activities: hotter, previousStage: 'MQL' })).toMatchObject({ total: 75, stage: 'SQL' });
    expect(score({ activities: hotter }).stage).toBe('SQL');
  });

  it('compares the rounded total with the thresholds', () => {
    // 69.5 engagement rounds to a total of 70: SQL.
    const m = ScoringSchema.parse({
      thresholds: { mql: 40, sql: 70 },
      decayHalfLifeDays: 30,
      engagement: [
        { id: 'a', label: 'A', activity: 'demo_request', points: 69, noDecay: true },
        { id: 'b', label: 'B', activity: 'page_view', points: 1 },
      ],
    });
    const result = score({ model: m, activities: [activity('demo_request', 0), activity('page_view', 30)] });
    expect(result.engagement).toBe(69.5);
    expect(result.total).toBe(70);
    expect(result.stage).toBe('SQL');
  });
});

describe('crossedThreshold', () => {
  it('returns the threshold stage newly reached', () => {
    expect(crossedThreshold('lead', 'MQL')).toBe('MQL');
    expect(crossedThreshold('lead', 'SQL')).toBe('SQL');
    expect(crossedThreshold('MQL', 'SQL')).toBe('SQL');
    expect(crossedThreshold(undefined, 'MQL')).toBe('MQL');
  });

  it('returns undefined when nothing was crossed', () => {
    expect(crossedThreshold('MQL', 'MQL')).toBeUndefined();
    expect(crossedThreshold('SQL', 'SQL')).toBeUndefined();
    expect(crossedThreshold('SQL', 'MQL')).toBeUndefined();
    expect(crossedThreshold('lead', 'lead')).toBeUndefined();
    expect(crossedThreshold(undefined, 'lead')).toBeUndefined();
    expect(crossedThreshold('SQL', 'opportunity')).toBeUndefined();
    expect(crossedThreshold('opportunity', 'SQL')).toBeUndefined();
  });
});

describe('reasons', () => {
  it('are sorted by absolute points, then rule id', () => {
    const m = ScoringSchema.parse({
      thresholds: { mql: 40, sql: 70 },
      fit: [
        { id: 'zeta', label: 'Z', when: [{ field: 'country', op: 'exists' }], points: 5 },
        { id: 'alpha', label: 'A', when: [{ field: 'country', op: 'exists' }], points: -5 },
        { id: 'big', label: 'B', when: [{ field: 'country', op: 'exists' }], points: 8 },
      ],
    });
    const result = score({ model: m, facts: facts({ country: 'DE' }) });
    expect(result.reasons.map((r) => r.ruleId)).toEqual(['big', 'alpha', 'zeta']);
    expect(result.fit).toBe(8);
  });

  it('topReasons returns the n largest, skipping reasons worth nothing', () => {
    const s = {
      reasons: [
        { ruleId: 'a', label: 'A', kind: 'fit' as const, points: 5 },
        { ruleId: 'b', label: 'B', kind: 'engagement' as const, points: 0, occurrences: 2 },
        { ruleId: 'c', label: 'C', kind: 'fit' as const, points: -15 },
        { ruleId: 'd', label: 'D', kind: 'engagement' as const, points: 12.3, occurrences: 1 },
      ],
    };
    expect(topReasons(s, 2).map((r) => r.ruleId)).toEqual(['c', 'd']);
    expect(topReasons(s, 10).map((r) => r.ruleId)).toEqual(['c', 'd', 'a']);
    expect(topReasons(s, 0)).toEqual([]);
    // The stored score is left untouched.
    expect(s.reasons.map((r) => r.ruleId)).toEqual(['a', 'b', 'c', 'd']);
  });
});

it('rejects an invalid asOf with an actionable error', () => {
  expect(() => score({ asOf: new Date('not a date') })).toThrow(/asOf is an invalid Date/);
});

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

const scoredTypes = [
  'pricing_page_view',
  'page_view',
  'content_download',
  'demo_request',
  'webinar_attended',
  'meeting_booked',
  'email_opened',
  'email_clicked',
  'unsubscribed',
  'note',
  'captured',
] as const satisfies readonly ActivityType[];

const dataArb: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.constant({}),
  fc.record({ path: fc.constantFrom('/pricing', '/plans', '/blog', '/pricing/enterprise') }),
  // The form a lead was captured from (the example scores its demo-request form).
  fc.record({ formId: fc.constantFrom('demo-request', 'newsletter') }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
);

const activityArb: fc.Arbitrary<Activity> = fc
  .record({
    id: fc.integer({ min: 0, max: 15 }).map((i) => `act-${i}`),
    type: fc.constantFrom(...scoredTypes),
    // Coarse offsets so equal timestamps (and the tie-breaks) are exercised.
    offsetHours: fc.integer({ min: -48, max: 24 * 200 }).map((h) => h - (h % 12)),
    data: dataArb,
  })
  .map(({ id, type, offsetHours, data }) => ({
    id,
    leadId: 'lead-1',
    type,
    at: new Date(AS_OF.getTime() - offsetHours * 3_600_000).toISOString(),
    data,
  }));

const factsArb: fc.Arbitrary<LeadFacts> = fc
  .record({
    jobTitle: fc.constantFrom('VP of Engineering', 'Junior Marketing Assistant', 'Sales Manager', 'Engineer'),
    companySize: fc.integer({ min: 1, max: 20_000 }),
    industry: fc.constantFrom('Software', 'Retail', 'FinTech'),
    country: fc.constantFrom('US', 'GB', 'BR'),
    isFreeMail: fc.boolean(),
  })
  .map((p) => facts(p));

const stageArb = fc.constantFrom(...LIFECYCLE_STAGES);

/** Random valid scoring models: engagement rules over the scored types, caps, signs, decay. */
const modelArb: fc.Arbitrary<ScoringModel> = fc
  .record({
    decayHalfLifeDays: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 90 })),
    rules: fc.array(
      fc.record({
        activity: fc.constantFrom(...scoredTypes),
        points: fc.integer({ min: -50, max: 50 }),
        repeatable: fc.boolean(),
        cap: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
        noDecay: fc.boolean(),
        pricingOnly: fc.boolean(),
      }),
      { minLength: 1, maxLength: 6 },
    ),
  })
  .map(({ decayHalfLifeDays, rules }) =>
    ScoringSchema.parse({
      thresholds: { mql: 20, sql: 50 },
      decayHalfLifeDays,
      fit: [{ id: 'us', label: 'US', when: [{ field: 'country', op: 'equals', value: 'US' }], points: 7 }],
      engagement: rules.map((r, i) => ({
        id: `rule-${i}`,
        label: `Rule ${i}`,
        activity: r.activity,
        points: r.points,
        repeatable: r.repeatable,
        ...(r.repeatable && r.cap !== undefined ? { cap: r.cap } : {}),
        noDecay: r.noDecay,
        when: r.pricingOnly ? [{ field: 'path', op: 'contains', value: 'pricing' }] : [],
      })),
    }),
  );

const anyModelArb = fc.oneof(
  fc.constant(undefined),
  modelArb.map((m) => m as ScoringModel | undefined),
);

describe('scoring properties', () => {
  it('gives the identical result for any order of the same activities', () => {
    fc.assert(
      fc.property(
        factsArb,
        anyModelArb,
        fc
          .array(activityArb, { maxLength: 25 })
          .chain((list) =>
            fc.tuple(
              fc.constant(list),
              fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length }),
            ),
          ),
        (f, m, [original, shuffled]) => {
          const a = score({ facts: f, model: m ?? model, activities: original });
          const b = score({ facts: f, model: m ?? model, activities: shuffled });
          const c = score({ facts: f, model: m ?? model, activities: [...original].reverse() });
          expect(b).toStrictEqual(a);
          expect(c).toStrictEqual(a);
        },
      ),
    );
  });

  it('totals fit + engagement (within rounding), and fit is the sum of its reasons', () => {
    fc.assert(
      fc.property(factsArb, anyModelArb, fc.array(activityArb, { maxLength: 25 }), (f, m, activities) => {
        const result = score({ facts: f, model: m ?? model, activities });
        expect(Number.isInteger(result.total)).toBe(true);
        expect(Math.abs(result.total - (result.fit + result.engagement))).toBeLessThanOrEqual(0.5);
        const fitSum = result.reasons.filter((r) => r.kind === 'fit').reduce((s, r) => s + r.points, 0);
        expect(result.fit).toBe(fitSum);
        const engagement = result.reasons.filter((r) => r.kind === 'engagement');
        const engagementSum = engagement.reduce((s, r) => s + r.points, 0);
        // Each reason and the total are rounded to 0.1 on their own.
        expect(Math.abs(result.engagement - engagementSum)).toBeLessThanOrEqual(
          0.05 * (engagement.length + 1) + 1e-9,
        );
      }),
    );
  });

  it('never ranks the stage below the previous stage or below what the thresholds reach', () => {
    fc.assert(
      fc.property(
        factsArb,
        fc.array(activityArb, { maxLength: 25 }),
        stageArb,
        (f, activities, previousStage) => {
          const result = score({ facts: f, activities, previousStage });
          // The stage the points reach, or a fired rule's minStage (the example's meeting → SQL).
          const byRules = result.reasons.reduce(
            (rank, r) => Math.max(rank, r.minStage ? stageRank(r.minStage) : 0),
            stageRank(stageForScore(result.total, model.thresholds)),
          );
          expect(stageRank(result.stage)).toBe(Math.max(stageRank(previousStage), byRules));
          const fresh = score({ facts: f, activities });
          expect(stageRank(fresh.stage)).toBe(byRules);
        },
      ),
    );
  });

  it("never lets a capped rule's contribution exceed its cap in absolute value", () => {
    fc.assert(
      fc.property(modelArb, fc.array(activityArb, { maxLength: 40 }), (m, activities) => {
        const result = score({ model: m, activities });
        for (const rule of m.engagement) {
          if (rule.cap === undefined) continue;
          const r = reason(result, rule.id);
          if (r) expect(Math.abs(r.points)).toBeLessThanOrEqual(rule.cap);
        }
      }),
    );
  });

  it('never increases a contribution by decay, nor as time passes', () => {
    fc.assert(
      fc.property(
        modelArb,
        fc.array(activityArb, { maxLength: 25 }),
        fc.integer({ min: 0, max: 400 }),
        (m, activities, laterDays) => {
          const decayed = score({ model: m, activities });
          const undecayed = score({ model: { ...m, decayHalfLifeDays: 0 }, activities });
          const later = score({
            model: m,
            activities,
            asOf: new Date(AS_OF.getTime() + laterDays * DAY_MS),
          });
          for (const rule of m.engagement) {
            const now = Math.abs(reason(decayed, rule.id)?.points ?? 0);
            expect(now).toBeLessThanOrEqual(Math.abs(reason(undecayed, rule.id)?.points ?? 0));
            expect(Math.abs(reason(later, rule.id)?.points ?? 0)).toBeLessThanOrEqual(now);
          }
        },
      ),
    );
  });
});

it('the property generators cover every scored activity type of the example client', () => {
  // Guards the generators above: a rule whose activity type is never generated is never tested.
  const used = new Set(model.engagement.map((r) => r.activity));
  for (const type of used) expect(scoredTypes).toContain(type);
  expect(ACTIVITY_TYPES).toEqual(expect.arrayContaining([...scoredTypes]));
});

describe('stage rules (minStage)', () => {
  it('makes a lead with a booked meeting SQL whatever its points, and says so in the explanation', () => {
    // The example client: a meeting is worth 25 points, far below SQL (70), but sets SQL.
    const result = score({ activities: [activity('meeting_booked', 1)] });
    expect(result.total).toBe(25);
    expect(stageForScore(result.total, model.thresholds)).toBe('lead');
    expect(result.stage).toBe('SQL');
    expect(reason(result, 'meeting')).toMatchObject({
      minStage: 'SQL',
      detail: expect.stringContaining('sets the stage to at least SQL'),
    });
  });

  it('never lowers a stage the points reached, and applies fit rules too', () => {
    const fitModel = ScoringSchema.parse({
      thresholds: { mql: 10, sql: 20 },
      fit: [
        {
          id: 'vp',
          label: 'VP',
          when: [{ field: 'jobTitle', op: 'contains', value: 'vp' }],
          points: 25,
          minStage: 'MQL',
        },
        {
          id: 'ceo',
          label: 'CEO',
          when: [{ field: 'jobTitle', op: 'contains', value: 'ceo' }],
          points: 0,
          minStage: 'MQL',
        },
      ],
    });
    expect(
      scoreLead({ facts: facts({ jobTitle: 'VP Sales' }), activities: [], model: fitModel, asOf: AS_OF })
        .stage,
    ).toBe('SQL');
    const ceo = scoreLead({
      facts: facts({ jobTitle: 'CEO' }),
      activities: [],
      model: fitModel,
      asOf: AS_OF,
    });
    expect(ceo).toMatchObject({ total: 0, stage: 'MQL' });
    expect(reason(ceo, 'ceo')?.detail).toBe('jobTitle contains "ceo"; sets the stage to at least MQL');
    // A rule that does not fire sets nothing.
    expect(
      scoreLead({ facts: facts({ jobTitle: 'Analyst' }), activities: [], model: fitModel, asOf: AS_OF })
        .stage,
    ).toBe('lead');
  });

  it('refuses a stage a score cannot set, naming the field', () => {
    const result = ScoringSchema.safeParse({
      thresholds: { mql: 10, sql: 20 },
      engagement: [
        { id: 'm', label: 'Meeting', activity: 'meeting_booked', points: 5, minStage: 'customer' },
      ],
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({
      path: ['engagement', 0, 'minStage'],
      message: 'a stage a score can set: "MQL" or "SQL"',
    });
  });
});
