import { describe, expect, it } from 'vitest';
import { loadClientConfig } from '../../shared/config/load';
import type { NurtureSequence } from '../../shared/config/schema';
import type { Activity, Lead } from '../../shared/domain/lead';
import { type ExitCheckInput, nurtureExitReason, waitSeconds } from '../../shared/domain/nurture';

const config = loadClientConfig('example', 'clients');
const sequences = config.nurture.sequences;

function lead(overrides: Partial<Lead> = {}): Lead {
  return {
    id: 'lead-1',
    createdAt: '2026-03-01T09:00:00.000Z',
    updatedAt: '2026-03-01T09:00:00.000Z',
    profile: {
      email: 'jane@acme.example',
      dedupeKey: 'jane@acme.example',
      firstName: 'Jane',
      isFreeMail: false,
      isDisposable: false,
      extra: {},
      droppedFields: [],
    },
    source: { channel: 'web', provider: 'form', utm: {} },
    consent: { marketing: true, at: '2026-03-01T09:00:00.000Z', via: 'form' },
    isTest: false,
    status: 'nurturing',
    stage: 'lead',
    priority: 'normal',
    nurtureSequence: 'education',
    unsubscribed: false,
    version: 2,
    ...overrides,
  };
}

function input(overrides: Partial<ExitCheckInput> = {}): ExitCheckInput {
  return {
    lead: lead(),
    suppressed: false,
    activities: [],
    sequenceId: 'education',
    consentMode: 'consent-required',
    pipelineStages: config.pipeline.stages,
    ...overrides,
  };
}

const activity = (type: Activity['type']): Pick<Activity, 'type'> => ({ type });

describe('waitSeconds', () => {
  it('rounds fractional hours and never waits a negative time', () => {
    expect(waitSeconds(0.5)).toBe(1800);
    expect(waitSeconds(1 / 7)).toBe(514);
    expect(waitSeconds(0)).toBe(0);
    expect(waitSeconds(-1)).toBe(0);
  });
});

describe('nurtureExitReason', () => {
  it('lets a consenting, unowned lead in the sequence through', () => {
    expect(nurtureExitReason(input())).toBeUndefined();
  });

  it.each<[string, Partial<ExitCheckInput>, string]>([
    ['a test lead', { lead: lead({ isTest: true }) }, 'test-lead'],
    ['no address', { lead: lead({ profile: { ...lead().profile, email: undefined } }) }, 'no-email'],
    ['unsubscribed', { lead: lead({ unsubscribed: true }) }, 'unsubscribed'],
    ['a suppressed address', { suppressed: true }, 'suppressed'],
    ['converted', { lead: lead({ status: 'converted' }) }, 'converted'],
    ['a customer', { lead: lead({ stage: 'customer' }) }, 'converted'],
    ['a won opportunity', { lead: lead({ pipelineStage: 'won' }) }, 'converted'],
    ['disqualified', { lead: lead({ status: 'disqualified' }) }, 'lost'],
    ['a lost opportunity', { lead: lead({ pipelineStage: 'lost' }) }, 'lost'],
    ['a lost reason', { lead: lead({ lostReason: 'No budget' }) }, 'lost'],
    ['SQL', { lead: lead({ stage: 'SQL' }) }, 'sales-ready'],
    ['an opportunity', { lead: lead({ stage: 'opportunity' }) }, 'sales-ready'],
    ['an owner', { lead: lead({ owner: 'ana' }) }, 'assigned'],
    ['held for a team', { lead: lead({ status: 'held' }) }, 'assigned'],
    ['a reply', { activities: [activity('email_opened'), activity('email_replied')] }, 'replied'],
    ['a booked meeting', { activities: [activity('meeting_booked')] }, 'meeting-booked'],
    ['another sequence', { lead: lead({ nurtureSequence: 're-engage' }) }, 'moved-sequence'],
    ['no consent record', { lead: lead({ consent: undefined }) }, 'no-consent'],
    [
      'withdrawn consent',
      { lead: lead({ consent: { marketing: false, at: '2026-03-01T09:00:00.000Z', via: 'form' } }) },
      'no-consent',
    ],
  ])('stops for %s', (_name, overrides, reason) => {
    expect(nurtureExitReason(input(overrides))).toBe(reason);
  });

  it('in opt-out mode sends without a consent record but not after consent was withdrawn', () => {
    expect(
      nurtureExitReason(input({ consentMode: 'opt-out', lead: lead({ consent: undefined }) })),
    ).toBeUndefined();
    expect(
      nurtureExitReason(
        input({
          consentMode: 'opt-out',
          lead: lead({ consent: { marketing: false, at: '2026-03-01T09:00:00.000Z', via: 'form' } }),
        }),
      ),
    ).toBe('no-consent');
  });

  it('names the most certain reason first when several hold', () => {
    expect(
      nurtureExitReason(
        input({ lead: lead({ unsubscribed: true, owner: 'ana', consent: undefined }), suppressed: true }),
      ),
    ).toBe('unsubscribed');
  });

  it('ignores engagement that does not mean a conversation', () => {
    const activities = ['email_opened', 'email_clicked', 'page_view', 'email_delivered'].map((t) =>
      activity(t as Activity['type']),
    );
    expect(nurtureExitReason(input({ activities }))).toBeUndefined();
  });
});
