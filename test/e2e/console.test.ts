import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';

import { CLIENTS_DIR, REPO_ROOT } from '../../infra/lib/paths';
import type { Endpoints } from '../../local/runtime';
import { loadClientConfig } from '../../shared/config/load';
import type { ClientConfig } from '../../shared/config/schema';
import {
  clearOfShiftGaps,
  type E2eRuntime,
  eventually,
  type FormLead,
  launchChromium,
  type PipelineClient,
  startE2eRuntime,
  utcDay,
} from './support';

/** The API answers in seconds on a busy machine: a poll waits for it, as a person would. */
const POLL = { timeout: 20_000, interval: 250 };

/**
 * The console in a real browser (Debian's chromium driven by playwright-core) against the
 * offline runtime: sign-in as each dev user, the rep's live queue, the manager's board, the
 * dashboard against the reports API, access rules, keyboard-only use and axe-core. Screenshots
 * of every view at phone and desktop widths are kept in test/e2e/artifacts/ (not committed).
 */

/** One minute of SLA time per real second: the e2e client's 300-minute first-touch SLA lasts 5 minutes. */
const TIME_SCALE = 60;
const ARTIFACTS = join(REPO_ROOT, 'test', 'e2e', 'artifacts');
const WIDTHS = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 900 } } as const;
let booted: E2eRuntime;
let endpoints: Endpoints;
let api: PipelineClient;
let config: ClientConfig;
let dataDir: string;
let browser: Browser;
const contexts: BrowserContext[] = [];
/** The dev rep's id (the runtime's rep token belongs to them). */
let devRep: string;
let serial = 0;

beforeAll(async () => {
  config = loadClientConfig('e2e', CLIENTS_DIR);
  mkdirSync(ARTIFACTS, { recursive: true });
  booted = await startE2eRuntime('console', { consolePort: 0, timeScale: TIME_SCALE });
  ({ endpoints, api, dataDir } = booted);
  devRep = (await api.get<{ me: { repId: string } }>('/me', 'rep')).me.repId;
  browser = await launchChromium();
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await booted?.dispose();
});

/** A fresh browser tab (own session storage) at a width; `bypassCSP` only to inject axe-core. */
async function newPage(size: keyof typeof WIDTHS = 'desktop', bypassCSP = false): Promise<Page> {
  const context = await browser.newContext({ viewport: WIDTHS[size], bypassCSP });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => {
    throw error;
  });
  return page;
}

