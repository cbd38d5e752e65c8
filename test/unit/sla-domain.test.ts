import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadClientConfig } from '../../shared/config/load';
import type { ClientConfig, Rep, SlaPolicy } from '../../shared/config/schema';
import type { Lead } from '../../shared/domain/lead';
import {
  assessLead,
  assignmentDeadline,
  CONTACTED_STATUSES,
  exhaustedTimer,
  firstTimer,
  minutesWithoutContact,
  type SlaTimer,
  SlaTimerSchema,
  slaDeadline,
  stepMinutes,
  timerAfterEscalation,
  waitTimestamp,
  wasContacted,
} from '../../shared/domain/sla';
import { isWithinWorkingHours } from '../../shared/domain/working-hours';

const config: ClientConfig = loadClientConfig('example', 'clients');
const policy: SlaPolicy = config.sla;
const rep = (id: string): Rep => {
  const r = config.reps.find((x) => x.id === id);
  if (!r) throw new Error(`no rep ${id}`);
  return r;
};
const liam = rep('liam'); // Europe/Dublin, mon-fri 09:00-17:30
const jordan = rep('jordan'); // America/New_York, mon-fri 06:00-14:30

const timer = (t: Partial<SlaTimer> = {}): SlaTimer => ({
  waitUntil: '2025-11-24T14:55:00Z',
  ladderStep: 0,
  owner: 'liam',
  assignedAt: '2025-11-24T14:50:00.000Z',
  involved: ['liam'],
  exhausted: false,
  ...t,
});

type LeadState = Pick<Lead, 'firstTouchAt' | 'status' | 'owner' | 'assignedAt'>;
const lead = (l: Partial<LeadState> = {}): LeadState => ({
  status: 'assigned',
  owner: 'liam',
  assignedAt: '2025-11-24T14:50:00.000Z',
  ...l,
});

