import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CLIENTS_DIR, REPO_ROOT } from '../../infra/lib/paths';
import { type Endpoints, LocalRuntime } from '../../local/runtime';
import { loadClientConfig } from '../../shared/config/load';
import type { ClientConfig, Rep } from '../../shared/config/schema';
import { OPEN_STATUSES } from '../../shared/domain/lead';
import { slaExecutionName } from '../../shared/domain/sla';
import {
  clearOfShiftGaps,
  emailsTo,
  eventually,
  type FormLead,
  formBody,
  headerOf,
  PipelineClient,
  processesMentioning,
  type RecordedSns,
  utcDay,
} from './support';

/**
 * The whole pipeline, end to end, on one machine: the synthesized stacks of `clients/e2e.yaml`
 * run by the local runtime (DynamoDB Local, the SES emulator, every function in worker threads,
 * both state machines, EventBridge), driven and observed only over HTTP: the capture endpoint,
 * the leads and reports APIs with the dev tokens, and the local recorders (`/_local/*`).
 *
 * `clients/e2e.yaml` keeps every rep on shift around the clock, so the outcomes do not depend on
 * the hour the suite runs. Time is scaled: one minute of SLA or nurture time passes in 0.1 s.
 */

const TIME_SCALE = 600;
/** Leads posted at once for North America (which can hold 8). */
const BURST = 25;

let runtime: LocalRuntime;
let endpoints: Endpoints;
let api: PipelineClient;
let config: ClientConfig;
let dataDir: string;
/** Everything written to stdout/stderr while the runtime booted. */
const bootOutput: string[] = [];
/** Every lead the suite created, for the reports. */
const created = new Set<string>();
/** The UTC day the suite started (reports take whole days). */
const firstDay = utcDay();
/** What the SLA tests saw, for the reports. */
const ladder = { unworked: '', contactedBy: '' };

const rep = (id: string): Rep => {
  const found = config.reps.find((r) => r.id === id);
  if (!found) throw new Error(`no rep ${id} in clients/e2e.yaml`);
  return found;
};
const managerOf = (teamId: string | undefined): string | undefined =>
  config.teams.find((t) => t.id === teamId)?.manager;

/** A form lead for `name` at `<last name> <company suffix>`, with the given profile fields. */
function formLead(name: string, email: string, companySuffix: string, profile: Partial<FormLead>): FormLead {
  const [first_name = name, last_name = 'Tester'] = name.split(' ');
  return {
    first_name,
    last_name,
    email,
    company: `${last_name} ${companySuffix}`,
    country: 'GB',
    ...profile,
  };
}

/** A VP at a mid-sized software firm: a marketing-qualified lead (fit 50) for the country's territory. */
function mqlLead(name: string, email: string, country = 'GB'): FormLead {
  return formLead(name, email, 'Software', {
    job_title: 'VP Engineering',
    company_size: '200-999',
    industry: 'Software',
    country,
  });
}

/** Addresses of the nurtured leads the suite built, for the reports. */
const nurtured = new Set<string>();

/** A lead below MQL (fit 5) who asked for product news: nurtured, not routed to a rep. */
function nurtureLead(name: string, email: string): FormLead {
  nurtured.add(email);
  return formLead(name, email, 'Stores', {
    job_title: 'Analyst',
    company_size: '1-49',
    industry: 'Retail',
    marketing_consent: 'yes',
  });
}

async function capture(lead: FormLead) {
  const answer = await api.submitForm(lead);
  created.add(answer.leadId);
  return answer;
}

/**
 * Waits until routing gave the lead an owner and the owner was alerted; returns the lead. The
 * wait watches the SNS recorder (cheap), not the leads API (a Lambda invocation per poll).
 */
async function assigned(leadId: string) {
  await eventually(`lead ${leadId} to be assigned and alerted`, async () =>
    (await api.sns()).some((r) => r.message.includes(leadId)),
  );
  const { lead } = await api.lead(leadId);
  if (lead.owner === undefined) throw new Error(`lead ${leadId} was alerted on but has no owner`);
  return lead;
}

