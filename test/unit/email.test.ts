import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalEmail,
  domainFromWebsite,
  emailDedupeKey,
  emailDomain,
  emailFacts,
  INVALID_EMAIL,
  isDisposableDomain,
  isFreeMailDomain,
  isValidLeadEmail,
  LeadEmailSchema,
} from '../../shared/domain/email';

describe('canonicalEmail', () => {
  it('trims and lower-cases', () => {
    expect(canonicalEmail('  Jane.Doe@ACME.com \n')).toBe('jane.doe@acme.com');
  });

  it('removes invisible characters pasted along with the address', () => {
    expect(canonicalEmail('\u200Bjane@acme.com\uFEFF')).toBe('jane@acme.com');
    expect(canonicalEmail('ja\u200Dne@ac\u0000me.com')).toBe('jane@acme.com');
  });

  it('keeps inner spaces so the address fails validation instead of becoming another one', () => {
    expect(canonicalEmail('jane doe@acme.com')).toBe('jane doe@acme.com');
    expect(isValidLeadEmail(canonicalEmail('jane doe@acme.com'))).toBe(false);
  });

  it('drops a mailto: prefix', () => {
    expect(canonicalEmail('MAILTO: jane@acme.com')).toBe('jane@acme.com');
  });

  it('turns an internationalised domain into punycode', () => {
    expect(canonicalEmail('Jörg@Müller.de')).toBe('jörg@xn--mller-kva.de');
    expect(canonicalEmail('info@bücher.example')).toBe('info@xn--bcher-kva.example');
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.oneof(fc.emailAddress(), fc.string({ unit: 'binary' })), (raw) => {
        const once = canonicalEmail(raw);
        expect(canonicalEmail(once)).toBe(once);
      }),
    );
  });
});

describe('LeadEmailSchema', () => {
  it.each([
    'jane@acme.com',
    "o'brien@acme.ie",
    'jane.doe+newsletter@gmail.com',
    'a&b@acme.co.uk',
    'x@sub.domain.example',
    'user@xn--mller-kva.de',
  ])('accepts %s', (email) => {
    expect(LeadEmailSchema.parse(email)).toBe(email);
  });

  it.each([
    'jane',
    'jane@',
    '@acme.com',
    'jane@localhost',
    'jane@acme',
    'jane..doe@acme.com',
    '.jane@acme.com',
    'jane.@acme.com',
    'jane@acme..com',
    'jane@-acme.com',
    'jane doe@acme.com',
    'jane@acme.c',
    'jane@127.0.0.1',
  ])('rejects %s with a readable reason', (email) => {
    const result = LeadEmailSchema.safeParse(email);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe(INVALID_EMAIL);
  });

  it('rejects a local part over 64 characters and an address over 254', () => {
    expect(isValidLeadEmail(`${'a'.repeat(65)}@acme.com`)).toBe(false);
    expect(isValidLeadEmail(`${'a'.repeat(64)}@acme.com`)).toBe(true);
    const domain = (labels: number) =>
      `${Array.from({ length: labels }, () => 'd'.repeat(60)).join('.')}.com`;
    expect(isValidLeadEmail(`jane@${domain(4)}`)).toBe(true); // 252 characters
    expect(isValidLeadEmail(`jane@${domain(5)}`)).toBe(false); // 313 characters
  });

  it('accepts every address fast-check generates (RFC 5322 dot-atoms)', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (email) => {
        expect(isValidLeadEmail(canonicalEmail(email))).toBe(true);
      }),
    );
  });
});

