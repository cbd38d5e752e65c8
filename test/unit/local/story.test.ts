import { describe, expect, it } from 'vitest';
import type { BusEvent } from '../../../local/event-bus';
import { LeadStory } from '../../../local/story';
import { loadClientConfig } from '../../../shared/config/load';

const config = loadClientConfig('example', 'clients');
const event = (detailType: string, detail: Record<string, unknown>, source = 'lead-pipeline'): BusEvent => ({
  version: '0',
  id: 'e',
  'detail-type': detailType,
  source,
  account: '000000000000',
  time: '2026-03-02T10:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail,
});

describe('the terminal story of a lead', () => {
  it('prints one growing line per lead event, in sales words', () => {
    const lines: string[] = [];
    const story = new LeadStory(config, (l) => lines.push(l.slice(9)));
    const leadId = 'abcdef12-3456';
    story.onEvent(event('Lead Captured', { leadId, provider: 'form', channel: 'paid_search' }));
    story.onEvent(event('Lead Enriched', { leadId }));
    story.onEvent(event('Lead Scored', { leadId, total: 72, stage: 'SQL' }));
    story.onEvent(event('Lead Assigned', { leadId, repId: 'ana', teamId: 'emea', via: 'round-robin' }));
    story.onAlert('slack', { path: '/slack/x', body: { text: `lead ${leadId}` }, at: '' });
    story.onEvent(event('Lead Contacted', { leadId, repId: 'ana', secondsToFirstTouch: 192 }));
    expect(lines).toEqual([
      'lead abcdef12  captured (form, paid_search)',
      'lead abcdef12  captured (form, paid_search) → scored 72 SQL',
      'lead abcdef12  captured (form, paid_search) → scored 72 SQL → assigned to Ana Schmidt (EMEA round-robin)',
      'lead abcdef12  captured (form, paid_search) → scored 72 SQL → assigned to Ana Schmidt (EMEA round-robin) → alerted on Slack',
      'lead abcdef12  captured (form, paid_search) → scored 72 SQL → assigned to Ana Schmidt (EMEA round-robin) → alerted on Slack → contacted after 3m12s',
    ]);
  });

  it('says where a booked meeting came from', () => {
    const lines: string[] = [];
    const story = new LeadStory(config, (l) => lines.push(l.slice(9)));
    story.onEvent(event('Meeting Booked', { leadId: 'l-3', provider: 'calendly', via: 'instant-offer' }));
    story.onEvent(event('Meeting Canceled', { leadId: 'l-3', provider: 'calendly' }));
    expect(lines.at(-1)).toBe(
      'lead l-3  meeting booked (calendly, instant offer) → meeting cancelled (calendly)',
    );
  });

  it('shows deliveries and bounces from SES but not the email activities that mirror them', () => {
    const lines: string[] = [];
    const story = new LeadStory(config, (l) => lines.push(l.slice(9)));
    const mail = { mail: { tags: { lead_id: ['l-1'], kind: ['nurture'] } } };
    story.onEvent(event('Email Sent', mail, 'aws.ses'));
    story.onEvent(event('Email Delivered', mail, 'aws.ses'));
    story.onEvent(event('Activity Recorded', { leadId: 'l-1', type: 'email_delivered' }));
    story.onEvent(event('Email Bounced', mail, 'aws.ses'));
    expect(lines).toEqual(['lead l-1  emailed (nurture)', 'lead l-1  emailed (nurture) → email bounced']);
  });

  it('prints a failed SLA or nurture execution on the lead’s line, and one without a lead on its own', () => {
    const lines: string[] = [];
    const story = new LeadStory(config, (l) => lines.push(l.slice(9)));
    const base = {
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:example-SlaWorkflowStateMachine',
      startDate: new Date(),
    };
    story.onEvent(event('Lead Captured', { leadId: 'l-2', provider: 'form' }));
    story.onExecution({
      ...base,
      executionArn: 'arn:x:1',
      name: '1',
      input: { leadId: 'l-2' },
      status: 'SUCCEEDED',
    });
    story.onExecution({
      ...base,
      executionArn: 'arn:x:2',
      name: '2',
      input: { leadId: 'l-2' },
      status: 'FAILED',
      error: 'States.Timeout',
      cause: 'Task timed out',
    });
    story.onExecution({
      ...base,
      stateMachineArn:
        'arn:aws:states:us-east-1:000000000000:stateMachine:example-NurtureWorkflowStateMachine',
      executionArn: 'arn:x:3',
      name: 'n-3',
      input: {},
      status: 'FAILED',
      error: 'UnknownNurtureOutcome',
    });
    expect(lines).toEqual([
      'lead l-2  captured (form)',
      'lead l-2  captured (form) → SLA ladder FAILED (States.Timeout: Task timed out)',
      'execution n-3  nurture FAILED (UnknownNurtureOutcome)',
    ]);
  });
});