/**
 * Waits until the lead's SLA ladder is over (no rung scheduled, none running); returns the
 * executions of its rungs, in the order they started.
 */
function ladderOver(leadId: string, timeoutMs = 60_000) {
  return eventually(
    `the SLA ladder of lead ${leadId} to end`,
    async () => {
      // Over twice in a row, 300 ms apart (the two recorders are read one after the other).
      const over = async () => {
        const { pending } = await api.schedulesFor(leadId);
        const executions = await api.executionsFor('Sla', leadId);
        return executions.length > 0 &&
          pending.length === 0 &&
          executions.every((e) => e.status !== 'RUNNING')
          ? executions
          : undefined;
      };
      const first = await over();
      if (!first) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 300));
      const second = await over();
      return second && second.length === first.length ? second : undefined;
    },
    { timeoutMs },
  );
}

/** Waits until the lead's execution of a state machine has finished; returns it. */
function finished(machine: 'Sla' | 'Nurture', leadId: string, timeoutMs = 60_000) {
  return eventually(
    `the ${machine} execution of lead ${leadId} to finish`,
    async () => {
      const [execution] = await api.executionsFor(machine, leadId);
      return execution && execution.status !== 'RUNNING' ? execution : undefined;
    },
    { timeoutMs },
  );
}

const snsFor = (records: readonly RecordedSns[], leadId: string) =>
  records.filter((r) => r.message.includes(leadId));

beforeAll(async () => {
  config = loadClientConfig('e2e', CLIENTS_DIR);
  dataDir = mkdtempSync(join(tmpdir(), 'lead-pipeline-e2e-'));
  runtime = new LocalRuntime({
    client: 'e2e',
    dataDir,
    fresh: true,
    apiPort: 0,
    timeScale: TIME_SCALE,
    // The assembly is reused across runs while no source changes (it is fingerprinted).
    synthDir: join(REPO_ROOT, '.local', 'e2e-cdk.out'),
    inMemory: true,
    log: (line) => bootOutput.push(line),
  });
  // Anything the boot prints would land in every developer's terminal: catch it.
  const writes = [process.stdout, process.stderr].map((stream) => {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      bootOutput.push(String(chunk));
      return original(chunk, ...(rest as []));
    }) as typeof stream.write;
    return () => {
      stream.write = original;
    };
  });
  try {
    endpoints = await runtime.start();
  } finally {
    for (const restore of writes) restore();
  }
  api = new PipelineClient(endpoints);
});

