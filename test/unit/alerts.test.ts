import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Alert, buildAlert } from '../../shared/adapters/alert-messages';
import { asciiSubject } from '../../shared/adapters/alert-topic-message';
import { mrkdwn } from '../../shared/adapters/slack-blocks';
import { loadClientConfig } from '../../shared/config/load';
import type { ClientConfig } from '../../shared/config/schema';
import { type AlertEvent, cleanText, leadUrl, MAX_USER_TEXT } from '../../shared/domain/alerts';
import type { Lead } from '../../shared/domain/lead';
import { parseDetail } from '../../shared/events/catalogue';
import { janeDoeLead } from './jane-doe-lead';

const config: ClientConfig = loadClientConfig('example', 'clients');

const makeLead = (overrides: Record<string, unknown> = {}, profile: Record<string, unknown> = {}): Lead =>
  janeDoeLead(
    {
      score: {
        total: 83,
        fit: 53,
        engagement: 30,
        stage: 'SQL',
        asOf: '2025-11-24T14:45:00.000Z',
        reasons: [
          { ruleId: 'executive', label: 'Executive or VP', kind: 'fit', points: 20 },
          { ruleId: 'demo', label: 'Requested a demo', kind: 'engagement', points: 30 },
          { ruleId: 'free-mail', label: 'Free-mail or disposable address', kind: 'fit', points: -15 },
          { ruleId: 'phone-given', label: 'Gave a phone number', kind: 'fit', points: 3 },
          { ruleId: 'decayed', label: 'Fully decayed', kind: 'engagement', points: 0 },
        ],
      },
      version: 3,
      ...overrides,
    },
    profile,
  );

const assignedEvent = (detail: Record<string, unknown> = {}): AlertEvent => ({
  type: 'Lead Assigned',
  detail: parseDetail('Lead Assigned', {
    leadId: 'lead-1',
    occurredAt: '2025-11-24T14:50:00.000Z',
    repId: 'liam',
    teamId: 'emea',
    ruleId: 'sales-ready',
    via: 'round-robin',
    priority: 'high',
    assignedAt: '2025-11-24T14:50:00.000Z',
    ...detail,
  }),
});

/** Priya's deal in Proposal for 16 days, found stale on 10 December. */
const staleEvent = (detail: Record<string, unknown> = {}): AlertEvent => ({
  type: 'Stale Deal Found',
  detail: parseDetail('Stale Deal Found', {
    leadId: 'lead-1',
    occurredAt: '2025-12-10T07:00:00.000Z',
    repId: 'priya',
    pipelineStage: 'proposal',
    daysInStage: 16,
    ...detail,
  }),
});

const CONSOLE = 'https://console.northwind.example';

function send(event: AlertEvent, lead: Lead = makeLead(), cfg: ClientConfig = config): Alert {
  const plan = buildAlert(event, lead, cfg, { consoleUrl: CONSOLE });
  if (!plan.send) throw new Error(`expected an alert, got: ${plan.reason}`);
  return plan.alert;
}

/** Every `<…>` token Slack would interpret in a message. */
function slackTokens(alert: Alert): string[] {
  const text = JSON.stringify(alert.slack);
  return text.match(/<[^>]*>/g) ?? [];
}

describe('mrkdwn', () => {
  it('escapes &, < and > so no link, mention or special command can be formed', () => {
    expect(mrkdwn('<!channel> & <@U123> <https://evil.example|click>')).toBe(
      '&lt;!channel&gt; &amp; &lt;@U123&gt; &lt;https://evil.example|click&gt;',
    );
  });

  it('breaks plain @here / @channel / @everyone words', () => {
    expect(mrkdwn('ping @here and @Channel')).toBe('ping @\u200bhere and @\u200bChannel');
  });

  it('folds control characters and newlines and bounds the length before escaping', () => {
    expect(mrkdwn('a\nb\tc\u0000d')).toBe('a b c d');
    const long = mrkdwn('&'.repeat(500));
    expect(long.endsWith('…')).toBe(true);
    // Cut before escaping: whole entities only.
    expect(long.replace(/&amp;/g, '')).toBe('…');
    expect(Array.from(cleanText('x'.repeat(1000))).length).toBe(MAX_USER_TEXT);
  });

  it('never outputs a raw < or > or a bare &, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (s) => {
        const out = mrkdwn(s);
        expect(out).not.toMatch(/[<>]/);
        expect(out.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
        expect(Array.from(out.replace(/&(amp|lt|gt);/g, '_')).length).toBeLessThanOrEqual(MAX_USER_TEXT);
      }),
    );
  });
});

