import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadClientConfig } from '../../shared/config/load';
import type { ClientConfig } from '../../shared/config/schema';
import {
  type Caller,
  LeadStateConflictError,
  leadAccess,
  listScope,
  managedTeamsOf,
  type Role,
  requireLeadAccess,
} from '../../shared/domain/access';
import { type InvalidInputError, LeadNotFoundError, NotAllowedError } from '../../shared/domain/errors';
import { firstTouchActivityId, planFirstTouch } from '../../shared/domain/first-touch';
import type { Lead, LeadProfile } from '../../shared/domain/lead';
import { leadActivityId, planLeadUpdate, statusForOutcome } from '../../shared/domain/pipeline';
import { planReassignment } from '../../shared/domain/reassignment';
import { findStaleDeals, openStageIds, staleCutoff } from '../../shared/domain/stale-deals';
import { callerFromClaims, parseGroupsClaim } from '../../shared/http/auth';

const config: ClientConfig = loadClientConfig('example', 'clients');

function caller(repId: string | undefined, roles: Role[]): Caller {
  const rep = config.reps.find((r) => r.id === repId);
  return {
    subject: `sub-${repId ?? 'x'}`,
    roles,
    ...(rep ? { repId: rep.id, teamId: rep.team } : {}),
    managedTeams: managedTeamsOf(rep, roles, config),
  };
}

const liam = caller('liam', ['rep']);
const jordan = caller('jordan', ['rep']);
const ana = caller('ana', ['manager']);
const maya = caller('maya', ['manager']);
const admin = caller(undefined, ['admin']);

function lead(overrides: Partial<Lead> & { profile?: Partial<LeadProfile> } = {}): Lead {
  const { profile, ...rest } = overrides;
  return {
    id: 'lead-1',
    createdAt: '2026-03-02T09:00:00.000Z',
    updatedAt: '2026-03-02T09:00:00.000Z',
    profile: {
      email: 'jane@acme.example',
      dedupeKey: 'jane@acme.example',
      isFreeMail: false,
      isDisposable: false,
      extra: {},
      droppedFields: [],
      ...profile,
    },
    source: { channel: 'organic', provider: 'form', utm: {} },
    isTest: false,
    status: 'assigned',
    stage: 'MQL',
    priority: 'normal',
    owner: 'liam',
    team: 'emea',
    assignedAt: '2026-03-02T09:00:10.000Z',
    unsubscribed: false,
    version: 3,
    ...rest,
  };
}

const at = new Date('2026-03-02T09:03:30.000Z');

