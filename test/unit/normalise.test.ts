import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHANNELS, deriveChannel } from '../../shared/domain/attribution';
import { cleanText } from '../../shared/domain/clean-text';
import {
  COUNTRY_TIMEZONES,
  countryCodes,
  countryName,
  defaultTimezone,
  isCountryCode,
  normaliseCountry,
} from '../../shared/domain/country';
import { extraKey } from '../../shared/domain/extra-fields';
import {
  ConsentSchema,
  type LeadProfile,
  LeadProfileSchema,
  LeadSourceSchema,
  TEXT_LIMITS,
} from '../../shared/domain/lead';
import {
  type FieldError,
  type NormaliseOptions,
  type NormaliseResult,
  normaliseSubmission,
} from '../../shared/domain/normalise';
import { acceptSubmittedDetails, mergeProfiles } from '../../shared/domain/profile-merge';
import {
  FIELD_ALIASES,
  parseCompanySize,
  parseConsent,
  SubmissionSchema,
  splitFullName,
} from '../../shared/domain/submission';

const NOW = new Date('2025-06-02T12:00:00.000Z');
const OPTIONS: NormaliseOptions = { defaultCountry: 'GB', maxExtraFields: 25, now: NOW };

type Ok = Extract<NormaliseResult, { ok: true }>;

/** Normalises and asserts success, so tests read the profile directly. */
function ok(raw: Record<string, unknown>, options: Partial<NormaliseOptions> = {}): Ok {
  const result = normaliseSubmission(raw, { ...OPTIONS, ...options });
  if (!result.ok) throw new Error(`expected ok, got ${JSON.stringify(result.errors)}`);
  return result;
}

function errors(raw: Record<string, unknown>, options: Partial<NormaliseOptions> = {}): FieldError[] {
  const result = normaliseSubmission(raw, { ...OPTIONS, ...options });
  if (result.ok) throw new Error(`expected errors, got ${JSON.stringify(result.profile)}`);
  return result.errors;
}

const EMAIL = 'jane@acme.com';

describe('field aliases', () => {
  const cases: [string, string[], unknown, Partial<LeadProfile>][] = [
    [
      'first name',
      ['first_name', 'firstName', 'fname', 'First Name', 'given_name', 'FIRST-NAME'],
      'Jane',
      { firstName: 'Jane' },
    ],
    [
      'last name',
      ['last_name', 'lastName', 'lname', 'surname', 'family_name', 'Last Name'],
      'Doe',
      { lastName: 'Doe' },
    ],
    [
      'email',
      ['email', 'e-mail', 'email_address', 'Email Address', 'E-Mail', 'EMAIL'],
      'Jane@Acme.com',
      { email: 'jane@acme.com' },
    ],
    [
      'company',
      ['company', 'organization', 'organisation', 'company_name', 'Company Name'],
      'Acme',
      { company: 'Acme' },
    ],
    [
      'job title',
      ['job_title', 'title', 'position', 'role', 'jobtitle', 'Job Title'],
      'CTO',
      { jobTitle: 'CTO' },
    ],
    [
      'message',
      ['message', 'comments', 'comment', 'description', 'notes', 'Message'],
      'Hi',
      { message: 'Hi' },
    ],
    [
      'company size',
      ['company_size', 'employees', 'employee_count', 'companySize', 'Company Size'],
      '500',
      { companySize: 500 },
    ],
    ['industry', ['industry', 'Industry'], 'Software', { industry: 'Software' }],
    ['country', ['country', 'country_code', 'Country', 'countryCode'], 'Germany', { country: 'DE' }],
    ['city', ['city', 'City'], 'Berlin', { city: 'Berlin' }],
    ['website', ['website', 'url', 'Website', 'URL'], 'https://acme.io', { website: 'https://acme.io' }],
    ['time zone', ['timezone', 'time_zone', 'tz'], 'Europe/Berlin', { timezone: 'Europe/Berlin' }],
  ];

  for (const [group, aliases, value, expected] of cases) {
    it.each(aliases)(`${group}: "%s"`, (alias) => {
      const raw: Record<string, unknown> = { [alias]: value };
      if (group !== 'email') raw.email = EMAIL;
      expect(ok(raw).profile).toMatchObject(expected);
    });
  }

  it.each(['phone', 'tel', 'telephone', 'mobile', 'phone_number', 'cell', 'Phone Number'])(
    'phone: "%s"',
    (alias) => {
      expect(ok({ [alias]: '+44 20 7946 0958' }).profile.phone).toBe('+442079460958');
    },
  );

  it.each(['full_name', 'name', 'Full Name', 'fullName'])('full name: "%s" is split', (alias) => {
    expect(ok({ email: EMAIL, [alias]: 'Jane Doe' }).profile).toMatchObject({
      firstName: 'Jane',
      lastName: 'Doe',
    });
  });

  it.each(['consent', 'marketing_consent', 'gdpr', 'opt_in', 'Marketing Consent', 'optIn'])(
    'consent: "%s"',
    (alias) => {
      expect(ok({ email: EMAIL, [alias]: 'on' }).consent).toEqual({
        marketing: true,
        at: NOW.toISOString(),
        via: `form:${alias}`,
      });
    },
  );

  it('source fields: utm_*, referrer/referer, landing_page/page_url, form_id', () => {
    const { source } = ok({
      email: EMAIL,
      utm_source: 'google',
      utm_medium: 'cpc',
      utm_campaign: 'brand',
      utm_term: 'lead software',
      utm_content: 'ad-1',
      referer: 'https://www.google.com/',
      page_url: 'https://www.acme.io/demo?x=1',
      form_id: 'demo-request',
    });
    expect(source).toEqual({
      channel: 'paid_search',
      provider: 'form',
      utm: { source: 'google', medium: 'cpc', campaign: 'brand', term: 'lead software', content: 'ad-1' },
      referrer: 'https://www.google.com/',
      landingPage: 'https://www.acme.io/demo?x=1',
      formId: 'demo-request',
    });
    expect(
      ok({ email: EMAIL, referrer: 'https://x.example/', landing_page: 'https://a.io/' }).source,
    ).toMatchObject({
      referrer: 'https://x.example/',
      landingPage: 'https://a.io/',
    });
  });

  it('every alias in FIELD_ALIASES is already in compact form and names one field only', () => {
    const seen = new Map<string, string>();
    for (const [field, aliases] of Object.entries(FIELD_ALIASES)) {
      for (const alias of aliases) {
        expect(alias).toMatch(/^[a-z0-9]+$/);
        expect(seen.get(alias), `${alias} in ${field} and ${seen.get(alias)}`).toBeUndefined();
        seen.set(alias, field);
      }
    }
    expect(new Set(Object.keys(FIELD_ALIASES))).toEqual(new Set(Object.keys(SubmissionSchema.shape)));
  });
});

