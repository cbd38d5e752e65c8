import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { CLIENTS_DIR } from '../../infra/lib/paths';
import type { Endpoints, LocalRuntime } from '../../local/runtime';
import { loadClientConfig } from '../../shared/config/load';
import type { ClientConfig } from '../../shared/config/schema';
import {
  clearOfShiftGaps,
  type E2eRuntime,
  eventually,
  launchChromium,
  type PipelineClient,
  startE2eRuntime,
} from './support';

/**
 * The demo landing page in a real browser (Debian's Chromium driven by playwright-core) against
 * the offline runtime: the tracking script records page views only after consent, the bot checks
 * act on what a browser sends, and a submission ends on the local thank-you page with the rep
 * alerted. `clients/e2e.yaml` is in `consent-required` mode with a 3-second minimum to submit.
 */

let booted: E2eRuntime;
let runtime: LocalRuntime;
let endpoints: Endpoints;
let api: PipelineClient;
let config: ClientConfig;
let browser: Browser;

beforeAll(async () => {
  config = loadClientConfig('e2e', CLIENTS_DIR);
  [booted, browser] = await Promise.all([startE2eRuntime('browser'), launchChromium()]);
  ({ runtime, endpoints, api } = booted);
  // The tracking function's first load on a loaded 2-core machine can take longer than Lambda's
  // init limit; serve /t.js once before the browser needs it (a deployed page would just retry).
  await eventually(
    'the tracking script to be served',
    async () => (await fetch(`${endpoints.apiUrl}/t.js`)).ok,
    {
      timeoutMs: 60_000,
      intervalMs: 1000,
    },
  );
  // A first boot synthesizes the stack: minutes on a busy 2-core machine.
}, 420_000);

afterAll(async () => {
  await browser?.close();
  await booted?.dispose();
});

/** A fresh visitor (empty storage) on the demo page, with every beacon to `/events` recorded. */
async function visit(): Promise<{ context: BrowserContext; page: Page; beacons: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const beacons: string[] = [];
  page.on('request', (request) => {
    if (request.url() === `${endpoints.apiUrl}/events`) beacons.push(request.postData() ?? '');
  });
  // `load` waits for the async tracking script too.
  await page.goto(endpoints.landingPageUrl, { waitUntil: 'load' });
  await page.waitForFunction('window.leadTracker !== undefined', undefined, { polling: 100 });
  return { context, page, beacons };
}

/** Fills the demo form as a marketing-qualified lead (a VP at a mid-sized software firm). */
async function fillForm(page: Page, name: string, email: string): Promise<void> {
  const [first, last] = name.split(' ');
  await page.fill('#first_name', first ?? name);
  await page.fill('#last_name', last ?? '');
  await page.fill('#email', email);
  await page.fill('#company', `${last} Software`);
  await page.fill('#job_title', 'VP Engineering');
  await page.selectOption('#industry', 'Software');
}

/** Submits and waits for the thank-you page the browser lands on. */
async function submit(page: Page): Promise<URL> {
  await Promise.all([page.waitForURL(/\/_local\/thank-you/), page.click('button[type=submit]')]);
  return new URL(page.url());
}

test('page views are recorded after consent and none before; the submission is stored, alerted and thanked', async () => {
  await clearOfShiftGaps(config.reps, 30);
  const { context, page, beacons } = await visit();
  try {
    await expect.poll(() => page.isVisible('#consent')).toBe(true);
    // Consent-required: the script is loaded and running, but nothing is sent before consent.
    await page.waitForTimeout(500);
    expect(beacons).toEqual([]);
    expect(await page.evaluate('localStorage.getItem("lp_vid")')).toBeNull();

    const pageView = page.waitForResponse((r) => r.url() === `${endpoints.apiUrl}/events`);
    await page.click('#consent button[data-consent=yes]');
    const answer = await pageView;
    expect(answer.status()).toBe(202);
    expect(await answer.json()).toMatchObject({ accepted: 1, stored: 1 });
    expect(JSON.parse(beacons[0] ?? '{}')).toMatchObject({ type: 'page_view', consent: { analytics: true } });
    expect(await page.isVisible('#consent')).toBe(false);

    // A person takes longer than the minimum to fill in the form.
    await fillForm(page, 'Beatrice Browser', 'beatrice.browser@browser-software.example');
    await page.waitForTimeout(config.capture.minSecondsToSubmit * 1000 + 200);
    const fields = (await page.evaluate(
      'Object.fromEntries(new FormData(document.querySelector("form")))',
    )) as Record<string, string>;
    // The tracking script decorated the form: render time and visitor id (http:// API base offline).
    expect(Number(fields._ts)).toBeGreaterThan(0);
    expect(fields._vid).toEqual(expect.any(String));

    const landed = await submit(page);
    expect(landed.searchParams.get('to')).toBe(new URL(String(config.capture.thankYouUrl)).href);
    const leadId = (await page.textContent('#lead-id')) ?? '';
    expect(leadId).not.toBe('');
    expect(await page.textContent('main')).toContain('A rep will contact you');
    expect(await page.getAttribute(`a[href="${endpoints.slackRecorderUrl}"]`, 'href')).toBe(
      endpoints.slackRecorderUrl,
    );

    // Stored, assigned and alerted; the page view made before the form belongs to the lead now.
    await eventually('an SNS alert for the browser lead', async () =>
      (await api.sns()).some((r) => r.message.includes(leadId)),
    );
    const { lead, timeline } = await api.lead(leadId);
    expect(lead.profile.email).toBe('beatrice.browser@browser-software.example');
    expect(lead.owner).toEqual(expect.any(String));
    expect(timeline.map((t) => t.activity?.type)).toContain('page_view');
  } finally {
    await context.close();
  }
}, 120_000);

test('a submission faster than the minimum time to submit is answered like any other but not stored', async () => {
  // A bot: the form is filled before the tracking script has run, and sent the moment it has
  // (in the page itself, so a slow test machine cannot make the bot look slow).
  const context = await browser.newContext();
  const page = await context.newPage();
  let release = () => {};
  const filled = new Promise<void>((resolve) => {
    release = resolve;
  });
  await page.route(`${endpoints.apiUrl}/t.js`, async (route) => {
    await filled;
    await route.continue();
  });
  try {
    const email = 'speedy.bot@bot-software.example';
    await page.goto(endpoints.landingPageUrl, { waitUntil: 'domcontentloaded' });
    await fillForm(page, 'Speedy Bot', email);
    await page.evaluate(
      `document.querySelector('script[src$="/t.js"]').addEventListener('load', () => document.querySelector('form').requestSubmit())`,
    );
    const landed = page.waitForURL(/\/_local\/thank-you/);
    release();
    await landed;
    expect(await page.isVisible('#not-stored')).toBe(true);
    expect(await page.isVisible('#lead-id')).toBe(false);
    await runtime.quiesce();
    expect((await api.person(email)).found).toBe(false);
  } finally {
    await context.close();
  }
}, 60_000);

test('a submission with the honeypot filled in is answered like any other but not stored', async () => {
  const { context, page } = await visit();
  try {
    const email = 'honey.bot@bot-software.example';
    await fillForm(page, 'Honey Bot', email);
    // What a form-filling bot does: every input gets a value, the hidden one too.
    await page.fill(`#${config.capture.honeypotField}`, 'https://spam.example');
    await page.waitForTimeout(config.capture.minSecondsToSubmit * 1000 + 200);
    await submit(page);
    expect(await page.isVisible('#not-stored')).toBe(true);
    await runtime.quiesce();
    expect((await api.person(email)).found).toBe(false);
  } finally {
    await context.close();
  }
}, 60_000);
