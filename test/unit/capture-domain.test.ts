import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allowedRedirect,
  detectSpam,
  errorLocation,
  parseRenderedAt,
  readVisitorId,
  sourceHints,
  successLocation,
  withoutPlumbing,
  withVisitorToken,
} from '../../shared/domain/capture';
import { fieldLabel, renderMessagePage, renderProblemsPage } from '../../shared/http/pages';

const ALLOW = ['https://www.northwind.example/', 'https://go.northwind.example/campaigns'];
const THANKS = 'https://www.northwind.example/thank-you';
const now = new Date('2026-03-02T10:00:00Z');
const policy = { honeypotField: 'website', minSecondsToSubmit: 3 };

describe('allowedRedirect', () => {
  it.each([
    ['https://www.northwind.example/thanks', 'https://www.northwind.example/thanks'],
    ['https://www.northwind.example', 'https://www.northwind.example/'],
    ['https://WWW.Northwind.Example/a?x=1#top', 'https://www.northwind.example/a?x=1#top'],
    ['https://go.northwind.example/campaigns', 'https://go.northwind.example/campaigns'],
    ['https://go.northwind.example/campaigns/spring', 'https://go.northwind.example/campaigns/spring'],
    ['https://www.northwind.example:443/x', 'https://www.northwind.example/x'],
    ['  https://www.northwind.example/x  ', 'https://www.northwind.example/x'],
  ])('allows %s', (target, expected) => {
    expect(allowedRedirect(target, ALLOW)).toBe(expected);
  });

  it.each([
    'https://www.northwind.example.evil.com/',
    'https://evil.com/https://www.northwind.example/',
    'https://www.northwind.example@evil.com/',
    'https://user:pw@www.northwind.example/',
    '//evil.com',
    '//www.northwind.example/thanks',
    '/thank-you',
    'javascript:alert(document.cookie)',
    'JavaScript://www.northwind.example/%0aalert(1)',
    'data:text/html,<script>alert(1)</script>',
    'http://www.northwind.example/thanks',
    'https://www.northwind.example:8443/thanks',
    'https://go.northwind.example/campaigns-evil',
    'https://go.northwind.example/other',
    'https://go.northwind.example/campaigns/../admin',
    'https://go.northwind.example/campaigns/%2e%2e/admin',
    'https:\\\\evil.com',
    '',
    `https://www.northwind.example/${'a'.repeat(3000)}`,
  ])('refuses %s', (target) => {
    expect(allowedRedirect(target, ALLOW)).toBeUndefined();
  });

  it('refuses everything when the allow-list is empty, and non-text values', () => {
    expect(allowedRedirect('https://www.northwind.example/', [])).toBeUndefined();
    expect(allowedRedirect({ href: 'https://www.northwind.example/' }, ALLOW)).toBeUndefined();
    expect(allowedRedirect(undefined, ALLOW)).toBeUndefined();
  });

  it('takes the first of repeated form values', () => {
    expect(allowedRedirect(['https://www.northwind.example/a', 'https://evil.com/'], ALLOW)).toBe(
      'https://www.northwind.example/a',
    );
  });

  it('never returns a URL outside an allowed origin (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.webUrl({ withFragments: true, withQueryParameters: true }), fc.string()),
        (target) => {
          const result = allowedRedirect(target, ALLOW);
          if (result === undefined) return;
          const origin = new URL(result).origin;
          expect(['https://www.northwind.example', 'https://go.northwind.example']).toContain(origin);
        },
      ),
    );
  });

  it('puts only serialised URLs in Location: control characters cannot split the header', () => {
    const result = allowedRedirect('https://www.northwind.example/a\r\nSet-Cookie: x=1', ALLOW);
    expect(result).toBe('https://www.northwind.example/aSet-Cookie:%20x=1');
    expect(result).not.toMatch(/[\r\n ]/);
  });
});