describe('form plumbing', () => {
  it('skips _ts, redirect, idempotency_key, captcha tokens and the honeypot; none reach extra', () => {
    const { profile, warnings } = ok(
      {
        email: EMAIL,
        _ts: '1717330000',
        redirect: 'https://acme.io/thanks',
        idempotency_key: 'abc',
        'g-recaptcha-response': 'token',
        hp_field: '',
        _gotcha: '',
        submit: 'Send',
      },
      { honeypotField: 'hp_field' },
    );
    expect(profile.extra).toEqual({});
    expect(profile.droppedFields).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('skips the honeypot even when it has a field name, so a "website" honeypot is not a website', () => {
    const { profile } = ok({ email: EMAIL, website: 'http://spam.example' }, { honeypotField: 'website' });
    expect(profile.website).toBeUndefined();
    expect(profile.extra).toEqual({});
    // The company website then arrives under another alias.
    expect(ok({ email: EMAIL, url: 'acme.io' }, { honeypotField: 'website' }).profile.website).toBe(
      'acme.io',
    );
  });
});

describe('email and dedupe key', () => {
  it('trims and lower-cases the email; the dedupe key folds gmail dots, googlemail and +tags', () => {
    const { profile } = ok({ email: '  Jane.Doe+Webinar@GoogleMail.com ' });
    expect(profile.email).toBe('jane.doe+webinar@googlemail.com');
    expect(profile.dedupeKey).toBe('janedoe@gmail.com');
  });

  it('strips +tags from the dedupe key for other providers, keeping dots', () => {
    expect(ok({ email: 'jane.doe+crm@acme.com' }).profile.dedupeKey).toBe('jane.doe@acme.com');
  });

  it('uses phone:+E164 without an email, and phone:<digits> for an invalid number', () => {
    expect(ok({ phone: '020 7946 0958' }).profile.dedupeKey).toBe('phone:+442079460958');
    expect(ok({ phone: '0000 000000' }).profile.dedupeKey).toBe('phone:0000000000');
  });

  it('prefers the email over the phone as identity', () => {
    expect(ok({ email: EMAIL, phone: '020 7946 0958' }).profile.dedupeKey).toBe(EMAIL);
  });

  it('dedupe key is invariant under gmail dots and +tags, end to end', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z][a-z0-9]{2,15}$/),
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.option(fc.stringMatching(/^[a-z0-9]{1,8}$/), { nil: undefined }),
        fc.constantFrom('gmail.com', 'googlemail.com', 'GMail.com'),
        (base, dots, tag, domain) => {
          const cuts = new Set(dots.map((d) => 1 + (d % (base.length - 1))));
          const local = [...base].map((c, i) => (cuts.has(i) ? `.${c}` : c)).join('');
          const email = `${local}${tag === undefined ? '' : `+${tag}`}@${domain}`;
          expect(ok({ email }).profile.dedupeKey).toBe(`${base}@gmail.com`);
        },
      ),
    );
  });
});

describe('company domain, free-mail and disposable', () => {
  it('takes the company domain from a corporate email', () => {
    expect(ok({ email: 'jane@acme-corp.de' }).profile).toMatchObject({
      companyDomain: 'acme-corp.de',
      isFreeMail: false,
      isDisposable: false,
    });
  });

  it('gives no company domain for free-mail', () => {
    const { profile } = ok({ email: 'jane@gmail.com' });
    expect(profile.companyDomain).toBeUndefined();
    expect(profile).toMatchObject({ isFreeMail: true, isDisposable: false });
  });

  it('flags disposable addresses as disposable and free-mail', () => {
    const { profile } = ok({ email: 'bot@mailinator.com' });
    expect(profile.companyDomain).toBeUndefined();
    expect(profile).toMatchObject({ isFreeMail: true, isDisposable: true });
  });

  it('falls back to the website host (without www.) for free-mail leads', () => {
    expect(ok({ email: 'jane@gmail.com', website: 'https://www.Acme.io/about' }).profile.companyDomain).toBe(
      'acme.io',
    );
  });

  it('prefers the email domain over the website host', () => {
    expect(ok({ email: 'jane@acme.com', website: 'acme-group.com' }).profile.companyDomain).toBe('acme.com');
  });

  it('takes an explicit company domain first, and ignores a free-mail one', () => {
    expect(ok({ email: 'jane@acme-mail.com', company_domain: 'acme.com' }).profile.companyDomain).toBe(
      'acme.com',
    );
    expect(ok({ email: 'jane@acme.com', domain: 'gmail.com' }).profile.companyDomain).toBe('acme.com');
  });

  it('does not derive a domain from a website that is not one', () => {
    expect(ok({ email: 'jane@gmail.com', website: 'n/a' }).profile.companyDomain).toBeUndefined();
  });
});

