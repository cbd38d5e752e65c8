import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
});

import { createHandler } from '../../../functions/slack-actions/handler';
import { SchedulerSlaClock } from '../../../shared/adapters/sla-ladder';
import { SlackRequestLog } from '../../../shared/adapters/slack-requests';
import type { Lead } from '../../../shared/domain/lead';
import { slaExecutionName } from '../../../shared/domain/sla';
import { slackSignature, verifySlackSignature } from '../../../shared/domain/slack-actions';
import { config, LeadsHarness, makeLead, SLA_SCHEDULE_GROUP, slaExecution, TABLE } from './leads-kit';

const SECRET = 'slack-signing-secret-for-tests';
// Captured 08:00:00, assigned to liam at 08:00:05; the press comes at 08:03:30.
const NOW = new Date('2026-03-02T08:03:30.000Z');
const TS = String(Math.floor(NOW.getTime() / 1000));
const ASSIGNED_AT = '2026-03-02T08:00:05.000Z';
const LIAM = 'U04LIAM002';
const ANA = 'U04ANA0001'; // manager of emea
const MAYA = 'U04MAYA003'; // manager of na
const JORDAN = 'U04JORD004'; // a rep of na

const ORIGINAL = {
  text: 'New lead for Liam',
  blocks: [
    { type: 'header', text: { type: 'plain_text', text: 'New high-priority lead' } },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: '<@U04LIAM002>, you have a new lead.', verbatim: true },
    },
    {
      type: 'actions',
      block_id: 'lead-actions',
      elements: [
        {
          type: 'button',
          action_id: 'lead.contacted',
          value: 'lead-1',
          text: { type: 'plain_text', text: 'Mark contacted' },
        },
      ],
    },
  ],
};

function payload(userId: string, actionId = 'lead.contacted', value = 'lead-1') {
  return {
    type: 'block_actions',
    user: { id: userId, name: userId.toLowerCase() },
    team: { id: 'T0001' },
    actions: [{ type: 'button', action_id: actionId, value, block_id: 'lead-actions', action_ts: TS }],
    response_url: 'https://hooks.slack.com/actions/T0001/123/abc',
    message: ORIGINAL,
  };
}

function request(body: string, headers: Record<string, string>) {
  return {
    version: '2.0',
    routeKey: 'POST /slack/actions',
    rawPath: '/slack/actions',
    rawQueryString: '',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: Buffer.from(body).toString('base64'),
    isBase64Encoded: true,
    requestContext: {},
  } as never;
}

/** A request signed the way Slack signs it. */
function signed(userId: string, options: { timestamp?: string; actionId?: string; secret?: string } = {}) {
  const body = `payload=${encodeURIComponent(JSON.stringify(payload(userId, options.actionId)))}`;
  const timestamp = options.timestamp ?? TS;
  return request(body, {
    'x-slack-request-timestamp': timestamp,
    'x-slack-signature': slackSignature(options.secret ?? SECRET, timestamp, body),
  });
}

let h: LeadsHarness;
let responses: Array<{ url: string; message: Record<string, unknown> }>;

function handler(secret = SECRET) {
  return createHandler({
    leads: {
      store: h.repository,
      publisher: h.publisher,
      sla: new SchedulerSlaClock(SLA_SCHEDULE_GROUP, config.sla.ladder.length, h.schedulerClient),
      config,
      now: () => NOW,
    },
    signingSecret: async () => secret,
    requests: new SlackRequestLog(TABLE, h.docClient),
    responder: {
      respond: async (url, message) => {
        responses.push({ url, message });
      },
    },
    now: () => NOW,
  });
}

async function seed(overrides: Partial<Lead> = {}) {
  await h.seed(
    makeLead({
      id: 'lead-1',
      status: 'assigned',
      owner: 'liam',
      team: 'emea',
      assignedAt: ASSIGNED_AT,
      ...overrides,
    }),
  );
}

const contactEvents = () => h.published.filter((p) => p.detailType === 'Lead Contacted');

beforeEach(() => {
  h = new LeadsHarness();
  responses = [];
});
afterEach(() => h.restore());

describe('verifySlackSignature', () => {
  const body = 'payload=%7B%7D';
  const good = slackSignature(SECRET, TS, body);

  it("accepts Slack's v0 HMAC of v0:timestamp:body", () => {
    // The example from Slack's documentation, recomputed: the format is v0= and 64 hex digits.
    expect(good).toMatch(/^v0=[0-9a-f]{64}$/);
    expect(
      verifySlackSignature({ signingSecret: SECRET, timestamp: TS, signature: good, body, now: NOW }),
    ).toBeUndefined();
  });

  it('refuses another secret, another body, a truncated signature and missing headers', () => {
    const check = (signature: string | undefined, b = body, timestamp: string | undefined = TS) =>
      verifySlackSignature({ signingSecret: SECRET, timestamp, signature, body: b, now: NOW });
    expect(check(slackSignature('another-secret', TS, body))).toBe('mismatch');
    expect(check(good, `${body}&x=1`)).toBe('mismatch');
    expect(check(good.slice(0, -2))).toBe('mismatch');
    expect(check(undefined)).toBe('missing');
    expect(check(good, body, '')).toBe('missing');
    expect(check(good, body, 'soon')).toBe('missing');
  });

  it('refuses a timestamp more than five minutes away, either way, even correctly signed', () => {
    for (const offset of [-301, 301]) {
      const timestamp = String(Number(TS) + offset);
      const signature = slackSignature(SECRET, timestamp, body);
      expect(verifySlackSignature({ signingSecret: SECRET, timestamp, signature, body, now: NOW })).toBe(
        'stale',
      );
    }
    const edge = String(Number(TS) - 300);
    expect(
      verifySlackSignature({
        signingSecret: SECRET,
        timestamp: edge,
        signature: slackSignature(SECRET, edge, body),
        body,
        now: NOW,
      }),
    ).toBeUndefined();
  });
});