describe('asciiSubject', () => {
  it('folds accents and typographic punctuation to ASCII', () => {
    expect(asciiSubject('Zoë Müller – “CTO” at Ça Va…')).toBe('Zoe Muller - "CTO" at Ca Va...');
  });

  it('is printable ASCII, under 100 characters and never empty', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const subject = asciiSubject(s);
        expect(subject.length).toBeGreaterThan(0);
        expect(subject.length).toBeLessThan(100);
        expect(subject).toMatch(/^[\x21-\x7e][\x20-\x7e]*$/);
      }),
    );
  });
});

describe('leadUrl', () => {
  it('puts only the URL-encoded lead id in the client template', () => {
    expect(leadUrl('https://crm.example/leads/{leadId}?tab=activity', 'a b/c?&d')).toBe(
      'https://crm.example/leads/a%20b%2Fc%3F%26d?tab=activity',
    );
  });
});

describe('buildAlert: Lead Assigned', () => {
  it('mentions the owner, shows who, score with top reasons, source, priority, SLA deadline and the link', () => {
    const alert = send(assignedEvent());
    expect(alert.recipientId).toBe('liam');
    expect(alert.priority).toBe('high');
    const [header, intro, fields, reasons, link] = alert.slack.blocks;
    expect(header).toEqual({ type: 'header', text: { type: 'plain_text', text: 'New high-priority lead' } });
    // Liam works 09:00-17:30 in Dublin: 14:50 + 5 minutes = 14:55 UTC.
    const deadline = Date.parse('2025-11-24T14:55:00Z') / 1000;
    expect(intro).toEqual({
      type: 'section',
      text: {
        type: 'mrkdwn',
        verbatim: true,
        text: `<@U04LIAM002>, you have a new lead. First touch due <!date^${deadline}^{date_short_pretty} at {time}|2025-11-24 14:55 Europe/Dublin>.`,
      },
    });
    expect(fields).toEqual({
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: '*Lead*\n*Jane Doe*\nVP Sales at Acme', verbatim: true },
        { type: 'mrkdwn', text: '*Score*\n*83* (SQL; fit 53, engagement 30)', verbatim: true },
        {
          type: 'mrkdwn',
          text: '*Source*\npaid_search via google_ads · campaign _spring-promo_',
          verbatim: true,
        },
        { type: 'mrkdwn', text: '*Owner*\n<@U04LIAM002>', verbatim: true },
        { type: 'mrkdwn', text: '*Priority*\n:red_circle: High', verbatim: true },
        {
          type: 'mrkdwn',
          verbatim: true,
          text: `*SLA deadline*\n<!date^${deadline}^{date_short_pretty} at {time}|2025-11-24 14:55 Europe/Dublin>`,
        },
      ],
    });
    // Top 3 by absolute points; the zero-point reason explains nothing.
    expect(reasons).toEqual({
      type: 'section',
      text: {
        type: 'mrkdwn',
        verbatim: true,
        text: '*Why this score*\n• +30 Requested a demo\n• +20 Executive or VP\n• -15 Free-mail or disposable address',
      },
    });
    expect(link).toEqual({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: '<https://console.northwind.example/#/leads/lead-1|Open the lead>',
        verbatim: true,
      },
    });
    expect(alert.slack.text).toBe("New high-priority lead for Liam O'Connor: Jane Doe");
  });

  it('marks every mrkdwn text verbatim, so a bare URL in a lead field never becomes a link', () => {
    const alert = send(assignedEvent());
    const texts = alert.slack.blocks.flatMap((b) =>
      'fields' in b && b.fields
        ? b.fields
        : b.type === 'context'
          ? b.elements
          : 'text' in b && b.text
            ? [b.text]
            : [],
    );
    const mrkdwnTexts = texts.filter((t) => t.type === 'mrkdwn');
    expect(mrkdwnTexts.length).toBeGreaterThan(3);
    expect(mrkdwnTexts.every((t) => 'verbatim' in t && t.verbatim === true)).toBe(true);
  });

  it('names a rep without a Slack id instead of mentioning them', () => {
    const alert = send(assignedEvent({ repId: 'sofia', priority: 'normal' }));
    expect(JSON.stringify(alert.slack.blocks[1])).toContain('*Sofia Rossi*, you have a new lead.');
    expect(alert.slack.blocks[0]).toMatchObject({ text: { text: 'New lead assigned' } });
  });

  it('says the lead was escalated, from whom, when it comes from the SLA ladder', () => {
    const alert = send(
      assignedEvent({
        repId: 'jordan',
        via: 'escalation',
        previousOwner: 'liam',
        ladderStep: 1,
        assignedAt: '2025-11-24T14:56:00.000Z',
      }),
    );
    expect(alert.slack.blocks[0]).toMatchObject({ text: { text: 'Lead reassigned: SLA missed' } });
    expect(alert.slack.blocks[1]).toMatchObject({
      text: {
        text: '<@U04JORD004>, this lead is yours now: <@U04LIAM002> did not contact it in time (escalation step 1).',
      },
    });
    // Step 1 allows 5 minutes in Jordan's New York hours.
    expect(alert.topic.message).toContain('First touch due: 2025-11-24 10:01 America/New_York');
    expect(alert.topic.attributes).toEqual({ owner: 'jordan', priority: 'high', eventType: 'Lead Assigned' });
  });

  it('builds an SNS message: ASCII subject, text then JSON with ids only, filterable attributes', () => {
    const alert = send(assignedEvent(), makeLead({}, { firstName: 'Zoë', lastName: 'Ünal' }));
    expect(alert.topic.subject).toBe('New high priority lead: Zoe Unal');
    expect(alert.topic.attributes).toEqual({ owner: 'liam', priority: 'high', eventType: 'Lead Assigned' });
    const [text, json] = alert.topic.message.split('\n\n');
    expect(text).toContain("Liam O'Connor, you have a new lead.");
    expect(text).toContain('Lead: Zoë Ünal, VP Sales at Acme');
    expect(text).toContain('Open: https://console.northwind.example/#/leads/lead-1');
    expect(JSON.parse(json ?? '')).toEqual({
      eventType: 'Lead Assigned',
      leadId: 'lead-1',
      recipientId: 'liam',
      priority: 'high',
      score: 83,
      stage: 'SQL',
      leadUrl: 'https://console.northwind.example/#/leads/lead-1',
      via: 'round-robin',
      ladderStep: 0,
      slaDeadline: '2025-11-24T14:55:00.000Z',
    });
  });

  it('shows an unscored lead without reasons', () => {
    const alert = send(assignedEvent(), makeLead({ score: undefined }));
    expect(JSON.stringify(alert.slack)).toContain('_not scored yet_');
    expect(JSON.stringify(alert.slack)).not.toContain('Why this score');
  });
});

