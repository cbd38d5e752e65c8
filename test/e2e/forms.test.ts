import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../../infra/lib/paths';
import type { Endpoints } from '../../local/runtime';
import { webhookToken } from '../../shared/webhooks/common';
import { type E2eRuntime, eventually, type PipelineClient, startE2eRuntime } from './support';

/**
 * Forms as vendors send them, through the routes the README names, on the offline runtime of
 * `clients/e2e.yaml`: HubSpot, Salesforce Web-to-Lead and Contact Form 7 post to `POST /leads`;
 * Gravity Forms, LinkedIn and Cal.com post to `POST /webhooks/{provider}`.
 */

let booted: E2eRuntime;
let endpoints: Endpoints;
let api: PipelineClient;
let dataDir: string;

beforeAll(async () => {
  booted = await startE2eRuntime('forms');
  ({ endpoints, api, dataDir } = booted);
  // A cold start on a busy machine can outlast the function's timeout (answered 500, as Lambda
  // would); these tests are about what the functions do, so they start once the two are warm.
  for (const path of ['/leads', '/webhooks/generic', '/admin/imports']) {
    await eventually(
      `${path} to answer without a cold-start timeout`,
      async () =>
        (await postJson(path, {}, { authorization: `Bearer ${endpoints.tokens.admin}` })).status !== 500,
      { timeoutMs: 120_000 },
    );
  }
});

afterAll(async () => {
  await booted?.dispose();
});

