/**
 * `npm run demo`: sends a realistic day of leads and behaviour through the running pipeline
 * (start it first with `npm start`). Mixed sources (HTML forms, the JSON API, Google Ads, Meta,
 * Typeform, Unbounce, Calendly, a generic webhook), mixed fit levels, duplicates, tracking
 * events and a few bad submissions. Everything goes over HTTP, exactly as in production.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { WEBHOOK_ADAPTERS, type WebhookProvider } from '../shared/webhooks';
import { webhookToken } from '../shared/webhooks/common';
import { WEBHOOK_SIGNERS } from '../shared/webhooks/sign';
import type { Endpoints } from './runtime';

const { values } = parseArgs({
  options: { endpoints: { type: 'string', default: '.local/endpoints.json' } },
});
if (!existsSync(values.endpoints)) {
  console.error(`No ${values.endpoints}: start the pipeline first with \`npm start\` (in another terminal).`);
  process.exit(1);
}
const endpoints = JSON.parse(readFileSync(values.endpoints, 'utf8')) as Endpoints;
const api = endpoints.apiUrl;
const secrets = endpoints.devSecrets;
const signingKey = secrets.signingKey ?? '';

interface Outcome {
  readonly what: string;
  readonly status: number;
  readonly note?: string;
}
const outcomes: Outcome[] = [];

async function post(
  what: string,
  path: string,
  body: string,
  headers: Record<string, string>,
): Promise<Response> {
  const response = await fetch(`${api}${path}`, { method: 'POST', body, headers, redirect: 'manual' });
  const note = response.headers.get('location') ?? undefined;
  outcomes.push({ what, status: response.status, ...(note ? { note } : {}) });
  return response;
}

/** Posts a JSON delivery to `/webhooks/<provider>`, signed as that vendor signs it. */
function postSigned(what: string, provider: WebhookProvider, body: string): Promise<Response> {
  const secret = secrets[WEBHOOK_ADAPTERS[provider].secret] ?? '';
  const delivery = WEBHOOK_SIGNERS[provider](body, secret, new Date());
  return post(what, `/webhooks/${provider}`, delivery.body, {
    'content-type': 'application/json',
    ...delivery.headers,
  });
}

const renderedAt = () => String(Date.now() - 20_000);

/** A plain HTML form post, as the demo landing page sends it. */
function formPost(what: string, fields: Record<string, string>) {
  return post(what, '/leads', new URLSearchParams({ _ts: renderedAt(), ...fields }).toString(), {
    'content-type': 'application/x-www-form-urlencoded',
    referer: 'https://www.northwind.example/demo?utm_source=google&utm_medium=cpc&utm_campaign=q4-analytics',
  });
}

/** A JSON submission from a landing page's script. */
async function jsonPost(
  what: string,
  fields: Record<string, unknown>,
): Promise<{ leadId?: string; visitorToken?: string }> {
  const response = await post(what, '/leads', JSON.stringify({ _ts: renderedAt(), ...fields }), {
    'content-type': 'application/json',
  });
  return response.ok ? ((await response.json()) as { leadId?: string; visitorToken?: string }) : {};
}

async function track(what: string, body: Record<string, unknown>) {
  await post(what, '/events', JSON.stringify(body), { 'content-type': 'text/plain' });
}