describe('emailDedupeKey', () => {
  it('folds gmail dots, googlemail.com and +tags', () => {
    expect(emailDedupeKey('Jane.Doe+webinar@googlemail.com')).toBe('janedoe@gmail.com');
    expect(emailDedupeKey('j.a.n.e.d.o.e@gmail.com')).toBe('janedoe@gmail.com');
    expect(emailDedupeKey('janedoe@gmail.com')).toBe('janedoe@gmail.com');
  });

  it('strips +tags for every provider but keeps dots outside gmail', () => {
    expect(emailDedupeKey('jane.doe+crm@acme.com')).toBe('jane.doe@acme.com');
    expect(emailDedupeKey('jane.doe@outlook.com')).toBe('jane.doe@outlook.com');
    expect(emailDedupeKey('jane.doe+x+y@fastmail.com')).toBe('jane.doe@fastmail.com');
  });

  it('keeps a local part that is only a +tag', () => {
    expect(emailDedupeKey('+sales@acme.com')).toBe('+sales@acme.com');
  });

  it('is invariant under gmail dots, +tags, case and googlemail', () => {
    const local = fc.stringMatching(/^[a-z0-9]{2,20}$/);
    fc.assert(
      fc.property(
        local,
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.option(fc.stringMatching(/^[a-z0-9-]{1,10}$/), { nil: undefined }),
        fc.boolean(),
        fc.boolean(),
        (base, dotPositions, tag, googlemail, upper) => {
          // Dots between characters only: gmail refuses leading, trailing and doubled dots.
          const chars = [...base];
          const cuts = new Set(dotPositions.map((p) => 1 + (p % (chars.length - 1))));
          const dotted = chars.map((c, i) => (cuts.has(i) ? `.${c}` : c)).join('');
          let variant = `${dotted}${tag === undefined ? '' : `+${tag}`}@${googlemail ? 'googlemail.com' : 'gmail.com'}`;
          if (upper) variant = variant.toUpperCase();
          expect(emailDedupeKey(variant)).toBe(`${base}@gmail.com`);
        },
      ),
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.emailAddress(), (email) => {
        const key = emailDedupeKey(email);
        expect(emailDedupeKey(key)).toBe(key);
      }),
    );
  });
});

describe('free-mail and disposable domains', () => {
  it('knows consumer providers', () => {
    for (const d of [
      'gmail.com',
      'googlemail.com',
      'outlook.com',
      'gmx.de',
      'web.de',
      'yahoo.co.uk',
      'icloud.com',
    ]) {
      expect(isFreeMailDomain(d), d).toBe(true);
      expect(isDisposableDomain(d), d).toBe(false);
    }
  });

  it('does not flag company domains', () => {
    for (const d of ['acme.com', 'northwind.example', 'sap.com', 'microsoft.com']) {
      expect(isFreeMailDomain(d), d).toBe(false);
      expect(isDisposableDomain(d), d).toBe(false);
    }
  });

  it('knows disposable services, including their subdomains', () => {
    expect(isDisposableDomain('mailinator.com')).toBe(true);
    expect(isDisposableDomain('yopmail.com')).toBe(true);
    expect(isDisposableDomain('foo.mailinator.com')).toBe(true);
    expect(isDisposableDomain('MAILINATOR.COM')).toBe(true);
  });

  it('counts a disposable domain as free-mail even when the provider list does not have it', () => {
    // tempmail.plus is on mailchecker's list but not on email-providers'.
    expect(isDisposableDomain('tempmail.plus')).toBe(true);
    expect(isFreeMailDomain('tempmail.plus')).toBe(true);
  });
});

describe('emailFacts', () => {
  it('gives a company domain for a corporate address', () => {
    expect(emailFacts('jane.doe+x@acme.com')).toEqual({
      email: 'jane.doe+x@acme.com',
      dedupeKey: 'jane.doe@acme.com',
      domain: 'acme.com',
      isFreeMail: false,
      isDisposable: false,
      companyDomain: 'acme.com',
    });
  });

  it('gives no company domain for free-mail', () => {
    expect(emailFacts('jane@gmail.com')).toEqual({
      email: 'jane@gmail.com',
      dedupeKey: 'jane@gmail.com',
      domain: 'gmail.com',
      isFreeMail: true,
      isDisposable: false,
    });
  });

  it('flags disposable addresses as both disposable and free-mail', () => {
    const facts = emailFacts('bot@mailinator.com');
    expect(facts?.isDisposable).toBe(true);
    expect(facts?.isFreeMail).toBe(true);
    expect(facts?.companyDomain).toBeUndefined();
  });

  it('returns undefined without a domain', () => {
    expect(emailFacts('jane')).toBeUndefined();
    expect(emailDomain('jane@')).toBeUndefined();
    expect(emailDomain('jane@Acme.COM')).toBe('acme.com');
  });
});

describe('domainFromWebsite', () => {
  it.each([
    ['https://www.acme.com/about', 'acme.com'],
    ['www.acme.com', 'acme.com'],
    ['acme.co.uk', 'acme.co.uk'],
    ['HTTP://Shop.Acme.COM:8080/x?y=1', 'shop.acme.com'],
    ['https://www2.acme.com', 'acme.com'],
    ['https://bücher.example/', 'xn--bcher-kva.example'],
    ['  acme.io  ', 'acme.io'],
  ])('%s → %s', (website, domain) => {
    expect(domainFromWebsite(website)).toBe(domain);
  });

  it.each(['not a website', 'localhost', 'http://127.0.0.1/', 'ftp://acme.com', 'javascript:alert(1)', ''])(
    'rejects %j',
    (website) => {
      expect(domainFromWebsite(website)).toBeUndefined();
    },
  );
});