describe('phone', () => {
  it("reads a national number in the lead's own country first", () => {
    const { profile } = ok({ email: EMAIL, phone: '030 1234567', country: 'Germany' });
    expect(profile).toMatchObject({
      phone: '+49301234567',
      phoneValid: true,
      phoneCountry: 'DE',
      country: 'DE',
    });
  });

  it("falls back to the client's default country", () => {
    const { profile } = ok({ email: EMAIL, phone: '020 7946 0958' });
    expect(profile).toMatchObject({ phone: '+442079460958', phoneValid: true, phoneRaw: '020 7946 0958' });
    // Valid only under the client's default: it does not say where the lead is.
    expect(profile.phoneCountry).toBeUndefined();
    expect(ok({ email: EMAIL, phone: '030 1234567' }, { defaultCountry: 'DE' }).profile.phone).toBe(
      '+49301234567',
    );
  });

  it("keeps a US number sent without a country as typed, and never gives it the client's country", () => {
    // GB client; "(201) 555-0123" is also a valid London number when read as British.
    const guessed = ok({ email: EMAIL, phone: '(201) 555-0123' }).profile;
    expect(guessed).toMatchObject({ phone: '+442015550123', phoneValid: true, phoneRaw: '(201) 555-0123' });
    expect(guessed.phoneCountry).toBeUndefined();
    expect(guessed.country).toBeUndefined();
    // With the lead's own country the same text is the US number it is.
    expect(ok({ email: EMAIL, phone: '(201) 555-0123', country: 'US' }).profile).toMatchObject({
      phone: '+12015550123',
      phoneCountry: 'US',
      phoneRaw: '(201) 555-0123',
    });
  });

  it('re-normalising a stored profile reads the phone as originally typed (idempotent)', () => {
    const first = ok({ email: EMAIL, phone: '(201) 555-0123' }).profile;
    expect(ok({ ...first }).profile).toEqual(first);
  });

  it('keeps an unparseable phone raw (trimmed) with phoneValid false and no phoneCountry', () => {
    const { profile } = ok({ email: EMAIL, phone: '  ask for Jane  ' });
    expect(profile.phone).toBe('ask for Jane');
    expect(profile.phoneValid).toBe(false);
    expect(profile.phoneCountry).toBeUndefined();
  });
});

describe('names and free text', () => {
  it('trims, collapses whitespace and keeps unicode and case as typed', () => {
    expect(ok({ email: EMAIL, first_name: '  Zoë  ', last_name: ' Ñúñez ' }).profile).toMatchObject({
      firstName: 'Zoë',
      lastName: 'Ñúñez',
    });
    expect(ok({ email: EMAIL, name: '  Zoë   Ñúñez ' }).profile).toMatchObject({
      firstName: 'Zoë',
      lastName: 'Ñúñez',
    });
    expect(ok({ email: EMAIL, name: '李雷' }).profile).toMatchObject({ firstName: '李雷' });
    expect(ok({ email: EMAIL, name: 'Søren KIERKEGAARD' }).profile).toMatchObject({
      firstName: 'Søren',
      lastName: 'KIERKEGAARD',
    });
    expect(ok({ email: EMAIL, first_name: 'jane', last_name: 'DOE' }).profile).toMatchObject({
      firstName: 'jane',
      lastName: 'DOE',
    });
  });

  it('NFC-normalises decomposed input', () => {
    const decomposed = 'Zoe\u0308';
    expect(ok({ email: EMAIL, first_name: decomposed }).profile.firstName).toBe('Zoë');
  });

  it('strips control, zero-width and bidi characters', () => {
    const { profile } = ok({
      email: EMAIL,
      first_name: 'Ja\u0000ne\u200B',
      last_name: '\u202EDoe\u202C',
      company: 'Acme\u0007 Inc\uFEFF',
      message: 'Line 1\r\nLine\u0000 2\u2028Line 3',
    });
    expect(profile).toMatchObject({
      firstName: 'Jane',
      lastName: 'Doe',
      company: 'Acme Inc',
      message: 'Line 1\nLine 2\nLine 3',
    });
  });

  it('keeps line breaks in messages but not in single-line fields', () => {
    const { profile } = ok({ email: EMAIL, company: 'Acme\nInc', message: 'Hi,\n\n\n\n  we   need\ta demo' });
    expect(profile.company).toBe('Acme Inc');
    expect(profile.message).toBe('Hi,\n\nwe need a demo');
  });

  it('does not HTML-escape (the output layer does)', () => {
    expect(ok({ email: EMAIL, company: "<b>O'Brien & Co</b>" }).profile.company).toBe("<b>O'Brien & Co</b>");
  });

  it('cuts every free-text field to its limit', () => {
    const long = (n: number) => 'x'.repeat(n + 50);
    const { profile, source } = ok({
      email: EMAIL,
      first_name: long(TEXT_LIMITS.name),
      last_name: long(TEXT_LIMITS.name),
      company: long(TEXT_LIMITS.company),
      job_title: long(TEXT_LIMITS.jobTitle),
      industry: long(TEXT_LIMITS.industry),
      city: long(TEXT_LIMITS.short),
      message: long(TEXT_LIMITS.message),
      website: long(TEXT_LIMITS.url),
      utm_campaign: long(TEXT_LIMITS.utm),
      referrer: long(TEXT_LIMITS.url),
      form_id: long(TEXT_LIMITS.short),
    });
    expect(profile.firstName).toHaveLength(TEXT_LIMITS.name);
    expect(profile.lastName).toHaveLength(TEXT_LIMITS.name);
    expect(profile.company).toHaveLength(TEXT_LIMITS.company);
    expect(profile.jobTitle).toHaveLength(TEXT_LIMITS.jobTitle);
    expect(profile.industry).toHaveLength(TEXT_LIMITS.industry);
    expect(profile.city).toHaveLength(TEXT_LIMITS.short);
    expect(profile.message).toHaveLength(TEXT_LIMITS.message);
    expect(profile.website).toHaveLength(TEXT_LIMITS.url);
    expect(source.utm.campaign).toHaveLength(TEXT_LIMITS.utm);
    expect(source.referrer).toHaveLength(TEXT_LIMITS.url);
    expect(source.formId).toHaveLength(TEXT_LIMITS.short);
  });

  it('never cuts a surrogate pair in half', () => {
    const emoji = '😀'.repeat(TEXT_LIMITS.name); // 2 code units each
    const first = ok({ email: EMAIL, first_name: `x${emoji}` }).profile.firstName ?? '';
    expect(first.length).toBeLessThanOrEqual(TEXT_LIMITS.name);
    expect(first).toBe(`x${'😀'.repeat((TEXT_LIMITS.name - 2) / 2)}`);
  });

  it('cleanText is idempotent and within the limit for arbitrary strings', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.integer({ min: 1, max: 120 }),
        fc.boolean(),
        (s, max, multi) => {
          const once = cleanText(s, max, multi);
          expect(once.length).toBeLessThanOrEqual(max);
          expect(cleanText(once, max, multi)).toBe(once);
          expect(once).toBe(once.normalize('NFC'));
          expect(once).not.toMatch(/[\p{Cf}\p{Cs}]/u);
          expect(once).not.toMatch(multi ? /[^\P{Cc}\n]/u : /\p{Cc}/u);
        },
      ),
    );
  });
});