const people: Array<Record<string, string>> = [
  // High fit: executives at mid-size software companies (SQL-grade with behaviour).
  {
    first_name: 'Elena',
    last_name: 'Vogel',
    email: 'elena.vogel@kontor-software.de',
    job_title: 'VP of Engineering',
    company: 'Kontor Software',
    company_size: '500',
    industry: 'Software',
    country: 'DE',
    phone: '030 901820',
  },
  {
    first_name: 'Marcus',
    last_name: 'Reed',
    email: 'marcus.reed@brightlane.io',
    job_title: 'Chief Product Officer',
    company: 'Brightlane',
    company_size: '1200',
    industry: 'SaaS',
    country: 'US',
    phone: '(415) 555-0142',
  },
  {
    first_name: 'Aoife',
    last_name: 'Byrne',
    email: 'aoife@ledgerline.ie',
    job_title: 'Head of Data',
    company: 'Ledgerline',
    company_size: '350',
    industry: 'Fintech',
    country: 'IE',
  },
  // Mid fit: managers (MQL-grade).
  {
    first_name: 'Tom',
    last_name: 'Hughes',
    email: 'tom.hughes@parcelpoint.co.uk',
    job_title: 'Product Manager',
    company: 'ParcelPoint',
    company_size: '220',
    industry: 'Logistics',
    country: 'GB',
  },
  {
    first_name: 'Camille',
    last_name: 'Durand',
    email: 'camille.durand@atelier-data.fr',
    job_title: 'Analytics Lead',
    company: 'Atelier Data',
    company_size: '80',
    industry: 'Software',
    country: 'FR',
  },
  {
    first_name: 'Priyanka',
    last_name: 'Rao',
    email: 'priyanka.rao@cloudharbor.com',
    job_title: 'Engineering Manager',
    company: 'CloudHarbor',
    company_size: '650',
    industry: 'Information Technology',
    country: 'CA',
  },
  // Low fit: students, juniors, free-mail (nurture).
  {
    first_name: 'Jake',
    last_name: 'Miller',
    email: 'jake.miller1999@gmail.com',
    job_title: 'Student',
    company: '',
    company_size: '1',
    industry: 'Education',
    country: 'US',
  },
  {
    first_name: 'Sara',
    last_name: 'Lind',
    email: 'sara.lind@outlook.com',
    job_title: 'Junior Marketing Assistant',
    company: 'Lind Design',
    company_size: '5',
    industry: 'Design',
    country: 'SE',
  },
  {
    first_name: 'Zoë',
    last_name: 'Ñúñez',
    email: 'zoe.nunez@yahoo.es',
    job_title: 'Intern',
    company: 'Freelance',
    company_size: '1',
    industry: 'Retail',
    country: 'ES',
  },
  {
    first_name: 'Liu',
    last_name: 'Wei',
    email: 'liu.wei@hotmail.com',
    job_title: 'Assistant',
    company: '',
    company_size: '10',
    industry: 'Other',
    country: 'SG',
  },
];

console.log(`Sending a day of demo traffic to ${api} …`);

// Morning: landing-page forms and JSON posts. Each browser keeps the visitor token capture gives
// it (in the thank-you page's #lp_token), as the tracking script does.
const visitorTokens = new Map<string, string>();
for (const [i, person] of people.entries()) {
  if (i % 2 === 0) {
    const response = await formPost(`form: ${person.first_name} ${person.last_name}`, {
      ...person,
      form_id: 'demo-request',
      landing_page: 'https://www.northwind.example/demo',
    });
    const location = response.headers.get('location');
    const token = location ? new URLSearchParams(new URL(location).hash.slice(1)).get('lp_token') : null;
    if (token && person.email) visitorTokens.set(person.email, token);
  } else
    await jsonPost(`json: ${person.first_name} ${person.last_name}`, {
      ...person,
      marketing_consent: i % 3 === 0 ? 'yes' : 'no',
      utm_source: 'newsletter',
      utm_medium: 'email',
    });
}

// A visitor browses, then converts; their earlier anonymous page views are attached.
const visitorId = `demo-${Date.now().toString(36)}`;
for (const path of ['/', '/product', '/pricing', '/customers/acme']) {
  await track(`anonymous page view ${path}`, {
    type: 'page_view',
    path,
    visitorId,
    occurredAt: new Date().toISOString(),
    consent: { analytics: true },
  });
}
const converted = await jsonPost('json: converting visitor', {
  first_name: 'Hannah',
  last_name: 'Becker',
  email: 'hannah.becker@signalforge.de',
  job_title: 'Director of Product',
  company: 'Signalforge',
  company_size: '400',
  industry: 'SaaS',
  country: 'DE',
  _vid: visitorId,
  marketing_consent: 'yes',
});
if (converted.visitorToken) {
  await track('pricing page (identified)', {
    type: 'page_view',
    path: '/pricing',
    token: converted.visitorToken,
    occurredAt: new Date().toISOString(),
    consent: { analytics: true },
  });
  await track('demo request (identified)', {
    type: 'demo_request',
    token: converted.visitorToken,
    occurredAt: new Date(Date.now() + 1000).toISOString(),
    consent: { analytics: true },
  });
}