describe('slaDeadline', () => {
  it('counts only working minutes across a weekend when the client respects working hours', () => {
    // Friday 28 Nov 2025, 17:28 in Dublin (UTC+0): 2 minutes left on Friday, 3 more on Monday.
    const deadline = slaDeadline(policy, liam, new Date('2025-11-28T17:28:00Z'), 5);
    expect(deadline.toISOString()).toBe('2025-12-01T09:03:00.000Z');
  });

  it('starts counting at the next shift when assigned at night', () => {
    // Saturday 22:00 New York: the clock starts Monday 06:00 EST (11:00 UTC).
    const deadline = slaDeadline(policy, jordan, new Date('2025-11-30T03:00:00Z'), 5);
    expect(deadline.toISOString()).toBe('2025-12-01T11:05:00.000Z');
  });

  it('uses wall-clock minutes when working hours are not respected', () => {
    const deadline = slaDeadline({ respectWorkingHours: false }, liam, new Date('2025-11-28T17:28:00Z'), 5);
    expect(deadline.toISOString()).toBe('2025-11-28T17:33:00.000Z');
  });

  it('uses wall-clock minutes for a rep who is no longer configured', () => {
    const deadline = slaDeadline(policy, undefined, new Date('2025-11-29T10:00:00Z'), 10);
    expect(deadline.toISOString()).toBe('2025-11-29T10:10:00.000Z');
  });

  it('never ends before it starts, and inside a long enough shift is exactly from + minutes', () => {
    const start = Date.parse('2025-01-01T00:00:00Z');
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 365 * 24 * 60 }),
        fc.integer({ min: 1, max: 600 }),
        (offsetMinutes, minutes) => {
          const from = new Date(start + offsetMinutes * 60_000);
          const deadline = slaDeadline(policy, liam, from, minutes);
          expect(deadline.getTime()).toBeGreaterThanOrEqual(from.getTime() + minutes * 60_000);
          const end = new Date(from.getTime() + minutes * 60_000 - 1);
          if (
            isWithinWorkingHours(liam.workingHours, liam.timezone, from) &&
            isWithinWorkingHours(liam.workingHours, liam.timezone, end)
          ) {
            expect(deadline.getTime()).toBe(from.getTime() + minutes * 60_000);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('stepMinutes and assignmentDeadline', () => {
  it('gives the first-touch allowance at step 0 and each ladder step its own afterMinutes', () => {
    expect(stepMinutes(policy, 0)).toBe(5);
    expect(stepMinutes(policy, 1)).toBe(5);
    expect(stepMinutes(policy, 2)).toBe(10);
    expect(stepMinutes(policy, 7)).toBe(10);
  });

  it('computes the deadline of an escalated assignment with that step allowance', () => {
    const d = assignmentDeadline(policy, jordan, new Date('2025-11-24T15:00:00Z'), 2);
    expect(d.toISOString()).toBe('2025-11-24T15:10:00.000Z');
  });
});

describe('firstTimer', () => {
  it('starts the ladder at step 0 with the owner as the only rep involved', () => {
    const t = firstTimer(policy, liam, { repId: 'liam', assignedAt: '2025-11-24T14:50:00.000Z' });
    expect(t).toEqual({
      waitUntil: '2025-11-24T14:55:00Z',
      ladderStep: 0,
      owner: 'liam',
      assignedAt: '2025-11-24T14:50:00.000Z',
      involved: ['liam'],
      exhausted: false,
    });
    expect(SlaTimerSchema.parse(t)).toEqual(t);
  });
});

describe('timerAfterEscalation', () => {
  it('hands the clock to the new owner when the step reassigns', () => {
    const at = new Date('2025-11-24T14:56:00Z');
    const t = timerAfterEscalation(
      policy,
      timer(),
      { ladderStep: 1, to: 'jordan', at, reassign: true },
      jordan,
    );
    expect(t).toEqual({
      waitUntil: '2025-11-24T15:01:00Z',
      ladderStep: 1,
      owner: 'jordan',
      assignedAt: '2025-11-24T14:56:00.000Z',
      involved: ['liam', 'jordan'],
      exhausted: false,
    });
  });

  it('keeps the owner but remembers the recipient when the step only alerts', () => {
    const at = new Date('2025-11-24T14:56:00Z');
    const t = timerAfterEscalation(
      policy,
      timer(),
      { ladderStep: 1, to: 'ana', at, reassign: false },
      rep('ana'),
    );
    expect(t.owner).toBe('liam');
    expect(t.assignedAt).toBe('2025-11-24T14:50:00.000Z');
    expect(t.involved).toEqual(['liam', 'ana']);
    expect(t.ladderStep).toBe(1);
  });
});

describe('assessLead', () => {
  it('ends the ladder when the lead was touched', () => {
    expect(assessLead(lead({ firstTouchAt: '2025-11-24T14:52:00.000Z' }), timer(), policy).outcome).toBe(
      'contacted',
    );
    for (const status of CONTACTED_STATUSES)
      expect(assessLead(lead({ status }), timer(), policy).outcome).toBe('contacted');
  });

  it('closes when the lead was erased, reassigned by hand, re-assigned later or taken off sales', () => {
    expect(assessLead(undefined, timer(), policy)).toEqual({
      outcome: 'closed',
      reason: 'the lead no longer exists',
    });
    expect(assessLead(lead({ owner: 'ana' }), timer(), policy).outcome).toBe('closed');
    expect(assessLead(lead({ assignedAt: '2025-11-24T15:30:00.000Z' }), timer(), policy).outcome).toBe(
      'closed',
    );
    expect(assessLead(lead({ status: 'nurturing', owner: 'liam' }), timer(), policy).outcome).toBe('closed');
    expect(assessLead(lead({ status: 'unworked' }), timer(), policy).outcome).toBe('closed');
  });

  it('treats the same instant written differently as the same assignment', () => {
    expect(assessLead(lead({ assignedAt: '2025-11-24T14:50:00Z' }), timer(), policy).outcome).toBe(
      'escalate',
    );
  });

  it('escalates while ladder steps remain, then ends unworked', () => {
    expect(assessLead(lead(), timer({ ladderStep: 0 }), policy).outcome).toBe('escalate');
    expect(assessLead(lead(), timer({ ladderStep: 1 }), policy).outcome).toBe('escalate');
    expect(assessLead(lead(), timer({ ladderStep: 2 }), policy)).toEqual({
      outcome: 'unworked',
      reason: 'all 2 ladder steps passed without contact',
    });
    expect(assessLead(lead(), exhaustedTimer(timer(), new Date()), policy).outcome).toBe('unworked');
  });
});

describe('helpers', () => {
  it('wasContacted reads firstTouchAt and the status', () => {
    expect(wasContacted({ status: 'assigned' })).toBe(false);
    expect(wasContacted({ status: 'assigned', firstTouchAt: '2025-11-24T14:52:00.000Z' })).toBe(true);
    expect(wasContacted({ status: 'working' })).toBe(true);
  });

  it('minutesWithoutContact counts whole minutes and never goes negative', () => {
    expect(minutesWithoutContact('2025-11-24T14:50:00.000Z', new Date('2025-11-24T15:02:59Z'))).toBe(12);
    expect(minutesWithoutContact('2025-11-24T14:50:00.000Z', new Date('2025-11-24T14:40:00Z'))).toBe(0);
  });

  it('waitTimestamp writes whole seconds with Z, rounding up so a check never runs early', () => {
    expect(waitTimestamp(new Date('2025-11-24T14:55:00.000Z'))).toBe('2025-11-24T14:55:00Z');
    expect(waitTimestamp(new Date('2025-11-24T14:55:00.001Z'))).toBe('2025-11-24T14:55:01Z');
    expect(SlaTimerSchema.shape.waitUntil.parse('2025-11-24T14:55:01Z')).toBe('2025-11-24T14:55:01Z');
  });

  it('exhaustedTimer fires at once and marks the ladder exhausted', () => {
    const now = new Date('2025-11-24T15:00:00Z');
    expect(exhaustedTimer(timer({ ladderStep: 1 }), now)).toMatchObject({
      waitUntil: '2025-11-24T15:00:00Z',
      ladderStep: 1,
      exhausted: true,
    });
  });
});