describe('splitFullName', () => {
  it.each([
    ['Jane Doe', { firstName: 'Jane', lastName: 'Doe' }],
    ['Anna van der Berg', { firstName: 'Anna', lastName: 'van der Berg' }],
    ['Doe, Jane', { firstName: 'Jane', lastName: 'Doe' }],
    ['Madonna', { firstName: 'Madonna' }],
    ['李雷', { firstName: '李雷' }],
    [', Jane', { firstName: 'Jane' }],
  ])('%s', (name, expected) => {
    expect(splitFullName(name)).toEqual(expected);
  });

  it('separate first/last fields win over the full name; the full name fills a missing part', () => {
    expect(ok({ email: EMAIL, name: 'Jane Doe', first_name: 'J.', last_name: 'D.' }).profile).toMatchObject({
      firstName: 'J.',
      lastName: 'D.',
    });
    expect(ok({ email: EMAIL, name: 'Jane Doe', first_name: 'Janet' }).profile).toMatchObject({
      firstName: 'Janet',
      lastName: 'Doe',
    });
    expect(ok({ email: EMAIL, name: 'Jane Doe', last_name: 'Smith' }).profile).toMatchObject({
      firstName: 'Jane',
      lastName: 'Smith',
    });
  });
});

describe('company size', () => {
  it.each([
    ['500', 500],
    ['1,000', 1000],
    ['1.000', 1000],
    ["10'000", 10000],
    ['201-500', 201],
    ['201 - 500 employees', 201],
    ['1000–5000', 1000],
    ['5000+', 5000],
    ['10k', 10000],
    ['1.5k', 1500],
    ['2 million', 2_000_000],
    ['<10', 10],
    ['0', 0],
    ['12.7', 12],
  ])('%s → %d', (text, n) => {
    expect(parseCompanySize(text)).toBe(n);
  });

  it.each(['lots', 'just me', '', '99999999999'])('%j is not a size', (text) => {
    expect(parseCompanySize(text)).toBeUndefined();
  });

  it('accepts a JSON number', () => {
    expect(ok({ email: EMAIL, employees: 42 }).profile.companySize).toBe(42);
  });

  it('keeps an unreadable size in extra with a warning', () => {
    const { profile, warnings } = ok({ email: EMAIL, 'Company Size': 'a few' });
    expect(profile.companySize).toBeUndefined();
    expect(profile.extra).toEqual({ company_size: 'a few' });
    expect(warnings).toEqual([
      'companySize "a few" is not a number of employees; kept in extra.company_size',
    ]);
  });
});

describe('country', () => {
  it.each([
    ['Germany', 'DE'],
    ['DE', 'DE'],
    ['de', 'DE'],
    ['United States', 'US'],
    ['USA', 'US'],
    ['U.S.A.', 'US'],
    ['UK', 'GB'],
    ['United Kingdom', 'GB'],
    ['Great Britain', 'GB'],
    ['England', 'GB'],
    ['Deutschland', 'DE'],
    ['Allemagne', 'DE'],
    ['Österreich', 'AT'],
    ['España', 'ES'],
    ['the Netherlands', 'NL'],
    ['Holland', 'NL'],
    ["Côte d'Ivoire", 'CI'],
    ['Ivory Coast', 'CI'],
    ['Czech Republic', 'CZ'],
    ['Czechia', 'CZ'],
    ['Turkey', 'TR'],
    ['Türkiye', 'TR'],
    ['South Korea', 'KR'],
    ['日本', 'JP'],
    ['Россия', 'RU'],
    ['Schweiz', 'CH'],
    ['DEU', 'DE'],
    ['Hong Kong', 'HK'],
    ['Kosovo', 'XK'],
  ])('%s → %s', (input, code) => {
    expect(normaliseCountry(input)).toBe(code);
  });

  it.each(['Narnia', 'EU', 'ZZ', 'XX', '', 'x'])('%j is not a country', (input) => {
    expect(normaliseCountry(input)).toBeUndefined();
  });

  it('keeps an unknown country in extra with a warning', () => {
    const { profile, warnings } = ok({ email: EMAIL, country: 'Narnia' });
    expect(profile.country).toBeUndefined();
    expect(profile.extra).toEqual({ country: 'Narnia' });
    expect(warnings).toEqual(['country "Narnia" is not a recognised country; kept in extra.country']);
  });

  it('knows every ISO code, English names and time zones', () => {
    const codes = countryCodes();
    expect(codes).toHaveLength(250);
    expect(codes).toContain('DE');
    expect(codes).toContain('XK');
    expect(codes).not.toContain('UK');
    expect(codes).not.toContain('EU');
    expect(isCountryCode('GB')).toBe(true);
    expect(isCountryCode('gb')).toBe(false);
    expect(countryName('DE')).toBe('Germany');
    expect(countryName('DE', 'de')).toBe('Deutschland');
    expect(countryName('QQ')).toBeUndefined();
    // Every country's English name reads back to its code.
    for (const code of codes) expect(normaliseCountry(countryName(code) ?? ''), code).toBe(code);
  });

  it('maps every country to a valid IANA zone, multi-zone countries to their main one', () => {
    for (const [code, zone] of Object.entries(COUNTRY_TIMEZONES)) {
      expect(isCountryCode(code), code).toBe(true);
      expect(() => new Intl.DateTimeFormat('en', { timeZone: zone }), zone).not.toThrow();
    }
    const missing = countryCodes().filter((c) => COUNTRY_TIMEZONES[c] === undefined);
    expect(missing).toEqual(['BV', 'HM']);
    expect(defaultTimezone('US')).toBe('America/New_York');
    expect(defaultTimezone('ca')).toBe('America/Toronto');
    expect(defaultTimezone('AU')).toBe('Australia/Sydney');
    expect(defaultTimezone('DE')).toBe('Europe/Berlin');
    expect(defaultTimezone('UK')).toBe('Europe/London');
    expect(defaultTimezone('XX')).toBeUndefined();
  });
});