afterAll(async () => {
  await runtime?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('boots quietly and writes endpoints.json into its data directory', () => {
  expect(bootOutput).toEqual([]);
  const file = join(dataDir, 'endpoints.json');
  expect(existsSync(file)).toBe(true);
  const written = JSON.parse(readFileSync(file, 'utf8')) as Endpoints;
  expect(written.apiUrl).toBe(endpoints.apiUrl);
  expect(written.client).toBe('e2e');
  expect(Object.keys(written.tokens).sort()).toEqual(['admin', 'manager', 'rep']);
});

test('a landing-page form post is stored, scored, assigned and alerted on Slack and SNS', async () => {
  await clearOfShiftGaps(config.reps, 30);
  const page = await fetch(endpoints.landingPageUrl);
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toContain(`<form method="post" action="${endpoints.captureUrl}">`);

  // What a browser sends: the page's fields, urlencoded, following the 303 to the thank-you page.
  const email = 'grace.hopper@compiler-works.example';
  const response = await fetch(endpoints.captureUrl, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: formBody(
      {
        first_name: 'Grace',
        last_name: 'Hopper',
        email,
        phone: '+44 20 7946 0958',
        company: 'Compiler Works',
        job_title: 'VP Engineering',
        company_size: '1000-4999',
        industry: 'Software',
        country: 'GB',
        message: 'A demo for 40 engineers, please',
        marketing_consent: 'yes',
      },
      { utm_source: 'local-demo' },
    ),
  });
  // Deployed, the 303 goes to the client's thank-you page; offline it lands on the local one,
  // which names the original target and says what happened.
  expect(response.status).toBe(303);
  const location = new URL(response.headers.get('location') ?? '');
  expect(`${location.origin}${location.pathname}`).toBe(`${endpoints.apiUrl}/_local/thank-you`);
  expect(location.searchParams.get('to')).toBe(new URL(String(config.capture.thankYouUrl)).href);
  expect(location.hash).toMatch(/^#lp_token=/);
  const thanks = await (await fetch(location)).text();

  const person = await eventually('the lead to be stored', async () => {
    const found = await api.person(email);
    return found.found ? found : undefined;
  });
  created.add(person.leadId);
  expect(thanks).toContain(`<code id="lead-id">${person.leadId}</code>`);
  expect(thanks).toContain('A rep will contact you');
  expect(thanks).toContain(endpoints.slackRecorderUrl);
  const lead = await assigned(person.leadId);

  // Scored with reasons; an enterprise account, so routed with high priority to a senior rep.
  expect(lead.profile).toMatchObject({ firstName: 'Grace', lastName: 'Hopper', email, country: 'GB' });
  expect(lead.score?.fit).toBeGreaterThan(0);
  expect(lead.score?.reasons.map((r) => r.ruleId)).toEqual(
    expect.arrayContaining(['executive', 'target-industry', 'served-country']),
  );
  expect(lead.priority).toBe('high');
  expect(lead.status).toBe('assigned');
  const owner = rep(lead.owner ?? '');
  expect(owner.seniority).toBe('senior');
  expect(owner.capacity).toBeGreaterThan(0);

  // Slack: the owner is @-mentioned, the lead named and linked.
  const slack = await eventually('a Slack alert for the lead', async () =>
    (await api.slack()).find((s) => JSON.stringify(s.body).includes(person.leadId)),
  );
  const blocks = JSON.stringify(slack.body.blocks);
  expect(blocks).toContain(`<@${owner.slackUserId}>`);
  expect(blocks).toContain('Grace Hopper');
  // The link and the "Open" button lead to the console; "Mark contacted" is offered.
  expect(blocks).toContain(`${endpoints.consoleUrl}/#/leads/${person.leadId}`);
  expect(blocks).toContain('lead.contacted');

  // SNS: one alert for the owner, with the attributes reps filter on.
  const sns = await eventually('an SNS alert for the lead', async () =>
    snsFor(await api.sns(), person.leadId).find((r) => r.attributes.owner === owner.id),
  );
  expect(sns.attributes).toMatchObject({ owner: owner.id, priority: 'high' });
  expect(sns.message).toContain('Grace Hopper');

  // And the person got the immediate acknowledgement.
  const ack = await eventually('the auto-response', async () => {
    const [first] = emailsTo(await api.emails(), email, 'auto-response');
    return first;
  });
  expect(ack.subject).toContain('Grace');

  // The owner calls back: the first touch ends the SLA clock (and keeps this lead out of the
  // capacity test's way later).
  const contacted = await api.post<{ lead: { status: string } }>(`/leads/${person.leadId}/contacted`);
  expect(contacted.status).toBe(200);
  expect(contacted.body.lead.status).toBe('contacted');
}, 180_000);

describe.concurrent('leads being worked', () => {
  // The SLA ladders below run for about 40 s.
  beforeAll(() => clearOfShiftGaps(config.reps, 60), 180_000);

  test('with no first touch the SLA ladder escalates, reassigns, then marks the lead unworked and alerts the manager', async ({
    expect,
  }) => {
    const { leadId } = await capture(mqlLead('Sam Slow', 'sam.slow@slow-software.example'));
    const first = await assigned(leadId);
    const firstOwner = first.owner ?? '';

    // One EXPRESS execution per rung: the start, each escalation, the unworked check.
    const rungs = await ladderOver(leadId);
    expect(rungs.map((e) => e.status)).toEqual(rungs.map(() => 'SUCCEEDED'));
    expect(rungs.map((e) => e.input.rung)).toEqual(
      Array.from({ length: config.sla.ladder.length + 2 }, (_, i) => i),
    );
    expect(rungs.at(-1)?.output).toHaveProperty('unworked');
    ladder.unworked = leadId;

    const { lead, timeline } = await api.lead(leadId);
    expect(lead.status).toBe('unworked');
    // The timeline tells the same story: one entry per escalation step, then the verdict.
    const slaEntries = timeline.flatMap((t) =>
      t.activity?.type.startsWith('sla_') ? [{ type: t.activity.type, data: t.activity.data }] : [],
    );
    expect(slaEntries.map((e) => e.type).sort()).toEqual([
      ...config.sla.ladder.map(() => 'sla_escalated'),
      'sla_unworked',
    ]);
    expect(slaEntries.find((e) => e.type === 'sla_unworked')?.data).toMatchObject({
      managerId: managerOf(lead.team),
    });
    expect(lead.firstTouchAt).toBeUndefined();
    const manager = managerOf(lead.team);
    expect(manager).toBeDefined();
    expect(lead.owner).toBe(manager);
    // The ladder's own record on the lead: every step applied (its events are derived from this
    // record, so no second write marks them announced; the alerts below show they went out).
    expect(lead.slaProgress).toMatchObject({
      action: 'unworked',
      to: manager,
      ladderStep: config.sla.ladder.length,
    });

    // Who heard about it, in order: the first owner, another rep (the backup), the manager.
    const owners = (
      await eventually('the unworked alert', async () => {
        const alerts = snsFor(await api.sns(), leadId);
        return alerts.filter((a) => a.attributes.owner === manager).length >= 2 ? alerts : undefined;
      })
    ).map((a) => a.attributes.owner);
    expect(owners[0]).toBe(firstOwner);
    const reassignedTo = owners.find((o) => o !== firstOwner && o !== manager);
    expect(reassignedTo).toBeDefined();
    expect(owners.at(-1)).toBe(manager);
  });

  test('a lead marked contacted stops the SLA ladder', async ({ expect }) => {
    const { leadId } = await capture(mqlLead('Cora Quick', 'cora.quick@quick-software.example'));
    const lead = await assigned(leadId);
    // The rep calls once the ladder runs (its first rung is scheduled next to the alert).
    const [rung1] = await eventually('the SLA ladder to start', async () => {
      const { pending } = await api.schedulesFor(leadId);
      return pending.length > 0 ? pending : undefined;
    });
    expect(rung1?.name).toBe(`${slaExecutionName(leadId, lead.assignedAt ?? '')}-r1`);

    const contacted = await api.post<{ alreadyContacted: boolean; firstTouchAt: string }>(
      `/leads/${leadId}/contacted`,
    );
    expect(contacted.status).toBe(200);
    expect(contacted.body.alreadyContacted).toBe(false);
    const again = await api.post<{ alreadyContacted: boolean; firstTouchAt: string }>(
      `/leads/${leadId}/contacted`,
    );
    expect(again.body).toMatchObject({ alreadyContacted: true, firstTouchAt: contacted.body.firstTouchAt });
    ladder.contactedBy = lead.owner ?? '';

    // The rep plans the follow-up and ticks it off.
    const task = await api.post<{ id: string; done: boolean }>(`/leads/${leadId}/tasks`, {
      title: 'Send the proposal',
      dueAt: '2030-01-15T09:00:00Z',
    });
    expect(task).toMatchObject({ status: 201, body: { done: false } });
    const done = await api.patch<{ done: boolean; doneAt?: string }>(
      `/leads/${leadId}/tasks/${task.body.id}`,
      { done: true },
    );
    expect(done.status).toBe(200);
    expect(done.body.done).toBe(true);
    expect(done.body.doneAt).toEqual(expect.any(String));
    const missing = await api.patch(`/leads/${leadId}/tasks/no-such-task`, { done: true });
    expect(missing.status).toBe(404);

    // The first touch cancelled the ladder by name at once: its first rung never ran.
    const rungs = await ladderOver(leadId);
    expect(rungs.map((e) => e.input.rung)).toEqual([0]);
    expect(await api.schedulesFor(leadId)).toEqual({ pending: [], fired: [] });
    const after = (await api.lead(leadId)).lead;
    expect(after).toMatchObject({ owner: lead.owner, status: 'contacted' });
    // Only the original owner was ever alerted.
    expect(snsFor(await api.sns(), leadId).map((a) => a.attributes.owner)).toEqual([lead.owner]);
  });

  test('a low scorer receives the nurture sequence, each email with one-click List-Unsubscribe headers', async ({
    expect,
  }) => {
    const email = 'lena.low@low-stores.example';
    const { leadId } = await capture(nurtureLead('Lena Low', email));

    const execution = await finished('Nurture', leadId);
    expect(execution.status).toBe('SUCCEEDED');
    const sequence = config.nurture.sequences.find((s) => s.id === 'education');
    const sent = emailsTo(await api.emails(), email, 'nurture');
    expect(sent.map((e) => e.tags.step?.[0])).toEqual(sequence?.steps.map((s) => s.id));
    expect(sent[0]?.subject).toBe('Lena, your product-analytics starter guide');
    for (const message of sent) {
      expect(headerOf(message, 'List-Unsubscribe')).toMatch(
        new RegExp(`^<${endpoints.apiUrl}/unsubscribe\\?token=[^>]+>$`),
      );
      expect(headerOf(message, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    }
    // The SES emulator's inbox holds the same messages, bodies and headers included.
    const inbox = (await (await fetch(`${endpoints.sesInboxUrl}/store`)).json()) as {
      emails: Array<{ messageId: string; destination: { to: string[] }; body: { html?: string } }>;
    };
    const delivered = inbox.emails.filter((e) => sent.some((m) => m.messageId === e.messageId));
    expect(delivered).toHaveLength(sent.length);
    for (const message of delivered) {
      expect(message.destination.to).toEqual([email]);
      expect(message.body.html).toContain('/unsubscribe?token=');
    }
    const { lead } = await api.lead(leadId);
    expect(lead.owner).toBeUndefined();
    expect(lead.nurtureSequence).toBe('education');
  });

  test('one-click unsubscribe works and stops further nurture emails', async ({ expect }) => {
    const email = 'uma.unsub@unsub-stores.example';
    const { leadId } = await capture(nurtureLead('Uma Unsub', email));

    const welcome = await eventually('the first nurture email', async () => {
      const [first] = emailsTo(await api.emails(), email, 'nurture');
      return first;
    });
    const link = /^<(.+)>$/.exec(headerOf(welcome, 'List-Unsubscribe') ?? '')?.[1] ?? '';
    expect(link.startsWith(`${endpoints.apiUrl}/unsubscribe?token=`)).toBe(true);

    // Following the link (as a mail scanner would) only shows a confirmation page.
    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const before = await api.person(email);
    expect(before.found && before.lead.unsubscribed).toBe(false);

    // RFC 8058: the mailbox provider POSTs `List-Unsubscribe=One-Click` to the URL.
    const response = await fetch(link, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(response.status).toBe(200);

    const execution = await finished('Nurture', leadId);
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.output).toMatchObject({ result: { outcome: 'stop', reason: 'unsubscribed' } });
    expect(emailsTo(await api.emails(), email, 'nurture')).toHaveLength(1);
    const person = await api.person(email);
    expect(person.found && person.lead.unsubscribed).toBe(true);
    expect(person.suppression.suppressed).toBe(true);
  });

  test('an opt-out on a resubmitted form stops nurture at once: no marketing email after it', async ({
    expect,
  }) => {
    const email = 'otto.optout@optout-stores.example';
    const lead = nurtureLead('Otto Optout', email);
    const { leadId } = await capture(lead);
    await eventually(
      'the first nurture email',
      async () => emailsTo(await api.emails(), email, 'nurture')[0],
    );
    const optedIn = await api.person(email);
    expect(optedIn.found && optedIn.lead.consent).toMatchObject({ marketing: true });

    // The same person sends the form again, this time saying no.
    const again = await api.submitForm({ ...lead, marketing_consent: 'no' });
    expect(again).toMatchObject({ leadId, status: 'updated' });
    const optedOut = await api.person(email);
    expect(optedOut.found && optedOut.lead.consent).toMatchObject({
      marketing: false,
      via: 'form:marketing_consent',
    });
    const sentBefore = emailsTo(await api.emails(), email, 'nurture').length;

    const execution = await finished('Nurture', leadId);
    expect(execution.output).toMatchObject({ result: { outcome: 'stop', reason: 'no-consent' } });
    expect(emailsTo(await api.emails(), email, 'nurture')).toHaveLength(sentBefore);
    expect(sentBefore).toBe(1);
  });

  test('a bounce ends nurture and suppresses the address', async ({ expect }) => {
    const email = 'bounce@simulator.amazonses.com';
    const { leadId } = await capture(nurtureLead('Bo Bounce', email));

    // The acknowledgement (or the first nurture email) bounces: the address is suppressed and the
    // lead flagged unsubscribed, and the sequence stops at its next step.
    const execution = await finished('Nurture', leadId);
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.output).toMatchObject({ result: { outcome: 'stop' } });
    expect(['unsubscribed', 'suppressed']).toContain(
      (execution.output?.result as { reason?: string } | undefined)?.reason,
    );
    expect(emailsTo(await api.emails(), email, 'nurture').length).toBeLessThanOrEqual(1);
    const person = await api.person(email);
    expect(person.suppression.suppressed).toBe(true);
    expect(person.found && person.activities.map((a) => a.type)).toContain('email_bounced');
  });

  test('a duplicate submission leaves one lead', async ({ expect }) => {
    const lead = mqlLead('Dee Dupe', 'Dee.Dupe@Dupe-Software.example');
    const first = await capture(lead);
    expect(first.status).toBe('created');
    // The same person again, typed differently and with a new message: merged, not duplicated.
    const second = await capture({
      ...lead,
      email: ' dee.dupe@dupe-software.example ',
      message: 'Any news?',
    });
    expect(second).toMatchObject({ leadId: first.leadId, status: 'updated' });
    // A double-click (the identical post) is answered like the first one.
    const replay = await capture(lead);
    expect(replay.leadId).toBe(first.leadId);

    await assigned(first.leadId);
    const person = await api.person('dee.dupe@dupe-software.example');
    expect(person.found && person.leadId).toBe(first.leadId);
    expect(person.found && person.lead.profile.message).toBe('Any news?');
    // One lead, one owner to alert, one SLA clock (which the first touch stops).
    const clocks = (await api.executionsFor('Sla', first.leadId)).filter((e) => e.input.rung === 0);
    expect(clocks).toHaveLength(1);
    expect((await api.post(`/leads/${first.leadId}/contacted`)).status).toBe(200);
  });

  test('erasure runs as a job: 202 with a status URL, then every item of the person is gone', async ({
    expect,
  }) => {
    // Not in `created`: the reports must not count a lead that is erased.
    const email = 'Erin.Erase@Erase-Software.example';
    // Retried: on a loaded machine a cold capture can run past the API's 10 s (a 500); a repeat
    // of the same form is merged into the same lead.
    const submit = (lead: FormLead) =>
      eventually('capture to answer', () => api.submitForm(lead), { timeoutMs: 90_000 });
    const { leadId } = await submit(mqlLead('Erin Erase', email));
    const second = await submit({
      ...mqlLead('Erin Erase', 'erin@home-erase.example'),
      message: `work address ${email}`,
    });
    // This one is kept (it only quotes the address), so the reports count it.
    created.add(second.leadId);
    // Erased while the pipeline may still be working on it: a job that meets a concurrent write
    // fails and is retried from the start, so the outcome is the same.
    expect((await api.lead(leadId)).lead.id).toBe(leadId);

    const started = await api.delete<{ erasureId: string; status: string; statusUrl: string }>(
      `/admin/people/${encodeURIComponent(email)}`,
    );
    expect(started.status).toBe(202);
    expect(started.body.status).toBe('running');
    expect(started.location).toBe(started.body.statusUrl);
    // Suppressed from the moment of the request, before the job has run.
    expect((await api.person(email)).suppression.suppressed).toBe(true);

    const done = await eventually(
      'the erasure job to complete',
      async () => {
        const status = await api.get<{
          status: string;
          result?: { leadIds: string[]; deleted: { leads: number } };
        }>(started.body.statusUrl);
        return status.status === 'completed' ? status : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 1000 },
    );
    expect(done.result?.leadIds).toEqual([leadId]);
    expect(JSON.stringify(done).toLowerCase()).not.toContain('erin');
    expect(await api.person(email)).toMatchObject({ found: false, suppression: { suppressed: true } });
    await expect(api.lead(leadId)).rejects.toThrow(/answered 404/);
    // Another person's lead that only mentions the address in free text is not theirs.
    expect((await api.lead(second.leadId)).lead.id).toBe(second.leadId);
  }, 420_000);
});

test('a burst of leads for one territory never pushes a rep over capacity', async () => {
  await clearOfShiftGaps(config.reps, 60);
  const naReps = config.reps.filter((r) => r.team === 'na' && r.capacity > 0);
  const naCapacity = naReps.reduce((sum, r) => sum + r.capacity, 0);
  const burst = await Promise.all(
    Array.from({ length: BURST }, (_, i) => {
      const n = String(i + 1).padStart(2, '0');
      return capture(mqlLead(`Burst Lead${n}`, `burst.${n}@burst-software.example`, 'US'));
    }),
  );
  const ids = new Set(burst.map((b) => b.leadId));
  expect(ids.size).toBe(BURST);
  await eventually(
    'every lead of the burst to be assigned and alerted',
    async () => {
      const alerted = new Set(
        (await api.sns()).flatMap((r) => [...ids].filter((id) => r.message.includes(id))),
      );
      return alerted.size === ids.size;
    },
    { timeoutMs: 90_000, intervalMs: 250 },
  );

  // No rep who takes leads holds more open leads than their capacity.
  for (const r of config.reps.filter((x) => x.role === 'rep')) {
    const open = (await api.leadsOwnedBy(r.id)).filter((l) => OPEN_STATUSES.includes(l.status as never));
    expect(
      open.length,
      `${r.id} holds ${open.length} open leads (capacity ${r.capacity})`,
    ).toBeLessThanOrEqual(r.capacity);
  }

  // How each lead was first routed, from its timeline: North America filled up first, then the
  // team backup (EMEA) took the rest because every NA rep was at capacity.
  const firstAssignments = await Promise.all(
    [...ids].map(async (id) => {
      const { timeline } = await api.lead(id);
      const assignments = timeline.filter((t) => t.activity?.type === 'assigned');
      const first = assignments.at(-1)?.activity as
        | {
            data: {
              repId: string;
              via: string;
              explanation: { skipped: Array<{ repId: string; reason: string }> };
            };
          }
        | undefined;
      if (!first) throw new Error(`lead ${id} has no assignment in its timeline`);
      return first.data;
    }),
  );
  const toNa = firstAssignments.filter((a) => rep(a.repId).team === 'na');
  const overflow = firstAssignments.filter((a) => rep(a.repId).team === 'emea');
  expect(toNa.length + overflow.length).toBe(BURST);
  expect(toNa.length).toBeGreaterThanOrEqual(naCapacity);
  expect(overflow.length).toBeGreaterThan(0);
  for (const a of overflow) {
    expect(a.via).toBe('team-backup');
    for (const r of naReps)
      expect(a.explanation.skipped).toContainEqual(
        expect.objectContaining({ repId: r.id, reason: 'at-capacity' }),
      );
  }
  // Nobody away or without capacity got one.
  for (const a of firstAssignments) {
    expect(rep(a.repId).capacity).toBeGreaterThan(0);
    expect(rep(a.repId).outOfOffice).toBe(false);
  }
}, 240_000);

test('the reports reflect all of it', async () => {
  const query = `from=${firstDay}&to=${utcDay()}`;
  interface Summary {
    leads: number;
    scope: { kind: string };
    data: {
      sources: { total: number; bySource: Array<{ source: string; leads: number }> };
      funnel: { stages: Array<{ stage: string; reached: number }> };
      speedToLead: { contacted: number; byRep: Array<{ repId: string; contacted: number }> };
      sla: {
        assigned: number;
        metSla: number;
        escalatedLeads: number;
        unworked: number;
        breaches: Array<{ leadId: string; kinds: string[] }>;
      };
      nurture: {
        sent: number;
        bounced: number;
        unsubscribed: number;
        bySequence: Array<{ sequenceId: string; sent: number }>;
      };
    };
  }
  const summary = await api.get<Summary>(`/reports/summary?${query}`);
  const { sources, funnel, speedToLead, sla, nurture } = summary.data;
  expect(summary.scope.kind).toBe('all');
  expect(summary.leads).toBe(created.size);
  expect(sources.total).toBe(created.size);
  expect(sources.bySource).toContainEqual(expect.objectContaining({ source: 'form', leads: created.size }));
  // Everyone but the nurtured leads reached MQL and was given to a rep.
  const mqls = created.size - nurtured.size;
  expect(funnel.stages.find((s) => s.stage === 'MQL')?.reached).toBe(mqls);
  expect(sla.assigned).toBe(mqls);
  expect(sla.unworked).toBeGreaterThanOrEqual(1);
  expect(sla.escalatedLeads).toBeGreaterThanOrEqual(1);
  expect(sla.metSla).toBeGreaterThanOrEqual(1);
  expect(sla.breaches.find((b) => b.leadId === ladder.unworked)?.kinds).toContain('unworked');
  expect(speedToLead.contacted).toBeGreaterThanOrEqual(1);
  expect(speedToLead.byRep.map((r) => r.repId)).toContain(ladder.contactedBy);
  // The auto-responses and the nurture emails; the unsubscribe and the bounce.
  expect(nurture.bySequence.find((s) => s.sequenceId === 'auto-response')?.sent).toBe(created.size);
  expect(nurture.bySequence.find((s) => s.sequenceId === 'education')?.sent).toBeGreaterThanOrEqual(4);
  expect(nurture.bounced).toBeGreaterThanOrEqual(1);
  expect(nurture.unsubscribed).toBeGreaterThanOrEqual(2);

  // Scopes: a manager sees their team's numbers, a rep only their own.
  const team = await api.get<Summary>(`/reports/summary?${query}`, 'manager');
  expect(team.scope.kind).toBe('teams');
  expect(team.leads).toBeGreaterThan(0);
  expect(team.leads).toBeLessThan(summary.leads);
  const mine = await api.get<Summary>(`/reports/sla?${query}`, 'rep');
  expect(mine.scope.kind).toBe('owner');
  expect(mine.leads).toBeLessThanOrEqual(team.leads);
});

test('no event was lost: nothing is in the dead-letter record', async () => {
  expect(await api.deadLetters()).toEqual([]);
});

test('stop() leaves no process, worker or port behind', async () => {
  await runtime.stop();
  const dynamoPort = new URL(endpoints.dynamoDbUrl).port;
  expect(processesMentioning(dataDir)).toEqual([]);
  expect(processesMentioning(`-port ${dynamoPort}`)).toEqual([]);
  expect([...runtime.functions.values()].reduce((n, pool) => n + pool.environmentCount, 0)).toBe(0);
  for (const url of [
    endpoints.apiUrl,
    endpoints.awsEndpointUrl,
    endpoints.dynamoDbUrl,
    endpoints.sesInboxUrl,
  ]) {
    await expect(fetch(url), url).rejects.toThrow();
  }
});