describe('callers', () => {
  it('reads the flattened, array, JSON and comma-separated forms of cognito:groups', () => {
    expect(parseGroupsClaim('[admin rep]')).toEqual(['admin', 'rep']);
    expect(parseGroupsClaim(['manager', 'rep'])).toEqual(['manager', 'rep']);
    expect(parseGroupsClaim('["admin","rep"]')).toEqual(['admin', 'rep']);
    expect(parseGroupsClaim('manager, rep')).toEqual(['manager', 'rep']);
    expect(parseGroupsClaim('[]')).toEqual([]);
    expect(parseGroupsClaim(undefined)).toEqual([]);
  });

  it('links a login to its rep by the admin-written custom:repId and derives the managed teams', () => {
    const manager = callerFromClaims(
      {
        sub: 's1',
        email: 'ana.schmidt@northwind.example',
        'custom:repId': 'ana',
        'cognito:groups': '[manager]',
      },
      config,
    );
    expect(manager).toMatchObject({
      repId: 'ana',
      teamId: 'emea',
      roles: ['manager'],
      managedTeams: ['emea'],
    });
    const byClaim = callerFromClaims(
      { sub: 's2', 'custom:repId': 'jordan', 'cognito:groups': ['rep'] },
      config,
    );
    expect(byClaim).toMatchObject({ repId: 'jordan', teamId: 'na', managedTeams: [] });
  });

  it('never takes the rep from the self-writable email claim', () => {
    // Jordan changed his email to Ana's (a manager of another team) and refreshed his token.
    const changed = callerFromClaims(
      {
        sub: 's2',
        email: 'ana.schmidt@northwind.example',
        'custom:repId': 'jordan',
        'cognito:groups': '[rep]',
      },
      config,
    );
    expect(changed).toMatchObject({ repId: 'jordan', teamId: 'na', managedTeams: [] });
    // Without the admin-written attribute the email alone names nobody.
    expect(() =>
      callerFromClaims(
        { sub: 's3', email: 'ana.schmidt@northwind.example', 'cognito:groups': '[manager]' },
        config,
      ),
    ).toThrow(NotAllowedError);
  });

  it('refuses logins outside the groups or not linked to a rep (admins excepted)', () => {
    expect(() =>
      callerFromClaims({ sub: 's', 'custom:repId': 'liam', 'cognito:groups': '[guests]' }, config),
    ).toThrow(NotAllowedError);
    expect(() =>
      callerFromClaims(
        { sub: 's', email: 'liam.oconnor@northwind.example', 'cognito:groups': '[rep]' },
        config,
      ),
    ).toThrow(/custom:repId/);
    expect(() =>
      callerFromClaims({ sub: 's', 'custom:repId': 'ghost', 'cognito:groups': '[rep]' }, config),
    ).toThrow(/ghost/);
    expect(
      callerFromClaims({ sub: 's', email: 'ops@example.com', 'cognito:groups': '[admin]' }, config),
    ).toMatchObject({
      roles: ['admin'],
      managedTeams: [],
    });
  });
});

describe('lead access', () => {
  it('gives the owner work, the team manager and admins manage, team mates nothing, others nothing', () => {
    const owned = lead();
    expect(leadAccess(liam, owned, config)).toBe('work');
    expect(leadAccess(ana, owned, config)).toBe('manage');
    expect(leadAccess(admin, owned, config)).toBe('manage');
    expect(leadAccess(maya, owned, config)).toBe('none');
    expect(leadAccess(jordan, owned, config)).toBe('none');
    expect(leadAccess(caller('sofia', ['rep']), owned, config)).toBe('none');
  });

  it('lets reps view the unassigned leads of their own team only', () => {
    const unassigned = lead({ owner: undefined, status: 'held' });
    expect(leadAccess(caller('sofia', ['rep']), unassigned, config)).toBe('view');
    expect(leadAccess(jordan, unassigned, config)).toBe('none');
  });

  it('hides leads the caller may not see (404) and names the action otherwise (403)', () => {
    expect(() => requireLeadAccess(jordan, lead(), 'view', 'read this lead', config)).toThrow(
      LeadNotFoundError,
    );
    expect(() => requireLeadAccess(liam, lead(), 'manage', 'reassign a lead', config)).toThrow(
      /Only a manager of the lead's team or an admin may reassign a lead/,
    );
    expect(requireLeadAccess(ana, lead(), 'manage', 'reassign a lead', config)).toBe('manage');
  });
});

describe('list scope', () => {
  it('defaults to the caller’s own leads', () => {
    expect(listScope(liam, {}, config)).toEqual({ kind: 'owner', repId: 'liam' });
    expect(listScope(liam, { owner: 'me' }, config)).toEqual({ kind: 'owner', repId: 'liam' });
  });

  it('lets managers list their team and its reps, admins anything, reps only their team’s unassigned leads', () => {
    expect(listScope(ana, { team: 'emea' }, config)).toEqual({
      kind: 'team',
      teamId: 'emea',
      unassignedOnly: false,
    });
    expect(listScope(ana, { owner: 'liam' }, config)).toEqual({ kind: 'owner', repId: 'liam' });
    expect(listScope(admin, { team: 'na' }, config)).toEqual({
      kind: 'team',
      teamId: 'na',
      unassignedOnly: false,
    });
    expect(listScope(liam, { team: 'emea' }, config)).toEqual({
      kind: 'team',
      teamId: 'emea',
      unassignedOnly: true,
    });
    expect(() => listScope(ana, { team: 'na' }, config)).toThrow(NotAllowedError);
    expect(() => listScope(liam, { owner: 'jordan' }, config)).toThrow(NotAllowedError);
  });

  it('names the bad parameter', () => {
    const problems = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as InvalidInputError).problems.map((p) => p.field);
      }
      return [];
    };
    expect(problems(() => listScope(ana, { team: 'apac' }, config))).toEqual(['team']);
    expect(problems(() => listScope(ana, { owner: 'ghost' }, config))).toEqual(['owner']);
    expect(problems(() => listScope(ana, { owner: 'liam', team: 'emea' }, config))).toEqual(['team']);
    expect(problems(() => listScope(admin, {}, config))).toEqual(['owner']);
  });
});