describe('time zone', () => {
  it('canonicalises a valid zone and keeps an invalid one in extra', () => {
    expect(ok({ email: EMAIL, timezone: 'europe/berlin' }).profile.timezone).toBe('Europe/Berlin');
    const { profile, warnings } = ok({ email: EMAIL, tz: 'Mars/Olympus' });
    expect(profile.timezone).toBeUndefined();
    expect(profile.extra).toEqual({ tz: 'Mars/Olympus' });
    expect(warnings).toHaveLength(1);
  });
});

describe('consent', () => {
  it.each(['on', 'yes', 'true', '1', 'YES', ' On '])('%j is consent', (value) => {
    expect(ok({ email: EMAIL, consent: value }).consent?.marketing).toBe(true);
    expect(parseConsent(value)).toBe(true);
  });

  it.each(['off', 'no', 'false', '0'])('%j is a refusal', (value) => {
    expect(ok({ email: EMAIL, consent: value }).consent?.marketing).toBe(false);
  });

  it('accepts JSON booleans and numbers', () => {
    expect(ok({ email: EMAIL, marketing_consent: true }).consent?.marketing).toBe(true);
    expect(ok({ email: EMAIL, marketing_consent: false }).consent?.marketing).toBe(false);
    expect(ok({ email: EMAIL, marketing_consent: 1 }).consent?.marketing).toBe(true);
  });

  it('records the time and the provider and field it came through', () => {
    expect(ok({ email: EMAIL, gdpr: 'yes' }, { provider: 'typeform' }).consent).toEqual({
      marketing: true,
      at: '2025-06-02T12:00:00.000Z',
      via: 'typeform:gdpr',
    });
  });

  it('has no consent when no consent field was sent (or it was empty)', () => {
    expect(ok({ email: EMAIL }).consent).toBeUndefined();
    expect(ok({ email: EMAIL, consent: '' }).consent).toBeUndefined();
  });

  it('records an ambiguous value as no consent, keeps it in extra and warns', () => {
    const result = ok({ email: EMAIL, opt_in: 'maybe later' });
    expect(result.consent?.marketing).toBe(false);
    expect(result.profile.extra).toEqual({ opt_in: 'maybe later' });
    expect(result.warnings[0]).toContain('recorded as no consent');
  });
});

describe('extra fields', () => {
  it('keeps unknown fields under snake_case keys, JSON-stringifying non-strings', () => {
    const { profile } = ok({
      email: EMAIL,
      'How did you hear about us?': 'Podcast',
      budgetRange: '10-50k',
      seats: 12,
      trial: true,
      interests: ['analytics', 'ab-testing'],
      meta: { plan: 'pro' },
      预算: '高',
      empty: '',
      nothing: null,
    });
    expect(profile.extra).toEqual({
      how_did_you_hear_about_us: 'Podcast',
      budget_range: '10-50k',
      seats: '12',
      trial: 'true',
      interests: '["analytics","ab-testing"]',
      meta: '{"plan":"pro"}',
      [extraKey('预算')]: '高',
    });
    expect(extraKey('预算')).toMatch(/^field_[0-9a-f]{8}$/);
  });

  it('bounds the map and names every field that did not fit', () => {
    const raw: Record<string, unknown> = { email: EMAIL };
    for (let i = 1; i <= 6; i++) raw[`field ${i}`] = `v${i}`;
    const { profile, warnings } = ok(raw, { maxExtraFields: 4 });
    expect(profile.extra).toEqual({ field_1: 'v1', field_2: 'v2', field_3: 'v3', field_4: 'v4' });
    expect(profile.droppedFields).toEqual(['field_5', 'field_6']);
    expect(warnings).toEqual(['only 4 extra fields are kept; dropped field_5, field_6 (see droppedFields)']);
  });

  it('keeps nothing in extra when the bound is 0, but still lists the names', () => {
    const { profile } = ok({ email: EMAIL, a: '1', b: '2' }, { maxExtraFields: 0 });
    expect(profile.extra).toEqual({});
    expect(profile.droppedFields).toEqual(['a', 'b']);
  });

  it('limits key and value lengths', () => {
    const { profile } = ok({ email: EMAIL, ['k'.repeat(100)]: 'v'.repeat(1000) });
    const [key, value] = Object.entries(profile.extra)[0] ?? [];
    expect(key).toHaveLength(TEXT_LIMITS.extraKey);
    expect(value).toHaveLength(TEXT_LIMITS.extraValue);
  });

  it('gives fields whose keys fold together distinct keys', () => {
    expect(ok({ email: EMAIL, Budget: 'a', budget: 'b', 'budget ': 'c' }).profile.extra).toEqual({
      budget: 'a',
      budget_2: 'b',
      budget_3: 'c',
    });
  });

  it('keeps a second, different value for a known field in extra with a warning', () => {
    const { profile, warnings } = ok({
      email: EMAIL,
      'Email Address': 'other@acme.com',
      'E-mail': 'JANE@acme.com',
    });
    expect(profile.email).toBe(EMAIL);
    expect(profile.extra).toEqual({ email_address: 'other@acme.com' });
    expect(warnings).toEqual([
      '"Email Address" also names email (first given as "email"); kept in extra.email_address',
    ]);
  });

  it('takes the first non-empty value when a form repeats a field', () => {
    expect(ok({ email: '', 'Email Address': EMAIL }).profile.email).toBe(EMAIL);
  });
});

