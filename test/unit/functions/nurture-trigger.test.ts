import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { EventBridgeEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandler } from '../../../functions/nurture-trigger/handler';
import { SfnExecutionStarter } from '../../../shared/adapters/sla-ladder';
import { loadClientConfig } from '../../../shared/config/load';
import type { Lead } from '../../../shared/domain/lead';
import { activity, eventBridgeEvent, Harness, makeLead } from './pipeline-kit';

const example = loadClientConfig('example', 'clients');
const NOW = new Date('2026-03-05T10:00:00.000Z');
const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Nurture';

const sfn = new SFNClient({ region: 'eu-west-1' });
const sfnMock = mockClient(sfn);
let h: Harness;
let started: Array<{ name?: string; input: Record<string, unknown> }>;

beforeEach(() => {
  h = new Harness();
  sfnMock.reset();
  started = [];
  sfnMock.on(StartExecutionCommand).callsFake(async (input: { name?: string; input?: string }) => {
    if (started.some((s) => s.name === input.name))
      throw Object.assign(new Error('exists'), { name: 'ExecutionAlreadyExists' });
    started.push({ name: input.name, input: JSON.parse(input.input ?? '{}') });
    return { executionArn: `${MACHINE}:${input.name}`, startDate: NOW };
  });
});
afterEach(() => h.restore());

const handler = () =>
  createHandler({
    store: h.repository,
    starter: new SfnExecutionStarter(MACHINE, sfn),
    config: example,
    now: () => NOW,
  });
const pageView = () =>
  eventBridgeEvent('Activity Recorded', {
    leadId: 'lead-1',
    occurredAt: NOW.toISOString(),
    isTest: false,
    activityId: 'pv',
    type: 'page_view',
  }) as unknown as EventBridgeEvent<string, unknown>;
const nurtured = (overrides: Partial<Lead> = {}) =>
  makeLead({ status: 'nurturing', nurtureSequence: 'education', ...overrides });
const visit = (at: string, path = '/pricing') => activity('lead-1', 'page_view', at, { path }, `pv-${at}`);

describe('nurture triggers', () => {
  it('moves a lead who visited pricing twice in a week to the pricing sequence and starts it once', async () => {
    h.table.putLead(nurtured());
    h.table.putActivities([
      visit('2026-03-01T10:00:00.000Z'),
      visit('2026-03-05T09:00:00.000Z', '/pricing/teams'),
    ]);
    await handler()(pageView());
    await handler()(pageView()); // a redelivery
    expect(started).toEqual([
      {
        name: 'lead-1-trigger-pricing-twice',
        input: {
          leadId: 'lead-1',
          occurredAt: NOW.toISOString(),
          isTest: false,
          sequenceId: 'pricing-questions',
          ruleId: 'trigger:pricing-twice',
        },
      },
    ]);
    expect((await h.repository.getLead('lead-1'))?.nurtureSequence).toBe('pricing-questions');
  });

  it.each<[string, Partial<Lead>, string[]]>([
    ['one visit only', {}, ['2026-03-05T09:00:00.000Z']],
    ['visits more than a week apart', {}, ['2026-02-20T09:00:00.000Z', '2026-03-05T09:00:00.000Z']],
    [
      'a lead sales owns',
      { status: 'assigned', owner: 'ana' },
      ['2026-03-04T09:00:00.000Z', '2026-03-05T09:00:00.000Z'],
    ],
  ])('starts nothing for %s', async (_name, overrides, visits) => {
    h.table.putLead(nurtured(overrides));
    h.table.putActivities(visits.map((at) => visit(at)));
    await handler()(pageView());
    expect(started).toEqual([]);
  });

  it('starts nothing for a lead who booked a meeting', async () => {
    h.table.putLead(nurtured());
    h.table.putActivities([
      visit('2026-03-04T09:00:00.000Z'),
      visit('2026-03-05T09:00:00.000Z'),
      activity('lead-1', 'meeting_booked', '2026-03-04T12:00:00.000Z'),
    ]);
    await handler()(pageView());
    expect(started).toEqual([]);
  });
});