describe('first touch', () => {
  it('records the first touch once with the speed to lead and a contacted activity', () => {
    const plan = planFirstTouch(lead(), liam, at);
    expect(plan.outcome).toBe('recorded');
    if (plan.outcome !== 'recorded') return;
    expect(plan.secondsToFirstTouch).toBe(210);
    expect(plan.repId).toBe('liam');
    expect(plan.lead).toMatchObject({
      status: 'contacted',
      firstTouchAt: at.toISOString(),
      updatedAt: at.toISOString(),
    });
    expect(plan.activity).toEqual({
      id: 'lead-1-contacted',
      leadId: 'lead-1',
      type: 'contacted',
      at: at.toISOString(),
      data: { repId: 'liam', by: 'liam', secondsToFirstTouch: 210 },
    });
  });

  it('keeps a status that is already past contact, and credits the owner when a non-rep admin marks it', () => {
    const plan = planFirstTouch(lead({ status: 'working' }), admin, at);
    expect(plan.outcome === 'recorded' && plan.lead.status).toBe('working');
    expect(plan.outcome === 'recorded' && plan.repId).toBe('liam');
  });

  it('changes nothing the second time', () => {
    const contacted = lead({ firstTouchAt: '2026-03-02T09:01:00.000Z', status: 'contacted' });
    expect(planFirstTouch(contacted, liam, at)).toEqual({
      outcome: 'already-contacted',
      lead: contacted,
      firstTouchAt: '2026-03-02T09:01:00.000Z',
    });
  });

  it('refuses when nobody can be credited', () => {
    expect(() => planFirstTouch(lead({ owner: undefined }), admin, at)).toThrow(LeadStateConflictError);
  });

  it('keeps activity ids within 64 characters, deterministically', () => {
    const long = 'x'.repeat(60);
    const id = leadActivityId(long, 'contacted');
    expect(id.length).toBeLessThanOrEqual(64);
    expect(id).toBe(firstTouchActivityId(long));
    expect(firstTouchActivityId('lead-1')).toBe('lead-1-contacted');
  });
});