describe('buildAlert: hostile input', () => {
  const hostile = makeLead(
    { source: { channel: 'web', provider: 'form', utm: { campaign: '<!here> & <https://x.example|y>' } } },
    {
      firstName: '<script>alert(1)</script>',
      lastName: '<!channel>',
      company: `Smith & Sons <https://evil.example|Click me> ${'ltd '.repeat(38)}`,
      jobTitle: '@everyone boss',
    },
  );

  it('escapes every user value so only the alert’s own tokens reach Slack', () => {
    const alert = send(assignedEvent(), hostile);
    const body = JSON.stringify(alert.slack);
    expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt;');
    expect(body).toContain('Smith &amp; Sons &lt;https://evil.example|Click me&gt;');
    expect(body).toContain('campaign _&lt;!here&gt; &amp; &lt;https://x.example|y&gt;_');
    expect(body).toContain('@\u200beveryone boss');
    expect(body).not.toContain('<script');
    expect(body).not.toContain('<!channel>');
    expect(body).not.toContain('<!here>');
    for (const token of slackTokens(alert))
      expect(token).toMatch(
        /^<(@U[A-Z0-9]+|!date\^\d+\^\{date_short_pretty\} at \{time\}\|[^<>]+|https:\/\/console\.northwind\.example\/#\/leads\/lead-1\|Open the lead)>$/,
      );
  });

  it('bounds long values', () => {
    const alert = send(assignedEvent(), hostile);
    const lead = alert.slack.blocks[2];
    const text = lead?.type === 'section' ? (lead.fields?.[0]?.text ?? '') : '';
    const role = text.split('\n')[2] ?? '';
    expect(role.startsWith('@\u200beveryone boss at Smith &amp; Sons')).toBe(true);
    // The 190-character company is cut to the limit (escaping adds a few characters).
    const company = role.slice(role.indexOf(' at ') + 4);
    expect(company.endsWith('ltd…')).toBe(true);
    const shown = Array.from(company.replace(/&(amp|lt|gt);/g, '_')).length;
    expect(shown).toBeLessThanOrEqual(MAX_USER_TEXT);
    expect(shown).toBeGreaterThan(MAX_USER_TEXT - 5);
    expect(alert.topic.subject.length).toBeLessThan(100);
  });
});

describe('buildAlert: other events', () => {
  it('skips test leads, whether the event or the stored lead says so', () => {
    expect(buildAlert(assignedEvent({ isTest: true }), makeLead(), config)).toEqual({
      send: false,
      reason: 'test lead: never alerted',
    });
    expect(buildAlert(assignedEvent(), makeLead({ isTest: true }), config)).toEqual({
      send: false,
      reason: 'test lead: never alerted',
    });
  });

  const escalated = (detail: Record<string, unknown> = {}): AlertEvent => ({
    type: 'Lead Escalated',
    detail: parseDetail('Lead Escalated', {
      leadId: 'lead-1',
      occurredAt: '2025-11-24T14:56:00.000Z',
      fromRepId: 'liam',
      toRepId: 'jordan',
      ladderStep: 1,
      to: 'teamBackup',
      minutesWithoutContact: 6,
      ...detail,
    }),
  });

  it('leaves a reassigning escalation to its Lead Assigned event (one message per escalation)', () => {
    const plan = buildAlert(escalated(), makeLead(), config);
    expect(plan.send).toBe(false);
  });

  it('alerts the recipient of an escalation step that does not reassign', () => {
    const alertOnly: ClientConfig = {
      ...config,
      sla: { ...config.sla, ladder: [{ to: 'manager', afterMinutes: 10, reassign: false }] },
    };
    const alert = send(
      escalated({ toRepId: 'ana', to: 'manager', minutesWithoutContact: 75 }),
      makeLead(),
      alertOnly,
    );
    expect(alert.recipientId).toBe('ana');
    expect(alert.slack.blocks[1]).toMatchObject({
      text: {
        text: '<@U04ANA0001>, heads-up: <@U04LIAM002> has not contacted this lead for 1 h 15 min (escalation step 1).',
      },
    });
    expect(alert.topic.attributes).toEqual({ owner: 'ana', priority: 'high', eventType: 'Lead Escalated' });
  });

  it('tells the manager about an unworked lead', () => {
    const alert = send(
      {
        type: 'Lead Unworked',
        detail: parseDetail('Lead Unworked', {
          leadId: 'lead-1',
          occurredAt: '2025-11-24T15:13:00.000Z',
          lastOwner: 'jordan',
          managerId: 'ana',
          minutesWithoutContact: 23,
        }),
      },
      makeLead({ status: 'unworked', owner: 'jordan' }),
    );
    expect(alert.recipientId).toBe('ana');
    expect(alert.slack.blocks[0]).toMatchObject({ text: { text: 'Lead went unworked' } });
    expect(alert.slack.blocks[1]).toMatchObject({
      text: {
        text: '<@U04ANA0001>, nobody contacted this lead in 23 min. The escalation ladder has ended; it was last with <@U04JORD004>.',
      },
    });
    expect(alert.topic.subject).toBe('Lead unworked after 23 min: Jane Doe');
    expect(alert.topic.attributes.owner).toBe('ana');
  });

  it('nudges the owner of a stale deal with the stage name and amount', () => {
    const alert = send(
      staleEvent(),
      makeLead({
        status: 'working',
        owner: 'priya',
        pipelineStage: 'proposal',
        amount: 48000,
        priority: 'normal',
      }),
    );
    expect(alert.slack.blocks[1]).toMatchObject({
      text: { text: '<@U04PRIY005>, this deal has been in *Proposal* for 16 days.' },
    });
    expect(JSON.stringify(alert.slack)).toContain('*Amount*\\n€48,000');
    expect(alert.topic.subject).toBe('Stale deal: Jane Doe in Proposal for 16 days');
    expect(alert.topic.attributes).toEqual({
      owner: 'priya',
      priority: 'normal',
      eventType: 'Stale Deal Found',
    });
  });

  it('lists the overdue tasks of a stale deal, and how late each is, in the same message', () => {
    const alert = send(
      staleEvent({
        overdueTasks: [{ id: 't1', title: 'Send the <proposal>', dueAt: '2025-12-09T07:00:00.000Z' }],
      }),
      makeLead({ status: 'working', owner: 'priya', pipelineStage: 'proposal', priority: 'normal' }),
    );
    expect(alert.slack.blocks[1]).toMatchObject({
      text: {
        text: '<@U04PRIY005>, this deal has been in *Proposal* for 16 days.\nIt also has 1 overdue task:\n• Send the &lt;proposal&gt; (24 h overdue)',
      },
    });
    expect(alert.topic.message).toContain('Overdue: Send the <proposal> (due 2025-12-09T07:00:00.000Z)');
  });

  it('tells the owner about overdue tasks on a deal that is not stale', () => {
    const alert = send(
      {
        type: 'Tasks Overdue',
        detail: parseDetail('Tasks Overdue', {
          leadId: 'lead-1',
          occurredAt: '2025-12-10T07:00:00.000Z',
          repId: 'priya',
          pipelineStage: 'demo',
          tasks: [
            { id: 't1', title: 'Send the demo recap and next steps', dueAt: '2025-12-10T06:30:00.000Z' },
            { id: 't2', title: 'Call back', dueAt: '2025-12-07T07:00:00.000Z' },
          ],
        }),
      },
      makeLead({ status: 'working', owner: 'priya', pipelineStage: 'demo', priority: 'normal' }),
    );
    expect(alert.recipientId).toBe('priya');
    expect(alert.slack.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'Overdue tasks on a deal' },
    });
    expect(alert.slack.blocks[1]).toMatchObject({
      text: {
        text: '<@U04PRIY005>, this deal in *Demo* has 2 overdue tasks:\n• Send the demo recap and next steps (30 min overdue)\n• Call back (3 days overdue)',
      },
    });
    expect(alert.topic.attributes).toEqual({
      owner: 'priya',
      priority: 'normal',
      eventType: 'Tasks Overdue',
    });
    // A deal: only "Open", no "Mark contacted".
    expect(JSON.stringify(alert.slack.blocks.at(-1))).not.toContain('lead.contacted');
  });
});