describe('deriveChannel', () => {
  it.each<[Parameters<typeof deriveChannel>[0], string]>([
    [{ utmSource: 'google', utmMedium: 'cpc' }, 'paid_search'],
    [{ utmSource: 'bing', utmMedium: 'PPC' }, 'paid_search'],
    [{ utmSource: 'facebook', utmMedium: 'cpc' }, 'paid_social'],
    [{ utmSource: 'LinkedIn', utmMedium: 'paid' }, 'paid_social'],
    [{ utmSource: 'instagram', utmMedium: 'ppc' }, 'paid_social'],
    [{ utmSource: 'linkedin', utmMedium: 'paid_social' }, 'paid_social'],
    [{ utmSource: 'newsletter', utmMedium: 'email' }, 'email'],
    [{ utmSource: 'twitter', utmMedium: 'social' }, 'social'],
    [{ utmSource: 'google', utmMedium: 'organic' }, 'organic_search'],
    [{ utmSource: 'partner', utmMedium: 'referral' }, 'referral'],
    [{ utmSource: 'dsp', utmMedium: 'display' }, 'display'],
    [{ utmSource: 'x', utmMedium: 'affiliate' }, 'affiliate'],
    [{ utmSource: 'x', utmMedium: 'print-qr' }, 'other'],
    [{ utmSource: 'linkedin' }, 'social'],
    [{ utmSource: 'mailchimp' }, 'email'],
    [{ utmSource: 'duckduckgo' }, 'organic_search'],
    [{ utmSource: 'podcast' }, 'other'],
    [{ landingPage: 'https://acme.io/demo?gclid=abc' }, 'paid_search'],
    [{ landingPage: 'https://acme.io/demo?msclkid=abc', referrer: 'https://www.bing.com/' }, 'paid_search'],
    [{ landingPage: 'https://acme.io/?li_fat_id=1' }, 'paid_social'],
    [{ referrer: 'https://www.google.co.uk/' }, 'organic_search'],
    [{ referrer: 'https://duckduckgo.com/' }, 'organic_search'],
    [{ referrer: 'https://l.facebook.com/l.php?u=x' }, 'social'],
    [{ referrer: 'https://www.linkedin.com/feed/' }, 'social'],
    [{ referrer: 'https://t.co/abc' }, 'social'],
    [{ referrer: 'https://mail.google.com/' }, 'email'],
    [{ referrer: 'https://blog.partner.example/post' }, 'referral'],
    [{ referrer: 'https://www.acme.io/pricing', landingPage: 'https://acme.io/demo' }, 'direct'],
    [{}, 'direct'],
    [{ provider: 'google_ads' }, 'paid_search'],
    [{ provider: 'googleAds', utmMedium: 'email' }, 'paid_search'],
    [{ provider: 'meta' }, 'paid_social'],
    [{ provider: 'linkedin' }, 'paid_social'],
    [{ provider: 'typeform', referrer: 'https://www.google.com/' }, 'organic_search'],
    [{ provider: 'calendly' }, 'direct'],
  ])('%j → %s', (input, channel) => {
    expect(deriveChannel(input)).toBe(channel);
  });

  it('always returns one of CHANNELS', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            provider: fc.string(),
            utmSource: fc.string(),
            utmMedium: fc.string(),
            referrer: fc.oneof(fc.webUrl(), fc.string()),
            landingPage: fc.oneof(fc.webUrl({ withQueryParameters: true }), fc.string()),
          },
          { requiredKeys: [] },
        ),
        (input) => {
          expect(CHANNELS).toContain(deriveChannel(input));
        },
      ),
    );
  });

  it('sets the source channel and provider from the options', () => {
    expect(ok({ email: EMAIL }, { provider: 'meta' }).source).toEqual({
      channel: 'paid_social',
      provider: 'meta',
      utm: {},
    });
    expect(ok({ email: EMAIL, lead_id: 'g-123' }, { provider: 'google_ads' }).source).toEqual({
      channel: 'paid_search',
      provider: 'google_ads',
      utm: {},
      externalId: 'g-123',
    });
  });
});

describe('errors', () => {
  it('lists every bad field', () => {
    expect(
      errors({ email: 'not-an-email', first_name: ['a', 'b'], company: { name: 'x' }, consent: [true] }),
    ).toEqual([
      { field: 'email', reason: 'not a valid email address' },
      { field: 'firstName', reason: 'expected text, got a list' },
      { field: 'company', reason: 'expected text, got an object' },
      { field: 'consent', reason: 'expected yes/no, got a list' },
      { field: 'phone', reason: 'an email address or a phone number is required' },
    ]);
  });

  it('names both email and phone when the lead has neither', () => {
    expect(errors({ first_name: 'Jane' })).toEqual([
      { field: 'email', reason: 'an email address or a phone number is required' },
      { field: 'phone', reason: 'an email address or a phone number is required' },
    ]);
    expect(errors({})).toHaveLength(2);
  });

  it('does not accept a phone too short to identify anyone as the only contact', () => {
    expect(errors({ phone: '123' })).toEqual([
      { field: 'email', reason: 'an email address or a phone number is required' },
      {
        field: 'phone',
        reason:
          'not a usable phone number (fewer than 6 digits); an email address or a phone number is required',
      },
    ]);
  });

  it('rejects an invalid email even when a phone is present, so the form can ask again', () => {
    expect(errors({ email: 'jane@', phone: '020 7946 0958' })).toEqual([
      { field: 'email', reason: 'not a valid email address' },
    ]);
  });

  it('accepts a lead with only a phone number', () => {
    expect(ok({ phone: '+49 30 1234567' }).profile).toMatchObject({
      phone: '+49301234567',
      isFreeMail: false,
    });
  });

  it('SubmissionSchema reports bad fields by their canonical name', () => {
    const result = SubmissionSchema.safeParse({ email: 'x', jobTitle: 3, utmSource: { a: 1 } });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['email', 'not a valid email address'],
      ['utmSource', 'expected text, got an object'],
    ]);
    expect(SubmissionSchema.parse({ email: ' A@B.co ', jobTitle: 3 })).toEqual({
      email: 'a@b.co',
      jobTitle: '3',
    });
  });
});