// Engagement that lifts an earlier lead over the SQL threshold, from Elena's own browser.
const elenaToken = visitorTokens.get('elena.vogel@kontor-software.de');
await track('Elena reads pricing', {
  type: 'page_view',
  path: '/pricing',
  token: elenaToken,
  occurredAt: new Date().toISOString(),
  consent: { analytics: true },
});
await track('Elena downloads a guide', {
  type: 'content_download',
  asset: 'product-analytics-guide.pdf',
  token: elenaToken,
  occurredAt: new Date().toISOString(),
  consent: { analytics: true },
});

// Duplicates: the same people again (gmail dots and +tags fold to one person).
await formPost('duplicate: Elena again', {
  ...people[0],
  message: 'Following up on my demo request',
} as Record<string, string>);
await jsonPost('duplicate: Jake with gmail dots and +tag', {
  first_name: 'Jake',
  email: 'jake.miller.1999+webinar@gmail.com',
  country: 'US',
});

// Ad platforms and form tools.
const googleLead = {
  google_key: secrets.googleAdsKey,
  lead_id: `demo-gads-${Date.now()}`,
  api_version: '1.0',
  form_id: 11223344,
  campaign_id: 55667788,
  gcl_id: 'EAIaIQobChMI-demo',
  is_test: false,
  user_column_data: [
    { column_id: 'FULL_NAME', string_value: 'Daniel Okafor', column_name: 'Full Name' },
    { column_id: 'EMAIL', string_value: 'daniel.okafor@tallyworks.com', column_name: 'User Email' },
    { column_id: 'PHONE_NUMBER', string_value: '+1 646 555 0199', column_name: 'User Phone' },
    { column_id: 'COMPANY_NAME', string_value: 'Tallyworks', column_name: 'Company Name' },
    { column_id: 'JOB_TITLE', string_value: 'VP Operations', column_name: 'Job Title' },
    { column_id: 'COUNTRY', string_value: 'US', column_name: 'Country' },
  ],
};
await post('Google Ads lead form', '/webhooks/google_ads', JSON.stringify(googleLead), {
  'content-type': 'application/json',
});
await post(
  'Google Ads test lead (stored, never alerted)',
  '/webhooks/google_ads',
  JSON.stringify({
    ...googleLead,
    lead_id: `demo-gads-test-${Date.now()}`,
    is_test: true,
    user_column_data: [{ column_id: 'EMAIL', string_value: 'test-lead@tallyworks.com' }],
  }),
  { 'content-type': 'application/json' },
);

const challenge = await fetch(
  `${api}/webhooks/meta?hub.mode=subscribe&hub.verify_token=${encodeURIComponent(secrets.metaVerifyToken ?? '')}&hub.challenge=demo-challenge`,
);
outcomes.push({
  what: 'Meta verification handshake',
  status: challenge.status,
  note: await challenge.text(),
});
const metaBody = JSON.stringify({
  object: 'page',
  entry: [
    {
      id: '1234567890',
      time: Math.floor(Date.now() / 1000),
      changes: [
        {
          field: 'leadgen',
          value: {
            leadgen_id: `${Date.now()}`,
            form_id: '987654321',
            page_id: '1234567890',
            created_time: Math.floor(Date.now() / 1000),
          },
        },
      ],
    },
  ],
});
await postSigned('Meta Lead Ads (no access token: stored as pending)', 'meta', metaBody);

const typeformBody = JSON.stringify({
  event_id: `demo-tf-${Date.now()}`,
  event_type: 'form_response',
  form_response: {
    form_id: 'lT4Z3j',
    token: `demo-tf-token-${Date.now()}`,
    submitted_at: new Date().toISOString(),
    hidden: { utm_source: 'linkedin', utm_medium: 'paid_social' },
    definition: {
      id: 'lT4Z3j',
      title: 'Talk to sales',
      fields: [
        { id: 'f1', ref: 'first_name', type: 'short_text', title: 'First name' },
        { id: 'f2', ref: 'email', type: 'email', title: 'Work email' },
        { id: 'f3', ref: 'company', type: 'short_text', title: 'Company' },
        { id: 'f4', ref: 'job_title', type: 'short_text', title: 'Job title' },
      ],
    },
    answers: [
      { type: 'text', text: 'Ingrid', field: { id: 'f1', type: 'short_text', ref: 'first_name' } },
      {
        type: 'email',
        email: 'ingrid.solberg@fjordmetrics.no',
        field: { id: 'f2', type: 'email', ref: 'email' },
      },
      { type: 'text', text: 'Fjord Metrics', field: { id: 'f3', type: 'short_text', ref: 'company' } },
      { type: 'text', text: 'Head of Growth', field: { id: 'f4', type: 'short_text', ref: 'job_title' } },
    ],
  },
});
await postSigned('Typeform response', 'typeform', typeformBody);

