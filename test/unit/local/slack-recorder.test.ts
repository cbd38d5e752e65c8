import { describe, expect, it } from 'vitest';
import { type SlackRecord, slackRecorderPage } from '../../../local/slack-recorder';

const alert = (text: string) => ({
  text: 'New lead',
  blocks: [
    { type: 'section', text: { type: 'mrkdwn', text } },
    {
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: 'lead.contacted',
          value: 'lead-1',
          text: { type: 'plain_text', text: 'Mark contacted' },
        },
        {
          type: 'button',
          action_id: 'lead.open',
          value: 'lead-1',
          url: 'http://127.0.0.1:3001/#/leads/lead-1',
          text: { type: 'plain_text', text: 'Open' },
        },
      ],
    },
  ],
});

describe('the Slack recorder page', () => {
  it('draws each alert with its buttons, offering the members it mentions as the presser', () => {
    const records: SlackRecord[] = [
      {
        path: '/slack/T/B/x',
        body: alert('<@U04LIAM002>, you have a new lead.'),
        at: '2026-03-02T08:00:00Z',
      },
    ];
    const html = slackRecorderPage(records);
    expect(html).toContain(
      '<button type="button" data-record="0" data-action="lead.contacted">Mark contacted</button>',
    );
    expect(html).toContain('<a class="button" href="http://127.0.0.1:3001/#/leads/lead-1"');
    expect(html).toContain('<option>U04LIAM002</option>');
  });

  it('shows the replacement after a press, without buttons, and the ephemeral replies', () => {
    const record: SlackRecord = {
      path: '/slack/T/B/x',
      body: alert('<@U04LIAM002>, you have a new lead.'),
      at: '2026-03-02T08:00:00Z',
      replacedBy: {
        text: 'Contacted',
        blocks: [
          { type: 'context', elements: [{ type: 'mrkdwn', text: 'made contact 3 min after capture' }] },
        ],
      },
      ephemeral: [{ text: 'Only the owner may' }],
    };
    const html = slackRecorderPage([record]);
    expect(html).toContain('id="message-0" class="updated"');
    expect(html).toContain('made contact 3 min after capture');
    expect(html).toContain('Only you can see this: Only the owner may');
    expect(html).not.toContain('data-action="lead.contacted"');
  });

  it('escapes what the messages carry', () => {
    const html = slackRecorderPage([
      { path: '/slack/T/B/x', body: alert('<script>alert(1)</script> & "x"'), at: '2026-03-02T08:00:00Z' },
    ]);
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;');
  });
});