describe('status and pipeline stage', () => {
  const contacted = lead({ status: 'contacted', firstTouchAt: '2026-03-02T09:02:00.000Z' });

  it('moves a contacted lead into an open stage: working opportunity, stage time and a stage activity', () => {
    const plan = planLeadUpdate(contacted, { pipelineStage: 'demo', amount: 12_000 }, config, at, 'liam');
    expect(plan.changed).toEqual(['status', 'stage', 'pipelineStage', 'amount']);
    expect(plan.lead).toMatchObject({
      status: 'working',
      stage: 'opportunity',
      pipelineStage: 'demo',
      pipelineStageAt: at.toISOString(),
      amount: 12_000,
    });
    expect(plan.stageChange).toEqual({
      to: 'demo',
      activity: {
        id: `lead-1-stage-${at.getTime()}`,
        leadId: 'lead-1',
        type: 'stage_changed',
        at: at.toISOString(),
        data: { to: 'demo', by: 'liam' },
      },
    });
  });

  it('wins a deal (converted customer) and loses one only with a configured reason (disqualified)', () => {
    const deal = {
      ...contacted,
      status: 'working' as const,
      pipelineStage: 'proposal',
      stage: 'opportunity' as const,
    };
    expect(planLeadUpdate(deal, { pipelineStage: 'won' }, config, at, 'liam').lead).toMatchObject({
      status: 'converted',
      stage: 'customer',
      pipelineStage: 'won',
    });
    const lost = planLeadUpdate(deal, { pipelineStage: 'lost', lostReason: 'No budget' }, config, at, 'liam');
    expect(lost.lead).toMatchObject({
      status: 'disqualified',
      stage: 'opportunity',
      lostReason: 'No budget',
    });
    expect(lost.stageChange).toMatchObject({ from: 'proposal', to: 'lost' });
    expect(() => planLeadUpdate(deal, { pipelineStage: 'lost' }, config, at, 'liam')).toThrow(
      /lostReason: required/,
    );
    expect(() =>
      planLeadUpdate(deal, { pipelineStage: 'lost', lostReason: 'Too pricey' }, config, at, 'liam'),
    ).toThrow(/lostReason: one of "No budget"/);
  });

  it('names the bad field', () => {
    expect(() => planLeadUpdate(contacted, { pipelineStage: 'negotiation' }, config, at, 'liam')).toThrow(
      /pipelineStage: unknown stage "negotiation"/,
    );
    expect(() =>
      planLeadUpdate(contacted, { pipelineStage: 'won', status: 'working' }, config, at, 'liam'),
    ).toThrow(/status: stage "won"/);
    const deal = { ...contacted, status: 'working' as const, pipelineStage: 'demo' };
    expect(() => planLeadUpdate(deal, { status: 'disqualified' }, config, at, 'liam')).toThrow(
      /move pipelineStage to a lost stage/,
    );
    expect(() => planLeadUpdate(contacted, { lostReason: 'No budget' }, config, at, 'liam')).toThrow(
      /lostReason/,
    );
  });

  it('requires the first touch before working a lead, but not before disqualifying it', () => {
    expect(() => planLeadUpdate(lead(), { pipelineStage: 'discovery' }, config, at, 'liam')).toThrow(
      LeadStateConflictError,
    );
    expect(() => planLeadUpdate(lead(), { status: 'working' }, config, at, 'liam')).toThrow(
      LeadStateConflictError,
    );
    expect(
      planLeadUpdate(lead(), { status: 'disqualified', lostReason: 'Not a fit' }, config, at, 'liam').lead,
    ).toMatchObject({
      status: 'disqualified',
      lostReason: 'Not a fit',
    });
  });

  it('changes nothing (and keeps the stage time) when the values are the same', () => {
    const deal = {
      ...contacted,
      status: 'working' as const,
      stage: 'opportunity' as const,
      pipelineStage: 'demo',
      pipelineStageAt: '2026-03-01T00:00:00.000Z',
    };
    expect(planLeadUpdate(deal, { pipelineStage: 'demo' }, config, at, 'liam')).toEqual({
      lead: deal,
      changed: [],
    });
    const amountOnly = planLeadUpdate(deal, { amount: 5 }, config, at, 'liam');
    expect(amountOnly.changed).toEqual(['amount']);
    expect(amountOnly.lead.pipelineStageAt).toBe('2026-03-01T00:00:00.000Z');
    expect(amountOnly.stageChange).toBeUndefined();
  });

  it('always derives the status from the stage outcome (property)', () => {
    const reasons = config.pipeline.lostReasons;
    fc.assert(
      fc.property(
        fc.constantFrom(...config.pipeline.stages),
        fc.constantFrom(...reasons),
        (stage, reason) => {
          const plan = planLeadUpdate(
            contacted,
            { pipelineStage: stage.id, ...(stage.outcome === 'lost' ? { lostReason: reason } : {}) },
            config,
            at,
            'liam',
          );
          expect(plan.lead.status).toBe(statusForOutcome(stage.outcome));
          expect(plan.lead.lostReason !== undefined).toBe(stage.outcome === 'lost');
        },
      ),
    );
  });
});

