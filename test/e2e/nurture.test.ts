import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../../infra/lib/paths';
import type { SmsRecord } from '../../local/sms';
import {
  type E2eRuntime,
  emailsTo,
  eventually,
  type FormLead,
  type RecordedExecution,
  startE2eRuntime,
} from './support';

/**
 * Branching nurture and SMS, end to end, on the example client's own file (`clients/example.yaml`):
 * its education sequence branches on a click of the pricing link, sends in the lead's local
 * morning, texts the leads who ticked the SMS box, and the stack texts a reminder of every booked
 * meeting. Time runs 15,000 times faster (a 72-hour wait takes 17 s; clocks are not scaled, so a
 * send deferred to the morning goes out once the machine has waited for it).
 */

const TIME_SCALE = 15_000;
let e2e: E2eRuntime;

beforeAll(async () => {
  e2e = await startE2eRuntime('nurture', {
    client: 'example',
    timeScale: TIME_SCALE,
    synthDir: join(REPO_ROOT, '.local', 'e2e-example-cdk.out'),
  });
  // A cold start on a busy machine can outlast the function's timeout (answered 500, as Lambda
  // would); these tests are about nurture and SMS, so they start once capture and webhooks are warm.
  for (const path of ['/leads', '/webhooks/calendly']) {
    await eventually(
      `${path} to answer without a cold-start timeout`,
      async () =>
        (
          await fetch(`${e2e.endpoints.apiUrl}${path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: 'application/json' },
            body: '{}',
          })
        ).status !== 500,
      { timeoutMs: 120_000 },
    );
  }
}, 360_000);

afterAll(async () => {
  await e2e?.dispose();
});

/** A small retailer's analyst (fit below MQL): nurtured, with email consent and, when asked, SMS consent. */
function nurtureLead(first: string, email: string, phone: string): FormLead & Record<string, string> {
  return {
    first_name: first,
    last_name: 'Tester',
    email,
    company: `${first} Stores`,
    job_title: 'Analyst',
    company_size: '1-49',
    industry: 'Retail',
    country: 'GB',
    phone,
    marketing_consent: 'yes',
    sms_consent: 'yes',
    // A guide download, not the demo request: the example scores a demo request sales-ready,
    // and a lead routed to a rep leaves nurture.
    form_id: 'guide-download',
  };
}

async function sms(): Promise<SmsRecord[]> {
  const response = await fetch(`${e2e.endpoints.awsEndpointUrl}/_local/sms.json`);
  return ((await response.json()) as { sent: SmsRecord[] }).sent;
}

async function executionsOf(prefix: string, leadId: string): Promise<RecordedExecution[]> {
  const arn = Object.entries(e2e.endpoints.stateMachines).find(([id]) => id.startsWith(prefix))?.[1];
  return (await e2e.api.executions()).filter((x) => x.stateMachineArn === arn && x.input.leadId === leadId);
}

/** Posts a Calendly `invitee.created` webhook, signed with the local signing key. */
async function bookMeeting(email: string, bookingId: string, startTime: Date): Promise<void> {
  const body = JSON.stringify({
    created_at: new Date().toISOString(),
    created_by: 'https://api.calendly.com/users/AAAAAAAAAAAAAAAA',
    event: 'invitee.created',
    payload: {
      email,
      name: 'Sam Tester',
      first_name: 'Sam',
      last_name: 'Tester',
      status: 'active',
      rescheduled: false,
      questions_and_answers: [],
      uri: `https://api.calendly.com/scheduled_events/EV${bookingId}/invitees/${bookingId}`,
      scheduled_event: {
        uri: `https://api.calendly.com/scheduled_events/EV${bookingId}`,
        name: '30 Minute Product Demo',
        status: 'active',
        start_time: startTime.toISOString(),
        end_time: new Date(startTime.getTime() + 30 * 60_000).toISOString(),
      },
    },
  });
  const t = Math.floor(Date.now() / 1000);
  const key = e2e.endpoints.devSecrets.calendlySigningKey ?? '';
  const signature = createHmac('sha256', key).update(`${t}.${body}`).digest('hex');
  const response = await fetch(`${e2e.endpoints.apiUrl}/webhooks/calendly`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'calendly-webhook-signature': `t=${t},v1=${signature}` },
    body,
  });
  expect(response.status).toBeLessThan(300);
}

