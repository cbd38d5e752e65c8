import { describe, expect, it } from 'vitest';
import { matchesAll } from '../../shared/domain/conditions';
import { hubSpotFields, isHubSpotSubmission, vendorSubmissionFields } from '../../shared/domain/form-vendors';
import { leadFacts } from '../../shared/domain/lead';
import { type NormaliseOptions, normaliseSubmission } from '../../shared/domain/normalise';
import { guessFieldFromQuestion } from '../../shared/domain/submission';

const OPTIONS: NormaliseOptions = {
  defaultCountry: 'GB',
  maxExtraFields: 25,
  now: new Date('2026-12-01T09:00:00.000Z'),
  provider: 'api',
};

function normalised(body: Record<string, unknown>, fieldMap: Record<string, string> = {}) {
  const result = normaliseSubmission(vendorSubmissionFields(body, fieldMap), OPTIONS);
  if (!result.ok) throw new Error(`expected a lead, got ${JSON.stringify(result.errors)}`);
  return result;
}

/** A HubSpot Forms API v3 submission body, as a site replacing HubSpot's endpoint posts it. */
const HUBSPOT = {
  submittedAt: '1764579600000',
  fields: [
    { objectTypeId: '0-1', name: 'email', value: 'lena.fischer@contoso.example' },
    { objectTypeId: '0-1', name: 'firstname', value: 'Lena' },
    { objectTypeId: '0-1', name: 'lastname', value: 'Fischer' },
    { objectTypeId: '0-1', name: 'jobtitle', value: 'Head of Data' },
    { objectTypeId: '0-1', name: 'phone', value: '030 901820' },
    { objectTypeId: '0-1', name: 'country', value: 'Germany' },
    { objectTypeId: '0-2', name: 'name', value: 'Contoso GmbH' },
    { objectTypeId: '0-2', name: 'numberofemployees', value: '250' },
    { objectTypeId: '0-1', name: 'use_cases', value: 'Dashboards;Data warehouse sync;Alerts' },
    { objectTypeId: '0-1', name: 'message', value: 'Pricing for 3 teams; EU hosting?' },
  ],
  context: {
    hutk: '6f453d92607b8108998dc213178ad214',
    pageUri: 'https://www.northwind.example/demo?utm_source=linkedin&utm_medium=paid_social',
    pageName: 'Book a demo',
    ipAddress: '198.51.100.7',
  },
  legalConsentOptions: {
    consent: {
      consentToProcess: true,
      text: 'I agree to allow Northwind to store and process my personal data.',
      communications: [
        { value: true, subscriptionTypeId: 999, text: 'I agree to receive marketing communications.' },
      ],
    },
  },
};

describe('HubSpot Forms submissions', () => {
  it('recognises the shape and flattens fields, context and consent', () => {
    expect(isHubSpotSubmission(HUBSPOT)).toBe(true);
    expect(isHubSpotSubmission({ email: 'a@b.example', fields: 'x' })).toBe(false);
    expect(hubSpotFields(HUBSPOT)).toEqual({
      email: 'lena.fischer@contoso.example',
      firstname: 'Lena',
      lastname: 'Fischer',
      jobtitle: 'Head of Data',
      phone: '030 901820',
      country: 'Germany',
      company: 'Contoso GmbH',
      numberofemployees: '250',
      use_cases: ['Dashboards', 'Data warehouse sync', 'Alerts'],
      message: 'Pricing for 3 teams; EU hosting?',
      landing_page: HUBSPOT.context.pageUri,
      page_name: 'Book a demo',
      hubspotutk: HUBSPOT.context.hutk,
      marketing_consent: 'yes',
    });
  });

  it('becomes a lead: names, company, size, phone in the lead country, attribution, consent, multi-select as a list', () => {
    const { profile, source, consent } = normalised(HUBSPOT);
    expect(profile).toMatchObject({
      email: 'lena.fischer@contoso.example',
      firstName: 'Lena',
      lastName: 'Fischer',
      jobTitle: 'Head of Data',
      company: 'Contoso GmbH',
      companySize: 250,
      country: 'DE',
      phone: '+4930901820',
      phoneCountry: 'DE',
      message: 'Pricing for 3 teams; EU hosting?',
      extra: {
        use_cases: '["Dashboards","Data warehouse sync","Alerts"]',
        page_name: 'Book a demo',
        hubspotutk: HUBSPOT.context.hutk,
      },
    });
    // The IP address is not kept anywhere.
    expect(JSON.stringify(profile)).not.toContain('198.51.100.7');
    expect(source).toMatchObject({ landingPage: HUBSPOT.context.pageUri });
    expect(consent).toMatchObject({ marketing: true, via: 'api:marketing_consent' });
  });

  it('records no consent for consentToProcess or legitimate interest alone, and a no when every box is unticked', () => {
    const processOnly = {
      ...HUBSPOT,
      legalConsentOptions: { consent: { consentToProcess: true, text: 'ok' } },
    };
    expect(normalised(processOnly).consent).toBeUndefined();
    const legitimate = {
      ...HUBSPOT,
      legalConsentOptions: {
        legitimateInterest: { value: true, subscriptionTypeId: 999, legalBasis: 'LEAD', text: 'x' },
      },
    };
    expect(normalised(legitimate).consent).toBeUndefined();
    const declined = {
      ...HUBSPOT,
      legalConsentOptions: {
        consent: {
          consentToProcess: true,
          text: 'ok',
          communications: [{ value: false, subscriptionTypeId: 999, text: 'x' }],
        },
      },
    };
    expect(normalised(declined).consent).toMatchObject({ marketing: false });
  });

  it('keeps our own plumbing posted next to the HubSpot fields', () => {
    expect(vendorSubmissionFields({ ...HUBSPOT, _ts: '1', redirect: 'https://x.example/' })).toMatchObject({
      _ts: '1',
      redirect: 'https://x.example/',
    });
  });
});