describe('mergeProfiles', () => {
  const existing: LeadProfile = {
    email: 'jane@acme.com',
    dedupeKey: 'jane@acme.com',
    firstName: 'Jane',
    lastName: 'Doe',
    phone: '+442079460958',
    phoneValid: true,
    phoneCountry: 'GB',
    company: 'Acme',
    companyDomain: 'acme.com',
    companySize: 50,
    jobTitle: 'Analyst',
    isFreeMail: false,
    isDisposable: false,
    extra: { budget: '10k', source_detail: 'webinar' },
    droppedFields: [],
  };

  it('a resubmission fills blanks and offers conflicting values instead of overwriting them', () => {
    const incoming = ok({
      email: 'jane@acme.com',
      job_title: 'Head of Data',
      company_size: '201-500',
      industry: 'Software',
      phone: '+1 416 363 1234',
    }).profile;
    const { profile, changed, conflicts } = mergeProfiles(existing, incoming);
    expect(profile).toEqual({ ...existing, industry: 'Software' });
    expect(changed).toEqual(['industry']);
    expect(conflicts).toEqual({
      jobTitle: 'Head of Data',
      companySize: 201,
      phone: '+14163631234',
      phoneValid: true,
      phoneCountry: 'CA',
      phoneRaw: '+1 416 363 1234',
    });
  });

  it('an accepted offer replaces the stored values with their derived fields', () => {
    const incoming = ok({
      email: 'jane@acme.com',
      job_title: 'Head of Data',
      phone: '0000 (reception)',
    }).profile;
    const { conflicts } = mergeProfiles(existing, incoming);
    const { profile, changed } = acceptSubmittedDetails(existing, conflicts);
    expect(profile).toMatchObject({ jobTitle: 'Head of Data', phone: '0000 (reception)', phoneValid: false });
    expect(profile.phoneCountry).toBeUndefined();
    expect(profile.dedupeKey).toBe(existing.dedupeKey);
    expect(changed.sort()).toEqual(['jobTitle', 'phone', 'phoneCountry', 'phoneValid']);
  });

  it('empty incoming values never erase', () => {
    const incoming: LeadProfile = {
      email: 'jane@acme.com',
      dedupeKey: 'jane@acme.com',
      firstName: '',
      isFreeMail: false,
      isDisposable: false,
      extra: { budget: '' },
      droppedFields: [],
    };
    const { profile, changed } = mergeProfiles(existing, incoming);
    expect(profile).toEqual(existing);
    expect(changed).toEqual([]);
  });

  it('a phone-only resubmission keeps the email flags; a phone filling a blank brings its own fields', () => {
    const freeMail = {
      ...existing,
      email: 'jane@gmail.com',
      isFreeMail: true,
      companyDomain: undefined,
      phone: undefined,
      phoneValid: undefined,
      phoneCountry: 'GB',
    };
    const incoming = ok({ phone: '0000 000000 (reception)' }).profile;
    const { profile, changed } = mergeProfiles(freeMail, incoming);
    expect(profile.isFreeMail).toBe(true);
    expect(profile.email).toBe('jane@gmail.com');
    expect(profile).toMatchObject({ phone: '0000 000000 (reception)', phoneValid: false });
    expect(profile.phoneCountry).toBeUndefined();
    expect(changed.sort()).toEqual(['phone', 'phoneCountry', 'phoneValid']);
  });

  it('never changes the dedupe key, nor the stored address', () => {
    const incoming = ok({ email: 'jane.doe@acme.com' }).profile;
    const { profile, changed, conflicts } = mergeProfiles(existing, incoming);
    expect(profile.dedupeKey).toBe('jane@acme.com');
    expect(profile.email).toBe('jane@acme.com');
    expect(changed).toEqual([]);
    expect(conflicts).toEqual({ email: 'jane.doe@acme.com', isFreeMail: false, isDisposable: false });
  });

  it('fills extra keys under the bound, lists what did not fit and offers changed ones', () => {
    const incoming = ok({ email: 'jane@acme.com', budget: '50k', timeline: 'Q3', seats: '40' }).profile;
    const { profile, changed, conflicts } = mergeProfiles(existing, incoming, 3);
    expect(profile.extra).toEqual({ budget: '10k', source_detail: 'webinar', timeline: 'Q3' });
    expect(profile.droppedFields).toEqual(['seats']);
    expect(changed.sort()).toEqual(['droppedFields', 'extra']);
    expect(conflicts).toEqual({ extra: { budget: '50k' } });
  });

  it('does not modify its inputs', () => {
    const before = structuredClone(existing);
    const incoming = ok({ email: 'jane@acme.com', company: 'Acme GmbH', extra_field: 'x' }).profile;
    mergeProfiles(existing, incoming);
    expect(existing).toEqual(before);
  });

  it('merging a profile with itself changes nothing and offers nothing', () => {
    const { profile, changed, conflicts } = mergeProfiles(existing, existing);
    expect(profile).toEqual(existing);
    expect(changed).toEqual([]);
    expect(conflicts).toEqual({});
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

/** Picks one spelling of a field's key, as different forms would send it. */
const keyFor = (...spellings: string[]) => fc.constantFrom(...spellings);

const unicodeName = fc.oneof(
  fc.constantFrom('  Zoë  Ñúñez ', '李雷', 'Søren', 'Zoe\u0308', 'Ana María', "O'Brien", 'Łukasz', 'Ólafur'),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
);
const phoneText = fc.oneof(
  fc.constantFrom(
    '+44 20 7946 0958',
    '020 7946 0958',
    '030 1234567',
    '(212) 555-0100',
    '+1 416 363 1234',
    'n/a',
  ),
  fc.stringMatching(/^\+?[0-9 ()./-]{4,20}$/),
);
const countryText = fc.oneof(
  fc.constantFrom('Germany', 'DE', 'de', 'United States', 'USA', 'UK', 'Narnia', 'Deutschland'),
  fc.string({ maxLength: 10 }),
);
const sizeText = fc.oneof(
  fc.constantFrom('500', '1,000', '201-500', '10k', 'lots', '5000+'),
  fc.nat({ max: 100_000 }),
  fc.string({ maxLength: 8 }),
);
const extraEntries = fc.dictionary(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 }),
  fc.oneof(fc.string({ maxLength: 600 }), fc.jsonValue({ maxDepth: 2 })),
  { maxKeys: 12 },
);

/** A realistic raw submission: known fields under random alias spellings plus random extra keys. */
const realisticRecord = fc
  .tuple(
    fc.record(
      {
        email: fc.tuple(keyFor('email', 'Email Address', 'e-mail'), fc.emailAddress()),
        first: fc.tuple(keyFor('first_name', 'firstName', 'First Name', 'fname'), unicodeName),
        last: fc.tuple(keyFor('last_name', 'surname', 'lastName'), unicodeName),
        full: fc.tuple(keyFor('name', 'full_name'), unicodeName),
        phone: fc.tuple(keyFor('phone', 'tel', 'mobile'), phoneText),
        company: fc.tuple(keyFor('company', 'organisation'), fc.string({ maxLength: 250 })),
        website: fc.tuple(keyFor('website', 'url'), fc.oneof(fc.webUrl(), fc.string({ maxLength: 30 }))),
        size: fc.tuple(keyFor('company_size', 'employees'), sizeText),
        country: fc.tuple(keyFor('country', 'country_code'), countryText),
        consent: fc.tuple(keyFor('consent', 'gdpr'), fc.constantFrom('on', 'no', 'maybe', true)),
        message: fc.tuple(keyFor('message', 'comments'), fc.string({ unit: 'binary', maxLength: 200 })),
        tz: fc.tuple(
          keyFor('timezone'),
          fc.constantFrom('Europe/Berlin', 'america/new_york', 'Nowhere/City'),
        ),
      },
      { requiredKeys: [] },
    ),
    extraEntries,
  )
  .map(([fields, extra]) => {
    const raw: Record<string, unknown> = { ...extra };
    for (const [key, value] of Object.values(fields)) raw[key] = value;
    return raw;
  });

const propertyOptions = fc.record({
  defaultCountry: fc.constantFrom('GB', 'DE', 'US'),
  maxExtraFields: fc.integer({ min: 0, max: 10 }),
});

describe('properties', () => {
  it('normalising a normalised profile changes nothing', () => {
    fc.assert(
      fc.property(realisticRecord, propertyOptions, (raw, opts) => {
        const options = { ...opts, now: NOW };
        const first = normaliseSubmission(raw, options);
        fc.pre(first.ok);
        if (!first.ok) return;
        const second = normaliseSubmission({ ...first.profile }, options);
        expect(second.ok).toBe(true);
        if (second.ok) expect(second.profile).toEqual(first.profile);
      }),
      { numRuns: 300 },
    );
  });

  it('feeding the profile back with extra fields at the top level changes nothing either', () => {
    const { profile } = ok({
      email: 'Jane.Doe@Acme.com',
      name: 'Zoë Ñúñez',
      phone: '020 7946 0958',
      employees: '201-500',
      country: 'Deutschland',
      'How did you hear?': 'Podcast',
      Budget: 'a few',
    });
    const { extra, ...fields } = profile;
    expect(ok({ ...fields, ...extra }).profile).toEqual(profile);
  });

  it('outputs always satisfy the lead schemas (lengths within limits) for arbitrary input', () => {
    const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 400 }), fc.string({ maxLength: 6000 }));
    const fields = Object.values(FIELD_ALIASES).map((aliases) => aliases[0] as string);
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...fields), anyText),
        fc.dictionary(
          fc.string({ unit: 'binary', minLength: 1, maxLength: 100 }),
          fc.oneof(anyText, fc.jsonValue()),
        ),
        fc.emailAddress(),
        fc.integer({ min: 0, max: 100 }),
        (known, unknown, email, maxExtraFields) => {
          const result = normaliseSubmission(
            { ...unknown, ...known, email },
            { defaultCountry: 'GB', maxExtraFields, now: NOW, provider: 'form' },
          );
          if (!result.ok) {
            for (const e of result.errors) expect(Object.keys(FIELD_ALIASES)).toContain(e.field);
            return;
          }
          expect(LeadProfileSchema.safeParse(result.profile).error?.issues).toBeUndefined();
          expect(LeadSourceSchema.safeParse(result.source).error?.issues).toBeUndefined();
          if (result.consent) expect(ConsentSchema.safeParse(result.consent).error?.issues).toBeUndefined();
          expect(Object.keys(result.profile.extra).length).toBeLessThanOrEqual(maxExtraFields);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('hostile numbers (found by the chaos harness)', () => {
  it('does not read a company size in exponent notation as its exponent', () => {
    expect(parseCompanySize('1e308')).toBeUndefined();
    expect(parseCompanySize('1e+308')).toBeUndefined();
    expect(parseCompanySize('5e2')).toBe(500);
    const { profile } = ok({ email: 'a@example.com', company_size: 1e308 });
    expect(profile.companySize).toBeUndefined();
    expect(profile.extra?.company_size).toBe('1e+308');
  });

  it('does not keep a non-finite number (Infinity, NaN) as a phone number', () => {
    for (const phone of ['Infinity', Number.POSITIVE_INFINITY, '-Infinity', 'NaN']) {
      const { profile } = ok({ email: 'a@example.com', phone });
      expect(profile.phone).toBeUndefined();
      expect(profile.phoneValid).toBeUndefined();
    }
    expect(normaliseSubmission({ phone: 'Infinity' }, OPTIONS)).toMatchObject({
      ok: false,
      errors: expect.arrayContaining([expect.objectContaining({ field: 'phone' })]),
    });
  });
});
