import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadClientConfig } from '../../shared/config/load';
import type {
  ClientConfig,
  Priority,
  Rep,
  RoutingRule,
  Seniority,
  Team,
  WorkingHours,
} from '../../shared/config/schema';
import { WEEKDAYS } from '../../shared/config/schema-team';
import { chooseEscalationTarget } from '../../shared/domain/escalation';
import { type LeadProfile, type LifecycleStage, leadFacts } from '../../shared/domain/lead';
import { routeLead } from '../../shared/domain/routing';
import type { RoutingConfig } from '../../shared/domain/routing-decisions';
import {
  type AssignDecision,
  EMPTY_CURSOR,
  type RepState,
  type RoundRobinCursor,
  type RoutingDecision,
  type RoutingInput,
} from '../../shared/domain/routing-decisions';
import { isOutOfOffice, isWithinWorkingHours, nextWorkingStart } from '../../shared/domain/working-hours';

const example: ClientConfig = loadClientConfig('example', 'clients');
const config: RoutingConfig = {
  teams: example.teams,
  reps: example.reps,
  territories: example.territories,
  routing: example.routing,
};

const profile = (p: Partial<LeadProfile> = {}): LeadProfile => ({
  dedupeKey: 'lead@acme.example',
  email: 'lead@acme.example',
  isFreeMail: false,
  isDisposable: false,
  extra: {},
  droppedFields: [],
  ...p,
});

const facts = (p: Partial<LeadProfile>, stage: LifecycleStage, score = 0) =>
  leadFacts(profile(p), {
    stage,
    score: { total: score, fit: score, engagement: 0, stage, reasons: [], asOf: '2025-03-01T00:00:00.000Z' },
  });

const counters = (entries: Record<string, number> = {}): ReadonlyMap<string, RepState> =>
  new Map(Object.entries(entries).map(([id, openLeads]) => [id, { openLeads }]));

function route(overrides: Partial<RoutingInput> & Pick<RoutingInput, 'facts' | 'now'>): RoutingDecision {
  return routeLead({ config, reps: counters(), cursors: new Map(), ...overrides });
}

function assigned(decision: RoutingDecision): AssignDecision {
  if (decision.outcome !== 'assign') throw new Error(`expected an assignment, got ${decision.outcome}`);
  return decision;
}

// Moments used below (2025: the US changed clocks on 9 March, Europe on 30 March).
const BERLIN_OFFICE_HOURS = new Date('2025-03-12T09:30:00Z'); // Wed 10:30 Berlin, 09:30 Dublin
const PACIFIC_3AM = new Date('2025-03-11T10:10:00Z'); // Tue 03:10 LA, 06:10 New York, 05:10 Chicago
const PACIFIC_1AM = new Date('2025-03-11T08:00:00Z'); // Tue 01:00 LA, 04:00 New York, 09:00 Berlin
const EVERYONE_ON_SHIFT = new Date('2025-03-12T15:00:00Z'); // Wed 16:00 Berlin, 11:00 NY, 08:00 LA
const SATURDAY = new Date('2025-03-15T12:00:00Z');

const vp = { jobTitle: 'VP Engineering', companySize: 500, industry: 'software' };