describe('successLocation and errorLocation', () => {
  it('sends the browser to an allowed redirect with the token in the fragment', () => {
    expect(
      successLocation('https://www.northwind.example/welcome#old', {
        allowList: ALLOW,
        thankYouUrl: THANKS,
        visitorToken: 'abc.def',
      }),
    ).toBe('https://www.northwind.example/welcome#lp_token=abc.def');
  });

  it('falls back to the thank-you page for a missing or refused redirect', () => {
    const options = { allowList: ALLOW, thankYouUrl: THANKS, visitorToken: 't.k' };
    expect(successLocation(undefined, options)).toBe(`${THANKS}#lp_token=t.k`);
    expect(successLocation('https://evil.com/', options)).toBe(`${THANKS}#lp_token=t.k`);
    expect(successLocation('https://evil.com/', { allowList: ALLOW, thankYouUrl: THANKS })).toBe(THANKS);
  });

  it('encodes the token for the fragment', () => {
    expect(withVisitorToken(THANKS, 'a b#c')).toBe(`${THANKS}#lp_token=a%20b%23c`);
  });

  it('lists the invalid fields in the error redirect query, once each, keeping other parameters', () => {
    const problems = [
      { field: 'email', reason: 'not a valid email address' },
      { field: 'phone', reason: 'required' },
      { field: 'email', reason: 'again' },
    ];
    expect(errorLocation('https://www.northwind.example/contact', ALLOW, problems)).toBe(
      'https://www.northwind.example/contact?lp_error=invalid&lp_fields=email,phone',
    );
    expect(
      errorLocation('https://www.northwind.example/contact?lang=de&lp_error=old#form', ALLOW, problems),
    ).toBe('https://www.northwind.example/contact?lang=de&lp_error=invalid&lp_fields=email,phone#form');
  });

  it('has no error redirect when the target is missing or not allowed', () => {
    const problems = [{ field: 'email', reason: 'x' }];
    expect(errorLocation(undefined, ALLOW, problems)).toBeUndefined();
    expect(errorLocation('https://evil.com/contact', ALLOW, problems)).toBeUndefined();
  });
});

describe('detectSpam', () => {
  it('flags a filled honeypot under any spelling of its name', () => {
    expect(detectSpam({ email: 'a@b.example', website: 'http://spam.example' }, policy, now)).toBe(
      'honeypot',
    );
    expect(detectSpam({ Website: 'x' }, policy, now)).toBe('honeypot');
    expect(detectSpam({ website: ['', 'x'] }, policy, now)).toBe('honeypot');
    expect(detectSpam({ website: 1 }, policy, now)).toBe('honeypot');
  });

  it('lets an empty honeypot through', () => {
    expect(detectSpam({ website: '' }, policy, now)).toBeUndefined();
    expect(detectSpam({ website: '   ' }, policy, now)).toBeUndefined();
    expect(detectSpam({ website: null }, policy, now)).toBeUndefined();
  });

  it('flags a form submitted faster than the minimum time', () => {
    expect(detectSpam({ _ts: String(now.getTime() - 2_999) }, policy, now)).toBe('too-fast');
    expect(detectSpam({ _ts: now.getTime() }, policy, now)).toBe('too-fast');
    expect(detectSpam({ _ts: String(now.getTime() - 3_000) }, policy, now)).toBeUndefined();
    expect(detectSpam({ _ts: String(now.getTime() - 60_000) }, policy, now)).toBeUndefined();
  });

  it('ignores a render time in the future or that cannot be read', () => {
    expect(detectSpam({ _ts: String(now.getTime() + 10_000) }, policy, now)).toBeUndefined();
    expect(detectSpam({ _ts: 'yesterday' }, policy, now)).toBeUndefined();
    expect(detectSpam({ _ts: '-5' }, policy, now)).toBeUndefined();
    expect(detectSpam({ _ts: '1e12' }, policy, now)).toBeUndefined();
    expect(detectSpam({ _ts: '' }, policy, now)).toBeUndefined();
  });

  it('turns the time check off with minSecondsToSubmit 0', () => {
    expect(detectSpam({ _ts: now.getTime() }, { ...policy, minSecondsToSubmit: 0 }, now)).toBeUndefined();
  });

  it('reads render times', () => {
    expect(parseRenderedAt('1700000000000')).toBe(1_700_000_000_000);
    expect(parseRenderedAt(1_700_000_000_000)).toBe(1_700_000_000_000);
    expect(parseRenderedAt(' 42 ')).toBe(42);
    expect(parseRenderedAt('12.5')).toBeUndefined();
    expect(parseRenderedAt(undefined)).toBeUndefined();
  });
});

