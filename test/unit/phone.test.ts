import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TEXT_LIMITS } from '../../shared/domain/lead';
import { MIN_PHONE_DIGITS, normalisePhone, phoneDedupeKey, phoneDigits } from '../../shared/domain/phone';

describe('normalisePhone', () => {
  it('formats an international number as E.164 with its country', () => {
    expect(normalisePhone('+44 20 7946 0958')).toEqual({
      phone: '+442079460958',
      phoneValid: true,
      phoneCountry: 'GB',
      phoneRaw: '+44 20 7946 0958',
    });
  });

  it('reads a national number in the given country', () => {
    expect(normalisePhone('020 7946 0958', 'GB')).toEqual({
      phone: '+442079460958',
      phoneValid: true,
      phoneCountry: 'GB',
      phoneRaw: '020 7946 0958',
    });
    expect(normalisePhone('030 1234567', 'DE')).toEqual({
      phone: '+49301234567',
      phoneValid: true,
      phoneCountry: 'DE',
      phoneRaw: '030 1234567',
    });
    expect(normalisePhone('(212) 555-0100', 'US')).toEqual({
      phone: '+12125550100',
      phoneValid: true,
      phoneCountry: 'US',
      phoneRaw: '(212) 555-0100',
    });
  });

  it("reads with the lead's country first, then the client's default, which never gives the number a country", () => {
    // Also a valid London number (020 1555 0123) when read as British.
    expect(normalisePhone('(201) 555-0123', 'US', 'GB')).toEqual({
      phone: '+12015550123',
      phoneValid: true,
      phoneCountry: 'US',
      phoneRaw: '(201) 555-0123',
    });
    expect(normalisePhone('(201) 555-0123', undefined, 'GB')).toEqual({
      phone: '+442015550123',
      phoneValid: true,
      phoneRaw: '(201) 555-0123',
    });
    // Not a German number: the default (GB) reads it, still without a country.
    expect(normalisePhone('020 7946 0958', 'DE', 'GB')).toEqual({
      phone: '+442079460958',
      phoneValid: true,
      phoneRaw: '020 7946 0958',
    });
    // A number with its own +country keeps it whatever the lead or the client say.
    expect(normalisePhone('+1 201 555 0123', 'DE', 'GB')?.phoneCountry).toBe('US');
  });

  it('gives the same national digits a different number in another country', () => {
    // Valid in Germany; the same digits are not a valid British number.
    expect(normalisePhone('030 1234567', 'DE')?.phone).toBe('+49301234567');
    expect(normalisePhone('030 1234567', 'GB')).toEqual({ phone: '030 1234567', phoneValid: false });
  });

  it('detects the country of a shared calling code from the number', () => {
    expect(normalisePhone('+1 416 363 1234', 'US')?.phoneCountry).toBe('CA');
    expect(normalisePhone('+1 212 555 0100', 'GB')?.phoneCountry).toBe('US');
  });

  it('ignores punctuation, a tel label and full-width digits', () => {
    expect(normalisePhone('Tel: +49 (0)30 123-456-7')?.phone).toBe('+49301234567');
    expect(normalisePhone('＋４４ ２０ ７９４６ ０９５８')?.phone).toBe('+442079460958');
  });

  it('keeps an unparseable value as typed (cleaned) with phoneValid false', () => {
    expect(normalisePhone('  call me\u0000 after 5  ', 'GB')).toEqual({
      phone: 'call me after 5',
      phoneValid: false,
    });
    expect(normalisePhone('12345', 'DE')).toEqual({ phone: '12345', phoneValid: false });
    expect(normalisePhone('+44 0000 000000', 'GB')).toEqual({ phone: '+44 0000 000000', phoneValid: false });
  });

  it('validates with full metadata, not length only', () => {
    // The `min` metadata would accept these by length; the real numbering plans do not.
    expect(normalisePhone('0187336', 'DE')?.phoneValid).toBe(false);
    expect(normalisePhone('967651022', 'BR')?.phoneValid).toBe(false);
  });

  it('works without a country, or with an unsupported one, for international numbers', () => {
    expect(normalisePhone('+33 6 12 34 56 78', undefined)?.phone).toBe('+33612345678');
    expect(normalisePhone('+33 6 12 34 56 78', 'ZZ')?.phone).toBe('+33612345678');
    expect(normalisePhone('06 12 34 56 78', 'ZZ')?.phoneValid).toBe(false);
  });

  it('returns undefined for blank input', () => {
    expect(normalisePhone('   ')).toBeUndefined();
    expect(normalisePhone('\u200B')).toBeUndefined();
  });

  it('limits the kept raw value to TEXT_LIMITS.phone', () => {
    const result = normalisePhone(`not a number ${'x'.repeat(100)}`, 'GB');
    expect(result?.phoneValid).toBe(false);
    expect(result?.phone.length).toBeLessThanOrEqual(TEXT_LIMITS.phone);
  });

  it('is idempotent for any input', () => {
    const phoneLike = fc.stringMatching(/^\+?[0-9 ()./-]{0,25}$/);
    fc.assert(
      fc.property(
        fc.oneof(phoneLike, fc.string({ unit: 'binary' })),
        fc.constantFrom('GB', 'DE', 'US', 'FR', 'IN', undefined),
        (raw, country) => {
          const once = normalisePhone(raw, country);
          if (once === undefined) return;
          expect(normalisePhone(once.phoneRaw ?? once.phone, country)).toEqual(once);
          expect(once.phone.length).toBeLessThanOrEqual(TEXT_LIMITS.phone);
        },
      ),
    );
  });
});

describe('phoneDedupeKey', () => {
  it('uses E.164 for a valid number', () => {
    const phone = normalisePhone('020 7946 0958', 'GB');
    expect(phone && phoneDedupeKey(phone)).toBe('phone:+442079460958');
  });

  it('uses the digits of an invalid number', () => {
    expect(phoneDedupeKey({ phone: '0000-000 000', phoneValid: false })).toBe('phone:0000000000');
  });

  it(`refuses values with fewer than ${MIN_PHONE_DIGITS} digits`, () => {
    expect(phoneDedupeKey({ phone: 'n/a', phoneValid: false })).toBeUndefined();
    expect(phoneDedupeKey({ phone: '12-34', phoneValid: false })).toBeUndefined();
  });

  it('folds full-width digits', () => {
    expect(phoneDigits('０１２ 345')).toBe('012345');
  });
});