const unbounce = new URLSearchParams({
  page_id: 'a2b3c4d5-demo',
  page_name: 'Analytics free trial',
  page_url: 'https://go.northwind.example/trial',
  variant: 'a',
  'data.json': JSON.stringify({
    first_name: ['Mateo'],
    email: ['mateo.garcia@rutaverde.mx'],
    company: ['Ruta Verde'],
    job_title: ['Operations Manager'],
    country: ['MX'],
  }),
});
await post(
  'Unbounce page',
  `/webhooks/unbounce?token=${webhookToken(signingKey, 'unbounce')}`,
  unbounce.toString(),
  {
    'content-type': 'application/x-www-form-urlencoded',
  },
);

const calendlyBody = JSON.stringify({
  event: 'invitee.created',
  created_at: new Date().toISOString(),
  payload: {
    uri: `https://api.calendly.com/scheduled_events/DEMO/invitees/${Date.now()}`,
    email: 'marcus.reed@brightlane.io',
    name: 'Marcus Reed',
    first_name: 'Marcus',
    last_name: 'Reed',
    status: 'active',
    scheduled_event: {
      uri: 'https://api.calendly.com/scheduled_events/DEMO',
      name: 'Northwind demo',
      start_time: new Date(Date.now() + 86_400_000).toISOString(),
      end_time: new Date(Date.now() + 88_200_000).toISOString(),
    },
  },
});
await postSigned('Calendly booking (existing lead)', 'calendly', calendlyBody);

await postSigned(
  'Generic JSON webhook',
  'generic',
  JSON.stringify({
    contact: {
      email: 'nina.petrova@quantleaf.com',
      first_name: 'Nina',
      last_name: 'Petrova',
      phone: '+44 20 7946 0958',
    },
    company: { name: 'Quantleaf' },
  }),
);

// Nurture addresses that exercise SES's mailbox simulator.
await jsonPost('nurture lead that will bounce', {
  first_name: 'Bo',
  email: 'bounce@simulator.amazonses.com',
  job_title: 'Student',
  country: 'US',
  marketing_consent: 'yes',
});

// Bad submissions: each is answered with a clear 4xx, and nothing is stored.
await jsonPost('bad: no email or phone', { first_name: 'Nobody' });
await jsonPost('bad: invalid email', { first_name: 'Typo', email: 'typo@@example', phone: 'n/a' });
await formPost('spam: honeypot filled', {
  first_name: 'Bot',
  email: 'bot@spam.example',
  hp_website: 'http://spam.example',
});
await post('bad: unsupported content type', '/leads', '<lead/>', { 'content-type': 'application/xml' });
await post(
  'bad: Google Ads with a wrong key',
  '/webhooks/google_ads',
  JSON.stringify({ ...googleLead, google_key: 'wrong' }),
  { 'content-type': 'application/json' },
);

const width = Math.max(...outcomes.map((o) => o.what.length));
for (const o of outcomes)
  console.log(
    `${String(o.status).padStart(3)}  ${o.what.padEnd(width)}${o.note ? `  ${o.note.slice(0, 80)}` : ''}`,
  );
const ok = outcomes.filter((o) => o.status < 400).length;
console.log(`\n${outcomes.length} requests: ${ok} accepted, ${outcomes.length - ok} refused with a reason.`);
console.log(
  'Watch the pipeline in the `npm start` terminal; Slack and SNS alerts are at',
  endpoints.slackRecorderUrl,
  'and',
  endpoints.snsRecorderUrl,
);
console.log('Emails (auto-responses and nurture) are in the SES inbox at', endpoints.sesInboxUrl);