describe('reassignment', () => {
  it('lets the team manager move a lead to a team mate within capacity', () => {
    const plan = planReassignment(lead(), ana, { repId: 'sofia' }, config, at);
    expect(plan.outcome).toBe('reassign');
    if (plan.outcome !== 'reassign') return;
    expect(plan.capacity).toBe(25);
    expect(plan.previousOwner).toBe('liam');
    expect(plan.lead).toMatchObject({
      owner: 'sofia',
      team: 'emea',
      status: 'assigned',
      assignedAt: at.toISOString(),
    });
    expect(plan.activity).toMatchObject({
      type: 'assigned',
      at: at.toISOString(),
      data: {
        repId: 'sofia',
        teamId: 'emea',
        via: 'manual',
        by: 'ana',
        previousOwner: 'liam',
      },
    });
  });

  it('keeps the status of a lead already in conversation', () => {
    const plan = planReassignment(
      lead({ status: 'working', firstTouchAt: at.toISOString() }),
      ana,
      { repId: 'sofia' },
      config,
      at,
    );
    expect(plan.outcome === 'reassign' && plan.lead.status).toBe('working');
  });

  it('refuses reps, other teams and a manager’s force; lets admins force past capacity', () => {
    expect(() => planReassignment(lead(), liam, { repId: 'sofia' }, config, at)).toThrow(NotAllowedError);
    expect(() => planReassignment(lead(), ana, { repId: 'jordan' }, config, at)).toThrow(
      /reps of your teams/,
    );
    expect(() => planReassignment(lead(), ana, { repId: 'sofia', force: true }, config, at)).toThrow(/force/);
    expect(() => planReassignment(lead(), maya, { repId: 'jordan' }, config, at)).toThrow(LeadNotFoundError);
    const forced = planReassignment(lead(), admin, { repId: 'jordan', force: true }, config, at);
    expect(forced.outcome === 'reassign' && forced.capacity).toBeUndefined();
    expect(forced.outcome === 'reassign' && forced.lead.team).toBe('na');
  });

  it('is a no-op for the current owner and rejects unknown reps', () => {
    expect(planReassignment(lead(), ana, { repId: 'liam' }, config, at).outcome).toBe('unchanged');
    expect(() => planReassignment(lead(), ana, { repId: 'ghost' }, config, at)).toThrow(
      /repId: unknown rep "ghost"/,
    );
  });
});

describe('stale deals', () => {
  const now = new Date('2026-03-20T07:00:00.000Z');

  it('uses the open stages and the configured age', () => {
    expect(openStageIds(config)).toEqual(['discovery', 'demo', 'proposal', 'decision']);
    expect(staleCutoff(config, now).toISOString()).toBe('2026-03-06T07:00:00.000Z');
  });

  it('finds open deals unchanged for staleAfterDays, falls back to the team manager, skips the rest', () => {
    const deals = findStaleDeals(
      [
        lead({ id: 'a', pipelineStage: 'demo', pipelineStageAt: '2026-03-06T07:00:00.000Z' }),
        lead({ id: 'b', pipelineStage: 'proposal', pipelineStageAt: '2026-03-06T07:00:01.000Z' }),
        lead({ id: 'c', pipelineStage: 'won', pipelineStageAt: '2026-01-01T00:00:00.000Z' }),
        lead({
          id: 'd',
          owner: undefined,
          team: 'na',
          pipelineStage: 'decision',
          pipelineStageAt: '2026-02-01T00:00:00.000Z',
        }),
        lead({
          id: 'e',
          owner: undefined,
          team: undefined,
          pipelineStage: 'demo',
          pipelineStageAt: '2026-02-01T00:00:00.000Z',
        }),
      ],
      config,
      now,
    );
    expect(deals.map((d) => [d.lead.id, d.repId, d.pipelineStage, d.daysInStage])).toEqual([
      ['a', 'liam', 'demo', 14],
      ['d', 'maya', 'decision', 47],
    ]);
  });
});