async function postJson(path: string, body: unknown, headers: Record<string, string> = {}) {
  const raw = JSON.stringify(body);
  const response = await fetch(`${endpoints.apiUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: raw,
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** The signed POST a provider sends: `sign` gets the exact body text. */
async function postSigned(path: string, body: unknown, sign: (raw: string) => Record<string, string>) {
  const raw = JSON.stringify(body);
  const response = await fetch(`${endpoints.apiUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...sign(raw) },
    body: raw,
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

const hmacHex = (key: string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest('hex');

/** Waits until scoring has run on the lead (its score is stored), and returns the lead. */
async function scored(leadId: string) {
  return eventually(`lead ${leadId} to be scored`, async () => {
    const { lead } = await api.lead(leadId);
    return lead.score ? lead : undefined;
  });
}

describe('POST /leads', () => {
  test('takes a HubSpot Forms submission: fields, page context, consent and a multi-select list', async () => {
    const answer = await postJson('/leads', {
      fields: [
        { objectTypeId: '0-1', name: 'email', value: 'lena.fischer@contoso.example' },
        { objectTypeId: '0-1', name: 'firstname', value: 'Lena' },
        { objectTypeId: '0-1', name: 'lastname', value: 'Fischer' },
        { objectTypeId: '0-1', name: 'jobtitle', value: 'Head of Data' },
        { objectTypeId: '0-2', name: 'name', value: 'Contoso GmbH' },
        { objectTypeId: '0-1', name: 'use_cases', value: 'Dashboards;Alerts' },
      ],
      context: {
        hutk: '6f453d92607b8108998dc213178ad214',
        pageUri: 'https://www.northwind.example/demo',
        pageName: 'Book a demo',
        ipAddress: '198.51.100.7',
      },
      legalConsentOptions: {
        consent: {
          consentToProcess: true,
          text: 'I agree to allow Northwind to store and process my personal data.',
          communications: [{ value: true, subscriptionTypeId: 999, text: 'Marketing email' }],
        },
      },
    });
    expect(answer, JSON.stringify(answer.body)).toMatchObject({ status: 201 });
    const lead = await scored(answer.body.leadId);
    expect(lead.profile).toMatchObject({
      email: 'lena.fischer@contoso.example',
      firstName: 'Lena',
      lastName: 'Fischer',
      company: 'Contoso GmbH',
      extra: { use_cases: '["Dashboards","Alerts"]', page_name: 'Book a demo' },
    });
    expect(lead.consent).toMatchObject({ marketing: true });
    expect(lead.source).toMatchObject({ landingPage: 'https://www.northwind.example/demo' });
  });

  test('takes a Salesforce Web-to-Lead post and honours its allow-listed retURL; 00N fields map through the client file', async () => {
    const response = await fetch(endpoints.captureUrl, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({
        oid: '00D5e000000AbCd',
        retURL: 'https://go.northwind.example/thanks-salesforce',
        first_name: 'Grace',
        last_name: 'Hopper',
        email: 'grace@cobol.example',
        company: 'Navy Labs',
        title: 'Rear Admiral',
        lead_source: 'Trade Show',
        '00N5e00000AbCdE': '50k-100k',
        '00N5e00000ZzZzZ': 'Q1',
      }).toString(),
    });
    expect(response.status).toBe(303);
    // Offline the off-machine retURL lands on the local thank-you page, which names it.
    const location = new URL(response.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(`${endpoints.apiUrl}/_local/thank-you`);
    expect(location.searchParams.get('to')).toBe('https://go.northwind.example/thanks-salesforce');
    expect(location.hash).toMatch(/^#lp_token=/);
    const person = await api.person('grace@cobol.example');
    if (!person.found) throw new Error('the Web-to-Lead lead was not stored');
    expect(person.lead.profile).toMatchObject({
      firstName: 'Grace',
      jobTitle: 'Rear Admiral',
      extra: { budget_range: '50k-100k', '00N5e00000ZzZzZ': 'Q1', lead_source: 'Trade Show' },
    });
    expect(Object.keys(person.lead.profile.extra)).not.toContain('oid');
  });

  test("takes Contact Form 7's default names; a US number without a country is kept as typed and sets no country", async () => {
    const answer = await postJson('/leads', {
      'your-name': 'Kwame Mensah',
      'your-email': 'kwame@adinkra.example',
      'your-subject': 'Demo request',
      'your-message': 'Can we see the routing rules?',
      'tel-417': '(201) 555-0123',
    });
    expect(answer.status).toBe(201);
    const lead = await scored(answer.body.leadId);
    expect(lead.profile).toMatchObject({
      firstName: 'Kwame',
      email: 'kwame@adinkra.example',
      message: 'Can we see the routing rules?',
      phoneRaw: '(201) 555-0123',
      extra: { your_subject: 'Demo request' },
    });
    // Valid only as a London number under the client's default (GB): not evidence of where Kwame is.
    expect(lead.profile.phoneCountry).toBeUndefined();
    expect(lead.profile.country).toBeUndefined();
  });
});

describe('POST /webhooks/{provider}', () => {
  test('generic: a Gravity Forms entry with dotted input ids, through the field map', async () => {
    const token = webhookToken(endpoints.devSecrets.signingKey ?? '', 'generic');
    const answer = await postJson(
      '/webhooks/generic',
      {
        id: '1187',
        form_id: '3',
        source_url: 'https://www.northwind.example/contact/',
        '1.3': 'Priya',
        '1.6': 'Raman',
        '2': 'priya.raman@fabrikam.example',
        '3': '+44 20 7946 0101',
        '5': 'Fabrikam Ltd',
        '4.1': '1',
        '4.2': 'I agree to receive product news by email.',
      },
      { 'x-webhook-token': token },
    );
    expect(answer, JSON.stringify(answer.body)).toMatchObject({ status: 200 });
    const leadId = answer.body.results[0].leadId as string;
    const lead = await scored(leadId);
    expect(lead.profile).toMatchObject({
      firstName: 'Priya',
      lastName: 'Raman',
      email: 'priya.raman@fabrikam.example',
      phone: '+442079460101',
      company: 'Fabrikam Ltd',
    });
    expect(lead.consent).toMatchObject({ marketing: true });
    expect(lead.source).toMatchObject({ provider: 'generic', externalId: '1187' });
  });

  test('linkedin: answers the endpoint validation, verifies X-LI-Signature and keeps the lead (pending without an access token)', async () => {
    const clientSecret = endpoints.devSecrets.linkedinClientSecret ?? '';
    expect(clientSecret).not.toBe('');
    const challengeCode = '890e4665-4dfe-4ab1-b689-ed553bceeed0';
    const validation = await fetch(`${endpoints.apiUrl}/webhooks/linkedin?challengeCode=${challengeCode}`);
    expect(validation.status).toBe(200);
    expect(await validation.json()).toEqual({
      challengeCode,
      challengeResponse: hmacHex(clientSecret, challengeCode),
    });

    const notification = {
      type: 'LEAD_ACTION',
      leadGenFormResponse: 'urn:li:leadGenFormResponse:e2e-response-1',
      leadGenForm: 'urn:li:versionedLeadGenForm:(urn:li:leadGenForm:5501,2)',
      owner: { sponsoredAccount: 'urn:li:sponsoredAccount:50810' },
      leadType: 'SPONSORED',
      leadAction: 'CREATED',
      occurredAt: Date.now(),
    };
    const forged = await postSigned('/webhooks/linkedin', notification, (raw) => ({
      'x-li-signature': hmacHex('not-the-secret', `hmacsha256=${raw}`),
    }));
    expect(forged.status).toBe(401);
    const delivered = await postSigned('/webhooks/linkedin', notification, (raw) => ({
      'x-li-signature': hmacHex(clientSecret, `hmacsha256=${raw}`),
    }));
    expect(delivered.status).toBe(200);
    expect(delivered.body.results).toEqual([
      { outcome: 'created', leadId: expect.any(String), pending: true },
    ]);
    const { lead } = await api.lead(delivered.body.results[0].leadId);
    expect(lead).toMatchObject({
      status: 'pending',
      source: { provider: 'linkedin', channel: 'paid_social', externalId: 'e2e-response-1', formId: '5501' },
    });
  });

  test('calcom: a booked meeting makes a low-scoring lead SQL, and the score says why', async () => {
    const secret = endpoints.devSecrets.calcomSecret ?? '';
    const booking = {
      triggerEvent: 'BOOKING_CREATED',
      createdAt: new Date().toISOString(),
      payload: {
        type: '30min',
        title: '30 Minute Demo between Northwind and Ravi Shah',
        startTime: new Date(Date.now() + 86_400_000).toISOString(),
        endTime: new Date(Date.now() + 88_200_000).toISOString(),
        responses: {
          name: { label: 'your_name', value: 'Ravi Shah' },
          email: { label: 'email_address', value: 'ravi.shah@gmail.example' },
        },
        attendees: [{ email: 'ravi.shah@gmail.example', name: 'Ravi Shah', timeZone: 'Europe/London' }],
        uid: 'e2e-booking-ravi',
        eventTitle: '30 Minute Demo',
        status: 'ACCEPTED',
      },
    };
    const answer = await postSigned('/webhooks/calcom', booking, (raw) => ({
      'x-cal-signature-256': hmacHex(secret, raw),
    }));
    expect(answer.status).toBe(200);
    const leadId = answer.body.leadId as string;
    const lead = await eventually('the meeting to make the lead SQL', async () => {
      const found = (await api.lead(leadId)).lead;
      return found.score?.stage === 'SQL' ? found : undefined;
    });
    expect(lead.score?.total).toBeLessThan(70);
    expect(lead.score?.reasons).toContainEqual(
      expect.objectContaining({
        ruleId: 'meeting',
        minStage: 'SQL',
        detail: expect.stringContaining('at least SQL'),
      }),
    );
  });
});

describe('bulk import', () => {
  const CSV = [
    'Email,First Name,Last Name,Company,Job Title,Country,Notes',
    'ines.moreau@margie.example,Ines,Moreau,Margie Travel,VP Operations,FR,"Booth 12, wants a demo"',
    'bad-address,Tom,Lee,Proseware,CTO,GB,',
    'ines.moreau@margie.example,Ines,Moreau,Margie Travel,,FR,scanned twice',
  ].join('\n');

  test('npm run import: a dry run reports each row, then the import takes the list through the pipeline', async () => {
    const file = join(dataDir, 'badge-scans.csv');
    writeFileSync(file, CSV);
    const run = (...args: string[]) =>
      promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', 'local/import.ts', '--endpoints', join(dataDir, 'endpoints.json'), ...args, file],
        { cwd: REPO_ROOT },
      );
    const dry = await run('--client', 'e2e', '--dry-run', '--list', 'Expo 2026');
    expect(dry.stdout).toContain('Dry run: 3 rows');
    expect(dry.stdout).toContain('1 would-create');
    expect(dry.stdout).toContain('line 3: email: not a valid email address');
    expect(dry.stdout).toContain('line 4: the same person as line 2; skipped');
    expect((await api.person('ines.moreau@margie.example')).found).toBe(false);

    const real = await run('--client', 'e2e', '--list', 'Expo 2026');
    expect(real.stdout).toContain('1 created');
    const person = await api.person('ines.moreau@margie.example');
    if (!person.found) throw new Error('the imported lead was not stored');
    expect(person.lead.source).toMatchObject({ provider: 'import', formId: 'Expo 2026' });
    // The same pipeline as a captured lead: scored afterwards.
    await scored(person.leadId);
  });

  test('POST /admin/imports refuses anyone but an admin', async () => {
    const answer = await api.post('/admin/imports', { csv: CSV, dryRun: true }, 'rep');
    expect(answer.status).toBe(403);
  });
});