describe('branching nurture (clients/example.yaml)', () => {
  test('a lead who clicks the pricing link takes the pricing branch, then gets the SMS step', async () => {
    const email = 'nina.nurture@nina-stores.example';
    const phone = '+447911123451';
    const { leadId } = await e2e.api.submitForm(nurtureLead('Nina', email, phone));

    const welcome = await eventually(
      'the welcome guide',
      async () =>
        emailsTo(await e2e.api.emails(), email, 'nurture').find((m) => m.tags.step?.[0] === 'welcome-guide'),
      { timeoutMs: 60_000 },
    );
    expect(welcome.html).toContain('https://www.northwind.example/pricing');
    // A person reads for a few seconds before clicking (a click at delivery is a link scanner's).
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const click = await fetch(`${e2e.endpoints.awsEndpointUrl}/_local/ses/click`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        messageId: welcome.messageId,
        link: 'https://www.northwind.example/pricing?utm_medium=email',
      }),
    });
    expect(click.ok).toBe(true);

    const faq = await eventually(
      'the pricing FAQ the branch leads to',
      async () =>
        emailsTo(await e2e.api.emails(), email, 'nurture').find((m) => m.tags.step?.[0] === 'pricing-faq'),
      { timeoutMs: 90_000 },
    );
    expect(faq.subject).toBe('Nina, your Northwind pricing questions answered');
    const text = await eventually(
      'the pricing SMS step',
      async () => (await sms()).find((m) => m.to === phone && m.context.step === 'pricing-reminder'),
      { timeoutMs: 90_000 },
    );
    expect(text.body).toContain('Reply STOP to opt out.');
    expect(text.parts).toBe(1);

    const execution = await eventually(
      'the nurture execution to end',
      async () => {
        const [x] = await executionsOf('NurtureWorkflow', leadId);
        return x && x.status !== 'RUNNING' ? x : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(execution.status).toBe('SUCCEEDED');
    // The branch replaced the case study: it was never sent.
    const steps = emailsTo(await e2e.api.emails(), email, 'nurture').map((m) => m.tags.step?.[0]);
    expect(steps).toEqual(['welcome-guide', 'pricing-faq']);

    // The reports API counts the step the branch led to under that branch.
    const day = new Date().toISOString().slice(0, 10);
    const report = await e2e.api.get<{ data: { bySteps: Array<Record<string, unknown>> } }>(
      `/reports/nurture?from=${day}&to=${day}`,
    );
    expect(report.data.bySteps).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          sequenceId: 'education',
          stepId: 'pricing-faq',
          branch: 'education/case-study/clicked-pricing',
          sent: 1,
        }),
        expect.objectContaining({ stepId: 'pricing-reminder', channel: 'sms', sent: 1 }),
      ]),
    );
  }, 300_000);
});

describe('SMS reminders (clients/example.yaml)', () => {
  test('a booked meeting gets an SMS reminder; after a STOP reply nothing more is texted', async () => {
    const email = 'sam.sms@sam-stores.example';
    const phone = '+447911123452';
    const { leadId } = await e2e.api.submitForm(nurtureLead('Sam', email, phone));
    await bookMeeting(email, 'BOOK1', new Date(Date.now() + 36 * 3_600_000));

    const reminder = await eventually(
      'the meeting reminder',
      async () => (await sms()).find((m) => m.to === phone && m.context.sequence === 'sms-reminder'),
      { timeoutMs: 90_000 },
    );
    expect(reminder.body).toMatch(/^Hi Sam, see you .+ for your Northwind demo\. Reply STOP to opt out\.$/);

    const reply = await fetch(`${e2e.endpoints.awsEndpointUrl}/_local/sms/reply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: phone, body: 'STOP' }),
    });
    expect(await reply.json()).toMatchObject({ delivered: true });

    await bookMeeting(email, 'BOOK2', new Date(Date.now() + 30 * 3_600_000));
    const second = await eventually(
      'the second reminder execution to end',
      async () => {
        const done = (await executionsOf('SmsReminderWorkflow', leadId)).filter(
          (x) => x.status !== 'RUNNING',
        );
        return done.length === 2 ? done : undefined;
      },
      { timeoutMs: 90_000 },
    );
    expect(second.map((x) => x.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(second.map((x) => (x.output as { result?: unknown }).result)).toEqual(
      expect.arrayContaining([{ outcome: 'skipped', reason: 'sms-opted-out' }]),
    );
    expect((await sms()).filter((m) => m.to === phone)).toHaveLength(1);
    // The recorder page shows the text and offers a reply.
    const page = await (await fetch(`${e2e.endpoints.awsEndpointUrl}/_local/sms`)).text();
    expect(page).toContain(phone);
    expect(page).toContain('Reply STOP to opt out.');
  }, 300_000);
});