async function signIn(page: Page, role: 'rep' | 'manager' | 'admin'): Promise<void> {
  await page.goto(endpoints.consoleUrl);
  await page.getByRole('button', { name: new RegExp(`\\(${role}\\)`) }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

async function go(page: Page, hash: string): Promise<void> {
  // Strings, not functions: this file is compiled without the DOM library.
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
}

/** A marketing-qualified lead from `country` (a VP at a mid-sized software firm). */
function mqlLead(country: string): FormLead {
  serial++;
  return {
    first_name: `Console${serial}`,
    last_name: 'Tester',
    email: `console${serial}.${Date.now()}@tester-software.example`,
    phone: '+44 20 7946 0958',
    company: `Tester Software ${serial}`,
    job_title: 'VP Engineering',
    company_size: '200-999',
    industry: 'Software',
    country,
  };
}

/** Posts MQL leads from the dev rep's territory until routing gives one to the dev rep. */
async function leadFor(repId: string): Promise<string> {
  const country = config.reps.find((r) => r.id === repId)?.team === 'na' ? 'US' : 'GB';
  for (let attempt = 0; attempt < 6; attempt++) {
    const { leadId } = await api.submitForm(mqlLead(country));
    const owner = await eventually(
      `lead ${leadId} to be assigned`,
      async () => (await api.lead(leadId)).lead.owner,
      {
        intervalMs: 300,
      },
    );
    if (owner === repId) return leadId;
  }
  throw new Error(`routing never gave ${repId} a lead in 6 tries`);
}

/** Posts a lead from the other territory: it belongs to another team's rep. */
async function leadOfAnotherTeam(): Promise<{ leadId: string; owner: string }> {
  const team = config.reps.find((r) => r.id === devRep)?.team;
  const { leadId } = await api.submitForm(mqlLead(team === 'na' ? 'GB' : 'US'));
  const owner = await eventually(
    `lead ${leadId} to be assigned`,
    async () => (await api.lead(leadId)).lead.owner,
    {
      intervalMs: 300,
    },
  );
  return { leadId, owner };
}

/** A deal of the dev rep's at `stage` with `amount`: contacted, then moved there through the API. */
async function dealAt(stage: string, amount: number): Promise<string> {
  const leadId = await leadFor(devRep);
  expect((await api.post(`/leads/${leadId}/contacted`, {}, 'rep')).status).toBe(200);
  const moved = await api.patch(`/leads/${leadId}`, { pipelineStage: stage, amount }, 'rep');
  expect(moved.status).toBe(200);
  return leadId;
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

const weighted = async (page: Page, stage: string) =>
  Number(await page.getByTestId(`weighted-${stage}`).getAttribute('data-value'));

test('npm start serves the console with a strict CSP, its config and the dev users', async () => {
  const index = await fetch(endpoints.consoleUrl);
  expect(index.status).toBe(200);
  const csp = index.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain(`connect-src 'self' ${new URL(endpoints.apiUrl).origin}`);
  expect(csp).not.toContain('unsafe-inline');
  expect(index.headers.get('x-frame-options')).toBe('DENY');
  const conf = (await (await fetch(`${endpoints.consoleUrl}/config.json`)).json()) as { apiUrl: string };
  expect(conf.apiUrl).toBe(endpoints.apiUrl);
  const users = (await (await fetch(`${endpoints.consoleUrl}/_local/dev-users`)).json()) as Array<{
    role: string;
  }>;
  expect(users.map((u) => u.role)).toEqual(['rep', 'manager', 'admin']);
  const written = JSON.parse(readFileSync(join(dataDir, 'endpoints.json'), 'utf8')) as Endpoints;
  expect(written.consoleUrl).toBe(endpoints.consoleUrl);
});

test('a rep signs in, a form post appears in the queue within seconds, and "Contacted" stops the SLA', async () => {
  await clearOfShiftGaps(config.reps, 60);
  const page = await newPage('desktop');
  await signIn(page, 'rep');
  await page.getByRole('heading', { name: 'My queue' }).waitFor();

  const leadId = await leadFor(devRep);
  const row = page.locator(`[data-lead-id="${leadId}"]`);
  // No reload: the queue polls.
  await row.waitFor({ timeout: 15_000 });
  await expect.poll(() => row.locator('[data-sla]').getAttribute('data-sla'), POLL).toBe('running');
  const shown = await row.locator('time').textContent();
  await page.waitForTimeout(1100);
  expect(await row.locator('time').textContent()).not.toBe(shown); // the countdown is live
  await screenshot(page, 'queue-desktop');

  await row.getByRole('button', { name: /Contacted/ }).click();
  await expect
    .poll(() => row.locator('[data-sla]').getAttribute('data-sla'), { timeout: 10_000 })
    .toBe('stopped');
  const { lead } = await api.lead(leadId);
  expect(lead.firstTouchAt).toBeDefined();
  expect(lead.status).toBe('contacted');
  // The SLA clock has stopped: the lead no longer has a deadline (the ladder ends at its next check).
  const listed = await api.get<{ items: Array<{ id: string; slaDueAt?: string }> }>('/leads?owner=me', 'rep');
  expect(listed.items.find((l) => l.id === leadId)).toMatchObject({ id: leadId });
  expect(listed.items.find((l) => l.id === leadId)?.slaDueAt).toBeUndefined();
  await page.reload();
  await row.waitFor();
  expect(await row.locator('[data-sla]').getAttribute('data-sla')).toBe('stopped');
});

test('a manager drags a deal to the next stage and the weighted value changes', async () => {
  const amount = 40_000;
  const leadId = await dealAt('discovery', amount);
  const page = await newPage('desktop');
  await signIn(page, 'manager');
  await go(page, '#/board');
  const card = page.locator(`[data-stage="discovery"] [data-lead-id="${leadId}"]`);
  await card.waitFor({ timeout: 15_000 });
  const before = { discovery: await weighted(page, 'discovery'), demo: await weighted(page, 'demo') };
  const probability = (id: string) => config.pipeline.stages.find((s) => s.id === id)?.probability ?? 0;

  await card.dragTo(page.locator('[data-stage="demo"]'));
  await page.locator(`[data-stage="demo"] [data-lead-id="${leadId}"]`).waitFor();
  await expect
    .poll(() => weighted(page, 'demo'), POLL)
    .toBeCloseTo(before.demo + amount * probability('demo'), 2);
  expect(await weighted(page, 'discovery')).toBeCloseTo(
    before.discovery - amount * probability('discovery'),
    2,
  );
  await expect.poll(async () => (await api.lead(leadId)).lead.pipelineStage, POLL).toBe('demo');
  await screenshot(page, 'board-desktop');
});

test("the dashboard's figures equal the reports API's", async () => {
  await dealAt('proposal', 25_000);
  const page = await newPage('desktop');
  await signIn(page, 'manager');
  await go(page, '#/dashboard');
  await page.locator('[data-kpi]').first().waitFor({ timeout: 30_000 });
  const today = utcDay();
  const from = utcDay(new Date(Date.now() - 29 * 86_400_000));
  const report = await api.get<{ data: Record<string, unknown> }>(
    `/reports/summary?from=${from}&to=${today}`,
    'manager',
  );
  const kpis = await page
    .locator('[data-kpi]')
    .evaluateAll((nodes) =>
      nodes.map((n) => [n.getAttribute('data-kpi') ?? '', n.getAttribute('data-value') ?? ''] as const),
    );
  expect(kpis.length).toBeGreaterThanOrEqual(6);
  for (const [path, value] of kpis) {
    const expected = path
      .split('.')
      .reduce<unknown>((v: unknown, k: string) => (v as Record<string, unknown>)?.[k], report.data);
    expect({ path, value }).toEqual({ path, value: expected === null ? '' : String(expected) });
  }
  const funnel = report.data.funnel as { stages: Array<{ stage: string; reached: number }> };
  for (const stage of funnel.stages)
    expect(await page.locator(`[data-funnel="${stage.stage}"]`).getAttribute('data-value')).toBe(
      String(stage.reached),
    );
  expect(Number(kpis.find(([p]) => p === 'pipeline.open.deals')?.[1])).toBeGreaterThan(0);
  // The nurture table by step and branch: one row per API row, with the API's counts.
  const bySteps = (report.data.nurture as { bySteps: Array<Record<string, number | string | null>> }).bySteps;
  const rows = await page
    .locator('[data-nurture-step]')
    .evaluateAll((nodes) =>
      nodes.map((n) => [n.getAttribute('data-nurture-step'), n.getAttribute('data-value')]),
    );
  expect(rows).toEqual(
    bySteps.map((q) => [
      `${q.sequenceId}/${q.stepId}/${q.branch ?? ''}`,
      [q.sent, q.opened, q.clicked, q.convertedMql, q.convertedSql, q.unsubscribed].join(','),
    ]),
  );
  await page.waitForTimeout(500); // charts draw on the next frame
  await screenshot(page, 'dashboard-desktop');
});

test("a rep cannot open another rep's lead", async () => {
  const { leadId, owner } = await leadOfAnotherTeam();
  expect(owner).not.toBe(devRep);
  const page = await newPage('desktop');
  await signIn(page, 'rep');
  await go(page, `#/leads/${leadId}`);
  await expect.poll(() => page.getByRole('alert').textContent(), POLL).toContain('not yours to see');
  expect(await page.getByRole('heading', { name: 'Profile' }).count()).toBe(0);
  const direct = await fetch(`${endpoints.apiUrl}/leads/${leadId}`, {
    headers: { authorization: `Bearer ${endpoints.tokens.rep}` },
  });
  expect(direct.status).toBe(404);
});

test("a resubmission's conflicting details are shown on the lead and applied in one click", async () => {
  const lead = mqlLead('GB');
  const { leadId } = await api.submitForm(lead);
  // The same person again, with another number: offered, not overwritten (forms are public).
  await api.submitForm({ ...lead, phone: '+44 20 7946 0000' });
  await eventually('the offered details on the timeline', async () =>
    (await api.lead(leadId)).timeline.some((t) => t.activity?.type === 'details_submitted'),
  );
  expect((await api.lead(leadId)).lead.profile.phone).toBe('+442079460958');

  const page = await newPage('desktop');
  await signIn(page, 'admin');
  await go(page, `#/leads/${leadId}`);
  const accept = page.getByRole('button', { name: 'Accept these details' });
  await accept.click();
  await expect.poll(async () => (await api.lead(leadId)).lead.profile.phone, POLL).toBe('+442079460000');
  await page.locator('.offered', { hasText: 'accepted' }).waitFor();
  expect(await accept.count()).toBe(0);
});

test('keyboard only: sign in, open the board and move a deal; axe-core finds nothing serious', async () => {
  const leadId = await dealAt('discovery', 10_000);
  const page = await newPage('desktop', true);
  await page.goto(endpoints.consoleUrl);
  const tabTo = async (matches: (el: { text: string; tag: string; href: string }) => boolean, limit = 60) => {
    for (let i = 0; i < limit; i++) {
      await page.keyboard.press('Tab');
      const el = await page.evaluate<{ text: string; tag: string; href: string }>(
        `({ text: document.activeElement?.textContent ?? '', tag: document.activeElement?.tagName ?? '', href: document.activeElement?.getAttribute('href') ?? '' })`,
      );
      if (matches(el)) return;
    }
    throw new Error('never reached the element with Tab');
  };
  await page.getByRole('button', { name: /\(manager\)/ }).waitFor();
  await tabTo((el) => el.text.includes('(manager)'));
  await page.keyboard.press('Enter');
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  await tabTo((el) => el.href === '#/board');
  await page.keyboard.press('Enter');
  await page.locator(`[data-stage="discovery"] [data-lead-id="${leadId}"]`).waitFor({ timeout: 15_000 });
  await tabTo((el) => el.href === `#/leads/${leadId}`);
  await page.keyboard.press('ArrowRight');
  await page.locator(`[data-stage="demo"] [data-lead-id="${leadId}"]`).waitFor();
  await expect.poll(async () => (await api.lead(leadId)).lead.pipelineStage, POLL).toBe('demo');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Score' }).waitFor();

  const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  const serious: unknown[] = [];
  for (const hash of ['#/board', `#/leads/${leadId}`, '#/dashboard']) {
    await go(page, hash);
    await page.waitForTimeout(hash === '#/dashboard' ? 4000 : 1500);
    await page.addScriptTag({ content: axeSource });
    const violations = await page.evaluate<
      Array<{ id: string; impact: string; nodes: Array<{ target: unknown }> }>
    >('axe.run().then((r) => r.violations)');
    serious.push(
      ...violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => ({ hash, id: v.id, targets: v.nodes.map((n) => n.target) })),
    );
  }
  expect(serious).toEqual([]);
});

test('every view at phone and desktop widths (kept as test artifacts)', async () => {
  const leadId = await dealAt('decision', 60_000);
  const views: Array<[string, 'rep' | 'manager' | 'admin', string]> = [
    ['signin', 'rep', ''],
    ['queue', 'rep', '#/queue'],
    ['lead', 'rep', `#/leads/${leadId}`],
    ['board', 'manager', '#/board'],
    ['dashboard', 'manager', '#/dashboard'],
    ['admin', 'admin', '#/admin'],
  ];
  for (const size of ['phone', 'desktop'] as const) {
    for (const [name, role, hash] of views) {
      const page = await newPage(size);
      if (name === 'signin') {
        await page.goto(endpoints.consoleUrl);
        await page.getByRole('button', { name: /\(rep\)/ }).waitFor();
      } else {
        await signIn(page, role);
        await go(page, hash);
        await page.getByRole('heading', { level: 1 }).waitFor();
        await page.waitForTimeout(name === 'dashboard' ? 5000 : 2000);
      }
      // Nothing may stick out sideways on a phone (the board scrolls inside its own strip).
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - window.innerWidth',
      );
      await screenshot(page, `${name}-${size}`);
      expect({ name, size, overflow }).toEqual({ name, size, overflow: 0 });
      await page.context().close();
    }
  }
});

/** A lead's tasks, from its timeline. */
async function tasksOf(leadId: string) {
  const { timeline } = await api.lead(leadId);
  return timeline.flatMap((t) =>
    t.kind === 'task'
      ? [
          (
            t as unknown as {
              task: { title: string; dueAt: string; done: boolean; origin?: string; closedBecause?: string };
            }
          ).task,
        ]
      : [],
  );
}

test('an assigned lead gets a follow-up task; "Mark contacted" pressed on the Slack recorder stops the SLA and updates the alert', async () => {
  await clearOfShiftGaps(config.reps, 60);
  const leadId = await leadFor(devRep);
  // The follow-up: one open task, due when the SLA escalates.
  const followUp = await eventually('the follow-up task', async () =>
    (await tasksOf(leadId)).find((t) => t.origin === 'follow-up'),
  );
  expect(followUp.done).toBe(false);
  const listed = await api.get<{ items: Array<{ id: string; slaDueAt?: string; openTasks?: number }> }>(
    '/leads?owner=me',
    'rep',
  );
  const row = listed.items.find((l) => l.id === leadId);
  expect(row?.openTasks).toBe(1);
  expect(followUp.dueAt).toBe(row?.slaDueAt);

  // The alert on the recorder page, with its buttons; press "Mark contacted" as the owner.
  const index = await eventually('the alert with its buttons', async () => {
    const i = (await api.slack()).findIndex(
      (m) => JSON.stringify(m.body).includes(leadId) && JSON.stringify(m.body).includes('lead.contacted'),
    );
    return i >= 0 ? i : undefined;
  });
  const owner = config.reps.find((r) => r.id === devRep);
  const page = await newPage('desktop');
  await page.goto(endpoints.slackRecorderUrl);
  const message = page.locator(`#message-${index}`);
  await message.getByRole('link', { name: 'Open' }).waitFor();
  expect(await message.getByRole('link', { name: 'Open' }).getAttribute('href')).toBe(
    `${endpoints.consoleUrl}/#/leads/${leadId}`,
  );
  await message.locator('select').selectOption(owner?.slackUserId ?? '');
  await message.getByRole('button', { name: 'Mark contacted' }).click();
  await page.locator(`#message-${index}.updated`).waitFor({ timeout: 15_000 });
  expect(await page.locator(`#message-${index}`).textContent()).toMatch(/made contact .* after capture/);
  expect(await page.locator(`#message-${index} button`).count()).toBe(0);
  await screenshot(page, 'slack-recorder-desktop');

  // The same command as the console's "Contacted": first touch recorded, SLA stopped, task closed.
  const { lead } = await api.lead(leadId);
  expect(lead.firstTouchAt).toBeDefined();
  expect(lead.status).toBe('contacted');
  await expect.poll(async () => (await api.schedulesFor(leadId)).pending.length, POLL).toBe(0);
  await expect
    .poll(async () => (await tasksOf(leadId)).find((t) => t.origin === 'follow-up')?.closedBecause, POLL)
    .toBe('contacted');
  const recorded = (await api.slack())[index];
  expect(recorded?.replacedBy?.text).toMatch(/^Contacted .* after capture$/);
});

test('overdue tasks and stale deals are highlighted on the queue and the board', async () => {
  const leadId = await dealAt('discovery', 15_000);
  // Entering Discovery created its required action (due in 48 h, so not overdue yet).
  await expect
    .poll(
      async () => (await tasksOf(leadId)).filter((t) => t.origin === 'stage-action').map((t) => t.title),
      POLL,
    )
    .toEqual([config.pipeline.stages[0]?.requiredActions[0]?.title]);
  // A call the rep promised an hour ago and did not make.
  const due = new Date(Date.now() - 3_600_000).toISOString();
  expect(
    (await api.post(`/leads/${leadId}/tasks`, { title: 'Call back about pricing', dueAt: due }, 'rep'))
      .status,
  ).toBe(201);

  const rep = await newPage('desktop');
  await signIn(rep, 'rep');
  const row = rep.locator(`.queue [data-lead-id="${leadId}"]`);
  await row.waitFor({ timeout: 15_000 });
  await expect.poll(() => row.getAttribute('class'), POLL).toContain('attention');
  expect(await row.textContent()).toContain('1 overdue task');
  await screenshot(rep, 'queue-overdue-desktop');

  const manager = await newPage('desktop');
  await signIn(manager, 'manager');
  await go(manager, '#/board');
  const card = manager.locator(`[data-stage="discovery"] [data-lead-id="${leadId}"]`);
  await card.waitFor({ timeout: 15_000 });
  expect(await card.getAttribute('class')).toContain('overdue-task');
  expect(await card.textContent()).toContain('1 overdue task');
  await screenshot(manager, 'board-overdue-desktop');
});