describe('POST /slack/actions', () => {
  it('marks the lead contacted for its owner: the SLA stops, the alert says who and how fast', async () => {
    await seed();
    const answer = await handler()(signed(LIAM));
    expect(answer).toMatchObject({ statusCode: 200, body: '' });
    const lead = await h.repository.requireLead('lead-1');
    expect(lead).toMatchObject({ status: 'contacted', firstTouchAt: NOW.toISOString() });
    expect(contactEvents().map((p) => p.detail)).toEqual([
      expect.objectContaining({ leadId: 'lead-1', repId: 'liam', secondsToFirstTouch: 210 }),
    ]);
    expect(h.stopped.map((s) => s.executionArn)).toEqual([
      slaExecution(slaExecutionName('lead-1', ASSIGNED_AT)),
    ]);
    expect(responses).toHaveLength(1);
    const [response] = responses;
    expect(response?.url).toBe('https://hooks.slack.com/actions/T0001/123/abc');
    expect(response?.message).toMatchObject({
      replace_original: true,
      text: 'Contacted 3 min after capture',
    });
    const blocks = response?.message.blocks as Array<{ type: string; elements?: Array<{ text: string }> }>;
    // The buttons are gone; the rest of the alert stays, with a line saying who and how fast.
    expect(blocks.map((b) => b.type)).toEqual(['header', 'section', 'context']);
    expect(blocks.at(-1)?.elements?.[0]?.text).toBe(
      ':white_check_mark: <@U04LIAM002> made contact 3 min after capture.',
    );
  });

  it('records one contact on a double click (two distinct signed presses)', async () => {
    await seed();
    await handler()(signed(LIAM));
    const second = signed(LIAM, { timestamp: String(Number(TS) + 1) });
    expect(await handler()(second)).toMatchObject({ statusCode: 200 });
    expect(contactEvents()).toHaveLength(1);
    expect(responses.at(-1)?.message).toMatchObject({ text: 'Already contacted, 3 min after capture' });
  });

  it("lets a manager of the lead's team mark it contacted, credited to them", async () => {
    await seed();
    await handler()(signed(ANA));
    expect(contactEvents().map((p) => p.detail)).toEqual([expect.objectContaining({ repId: 'ana' })]);
  });

  it('refuses, ephemerally, another rep and a manager of another team; the lead is unchanged', async () => {
    await seed();
    for (const user of [JORDAN, MAYA]) {
      expect(await handler()(signed(user))).toMatchObject({ statusCode: 200 });
    }
    expect(responses.map((r) => r.message)).toEqual([
      expect.objectContaining({
        response_type: 'ephemeral',
        replace_original: false,
        text: expect.stringMatching(/Only the lead's owner or a manager/),
      }),
      expect.objectContaining({ response_type: 'ephemeral', replace_original: false }),
    ]);
    expect((await h.repository.requireLead('lead-1')).firstTouchAt).toBeUndefined();
    expect(contactEvents()).toEqual([]);
  });

  it('refuses a Slack member the client file does not map to a rep', async () => {
    await seed();
    await handler()(signed('U999STRANGER'));
    expect(responses[0]?.message).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringMatching(/slackUserId/),
    });
    expect((await h.repository.requireLead('lead-1')).firstTouchAt).toBeUndefined();
  });

  it('answers 401 to a bad signature, a stale timestamp and a replay, and changes nothing', async () => {
    await seed();
    expect(await handler()(signed(LIAM, { secret: 'not-the-secret' }))).toMatchObject({ statusCode: 401 });
    expect(await handler()(signed(LIAM, { timestamp: String(Number(TS) - 600) }))).toMatchObject({
      statusCode: 401,
    });
    expect((await h.repository.requireLead('lead-1')).firstTouchAt).toBeUndefined();

    const press = signed(LIAM);
    expect(await handler()(press)).toMatchObject({ statusCode: 200 });
    expect(await handler()(press)).toMatchObject({ statusCode: 401 });
    expect(responses).toHaveLength(1);
  });

  it('answers 401 while no signing secret is configured', async () => {
    await seed();
    expect(await handler('')(signed(LIAM))).toMatchObject({ statusCode: 401 });
  });

  it('answers 400 naming the field of a malformed payload', async () => {
    const body = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: {}, actions: [] }))}`;
    const answer = await handler()(
      request(body, {
        'x-slack-request-timestamp': TS,
        'x-slack-signature': slackSignature(SECRET, TS, body),
      }),
    );
    expect(answer).toMatchObject({ statusCode: 400 });
    expect(JSON.parse(String((answer as { body: string }).body)).fields[0].field).toMatch(/^payload\./);
  });

  it('acknowledges "Open" (a link button) without touching the lead', async () => {
    await seed();
    expect(await handler()(signed(LIAM, { actionId: 'lead.open' }))).toMatchObject({ statusCode: 200 });
    expect((await h.repository.requireLead('lead-1')).firstTouchAt).toBeUndefined();
    expect(responses).toEqual([]);
  });
});