describe('routeLead with the example client', () => {
  it('sends a VP at a 500-person software company (SQL, DE) to the only senior EMEA rep on shift', () => {
    const d = assigned(
      route({ facts: facts({ ...vp, country: 'DE' }, 'SQL', 85), now: BERLIN_OFFICE_HOURS }),
    );
    expect(d).toMatchObject({
      repId: 'ana',
      teamId: 'emea',
      ruleId: 'sales-ready',
      priority: 'high',
      via: 'round-robin',
    });
    expect(d.explanation.rule).toEqual({ id: 'sales-ready', label: 'SQL to a senior rep in territory' });
    expect(d.explanation.matchedConditions).toEqual(['stage = "SQL"']);
    expect(d.explanation.skipped).toEqual([
      { repId: 'sofia', teamId: 'emea', reason: 'out-of-office' },
      { repId: 'liam', teamId: 'emea', reason: 'less-senior' },
    ]);
    expect(d.explanation.steps.join('\n')).toMatch(
      /Country DE is in territory "Europe, Middle East & Africa"/,
    );
    expect(d.cursor?.teamId).toBe('emea');
    expect(d.cursor?.value.seq).toBe(1);
  });

  it('gives a 3 a.m. Pacific MQL lead to the New York early shift, not to a sleeping rep', () => {
    const d = assigned(
      route({ facts: facts({ country: 'US', companySize: 80 }, 'MQL', 45), now: PACIFIC_3AM }),
    );
    expect(d).toMatchObject({
      repId: 'jordan',
      teamId: 'na',
      ruleId: 'marketing-qualified',
      priority: 'normal',
    });
    expect(d.explanation.skipped).toEqual([
      { repId: 'maya', teamId: 'na', reason: 'outside-hours' },
      { repId: 'priya', teamId: 'na', reason: 'outside-hours' },
    ]);
  });

  it('gives a 3 a.m. Pacific SQL lead to the on-shift mid-level rep rather than a sleeping senior one', () => {
    const d = assigned(route({ facts: facts({ country: 'US' }, 'SQL', 75), now: PACIFIC_3AM }));
    expect(d.repId).toBe('jordan');
    expect(d.via).toBe('round-robin');
  });

  it('holds an MQL lead when no North America rep is on shift, until the next shift starts', () => {
    const d = route({ facts: facts({ country: 'US' }, 'MQL', 45), now: PACIFIC_1AM });
    expect(d.outcome).toBe('hold');
    if (d.outcome !== 'hold') return;
    expect(d.teamId).toBe('na');
    expect(d.ruleId).toBe('marketing-qualified');
    // Jordan starts at 06:00 New York time (EDT, UTC-4).
    expect(d.until.toISOString()).toBe('2025-03-11T10:00:00.000Z');
    const jordan = example.reps.find((r) => r.id === 'jordan') as Rep;
    expect(d.until.getTime()).toBe(
      nextWorkingStart(jordan.workingHours, jordan.timezone, PACIFIC_1AM).getTime(),
    );
    expect(d.explanation.skipped.map((s) => s.reason)).toEqual([
      'outside-hours',
      'outside-hours',
      'outside-hours',
    ]);
    expect(d.explanation.steps.at(-1)).toMatch(/held until 2025-03-11T10:00:00.000Z, when jordan starts/);
  });

  it('holds a weekend MQL lead until Monday morning', () => {
    const d = route({ facts: facts({ country: 'CA' }, 'MQL', 45), now: SATURDAY });
    expect(d.outcome === 'hold' && d.until.toISOString()).toBe('2025-03-17T10:00:00.000Z');
  });

  it('routes a hot lead to the on-shift backup team when its own team is asleep', () => {
    // 01:00 in Los Angeles is 09:00 in Berlin: Ana (senior, from 08:30) is on shift, Liam (from 09:00 Dublin) not yet.
    const d = assigned(route({ facts: facts({ country: 'US' }, 'SQL', 75), now: PACIFIC_1AM }));
    expect(d).toMatchObject({ repId: 'ana', teamId: 'emea', via: 'team-backup', ruleId: 'sales-ready' });
    expect(d.cursor?.teamId).toBe('emea');
    expect(d.explanation.skipped).toContainEqual({ repId: 'maya', teamId: 'na', reason: 'outside-hours' });
  });

  it('routes a hot weekend lead within its team anyway when nobody anywhere is on shift', () => {
    const d = assigned(route({ facts: facts({ country: 'US' }, 'SQL', 75), now: SATURDAY }));
    // Seniors maya (weight 1) and priya (weight 2) compete; the first pick goes to the heavier one.
    expect(d).toMatchObject({ repId: 'priya', teamId: 'na', via: 'round-robin' });
    expect(d.explanation.skipped).toContainEqual({ repId: 'jordan', teamId: 'na', reason: 'less-senior' });
    expect(d.explanation.skipped).not.toContainEqual({
      repId: 'priya',
      teamId: 'na',
      reason: 'outside-hours',
    });
    expect(d.explanation.steps.join('\n')).toMatch(/outside working hours/);
  });

  it('nurtures a below-MQL lead in "education" and a free-mail one in "re-engage"', () => {
    const work = route({ facts: facts({ country: 'DE' }, 'lead', 10), now: BERLIN_OFFICE_HOURS });
    expect(work).toMatchObject({ outcome: 'nurture', sequenceId: 'education', ruleId: 'everyone-else' });
    expect(work.explanation.matchedConditions).toEqual([]);
    const free = route({
      facts: facts({ country: 'DE', isFreeMail: true }, 'lead', 5),
      now: BERLIN_OFFICE_HOURS,
    });
    expect(free).toMatchObject({ outcome: 'nurture', sequenceId: 're-engage', ruleId: 'free-mail-nurture' });
    expect(free.explanation.matchedConditions).toEqual(['isFreeMail = true']);
    expect(free.explanation.steps[0]).toBe('Rule "sales-ready" did not match: stage = "SQL" does not hold.');
  });

  it('sends an enterprise lead that is not yet SQL to the territory with senior preference', () => {
    const d = assigned(
      route({ facts: facts({ country: 'GB', companySize: 5000 }, 'lead'), now: BERLIN_OFFICE_HOURS }),
    );
    expect(d).toMatchObject({ repId: 'ana', ruleId: 'enterprise', priority: 'high' });
  });

  it('returns a lead to its current owner even when the owner is full and off shift', () => {
    const d = assigned(
      route({
        facts: facts({ country: 'US' }, 'lead'),
        now: SATURDAY,
        currentOwner: 'liam',
        reps: counters({ liam: 30 }),
      }),
    );
    expect(d).toMatchObject({
      repId: 'liam',
      teamId: 'emea',
      via: 'returning-owner',
      ruleId: 'everyone-else',
    });
    expect(d.cursor).toBeUndefined();
  });

  it('routes a returning lead afresh when its owner is out of office', () => {
    const d = assigned(
      route({ facts: facts({ country: 'IT' }, 'MQL', 45), now: BERLIN_OFFICE_HOURS, currentOwner: 'sofia' }),
    );
    expect(d.repId).not.toBe('sofia');
    expect(d.via).toBe('round-robin');
    expect(d.explanation.skipped[0]).toEqual({ repId: 'sofia', teamId: 'emea', reason: 'out-of-office' });
    expect(d.explanation.steps.join('\n')).toMatch(/previous owner sofia is out of office/);
  });

  it('never picks the out-of-office rep and shares EMEA MQL leads 1:2 between ana and liam', () => {
    const counts: Record<string, number> = {};
    let cursors = new Map<string, RoundRobinCursor>();
    for (let i = 0; i < 30; i++) {
      const d = assigned(
        routeLead({
          config,
          facts: facts({ country: 'FR' }, 'MQL', 50),
          now: BERLIN_OFFICE_HOURS,
          reps: counters(),
          cursors,
        }),
      );
      counts[d.repId] = (counts[d.repId] ?? 0) + 1;
      if (d.cursor) cursors = new Map([...cursors, [d.cursor.teamId, d.cursor.value]]);
    }
    expect(counts).toEqual({ ana: 10, liam: 20 });
    expect(cursors.get('emea')?.credits.sofia).toBe(0);
    expect(cursors.get('emea')?.seq).toBe(30);
  });

  it('skips a rep at capacity', () => {
    const d = assigned(
      route({
        facts: facts({ ...vp, country: 'DE' }, 'SQL', 85),
        now: BERLIN_OFFICE_HOURS,
        reps: counters({ ana: 15 }),
      }),
    );
    expect(d.repId).toBe('liam');
    expect(d.explanation.skipped).toEqual([
      { repId: 'ana', teamId: 'emea', reason: 'at-capacity' },
      { repId: 'sofia', teamId: 'emea', reason: 'out-of-office' },
    ]);
  });

  it('treats a manager with capacity 0 as unable to take leads', () => {
    const noLeadsForAna: RoutingConfig = {
      ...config,
      reps: config.reps.map((r) => (r.id === 'ana' ? { ...r, capacity: 0 } : r)),
    };
    const d = assigned(
      routeLead({
        config: noLeadsForAna,
        facts: facts({ ...vp, country: 'DE' }, 'SQL', 85),
        now: BERLIN_OFFICE_HOURS,
        reps: counters(),
        cursors: new Map(),
      }),
    );
    expect(d.repId).toBe('liam');
    expect(d.explanation.skipped[0]).toEqual({ repId: 'ana', teamId: 'emea', reason: 'at-capacity' });
  });

  it('does not credit reps who could not take the lead', () => {
    const before: RoundRobinCursor = { seq: 7, credits: { ana: -1, liam: 1, sofia: 3 } };
    const d = assigned(
      route({
        facts: facts({ country: 'DE' }, 'MQL', 45),
        now: BERLIN_OFFICE_HOURS,
        reps: counters({ ana: 15 }),
        cursors: new Map([['emea', before]]),
      }),
    );
    expect(d.repId).toBe('liam');
    // Only liam competed: +2 weight, -2 total. Ana (full) and Sofia (away) keep their credit.
    expect(d.cursor?.value).toEqual({ seq: 8, credits: { ana: -1, liam: 1, sofia: 3 } });
  });

  it('uses the backup team when nobody in the team can take leads', () => {
    const d = assigned(
      route({
        facts: facts({ country: 'DE' }, 'MQL', 45),
        now: EVERYONE_ON_SHIFT,
        reps: counters({ ana: 15, liam: 30 }),
      }),
    );
    // Backup na: maya (1), jordan (2), priya (2); the first pick goes to the first of the heaviest.
    expect(d).toMatchObject({
      repId: 'jordan',
      teamId: 'na',
      via: 'team-backup',
      ruleId: 'marketing-qualified',
    });
    expect(d.cursor?.teamId).toBe('na');
    expect(d.explanation.skipped.slice(0, 3)).toEqual([
      { repId: 'ana', teamId: 'emea', reason: 'at-capacity' },
      { repId: 'liam', teamId: 'emea', reason: 'at-capacity' },
      { repId: 'sofia', teamId: 'emea', reason: 'out-of-office' },
    ]);
  });

  it('falls back to the default owner, even at capacity, when team and backup are full', () => {
    const full = counters({ ana: 15, liam: 30, maya: 15, jordan: 30, priya: 25 });
    const d = assigned(
      route({ facts: facts({ ...vp, country: 'DE' }, 'SQL', 85), now: EVERYONE_ON_SHIFT, reps: full }),
    );
    expect(d).toMatchObject({ repId: 'ana', teamId: 'emea', via: 'default-owner', ruleId: 'sales-ready' });
    expect(d.cursor).toBeUndefined();
    expect(d.explanation.skipped.map((s) => `${s.repId}:${s.reason}`)).toEqual([
      'ana:at-capacity',
      'liam:at-capacity',
      'sofia:out-of-office',
      'maya:at-capacity',
      'jordan:at-capacity',
      'priya:at-capacity',
    ]);
    expect(d.explanation.steps.at(-1)).toMatch(
      /default owner ana although at capacity: the default owner is the last resort/,
    );
  });

  it('assigns the default owner when no rule matches', () => {
    const sqlOnly: RoutingConfig = {
      ...config,
      routing: { ...config.routing, rules: config.routing.rules.slice(0, 1) },
    };
    const d = assigned(
      routeLead({
        config: sqlOnly,
        facts: facts({ country: 'US' }, 'lead'),
        now: EVERYONE_ON_SHIFT,
        reps: counters(),
        cursors: new Map(),
      }),
    );
    expect(d).toMatchObject({ repId: 'ana', via: 'default-owner', ruleId: null, priority: 'normal' });
    expect(d.explanation.rule).toBeNull();
    expect(d.explanation.steps.join('\n')).toMatch(/No routing rule matched/);
  });

  it('uses the catch-all territory for an unknown or missing country', () => {
    for (const country of ['BR', undefined]) {
      const d = assigned(route({ facts: facts({ country }, 'MQL', 45), now: BERLIN_OFFICE_HOURS }));
      expect(d.teamId).toBe('emea');
      expect(d.explanation.steps.join('\n')).toMatch(/catch-all territory "Rest of world"/);
    }
  });

  it('assigns the default owner when no territory serves the country', () => {
    const noCatchAll: RoutingConfig = {
      ...config,
      territories: config.territories.filter((t) => t.countries !== '*'),
    };
    const d = assigned(
      routeLead({
        config: noCatchAll,
        facts: facts({ country: 'BR' }, 'MQL', 45),
        now: BERLIN_OFFICE_HOURS,
        reps: counters(),
        cursors: new Map(),
      }),
    );
    expect(d).toMatchObject({ repId: 'ana', via: 'default-owner', ruleId: 'marketing-qualified' });
    expect(d.explanation.steps.join('\n')).toMatch(/Country BR is in no territory and there is no catch-all/);
  });

  it('routes a team rule straight to the named team', () => {
    const teamRule: RoutingConfig = {
      ...config,
      routing: {
        ...config.routing,
        rules: [
          {
            id: 'partners',
            label: 'Partner leads to NA',
            when: [{ field: 'extra.partner', op: 'exists', value: true, negate: false }],
            target: { team: 'na' },
            outsideHours: 'route',
            priority: 'normal',
          },
        ],
      },
    };
    const d = assigned(
      routeLead({
        config: teamRule,
        facts: facts({ country: 'DE', extra: { partner: 'acme' } }, 'lead'),
        now: EVERYONE_ON_SHIFT,
        reps: counters(),
        cursors: new Map(),
      }),
    );
    expect(d).toMatchObject({ teamId: 'na', ruleId: 'partners', via: 'round-robin' });
    expect(d.explanation.matchedConditions).toEqual(['extra.partner is set']);
  });
});