describe('buildAlert: links and buttons', () => {
  it('offers "Mark contacted" (value: the lead id) and "Open" on the console while nobody made contact', () => {
    const alert = send(assignedEvent());
    expect(alert.slack.blocks.at(-1)).toEqual({
      type: 'actions',
      block_id: 'lead-actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Mark contacted' },
          action_id: 'lead.contacted',
          value: 'lead-1',
          style: 'primary',
        },
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Open' },
          action_id: 'lead.open',
          value: 'lead-1',
          url: 'https://console.northwind.example/#/leads/lead-1',
        },
      ],
    });
  });

  it('offers only "Open" once the lead was contacted', () => {
    const alert = send(assignedEvent(), makeLead({ firstTouchAt: '2025-11-24T14:52:00.000Z' }));
    const actions = alert.slack.blocks.find((b) => b.type === 'actions');
    expect(actions && 'elements' in actions ? actions.elements.map((e) => e.text.text) : []).toEqual([
      'Open',
    ]);
  });

  it('opens the lead in the client CRM instead when leadUrlTemplate is set', () => {
    const crm = {
      ...config,
      client: { ...config.client, leadUrlTemplate: 'https://crm.northwind.example/leads/{leadId}' },
    };
    const alert = send(assignedEvent(), makeLead(), crm);
    const text = JSON.stringify(alert.slack.blocks);
    expect(text).toContain('<https://crm.northwind.example/leads/lead-1|Open the lead>');
    expect(text).toContain('"url":"https://crm.northwind.example/leads/lead-1"');
    expect(text).not.toContain('console.northwind.example');
  });

  it('has no link and no Open button without a console or template, but still Mark contacted', () => {
    const plan = buildAlert(assignedEvent(), makeLead(), config);
    if (!plan.send) throw new Error(plan.reason);
    const text = JSON.stringify(plan.alert.slack.blocks);
    expect(text).not.toContain('Open the lead');
    expect(text).not.toContain('lead.open');
    expect(text).toContain('lead.contacted');
  });
});