describe('Salesforce Web-to-Lead', () => {
  const WEB_TO_LEAD = {
    oid: '00D5e000000AbCd',
    retURL: 'https://www.northwind.example/thanks',
    debug: '1',
    debugEmail: 'admin@northwind.example',
    salutation: 'Ms.',
    first_name: 'Grace',
    last_name: 'Hopper',
    email: 'grace@cobol.example',
    company: 'Navy Labs',
    title: 'Rear Admiral',
    phone: '+1 202 555 0147',
    url: 'https://cobol.example',
    description: 'Looking for a pilot in Q1.',
    lead_source: 'Web',
    industry: 'Government',
    employees: '1200',
    emailOptOut: '1',
    '00N5e00000AbCdE': '50k-100k',
    '00N5e00000XyZabCDE': 'Webinar',
  };

  it('reads the standard field names; retURL, oid and the debug switches are not lead data', () => {
    const { profile, consent } = normalised(WEB_TO_LEAD);
    expect(profile).toMatchObject({
      firstName: 'Grace',
      lastName: 'Hopper',
      email: 'grace@cobol.example',
      company: 'Navy Labs',
      jobTitle: 'Rear Admiral',
      phone: '+12025550147',
      phoneCountry: 'US',
      website: 'https://cobol.example',
      message: 'Looking for a pilot in Q1.',
      industry: 'Government',
      companySize: 1200,
    });
    expect(Object.keys(profile.extra).sort()).toEqual([
      '00N5e00000AbCdE',
      '00N5e00000XyZabCDE',
      'lead_source',
      'salutation',
    ]);
    // emailOptOut checked: a clear no to marketing email.
    expect(consent).toMatchObject({ marketing: false });
  });

  it('maps 00N custom fields through the client file, to a lead field or an extra key', () => {
    const { profile } = normalised(WEB_TO_LEAD, {
      '00N5e00000AbCdE': 'budget_range',
      '00N5e00000XyZabCDE': 'utm_campaign',
    });
    expect(profile.extra).toMatchObject({ budget_range: '50k-100k' });
    expect(profile.extra['00N5e00000AbCdE']).toBeUndefined();
    expect(normalised(WEB_TO_LEAD, { '00N5e00000XyZabCDE': 'utm_campaign' }).source.utm).toEqual({
      campaign: 'Webinar',
    });
  });

  it('records nothing about consent when emailOptOut is not ticked', () => {
    const { emailOptOut: _optOut, ...unticked } = WEB_TO_LEAD;
    expect(normalised(unticked).consent).toBeUndefined();
  });
});

describe('Contact Form 7 default field names', () => {
  it('reads your-name, your-email, your-message and a numbered tel-NNN phone; keeps your-subject', () => {
    const { profile } = normalised({
      'your-name': 'Kwame Mensah',
      'your-email': 'kwame@adinkra.example',
      'your-subject': 'Demo request',
      'your-message': 'Can we see the routing rules?',
      'tel-417': '+233 24 412 3456',
      _wpcf7: '42',
      _wpcf7_version: '5.9',
      _wpcf7_unit_tag: 'wpcf7-f42-p7-o1',
    });
    expect(profile).toMatchObject({
      firstName: 'Kwame',
      lastName: 'Mensah',
      email: 'kwame@adinkra.example',
      message: 'Can we see the routing rules?',
      phone: '+233244123456',
      phoneValid: true,
      extra: { your_subject: 'Demo request' },
    });
    expect(Object.keys(profile.extra)).toEqual(['your_subject']);
  });
});

describe('guessFieldFromQuestion', () => {
  it.each([
    ['mobile_for_callback', 'phone'],
    ['what_is_your_work_phone_number?', 'phone'],
    ['Your e-mail', 'email'],
    ['what_is_your_work_email?', 'email'],
    ['first_name_(as_on_id)', 'firstName'],
    ['your_company_name', 'company'],
    ['current_job_title', 'jobTitle'],
    ['full_name_please', 'fullName'],
  ])('%s → %s', (key, field) => {
    expect(guessFieldFromQuestion(key)).toBe(field);
  });

  it('leaves questions that name no standard field alone', () => {
    expect(guessFieldFromQuestion('what_is_your_budget?')).toBeUndefined();
    expect(guessFieldFromQuestion('company_size_bucket')).toBeUndefined();
  });
});

describe('multi-select answers in conditions', () => {
  it('match any chosen option', () => {
    const { profile } = normalised(HUBSPOT);
    const facts = leadFacts(profile);
    expect(
      matchesAll([{ field: 'extra.use_cases', op: 'in', values: ['Alerts'], negate: false }], facts),
    ).toBe(true);
    expect(
      matchesAll([{ field: 'extra.use_cases', op: 'equals', value: 'dashboards', negate: false }], facts),
    ).toBe(true);
    expect(
      matchesAll([{ field: 'extra.use_cases', op: 'in', values: ['Billing'], negate: false }], facts),
    ).toBe(false);
    // Text that only looks like a list stays text.
    expect(leadFacts({ ...profile, extra: { note: '[draft]' } }).extra).toEqual({ note: '[draft]' });
  });
});