describe('chooseEscalationTarget with the example client', () => {
  const base = { config, reps: counters(), cursors: new Map<string, RoundRobinCursor>() };

  it('escalates to an on-shift rep of the backup team, excluding who already had the lead', () => {
    const d = chooseEscalationTarget({
      ...base,
      teamId: 'emea',
      to: 'teamBackup',
      exclude: ['ana'],
      now: EVERYONE_ON_SHIFT,
      ruleId: 'sales-ready',
      priority: 'high',
    });
    expect(d).toMatchObject({ outcome: 'assign', repId: 'jordan', teamId: 'na', via: 'team-backup' });
    expect(d?.ruleId).toBe('sales-ready');
    expect(d?.priority).toBe('high');
    expect(d?.cursor?.teamId).toBe('na');
  });

  it('falls back to an on-shift rep of the own team when the backup team is asleep', () => {
    const d = chooseEscalationTarget({
      ...base,
      teamId: 'emea',
      to: 'teamBackup',
      exclude: ['ana'],
      now: BERLIN_OFFICE_HOURS,
    });
    expect(d).toMatchObject({ repId: 'liam', teamId: 'emea', via: 'round-robin' });
  });

  it('picks another team member and never one who already had the lead', () => {
    const d = chooseEscalationTarget({
      ...base,
      teamId: 'na',
      to: 'team',
      exclude: ['jordan'],
      now: EVERYONE_ON_SHIFT,
    });
    expect(d?.repId).toBe('priya');
    expect(
      chooseEscalationTarget({
        ...base,
        teamId: 'na',
        to: 'team',
        exclude: ['jordan', 'maya', 'priya'],
        now: EVERYONE_ON_SHIFT,
      }),
    ).toBeUndefined();
  });

  it('escalates to an off-shift rep, backup team first, when nobody is on shift anywhere', () => {
    const d = chooseEscalationTarget({
      ...base,
      teamId: 'emea',
      to: 'teamBackup',
      exclude: ['ana'],
      now: SATURDAY,
    });
    expect(d).toMatchObject({ repId: 'jordan', teamId: 'na', via: 'team-backup' });
    expect(d?.explanation.steps.join('\n')).toMatch(
      /Nobody is on shift; escalating within team "North America"/,
    );
    expect(d?.explanation.skipped).not.toContainEqual({
      repId: 'jordan',
      teamId: 'na',
      reason: 'outside-hours',
    });
  });

  it('escalates to the manager even outside working hours, unless excluded or away', () => {
    const night = new Date('2025-03-12T23:00:00Z');
    expect(
      chooseEscalationTarget({ ...base, teamId: 'emea', to: 'manager', exclude: ['liam'], now: night }),
    ).toMatchObject({ repId: 'ana', teamId: 'emea', via: 'manager', ruleId: null, priority: 'normal' });
    expect(
      chooseEscalationTarget({
        ...base,
        teamId: 'emea',
        to: 'manager',
        exclude: ['liam', 'ana'],
        now: night,
      }),
    ).toBeUndefined();
    const awayManager: RoutingConfig = {
      ...config,
      reps: config.reps.map((r) => (r.id === 'ana' ? { ...r, outOfOffice: true } : r)),
    };
    expect(
      chooseEscalationTarget({
        ...base,
        config: awayManager,
        teamId: 'emea',
        to: 'manager',
        exclude: [],
        now: night,
      }),
    ).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
// Properties over generated teams.

const ZONES = ['Europe/Berlin', 'America/Los_Angeles', 'America/New_York', 'Asia/Kolkata', 'UTC'] as const;
const hhmm = (m: number) =>
  `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

const hoursArb: fc.Arbitrary<WorkingHours> = fc
  .record({
    days: fc.subarray([...WEEKDAYS], { minLength: 1 }),
    a: fc.integer({ min: 0, max: 1439 }),
    b: fc.integer({ min: 0, max: 1439 }),
  })
  .filter(({ a, b }) => a !== b)
  .map(({ days, a, b }) => ({ days, start: hhmm(Math.min(a, b)), end: hhmm(Math.max(a, b)) }));

interface GeneratedRep {
  weight: number;
  capacity: number;
  openLeads: number;
  outOfOffice: Rep['outOfOffice'];
  seniority: Seniority;
  role: Rep['role'];
  timezone: string;
  workingHours: WorkingHours;
}

const marchDate = fc.integer({ min: 1, max: 31 }).map((d) => `2025-03-${String(d).padStart(2, '0')}`);
const repArb: fc.Arbitrary<GeneratedRep> = fc.record({
  weight: fc.integer({ min: 1, max: 5 }),
  capacity: fc.integer({ min: 0, max: 4 }),
  openLeads: fc.integer({ min: 0, max: 5 }),
  outOfOffice: fc.oneof(
    fc.constant(false),
    fc.constant(true),
    fc.tuple(marchDate, marchDate).map(([a, b]) => (a <= b ? { from: a, until: b } : { from: b, until: a })),
  ),
  seniority: fc.constantFrom<Seniority>('junior', 'mid', 'senior'),
  role: fc.constantFrom<Rep['role']>('rep', 'manager'),
  timezone: fc.constantFrom(...ZONES),
  workingHours: hoursArb,
});

function toRep(g: GeneratedRep, id: string, team: string): Rep {
  const { openLeads: _openLeads, ...rest } = g;
  return { ...rest, id, team, name: id, email: `${id}@example.com` };
}

interface Scenario {
  config: RoutingConfig;
  reps: ReadonlyMap<string, RepState>;
  rule: RoutingRule;
  now: Date;
}

/** A team "a" (1-6 reps) routed to by the only rule, an optional backup team "b" (0-4 reps). */
const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    a: fc.array(repArb, { minLength: 1, maxLength: 6 }),
    b: fc.array(repArb, { minLength: 0, maxLength: 4 }),
    hasBackup: fc.boolean(),
    outsideHours: fc.constantFrom<RoutingRule['outsideHours']>('hold', 'route'),
    preferSeniorFor: fc.option(fc.constantFrom<Priority>('low', 'normal', 'high'), { nil: undefined }),
    priority: fc.constantFrom<Priority>('low', 'normal', 'high'),
    defaultOwnerIndex: fc.nat(),
    // Any minute in March 2025 (the US clock change is on the 9th, Europe's on the 30th).
    minute: fc.integer({ min: 0, max: 31 * 1440 - 1 }),
  })
  .map((s) => {
    const reps = [...s.a.map((g, i) => toRep(g, `a${i}`, 'a')), ...s.b.map((g, i) => toRep(g, `b${i}`, 'b'))];
    const openLeads = new Map<string, RepState>([
      ...s.a.map((g, i): [string, RepState] => [`a${i}`, { openLeads: g.openLeads }]),
      ...s.b.map((g, i): [string, RepState] => [`b${i}`, { openLeads: g.openLeads }]),
    ]);
    const teams: Team[] = [
      { id: 'a', name: 'Team A', manager: 'a0', ...(s.hasBackup ? { backupTeam: 'b' } : {}) },
      { id: 'b', name: 'Team B', manager: s.b.length > 0 ? 'b0' : 'a0', backupTeam: 'a' },
    ];
    const rule: RoutingRule = {
      id: 'to-a',
      label: 'Everything to team A',
      when: [],
      target: { team: 'a' },
      outsideHours: s.outsideHours,
      priority: s.priority,
      ...(s.preferSeniorFor ? { preferSeniorFor: s.preferSeniorFor } : {}),
    };
    const defaultOwner = reps[s.defaultOwnerIndex % reps.length]?.id ?? 'a0';
    return {
      config: {
        teams,
        reps,
        territories: [{ id: 'world', name: 'World', countries: '*', team: 'a' }],
        routing: { defaultOwner, rules: [rule] },
      },
      reps: openLeads,
      rule,
      now: new Date(Date.parse('2025-03-01T00:00:00Z') + s.minute * 60_000),
    } satisfies Scenario;
  });

function decide(s: Scenario, cursors: ReadonlyMap<string, RoundRobinCursor> = new Map()): RoutingDecision {
  return routeLead({ config: s.config, facts: facts({}, 'MQL'), now: s.now, reps: s.reps, cursors });
}

const isAway = (s: Scenario, r: Rep) => isOutOfOffice(r, s.now);
const isFull = (s: Scenario, r: Rep) => (s.reps.get(r.id)?.openLeads ?? 0) >= r.capacity;
const isEligible = (s: Scenario, r: Rep) =>
  !isAway(s, r) && !isFull(s, r) && isWithinWorkingHours(r.workingHours, r.timezone, s.now);

describe('routing properties', () => {
  it('every decision has exactly one outcome with its required fields', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const d = decide(s);
        const repIds = new Set(s.config.reps.map((r) => r.id));
        expect(['assign', 'hold', 'nurture']).toContain(d.outcome);
        expect(d.explanation.rule).toEqual({ id: 'to-a', label: 'Everything to team A' });
        expect(d.explanation.steps.length).toBeGreaterThan(0);
        switch (d.outcome) {
          case 'assign':
            expect(repIds.has(d.repId)).toBe(true);
            expect(['a', 'b']).toContain(d.teamId);
            expect(d.ruleId).toBe('to-a');
            expect(d.priority).toBe(s.rule.priority);
            expect('until' in d || 'sequenceId' in d).toBe(false);
            if (d.via === 'round-robin' || d.via === 'team-backup') {
              expect(d.cursor?.teamId).toBe(d.teamId);
              expect(d.cursor?.value.seq).toBe(1);
              expect(s.config.reps.find((r) => r.id === d.repId)?.team).toBe(d.teamId);
            } else {
              expect(d.via).toBe('default-owner');
              expect(d.repId).toBe(s.config.routing.defaultOwner);
              expect(d.cursor).toBeUndefined();
            }
            break;
          case 'hold':
            expect(s.rule.outsideHours).toBe('hold');
            expect(d.until.getTime()).toBeGreaterThan(s.now.getTime());
            expect(['a', 'b']).toContain(d.teamId);
            expect(d.ruleId).toBe('to-a');
            expect('repId' in d || 'sequenceId' in d).toBe(false);
            break;
          case 'nurture':
            throw new Error('the generated rule never nurtures');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never chooses a rep who is out of office or at capacity while an eligible rep exists', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const d = decide(s);
        const teamA = s.config.reps.filter((r) => r.team === 'a');
        // Routing reaches team A and, when configured, its backup team B; nobody else.
        const backup = s.config.teams.find((t) => t.id === 'a')?.backupTeam;
        const reachable = s.config.reps.filter((r) => r.team === 'a' || r.team === backup);
        const anyEligible = reachable.some((r) => isEligible(s, r));
        if (d.outcome === 'assign') {
          const rep = s.config.reps.find((r) => r.id === d.repId) as Rep;
          if (anyEligible || d.via !== 'default-owner') {
            expect(isAway(s, rep)).toBe(false);
            expect(isFull(s, rep)).toBe(false);
          }
        }
        // An eligible rep in the rule's own team always gets the lead from that team.
        if (teamA.some((r) => isEligible(s, r))) {
          expect(d).toMatchObject({ outcome: 'assign', teamId: 'a', via: 'round-robin' });
          const rep = teamA.find((r) => r.id === (d as AssignDecision).repId) as Rep;
          expect(isEligible(s, rep)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('prefers the most senior eligible tier when the rule priority reaches preferSeniorFor', () => {
    const rank = { low: 0, normal: 1, high: 2 } as const;
    const tier = { junior: 0, mid: 1, senior: 2 } as const;
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const d = decide(s);
        const teamA = s.config.reps.filter((r) => r.team === 'a');
        const eligible = teamA.filter((r) => isEligible(s, r));
        if (d.outcome !== 'assign' || eligible.length === 0) return;
        const chosen = teamA.find((r) => r.id === d.repId) as Rep;
        const applies =
          s.rule.preferSeniorFor !== undefined && rank[s.rule.priority] >= rank[s.rule.preferSeniorFor];
        if (applies) {
          expect(tier[chosen.seniority]).toBe(Math.max(...eligible.map((r) => tier[r.seniority])));
          for (const skip of d.explanation.skipped.filter((x) => x.reason === 'less-senior')) {
            const rep = teamA.find((r) => r.id === skip.repId) as Rep;
            expect(tier[rep.seniority]).toBeLessThan(tier[chosen.seniority]);
          }
        } else {
          expect(d.explanation.skipped.some((x) => x.reason === 'less-senior')).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('holds until the earliest next shift start of the free reps in the held team', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const d = decide(s);
        if (d.outcome !== 'hold') return;
        const free = s.config.reps.filter((r) => r.team === d.teamId && !isAway(s, r) && !isFull(s, r));
        expect(free.some((r) => isEligible(s, r))).toBe(false);
        const earliest = Math.min(
          ...free.map((r) => nextWorkingStart(r.workingHours, r.timezone, s.now).getTime()),
        );
        expect(d.until.getTime()).toBe(earliest);
      }),
      { numRuns: 300 },
    );
  });

  /** A team of always-available reps with the given weights. */
  function alwaysOnTeam(weights: readonly number[]): Scenario {
    const everyDay: WorkingHours = { days: [...WEEKDAYS], start: '00:00', end: '23:59' };
    const reps: Rep[] = weights.map((weight, i) => ({
      id: `r${i}`,
      name: `r${i}`,
      email: `r${i}@example.com`,
      team: 'a',
      role: 'rep',
      timezone: 'UTC',
      workingHours: everyDay,
      capacity: 10_000,
      seniority: 'mid',
      weight,
      outOfOffice: false,
    }));
    const rule: RoutingRule = {
      id: 'to-a',
      label: 'Everything to team A',
      when: [],
      target: { team: 'a' },
      outsideHours: 'route',
      priority: 'normal',
    };
    return {
      config: {
        teams: [{ id: 'a', name: 'Team A', manager: 'r0' }],
        reps,
        territories: [{ id: 'world', name: 'World', countries: '*', team: 'a' }],
        routing: { defaultOwner: 'r0', rules: [rule] },
      },
      reps: new Map(),
      rule,
      now: new Date('2025-03-12T12:00:00Z'),
    };
  }

  /** Routes `n` leads in a row, feeding each new cursor back, and yields the counts after each. */
  function* sequentialCounts(s: Scenario, n: number): Generator<number[]> {
    const counts = s.config.reps.map(() => 0);
    let cursor: RoundRobinCursor = EMPTY_CURSOR;
    for (let i = 0; i < n; i++) {
      const d = assigned(decide(s, new Map([['a', cursor]])));
      expect(d.cursor?.value.seq).toBe(cursor.seq + 1);
      cursor = d.cursor?.value ?? cursor;
      const index = Number(d.repId.slice(1));
      counts[index] = (counts[index] ?? 0) + 1;
      yield counts;
    }
  }

  it('equal weights: after every assignment the counts differ by at most one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 60 }),
        (size, weight, n) => {
          for (const counts of sequentialCounts(alwaysOnTeam(Array(size).fill(weight)), n))
            expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('unequal weights: exact weight shares after every full cycle, and within ±2 of the exact share after any assignment', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 6 }),
        fc.integer({ min: 1, max: 4 }),
        (weights, cycles) => {
          const total = weights.reduce((a, b) => a + b, 0);
          let n = 0;
          for (const counts of sequentialCounts(alwaysOnTeam(weights), cycles * total)) {
            n += 1;
            weights.forEach((w, i) => {
              const share = (n * w) / total;
              expect(Math.abs((counts[i] ?? 0) - share)).toBeLessThanOrEqual(2);
              if (n % total === 0) expect(counts[i]).toBe((n / total) * w);
            });
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