describe('form plumbing', () => {
  it('removes plumbing fields and keeps lead fields', () => {
    expect(
      withoutPlumbing(
        {
          email: 'a@b.example',
          redirect: 'x',
          error_redirect: 'y',
          errorRedirect: 'z',
          _ts: '1',
          _vid: 'abcdefgh',
          website: '',
          company: 'Acme',
        },
        'website',
      ),
    ).toEqual({ email: 'a@b.example', company: 'Acme' });
  });

  it('reads the visitor id when it has the tracking script format', () => {
    expect(readVisitorId({ _vid: 'v_1234-abcd' })).toEqual({ kind: 'valid', visitorId: 'v_1234-abcd' });
    expect(readVisitorId({})).toEqual({ kind: 'absent' });
    expect(readVisitorId({ _vid: 'short' })).toEqual({ kind: 'invalid' });
    expect(readVisitorId({ _vid: 'has spaces in it' })).toEqual({ kind: 'invalid' });
    expect(readVisitorId({ _vid: 'x'.repeat(65) })).toEqual({ kind: 'invalid' });
    expect(readVisitorId({ _vid: '<script>alert(1)</script>' })).toEqual({ kind: 'invalid' });
  });
});

describe('sourceHints', () => {
  const referer =
    'https://www.northwind.example/demo?utm_source=google&utm_medium=cpc&utm_campaign=spring&gclid=x';

  it('uses the Referer as the landing page and its UTM tags when the form has none', () => {
    expect(sourceHints({ email: 'a@b.example' }, referer)).toEqual({
      landingPage: referer,
      utm: { source: 'google', medium: 'cpc', campaign: 'spring' },
    });
  });

  it('never uses the Referer as the referrer', () => {
    expect(sourceHints({}, referer)).not.toHaveProperty('referrer');
  });

  it('lets the form fields win, filling only missing UTM tags from the landing page', () => {
    const hints = sourceHints(
      {
        page_url: 'https://go.northwind.example/campaigns/x?utm_source=linkedin&utm_content=banner',
        utm_source: 'newsletter',
      },
      referer,
    );
    expect(hints).toEqual({ utm: { content: 'banner' } });
  });

  it('gives nothing for a missing or non-http Referer', () => {
    expect(sourceHints({}, undefined)).toEqual({});
    expect(sourceHints({}, 'android-app://com.example')).toEqual({});
  });
});

describe('pages', () => {
  it('lists every problem with escaped text and an escaped back link', () => {
    const page = renderProblemsPage(
      [
        { field: 'email', reason: 'not a valid email address' },
        { field: 'firstName', reason: '<script>alert("x")</script> & more' },
      ],
      'https://www.northwind.example/contact?a="b"&c=<d>',
    );
    expect(page).toContain('<li><strong>Email</strong>: not a valid email address</li>');
    expect(page).toContain(
      '<li><strong>First name</strong>: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more</li>',
    );
    expect(page).not.toContain('<script>');
    expect(page).toContain('href="https://www.northwind.example/contact?a=%22b%22&amp;c=%3Cd%3E"');
    expect(page).toContain('Back button');
  });

  it('never links to a non-http back URL', () => {
    const page = renderMessagePage('Title <b>', 'Message & more', 'javascript:alert(1)');
    expect(page).not.toContain('href=');
    expect(page).toContain('<title>Title &lt;b&gt;</title>');
    expect(page).toContain('<p>Message &amp; more</p>');
  });

  it('labels field names the way visitors read them', () => {
    expect(fieldLabel('firstName')).toBe('First name');
    expect(fieldLabel('utm_source')).toBe('Utm source');
    expect(fieldLabel('email')).toBe('Email');
  });
});
