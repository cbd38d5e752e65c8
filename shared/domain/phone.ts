import {
  type CountryCode,
  isSupportedCountry,
  type MetadataJson,
  parsePhoneNumberFromString,
} from 'libphonenumber-js/core';
import { readDataFile } from './bundled-data';
import { TEXT_LIMITS } from './lead';

/**
 * Phone numbers to E.164 with libphonenumber-js.
 *
 * We use the `max` metadata, not `min`. `min` validates by number length only: on 20,000 random
 * national numbers across 16 countries it called 13% of them valid that the full metadata
 * rejects (e.g. "12345" for DE, "0187336" for DE, "967651022" for BR), which would make
 * `phoneValid` worthless as a junk signal for scoring. E.164 output and detected country were
 * identical between the two. The cost is ~73 KB more minified bundle (~21 KB gzipped: 194 KB vs
 * 121 KB), small next to the disposable-domain list the same handler already loads (~1 MB).
 * `mobile` metadata was not an option: B2B leads give landlines. The metadata is built into a
 * compact data file at build time and parsed on first use (see `bundled-data.ts`), so only the
 * functions that normalise phone numbers carry it.
 */

let metadataJson: MetadataJson | undefined;

/** libphonenumber's `max` metadata, read on first use. */
function metadata(): MetadataJson {
  metadataJson ??= JSON.parse(readDataFile('phone-metadata.json.br')) as MetadataJson;
  return metadataJson;
}

/** Fewer digits than this cannot identify a person, so such a value is not used for dedupe. */
export const MIN_PHONE_DIGITS = 6;

/** A normalised phone number, as stored on the lead profile. */
export interface NormalisedPhone {
  /** E.164 (`+442079460958`) when valid, otherwise the value as typed (cleaned, trimmed). */
  phone: string;
  /** Whether libphonenumber's full metadata accepts the number for its country. */
  phoneValid: boolean;
  /**
   * ISO alpha-2 country of a valid geographic number, when the number itself says so (written
   * with `+country`) or the lead's own country was used to read it. Absent when only the
   * client's default country made it valid: that is our assumption, not a fact about the lead.
   */
  phoneCountry?: string;
  /** The number as typed (cleaned), when it differs from `phone`. */
  phoneRaw?: string;
}

/** Control and invisible format characters (zero-width, bidi marks, BOM) and lone surrogates. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}]/gu;

/** The value as typed, made safe to store: invisible characters out, whitespace collapsed, length-limited. */
function cleanRaw(raw: string): string {
  const cleaned = raw.normalize('NFC').replace(INVISIBLE, ' ').replace(/\s+/g, ' ').trim();
  if (cleaned.length <= TEXT_LIMITS.phone) return cleaned;
  let cut = cleaned.slice(0, TEXT_LIMITS.phone);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return cut.trim();
}

/** `country` as a libphonenumber country code, when it is one. */
function asCountry(country: string | undefined): CountryCode | undefined {
  // The core entry point's `isSupportedCountry` is not a type guard; it answers the same question.
  const code = country as CountryCode | undefined;
  return code !== undefined && isSupportedCountry(code, metadata()) ? code : undefined;
}

/** libphonenumber's reading of `text` as a number of `country` (or as an international number). */
function parse(text: string, country?: CountryCode) {
  // NFKC turns full-width digits (common from East Asian keyboards) into ASCII for the parser.
  const parsed = parsePhoneNumberFromString(
    text.normalize('NFKC'),
    country ? { defaultCountry: country } : {},
    metadata(),
  );
  return parsed?.isValid() ? parsed : undefined;
}

/**
 * Normalises a phone number as typed.
 *
 * The number is read, in this order: as an international number (`+49...`, `0049...` is not
 * guessed); as a number of the lead's own `country`; as a number of the client's
 * `defaultCountry`. A valid number comes back in E.164. Its country is kept only when the
 * number or the lead said it: a number that is valid only under the client's default (a US
 * number typed without `+1` for a GB client can look like a GB one) gets no `phoneCountry`, so
 * it never decides the lead's country or territory. Any other value is kept as typed (cleaned
 * and trimmed) with `phoneValid: false`, because a rep can still read "0170 1234 567
 * (evenings)" and an invented `+49...` for a number we could not check would look more
 * trustworthy than it is. The text as typed is kept in `phoneRaw` whenever it differs from
 * `phone`. Extensions are not kept in E.164.
 *
 * Idempotent when fed its own `phoneRaw` (what normalisation does for a stored profile).
 *
 * @returns `undefined` when nothing but whitespace was given, or the text of a non-finite number.
 */
export function normalisePhone(
  raw: string,
  country?: string,
  defaultCountry?: string,
): NormalisedPhone | undefined {
  const cleaned = cleanRaw(raw);
  if (cleaned.length === 0 || NON_FINITE.test(cleaned)) return undefined;
  const own = asCountry(country);
  const fallback = asCountry(defaultCountry);
  const withRaw = (phone: NormalisedPhone): NormalisedPhone =>
    phone.phone === cleaned ? phone : { ...phone, phoneRaw: cleaned };

  // Only a number with a `+` can be read without a country; skipping the parse otherwise is cheaper.
  const international = /[+\uFF0B]/.test(cleaned) ? parse(cleaned) : undefined;
  const stated = international ?? (own ? parse(cleaned, own) : undefined);
  if (stated) {
    return withRaw({
      phone: stated.number,
      phoneValid: true,
      ...(stated.country ? { phoneCountry: stated.country } : {}),
    });
  }
  const assumed = fallback && fallback !== own ? parse(cleaned, fallback) : undefined;
  if (assumed) return withRaw({ phone: assumed.number, phoneValid: true });
  return { phone: cleaned, phoneValid: false };
}

/** Whether a number as typed carries its own country code (`+44 20...`), rather than relying on a country. */
export function isInternationalFormat(raw: string): boolean {
  const cleaned = cleanRaw(raw);
  return /[+\uFF0B]/.test(cleaned) && parse(cleaned) !== undefined;
}

/**
 * The text of a non-finite number (`1e999` in JSON becomes `Infinity`): an artefact of the sender's
 * number handling, not something a rep could read or dial, unlike free text such as "ask for Jane".
 */
const NON_FINITE = /^[+-]?(?:infinity|nan)$/i;

/** The ASCII digits of a value (full-width digits folded). */
export function phoneDigits(value: string): string {
  return value.normalize('NFKC').replace(/\D/g, '');
}

/**
 * The dedupe identity of a lead without an email: `phone:+E164` for a valid number,
 * `phone:<digits>` otherwise.
 *
 * @returns `undefined` when the value has fewer than {@link MIN_PHONE_DIGITS} digits: such a
 * key would merge unrelated leads.
 */
export function phoneDedupeKey(phone: NormalisedPhone): string | undefined {
  if (phone.phoneValid) return `phone:${phone.phone}`;
  const digits = phoneDigits(phone.phone);
  return digits.length >= MIN_PHONE_DIGITS ? `phone:${digits}` : undefined;
}
